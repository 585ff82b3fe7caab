"""`store copy`: every partition from one backend to the other, so switching is a config
change plus one command (and rolling back is switching the config back)."""

from __future__ import annotations

import json
import shutil

from indexer import config as config_mod
from indexer.export import dumps, export
from indexer.store.copy import copy_all
from indexer.store.sqlite import SQLiteStore
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import REGION
from tests.support.stores import synthetic_dialogue
from tests.support.sync import cli, dialogue_ids


def _exports(store) -> dict[str, str]:
    return {d["dialogue_id"]: dumps(export(store.load(d["dialogue_id"])))
            for d in store.dialogues()}


def test_copy_all_both_ways_is_exact_and_idempotent(tmp_path, dynamo_store_factory):
    sq = SQLiteStore(tmp_path / "a.db")
    dd = dynamo_store_factory()
    parts = {did: synthetic_dialogue(did, blocks=30) for did in ("d-a", "d-b", "d-c")}
    for did, items in parts.items():
        sq.write(did, list(items.values()), [])
    assert copy_all(sq, dd) == sum(len(v) for v in parts.values())
    for did, items in parts.items():
        assert dd.load(did) == items
    assert dd.counts() == sq.counts()
    assert copy_all(sq, dd) == 0  # already the same: nothing written
    # the destination follows the source: changes, and partitions it no longer has
    sq.delete_dialogue("d-b")
    sq.write("d-a", [dict(parts["d-a"]["meta"], title="renamed")], [])
    n = copy_all(sq, dd)
    assert n == 1 + len(parts["d-b"])
    assert [d["dialogue_id"] for d in dd.dialogues()] == ["d-a", "d-c"]
    assert dd.load("d-a")["meta"]["title"] == "renamed" and dd.load("d-b") == {}
    # and back into an empty SQLite file
    back = SQLiteStore(tmp_path / "b.db")
    copy_all(dd, back)
    assert _exports(back) == _exports(sq) and back.counts() == sq.counts()
    for s in (sq, back):
        s.close()


def test_switch_backends_with_one_command_and_roll_back(tmp_path, samples_dir,
                                                        dynamo_endpoint, dynamo_store_factory):
    """reindex on SQLite; `store copy --to dynamodb` (creates the table); switch the config:
    reindex writes nothing and every export is the same; switch back: still in step."""
    table = dynamo_store_factory(create=False).table  # deleted after the test
    root = tmp_path / "repo"
    shutil.copytree(samples_dir, root / ".blue" / "dialogues")
    conf = root / ".blue" / "config.yaml"

    def use(backend: str) -> None:
        conf.write_text(
            f"storage:\n  backend: {backend}\n  dynamodb:\n    table: {table}\n"
            f"    region: {REGION}\n"
            + (f"    endpoint_url: {dynamo_endpoint}\n" if dynamo_endpoint else ""))

    use("sqlite")
    assert cli(root, "reindex").returncode == 0
    r = cli(root, "store", "copy", "--to", "sqlite")
    assert r.returncode == 2 and "already the active backend" in r.stderr
    r = cli(root, "store", "copy", "--to", "dynamodb", "--json")
    assert r.returncode == 0, r.stderr
    copied = json.loads(r.stdout)
    sq = SQLiteStore(root / ".blue" / "blue.db")
    want = _exports(sq)
    assert copied["dialogues"] == len(want) == len(dialogue_ids(samples_dir))
    assert copied["written"] == sum(sq.counts()[k] for k in sq.counts() if k != "dialogues")
    use("dynamodb")
    r = cli(root, "reindex", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["items_written"] == 0
    cfg = config_mod.load(root=root, env={})
    from indexer.store.factory import open_store

    dd = open_store(cfg)
    assert _exports(dd) == want
    # rollback: the SQLite index was never touched
    use("sqlite")
    assert json.loads(cli(root, "reindex", "--json").stdout)["items_written"] == 0
    assert _exports(sq) == want
    sq.close()
    dd.close()
    # and a second copy writes nothing
    r = cli(root, "store", "copy", "--to", "dynamodb", "--json")
    assert json.loads(r.stdout)["written"] == 0
