"""Throughput of blue-index's parse_file beside a bare markdown-it-py parse of the same files.

    python bench/bench_parse.py TREE [--repeat N]
    python bench/bench_parse.py --generate DIR [--dialogues N]   # write a synthetic tree first

Prints files/s and MB/s for both, and the ratio (parse_file time / markdown-it time); the
goal is a ratio of at most 1.0 (1.5 at worst). Measured, not asserted in tests.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from markdown_it import MarkdownIt

from indexer.parse import markdown, parse_file


def load_tree(tree: Path) -> list[tuple[str, bytes]]:
    """Every .md file of TREE as (path relative to TREE, bytes)."""
    return [(p.relative_to(tree).as_posix(), p.read_bytes()) for p in sorted(tree.rglob("*.md"))]


def bench(files: list[tuple[str, bytes]], repeat: int) -> dict[str, float]:
    md = MarkdownIt("commonmark").enable("table")
    texts = [data.decode("utf-8", errors="replace") for _, data in files]
    markdown()  # build the parser's instance outside the timing
    parse_file("warm/round-0/x.md", b"[PERSPECTIVE P01: warm]\n")
    best_md = best_bi = float("inf")
    for _ in range(repeat):  # interleaved, best of N: fair under noisy neighbours
        t = time.perf_counter()
        for text in texts:
            md.parse(text)
        best_md = min(best_md, time.perf_counter() - t)
        t = time.perf_counter()
        for rel, data in files:
            parse_file(rel, data)
        best_bi = min(best_bi, time.perf_counter() - t)
    return {"files": len(files), "mb": sum(len(d) for _, d in files) / 1e6,
            "markdown_it": best_md, "blue_index": best_bi}


def report(r: dict[str, float]) -> str:
    n, mb = r["files"], r["mb"]
    rows = [f"{n} files, {mb:.2f} MB"]
    for name in ("markdown_it", "blue_index"):
        s = r[name]
        rows.append(f"  {name:<12} {n / s:10.0f} files/s  {mb / s:8.2f} MB/s  ({s:.3f} s)")
    rows.append(f"  ratio blue_index / markdown_it = {r['blue_index'] / r['markdown_it']:.2f}")
    return "\n".join(rows)


PASTRIES = ["muffin", "cupcake", "eclair", "scone", "strudel", "croissant", "donut", "macaron",
            "brioche", "cannoli", "galette", "tartlet"]
WORDS = ["cache", "trait", "store", "index", "query", "tension", "latency", "schema", "round",
         "partition", "expert", "verdict", "migration", "rollback", "parity", "encryption",
         "envelope", "write", "read", "graph", "table", "key"]


def _sentence(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(out: Path, dialogues: int, seed: int = 1) -> int:
    """A synthetic tree shaped like real dialogues: responses, prompts, summaries."""
    rnd = random.Random(seed)
    count = 0
    for d in range(dialogues):
        folder = out / f"2026-01-{d % 28 + 1:02d}T0000Z-synthetic-{d}"
        experts = rnd.sample(PASTRIES, 6)
        for r in range(4):
            rd = folder / f"round-{r}"
            rd.mkdir(parents=True, exist_ok=True)
            for e in experts:
                parts = []
                for p in (1, 2):
                    parts.append(f"[PERSPECTIVE P0{p}: {_sentence(rnd, 8)}]\n"
                                 f"{_sentence(rnd, 40)} {_sentence(rnd, 30)}\n")
                parts.append(f"[TENSION T01: {_sentence(rnd, 7)}]\n{_sentence(rnd, 25)}\n")
                if r:
                    other = rnd.choice(experts).upper()
                    parts.append(f"[REFINEMENT: {other} R{r - 1 if r > 1 else 0}-T01 "
                                 f"{_sentence(rnd, 5)}]\n{_sentence(rnd, 20)}\n")
                    parts.append(f"[RESOLVED {other} R{r}-T01]\n{_sentence(rnd, 15)}\n")
                    parts.append(f"[CONCESSION: {_sentence(rnd, 6)}]\n{_sentence(rnd, 18)}\n")
                if r == 3:
                    parts.append("[MOVE:CONVERGE]\n")
                (rd / f"{e}.md").write_text("\n".join(parts) + "\n---\n")
                (rd / f"{e}.prompt.md").write_text(
                    f"You are {e.title()}.\n\n```\n[PERSPECTIVE P01: brief label]\n```\n\n"
                    + _sentence(rnd, 120) + "\n")
                count += 2
            (folder / f"round-{r}.summary.md").write_text(
                f"# Round {r}\n\n| Expert | Moves |\n|---|---|\n"
                + "".join(f"| {e.title()} | `[MOVE:CONVERGE]` |\n" for e in experts)
                + "\n" + _sentence(rnd, 80) + "\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tree", type=Path, nargs="?")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--generate", type=Path, metavar="DIR", help="write a synthetic tree to DIR")
    ap.add_argument("--dialogues", type=int, default=60, help="dialogues to generate")
    a = ap.parse_args(argv)
    if a.generate:
        n = generate(a.generate, a.dialogues)
        print(f"wrote {n} files to {a.generate}")
        a.tree = a.tree or a.generate
    if a.tree is None or not a.tree.is_dir():
        ap.error("give a TREE folder (or --generate DIR)")
    files = load_tree(a.tree)
    if not files:
        ap.error(f"{a.tree}: no .md files")
    print(report(bench(files, a.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
