"""Every DynamoDB read goes to the last page of its Query, on moto AND dynalite.

A Query returns at most 1 MB (or ``Limit`` items) per page; a store that stops after the
first page silently loses items. Two ways in: a partition over 1 MB read with the service's
own page size, and small pages (``page_size``: botocore's ``PageSize``, sent as ``Limit``)
for every read the store makes: partitions, the registry, each secondary index. Expected
values are computed from the items the test wrote, never read back through the store.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import FaultProxy, count_requests, raw_partition
from tests.support.stores import make_item, synthetic_dialogue

SERVERS = ["dynamo_store_factory", "dynalite_store_factory"]


@pytest.fixture(params=SERVERS, ids=["moto", "dynalite"])
def make(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return request.getfixturevalue(request.param)


def _noise(n: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def test_a_partition_over_one_megabyte_is_read_whole(make):
    store = make()
    blocks = {f"block#00#x#claim#C{i:03d}": make_item(
        "block", f"block#00#x#claim#C{i:03d}", id=f"C{i:03d}", body=_noise(40_000, i))
        for i in range(32)}  # 32 x 40 KB: about 1.3 MB, over one page
    items = {**synthetic_dialogue("big", blocks=2), **blocks}
    store.write("big", list(items.values()), [])
    on_server = raw_partition(store, "big")
    assert len(on_server) == len(items)  # stored as plain items: no bundles, no parts

    requests = count_requests(store)
    assert store.load("big") == items
    assert requests["Query"] >= 2, "the partition fitted in one page: the test proves nothing"
    loaded, rev = store.load_for_update("big")
    assert loaded == items
    # a rewrite against the loaded layout deletes what the last pages held too
    assert store.delete_dialogue("big", expect=rev) == len(items)
    assert raw_partition(store, "big") == []
    assert store.load("big") == {}


def test_small_pages_every_read_is_complete(make):
    store = make(page_size=2)
    ids = [f"d-{i}" for i in range(5)]
    written = {did: synthetic_dialogue(did, blocks=5) for did in ids}
    for did, items in written.items():
        store.write(did, list(items.values()), [])
    every = [(did, it) for did, items in written.items() for it in items.values()]

    requests = count_requests(store)
    for did in ids:
        assert store.load(did) == written[did]
        assert store.file_hashes(did) == {it["path"]: it["sha256"] for it in
                                          written[did].values() if it["kind"] == "file"}
    assert store.dialogue_ids() == ids
    assert [m["dialogue_id"] for m in store.dialogues()] == ids
    assert sorted((t["dialogue_id"], t["sk"]) for t in store.open_tensions()) == sorted(
        (did, it["sk"]) for did, it in every if it["kind"] == "tension" and it["open"])
    assert sorted((t["dialogue_id"], t["sk"]) for t in store.by_status("tension", "open")) \
        == sorted((did, it["sk"]) for did, it in every
                  if it["kind"] == "tension" and it["status"] == "open")
    experts = {it["expert"] for _, it in every if it["kind"] == "block"}
    for expert in experts:
        assert [(c["dialogue_id"], c["sk"]) for c in store.contributions(expert)] == sorted(
            (did, it["sk"]) for did, it in every
            if it["kind"] == "block" and it["expert"] == expert)
    files = {did: dict(sorted((it["path"], it["sha256"]) for it in items.values()
                              if it["kind"] == "file")) for did, items in written.items()}
    assert store.indexed_files() == files
    assert store.all_file_hashes() == files
    kinds = [it["kind"] for _, it in every]
    counts = store.counts()
    assert counts["dialogues"] == len(ids)
    assert {k: counts[k] for k in set(kinds)} == {k: kinds.count(k) for k in set(kinds)}
    # pages of two: each partition of len(items) needs several Queries per load
    assert requests["Query"] >= len(ids) * (len(written[ids[0]]) // 2)


def test_a_page_still_throttled_is_asked_again_from_where_the_last_page_ended(
        dynamo_endpoint, dynamo_store_factory):
    """botocore does not retry here (``max_attempts=0``), so every throttled page reaches the
    store's own retry, which must resume after the pages already read: no item lost, none
    twice, no endless restart from the first page."""
    proxy = FaultProxy(dynamo_endpoint).start()
    try:
        store = dynamo_store_factory(page_size=3)
        items = synthetic_dialogue("d1", blocks=12)
        store.write("d1", list(items.values()), [])
        reader = dynamo_store_factory(endpoint_url=proxy.endpoint, table=store.table,
                                      create=False, page_size=3, max_attempts=0)
        proxy.throttle_every = 3
        requests = count_requests(reader)
        assert reader.load("d1") == items
        assert proxy.throttled >= 2 and requests["Query"] >= len(items) // 3
    finally:
        proxy.stop()
