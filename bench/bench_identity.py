"""What tension linking and the dialogue status cost inside the assemble stage.

    python bench/bench_identity.py [--dialogues 132] [--rounds 4] [--experts 8] [--repeat 3]

Generates the corpus of bench/gen_corpus.py (every other dialogue in the Judge's own
numbering), parses every file once, then assembles every dialogue ``--repeat`` times while
timing the parts that tension identity added: the linker (indexer/identity.py), turning its
links into tensions (``apply_identity``) and the status decision (indexer/convergence.py).
Prints the assemble stage's time, the identity+status share of it (goal <= 10%), and how many
Markdown parses ran during assembly (must be 0: the linker reads what the parser stored).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import generate  # noqa: E402

from indexer import assemble as assemble_mod  # noqa: E402
from indexer import convergence, parse  # noqa: E402
from indexer.judge import md  # noqa: E402
from indexer.views import dialogue_files  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*a: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            SPENT[name] += time.perf_counter() - t0
    return wrapper


def counted(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*a: Any, **kw: Any) -> Any:
        CALLS[name] += 1
        return fn(*a, **kw)
    return wrapper


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialogues", type=int, default=132)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(root, a.dialogues, a.rounds, a.experts)
        ids = sorted({f.relative_to(root).parts[0] for f in files})
        t0 = time.perf_counter()
        parsed = {did: [parse.parse_file(rel, path.read_bytes())
                        for rel, path in dialogue_files(root, did)] for did in ids}
        parse_s = time.perf_counter() - t0
    # the parts identity added, timed in place (same objects assemble() calls)
    assemble_mod.Linker.run = timed("link", assemble_mod.Linker.run)  # type: ignore[method-assign]
    assemble_mod.apply_identity = timed("apply", assemble_mod.apply_identity)
    assemble_mod.convergence.statements = timed("status", convergence.statements)
    assemble_mod.convergence.decide = timed("status", convergence.decide)
    md.parse = counted("md.parse", md.parse)
    parse.parse_file = counted("parse_file", parse.parse_file)
    parse.parse_markers = counted("parse_markers", parse.parse_markers)
    runs: list[float] = []
    shares: list[float] = []
    for _ in range(a.repeat):
        SPENT.clear()
        t0 = time.perf_counter()
        linked = 0
        for did in ids:
            d = assemble_mod.assemble(did, parsed[did])
            linked += sum(len(t.names) for t in d.tensions)
        total = time.perf_counter() - t0
        runs.append(total)
        shares.append((SPENT["link"] + SPENT["apply"] + SPENT["status"]) / total)
    judge_numbered = sum(1 for did in ids if any(
        f.role == "prompt" and f.data for f in parsed[did]))
    print(f"corpus: {len(files)} files, {len(ids)} dialogues ({judge_numbered} in the Judge's "
          f"numbering), bench/gen_corpus.py seed 0; parse once: {parse_s:.2f} s")
    print(f"assemble stage (all dialogues), median of {a.repeat}: {statistics.median(runs):.3f} s")
    print(f"  linking (identity.py + apply_identity) and status (convergence.py): "
          f"{statistics.median(shares) * 100:.1f}% of it (goal <= 10%); "
          f"{linked} expert tensions linked to ledger rows per run")
    print(f"  Markdown parses during assembly: md.parse {CALLS['md.parse']}, parse_file "
          f"{CALLS['parse_file']}, parse_markers {CALLS['parse_markers']} (must be 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
