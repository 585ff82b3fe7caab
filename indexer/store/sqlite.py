"""The embedded backend: one SQLite file through sqlite-utils.

One plain table per item kind (``items.TABLES``), columns straight from ``items.SCHEMA``
(JSON fields as JSON text), primary key ``(dialogue_id, sk)``, so ``sqlite3``,
``sqlite-utils`` and Datasette users can browse the index as is. WAL and a 30 s busy
timeout let the daemon, a reindex and the hook run at once; every ``write`` is one
``BEGIN IMMEDIATE`` transaction, so readers see a dialogue before or after a sync, never
half-way. FTS5 over ``blocks.label``/``blocks.body`` (an external-content index) serves
``search``; ``write`` keeps it in step itself, set-based and only for blocks whose text
changed: per-row triggers (schema v2) cost more than all the other table writes of a
10,000-file reindex together. Rows written to ``blocks`` by anything but ``write`` are
therefore not searchable until the next ``rebuild`` (the index is always rebuildable).

sqlite-utils creates and migrates the tables and the FTS index; the writes themselves are one
prepared ``INSERT ... ON CONFLICT (dialogue_id, sk) DO UPDATE`` per table run through
``executemany``, because sqlite-utils' ``upsert_all`` spent most of a 10,000-file reindex in
per-value Python (column detection, jsonify) for rows whose shape is already fixed by SCHEMA.

Two bookkeeping columns keep ``load`` exact: ``_absent`` lists SCHEMA fields the written
item did not have (so they do not come back as None) and ``_extra`` holds keys outside
SCHEMA. Both are NULL for ordinary items.

Revisions: ``revisions(dialogue_id, rev, provenance, clock, marker)`` counts each
dialogue's committed writes (the shared protocol of ``base.Revision``): a ``write`` given the
revision its diff was computed against fails with Conflict inside its transaction if another
writer got in first, and ``load`` reads every table in one read transaction (one snapshot).
``clock`` is the store's index clock at the dialogue's last write (the store's clock is the
largest, so each write takes max + 1 inside its transaction: strictly increasing, never
reused, since rows are never deleted). ``marker`` is ``base.files_marker`` of the
dialogue's file rows, set by every write; triggers on ``files`` clear it when rows change
any other way (sqlite3 by hand), so a sync then lists that dialogue's hashes again.

A file (or folder) this process may not write is opened read-only (``read_only``): reads
work, every write raises ``ReadOnlyStore`` before touching anything.

No foreign key from each table to ``dialogues``: the store protocol allows a partition
without a ``meta`` item (and the sync writes a diff in any order), so such a constraint
would not be honest; ``delete_dialogue`` deletes from every table instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import sqlite_utils

from ..items import SCHEMA, TABLES, Item, Items
from ..localstate import make_file_dir
from .base import (
    EMPTY_MARKER,
    Conflict,
    ReadOnlyStore,
    Revision,
    StoreUnavailable,
    chunks,
    files_marker,
)
from .fts import TOKENIZER, match_query

SCHEMA_VERSION = 4
BUSY_TIMEOUT_S = 30.0  # default of storage.sqlite.busy_timeout
ATTEMPT_MS = 250  # one try at the write lock; between tries we may say who holds it
NOTICE_AFTER_S = 0.5  # a wait this long is announced (who holds the store, how long we wait)
_SQL_TYPES: dict[str, type] = {"str": str, "int": int, "float": float, "bool": int, "json": str}
_BOOKKEEPING = ("_absent", "_extra")
# sk prefix -> kind (for deletes, which only carry the sort key)
_SK_KINDS = (
    ("file#", "file"), ("expert#", "expert"), ("round#", "round"), ("block#", "block"),
    ("tension#", "tension"), ("event#", "event"), ("ref#", "ref"), ("diag#", "diagnostic"),
)
_SK_EXACT = {"meta": "dialogue", "verdict": "verdict", "datakey": "datakey"}
# Secondary indexes for the analytics queries and common filters.
_INDEXES: dict[str, list[list[str]]] = {
    "dialogues": [["status"]],
    "tensions": [["status"], ["expert"], ["open"]],
    "blocks": [["block_kind"], ["expert"], ["file"]],
    "refs": [["target"], ["type"]],
    "events": [["tension"]],
    "diagnostics": [["severity"], ["file"]],
    "files": [["role"]],
}


def kind_of_sk(sk: str) -> str | None:
    """The item kind a sort key belongs to (None if the key follows no known pattern)."""
    if sk in _SK_EXACT:
        return _SK_EXACT[sk]
    for prefix, kind in _SK_KINDS:
        if sk.startswith(prefix):
            return kind
    return None


# --- migrations: MIGRATIONS[i] takes a database from version i to i + 1 --------------------


def _m1_tables(db: sqlite_utils.Database) -> None:
    """Version 1: one table per kind with SCHEMA columns, keyed by (dialogue_id, sk)."""
    _ensure_tables(db)


def _m2_search(db: sqlite_utils.Database) -> None:
    """Version 2: analytics indexes and FTS5 over block labels and bodies (existing rows too)."""
    for table, indexes in _INDEXES.items():
        for cols in indexes:
            db.table(table).create_index(cols, if_not_exists=True)
    blocks = db.table("blocks")
    if not blocks.detect_fts():
        blocks.enable_fts(["label", "body"], fts_version="FTS5", create_triggers=True,
                          tokenize=TOKENIZER)
        db.execute("INSERT INTO [blocks_fts](blocks_fts) VALUES ('rebuild')")


def _m3_fts_by_write(db: sqlite_utils.Database) -> None:
    """Version 3: ``write`` maintains the FTS index (set-based) instead of per-row triggers.
    The index is in step when this runs (the triggers kept it so until now)."""
    for name in ("blocks_ai", "blocks_ad", "blocks_au"):
        db.execute(f"DROP TRIGGER IF EXISTS [{name}]")


_MARKER_TRIGGERS = {  # any change to file rows outside ``write`` makes the marker unknown
    "files_marker_ai": "AFTER INSERT ON files BEGIN "
    "INSERT OR IGNORE INTO revisions (dialogue_id, rev, clock) VALUES (new.dialogue_id, 0, 0); "
    "UPDATE revisions SET marker = NULL WHERE dialogue_id = new.dialogue_id; END",
    "files_marker_ad": "AFTER DELETE ON files BEGIN "
    "UPDATE revisions SET marker = NULL WHERE dialogue_id = old.dialogue_id; END",
    "files_marker_au": "AFTER UPDATE OF dialogue_id, path, sha256 ON files BEGIN "
    "UPDATE revisions SET marker = NULL WHERE dialogue_id IN (old.dialogue_id, "
    "new.dialogue_id); END",
}


def _m4_clock_and_markers(db: sqlite_utils.Database) -> None:
    """Version 4: the index clock and the per-dialogue file marker (``revisions``). Existing
    dialogues get clocks in the order they were first written and markers from their files."""
    conn = db.conn
    have = {r[1] for r in conn.execute("PRAGMA table_info(revisions)")}
    if "clock" not in have:
        conn.execute("ALTER TABLE revisions ADD COLUMN clock INTEGER NOT NULL DEFAULT 0")
    if "marker" not in have:
        conn.execute("ALTER TABLE revisions ADD COLUMN marker TEXT")
    conn.execute("CREATE INDEX IF NOT EXISTS revisions_clock ON revisions (clock)")
    for name, body in _MARKER_TRIGGERS.items():
        conn.execute(f"CREATE TRIGGER IF NOT EXISTS [{name}] {body}")
    hashes: dict[str, dict[str, str]] = defaultdict(dict)
    for did, path, sha in conn.execute("SELECT dialogue_id, path, sha256 FROM files"):
        hashes[did][path] = sha
    conn.executemany("INSERT OR IGNORE INTO revisions (dialogue_id, rev) VALUES (?, 0)",
                     [(d,) for d in hashes])
    conn.execute("UPDATE revisions SET clock = rowid WHERE clock = 0")
    conn.executemany("UPDATE revisions SET marker = ? WHERE dialogue_id = ?",
                     [(files_marker(hashes.get(d, {})), d) for (d,) in
                      conn.execute("SELECT dialogue_id FROM revisions").fetchall()])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_tables, _m2_search, _m3_fts_by_write, _m4_clock_and_markers]
_FTS_DELETE = ("INSERT INTO [blocks_fts] ([blocks_fts], rowid, [label], [body]) "
               "VALUES ('delete', ?, ?, ?)")


def _ensure_tables(db: sqlite_utils.Database) -> None:
    """Create missing tables and add columns SCHEMA gained since the table was made."""
    existing = set(db.table_names())
    if "revisions" not in existing:  # not an item kind: no row per item, one per dialogue
        db.execute("CREATE TABLE IF NOT EXISTS revisions (dialogue_id TEXT PRIMARY KEY, "
                   "rev INTEGER NOT NULL, provenance TEXT, clock INTEGER NOT NULL DEFAULT 0, "
                   "marker TEXT)")
    for kind, table in TABLES.items():
        cols: dict[str, type] = {"dialogue_id": str}
        cols.update({f: _SQL_TYPES[t] for f, t in SCHEMA[kind].items()})
        cols.update({c: str for c in _BOOKKEEPING})
        if table not in existing:
            db.table(table).create(cols, pk=("dialogue_id", "sk"),
                                   not_null={"dialogue_id", "sk"})
            continue
        have = db.table(table).columns_dict
        for col, typ in cols.items():
            if col not in have:
                db.table(table).add_column(col, typ)


# --- row <-> item ---------------------------------------------------------------------------


_STR, _INT, _FLOAT, _BOOL, _JSON = range(5)
_encode = json.JSONEncoder(ensure_ascii=False).encode


class _Codec:
    """Row <-> item for one kind, with the column order fixed once (hot path of every sync)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.table = TABLES[kind]
        self.fields = list(SCHEMA[kind])
        self.field_set = frozenset(self.fields)
        codes = {"str": _STR, "int": _INT, "float": _FLOAT, "bool": _BOOL, "json": _JSON}
        self.plan = [(f, codes[t]) for f, t in SCHEMA[kind].items()]
        self.json = [f for f in self.fields if SCHEMA[kind][f] == "json"]
        self.bool = [f for f in self.fields if SCHEMA[kind][f] == "bool"]
        self.columns = ["dialogue_id", *self.fields, *_BOOKKEEPING]
        cols = ", ".join(f"[{c}]" for c in self.columns)
        updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in self.columns
                            if c not in ("dialogue_id", "sk"))
        self.upsert_sql = (
            f"INSERT INTO [{self.table}] ({cols}) VALUES ({', '.join('?' * len(self.columns))}) "
            f"ON CONFLICT (dialogue_id, sk) DO UPDATE SET {updates}")

    def row(self, dialogue_id: str, item: Item) -> list[Any]:
        """Column values in ``self.columns`` order; SCHEMA types are checked where SQLite's
        type affinity would otherwise change a value (text in INTEGER columns and back)."""
        out: list[Any] = [dialogue_id]
        get = item.get
        for f, code in self.plan:
            v = get(f)
            if v is not None:
                if code == _JSON:  # most are empty lists (block mentions/targets)
                    v = _encode(v) if v or v.__class__ is not list else "[]"
                elif code == _BOOL:
                    v = 1 if v else 0
                elif code == _STR:
                    if not isinstance(v, str):
                        raise ValueError(f"item {get('sk')!r}: field {f!r} must be text")
                elif code == _INT and not isinstance(v, int):
                    raise ValueError(f"item {get('sk')!r}: field {f!r} must be an integer")
            out.append(v)
        if item.keys() == self.field_set:
            out += (None, None)
        else:
            absent = [f for f in self.fields if f not in item]
            extra = {k: v for k, v in item.items() if k not in self.field_set}
            out.append(_encode(absent) if absent else None)
            out.append(_encode(extra) if extra else None)
        return out

    def item(self, names: list[str], values: tuple[Any, ...] | sqlite3.Row) -> Item:
        """``names`` are SCHEMA fields present in the table, then the bookkeeping columns."""
        n = len(names) - 2
        item: Item = dict(zip(names[:n], values[:n], strict=True))
        for f in self.json:
            v = item.get(f)
            if v is not None:
                item[f] = json.loads(v)
        for f in self.bool:
            v = item.get(f)
            if v is not None:
                item[f] = bool(v)
        absent, extra = values[n], values[n + 1]
        if absent:
            for f in json.loads(absent):
                item.pop(f, None)
        if extra:
            item.update(json.loads(extra))
        return item


CODECS: dict[str, _Codec] = {kind: _Codec(kind) for kind in SCHEMA}


def _to_row(dialogue_id: str, item: Item) -> tuple[str, list[Any]]:
    kind = item.get("kind")
    if kind not in CODECS:
        raise ValueError(f"item {item.get('sk')!r}: unknown kind {kind!r}")
    return kind, CODECS[kind].row(dialogue_id, item)


def _columns(db: sqlite_utils.Database, kind: str) -> list[str]:
    have = set(db[TABLES[kind]].columns_dict)
    return [f for f in SCHEMA[kind] if f in have] + list(_BOOKKEEPING)


def _writable(path: Path) -> bool:
    """Whether this process may write the database (and create its -wal/-shm files)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _stderr(text: str) -> None:
    import sys

    print(text, file=sys.stderr, flush=True)


def lock_holders(path: Path) -> list[int]:
    """Pids of the other processes holding a POSIX write lock on the database file or its
    WAL shared-memory file (SQLite's write lock), from /proc/locks; [] where unknown."""
    keys = set()
    for p in (path, Path(f"{path}-shm"), Path(f"{path}-wal")):
        with contextlib.suppress(OSError):
            st = os.stat(p)
            keys.add((os.major(st.st_dev), os.minor(st.st_dev), st.st_ino))
    pids = set()
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                if "->" in parts or len(parts) < 6 or parts[3] != "WRITE":
                    continue  # "->": a waiter, not a holder
                with contextlib.suppress(ValueError):
                    maj, mi, ino = parts[5].split(":")
                    if (int(maj, 16), int(mi, 16), int(ino)) in keys:
                        pids.add(int(parts[4]))
    except OSError:
        return []
    pids.discard(os.getpid())
    return sorted(pids)


def describe_holders(pids: list[int], daemon: int | None) -> str:
    """Lock holders in words: the watch daemon by its pid, others by pid and command."""
    if not pids:
        return "another process"
    return ", ".join(f"the watch daemon (pid {p})" if p == daemon else
                     f"pid {p} ({_cmdline(p)})" for p in pids)


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    text = " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())
    return text if len(text) <= 80 else text[:77] + "..."


def verify_file(path: Path) -> list[str]:
    """What is wrong with the index file (``PRAGMA quick_check``, and whether it opens as a
    database at all): one line per problem, [] when it is sound or absent."""
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(20)")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return [f"{path}: {e}"]
    return [] if rows == ["ok"] else [f"{path}: PRAGMA quick_check: {r}" for r in rows]


def quarantine(path: Path) -> Path:
    """Move a damaged index file (and its WAL and shared-memory files) aside, so that a new
    one is built from the files; returns where the database file went."""
    import time

    dest = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            os.replace(src, Path(f"{dest}{suffix}"))
    return dest


class SQLiteStore:
    """DialogueStore + AnalyticsStore over one SQLite file (see module docstring)."""

    shared = False  # one machine: the provenance rules of shared stores do not apply

    def __init__(self, path: Path | str, create: bool = True,
                 busy_timeout: float = BUSY_TIMEOUT_S,
                 daemon_pid: Callable[[], int | None] | None = None,
                 notice: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self.daemon_pid = daemon_pid
        self.notice = notice or _stderr
        self._lock = threading.RLock()
        self.read_only = self.path.exists() and not _writable(self.path)
        if self.read_only:
            self._open_read_only()
            return
        if not self.path.exists():
            if not create:
                raise StoreUnavailable(
                    f"{self.path}: no index database; run 'blue-index reindex' to build it")
            try:
                make_file_dir(self.path)  # and .blue/.gitignore (localstate)
            except OSError as e:
                raise StoreUnavailable(
                    f"{self.path}: cannot create the index folder ({e.strerror}); "
                    "check the path and permissions") from None
        try:
            conn = sqlite3.connect(str(self.path), timeout=busy_timeout,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            raise self._unavailable(e) from None
        self.db = sqlite_utils.Database(conn)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit is atomic and never corrupts the file; a power cut
            # may lose the last commits, which the next sync redoes (the store's file items
            # are the record of what is synced, and the index is rebuildable from the files).
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
            self._cols = {kind: _columns(self.db, kind) for kind in SCHEMA}
            self._revcols = {"clock", "marker"}
        except sqlite3.Error as e:
            conn.close()
            raise self._unavailable(e) from None

    def _open_read_only(self) -> None:
        """A store this process may not write: read it as it is (no WAL switch, no
        migration). ``immutable`` when even SQLite's shared-memory file cannot be made (a
        read-only folder): then nobody here can write it either."""
        uri = "file:" + urllib.parse.quote(str(self.path.resolve()))
        conn = None
        for mode in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(uri + mode, uri=True, timeout=self.busy_timeout,
                                       check_same_thread=False)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                break
            except sqlite3.Error as e:
                if conn is not None:
                    conn.close()
                conn, err = None, e
        if conn is None:
            raise self._unavailable(err) from None
        if version > SCHEMA_VERSION:
            conn.close()
            raise StoreUnavailable(
                f"{self.path}: index schema v{version} is newer than this blue-index "
                f"(v{SCHEMA_VERSION}); upgrade blue-index")
        self.db = sqlite_utils.Database(conn)
        try:
            self._cols = {kind: _columns(self.db, kind) for kind in SCHEMA}
            self._revcols = {r[1] for r in conn.execute("PRAGMA table_info(revisions)")}
        except sqlite3.Error as e:
            conn.close()
            raise self._unavailable(e) from None

    def _read_only(self) -> ReadOnlyStore:
        return ReadOnlyStore(f"{self.path}: the index cannot be written here (no write "
                             "permission on the file or its folder); fix the permissions, "
                             "or set storage.sqlite.path to a writable file",
                             where=str(self.path))

    def _unavailable(self, e: BaseException) -> StoreUnavailable:
        text = str(e)
        if "locked" in text or "busy" in text:
            return StoreUnavailable(
                f"{self.path}: still locked by {self.holder()} after waiting "
                f"{self.busy_timeout:g}s; stop it, or raise storage.sqlite.busy_timeout in "
                ".blue/config.yaml")
        if "not a database" in text or "malformed" in text:
            return StoreUnavailable(
                f"{self.path}: not a valid SQLite index ({text}); delete it and run "
                "'blue-index reindex'")
        if "readonly" in text:
            return self._read_only()
        return StoreUnavailable(
            f"{self.path}: cannot open the index database ({text}); check the path "
            "and permissions")

    @property
    def schema_version(self) -> int:
        return int(self.db.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        conn = self.db.conn
        if self.schema_version == SCHEMA_VERSION:
            _ensure_tables(self.db)  # SCHEMA may have gained fields; cheap when it has not
            return
        self._begin()  # one process migrates; others wait, then see it done
        try:
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"{self.path}: index schema v{version} is newer than this blue-index "
                    f"(v{SCHEMA_VERSION}); upgrade blue-index or delete the file and reindex")
            for step in MIGRATIONS[version:]:
                step(self.db)
            _ensure_tables(self.db)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _begin(self) -> None:
        """``BEGIN IMMEDIATE`` (take the write lock), tried in short attempts so that a wait
        is visible: after NOTICE_AFTER_S, one line says who holds the store and how long
        we wait; after ``busy_timeout`` seconds, StoreUnavailable (exit 3)."""
        conn = self.db.conn
        conn.execute(f"PRAGMA busy_timeout = {ATTEMPT_MS}")
        t0 = time.monotonic()
        told = False
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) and "busy" not in str(e):
                        raise
                    waited = time.monotonic() - t0
                    if waited >= self.busy_timeout:
                        raise self._unavailable(e) from None
                    if not told and waited >= NOTICE_AFTER_S:
                        told = True
                        self.notice(f"blue-index: {self.path} is locked by {self.holder()}; "
                                    f"waiting up to {self.busy_timeout:g}s "
                                    "(storage.sqlite.busy_timeout)")
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")

    def holder(self) -> str:
        """Who holds the store's write lock, in words: the watch daemon (by its pid), else
        the pid and command line of each process with a write lock on the file."""
        daemon = None
        if self.daemon_pid is not None:
            with contextlib.suppress(Exception):
                daemon = self.daemon_pid()
        return describe_holders(lock_holders(self.path), daemon)

    # --- DialogueStore -----------------------------------------------------------------

    def load(self, dialogue_id: str) -> Items:
        return self.load_for_update(dialogue_id)[0]

    def load_for_update(self, dialogue_id: str) -> tuple[Items, Revision]:
        """Every table read in one read transaction: one snapshot, whatever commits meanwhile."""
        items: Items = {}
        conn = self.db.conn
        with self._lock, self._guard():
            began = not conn.in_transaction
            if began:
                conn.execute("BEGIN")
            try:
                rev = self._revision(dialogue_id)
                for kind, table in TABLES.items():
                    names = self._cols[kind]
                    sql = (f"SELECT {', '.join(f'[{c}]' for c in names)} FROM [{table}] "
                           "WHERE dialogue_id = ?")
                    codec = CODECS[kind]
                    for values in conn.execute(sql, (dialogue_id,)):
                        item = codec.item(names, values)
                        items[item["sk"]] = item
            finally:
                if began and conn.in_transaction:
                    conn.execute("COMMIT")
        return items, rev

    def _revision(self, dialogue_id: str) -> Revision:
        row = self.db.conn.execute("SELECT rev, provenance FROM revisions WHERE dialogue_id = ?",
                                   (dialogue_id,)).fetchone()
        if row is None:
            return Revision()
        return Revision(int(row[0]), provenance=json.loads(row[1]) if row[1] else None)

    def revision(self, dialogue_id: str) -> Revision:
        with self._lock, self._guard():
            return self._revision(dialogue_id)

    def _bump(self, dialogue_id: str, expect: Revision | None,
              provenance: dict[str, Any] | None) -> None:
        """Inside a write transaction: check ``expect``, then count one more revision."""
        current = self._revision(dialogue_id)
        if expect is not None and current.number != expect.number:
            raise Conflict(f"{self.path}: dialogue {dialogue_id} changed since it was loaded "
                           f"(revision {current.number}, expected {expect.number})")
        prov = provenance if provenance is not None else current.provenance
        self.db.conn.execute(
            "INSERT INTO revisions (dialogue_id, rev, provenance, clock) VALUES (?, ?, ?, "
            "(SELECT coalesce(max(clock), 0) + 1 FROM revisions)) "
            "ON CONFLICT (dialogue_id) DO UPDATE SET rev = excluded.rev, "
            "provenance = excluded.provenance, clock = excluded.clock",
            (dialogue_id, current.number + 1, json.dumps(prov) if prov else None))

    def _set_marker(self, dialogue_id: str) -> None:
        """Inside a write transaction, after the rows changed: the dialogue's file marker."""
        conn = self.db.conn
        hashes = dict(conn.execute("SELECT path, sha256 FROM files WHERE dialogue_id = ?",
                                   (dialogue_id,)).fetchall())
        conn.execute("UPDATE revisions SET marker = ? WHERE dialogue_id = ?",
                     (files_marker(hashes), dialogue_id))

    def clock(self, dialogue: str | None = None) -> int:
        if "clock" not in self._revcols:
            return 0  # a read-only store from before clocks
        with self._lock, self._guard():
            if dialogue is None:
                row = self.db.conn.execute(
                    "SELECT coalesce(max(clock), 0) FROM revisions").fetchone()
            else:
                row = self.db.conn.execute("SELECT clock FROM revisions WHERE dialogue_id = ?",
                                           (dialogue,)).fetchone()
        return int(row[0]) if row else 0

    def markers(self, dialogues: Collection[str] | None = None) -> dict[str, str | None]:
        if "marker" not in self._revcols:  # a read-only store from before markers
            return {d: None for d in self.all_file_hashes()
                    if dialogues is None or d in dialogues}
        sql = ("SELECT dialogue_id, marker FROM revisions WHERE (marker IS NULL OR "
               "marker != ?)")
        params: list[Any] = [EMPTY_MARKER]
        if dialogues is not None:
            ids = list(dialogues)
            if not ids:
                return {}
            sql += f" AND dialogue_id IN ({', '.join('?' * len(ids))})"
            params += ids
        with self._lock, self._guard():
            return dict(self.db.conn.execute(sql, params).fetchall())

    def rekey(self, dialogue_id: str) -> int:
        """Nothing is sealed in a plain store: nothing to re-seal (the envelope re-keys)."""
        return 0

    def put_if_absent(self, dialogue_id: str, item: Item) -> Item:
        if self.read_only:
            raise self._read_only()
        kind, row = _to_row(dialogue_id, item)
        codec = CODECS[kind]
        conn = self.db.conn
        names = self._cols[kind]
        with self._lock, self._guard():
            conn.execute("BEGIN IMMEDIATE")
            try:
                found = conn.execute(
                    f"SELECT {', '.join(f'[{c}]' for c in names)} FROM [{codec.table}] "
                    "WHERE dialogue_id = ? AND sk = ?", (dialogue_id, item["sk"])).fetchone()
                if found is None:
                    conn.execute(codec.upsert_sql, row)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return item if found is None else codec.item(names, found)

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        with self._lock, self._guard():
            rows = self.db.conn.execute(
                "SELECT path, sha256 FROM files WHERE dialogue_id = ?", (dialogue_id,))
            return {p: h for p, h in rows}

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str],
              expect: Revision | None = None,
              provenance: dict[str, Any] | None = None) -> int:
        if not puts and not deletes:
            return 0
        if self.read_only:
            raise self._read_only()
        by_kind: dict[str, list[list[Any]]] = defaultdict(list)
        text: dict[str, tuple[Any, Any]] = {}  # block sk -> (label, body) as written
        for item in puts:
            kind, row = _to_row(dialogue_id, item)
            by_kind[kind].append(row)
            if kind == "block":
                text[item["sk"]] = (item.get("label"), item.get("body"))
        del_by_table: dict[str, list[str]] = defaultdict(list)
        for sk in deletes:
            sk_kind = kind_of_sk(sk)
            for table in [TABLES[sk_kind]] if sk_kind else TABLES.values():
                del_by_table[table].append(sk)
        conn = self.db.conn
        with self._lock, self._guard():
            self._begin()
            try:
                self._bump(dialogue_id, expect, provenance)
                fresh = self._fts_unindex(dialogue_id, text, del_by_table.get("blocks", []))
                for table, sks in del_by_table.items():
                    for part in chunks(sks, 500):
                        conn.execute(
                            f"DELETE FROM [{table}] WHERE dialogue_id = ? AND sk IN "
                            f"({', '.join('?' * len(part))})", (dialogue_id, *part))
                for kind, rows in by_kind.items():
                    conn.executemany(CODECS[kind].upsert_sql, rows)
                for part in chunks(fresh, 500):
                    conn.execute(
                        "INSERT INTO [blocks_fts] (rowid, [label], [body]) SELECT rowid, "
                        "[label], [body] FROM [blocks] WHERE dialogue_id = ? AND sk IN "
                        f"({', '.join('?' * len(part))})", (dialogue_id, *part))
                self._set_marker(dialogue_id)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return len(puts) + len(deletes)

    def _fts_unindex(self, dialogue_id: str, text: dict[str, tuple[Any, Any]],
                     gone: list[str]) -> list[str]:
        """Inside ``write``'s transaction, before the rows change: drop the FTS entries of
        blocks being deleted or getting new text (an external-content index needs the old
        values to delete them). Returns the put blocks to (re)index after the upsert."""
        fresh = set(text)
        stale: list[tuple[Any, Any, Any]] = []
        conn = self.db.conn
        for part in chunks([*text, *gone], 500):
            rows = conn.execute(
                "SELECT sk, rowid, [label], [body] FROM [blocks] WHERE dialogue_id = ? AND "
                f"sk IN ({', '.join('?' * len(part))})", (dialogue_id, *part))
            for sk, rowid, label, body in rows:
                if text.get(sk) == (label, body):
                    fresh.discard(sk)  # same text: its entry stays valid (the rowid too)
                else:
                    stale.append((rowid, label, body))
        if stale:
            conn.executemany(_FTS_DELETE, stale)
        return sorted(fresh)

    def delete_dialogue(self, dialogue_id: str, expect: Revision | None = None,
                        provenance: dict[str, Any] | None = None) -> int:
        if self.read_only:
            raise self._read_only()
        conn = self.db.conn
        n = 0
        with self._lock, self._guard():
            self._begin()
            try:
                self._bump(dialogue_id, expect, provenance)
                conn.executemany(_FTS_DELETE, conn.execute(
                    "SELECT rowid, [label], [body] FROM [blocks] WHERE dialogue_id = ?",
                    (dialogue_id,)).fetchall())
                for table in TABLES.values():
                    n += conn.execute(
                        f"DELETE FROM [{table}] WHERE dialogue_id = ?", (dialogue_id,)).rowcount
                self._set_marker(dialogue_id)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return n

    # --- AnalyticsStore ----------------------------------------------------------------

    def _select(self, kind: str, where: str = "", params: tuple[Any, ...] = (),
                tail: str = "", join: str = "") -> list[Item]:
        names = ["dialogue_id", *self._cols[kind]]
        table = TABLES[kind]
        sql = (f"SELECT {', '.join(f'[{table}].[{c}]' for c in names)} FROM [{table}] {join} "
               f"{'WHERE ' + where if where else ''} {tail}")
        out = []
        with self._lock, self._guard():
            for values in self.db.conn.execute(sql, params):
                item = CODECS[kind].item(names[1:], values[1:])
                item["dialogue_id"] = values[0]
                out.append(item)
        return out

    def dialogues(self) -> list[Item]:
        """Meta items by id (each also carries ``dialogue_id``)."""
        return self._select("dialogue", "sk = 'meta'", tail="ORDER BY dialogue_id")

    def search(self, query: str, dialogue_id: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[Item]:
        """Block items (with ``dialogue_id``) matching every word of ``query``, best first.
        ``kind`` filters on the block kind (perspective, tension, ...)."""
        match = match_query(query)
        if not match:
            return []
        where = "blocks_fts MATCH ?"
        params: list[Any] = [match]
        if dialogue_id is not None:
            where += " AND blocks.dialogue_id = ?"
            params.append(dialogue_id)
        if kind is not None:
            where += " AND blocks.block_kind = ?"
            params.append(kind)
        params.append(int(limit))
        return self._select(
            "block", where, tuple(params),
            join="JOIN blocks_fts ON blocks_fts.rowid = blocks.rowid",
            tail="ORDER BY blocks_fts.rank, blocks.dialogue_id, blocks.sk LIMIT ?")

    def open_tensions(self) -> list[Item]:
        """Tension items (with ``dialogue_id``) marked open at assembly (items.py)."""
        return self._select("tension", "[open] = 1",
                            tail="ORDER BY dialogue_id, sk")

    def counts(self) -> dict[str, int]:
        """Items per kind (every kind, 0 when none) plus ``dialogues`` (partitions)."""
        out: dict[str, int] = {}
        with self._lock, self._guard():
            parts = []
            for kind, table in TABLES.items():
                out[kind] = self.db.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0]
                parts.append(f"SELECT dialogue_id FROM [{table}]")
            out["dialogues"] = self.db.conn.execute(
                f"SELECT count(*) FROM ({' UNION '.join(parts)})").fetchone()[0]
        return out

    def all_file_hashes(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        with self._lock, self._guard():
            rows = self.db.conn.execute(
                "SELECT dialogue_id, path, sha256 FROM files")  # no ORDER BY: callers sort ids
            for d, p, h in rows:  # one row per file of the tree: kept minimal
                try:
                    out[d][p] = h
                except KeyError:
                    out[d] = {p: h}
        return out

    # --- the rest ----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal"))
                   if p.exists())
        return {"backend": "sqlite", "location": str(self.path),
                "schema_version": self.schema_version, "bytes": size}

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def _guard(self) -> _Guard:
        return _Guard(self)


class _Guard:
    """Turns sqlite3 errors that mean 'the store is unusable' into StoreUnavailable."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: Any) -> None:
        if isinstance(e, sqlite3.OperationalError | sqlite3.DatabaseError) and not isinstance(
            e, sqlite3.IntegrityError
        ):
            text = str(e)
            if any(s in text for s in ("not a database", "malformed", "unable to open",
                                       "readonly", "disk I/O", "locked")):
                raise self.store._unavailable(e) from None
