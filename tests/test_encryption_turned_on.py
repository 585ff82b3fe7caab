"""Encryption turned on over a plain index, then a sync limited to one dialogue (what the
daemon and the hook run): no dialogue's content may stay in clear, on SQLite and on
DynamoDB (real moto server).

Chosen behaviour (README, Encryption): the first write of an encrypted store seals every
dialogue still in plaintext in place (its stored items under a new data key, one revision
each; the files are not re-read), so a limited sync leaves nothing in clear behind it.
Expected content comes from parse + assemble of the files, never from the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.items import CONTENT
from indexer.keys import create_key_file
from indexer.store.factory import open_store
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.sync import dialogue_ids, expected_items, make_repo


def _configure(root: Path, storage: str, key_file: Path | None) -> config_mod.Config:
    text = storage + (f"encryption:\n  key_source: file\n  key_file: {key_file}\n"
                      if key_file is not None else "")
    (root / ".blue" / "config.yaml").write_text(text)
    return config_mod.load(root=root, env={})


@pytest.fixture(params=["sqlite", "dynamodb"])
def storage(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "storage:\n  backend: sqlite\n"
    table = request.getfixturevalue("dynamo_store_factory")()
    return ("storage:\n  backend: dynamodb\n  dynamodb:\n"
            f"    table: {table.table}\n    region: us-east-1\n"
            f"    endpoint_url: {table.endpoint_url}\n")


def _repo(root: Path, samples_dir: Path) -> config_mod.Config:
    """The sample folder dialogues (enough kinds of content, a short test)."""
    return make_repo(root, {p.name: p for p in sorted(samples_dir.iterdir()) if p.is_dir()})


def _sync(cfg: config_mod.Config, **kw):
    store = open_store(cfg)
    try:
        return Syncer(cfg, store).run(**kw)
    finally:
        store.close()


def _in_clear(cfg_plain: config_mod.Config) -> dict[str, list[str]]:
    """Per dialogue, the stored items (read without the envelope) holding content in
    clear, and whether each partition has a data key."""
    store = open_store(cfg_plain, create=False)
    try:
        out = {}
        for did in sorted(store.all_file_hashes()):
            items = store.load(did)
            clear = [sk for sk, it in items.items() if it.get("enc") is None and any(
                it.get(f) is not None for f in CONTENT.get(str(it.get("kind")), ()))]
            out[did] = clear if "datakey" in items else ["(no data key)", *clear]
        return out
    finally:
        store.close()


def test_a_limited_sync_after_encryption_is_turned_on_seals_every_dialogue(
        tmp_path, samples_dir, storage):
    root = tmp_path / "repo"
    cfg = _repo(root, samples_dir)
    ids = dialogue_ids(cfg.dialogues)
    assert len(ids) >= 3
    plain = _configure(root, storage, None)
    _sync(plain)
    before = _in_clear(plain)
    assert sorted(before) == ids and all(before.values())  # all plaintext to begin with

    enc = _configure(root, storage, create_key_file(tmp_path / "keys" / "umk.key"))
    drift = _sync(enc, check=True).drift  # writes nothing, but says what is in clear
    assert {did for did in ids if any(line.startswith(did) for line in drift)} == set(ids)
    assert _in_clear(plain) == before
    rep = _sync(enc, dialogues=[ids[0]])
    assert ids[0] in rep.dialogues
    assert _in_clear(plain) == {did: [] for did in ids}  # sealed, every one of them

    store = open_store(enc, create=False)
    try:
        for did in ids:  # content intact: what a fresh index of the files holds
            assert store.load(did) == expected_items(cfg.dialogues, did), did
    finally:
        store.close()
    again = _sync(enc, dialogues=[ids[1]])
    assert again.items_written == 0
    assert _sync(enc, check=True).drift == []


def test_sealing_leaves_a_partition_with_sealed_content_but_no_key_loud(
        tmp_path, samples_dir, storage):
    """A partition holding ciphertext without its data key cannot be sealed or read: the
    first write says so (IntegrityError naming the entity), it never re-seals garbage."""
    from indexer.store.base import IntegrityError

    root = tmp_path / "repo"
    cfg = _repo(root, samples_dir)
    ids = dialogue_ids(cfg.dialogues)
    key = create_key_file(tmp_path / "keys" / "umk.key")
    enc = _configure(root, storage, key)
    _sync(enc)
    plain = _configure(root, storage, None)
    store = open_store(plain, create=False)
    try:  # drop one dialogue's data key and mark its meta as plaintext
        items = store.load(ids[1])
        meta = dict(items["meta"], enc=None)
        store.write(ids[1], [meta], ["datakey"])
    finally:
        store.close()
    enc = _configure(root, storage, key)
    (cfg.dialogues / ids[0] / "extra.md").write_text("# note\n")
    with pytest.raises(IntegrityError, match=ids[1]):
        _sync(enc, dialogues=[ids[0]])
