"""Inline markers at scale: one line holding many inline markers, and deep bracket nesting.

    python bench/bench_inline.py [--markers 50000]

Prints our parse of each file beside bare markdown-it-py's ``parse()`` of the same text
(commonmark + tables, inline rules on: the floor every Markdown reader pays). Scanning is
linear: doubling the markers roughly doubles our time (the ``x2`` column).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexer.parse import parse_file  # noqa: E402


def one_line(n: int) -> str:
    return "# Muffin\n\nMoves: " + " ".join(f"[MOVE:CONVERGE] step {k}," for k in range(n)) + "\n"


def nested(n: int) -> str:
    return "# Muffin\n\nNote " + "[TENSION T01: x " * n + "]" * n + "\n"


def unclosed(n: int) -> str:
    return "# Muffin\n\nNote " + "[TENSION T01: open " * n + "\n"


def timed(fn, *a) -> float:
    t0 = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markers", type=int, default=50000)
    a = p.parse_args(argv)
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    print(f"{'file':<36} {'bytes':>9} {'ours s':>8} {'bare s':>8} {'ratio':>6} {'x2 s':>8}")
    for name, make in (("inline markers on one line", one_line), ("nested brackets", nested),
                       ("unclosed markers", unclosed)):
        text = make(a.markers)
        ours = timed(parse_file, "d/round-0/muffin.md", text.encode())
        bare = timed(md.parse, text)
        double = timed(parse_file, "d/round-0/muffin.md", make(2 * a.markers).encode())
        print(f"{name + f' ({a.markers})':<36} {len(text):>9} {ours:>8.3f} {bare:>8.3f} "
              f"{ours / bare:>6.2f} {double:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
