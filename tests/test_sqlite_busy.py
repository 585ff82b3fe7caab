"""A busy SQLite store: the wait is announced (who holds the store: the watch daemon by
its pid, else the holder's pid and command) and bounded by storage.sqlite.busy_timeout.
Real processes hold the lock; the commands under test run as real processes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from .support.sync import REPO, cli, copy_tree, dialogue_ids, expected_items

HOLD = """
import sqlite3, sys, time
sys.path.insert(0, {repo!r})
if {as_daemon!r}:
    from pathlib import Path
    from indexer.daemon_state import DaemonLock
    lock = DaemonLock(Path({lock!r}))
    assert lock.acquire()
conn = sqlite3.connect({db!r}, timeout=1)
conn.execute("BEGIN IMMEDIATE")
print("held", flush=True)
if {seconds} is None:
    sys.stdin.readline()  # released when the test says so
else:
    time.sleep({seconds})
conn.rollback()
"""


@pytest.fixture
def repo(samples_dir: Path, tmp_path: Path):
    cfg = copy_tree(samples_dir, tmp_path / "repo")
    assert cli(cfg.root, "reindex").returncode == 0
    return cfg


def _hold(cfg, seconds: float | None, as_daemon: bool = False) -> subprocess.Popen:
    code = HOLD.format(repo=str(REPO), db=str(cfg.sqlite_path), seconds=seconds,
                       as_daemon=as_daemon, lock=str(cfg.root / ".blue" / "watch.lock"))
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         stdin=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def _edit(cfg) -> str:
    did = dialogue_ids(cfg.dialogues)[0]
    f = sorted((cfg.dialogues / did).glob("round-1/*.md"))[0]
    f.write_text(f.read_text(encoding="utf-8") + "\n[PERSPECTIVE P88: wombat]\nx\n",
                 encoding="utf-8")
    return did


def _config(cfg, busy: float) -> None:
    (cfg.root / ".blue" / "config.yaml").write_text(
        f"storage:\n  sqlite:\n    busy_timeout: {busy}\n", encoding="utf-8")


def _reindex_timed(cfg) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    p = cli(cfg.root, "reindex")
    return p, time.monotonic() - t0


def test_locked_store_names_the_holder_and_gives_up_at_the_limit(repo):
    _config(repo, 3)
    _edit(repo)
    holder = _hold(repo, 60)
    try:
        p, took = _reindex_timed(repo)
    finally:
        holder.kill()
        holder.wait()
    assert p.returncode == 3, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 2, lines
    notice, final = lines
    assert f"is locked by pid {holder.pid} (" in notice and "waiting up to 3s" in notice
    assert f"still locked by pid {holder.pid}" in final and "busy_timeout" in final
    assert took >= 3  # it did wait the configured time before giving up


def test_the_daemon_is_named_as_the_holder(repo):
    _config(repo, 2)
    _edit(repo)
    holder = _hold(repo, 60, as_daemon=True)
    try:
        p = cli(repo.root, "reindex")
    finally:
        holder.kill()
        holder.wait()
    assert p.returncode == 3
    assert f"locked by the watch daemon (pid {holder.pid})" in p.stderr


def test_wait_ends_when_the_holder_lets_go(repo):
    import os

    _config(repo, 120)
    did = _edit(repo)
    holder = _hold(repo, None)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("BLUE_INDEX_SQLITE_PATH", None)
    env.pop("BLUE_INDEX_BACKEND", None)
    p = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(repo.root),
                          "reindex"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd=REPO, env=env)
    try:
        assert p.stderr is not None and holder.stdin is not None
        notice = p.stderr.readline()  # the wait is announced while the lock is still held
        assert f"is locked by pid {holder.pid}" in notice, notice
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert p.wait(60) == 0, p.stderr.read()
    finally:
        holder.kill()
        holder.wait()
        p.kill()
        p.wait()
    from indexer.store.sqlite import SQLiteStore

    store = SQLiteStore(repo.sqlite_path, create=False)
    try:
        assert store.load(did) == expected_items(repo.dialogues, did)
    finally:
        store.close()


FLOCK = """
import fcntl, os, sys, time
fd = os.open({path!r}, os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


def test_wait_for_another_sync_of_the_dialogue_is_said_and_bounded(repo):
    """Two syncs never interleave one dialogue (a machine-local lock per dialogue); the
    second one says who holds it and gives up at the limit instead of hanging."""
    _config(repo, 2)
    did = _edit(repo)
    lock = repo.root / ".blue" / "cache" / "locks" / f"{did}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", FLOCK.format(path=str(lock))],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        p = cli(repo.root, "reindex")
    finally:
        holder.kill()
        holder.wait()
    assert p.returncode == 3, p.stderr
    notice, final = p.stderr.strip().splitlines()
    assert f"{did} is being synced by pid {holder.pid} (" in notice
    assert f"{did}: another sync of this dialogue (pid {holder.pid}" in final
    assert cli(repo.root, "reindex").returncode == 0  # once it is free, all goes on
