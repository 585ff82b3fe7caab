"""What tension linking and the dialogue status cost inside the assemble stage.

    python bench/bench_identity.py [--dialogues 132] [--rounds 4] [--experts 8] [--repeat 3]

Generates the corpus of bench/gen_corpus.py (every other dialogue in the Judge's own
numbering), parses every file once, then ``--repeat`` times: assembles every dialogue, and
runs the parts tension identity added on the same inputs assemble gives them (the linker of
indexer/identity.py, ``apply_identity``, the status decision of indexer/convergence.py).
Best-of-N times (the machine is shared; the best run is the least disturbed).
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
from indexer.dialogue import Tension  # noqa: E402
from indexer.judge import md  # noqa: E402
from indexer.lifecycle import rules  # noqa: E402
from indexer.views import dialogue_files  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


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
    # the same inputs assemble() gives the linker (built once, not timed)
    R = rules()
    prepared = []
    for did in ids:
        fs = sorted((f for f in parsed[did]), key=lambda f: (f.path, f.sha256, f.size))
        blocks = assemble_mod.place_blocks(did, fs, [])
        prepared.append((did, fs, blocks))
    md.parse = counted("md.parse", md.parse)
    parse.parse_file = counted("parse_file", parse.parse_file)
    parse.parse_markers = counted("parse_markers", parse.parse_markers)
    runs: list[float] = []
    idents: list[float] = []
    linked = 0
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        done = [assemble_mod.assemble(did, parsed[did]) for did in ids]
        runs.append(time.perf_counter() - t0)
        linked = sum(len(t.names) for d in done for t in d.tensions)
        t0 = time.perf_counter()
        for (did, fs, blocks), d in zip(prepared, done, strict=True):
            def rel(p: str, did: str = did) -> str:
                return assemble_mod.rel_to_dialogue(did, p)
            tensions = {e.key: Tension(key=e.key, id=e.block.id, expert=e.expert,
                                       round=e.round, label=e.block.label, status="open",
                                       file=e.file, line=e.block.line)
                        for e in blocks if e.expert and R.raises(e.block.kind)}
            t1 = time.perf_counter()
            ident = assemble_mod.Linker(fs, blocks, tensions, rel).run()
            assemble_mod.apply_identity(ident, did, tensions, [])
            convergence.decide(convergence.statements(did, fs, d.verdict, d.tensions, blocks,
                                                      ident.final, rel))
            SPENT["identity"] += time.perf_counter() - t1
        idents.append(SPENT.pop("identity"))
        del t0
    judge_numbered = sum(1 for did in ids if any(
        f.role == "prompt" and (f.data or {}).get("tensions") for f in parsed[did]))
    print(f"corpus: {len(files)} files, {len(ids)} dialogues ({judge_numbered} in the Judge's "
          f"numbering), bench/gen_corpus.py seed 0; parse once: {parse_s:.2f} s")
    print(f"assemble stage (all dialogues), best of {a.repeat}: {min(runs):.3f} s "
          f"(median {statistics.median(runs):.3f} s)")
    print(f"  linking (identity.py + apply_identity) and status (convergence.py), the same "
          f"calls on the same inputs: best {min(idents):.3f} s = "
          f"{min(idents) / min(runs) * 100:.1f}% of it (goal <= 10%; medians: "
          f"{statistics.median(idents) / statistics.median(runs) * 100:.1f}%); "
          f"{linked} expert tensions linked to ledger rows")
    print(f"  Markdown parses during assembly: md.parse {CALLS['md.parse']}, parse_file "
          f"{CALLS['parse_file']}, parse_markers {CALLS['parse_markers']} (must be 0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
