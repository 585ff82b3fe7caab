"""The whole-tree freshness check (issue 17): a dialogue unchanged since its last sync costs
its stats only (no listing of its stored hashes), and the store still equals a fresh
rebuild from the files whatever happens to the summary, the markers or the store.

Real trees on disk, a real SQLite file; a counting wrapper only observes which store reads
the engine makes (every call goes to the real store)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from indexer.store.base import files_marker
from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer
from tests.support.sync import copy_tree, dialogue_ids, expected_export, store_export

HOUR_NS = 3600 * 10**9


class Counting:
    """The real store, with a count of the calls made to it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if callable(value):
            def call(*a: Any, **kw: Any) -> Any:
                self.calls[name] += 1
                return value(*a, **kw)
            return call
        return value


def _age(root: Path, ns: int = HOUR_NS) -> None:
    """Set every file's mtime back (files written just now are 'racy': not summarised)."""
    now = time.time_ns()
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(now - ns, now - ns))


@pytest.fixture
def tree(samples_dir: Path, tmp_path: Path):
    cfg = copy_tree(samples_dir, tmp_path)
    _age(cfg.dialogues)
    store = Counting(SQLiteStore(cfg.sqlite_path))
    yield cfg, store, Syncer(cfg, store)
    store.inner.close()


def _response(cfg, did: str) -> Path:
    return sorted((cfg.dialogues / did).glob("round-1/*.md"))[0]


def _in_step(cfg, store) -> None:
    for did in dialogue_ids(cfg.dialogues):
        assert store_export(store.inner, did) == expected_export(cfg.dialogues, did), did


def test_no_change_lists_no_stored_hashes(tree):
    cfg, store, syncer = tree
    first = syncer.run()
    assert first.dialogues_written == len(dialogue_ids(cfg.dialogues))
    store.calls.clear()
    rep = syncer.run()
    assert (rep.parsed, rep.hashed, rep.items_written, rep.dialogues_written) == (0, 0, 0, 0)
    assert rep.unchanged == rep.files_seen == first.files_seen
    assert store.calls["markers"] == 1
    assert store.calls["all_file_hashes"] == store.calls["file_hashes"] == 0
    assert store.calls["load_for_update"] == 0


def test_one_edit_lists_and_writes_only_its_dialogue(tree):
    cfg, store, syncer = tree
    syncer.run()
    ids = dialogue_ids(cfg.dialogues)
    did = ids[0]
    target = _response(cfg, did)
    target.write_text(target.read_text(encoding="utf-8") + "\n[PERSPECTIVE P88: Fresh]\nNew.\n",
                      encoding="utf-8")
    store.calls.clear()
    rep = syncer.run()
    assert rep.parsed == 1 and rep.dialogues == [did]
    assert store.calls["file_hashes"] == 1 and store.calls["all_file_hashes"] == 0
    assert store.calls["load_for_update"] == 1
    _in_step(cfg, store)
    old = time.time_ns() - HOUR_NS  # the edit ages past the racy window:
    os.utime(target, ns=(old, old))
    assert syncer.run().hashed == 1  # its new mtime is read once, into the summary
    store.calls.clear()
    assert syncer.run().hashed == 0 and store.calls["file_hashes"] == 0


def test_one_dialogue_run_uses_the_marker(tree):
    cfg, store, syncer = tree
    syncer.run()
    did = dialogue_ids(cfg.dialogues)[-1]
    store.calls.clear()
    rep = syncer.run(dialogues=[did])
    assert rep.files_seen == rep.unchanged > 0 and rep.parsed == 0
    assert store.calls["markers"] == 1 and store.calls["file_hashes"] == 0


def test_a_store_changed_behind_the_summary_is_compared_in_full(tree):
    """The summary is only believed while the store holds what it held: a file item
    dropped through the store, or rows edited by hand with sqlite3 (the trigger clears the
    marker), make that dialogue take the full comparison, and the run repairs it."""
    cfg, store, syncer = tree
    syncer.run()
    a, b = dialogue_ids(cfg.dialogues)[:2]
    rel = _response(cfg, a).relative_to(cfg.dialogues / a).as_posix()
    store.inner.write(a, [], [f"file#{rel}"])
    with sqlite3.connect(cfg.sqlite_path) as db:
        db.execute("UPDATE files SET sha256 = ? WHERE dialogue_id = ? AND path = (SELECT "
                   "min(path) FROM files WHERE dialogue_id = ?)", ("0" * 64, b, b))
    db.close()
    assert store.inner.markers([b]) == {b: None}
    store.calls.clear()
    rep = syncer.run()
    assert sorted(rep.dialogues) == sorted([a, b]) and rep.parsed == 2
    assert store.calls["file_hashes"] == 2
    _in_step(cfg, store)
    assert store.inner.markers([a, b]) == {d: files_marker(store.inner.file_hashes(d))
                                           for d in (a, b)}


def test_lost_or_damaged_summary_means_the_full_comparison(tree):
    cfg, store, syncer = tree
    syncer.run()
    summary = syncer.cache_dir / "summary"
    for damage in ("{not json", '{"version": 1, "root": "elsewhere", "dialogues": {}}', None):
        if damage is None:
            summary.unlink()
        else:
            summary.write_text(damage, encoding="utf-8")
        store.calls.clear()
        rep = syncer.run()
        assert rep.parsed == 0 and rep.items_written == 0
        assert store.calls["all_file_hashes"] + store.calls["file_hashes"] >= 1
        store.calls.clear()
        assert syncer.run().parsed == 0  # rebuilt by that run: the next one skips again
        assert store.calls["all_file_hashes"] == store.calls["file_hashes"] == 0
    _in_step(cfg, store)


def test_racy_files_are_not_summarised(tree):
    """A file modified within the hash cache's racy window is compared on every run until
    it ages (a later edit in the same mtime tick could keep its size and mtime)."""
    cfg, store, syncer = tree
    did = dialogue_ids(cfg.dialogues)[0]
    target = _response(cfg, did)
    target.write_text(target.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    syncer.run()
    store.calls.clear()
    syncer.run()
    assert store.calls["file_hashes"] == 1  # that dialogue only
    # the same tick, the same size: found because it was never summarised nor cached
    st = target.stat()
    text = target.read_text(encoding="utf-8")
    target.write_text(text[:-6] + "Less.\n", encoding="utf-8")
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size
    rep = syncer.run()
    assert rep.parsed == 1 and rep.dialogues == [did]
    _in_step(cfg, store)


def test_an_edit_that_restores_size_and_mtime_is_seen_by_full_and_check(tree):
    """The rule of the hash cache, kept by the summary (README): size and mtime are trusted
    once they are older than the racy window, so an edit that puts both back is not seen by
    a plain run; ``--check`` reports it and ``--full`` syncs it."""
    cfg, store, syncer = tree
    syncer.run()
    did = dialogue_ids(cfg.dialogues)[0]
    target = _response(cfg, did)
    st = target.stat()
    data = target.read_bytes()
    swapped = data.replace(b"a", b"e", 1)
    assert swapped != data and len(swapped) == len(data)
    target.write_bytes(swapped)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    rep = syncer.run()
    assert rep.parsed == 0 and rep.dialogues == []
    rel = target.relative_to(cfg.dialogues / did).as_posix()
    check = syncer.run(check=True)
    assert check.drift == [f"{did}/{rel}: changed since the last sync"]
    full = syncer.run(full=True)
    assert full.dialogues == [did]
    _in_step(cfg, store)
    assert syncer.run(check=True).drift == []


def test_deleted_and_added_dialogues_are_never_skipped(tree):
    import shutil

    cfg, store, syncer = tree
    first = dialogue_ids(cfg.dialogues)[0]
    shutil.copytree(cfg.dialogues / first, cfg.dialogues / "zz-a")
    _age(cfg.dialogues)
    syncer.run()
    assert syncer.run().dialogues == [] and "zz-a" in store.inner.markers()
    shutil.copytree(cfg.dialogues / "zz-a", cfg.dialogues / "zz-b")
    shutil.rmtree(cfg.dialogues / "zz-a")
    rep = syncer.run()
    assert rep.dialogues == ["zz-a", "zz-b"]
    assert store.inner.load("zz-a") == {} and "zz-a" not in store.inner.markers()
    _in_step(cfg, store)


def test_skipped_dialogues_do_not_start_parse_workers(tmp_path, monkeypatch):
    """Files of skipped dialogues are not 'files the store has no hash for': a one-file
    edit in a big tree parses in this process (no worker pool to start)."""
    from bench.gen_corpus import generate
    from indexer import config as config_mod
    from indexer.sync import engine

    generate(tmp_path / ".blue" / "dialogues", dialogues=4, rounds=2, experts=4, seed=5)
    _age(tmp_path / ".blue" / "dialogues")
    cfg = config_mod.load(root=tmp_path, env={})
    monkeypatch.setattr(engine, "PARALLEL_MIN", 10)
    monkeypatch.setattr(engine.threading, "active_count", lambda: 1)
    pools: list[int] = []
    real = engine.Syncer._pool
    monkeypatch.setattr(engine.Syncer, "_pool", lambda self: pools.append(1) or real(self))
    store = SQLiteStore(cfg.sqlite_path)
    syncer = Syncer(cfg, store, workers=1)
    syncer.run()
    assert pools == [1]  # the first run parses everything: workers
    ids = dialogue_ids(cfg.dialogues)
    target = sorted((cfg.dialogues / ids[0]).glob("round-1/*.md"))[0]
    target.write_text(target.read_text(encoding="utf-8") + "\nMore words.\n", encoding="utf-8")
    (cfg.dialogues / ids[1] / "round-1" / "extra-note.md").write_text("A note.\n")
    rep = syncer.run()
    assert rep.parsed == 2 and pools == [1]
    for did in ids:
        assert store_export(store, did) == expected_export(cfg.dialogues, did)
    store.close()
