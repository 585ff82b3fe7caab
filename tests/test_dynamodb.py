"""The DynamoDB backend against a real moto server: layout, limits, requests, sync parity.

The protocol itself is covered by tests/test_store_conformance.py (the dynamodb entry);
here: what only DynamoDB has (type fidelity through attribute values, the 400 KB limit,
request counts, indexes, table administration and errors) and end-to-end parity with
SQLite through the real sync engine on the sample dialogues and the real corpus.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.export import dumps, export
from indexer.items import diff
from indexer.store.base import StoreUnavailable
from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import REGION, count_requests, free_port, raw_partition
from tests.support.stores import make_item, synthetic_dialogue
from tests.support.sync import cli, dialogue_ids, expected_items


def noise(n: int, seed: int = 7) -> str:
    """Incompressible text (zlib cannot bring it under the item limit)."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + "äöü東京 ", k=n))


# --------------------------------------------------------------------------- type fidelity


def test_values_that_dynamodb_numbers_cannot_hold_round_trip(dynamo_store_factory):
    store = dynamo_store_factory()
    odd = {
        "expert#a": make_item("expert", "expert#a", relevance=1e-300, total=10**40),
        "expert#b": make_item("expert", "expert#b", relevance=-0.0, total=True),
        "expert#c": make_item("expert", "expert#c", relevance=math.inf, total=-(2**63)),
        "expert#d": make_item("expert", "expert#d", relevance=1, total="seven"),
        "expert#e": make_item("expert", "expert#e", relevance=0.1 + 0.2, total=0, rounds=""),
        "round#07": {"sk": "round#07", "kind": "round", "unknown_field": {"x": [1.5, None]},
                     "summary": ""},
        "mystery#1": {"sk": "mystery#1", "kind": "not-a-kind", "a": 1, "b": "2", "c": None},
    }
    store.write("d1", list(odd.values()), [])
    got = store.load("d1")
    assert got == odd
    # equality is not enough where 1 == 1.0 == True: the JSON text must match too
    assert json.dumps(got, sort_keys=True) == json.dumps(odd, sort_keys=True)
    assert math.copysign(1.0, got["expert#b"]["relevance"]) == -1.0


def test_numbers_and_json_fields_are_native_attributes(dynamo_store_factory):
    store = dynamo_store_factory()
    item = make_item("block", "block#00#muffin#claim#C01", line=12, inline=True,
                     targets=[{"id": "T01"}], label="")
    store.write("d1", [item], [])
    (raw,) = [a for a in raw_partition(store, "d1") if a["sk"]["S"] == item["sk"]]
    assert raw["line"] == {"N": "12"} and raw["inline"] == {"BOOL": True}
    assert raw["label"] == {"S": ""}  # empty strings are kept, not dropped
    assert json.loads(raw["targets"]["S"]) == [{"id": "T01"}]
    assert raw["_expert"] == {"S": item["expert"]}


# --------------------------------------------------------------------------- 400 KB limit


def test_the_server_enforces_the_item_size_limit(dynamo_store_factory):
    """Control: a plain put of a 500 KB item is refused, so the next tests mean something."""
    store = dynamo_store_factory()
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="size"):
        store.client.put_item(TableName=store.table, Item={
            "pk": {"S": "dialogue#x"}, "sk": {"S": "big"}, "body": {"S": "x" * 500_000}})


def test_huge_incompressible_body_is_split_into_parts_and_read_back(dynamo_store_factory):
    from indexer.store.dynamodb import encode_item

    store = dynamo_store_factory()
    body = noise(700_000)
    sk = "block#00#judge#note#n001"
    item = make_item("block", sk, body=body, label="huge")
    small = synthetic_dialogue("d1", blocks=2)
    store.write("d1", [*small.values(), item], [])
    raw = raw_partition(store, "d1")
    parts = [a for a in raw if a["sk"]["S"].startswith(sk + "#part#")]
    assert len(parts) >= 2
    assert all(len(json.dumps(a, default=lambda b: "x" * len(b))) < 400_000 for a in raw)
    assert store.load("d1") == {**small, sk: item}
    assert [h["sk"] for h in store.search("huge", dialogue_id="d1")] == [sk]
    # a new version replaces the parts (none left over); a small one drops them all
    item2 = dict(item, body=noise(600_000, seed=8))
    store.write("d1", [item2], [])
    assert store.load("d1")[sk] == item2
    left = sorted(a["sk"]["S"] for a in raw_partition(store, "d1") if "#part#" in a["sk"]["S"])
    assert left == sorted(p["sk"]["S"] for p in encode_item("d1", item2)[1])
    assert not set(left) & {p["sk"]["S"] for p in parts}
    item3 = dict(item, body="now small")
    fresh = dynamo_store_factory(table=store.table, create=False)  # no cached layout
    fresh.write("d1", [item3], [])
    assert not [a for a in raw_partition(store, "d1") if "#part#" in a["sk"]["S"]]
    assert store.load("d1")[sk] == item3
    # deleting a split item deletes its parts
    store.write("d1", [item2], [])
    store.write("d1", [], [sk])
    assert not [a for a in raw_partition(store, "d1") if "#part#" in a["sk"]["S"]]
    assert store.load("d1") == small


def test_parts_left_by_an_interrupted_write_are_ignored_then_cleaned(dynamo_store_factory):
    """Parts of a version whose head never landed: not read, removed by the next write."""
    from indexer.store.dynamodb import encode_item

    store = dynamo_store_factory()
    sk = "block#00#judge#note#n001"
    old = make_item("block", sk, body="short")
    store.write("d1", [old], [])
    _, parts = encode_item("d1", make_item("block", sk, body=noise(600_000)))
    for p in parts:  # what a crash between the part batch and the head batch leaves
        store.client.put_item(TableName=store.table, Item=p)
    reader = dynamo_store_factory(table=store.table, create=False)
    assert reader.load("d1") == {sk: old}
    reader.write("d1", [make_item("verdict", "verdict")], [])
    assert not [a for a in raw_partition(store, "d1") if "#part#" in a["sk"]["S"]]


# --------------------------------------------------------------------------- requests


def test_requests_per_revision(dynamo_store_factory):
    """A writer: 1 GetItem (the revision read before the load, or the run's registry Query),
    1 Query, then 3 UpdateItem (begin; the clock's ADD and the commit, after) around
    ceil(items/25) BatchWriteItem; a data key goes first, alone."""
    store = dynamo_store_factory()
    counts = count_requests(store)
    sent: list[list[str]] = []
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.BatchWriteItem",
        lambda params, **_: sent.append([
            (r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key"))
            ["sk"]["S"] for r in params["RequestItems"][store.table]]))
    items = synthetic_dialogue("d1", blocks=60)  # 71 items and a data key
    old, rev = store.load_for_update("d1")
    assert old == {} and rev.number == 0
    store.write("d1", list(items.values()), [], rev)
    assert counts["GetItem"] == 1 and counts["Query"] == 1 and counts["UpdateItem"] == 3
    assert counts["BatchWriteItem"] == 1 + math.ceil((len(items) - 1) / 25)
    assert sent[0] == ["datakey"]
    assert counts["items"] == len(items) and counts.get("internal", 0) == 0
    assert "Scan" not in counts
    # an edit: one GetItem + one Query to load, then only the changed items, 3 updates
    before = dict(counts)
    loaded, rev = store.load_for_update("d1")
    assert loaded == items and rev.number == 1
    new = {sk: dict(it) for sk, it in loaded.items()}
    new["block#00#muffin#perspective#P07"]["body"] = "edited"
    new["file#verdict.md"]["sha256"] = "f" * 64
    puts, deletes = diff(items, new)
    store.write("d1", puts, deletes, rev)
    delta = {k: counts[k] - before.get(k, 0) for k in counts}
    assert delta == {"GetItem": 1, "Query": 1, "BatchWriteItem": 1, "UpdateItem": 3,
                     "items": 2}
    assert store.revision("d1").number == 2
    assert store.file_hashes("d1") == {"round-0/muffin.md": "a" * 64, "verdict.md": "f" * 64}


def test_no_scan_on_any_read(dynamo_store_factory):
    store = dynamo_store_factory()
    counts = count_requests(store)
    for did in ("d-a", "d-b"):
        store.write(did, list(synthetic_dialogue(did).values()), [])
    store.dialogues(), store.open_tensions(), store.counts(), store.all_file_hashes()
    store.search("Body"), store.file_hashes("d-a"), store.describe()
    assert "Scan" not in counts
    # the analytics reads are index Queries (one each here), not partition loads
    n = counts["Query"]
    store.dialogues(), store.open_tensions(), store.counts(), store.all_file_hashes()
    assert counts["Query"] - n == 4


def test_secondary_indexes(dynamo_store_factory):
    store = dynamo_store_factory()
    for did in ("d-a", "d-b"):
        store.write(did, list(synthetic_dialogue(did, blocks=3).values()), [])
    assert [(t["dialogue_id"], t["id"]) for t in store.by_status("tension", "resolved")] == [
        ("d-a", "T02"), ("d-b", "T02")]
    assert [d["dialogue_id"] for d in store.by_status("dialogue", "open")] == ["d-a", "d-b"]
    store.write("d-b", [make_item("block", "block#01#eclair#claim#C01", expert="eclair",
                                  id="C01", block_kind="claim", round=1)], [])
    assert store.contributions("eclair") == [{
        "dialogue_id": "d-b", "sk": "block#01#eclair#claim#C01", "block_kind": "claim",
        "round": 1, "id": "C01"}]
    want = sorted((d, it["id"]) for d in ("d-a", "d-b")
                  for it in synthetic_dialogue(d, blocks=3).values()
                  if it["kind"] == "block" and it["expert"] == "x")
    assert len(want) == 6
    assert [(c["dialogue_id"], c["id"]) for c in store.contributions("x")] == want
    assert store.describe()["indexes"] == ["by_category", "by_expert", "by_status", "files"]


# --------------------------------------------------------------------------- administration


def _repo(tmp_path: Path, endpoint: str | None, table: str) -> Path:
    root = tmp_path / "repo"
    (root / ".blue" / "dialogues").mkdir(parents=True)
    (root / ".blue" / "config.yaml").write_text(
        "storage:\n  backend: dynamodb\n  dynamodb:\n"
        f"    table: {table}\n    region: {REGION}\n"
        + (f"    endpoint_url: {endpoint}\n" if endpoint else "")
        + "    max_attempts: 2\n")
    return root


def test_table_create_is_idempotent_and_missing_table_is_exit_3(tmp_path, dynamo_endpoint,
                                                                 dynamo_store_factory):
    store = dynamo_store_factory(create=False)
    root = _repo(tmp_path, dynamo_endpoint, store.table)
    r = cli(root, "reindex")
    assert r.returncode == 3
    assert r.stderr.strip() == (f"blue-index: DynamoDB table '{store.table}' at "
                                f"{dynamo_endpoint} does not exist; create it with "
                                "`blue-index table create`")
    r = cli(root, "table", "create")
    assert r.returncode == 0 and "created" in r.stdout
    r = cli(root, "table", "create", "--json")
    assert r.returncode == 0
    info = json.loads(r.stdout)
    assert info["created"] is False and info["status"] == "ACTIVE"
    store.delete_table()


def _bare_cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The CLI with no AWS_* / BLUE_INDEX_* variables but ``env``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "BLUE_INDEX_"))}
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), *args],
                          capture_output=True, text=True, env={**base, **env}, check=False)


def test_unreachable_endpoint_and_missing_credentials_are_one_line_exit_3(tmp_path,
                                                                       fake_aws_credentials):
    root = _repo(tmp_path, f"http://127.0.0.1:{free_port()}", "t")
    r = cli(root, "reindex")
    assert r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot reach the endpoint" in r.stderr
    r = _bare_cli(root, "list", AWS_REGION=REGION, AWS_CONFIG_FILE=str(tmp_path / "none"),
                  AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
                  AWS_EC2_METADATA_DISABLED="true")
    assert r.returncode == 3 and len(r.stderr.strip().splitlines()) == 1
    assert "no AWS credentials" in r.stderr and "Traceback" not in r.stderr
    root2 = tmp_path / "r2"
    shutil.copytree(root, root2)
    cfg = (root2 / ".blue" / "config.yaml").read_text().replace(f"region: {REGION}", "region: null")
    (root2 / ".blue" / "config.yaml").write_text(cfg)
    r = _bare_cli(root2, "list", AWS_CONFIG_FILE=str(tmp_path / "none"),
                  AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    assert r.returncode == 3 and "no AWS region" in r.stderr


def test_store_is_built_from_config_and_env(tmp_path, dynamo_endpoint):
    from indexer.store.factory import open_store

    cfg = config_mod.load(root=tmp_path, env={
        "BLUE_INDEX_BACKEND": "dynamodb", "BLUE_INDEX_DYNAMODB_TABLE": "from_env",
        "BLUE_INDEX_DYNAMODB_REGION": "eu-west-1",
        "BLUE_INDEX_DYNAMODB_ENDPOINT": dynamo_endpoint or ""})
    store = open_store(cfg)
    assert (store.table, store.region) == ("from_env", "eu-west-1")
    with pytest.raises(StoreUnavailable, match="does not exist"):
        store.load("x")
    store.close()


# --------------------------------------------------------------------------- sync parity


def _config(root: Path, source: Path) -> config_mod.Config:
    shutil.copytree(source, root / "dialogues")
    return config_mod.Config(root=root, dialogues=root / "dialogues")


def _parity(tmp_path: Path, source: Path, make) -> None:
    """Reindex the same tree into SQLite and DynamoDB through the one sync engine."""
    sq_cfg, dd_cfg = _config(tmp_path / "sq", source), _config(tmp_path / "dd", source)
    sq = SQLiteStore(tmp_path / "sq.db")
    dd = make()
    counts = count_requests(dd)
    Syncer(sq_cfg, sq).run()
    rep = Syncer(dd_cfg, dd).run()
    ids = dialogue_ids(source)  # folders and single files
    assert [d["dialogue_id"] for d in dd.dialogues()] == ids
    for did in ids:
        want = expected_items(dd_cfg.dialogues, did)  # parse + assemble, no store
        assert dd.load(did) == want
        assert dumps(export(dd.load(did))) == dumps(export(sq.load(did)))
    assert dd.counts() == sq.counts()
    assert dd.open_tensions() == sq.open_tensions()
    assert counts["items"] == rep.items_written == sum(len(sq.load(d)) for d in ids)
    # a second run writes nothing: no batch write at all
    n = counts.get("BatchWriteItem", 0)
    assert Syncer(dd_cfg, dd).run().items_written == 0
    assert counts.get("BatchWriteItem", 0) == n
    # edit one file: exactly the items that changed in SQLite are written to DynamoDB
    did = ids[0]
    target = sorted((dd_cfg.dialogues / did / "round-1").glob("*.md"))[0]
    for cfg in (sq_cfg, dd_cfg):
        f = cfg.dialogues / target.relative_to(dd_cfg.dialogues)
        f.write_text(f.read_text(encoding="utf-8").replace(" the ", " THE ", 3) + "\nMore.\n",
                     encoding="utf-8")
    before_sq = sq.load(did)
    Syncer(sq_cfg, sq).run()
    puts, deletes = diff(before_sq, sq.load(did))
    assert puts  # the edit changed something
    items_before, queries_before = counts["items"], counts["Query"]
    batches_before = counts["BatchWriteItem"]
    Syncer(dd_cfg, dd).run()
    assert counts["items"] - items_before == len(puts) + len(deletes)
    non_file = sum(1 for p in puts if not p["sk"].startswith("file#")) + sum(
        1 for d in deletes if not d.startswith("file#"))
    files = len(puts) + len(deletes) - non_file
    assert counts["BatchWriteItem"] - batches_before <= (
        math.ceil((non_file + 1) / 25) + math.ceil(files / 25))
    assert counts["Query"] - queries_before == 2  # the file-hash index + the partition
    assert dumps(export(dd.load(did))) == dumps(export(sq.load(did)))
    assert "Scan" not in counts
    sq.close()


def test_sample_dialogues_reindex_parity_with_sqlite(tmp_path, samples_dir,
                                                     dynamo_store_factory):
    _parity(tmp_path, samples_dir, dynamo_store_factory)


def test_real_corpus_reindex_parity_with_sqlite(tmp_path, corpus_dir, dynamo_store_factory):
    _parity(tmp_path, corpus_dir, dynamo_store_factory)
