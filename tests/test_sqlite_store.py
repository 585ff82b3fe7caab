"""What only the SQLite backend promises: plain browsable tables, WAL, migrations, clear
errors for unusable files, persistence across connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from indexer.items import SCHEMA, TABLES
from indexer.store.base import StoreUnavailable
from indexer.store.sqlite import MIGRATIONS, SCHEMA_VERSION, SQLiteStore
from tests.support.stores import make_item, synthetic_dialogue


def test_tables_are_plain_and_readable(tmp_path):
    path = tmp_path / "blue.db"
    store = SQLiteStore(path)
    items = synthetic_dialogue("d1", words="hello")
    store.write("d1", list(items.values()), [])
    store.close()
    db = sqlite_utils.Database(path)  # what a Datasette / sqlite-utils user sees
    assert set(TABLES.values()) <= set(db.table_names())
    for kind, table in TABLES.items():
        cols = db[table].columns_dict
        assert {"dialogue_id", *SCHEMA[kind]} <= set(cols)
        assert db[table].pks == ["dialogue_id", "sk"]
    assert db["experts"].columns_dict["relevance"] is float
    assert db["blocks"].columns_dict["line"] is int
    row = db.execute("select label, targets, inline from blocks where sk = ?",
                     ["block#00#muffin#perspective#P01"]).fetchone()
    assert row[0] == "Label 1 d1" and row[1] == '[{"raw": "T01", "id": "T01"}]' and row[2] == 0
    assert db["blocks"].detect_fts() == "blocks_fts"
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert db.execute("pragma user_version").fetchone()[0] == SCHEMA_VERSION


def test_persists_across_connections(tmp_path):
    items = synthetic_dialogue("d1")
    s = SQLiteStore(tmp_path / "blue.db")
    s.write("d1", list(items.values()), [])
    s.close()
    s2 = SQLiteStore(tmp_path / "blue.db", create=False)
    assert s2.load("d1") == items
    assert s2.describe()["location"] == str(tmp_path / "blue.db")
    s2.close()


def test_write_is_one_transaction(tmp_path):
    """A put that fails midway leaves the partition as it was (no half-written dialogue)."""
    s = SQLiteStore(tmp_path / "blue.db")
    items = synthetic_dialogue("d1")
    s.write("d1", list(items.values()), [])
    bad = [make_item("block", "block#x", label="new"), {"sk": "zzz", "kind": "nonsense"}]
    with pytest.raises(ValueError):
        s.write("d1", bad, ["meta"])
    with pytest.raises(ValueError):
        s.write("d1", [make_item("tension", "tension#t", line="twelve")], ["meta"])
    assert s.load("d1") == items
    # a failure inside SQLite after deletes and some upserts ran rolls all of it back
    s.db.execute("CREATE TRIGGER no_verdicts BEFORE INSERT ON verdicts "
                 "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    puts = [make_item("block", "block#new", label="new"),
            make_item("verdict", "verdict", title="new verdict")]
    s.write("d1", [], ["verdict"])
    del items["verdict"]
    with pytest.raises(sqlite3.IntegrityError):
        s.write("d1", puts, ["meta", "file#verdict.md"])
    assert s.load("d1") == items


def test_missing_db_without_create(tmp_path):
    with pytest.raises(StoreUnavailable, match="reindex"):
        SQLiteStore(tmp_path / "none.db", create=False)


def test_creates_parent_folders(tmp_path):
    s = SQLiteStore(tmp_path / "a" / "b" / "blue.db")
    assert (tmp_path / "a" / "b" / "blue.db").exists()
    s.close()


def test_corrupt_file_is_unavailable(tmp_path):
    path = tmp_path / "blue.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreUnavailable) as e:
        SQLiteStore(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg and "reindex" in msg


def test_unusable_location_is_unavailable(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreUnavailable) as e:
        SQLiteStore(tmp_path / "afile" / "sub" / "blue.db")
    assert "afile" in str(e.value) and "\n" not in str(e.value)


def test_path_is_a_directory(tmp_path):
    (tmp_path / "blue.db").mkdir()
    with pytest.raises(StoreUnavailable) as e:
        SQLiteStore(tmp_path / "blue.db")
    assert "\n" not in str(e.value)


def test_migrates_an_older_database(tmp_path):
    """A v1 database (tables, no search index) with rows in it: opening migrates it and
    the old rows become searchable."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db["blocks"].insert({"dialogue_id": "d1", "sk": "block#00#muffin#perspective#P01",
                         "kind": "block", "label": "Old label", "body": "archaic pelican"})
    db.conn.commit()
    db.close()
    s = SQLiteStore(path)
    assert s.schema_version == SCHEMA_VERSION
    hits = s.search("pelican")
    assert [h["sk"] for h in hits] == ["block#00#muffin#perspective#P01"]
    s.close()


def test_adds_columns_the_schema_gained(tmp_path):
    """A table made before a field existed gets the column on open (older v0 layout)."""
    path = tmp_path / "v0.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE verdicts (dialogue_id TEXT NOT NULL, sk TEXT NOT NULL, "
                 "kind TEXT, text TEXT, PRIMARY KEY (dialogue_id, sk))")
    conn.execute("INSERT INTO verdicts VALUES ('d1', 'verdict', 'verdict', 'old text')")
    conn.commit()
    conn.close()
    s = SQLiteStore(path)
    item = make_item("verdict", "verdict", text="new text")
    s.write("d1", [item], [])
    assert s.load("d1") == {"verdict": item}
    s.close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreUnavailable, match="newer"):
        SQLiteStore(path)


def test_two_connections_write_at_once(tmp_path):
    """WAL + busy timeout: a second writer waits instead of failing."""
    path = tmp_path / "blue.db"
    a, b = SQLiteStore(path), SQLiteStore(path)
    holder = sqlite3.connect(path, timeout=30)
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")  # another process mid-sync
    import threading

    done = []
    t = threading.Thread(target=lambda: done.append(
        a.write("d1", list(synthetic_dialogue("d1").values()), [])))
    t.start()
    t.join(0.3)
    assert not done  # waiting on the lock, not failed
    assert b.load("d1") == {}  # readers are not blocked by a writer in WAL mode
    holder.execute("COMMIT")
    t.join(30)
    assert done and b.load("d1") == synthetic_dialogue("d1")


def test_module_does_not_import_markdown(tmp_path):
    import subprocess
    import sys

    code = ("import sys, indexer.store.sqlite; "
            "print(any(m.startswith(('markdown_it', 'boto3', 'rich')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parent.parent, check=True)
    assert out.stdout.strip() == "False"


def _fts_consistent(store: SQLiteStore) -> None:
    """FTS5's own check of an external-content index against the blocks table."""
    conn = sqlite3.connect(store.path)
    conn.execute("INSERT INTO blocks_fts(blocks_fts, rank) VALUES ('integrity-check', 1)")
    conn.close()


def test_search_index_follows_writes_without_triggers(tmp_path):
    """write/delete_dialogue keep the FTS index in step: new text found, replaced and deleted
    text gone, untouched blocks still found, other dialogues unaffected."""
    store = SQLiteStore(tmp_path / "blue.db")
    assert store.db.execute("select count(*) from sqlite_master where type = 'trigger' "
                            "and tbl_name = 'blocks'"
                            ).fetchone()[0] == 0
    sk = "block#00#muffin#perspective#P0"
    blocks = {i: make_item("block", f"{sk}{i}", label=f"label {i}", body=f"walrus{i} kelp")
              for i in range(1, 4)}
    store.write("d1", list(blocks.values()), [])
    store.write("d2", [make_item("block", f"{sk}1", label="x", body="kelp")], [])
    _fts_consistent(store)
    assert len(store.search("kelp")) == 4
    changed = dict(blocks[1], body="narwhal")
    moved = dict(blocks[3], line=99)  # same text, other fields
    store.write("d1", [changed, moved], [f"{sk}2"])
    _fts_consistent(store)
    assert store.search("walrus1") == [] and store.search("walrus2") == []
    assert [h["sk"] for h in store.search("narwhal")] == [f"{sk}1"]
    assert [h["line"] for h in store.search("walrus3")] == [99]
    store.delete_dialogue("d1")
    _fts_consistent(store)
    assert [(h["dialogue_id"], h["sk"]) for h in store.search("kelp")] == [("d2", f"{sk}1")]
    store.close()


def test_v3_store_gains_clocks_and_markers(tmp_path):
    """An index written before issue 17 (schema v3: no clock, no marker) is migrated in
    place: each dialogue gets a distinct clock, and a marker computed from its file rows."""
    from indexer.store.base import files_marker
    from tests.support.stores import synthetic_dialogue

    path = tmp_path / "blue.db"
    store = SQLiteStore(path)
    for did in ("a", "b"):
        store.write(did, list(synthetic_dialogue(did).values()), [])
    store.close()
    conn = sqlite3.connect(path)
    for name in ("files_marker_ai", "files_marker_ad", "files_marker_au"):
        conn.execute(f"DROP TRIGGER [{name}]")
    conn.execute("DROP INDEX revisions_clock")
    conn.execute("ALTER TABLE revisions DROP COLUMN clock")
    conn.execute("ALTER TABLE revisions DROP COLUMN marker")
    conn.execute("UPDATE files SET sha256 = 'f' || dialogue_id WHERE path = 'verdict.md'")
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    store = SQLiteStore(path)
    assert store.schema_version == 4
    clocks = [store.clock("a"), store.clock("b")]
    assert min(clocks) > 0 and len(set(clocks)) == 2 and store.clock() == max(clocks)
    assert store.markers() == {d: files_marker(store.file_hashes(d)) for d in ("a", "b")}
    assert store.markers()["a"] != store.markers()["b"]
    store.write("a", [], ["verdict"])
    assert store.clock("a") == store.clock() > max(clocks)
    store.close()
