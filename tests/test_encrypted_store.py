"""The envelope end to end: the real sync engine into a real SQLite file (and a real moto
DynamoDB server), the real CLI for the error paths and ``key rotate``.

"Nothing in clear" is checked on raw bytes (the .db/-wal/-shm files; the items of a raw
boto3 Query) against phrases taken from the dialogue files by a regex written here (block
labels of the FORMAT markers), after proving that the same phrases ARE visible in a plain
store of the same files (so the check can fail).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.keys import FileKeySource, KeyError_, create_key_file
from indexer.store.base import StoreUnavailable
from indexer.store.envelope import EncryptedStore
from indexer.store.factory import open_store
from indexer.store.sqlite import SQLiteStore
from tests.support.kms import *  # noqa: F403 - fixtures live there

BIN = Path(sys.executable).parent / "blue-index"
# A block marker with a label: [KEYWORD id: label] / [EXPERT-P0101: label] (FORMAT.md).
MARKER = re.compile(r"\[([A-Z][A-Z0-9 -]*?)(?: [A-Za-z0-9-]+)?:\s*([^\]\n]+)\]")


def labels_in(root: Path) -> set[str]:
    """Block labels longer than 12 characters, from the indexed Markdown files."""
    out = set()
    for path in root.rglob("*.md"):
        if path.name.endswith(".prompt.md"):
            continue
        for m in MARKER.finditer(path.read_text(encoding="utf-8", errors="replace")):
            word, label = m.group(1).split("-")[0], m.group(2).strip().rstrip(".")
            if word in ("MOVE", "RE", "VERDICT") or len(label) <= 12:
                continue
            out.add(label)
    return out


def db_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))
                    if p.exists())


def make_repo(tmp: Path, dialogues: list[Path], name: str = "repo") -> Path:
    repo = tmp / name
    (repo / ".blue" / "dialogues").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for d in dialogues:
        shutil.copytree(d, repo / ".blue" / "dialogues" / d.name)
    return repo


def configure(repo: Path, key_file: Path | None, db: str = ".blue/blue.db",
              extra: str = "") -> config_mod.Config:
    text = f"storage:\n  backend: sqlite\n  sqlite:\n    path: {db}\n" + extra
    if key_file is not None:
        text += f"encryption:\n  key_source: file\n  key_file: {key_file}\n"
    (repo / ".blue" / "config.yaml").write_text(text)
    return config_mod.load(root=repo)


def reindex(cfg: config_mod.Config, full: bool = False):
    from indexer.sync import Syncer

    store = open_store(cfg)
    try:
        return Syncer(cfg, store).run(full=full)
    finally:
        store.close()


def exports(cfg: config_mod.Config) -> dict[str, str]:
    from indexer.export import dumps, export

    store = open_store(cfg, create=False)
    try:
        ids = sorted(str(m["dialogue_id"]) for m in store.dialogues())
        return {did: dumps(export(store.load(did))) for did in ids}
    finally:
        store.close()


def raw_items(db: Path) -> dict[str, dict]:
    s = SQLiteStore(db, create=False)
    try:
        return {did: s.load(did) for did in sorted(s.all_file_hashes())}
    finally:
        s.close()


def cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BLUE_INDEX_KEY_FILE"}
    env["HOME"] = str(repo.parent / "home")
    return subprocess.run([str(BIN), "--root", str(repo), *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return create_key_file(tmp_path / "keys" / "umk.key")


def _check_encrypted_sqlite(tmp_path: Path, dialogues: list[Path], key_file: Path) -> None:
    labels = labels_in(dialogues[0].parent if len(dialogues) > 1 else dialogues[0])
    assert len(labels) >= 5, "the phrase extractor found too little to be a real check"
    plain_repo = make_repo(tmp_path, dialogues, "plain")
    enc_repo = make_repo(tmp_path, dialogues, "enc")
    plain, enc = configure(plain_repo, None), configure(enc_repo, key_file)
    rep_plain, rep_enc = reindex(plain), reindex(enc)
    assert rep_enc.items_written == rep_plain.items_written > 0
    # The check can fail: the plain store shows (nearly) every label in its bytes...
    plain_raw = db_bytes(plain.sqlite_path)
    visible = {lb for lb in labels if lb.encode() in plain_raw}
    assert len(visible) >= 0.8 * len(labels), sorted(labels - visible)[:5]
    # ...and the encrypted store none of them, nor any 24-byte piece of them.
    enc_raw = db_bytes(enc.sqlite_path)
    assert [lb for lb in visible if lb.encode() in enc_raw] == []
    assert [lb for lb in visible if len(lb) > 24 and lb.encode()[:24] in enc_raw] == []
    # Callers see plaintext identical to a plain store's.
    assert exports(enc) == exports(plain)
    assert len(exports(enc)) == len(dialogues)
    # Idempotent: the diff runs on plaintext, so a second run writes nothing.
    again = reindex(enc)
    assert (again.items_written, again.items_deleted) == (0, 0)


def test_sqlite_samples_encrypted(tmp_path, samples_dir, key_file):
    _check_encrypted_sqlite(tmp_path, sorted(p for p in samples_dir.iterdir() if p.is_dir()),
                            key_file)


def test_sqlite_real_corpus_encrypted(tmp_path, corpus_dialogue, key_file):
    _check_encrypted_sqlite(tmp_path, [corpus_dialogue], key_file)


def test_encrypted_search_matches_plain_search(tmp_path, samples_dir, key_file):
    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    plain = configure(make_repo(tmp_path, dialogues, "plain"), None)
    enc = configure(make_repo(tmp_path, dialogues, "enc"), key_file)
    reindex(plain)
    reindex(enc)
    words = sorted({w.lower() for lb in labels_in(samples_dir)
                    for w in re.findall(r"[A-Za-z]{6,}", lb)})[:12]
    assert words
    ps, es = open_store(plain, create=False), open_store(enc, create=False)
    try:
        did = dialogues[0].name
        for q in [*words, f"{words[0][:4]}*", f"{words[0]} {words[-1]}"]:
            p = [(h["dialogue_id"], h["sk"]) for h in ps.search(q)]
            e = [(h["dialogue_id"], h["sk"]) for h in es.search(q)]
            assert e == p, q
            p = [h["sk"] for h in ps.search(q, dialogue_id=did)]
            assert sorted(h["sk"] for h in es.search(q, dialogue_id=did)) == sorted(p), q
        assert any(ps.search(w) for w in words)
        # Raw backend search sees only ciphertext: nothing to find.
        assert all(es.inner.search(w) == [] for w in words)
    finally:
        ps.close()
        es.close()


def test_full_reindex_reseals_under_fresh_data_keys(tmp_path, samples_dir, key_file):
    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    cfg = configure(make_repo(tmp_path, dialogues), key_file)
    reindex(cfg)
    before, exp = raw_items(cfg.sqlite_path), exports(cfg)
    reindex(cfg, full=True)
    after = raw_items(cfg.sqlite_path)
    for did, items in after.items():
        assert items["datakey"]["version"] == before[did]["datakey"]["version"] + 1
        assert "previous" not in items["datakey"]
        sealed = [sk for sk, it in items.items() if it.get("enc")]
        assert sealed and all(items[sk]["enc"] != before[did][sk]["enc"] for sk in sealed)
        assert all(items[sk]["enc"].startswith("v1:2:") for sk in sealed)
    assert exports(cfg) == exp
    assert reindex(cfg).items_written == 0


# --- errors: one line, exit 3, nothing written ------------------------------------------


def _counts(db: Path) -> dict[str, int]:
    s = SQLiteStore(db)
    try:
        return s.counts()
    finally:
        s.close()


def test_cli_key_errors_exit_3_and_write_nothing(tmp_path, samples_dir):
    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    repo = make_repo(tmp_path, dialogues)
    key = tmp_path / "keys" / "umk.key"
    configure(repo, key)
    db = repo / ".blue" / "blue.db"

    def fails(match: str) -> None:
        before = _counts(db) if db.exists() else None
        r = cli(repo, "reindex")
        assert r.returncode == 3, (r.stdout, r.stderr)
        assert re.search(match, r.stderr), r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        after = _counts(db)
        assert after == (before or {k: 0 for k in after})

    fails(r"key file not found; run 'blue-index key init'")
    key.parent.mkdir(parents=True)
    key.mkdir()
    fails(r"cannot read key file")
    key.rmdir()
    create_key_file(key)
    key.chmod(0o644)
    fails(r"mode 0644\); run 'chmod 600")
    key.chmod(0o600)
    r = cli(repo, "reindex", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["items_written"] > 0
    # A different key: refused before anything is written, even for a new dialogue that
    # sorts first (it has no data key yet).
    shutil.copytree(dialogues[0], repo / ".blue" / "dialogues" / "0000-new-dialogue")
    key.unlink()
    create_key_file(key)
    fails(r"wrapped by master key file:\w+, but the configured key is file:\w+")
    for cmd in (["list"], ["search", "trunk", "--dialogue", dialogues[0].name]):
        r = cli(repo, *cmd)
        assert r.returncode == 3 and "wrapped by master key" in r.stderr, (cmd, r.stderr)


# --- key rotate ---------------------------------------------------------------------------


def test_key_rotate_rewraps_without_touching_content(tmp_path, samples_dir):
    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    repo = make_repo(tmp_path, dialogues)
    key = create_key_file(tmp_path / "keys" / "umk.key")
    cfg = configure(repo, key)
    reindex(cfg)
    before, exp = raw_items(cfg.sqlite_path), exports(cfg)
    old_key = tmp_path / "old.key"
    shutil.copy(key, old_key)
    old_key.chmod(0o600)
    r = cli(repo, "key", "rotate", "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["rewrapped"] == len(dialogues) and res["already"] == 0
    assert not Path(f"{key}.new").exists() and not Path(f"{key}.old").exists()
    after = raw_items(cfg.sqlite_path)
    for did in before:
        b, a = before[did], after[did]
        assert {sk: it for sk, it in a.items() if sk != "datakey"} == {
            sk: it for sk, it in b.items() if sk != "datakey"}  # content untouched
        assert a["datakey"]["wrapped"] != b["datakey"]["wrapped"]
        assert a["datakey"]["key_id"] == res["key_id"] != b["datakey"]["key_id"]
        assert a["datakey"]["version"] == b["datakey"]["version"]
    assert exports(cfg) == exp  # decrypts with the new key
    stale = EncryptedStore(SQLiteStore(cfg.sqlite_path), FileKeySource(old_key))
    with pytest.raises(KeyError_, match="wrapped by master key"):
        stale.load(dialogues[0].name)
    stale.close()
    # Again, keeping the old key this time.
    r = cli(repo, "key", "rotate", "--keep-old")
    assert r.returncode == 0, r.stderr
    assert Path(f"{key}.old").stat().st_mode & 0o077 == 0
    assert exports(cfg) == exp


def test_key_rotate_resumes_after_an_interruption(tmp_path, samples_dir):
    from indexer.keys.rotate import rotate

    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    repo = make_repo(tmp_path, dialogues)
    key = create_key_file(tmp_path / "keys" / "umk.key")
    cfg = configure(repo, key)
    reindex(cfg)
    exp = exports(cfg)
    # Simulate a crash after the first data key was re-wrapped: new key made, one rewrap.
    new = FileKeySource(create_key_file(Path(f"{key}.new")))
    s = SQLiteStore(cfg.sqlite_path)
    did = dialogues[0].name
    dk = s.load(did)["datakey"]
    data_key = FileKeySource(key).unwrap(did, dk["version"], dk["wrapped"])
    s.write(did, [dict(dk, key_id=new.key_id, wrapped=new.wrap(did, dk["version"], data_key))],
            [])
    s.close()
    r = cli(repo, "list")
    assert r.returncode == 3 and "interrupted: run it again" in r.stderr
    res = rotate(cfg)
    assert (res["rewrapped"], res["already"]) == (len(dialogues) - 1, 1)
    assert res["key_id"] == new.key_id
    assert exports(cfg) == exp


# --- KMS key source with SQLite ---------------------------------------------------------


def test_kms_key_source_with_sqlite(tmp_path, samples_dir, kms_endpoint, kms_key):
    import boto3

    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())
    repo = make_repo(tmp_path, dialogues)
    plain = configure(make_repo(tmp_path, dialogues, "plain"), None)
    reindex(plain)
    (repo / ".blue" / "config.yaml").write_text(
        "encryption:\n  key_source: kms\n"
        f"  kms_key_id: {kms_key}\n  region: us-east-1\n  endpoint_url: {kms_endpoint}\n")
    cfg = config_mod.load(root=repo)
    reindex(cfg)
    assert exports(cfg) == exports(plain)
    raw = raw_items(cfg.sqlite_path)
    assert all(d["datakey"]["algorithm"] == "AES-256-GCM/KMS" for d in raw.values())
    # Rotate to another KMS key: content untouched, old key no longer involved.
    kms = boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)
    new_key = kms.create_key()["KeyMetadata"]["KeyId"]
    from indexer.keys.rotate import rotate

    res = rotate(cfg, kms_key_id=new_key)
    assert res["rewrapped"] == len(dialogues) and new_key in res["key_id"]
    with pytest.raises(StoreUnavailable, match="wrapped by master key kms:"):
        exports(cfg)
    (repo / ".blue" / "config.yaml").write_text(
        "encryption:\n  key_source: kms\n"
        f"  kms_key_id: {new_key}\n  region: us-east-1\n  endpoint_url: {kms_endpoint}\n")
    cfg = config_mod.load(root=repo)
    assert exports(cfg) == exports(plain)
    after = raw_items(cfg.sqlite_path)
    for did in raw:
        assert {sk: it for sk, it in after[did].items() if sk != "datakey"} == {
            sk: it for sk, it in raw[did].items() if sk != "datakey"}


# --- DynamoDB (real moto server) and store copy across backends --------------------------


def _dynamo_config(repo: Path, table: str, endpoint: str, key_file: Path | None
                   ) -> config_mod.Config:
    text = ("storage:\n  backend: dynamodb\n  dynamodb:\n"
            f"    table: {table}\n    region: us-east-1\n    endpoint_url: {endpoint}\n")
    if key_file is not None:
        text += f"encryption:\n  key_source: file\n  key_file: {key_file}\n"
    (repo / ".blue" / "config.yaml").write_text(text)
    return config_mod.load(root=repo)


def _raw_query(endpoint: str, table: str) -> str:
    """Every attribute of every item, as boto3 returns them (paginated Scan)."""
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
    pages = client.get_paginator("scan").paginate(TableName=table)
    return json.dumps([it for page in pages for it in page["Items"]], ensure_ascii=False,
                      default=lambda b: b.decode("latin-1"))


def _decrypted(store, key: Path) -> dict[str, dict]:
    from indexer.store.copy import dialogue_ids

    enc = EncryptedStore(store, FileKeySource(key))
    return {did: enc.load(did) for did in sorted(dialogue_ids(store))}


def test_dynamodb_encrypted_and_copy_between_backends(tmp_path, samples_dir, key_file,
                                                      dynamo_store_factory, dynamo_endpoint):
    from indexer.store.copy import copy_all

    # One dialogue keeps this bounded (moto is slow per request); the SQLite tests cover all.
    dialogues = sorted(p for p in samples_dir.iterdir() if p.is_dir())[:1]
    labels = labels_in(dialogues[0])
    enc_tbl, back_tbl = dynamo_store_factory(), dynamo_store_factory()
    plain = configure(make_repo(tmp_path, dialogues, "plain"), None)
    enc = _dynamo_config(make_repo(tmp_path, dialogues, "enc"), enc_tbl.table,
                         dynamo_endpoint, key_file)
    assert reindex(plain).items_written == reindex(enc).items_written > 0
    visible = {lb for lb in labels if lb.encode() in db_bytes(plain.sqlite_path)}
    assert len(visible) >= 0.8 * len(labels) >= 4
    raw = _raw_query(dynamo_endpoint, enc_tbl.table)
    assert [lb for lb in visible if lb in raw] == []
    assert exports(enc) == exports(plain)
    assert reindex(enc).items_written == 0

    # Ciphertext written by DynamoDB, copied verbatim (raw stores) into SQLite, decrypts:
    # the AAD is the canonical address, not the backend's physical key.
    sqlite_copy = SQLiteStore(tmp_path / "copy.db")
    assert copy_all(enc_tbl, sqlite_copy) > 0
    expected = _decrypted(enc_tbl, key_file)
    assert _decrypted(sqlite_copy, key_file) == expected
    assert same_ciphertexts(sqlite_copy, enc_tbl)
    # ...and back again into a fresh DynamoDB table.
    assert copy_all(sqlite_copy, back_tbl) > 0
    assert _decrypted(back_tbl, key_file) == expected
    sqlite_copy.close()


def same_ciphertexts(copy_store, source) -> bool:
    """The copy holds the very same ciphertexts (nothing was re-encrypted on the way)."""
    from indexer.store.copy import dialogue_ids

    return all(copy_store.load(did) == source.load(did) for did in dialogue_ids(source))


def test_encryption_turned_on_over_a_plain_store_seals_everything(tmp_path, samples_dir,
                                                                   key_file):
    """Adding ``encryption:`` to an existing plain index: the next plain ``reindex`` (no
    --full) rewrites every dialogue sealed, and ``--check`` agrees afterwards."""
    repo = make_repo(tmp_path, sorted(p for p in samples_dir.iterdir() if p.is_dir()))
    plain = configure(repo, None)
    written = reindex(plain).items_written
    before = exports(plain)
    enc = configure(repo, key_file)
    rep = reindex(enc)
    assert 0 < rep.items_written <= written
    from indexer.items import CONTENT

    raw = raw_items(enc.sqlite_path)
    assert sum(len(v) for v in raw.values()) >= written
    for did, items in raw.items():
        in_clear = [sk for sk, it in items.items() if it.get("enc") is None and any(
            it.get(f) is not None for f in CONTENT.get(it["kind"], ()))]
        assert in_clear == [], (did, in_clear[:5])
    assert exports(enc) == before
    assert cli(repo, "reindex", "--check").returncode == 0
    again = reindex(enc)
    assert (again.parsed, again.items_written) == (0, 0)
