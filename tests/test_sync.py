"""The sync engine on real files and a real SQLite file: a fresh index equals parse +
assemble of the same files; incremental runs converge to the same state and touch only
what changed."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer
from tests.support.sync import (
    copy_tree,
    dialogue_ids,
    expected_export,
    make_repo,
    store_export,
)


@pytest.fixture(params=["samples", "corpus"])
def source(request):
    """The project's own sample dialogues, and the real corpus (skips when absent)."""
    if request.param == "samples":
        return request.getfixturevalue("samples_dir")
    return request.getfixturevalue("corpus_dir")


@pytest.fixture
def repo(source, tmp_path):
    cfg = copy_tree(source, tmp_path)
    store = SQLiteStore(cfg.sqlite_path)
    yield cfg, store, Syncer(cfg, store)
    store.close()


def _responses(dialogues, did):
    return sorted(p for p in (dialogues / did).glob("round-*/*.md")
                  if not p.name.endswith(".prompt.md") and p.stem not in
                  ("summary", "scoreboard", "context-brief"))


def test_fresh_index_equals_direct_assembly(repo):
    cfg, store, syncer = repo
    rep = syncer.run()
    ids = dialogue_ids(cfg.dialogues)
    assert sorted(rep.dialogues) == ids and rep.dialogues_written == len(ids)
    assert rep.parsed == rep.files_seen == rep.hashed > 0
    for did in ids:
        assert store_export(store, did) == expected_export(cfg.dialogues, did)
    assert [d["id"] for d in store.dialogues()] == ids


def test_rebuilt_store_is_byte_identical(repo, tmp_path):
    cfg, store, syncer = repo
    syncer.run()
    before = {d: store_export(store, d) for d in dialogue_ids(cfg.dialogues)}
    other = SQLiteStore(tmp_path / "other.db")
    shutil.rmtree(cfg.state_dir / "cache", ignore_errors=True)
    Syncer(cfg, other).run()
    assert {d: store_export(other, d) for d in before} == before
    other.close()


def test_second_run_does_nothing(repo):
    cfg, store, syncer = repo
    first = syncer.run()
    second = syncer.run()
    assert second.files_seen == first.files_seen
    assert (second.parsed, second.items_written, second.items_deleted) == (0, 0, 0)
    assert second.unchanged == second.files_seen and second.dialogues_written == 0


def test_mtime_only_change_rehashes_without_writing(repo):
    cfg, store, syncer = repo
    syncer.run()
    target = _responses(cfg.dialogues, dialogue_ids(cfg.dialogues)[0])[0]
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns - 10**10))
    rep = syncer.run()
    assert rep.hashed >= 1 and rep.parsed == 0 and rep.items_written == 0


def test_one_edit_rewrites_only_its_dialogue(repo, tmp_path):
    cfg, store, syncer = repo
    # a second copy of the first dialogue, so there is always another partition to protect
    first = dialogue_ids(cfg.dialogues)[0]
    shutil.copytree(cfg.dialogues / first, cfg.dialogues / "zz-copy")
    syncer.run()
    others = {d: store.load(d) for d in dialogue_ids(cfg.dialogues) if d != first}
    target = _responses(cfg.dialogues, first)[0]
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n[PERSPECTIVE P77: A brand new view]\nIt is quite distinct.\n",
                      encoding="utf-8")
    rep = syncer.run()
    assert rep.parsed == 1 and rep.dialogues == [first]
    assert rep.items_written > 0
    assert {d: store.load(d) for d in others} == others
    assert store_export(store, first) == expected_export(cfg.dialogues, first)
    assert any("A brand new view" in (h.get("label") or "")
               for h in store.search("brand new view", dialogue_id=first))


def test_deleted_response_removes_exactly_its_items(repo):
    cfg, store, syncer = repo
    did = dialogue_ids(cfg.dialogues)[0]
    syncer.run()
    victim, keeper = _responses(cfg.dialogues, did)[:2]
    rel_victim = victim.relative_to(cfg.dialogues / did).as_posix()
    rel_keeper = keeper.relative_to(cfg.dialogues / did).as_posix()
    before = store.load(did)
    assert any(it.get("file") == rel_victim for it in before.values() if it["kind"] == "block")
    keeper_blocks = {sk: it for sk, it in before.items()
                     if it["kind"] == "block" and it.get("file") == rel_keeper}
    assert keeper_blocks
    victim.unlink()
    rep = syncer.run()
    assert rep.deleted == 1 and rep.parsed == 0 and rep.dialogues == [did]
    after = store.load(did)
    assert f"file#{rel_victim}" not in after
    assert not [it for it in after.values()
                if it["kind"] in ("block", "event", "ref") and it.get("file") == rel_victim]
    assert {sk: after.get(sk) for sk in keeper_blocks} == keeper_blocks
    assert store_export(store, did) == expected_export(cfg.dialogues, did)


def test_deleted_and_renamed_dialogue_folders(repo):
    cfg, store, syncer = repo
    first = dialogue_ids(cfg.dialogues)[0]
    shutil.copytree(cfg.dialogues / first, cfg.dialogues / "zz-copy")
    syncer.run()
    kept = store.load(first)
    shutil.rmtree(cfg.dialogues / "zz-copy")
    rep = syncer.run()
    assert rep.dialogues == ["zz-copy"] and rep.items_deleted > 0
    assert store.load("zz-copy") == {} and "zz-copy" not in store.all_file_hashes()
    assert store.load(first) == kept
    (cfg.dialogues / first).rename(cfg.dialogues / "renamed")
    rep = syncer.run()
    assert sorted(rep.dialogues) == sorted([first, "renamed"])
    recording = list(cfg.dialogues.glob(f"{first}.dialogue*.md"))
    if recording:  # the folder's recording stays behind: now it is the dialogue (FORMAT.md 8)
        files = {i["path"]: i["role"] for i in store.load(first).values()
                 if i["kind"] == "file"}
        assert files == {recording[0].name: "dialogue-file"}
        assert store_export(store, first) == expected_export(cfg.dialogues, first)
    else:
        assert store.load(first) == {}
    assert store_export(store, "renamed") == expected_export(cfg.dialogues, "renamed")


def test_same_files_same_items_whatever_the_history(repo, tmp_path):
    """Edit, revert, delete and restore files across runs: the end state equals a fresh index."""
    cfg, store, syncer = repo
    did = dialogue_ids(cfg.dialogues)[0]
    syncer.run()
    a, b = _responses(cfg.dialogues, did)[:2]
    original_a, original_b = a.read_bytes(), b.read_bytes()
    a.write_text("[PERSPECTIVE P01: temporary]\nShort lived.\n", encoding="utf-8")
    b.unlink()
    syncer.run()
    b.write_bytes(original_b)
    syncer.run()
    a.write_bytes(original_a)
    syncer.run()
    fresh = SQLiteStore(tmp_path / "fresh.db")
    Syncer(cfg, fresh).run(full=True)
    for d in dialogue_ids(cfg.dialogues):
        assert store.load(d) == fresh.load(d)
    fresh.close()


def test_restricted_run_touches_only_named_dialogues(repo):
    cfg, store, syncer = repo
    first = dialogue_ids(cfg.dialogues)[0]
    shutil.copytree(cfg.dialogues / first, cfg.dialogues / "zz-copy")
    rep = syncer.run(dialogues=["zz-copy"])
    assert rep.dialogues == ["zz-copy"] and store.load(first) == {}
    rep = syncer.run(dialogues=["zz-copy"])
    assert rep.parsed == 0 and rep.items_written == 0


def test_check_reports_drift_and_writes_nothing(repo):
    cfg, store, syncer = repo
    did = dialogue_ids(cfg.dialogues)[0]
    rep = syncer.run(check=True)
    assert rep.drift and rep.items_written == 0 and store.counts()["dialogues"] == 0
    syncer.run()
    assert syncer.run(check=True).drift == []
    target = _responses(cfg.dialogues, did)[0]
    target.write_text(target.read_text(encoding="utf-8") + "\nMore text.\n", encoding="utf-8")
    before = store.load(did)
    drift = syncer.run(check=True).drift
    rel = target.relative_to(cfg.dialogues).as_posix()
    assert drift == [f"{rel}: changed since the last sync"]
    assert store.load(did) == before


def test_full_run_rewrites_nothing_when_in_step(repo):
    cfg, store, syncer = repo
    syncer.run()
    rep = syncer.run(full=True)
    assert rep.parsed == rep.files_seen and rep.items_written == 0 and rep.items_deleted == 0


def test_hash_cache_is_only_an_accelerator(repo):
    """A stale or damaged cache never hides a change the store does not have."""
    cfg, store, syncer = repo
    did = dialogue_ids(cfg.dialogues)[0]
    syncer.run()
    shards = sorted(syncer.cache_dir.glob("*.json"))
    assert shards
    summary = syncer.cache_dir / "summary"  # would skip the dialogues without their shards
    assert summary.exists()
    for shard in shards:
        shard.write_text("{not json", encoding="utf-8")
    summary.unlink()
    assert syncer.run().parsed == 0
    summary.unlink()
    for shard in shards:  # valid JSON, entries of the wrong shape: ignored, never a crash
        doc = json.loads(shard.read_text(encoding="utf-8"))
        assert doc["files"]
        doc["files"] = {rel: ([1] if i % 2 else 7) for i, rel in enumerate(doc["files"])}
        shard.write_text(json.dumps(doc), encoding="utf-8")
    rep = syncer.run()
    assert rep.parsed == 0 and rep.hashed == rep.files_seen
    # the store lost a file's record (e.g. a crash or another tool): the file is re-synced
    target = _responses(cfg.dialogues, did)[0]
    rel = target.relative_to(cfg.dialogues / did).as_posix()
    store.write(did, [], [f"file#{rel}"])
    rep = syncer.run()
    assert rep.parsed == 1
    assert store_export(store, did) == expected_export(cfg.dialogues, did)


def test_temp_files_are_ignored(repo):
    cfg, store, syncer = repo
    did = dialogue_ids(cfg.dialogues)[0]
    syncer.run()
    for name in (".#muffin.md", "muffin.md~", ".muffin.md.swp", "4913", "x.md.tmp"):
        (cfg.dialogues / did / "round-0" / name).write_text("[TENSION T99: junk]\n")
    rep = syncer.run()
    assert rep.parsed == 0 and rep.items_written == 0


def test_two_dialogue_sources_in_one_tree(samples_dir, corpus_dialogue, tmp_path):
    """The samples and the real corpus side by side, then one sample edit."""
    srcs = {p.name: p for p in samples_dir.iterdir() if p.is_dir()}
    srcs[corpus_dialogue.name] = corpus_dialogue
    cfg = make_repo(tmp_path, srcs)
    store = SQLiteStore(cfg.sqlite_path)
    Syncer(cfg, store).run()
    for did in srcs:
        assert store_export(store, did) == expected_export(cfg.dialogues, did)
    store.close()


def test_parallel_parse_gives_the_same_items(tmp_path, monkeypatch):
    """Worker processes (big runs) and the in-process path store identical items."""
    from bench.gen_corpus import generate
    from indexer import config as config_mod
    from indexer.sync import engine as sync_mod

    generate(tmp_path / ".blue" / "dialogues", dialogues=5, rounds=2, experts=4, seed=3)
    cfg = config_mod.load(root=tmp_path, env={})
    monkeypatch.setattr(sync_mod, "PARALLEL_MIN", 10)
    # Threads another test of this worker left running (servers, clients) would rightly
    # keep the engine from forking; this test is about the items, not that guard.
    monkeypatch.setattr(sync_mod.threading, "active_count", lambda: 1)
    pools = []
    real_pool = sync_mod.Syncer._pool
    monkeypatch.setattr(sync_mod.Syncer, "_pool", lambda self: pools.append(1) or real_pool(self))
    par = SQLiteStore(tmp_path / "par.db")
    ser = SQLiteStore(tmp_path / "ser.db")
    rep = Syncer(cfg, par, workers=1).run()
    assert pools == [1] and rep.parsed == rep.files_seen
    Syncer(cfg, ser, workers=0).run(full=True)
    assert pools == [1]
    ids = dialogue_ids(cfg.dialogues)
    assert sorted(rep.dialogues) == ids
    for did in ids:
        assert par.load(did) == ser.load(did)
        assert store_export(par, did) == expected_export(cfg.dialogues, did)
    par.close()
    ser.close()


def test_hash_cache_skips_racy_entries_and_survives_reload(tmp_path):
    from indexer.hashcache import RACY_NS, HashCache

    cache = HashCache(tmp_path / "hashes", tmp_path / "root")
    now = cache.started_ns
    cache.put("d", "old.md", 10, now - 2 * RACY_NS, "a" * 64)
    cache.put("d", "fresh.md", 10, now, "b" * 64)  # same mtime tick as the scan: not kept
    cache.save()
    again = HashCache(tmp_path / "hashes", tmp_path / "root")
    assert again.get("d", "old.md", 10, now - 2 * RACY_NS) == "a" * 64
    assert again.get("d", "old.md", 11, now - 2 * RACY_NS) is None
    assert again.get("d", "fresh.md", 10, now) is None
    # another dialogues root never reuses these entries
    assert HashCache(tmp_path / "hashes", tmp_path / "other").get(
        "d", "old.md", 10, now - 2 * RACY_NS) is None
    again.forget("d")
    assert HashCache(tmp_path / "hashes", tmp_path / "root").get(
        "d", "old.md", 10, now - 2 * RACY_NS) is None


def test_missing_dialogues_root_is_an_error_not_a_mass_delete(tmp_path, samples_dir):
    """A mistyped or unmounted dialogues folder must never read as "everything deleted"."""
    from indexer.config import ConfigError
    from indexer.store.sqlite import SQLiteStore
    from indexer.sync import Syncer
    from tests.support.sync import copy_tree

    cfg = copy_tree(samples_dir, tmp_path)
    store = SQLiteStore(cfg.sqlite_path)
    try:
        Syncer(cfg, store).run()
        before = store.all_file_hashes()
        assert before
        cfg.dialogues.rename(tmp_path / "elsewhere")
        with pytest.raises(ConfigError, match="dialogues folder not found"):
            Syncer(cfg, store).run()
        assert store.all_file_hashes() == before
    finally:
        store.close()


def test_store_open_tensions_agree_with_the_tensions_view(tmp_path, samples_dir):
    """One meaning of "open" everywhere: the analytics query and ``tensions --open``."""
    from indexer.store.sqlite import SQLiteStore
    from indexer.sync import Syncer
    from indexer.views import tensions
    from tests.support.sync import copy_tree

    cfg = copy_tree(samples_dir, tmp_path)
    store = SQLiteStore(cfg.sqlite_path)
    try:
        Syncer(cfg, store).run()
        closed = {"resolved", "acknowledged", "deferred", "superseded"}  # FORMAT.md 4 words
        from_store = {(t["dialogue_id"], t["key"]) for t in store.open_tensions()}
        expected, viewed = set(), set()
        for m in store.dialogues():
            did = m["dialogue_id"]
            items = store.load(did)
            viewed |= {(did, t["key"]) for t in tensions(items, open_only=True)}
            expected |= {(did, it["key"]) for it in items.values() if it["kind"] == "tension"
                         and (it["ledger_status"] or it["status"]) not in closed}
        assert from_store == viewed == expected
        assert expected  # the samples have open tensions, so the check can fail
    finally:
        store.close()
