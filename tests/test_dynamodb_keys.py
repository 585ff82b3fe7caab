"""Keys that fit, items that cannot be stored, consistent reads and a sharded files index:
DynamoDB against a real moto server, SQLite alongside as the reference."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.export import dumps, export
from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import raw_partition
from tests.support.sync import expected_items


def _tree(root: Path, samples_dir: Path) -> config_mod.Config:
    shutil.copytree(samples_dir, root / "dialogues")
    return config_mod.Config(root=root, dialogues=root / "dialogues")


def _long_path(folder: Path, total: int) -> str:
    """A note under ``folder`` whose path relative to the dialogues root is ``total`` bytes
    (nested folders: one name may not exceed 255 bytes)."""
    did = folder.name
    parts, used = [], len(did.encode()) + 1
    while total - used > 255 + 1:
        name = "n" * 200
        parts.append(name)
        used += len(name) + 1
    last = "x" * (total - used - 3) + ".md"
    rel = "/".join([*parts, last])
    assert len(f"{did}/{rel}".encode()) == total
    path = folder / rel
    path.parent.mkdir(parents=True)
    path.write_text("A note kept at the end of a very long path.\n", encoding="utf-8")
    return rel


def test_1023_byte_path_syncs_with_a_bounded_key(tmp_path, samples_dir, dynamo_store_factory):
    dd_cfg, sq_cfg = _tree(tmp_path / "dd", samples_dir), _tree(tmp_path / "sq", samples_dir)
    did = sorted(p.name for p in dd_cfg.dialogues.iterdir() if p.is_dir())[0]
    rel = _long_path(dd_cfg.dialogues / did, 1023)
    shutil.copytree(dd_cfg.dialogues / did / rel.split("/")[0],
                    sq_cfg.dialogues / did / rel.split("/")[0])
    dd, sq = dynamo_store_factory(), SQLiteStore(tmp_path / "sq.db")
    rep = Syncer(dd_cfg, dd, workers=0).run()
    Syncer(sq_cfg, sq, workers=0).run()
    assert rep.rejected == [] and did in rep.dialogues
    got = dd.load(did)
    assert got == expected_items(dd_cfg.dialogues, did)
    assert any(it.get("path") == rel for it in got.values() if it["kind"] == "file")
    assert dumps(export(got)) == dumps(export(sq.load(did)))
    raw = raw_partition(dd, did)
    assert max(len(a["sk"]["S"].encode()) for a in raw) <= 1024
    (hashed,) = [a for a in raw if a.get("path", {}).get("S") == rel]
    assert hashed["_sk"]["S"] == f"file#{rel}" and hashed["sk"]["S"] != f"file#{rel}"
    assert Syncer(dd_cfg, dd, workers=0).run().items_written == 0
    assert Syncer(dd_cfg, dd, workers=0).run(check=True).drift == []
    sq.close()


def test_file_that_cannot_be_stored_is_reported_and_the_rest_syncs(tmp_path, samples_dir,
                                                                     dynamo_store_factory):
    """A file name with bytes that are not UTF-8: the safe scan reports it under its escaped
    name (``name-not-utf8``, never read), so no text DynamoDB cannot hold reaches the store;
    the rest of its dialogue and every other dialogue sync, and a second run writes nothing."""
    cfg = _tree(tmp_path / "t", samples_dir)
    ids = sorted(p.name for p in cfg.dialogues.iterdir() if p.is_dir())
    bad = os.path.join(os.fsencode(cfg.dialogues / ids[0]), b"notes-\xff.md")
    with open(bad, "wb") as f:
        f.write(b"A note whose name is not UTF-8.\n")
    store = dynamo_store_factory()
    rep = Syncer(cfg, store, workers=0).run()
    assert rep.rejected == [] and set(ids) <= set(rep.dialogues)
    got = store.load(ids[0])
    (diag,) = [it for it in got.values() if it.get("code") == "name-not-utf8"]
    assert diag["file"].endswith("notes-\\xff.md") and diag["severity"] == "error"
    again = Syncer(cfg, store, workers=0).run()  # reported once, nothing rewritten
    assert again.items_written == 0
    os.remove(bad)  # the rest is what a fresh sync without that file holds
    want = expected_items(cfg.dialogues, ids[0])
    assert {sk: it for sk, it in got.items() if sk in want} == want
    for did in ids[1:]:
        assert store.load(did) == expected_items(cfg.dialogues, did)


def test_item_the_store_cannot_hold_is_rejected_by_name() -> None:
    """Defence in depth behind the scan: text DynamoDB cannot hold (a lone surrogate) is an
    ItemRejected naming the item, before anything is sent."""
    from indexer.store.base import ItemRejected
    from indexer.store.dynamodb import encode_item

    item = {"kind": "file", "sk": "file#notes-\udcff.md", "path": "notes-\udcff.md"}
    with pytest.raises(ItemRejected) as e:
        encode_item("d1", item)
    assert e.value.sk == item["sk"] and "not valid Unicode" in e.value.reason


def test_decisions_read_the_base_table_and_file_index_is_sharded(tmp_path,
                                                                 dynamo_store_factory):
    """Change detection and --check never read an (eventually consistent) index; file items
    of different dialogues spread over several index keys."""
    from tests.support.writers import write_tree

    ids = tuple(f"2026-04-{i + 1:02d}T1000Z-small-{i}" for i in range(8))
    cfg = write_tree(tmp_path / "t", 1, ids)
    store = dynamo_store_factory()
    queries: list[dict] = []
    store.client.meta.events.register("before-parameter-build.dynamodb.Query",
                                      lambda params, **_: queries.append(dict(params)))
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.Scan",
        lambda **_: (_ for _ in ()).throw(AssertionError("Scan")))
    Syncer(cfg, store, workers=0).run()
    Syncer(cfg, store, workers=0).run(check=True)
    assert queries and all("IndexName" not in q and q.get("ConsistentRead") for q in queries)
    indexed = store.indexed_files()
    assert sorted(indexed) == sorted(ids) and indexed == store.all_file_hashes()
    keys = {a["_file"]["S"] for did in ids for a in raw_partition(store, did) if "_file" in a}
    assert len(keys) > 1 and all(k.startswith("file#") for k in keys)
