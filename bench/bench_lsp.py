"""Latency of ``blue-index lsp``: diagnostics after one change, and hover, in a big tree.

For a tree of 100 files and one of 10,000 (``gen_corpus.generate``; 100 files per dialogue),
indexed once with ``reindex``, one response file is grown to 100 blocks, the server is
started with the same LSP client the tests use (pytest-lsp over stdio) and the file opened.
Then:

- diagnostics: ``--changes`` one-character edits, one at a time; latency = from sending the
  change to receiving ``publishDiagnostics`` for that version;
- hover: ``--hovers`` requests on the targets of the file's markers; latency = round trip.

Floors measured in the same run: a request the server answers without work (completion
where nothing completes: the protocol's round trip), and the library's own work for one
change (``parse_file`` of the file + ``assemble`` of its dialogue, in this process).

    .venv/bin/python bench/bench_lsp.py [--changes 100] [--hovers 100] [--sizes 100,10000]

Goals: diagnostics p50 within 50 ms of the change, hover within 20 ms, at 10,000 files.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.gen_corpus import generate  # noqa: E402
from tests.support.lsp import start, stop  # noqa: E402

ROUNDS, EXPERTS = 4, 11  # 100 files per dialogue
BLOCKS = 100


def _grow(path: Path, blocks: int) -> str:
    """Append markers to a response file until it has ``blocks`` line-start markers."""
    text = path.read_text(encoding="utf-8")
    have = len(re.findall(r"^\[", text, re.M))
    extra = []
    for i in range(max(0, blocks - have)):
        kind = i % 4
        if kind == 0:
            extra.append(f"[PERSPECTIVE P{60 + i}: grown perspective {i}]\nA body line {i}.\n")
        elif kind == 1:
            extra.append(f"[TENSION T{60 + i}: grown tension {i}]\nWhy it matters {i}.\n")
        elif kind == 2:
            extra.append(f"[REFINEMENT on T{59 + i}]\nNarrowed {i}.\n")
        else:
            extra.append(f"[RESOLVED T{58 + i}: settled {i}]\n")
    text = text.rstrip("\n") + "\n\n" + "\n".join(extra)
    path.write_text(text, encoding="utf-8")
    return text


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[max(0, round(p * len(xs)) - 1)]


def _library_floor(dialogues: Path, did: str, rel: str, text: str, n: int = 20) -> float:
    from indexer.assemble import assemble
    from indexer.parse import parse_file

    others = [parse_file(p.relative_to(dialogues).as_posix(), p.read_bytes())
              for p in sorted((dialogues / did).rglob("*")) if p.is_file()
              and p.relative_to(dialogues).as_posix() != rel]
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        pf = parse_file(rel, (text + f"\n{i}").encode())
        assemble(did, [*others, pf])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def run_size(files: int, changes: int, hovers: int, work: Path) -> dict[str, float]:
    root = work / f"tree-{files}"
    dialogues = root / ".blue" / "dialogues"
    generate(dialogues, max(1, files // 100), ROUNDS, EXPERTS, 0)
    n_files = sum(1 for p in dialogues.rglob("*") if p.is_file())
    did = sorted(p.name for p in dialogues.iterdir() if p.is_dir())[0]
    target = dialogues / did / f"round-{ROUNDS - 1}" / "muffin.md"
    text = _grow(target, BLOCKS)
    subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), "reindex"],
                   check=True, capture_output=True)
    rel = target.relative_to(dialogues).as_posix()
    floor_lib = _library_floor(dialogues, did, rel, text)
    s = await start(root)
    try:
        t0 = time.perf_counter()
        uri = s.open(target)
        first = await s.diagnostics(uri, 1)
        open_ms = (time.perf_counter() - t0) * 1000
        lines = s.texts[uri].split("\n")
        blocks = sum(1 for ln in lines if ln.startswith("["))
        # floor: the protocol round trip (completion on a line where nothing completes)
        floor_rt = []
        for _ in range(50):
            t = time.perf_counter()
            await s.completion(uri, 0, 0)
            floor_rt.append((time.perf_counter() - t) * 1000)
        # diagnostics after one change
        diag_ms = []
        line = next(i for i, ln in enumerate(lines) if ln.startswith("[PERSPECTIVE"))
        col = lines[line].index(":") + 2
        for _ in range(changes):
            n = len(s.rec.published)
            t = time.perf_counter()
            v = s.edit(uri, line, col, col, "x")
            await s.diagnostics(uri, v, after=n)
            diag_ms.append((time.perf_counter() - t) * 1000)
        # hover on marker targets
        spots = [(i, m.start() + 1) for i, ln in enumerate(s.texts[uri].split("\n"))
                 for m in re.finditer(r"(?<=\[RESOLVED )T\d+|(?<=\[REFINEMENT on )T\d+", ln)]
        hover_ms, answered = [], 0
        for k in range(hovers):
            ln, ch = spots[k % len(spots)]
            t = time.perf_counter()
            h = await s.hover(uri, ln, ch)
            hover_ms.append((time.perf_counter() - t) * 1000)
            answered += h is not None
    finally:
        await stop(s)
    return {"files": n_files, "blocks": blocks, "open_ms": open_ms, "first": len(first),
            "diag_p50": statistics.median(diag_ms), "diag_p90": _pct(diag_ms, 0.9),
            "diag_max": max(diag_ms), "hover_p50": statistics.median(hover_ms),
            "hover_p90": _pct(hover_ms, 0.9), "hover_answered": answered,
            "hovers": hovers, "floor_rt": statistics.median(floor_rt), "floor_lib": floor_lib}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--changes", type=int, default=100)
    p.add_argument("--hovers", type=int, default=100)
    p.add_argument("--sizes", default="100,10000", help="tree sizes in files")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-lsp-") as tmp:
        for size in (int(x) for x in a.sizes.split(",")):
            r = asyncio.run(run_size(size, a.changes, a.hovers, Path(tmp)))
            print(f"{r['files']:>6} files, a {r['blocks']}-block file: open -> diagnostics "
                  f"{r['open_ms']:.0f} ms | one change -> diagnostics p50 {r['diag_p50']:.1f} ms"
                  f" p90 {r['diag_p90']:.1f} max {r['diag_max']:.1f} | hover p50 "
                  f"{r['hover_p50']:.1f} ms p90 {r['hover_p90']:.1f} ({r['hover_answered']}/"
                  f"{r['hovers']} answered) | floors: round trip {r['floor_rt']:.1f} ms, "
                  f"parse+assemble in-process {r['floor_lib']:.1f} ms", flush=True)
            print(f"  goals: diagnostics p50 {r['diag_p50']:.1f} "
                  f"{'<=' if r['diag_p50'] <= 50 else '>'} 50 ms; hover p50 "
                  f"{r['hover_p50']:.1f} {'<=' if r['hover_p50'] <= 20 else '>'} 20 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
