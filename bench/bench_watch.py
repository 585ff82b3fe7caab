"""Save-to-queryable latency of ``blue-index watch``, and its resident memory.

For a tree of 100 files and one of 10,000 (``gen_corpus.generate``; every dialogue has 100
files: 4 rounds x 11 experts), the tree is indexed once, the daemon is started, and then
200 saves are made (atomic rename of a response file, each with a new unique label,
rotating over up to 10 dialogues). Latency = from the rename to the label being visible in
the SQLite store, polled directly (read-only connection, every 1 ms). Also reported: the
daemon's RSS (VmRSS) and its CPU time over 3 idle seconds.

    .venv/bin/python bench/bench_watch.py [--saves 200] [--debounce 100] [--sizes 100,10000]

Goals: p99 <= debounce + 100 ms; the 10,000-file p99 within 1.5x of the 100-file one;
RSS <= 100 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.gen_corpus import generate  # noqa: E402

ROUNDS, EXPERTS = 4, 11  # 100 files per dialogue


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), *args],
                          cwd=REPO, capture_output=True, text=True, check=True)


def _proc_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])  # kB
    return 0


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def run_size(files: int, saves: int, debounce: int, work: Path) -> dict[str, float]:
    root = work / f"tree-{files}"
    dialogues = max(1, files // 100)
    generate(root / ".blue" / "dialogues", dialogues, ROUNDS, EXPERTS, 0)
    n_files = sum(1 for p in (root / ".blue" / "dialogues").rglob("*") if p.is_file())
    t0 = time.perf_counter()
    _cli(root, "reindex")
    reindex_s = time.perf_counter() - t0
    log = root / "watch.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(root),
                                 "watch", "--json-log", "--debounce", str(debounce)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)
    try:
        _wait(lambda: '"event": "ready"' in log.read_text(), 300, "the daemon to be ready")
        db = sqlite3.connect(f"file:{root / '.blue' / 'blue.db'}?mode=ro", uri=True,
                             isolation_level=None)
        folders = sorted(p for p in (root / ".blue" / "dialogues").iterdir() if p.is_dir())
        targets = [f / "round-0" / "muffin.md" for f in folders[:10]]
        originals = {t: t.read_text() for t in targets}
        lat: list[float] = []
        for i in range(saves):
            target = targets[i % len(targets)]
            label = f"benchmark token {files} {i}"
            text = originals[target] + f"\n[PERSPECTIVE P99: {label}]\nMeasured.\n"
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_text(text)
            start = time.perf_counter()
            os.replace(tmp, target)
            deadline = start + 30
            while db.execute("SELECT 1 FROM blocks WHERE label = ? LIMIT 1",
                             (label,)).fetchone() is None:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"save {i} never became queryable:\n{log.read_text()[-2000:]}")
                time.sleep(0.001)
            lat.append((time.perf_counter() - start) * 1000)
        db.close()
        ticks0 = _cpu_ticks(proc.pid)
        time.sleep(3)
        idle_cpu_ms = (_cpu_ticks(proc.pid) - ticks0) * 1000 / os.sysconf("SC_CLK_TCK")
        rss_mb = _proc_field(proc.pid, "VmRSS") / 1024
        hwm_mb = _proc_field(proc.pid, "VmHWM") / 1024
        syncs = [json.loads(x) for x in log.read_text().splitlines() if '"event": "sync"' in x]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    lat.sort()
    return {
        "files": n_files, "reindex_s": reindex_s, "median_ms": statistics.median(lat),
        "p99_ms": lat[max(0, round(0.99 * len(lat)) - 1)], "max_ms": lat[-1],
        "rss_mb": rss_mb, "peak_rss_mb": hwm_mb, "idle_cpu_ms_3s": idle_cpu_ms,
        "syncs": len(syncs) - 1, "sync_ms_median": statistics.median(
            s["ms"] for s in syncs if not s["full"]) if len(syncs) > 1 else 0.0,
        "exit": code,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--saves", type=int, default=200)
    p.add_argument("--debounce", type=int, default=100, help="ms (default 100)")
    p.add_argument("--sizes", default="100,10000", help="tree sizes in files")
    a = p.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
        for size in (int(s) for s in a.sizes.split(",")):
            r = run_size(size, a.saves, a.debounce, Path(tmp))
            results.append(r)
            print(f"{r['files']:>6} files  debounce {a.debounce} ms  saves {a.saves}: "
                  f"median {r['median_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  "
                  f"max {r['max_ms']:.1f} ms  | sync median {r['sync_ms_median']:.1f} ms, "
                  f"{r['syncs']} syncs | RSS {r['rss_mb']:.1f} MB (peak {r['peak_rss_mb']:.1f})"
                  f" | idle CPU {r['idle_cpu_ms_3s']:.0f} ms/3 s | reindex {r['reindex_s']:.1f} s"
                  f" | exit {r['exit']}", flush=True)
    goal = a.debounce + 100
    for r in results:
        print(f"  {r['files']} files: p99 {r['p99_ms']:.1f} ms "
              f"{'<=' if r['p99_ms'] <= goal else '>'} goal {goal} ms; "
              f"RSS {r['rss_mb']:.1f} MB {'<=' if r['rss_mb'] <= 100 else '>'} 100 MB")
    if len(results) >= 2:
        ratio = results[-1]["p99_ms"] / results[0]["p99_ms"]
        print(f"  p99 ratio {results[-1]['files']}/{results[0]['files']} files: {ratio:.2f}x "
              f"({'<=' if ratio <= 1.5 else '>'} 1.5x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
