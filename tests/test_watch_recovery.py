"""The daemon recovers without a restart: its SQLite store deleted or replaced, its watch
root moved away, removed or replaced; and SIGTERM ends it within a bound whatever it is
doing (here: waiting on a store another process holds locked).

Real daemon processes, real inotify events, real SQLite files. Each ``wait_for`` timeout is
the bound on time to recover (a safety net, generous for a loaded machine)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from .support.watch import DaemonProc, save_atomic, wait_for
from .test_watch import cli, fresh_reindex, response, store_items

SAMPLES = Path(__file__).resolve().parent.parent / "sample_dialogues"
RECOVER_S = 20.0


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SAMPLES, root / ".blue" / "dialogues")
    return root


def _db(root: Path) -> Path:
    return root / ".blue" / "blue.db"


def _edit_reaches_store(root: Path, proc: DaemonProc, word: str) -> None:
    d = sorted(p for p in (root / ".blue" / "dialogues").iterdir() if p.is_dir())[0]
    save_atomic(d / "round-0" / "walnut.md", response(word))
    wait_for(lambda: word in cli(root, "search", word, check=False).stdout, RECOVER_S,
             what=f"the edit ({word}) in the store: {proc.text()[-1500:]}")


def test_store_deleted_under_the_daemon(tree: Path, tmp_path: Path) -> None:
    proc = DaemonProc(tree)
    try:
        proc.wait_ready()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{_db(tree)}{suffix}").unlink(missing_ok=True)
        wait_for(lambda: proc.events("store-replaced"), RECOVER_S, what="the store line")
        line = proc.events("store-replaced")[0]
        assert "deleted" in line["message"] and str(_db(tree)) in line["message"]
        wait_for(lambda: _db(tree).exists() and store_items(tree) == fresh_reindex(
            tree, tmp_path), RECOVER_S, what="the rebuilt store")
        _edit_reaches_store(tree, proc, "pangolin")
        assert store_items(tree) == fresh_reindex(tree, tmp_path)
        assert len(proc.events("store-replaced")) == 1
    finally:
        assert proc.stop() == 0


def test_store_replaced_under_the_daemon(tree: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(SAMPLES, other / ".blue" / "dialogues")
    first = sorted((other / ".blue" / "dialogues").iterdir())[0]
    shutil.rmtree(first)  # a different index: one dialogue fewer
    assert cli(other, "reindex").returncode == 0
    proc = DaemonProc(tree)
    try:
        proc.wait_ready()
        os.replace(_db(other), _db(tree))
        wait_for(lambda: proc.events("store-replaced"), RECOVER_S, what="the store line")
        assert "replaced" in proc.events("store-replaced")[0]["message"]
        wait_for(lambda: store_items(tree) == fresh_reindex(tree, tmp_path), RECOVER_S,
                 what="the replaced store reconciled")
        _edit_reaches_store(tree, proc, "axolotl")
    finally:
        assert proc.stop() == 0


def test_root_moved_away_and_back(tree: Path, tmp_path: Path) -> None:
    dialogues = tree / ".blue" / "dialogues"
    proc = DaemonProc(tree)
    try:
        proc.wait_ready()
        moved = tree / ".blue" / "moved"
        os.rename(dialogues, moved)
        wait_for(lambda: proc.events("root-lost"), RECOVER_S, what="the root-lost line")
        # an edit in the moved folder is not the root's business: the store keeps its state
        save_atomic(sorted(p for p in moved.iterdir() if p.is_dir())[0] / "round-0" /
                    "walnut.md", response("narwhal"))
        os.rename(moved, dialogues)
        wait_for(lambda: proc.events("root-back"), RECOVER_S, what="the root-back line")
        wait_for(lambda: store_items(tree) == fresh_reindex(tree, tmp_path), RECOVER_S,
                 what="the reconcile after the root came back")
        assert "narwhal" in cli(tree, "search", "narwhal").stdout
        _edit_reaches_store(tree, proc, "quokka")
    finally:
        assert proc.stop() == 0


def test_root_removed_then_recreated(tree: Path, tmp_path: Path) -> None:
    dialogues = tree / ".blue" / "dialogues"
    proc = DaemonProc(tree)
    try:
        proc.wait_ready()
        shutil.rmtree(dialogues)
        wait_for(lambda: proc.events("root-lost"), RECOVER_S, what="the root-lost line")
        keep = sorted(p for p in SAMPLES.iterdir() if p.is_dir())[-1]
        shutil.copytree(keep, dialogues / keep.name)
        wait_for(lambda: set(store_items(tree)) == {keep.name} and store_items(tree) ==
                 fresh_reindex(tree, tmp_path), RECOVER_S, what="the recreated root synced")
        assert proc.proc.poll() is None
    finally:
        assert proc.stop() == 0


def test_sigterm_ends_a_daemon_waiting_on_a_locked_store(tree: Path) -> None:
    proc = DaemonProc(tree)
    holder = None
    try:
        proc.wait_ready()
        holder = sqlite3.connect(_db(tree), timeout=1)
        holder.execute("BEGIN IMMEDIATE")  # hold the write lock: the daemon's write waits
        d = sorted(p for p in (tree / ".blue" / "dialogues").iterdir() if p.is_dir())[0]
        n = len(proc.syncs())
        save_atomic(d / "round-0" / "walnut.md", response("lemur"))
        wait_for(lambda: "lemur" in (d / "round-0" / "walnut.md").read_text(), 5)
        time.sleep(1.5)  # the sync has started and waits for the lock
        assert len(proc.syncs()) == n  # still waiting: nothing synced
        t0 = time.monotonic()
        proc.proc.send_signal(signal.SIGTERM)
        rc = proc.proc.wait(10)  # the bound (STOP_GRACE is 0.8 s)
        waited = time.monotonic() - t0
        assert rc == 0, proc.text()
        assert waited < 10 and proc.events("stopped"), proc.text()
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
        proc.kill()
