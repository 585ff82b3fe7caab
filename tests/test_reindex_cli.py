"""``reindex``, ``list``, ``search``, ``status`` through the real console entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from indexer.store.sqlite import SQLiteStore
from tests.support.sync import (
    REPO,
    cli,
    cli_json,
    copy_tree,
    dialogue_files,
    dialogue_ids,
    expected_export,
    store_export,
)

REINDEX_KEYS = {"files_seen", "parsed", "unchanged", "hashed", "deleted", "dialogues_written",
                "items_written", "items_deleted", "diagnostics", "seconds", "dialogues", "drift",
                "conflicts", "refused", "kept", "rejected", "retries",  # these four: issue 14
                "clock"}  # issue 17


@pytest.fixture
def repo(samples_dir, tmp_path):
    cfg = copy_tree(samples_dir, tmp_path)
    return cfg


def _one_response(cfg):
    did = dialogue_ids(cfg.dialogues)[0]
    return did, sorted(p for p in (cfg.dialogues / did).glob("round-*/*.md")
                       if not p.name.endswith(".prompt.md"))[0]


def test_reindex_json_counts(repo):
    ids = dialogue_ids(repo.dialogues)
    n_files = sum(len(dialogue_files(repo.dialogues, d)) for d in ids)
    first = cli_json(repo.root, "reindex")
    assert set(first) == REINDEX_KEYS
    assert first["files_seen"] == first["parsed"] == n_files
    assert first["dialogues_written"] == len(ids) and sorted(first["dialogues"]) == ids
    assert first["items_written"] > 0 and first["items_deleted"] == 0
    assert set(first["diagnostics"]) == {"error", "warning"}
    second = cli_json(repo.root, "reindex")
    assert second["parsed"] == 0 and second["items_written"] == 0
    assert second["unchanged"] == n_files and second["dialogues"] == []
    # the index clock: one tick per dialogue written, unmoved by a run that writes nothing
    assert first["clock"] == second["clock"] == len(ids)
    assert cli_json(repo.root, "status")["clock"] == len(ids)


def test_reindex_human_output_and_full(repo):
    p = cli(repo.root, "reindex", check=True)
    assert "files seen" in p.stdout and "items written" in p.stdout
    full = cli_json(repo.root, "reindex", "--full")
    assert full["parsed"] == full["files_seen"] and full["items_written"] == 0


def test_check_gate(repo):
    never = cli(repo.root, "reindex", "--check")
    assert never.returncode == 1 and "no index yet" in never.stderr
    assert not repo.sqlite_path.exists()
    cli(repo.root, "reindex", check=True)
    ok = cli(repo.root, "reindex", "--check")
    assert ok.returncode == 0, ok.stderr
    did, target = _one_response(repo)
    target.write_text(target.read_text(encoding="utf-8") + "\nOne more line.\n",
                      encoding="utf-8")
    drift = cli(repo.root, "reindex", "--check")
    rel = target.relative_to(repo.dialogues).as_posix()
    assert drift.returncode == 1
    assert rel in drift.stdout and "differ" in drift.stderr
    as_json = cli_json(repo.root, "reindex", "--check")
    assert as_json["drift"] == [f"{rel}: changed since the last sync"]
    assert as_json["items_written"] == 0
    # --check wrote nothing: the store still holds the old content
    assert cli(repo.root, "reindex", "--check").returncode == 1
    cli(repo.root, "reindex", check=True)
    assert cli(repo.root, "reindex", "--check").returncode == 0


def test_list_and_status(repo):
    before = cli_json(repo.root, "status")
    assert before["store"]["exists"] is False and before["last_sync"] is None
    cli(repo.root, "reindex", check=True)
    listed = cli_json(repo.root, "list")
    assert [d["id"] for d in listed] == dialogue_ids(repo.dialogues)
    folders = {p.name for p in repo.dialogues.iterdir() if p.is_dir()}
    assert all(d["rounds"] >= 1 for d in listed if d["id"] in folders)
    status = cli_json(repo.root, "status")
    assert status["backend"] == "sqlite"
    assert status["store"]["location"] == str(repo.sqlite_path)
    assert status["counts"]["dialogues"] == len(listed)
    assert status["last_sync"] is not None
    assert status["daemon"] == {"running": False}
    human = cli(repo.root, "status", check=True).stdout
    assert "not running" in human and str(repo.sqlite_path) in human
    assert cli(repo.root, "list", check=True).stdout.startswith("DIALOGUE")


def test_search(repo):
    did, target = _one_response(repo)
    text = target.read_text(encoding="utf-8").rstrip("\n")
    line = text.count("\n") + 3  # after the blank line appended below
    target.write_text(text + "\n\n[PERSPECTIVE P42: Xylophonic gardens]\nWombat migration.\n",
                      encoding="utf-8")
    cli(repo.root, "reindex", check=True)
    hits = cli_json(repo.root, "search", "wombat migration")
    rel = target.relative_to(repo.dialogues / did).as_posix()
    assert [(h["dialogue"], h["file"], h["line"], h["kind"], h["label"]) for h in hits] == [
        (did, rel, line, "perspective", "Xylophonic gardens")]
    assert set(hits[0]) == {"dialogue", "key", "kind", "id", "expert", "round", "file", "line",
                            "label", "body"}
    assert cli_json(repo.root, "search", "xylophonic", "--kind", "tension") == []
    assert cli_json(repo.root, "search", "xylophonic", "--dialogue", "nope") == []
    assert len(cli_json(repo.root, "search", "xylophonic", "--dialogue", did)) == 1
    assert "Xylophonic gardens" in cli(repo.root, "search", "xylophonic", check=True).stdout


def test_store_errors_exit_3(repo):
    assert cli(repo.root, "list").returncode == 3  # not built yet
    repo.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    repo.sqlite_path.write_bytes(b"garbage" * 1000)
    for args in (("reindex",), ("list",), ("search", "x"), ("status",)):
        p = cli(repo.root, *args)
        assert p.returncode == 3, (args, p.stderr)
        assert str(repo.sqlite_path) in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1


def test_config_error_exit_2(repo):
    (repo.root / ".blue" / "config.yaml").write_text("storage: [not, a, mapping]\n")
    p = cli(repo.root, "reindex")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_two_reindexes_at_once(repo):
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "indexer.cli", "--root", str(repo.root), "reindex", "--json"]
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err
    store = SQLiteStore(repo.sqlite_path)
    for did in dialogue_ids(repo.dialogues):
        assert store_export(store, did) == expected_export(repo.dialogues, did)
    store.close()
    assert cli_json(repo.root, "reindex")["items_written"] == 0


def test_views_read_the_store_once_indexed(repo):
    """show/tensions/export read what was indexed (the store), not the files: with
    --no-sync, as it is; by default (issue 17) after syncing the dialogue they read."""
    did, target = _one_response(repo)
    cli(repo.root, "reindex", check=True)
    indexed = cli(repo.root, "export", did, check=True).stdout
    store = SQLiteStore(repo.sqlite_path)
    assert indexed == store_export(store, did)
    store.close()
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n[PERSPECTIVE P55: Not yet indexed]\nPending.\n", encoding="utf-8")
    assert cli(repo.root, "export", did, "--no-sync", check=True).stdout == indexed
    after = cli(repo.root, "export", did, check=True).stdout
    assert "Not yet indexed" in after
    assert after == expected_export(repo.dialogues, did)
    store = SQLiteStore(repo.sqlite_path)  # the query synced the store itself
    assert store_export(store, did) == after
    store.close()


def test_a_sync_waits_for_another_on_the_same_dialogue(repo):
    """Load -> diff -> write of one dialogue is exclusive between processes on a machine, so
    a diff is never computed against a partition another sync is rewriting."""
    import fcntl
    import time

    did, target = _one_response(repo)
    cli(repo.root, "reindex", check=True)
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n[PERSPECTIVE P66: Written while locked]\nWaiting.\n", encoding="utf-8")
    lock_file = repo.state_dir / "cache" / "locks" / f"{did}.lock"
    assert lock_file.exists()
    fd = os.open(lock_file, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another sync is in the middle of this dialogue
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(repo.root),
                             "reindex", "--json"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert proc.poll() is None  # still waiting for the dialogue
        store = SQLiteStore(repo.sqlite_path)
        assert "Written while locked" not in store_export(store, did)
        store.close()
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    store = SQLiteStore(repo.sqlite_path)
    assert store_export(store, did) == expected_export(repo.dialogues, did)
    store.close()
