"""``reindex --check`` verifies content, ``--repair`` fixes it: the corruption suite.

Each case damages a real SQLite index the way it happens in practice (garbage written into
the file, rows deleted, an item edited by hand, a grammar edited after the index was
built); ``--check`` must find it (exit 1, naming what differs) and ``--repair`` must fix it,
after which the store equals parse + assemble of the files (computed independently)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from .support.sync import cli, cli_json, copy_tree, dialogue_ids, expected_items
from .support.watch import REPO


@pytest.fixture
def repo(samples_dir: Path, tmp_path: Path):
    cfg = copy_tree(samples_dir, tmp_path / "repo")
    assert cli(cfg.root, "reindex").returncode == 0
    assert cli(cfg.root, "reindex", "--check").returncode == 0
    return cfg


def _state(cfg) -> dict[str, dict]:
    from indexer.store.sqlite import SQLiteStore

    store = SQLiteStore(cfg.sqlite_path, create=False)
    try:
        return {d: store.load(d) for d in sorted(store.all_file_hashes())}
    finally:
        store.close()


def _expected(cfg) -> dict[str, dict]:
    return {d: expected_items(cfg.dialogues, d) for d in dialogue_ids(cfg.dialogues)}


def _db(cfg) -> sqlite3.Connection:
    return sqlite3.connect(cfg.sqlite_path)


def test_garbage_in_the_file(repo):
    size = repo.sqlite_path.stat().st_size
    page = 4096
    assert size > 8 * page
    with open(repo.sqlite_path, "r+b") as f:  # garbage over a run of pages mid-file
        for n in range(2, size // page // 2):
            f.seek(n * page)
            f.write(bytes((n * 37 + i * 11) % 251 for i in range(page)))
    check = cli(repo.root, "reindex", "--check")
    assert check.returncode == 1
    assert "damaged" in check.stderr and str(repo.sqlite_path) in check.stdout
    fixed = cli(repo.root, "reindex", "--repair")
    assert fixed.returncode == 0, fixed.stderr
    assert "damaged" in fixed.stderr and "moved to" in fixed.stderr
    assert list(repo.sqlite_path.parent.glob("blue.db.damaged-*"))
    assert cli(repo.root, "reindex", "--check").returncode == 0
    assert _state(repo) == _expected(repo)


def test_garbage_over_the_header(repo):
    with open(repo.sqlite_path, "r+b") as f:
        f.write(b"this is not an index" * 10)
    check = cli(repo.root, "reindex", "--check")
    assert check.returncode == 1 and "damaged" in check.stderr
    assert cli(repo.root, "reindex", "--repair").returncode == 0
    assert _state(repo) == _expected(repo)


def test_rows_deleted(repo):
    did = dialogue_ids(repo.dialogues)[0]
    with _db(repo) as db:
        gone = [r[0] for r in db.execute(
            "SELECT sk FROM blocks WHERE dialogue_id = ? ORDER BY sk LIMIT 3", (did,))]
        gone += [r[0] for r in db.execute(
            "SELECT sk FROM tensions WHERE dialogue_id = ? ORDER BY sk LIMIT 1", (did,))]
        db.execute(f"DELETE FROM blocks WHERE dialogue_id = ? AND sk IN ({','.join('?' * 3)})",
                   (did, *gone[:3]))
        db.execute("DELETE FROM tensions WHERE dialogue_id = ? AND sk = ?", (did, gone[3]))
    db.close()
    assert len(gone) == 4
    rep = cli_json(repo.root, "reindex", "--check")
    assert sorted(rep["drift"]) == sorted(f"{did}: {sk}: missing from the store" for sk in gone)
    assert rep["items_written"] == 0
    plain = cli(repo.root, "reindex", "--check")
    assert plain.returncode == 1 and all(sk in plain.stdout for sk in gone)
    fixed = cli_json(repo.root, "reindex", "--repair")
    assert fixed["dialogues"] == [did] and fixed["items_written"] == 4
    assert fixed["items_deleted"] == 0
    assert cli(repo.root, "reindex", "--check").returncode == 0
    assert _state(repo) == _expected(repo)


def test_item_edited_by_hand(repo):
    did = dialogue_ids(repo.dialogues)[-1]
    with _db(repo) as db:
        sk = db.execute("SELECT sk FROM blocks WHERE dialogue_id = ? AND label != '' "
                        "ORDER BY sk LIMIT 1", (did,)).fetchone()[0]
        db.execute("UPDATE blocks SET label = 'tampered by hand' WHERE dialogue_id = ? AND "
                   "sk = ?", (did, sk))
        # an item that comes from no file at all
        db.execute("INSERT INTO experts (dialogue_id, sk, kind, slug) VALUES (?, ?, ?, ?)",
                   (did, "expert#intruder", "expert", "intruder"))
    db.close()
    rep = cli_json(repo.root, "reindex", "--check")
    assert rep["drift"] == [f"{did}: {sk}: differs (label)",
                            f"{did}: expert#intruder: in the store, not in the files"]
    fixed = cli_json(repo.root, "reindex", "--repair")
    assert fixed["dialogues"] == [did]
    assert (fixed["items_written"], fixed["items_deleted"]) == (1, 1)
    assert cli(repo.root, "reindex", "--check").returncode == 0
    assert _state(repo) == _expected(repo)


def test_grammar_edit(repo, tmp_path):
    grammars = tmp_path / "grammars"
    shutil.copytree(REPO / "grammars", grammars)
    kw = grammars / "keywords.yaml"
    text = kw.read_text(encoding="utf-8")
    assert "    kind: perspective\n" in text
    kw.write_text(text.replace("    kind: perspective\n", "    kind: viewpoint\n", 1),
                  encoding="utf-8")
    env = {"BLUE_INDEX_GRAMMARS": str(grammars)}
    check = cli(repo.root, "reindex", "--check", "--json", env=env)
    assert check.returncode == 1
    drift = json.loads(check.stdout)["drift"]
    for did in dialogue_ids(repo.dialogues):
        assert f"{did}: indexed with another grammar or parser version " \
               "(grammars/*.yaml changed)" in drift
    assert any("#viewpoint#" in line and line.endswith("missing from the store")
               for line in drift)
    # a plain reindex notices the grammar change too (no file changed) and re-parses
    plain = json.loads(cli(repo.root, "reindex", "--json", env=env).stdout)
    assert plain["parsed"] == plain["files_seen"] and plain["items_written"] > 0
    assert cli(repo.root, "reindex", "--check", env=env).returncode == 0
    kinds = {it.get("block_kind") for items in _state(repo).values() for it in items.values()}
    assert "viewpoint" in kinds
    # back to the shipped grammar: --repair rewrites every dialogue, then all is clean
    fixed = cli_json(repo.root, "reindex", "--repair")
    assert fixed["dialogues"] == dialogue_ids(repo.dialogues)
    assert cli(repo.root, "reindex", "--check").returncode == 0
    assert _state(repo) == _expected(repo)


def test_check_matches_after_ordinary_use(repo):
    """No false alarms: edits synced by plain reindex leave --check clean."""
    did = dialogue_ids(repo.dialogues)[0]
    f = sorted((repo.dialogues / did).glob("round-1/*.md"))[0]
    f.write_text(f.read_text(encoding="utf-8") + "\n[PERSPECTIVE P77: late addition]\nx\n",
                 encoding="utf-8")
    assert cli(repo.root, "reindex", "--check").returncode == 1
    assert cli(repo.root, "reindex").returncode == 0
    assert cli(repo.root, "reindex", "--check").returncode == 0
