"""Fresh-query benchmark: what a query pays to be fresh, on the generated 10k-file tree.

    python bench/bench_query.py [--dialogues 132] [--rounds 4] [--experts 8] [--repeat 21]
                                [--cli 7] [--no-daemon]

Prints one table, every figure beside its floor in the same run:

- a full reindex of the tree into a fresh SQLite file (the reference for the freshness
  check), and the freshness check of a whole-tree query (``list``, ``search``) with nothing
  changed: ``ensure_fresh(config, store, None)`` (goal <= 5% of the full reindex);
- a one-dialogue query (``tensions D``: the store's load of D and the view) with
  ``ensure_fresh(config, store, [D])`` first, against the same query with no sync (goal
  <= 2x), in-process (no interpreter start-up);
- the same through the real CLI (``blue-index tensions D --json`` vs ``--no-sync``, each a
  new process) beside ``python -c pass``;
- with a watch daemon running on the tree (a real ``blue-index watch`` process), the
  one-dialogue query through the settle cookie.

Medians of ``--repeat`` runs (``--cli`` for processes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import generate  # noqa: E402

from indexer import config as config_mod  # noqa: E402
from indexer.fresh import DAEMON, ensure_fresh  # noqa: E402
from indexer.store.sqlite import SQLiteStore  # noqa: E402
from indexer.sync import Syncer  # noqa: E402
from indexer.views import tensions  # noqa: E402


def median_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_median(root: Path, args: list[str], repeat: int) -> float:
    cmd = [sys.executable, "-m", "indexer.cli", "--root", str(root), *args]
    env = {**os.environ, "NO_COLOR": "1"}

    def once() -> None:
        subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    return median_of(once, repeat)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialogues", type=int, default=132)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--repeat", type=int, default=21)
    p.add_argument("--cli", type=int, default=7)
    p.add_argument("--no-daemon", action="store_true")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "big"
        files = generate(root / ".blue" / "dialogues", a.dialogues, a.rounds, a.experts)
        config = config_mod.load(root=root, env={})
        store = SQLiteStore(config.sqlite_path)
        t0 = time.perf_counter()
        full = Syncer(config, store).run()
        full_s = time.perf_counter() - t0
        did = sorted(full.dialogues)[len(full.dialogues) // 2]

        def whole() -> None:
            done = ensure_fresh(config, store, None, use_daemon=False)
            assert done.report is not None and done.report.parsed == 0
        whole_s = median_of(whole, a.repeat)

        def query() -> None:
            tensions(store.load(did))

        def fresh_query() -> None:
            ensure_fresh(config, store, [did], use_daemon=False)
            tensions(store.load(did))
        nosync_s = median_of(query, a.repeat)
        fresh_s = median_of(fresh_query, a.repeat)
        check_s = median_of(lambda: ensure_fresh(config, store, [did], use_daemon=False),
                            a.repeat)
        pass_s = median_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
                           a.cli)
        cli_nosync = cli_median(root, ["tensions", did, "--json", "--no-sync"], a.cli)
        cli_fresh = cli_median(root, ["tensions", did, "--json"], a.cli)
        rows = [
            (f"full reindex ({len(files)} files, {full.items_written} items)", full_s, ""),
            ("whole-tree freshness check, nothing changed (list, search)", whole_s,
             f"{100 * whole_s / full_s:.1f}% of the full reindex (goal <= 5%)"),
            (f"one-dialogue query, --no-sync (load + tensions view of {did[:24]}...)",
             nosync_s, "the floor"),
            ("its freshness check alone (sync of that dialogue, nothing changed)", check_s, ""),
            ("one-dialogue query, fresh (check + load + view)", fresh_s,
             f"{fresh_s / nosync_s:.2f}x the --no-sync query (goal <= 2x)"),
            ("python -c pass", pass_s, "process floor"),
            ("CLI: blue-index tensions D --json --no-sync", cli_nosync, ""),
            ("CLI: blue-index tensions D --json (fresh)", cli_fresh,
             f"{cli_fresh / cli_nosync:.2f}x the --no-sync command"),
        ]
        if not a.no_daemon:
            rows += daemon_rows(root, config, store, did, a.repeat, nosync_s)
        store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'seconds':>8}  note")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs:>8.4f}  {note}")
    return 0


def daemon_rows(root: Path, config: config_mod.Config, store: SQLiteStore, did: str,
                repeat: int, nosync_s: float) -> list[tuple[str, float, str]]:
    """The one-dialogue query with a real daemon on the tree (the cookie path)."""
    from indexer.daemon_state import daemon_status

    log = open(root / "bench-watch.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(root),
                             "watch"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while (daemon_status(config) or {}).get("state") != "watching":
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the daemon did not get ready within 120 s")
            time.sleep(0.05)
        hows: list[str] = []

        def via_daemon() -> None:
            hows.append(ensure_fresh(config, store, [did], daemon_wait=5.0).how)
            tensions(store.load(did))
        settle_s = median_of(via_daemon, repeat)
        assert set(hows) == {DAEMON}, hows
        return [("one-dialogue query, daemon running (cookie settle + load + view)", settle_s,
                 f"{settle_s / nosync_s:.2f}x the --no-sync query")]
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


if __name__ == "__main__":
    raise SystemExit(main())
