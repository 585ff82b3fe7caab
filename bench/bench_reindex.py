"""Reindex benchmark on a generated corpus: full, no-op and one-file-edit syncs.

    python bench/bench_reindex.py [--dialogues 132] [--rounds 4] [--experts 8] [--repeat 5]

Prints one table: the bare markdown-it-py parse of every Markdown file (+ json.loads of the
JSON ones) beside a full reindex of the same tree into a fresh SQLite file, a no-op reindex,
a content ``--check`` (every file parsed, every stored item compared), and the median of
one-file edits on a ~100-file tree and on the big one, beside the floor of a whole-tree
edit: a bare ``os.scandir`` + ``stat`` walk of the big tree plus the same edit on the small
one. Everything runs in-process (``Syncer.run``), so interpreter start-up is not counted.
The generated files are dated an hour back, as files written before the run are (a file
modified within the hash cache's 2 s racy window is always compared in full).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import generate  # noqa: E402

from indexer import config as config_mod  # noqa: E402
from indexer.store.sqlite import SQLiteStore  # noqa: E402
from indexer.sync import Syncer  # noqa: E402


def bare_parse(files: list[Path]) -> float:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    t0 = time.perf_counter()
    for f in files:
        data = f.read_bytes()
        if f.suffix == ".json":
            json.loads(data)
        else:
            md.parse(data.decode("utf-8"))
    return time.perf_counter() - t0


def bare_walk(folder: Path) -> int:
    """The floor of a whole-tree check: every entry listed, every file stat'ed."""
    n = 0
    for e in os.scandir(folder):
        if e.is_dir(follow_symlinks=False):
            n += bare_walk(Path(e.path))
        else:
            e.stat(follow_symlinks=False)
            n += 1
    return n


def walk_time(folder: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        bare_walk(folder)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def tree(base: Path, dialogues: int, rounds: int, experts: int) -> tuple[Syncer, list[Path]]:
    root = base
    files = generate(root / ".blue" / "dialogues", dialogues, rounds, experts)
    past = time.time_ns() - 3600 * 10**9
    for f in files:
        os.utime(f, ns=(past, past))
    cfg = config_mod.load(root=root, env={})
    return Syncer(cfg, SQLiteStore(cfg.sqlite_path)), files


def timed(syncer: Syncer, **kw) -> tuple[float, object]:
    t0 = time.perf_counter()
    rep = syncer.run(**kw)
    return time.perf_counter() - t0, rep


def edit_once(syncer: Syncer, files: list[Path], n: int, repeat: int,
              targeted: bool = False) -> float:
    """Median time of a sync after appending a sentence to one response file (``targeted``:
    only that dialogue is synced, as the watch daemon does)."""
    responses = [f for f in files if f.parent.name.startswith("round-")
                 and f.suffix == ".md" and not f.name.endswith(".prompt.md")]
    times = []
    for i in range(repeat):
        f = responses[(i * 7919 + n) % len(responses)]
        with f.open("a", encoding="utf-8") as fh:
            fh.write(f"\nThe bench edit number {i} keeps the ledger honest.\n")
        did = f.parent.parent.name
        dt, rep = timed(syncer, dialogues=[did] if targeted else None)
        assert rep.parsed == 1 and rep.dialogues_written == 1, rep
        times.append(dt)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialogues", type=int, default=132)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        small, small_files = tree(Path(tmp) / "small", 1, 4, 11)
        small.run()
        big, files = tree(Path(tmp) / "big", a.dialogues, a.rounds, a.experts)
        n = len(files)
        parse_s = bare_parse(files)
        full_s, full = timed(big)
        noop_s, noop = timed(big)
        assert noop.parsed == 0 and noop.items_written == 0, noop
        check_s, chk = timed(big, check=True)
        assert chk.parsed == n and not chk.drift, chk.drift[:3]
        noops = [timed(big)[0] for _ in range(a.repeat)]
        noop_s = statistics.median([noop_s, *noops])
        walk_big = walk_time(Path(tmp) / "big" / ".blue" / "dialogues", a.repeat)
        edit_small = edit_once(small, small_files, 1, a.repeat)
        edit_big = edit_once(big, files, 1, a.repeat)
        edit_small_t = edit_once(small, small_files, 2, a.repeat, targeted=True)
        edit_big_t = edit_once(big, files, 2, a.repeat, targeted=True)
    rows = [
        (f"bare markdown-it parse ({n} files)", parse_s, ""),
        (f"full reindex ({n} files, {full.items_written} items)", full_s,
         f"{full_s / parse_s:.2f}x parse (goal <= 1.2x, at worst 2x)"),
        ("no-op reindex (median)", noop_s,
         f"{100 * noop_s / full_s:.1f}% of full (goal <= 5%); {noop_s / walk_big:.2f}x the "
         "bare walk"),
        ("reindex --check (rebuild in memory, compare every item)", check_s,
         f"{check_s / full_s:.2f}x full (goal <= 1.3x)"),
        (f"one-file edit, {len(small_files)} files", edit_small, ""),
        (f"bare os.scandir + stat walk, {n} files (median)", walk_big, ""),
        (f"one-file edit, {n} files", edit_big,
         f"{edit_big / (walk_big + edit_small):.2f}x (bare walk + small-tree edit) (goal <= "
         f"1.5x); {edit_big / edit_small:.2f}x the small tree"),
        (f"one-file edit, {len(small_files)} files, that dialogue only", edit_small_t,
         "(what the watch daemon runs)"),
        (f"one-file edit, {n} files, that dialogue only", edit_big_t,
         f"{edit_big_t / edit_small_t:.2f}x the small tree"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  note")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs:>8.3f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
