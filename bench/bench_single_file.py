"""Single-file dialogues: indexing MB/s beside a bare markdown-it-py parse, as for folders.

    python bench/bench_single_file.py [--dialogues 40] [--rounds 4] [--experts 8] [--repeat 3]

Generates the same dialogues twice (bench/gen_corpus.py, one seed): as round folders and as
single ``<id>.dialogue.md`` files. For each tree, best of N (interleaved): a bare markdown-it
parse of its Markdown files (the floor), ``parse_file`` of every file, and the whole
indexing work per dialogue (parse, assemble, items: what ``reindex`` computes before
writing). Prints MB/s and the ratios to the floor. Measured, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_corpus import generate, generate_single_files  # noqa: E402
from indexer import layout  # noqa: E402
from indexer.assemble import assemble  # noqa: E402
from indexer.codec import to_items  # noqa: E402
from indexer.parse import parse_file  # noqa: E402


def tree_files(root: Path) -> dict[str, list[tuple[str, bytes]]]:
    """{dialogue id: [(path relative to the root, bytes)]} of every indexable file."""
    out: dict[str, list[tuple[str, bytes]]] = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        place = layout.classify(rel)
        if p.is_file() and place.dialogue and place.role != layout.IGNORED:
            out.setdefault(place.dialogue, []).append((rel, p.read_bytes()))
    return out


def measure(files: dict[str, list[tuple[str, bytes]]], repeat: int) -> dict[str, float]:
    md = MarkdownIt("commonmark").enable("table")
    flat = [(rel, data) for fs in files.values() for rel, data in fs]
    texts = [data.decode("utf-8") for rel, data in flat if rel.endswith(".md")]
    best = {"markdown_it": float("inf"), "parse": float("inf"), "index": float("inf")}
    warm = ("# Alignment Dialogue: w\n\n## Tensions Tracker\n\n| ID | Tension | Status |\n"
            "|---|---|---|\n| T01 | x | Open |\n\n## Round 0\n\n### 🧁 A\n\n[TENSION T01: x]\n")
    pf = parse_file("warm.dialogue.md", warm.encode())  # grammars load outside the timing
    to_items(assemble(pf.dialogue or "warm", [pf]))
    for _ in range(repeat):
        t = time.perf_counter()
        for text in texts:
            md.parse(text)
        best["markdown_it"] = min(best["markdown_it"], time.perf_counter() - t)
        t = time.perf_counter()
        for rel, data in flat:
            parse_file(rel, data)
        best["parse"] = min(best["parse"], time.perf_counter() - t)
        t = time.perf_counter()
        for did, fs in files.items():
            to_items(assemble(did, [parse_file(rel, data) for rel, data in fs]))
        best["index"] = min(best["index"], time.perf_counter() - t)
    best["mb"] = sum(len(d) for _, d in flat) / 1e6
    best["files"] = len(flat)
    return best


def report(name: str, r: dict[str, float]) -> str:
    mb = r["mb"]
    rows = [f"{name}: {int(r['files'])} files, {mb:.2f} MB"]
    for k in ("markdown_it", "parse", "index"):
        rows.append(f"  {k:<12} {mb / r[k]:8.2f} MB/s  ({r[k]:.3f} s)"
                    + ("" if k == "markdown_it" else
                       f"  ratio to markdown-it {r[k] / r['markdown_it']:.2f}x"))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folders, singles = Path(tmp, "folders"), Path(tmp, "singles")
        generate(folders, a.dialogues, a.rounds, a.experts)
        generate_single_files(singles, a.dialogues, a.rounds, a.experts)
        f = measure(tree_files(folders), a.repeat)
        s = measure(tree_files(singles), a.repeat)
    print(report("round folders", f))
    print(report("single files", s))
    print(f"single-file indexing MB/s / folder indexing MB/s = "
          f"{(s['mb'] / s['index']) / (f['mb'] / f['index']):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
