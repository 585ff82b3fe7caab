"""Report benchmark: ``blue-index report`` of the generated corpus beside a full reindex of it.

    python bench/bench_report.py [--dialogues 132] [--rounds 4] [--experts 8] [--out DIR]

Generates the corpus (bench/gen_corpus.py, ~10,000 files for 132 dialogues), runs a full
reindex into a fresh SQLite file (the floor: goal report <= reindex), then writes the whole
static site from that store, both in this process, and prints the times, the site's size and
its largest page (goal < 1 MB each). ``--out`` keeps the site for a look.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import generate  # noqa: E402

from indexer import config as config_mod  # noqa: E402
from indexer.report.site import build  # noqa: E402
from indexer.store.sqlite import SQLiteStore  # noqa: E402
from indexer.sync import Syncer  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process and its ended children (the worker pools): steadier than
    wall time on a shared machine."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialogues", type=int, default=132)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--out", type=Path, help="keep the site here (default: a temp folder)")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(root / ".blue" / "dialogues", a.dialogues, a.rounds, a.experts)
        cfg = config_mod.load(root=root, env={})
        store = SQLiteStore(cfg.sqlite_path)
        t0, c0 = time.perf_counter(), cpu()
        rep = Syncer(cfg, store).run(full=True)
        reindex_s, reindex_cpu = time.perf_counter() - t0, cpu() - c0
        out = a.out or root / "site"
        t0, c0 = time.perf_counter(), cpu()
        site = build(store, out)
        report_s, report_cpu = time.perf_counter() - t0, cpu() - c0
        pages = len(site.pages)
        store.close()
    rows = [
        (f"full reindex ({len(files)} files, {rep.items_written} items)", reindex_s,
         reindex_cpu, "floor"),
        (f"report ({site.dialogues} dialogues, {pages} pages, {site.files} files, "
         f"{site.bytes / 1e6:.1f} MB)", report_s, report_cpu,
         f"{report_s / reindex_s:.2f}x reindex, CPU {report_cpu / reindex_cpu:.2f}x "
         "(goal <= 1.0x)"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  {'CPU s':>7}  note")
    for name, secs, cpu_s, note in rows:
        print(f"{name:<{width}}  {secs:>8.3f}  {cpu_s:>7.2f}  {note}")
    print(f"largest page: {site.largest[0]} {site.largest[1] / 1e6:.3f} MB (goal < 1 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
