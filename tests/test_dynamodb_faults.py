"""Faults between the client and a real moto server: throttling, partial batches, an outage
mid-sync, and a server that restarts empty. Faults are injected at the HTTP level by
tests/support/dynamo.py's FaultProxy (boto3 runs unmodified); the reference state is a
SQLite reindex of the same files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.export import dumps, export
from indexer.store.base import StoreUnavailable
from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import FaultProxy, MotoServer, count_requests


@pytest.fixture
def proxy(dynamo_endpoint):
    if dynamo_endpoint is None:
        pytest.skip("fault injection needs a local endpoint, not real AWS")
    p = FaultProxy(dynamo_endpoint).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def reference(tmp_path_factory, samples_dir):
    """The sample dialogues reindexed into SQLite: ``{dialogue id: items}`` and counts."""
    root = tmp_path_factory.mktemp("ref")
    cfg = _config(root, samples_dir)
    store = SQLiteStore(root / "ref.db")
    Syncer(cfg, store).run()
    ids = [d["dialogue_id"] for d in store.dialogues()]
    out = {did: store.load(did) for did in ids}, store.counts()
    store.close()
    return out


def _config(root: Path, source: Path) -> config_mod.Config:
    shutil.copytree(source, root / "dialogues")
    return config_mod.Config(root=root, dialogues=root / "dialogues")


def _same_as_reference(store, reference) -> None:
    items, counts = reference
    assert [d["dialogue_id"] for d in store.dialogues()] == sorted(items)
    for did, want in items.items():
        got = store.load(did)
        assert got == want
        assert dumps(export(got)) == dumps(export(want))
    assert store.counts() == counts  # nothing duplicated, nothing left over


def test_throttling_and_partial_batches_converge(tmp_path, samples_dir, proxy, reference,
                                                 dynamo_store_factory):
    direct = dynamo_store_factory()
    store = dynamo_store_factory(endpoint_url=proxy.endpoint, table=direct.table,
                                 create=False)
    calls = count_requests(store)
    proxy.throttle_every = 5  # every 5th request: ProvisionedThroughputExceededException
    proxy.partial_every = 2  # every 2nd forwarded batch: half comes back unprocessed
    rep = Syncer(_config(tmp_path, samples_dir), store).run()
    assert proxy.throttled >= 3 and proxy.partials >= 3  # the faults really happened
    # the resends of UnprocessedItems are separate calls, so more calls than 25-item batches
    assert calls["BatchWriteItem"] > sum(
        -(-len(v) // 25) for v in reference[0].values())
    assert rep.items_written == sum(len(v) for v in reference[0].values())
    proxy.heal()
    _same_as_reference(direct, reference)
    assert Syncer(_config(tmp_path / "again", samples_dir), store).run().items_written == 0


@pytest.mark.parametrize("cut_after", [1, 5])
def test_outage_mid_sync_then_converge(tmp_path, samples_dir, proxy, reference, cut_after,
                                       dynamo_store_factory):
    """The connection dies after ``cut_after`` batch writes (the server keeps its state):
    the run fails with a one-line StoreUnavailable; a reader never sees the half-written
    dialogue (it sees a whole revision, or is told a write is unfinished); the next run of
    the same writer takes its unfinished write over and converges."""
    direct = dynamo_store_factory(wait_s=0.3)
    store = dynamo_store_factory(endpoint_url=proxy.endpoint, table=direct.table,
                                 create=False, max_attempts=2)
    cfg = _config(tmp_path, samples_dir)
    proxy.cut_after_writes = cut_after
    with pytest.raises(StoreUnavailable, match="cannot reach the endpoint"):
        Syncer(cfg, store).run()
    assert proxy.dropped >= 1
    items, _ = reference
    unfinished = 0
    for did, want in items.items():
        try:
            got = direct.load(did)
        except StoreUnavailable as e:
            assert f"dialogue {did} is being written by" in str(e)
            unfinished += 1
            continue
        assert got in ({}, want)  # a whole revision or nothing, never a part
    assert unfinished == 1  # the dialogue whose write was cut
    proxy.heal()
    Syncer(cfg, store).run()
    _same_as_reference(direct, reference)
    assert Syncer(cfg, store).run().items_written == 0


def test_server_restart_loses_the_table_then_create_and_converge(tmp_path, samples_dir,
                                                                 reference,
                                                                 dynamo_store_factory):
    """moto keeps its state in memory: a restart loses the table. The next run says so
    (exit-3 error naming the fix); after `table create` a reindex rebuilds everything
    (the sync trusts the store's file items, not the local hash cache)."""
    server = MotoServer(log=tmp_path / "moto.log").start()
    try:
        store = dynamo_store_factory(endpoint_url=server.endpoint, max_attempts=2)
        cfg = _config(tmp_path, samples_dir)
        Syncer(cfg, store).run()
        _same_as_reference(store, reference)
        server.restart()
        with pytest.raises(StoreUnavailable, match="does not exist; create it with"):
            Syncer(cfg, store).run()
        store.create_table()
        rep = Syncer(cfg, store).run()
        assert rep.items_written == sum(len(v) for v in reference[0].values())
        _same_as_reference(store, reference)
    finally:
        server.stop()
