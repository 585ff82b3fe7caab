"""Every backend in tests/support/stores.py BACKENDS honours the store protocols (base.py).

Written against the protocols only: expected values are the items the test wrote.
"""

from __future__ import annotations

import copy

import pytest

from indexer.items import SCHEMA, diff
from indexer.store.base import AnalyticsStore, DialogueStore, files_marker
from tests.support.stores import *  # noqa: F403 - backend fixtures live there
from tests.support.stores import BACKENDS, another_handle, make_item, synthetic_dialogue


@pytest.fixture(params=sorted(BACKENDS))
def store(request, tmp_path):
    s = BACKENDS[request.param](request, tmp_path)
    yield s
    s.close()


def _write_all(store, did, items):
    return store.write(did, list(items.values()), [])


def test_implements_both_protocols(store):
    assert isinstance(store, DialogueStore)
    assert isinstance(store, AnalyticsStore)
    assert isinstance(store.describe(), dict) and store.describe().get("backend")


def test_rekey_is_part_of_the_protocol_and_a_plain_store_has_nothing_to_reseal(store):
    """``rekey`` (what ``reindex --full`` calls on every store) re-seals nothing in a plain
    backend: it returns 0 and the partition and its revision stay as they were."""
    items = synthetic_dialogue("d1")
    _write_all(store, "d1", items)
    rev = store.revision("d1")
    assert store.rekey("d1") == 0 and store.rekey("nope") == 0
    assert store.load("d1") == items
    assert store.revision("d1").number == rev.number


def test_unknown_dialogue_loads_empty(store):
    assert store.load("nope") == {}
    assert store.file_hashes("nope") == {}
    assert store.write("nope", [], []) == 0


def test_round_trip_every_kind(store):
    items = synthetic_dialogue("d1")
    assert {it["kind"] for it in items.values()} == set(SCHEMA)
    assert _write_all(store, "d1", items) == len(items)
    assert store.load("d1") == items


def test_round_trip_types_none_unicode_and_json(store):
    items = {
        "block#00#muffin#perspective#P01": make_item(
            "block", "block#00#muffin#perspective#P01", label="Ünïcödé — 東京 🧁 \"q\" 'a'",
            body="line 1\nline 2\ttab\\ back %_ ; DROP TABLE blocks; --", inline=False,
            targets=[], mentions=[{"raw": "MUFFIN-T01", "id": "T01", "expert": "muffin",
                                   "round": None}], parent=None, id=None, raw_id=None),
        "expert#eclair": make_item("expert", "expert#eclair", relevance=0.3, total=0,
                                   rounds=[], scores={}, emoji="🥐", sources=None),
        "file#a.json": make_item("file", "file#a.json", data={"nested": {"list": [1, 2.5,
                                 True, None, "s"]}, "empty": {}}, size=0, errors=0),
        "ref#x#y#z": make_item("ref", "ref#x#y#z", resolved=True, line=None),
    }
    store.write("d1", list(items.values()), [])
    got = store.load("d1")
    assert got == items
    blk = got["block#00#muffin#perspective#P01"]
    assert blk["inline"] is False and blk["parent"] is None and blk["id"] is None
    assert type(got["ref#x#y#z"]["resolved"]) is bool
    assert type(got["expert#eclair"]["total"]) is int
    assert isinstance(got["expert#eclair"]["relevance"], float)


def test_items_with_missing_fields_come_back_without_them(store):
    item = {"sk": "round#01", "kind": "round", "number": 1, "summary": None}
    store.write("d1", [item], [])
    assert store.load("d1") == {"round#01": item}


def test_large_body_round_trips(store):
    body = ("Ein großer Absatz über Partitionen. " * 30000)[:1_000_000]
    item = make_item("block", "block#00#judge#note#n001", body=body, label="big")
    store.write("d1", [item], [])
    assert store.load("d1")["block#00#judge#note#n001"]["body"] == body


def test_partition_isolation(store):
    a, b = synthetic_dialogue("d-a"), synthetic_dialogue("d-b")
    _write_all(store, "d-a", a)
    _write_all(store, "d-b", b)
    # same sort keys in both partitions: changing or deleting one never touches the other
    changed = copy.deepcopy(a)
    changed["meta"]["title"] = "changed"
    puts, deletes = diff(a, changed)
    store.write("d-a", puts, deletes + ["file#verdict.md"])
    assert store.load("d-b") == b
    assert store.delete_dialogue("d-a") == len(a) - 1  # verdict.md's file item went
    assert store.load("d-a") == {}
    assert store.load("d-b") == b
    assert store.file_hashes("d-b") == {"round-0/muffin.md": "a" * 64, "verdict.md": "b" * 64}


def test_diff_writes(store):
    old = synthetic_dialogue("d1", blocks=6)
    _write_all(store, "d1", old)
    new = copy.deepcopy(old)
    del new["block#00#muffin#perspective#P02"]
    del new["file#verdict.md"]
    new["block#00#muffin#perspective#P01"]["body"] = "rewritten body"
    new["block#00#muffin#perspective#P01"]["targets"] = None
    new["event#00#muffin#T01#01#0001"] = make_item(
        "event", "event#00#muffin#T01#01#0001", tension="00#muffin#T01", event="resolved")
    puts, deletes = diff(old, new)
    assert store.write("d1", puts, deletes) == len(puts) + len(deletes) == 4
    assert store.load("d1") == new
    # writing the same diff again converges on the same state
    store.write("d1", puts, deletes)
    assert store.load("d1") == new
    assert store.file_hashes("d1") == {"round-0/muffin.md": "a" * 64}


def test_delete_unknown_sk_is_harmless(store):
    items = synthetic_dialogue("d1")
    _write_all(store, "d1", items)
    store.write("d1", [], ["block#99#nobody#x#n001", "weird-key"])
    assert store.load("d1") == items


def test_delete_dialogue(store):
    items = synthetic_dialogue("d1")
    _write_all(store, "d1", items)
    assert store.delete_dialogue("d1") == len(items)
    assert store.load("d1") == {}
    assert store.delete_dialogue("d1") == 0
    assert "d1" not in store.all_file_hashes()
    assert store.search("Body") == []


def test_dialogues_listing(store):
    for did in ("d-c", "d-a", "d-b"):
        _write_all(store, did, synthetic_dialogue(did))
    listed = store.dialogues()
    assert [d["id"] for d in listed] == ["d-a", "d-b", "d-c"]
    assert all(d["kind"] == "dialogue" and d["sk"] == "meta" for d in listed)
    assert listed[0]["title"] == "Dialogue d-a"


def test_file_hashes_and_all_file_hashes(store):
    _write_all(store, "d-a", synthetic_dialogue("d-a"))
    f = make_item("file", "file#round-1/eclair.md", path="round-1/eclair.md", sha256="c" * 64)
    store.write("d-b", [f], [])
    assert store.all_file_hashes() == {
        "d-a": {"round-0/muffin.md": "a" * 64, "verdict.md": "b" * 64},
        "d-b": {"round-1/eclair.md": "c" * 64},
    }


def test_search(store):
    _write_all(store, "d-a", synthetic_dialogue("d-a", words="zeppelin quorum"))
    _write_all(store, "d-b", synthetic_dialogue("d-b", words="zeppelin"))
    hits = store.search("zeppelin")
    assert {h["dialogue_id"] for h in hits} == {"d-a", "d-b"}
    assert all(h["kind"] == "block" for h in hits)
    assert len(hits) == 10
    # every word must match
    assert {h["dialogue_id"] for h in store.search("zeppelin quorum")} == {"d-a"}
    # labels are searched too; the dialogue and block kind filters apply
    assert [h["sk"] for h in store.search("Label 3", dialogue_id="d-b")] == [
        "block#00#muffin#perspective#P03"]
    assert {h["block_kind"] for h in store.search("zeppelin", kind="tension")} == {"tension"}
    assert len(store.search("zeppelin", limit=3)) == 3
    assert store.search("nothingmatchesthis") == []
    # query syntax characters are text, not errors
    for q in ('T01: (x', '"unbalanced', "a-b OR NOT", "*", "NEAR(", "round-0/muffin.md"):
        assert isinstance(store.search(q), list)


def test_search_follows_updates_and_deletes(store):
    items = synthetic_dialogue("d1", words="walrus")
    _write_all(store, "d1", items)
    sk = "block#00#muffin#perspective#P00"
    new = copy.deepcopy(items)
    new[sk]["body"] = "narwhal"
    store.write("d1", *diff(items, new))
    assert [h["sk"] for h in store.search("narwhal")] == [sk]
    assert sk not in {h["sk"] for h in store.search("walrus")}
    store.write("d1", [], [sk])
    assert store.search("narwhal") == []


def test_open_tensions(store):
    _write_all(store, "d-a", synthetic_dialogue("d-a"))
    _write_all(store, "d-b", synthetic_dialogue("d-b"))
    got = store.open_tensions()
    assert [(t["dialogue_id"], t["id"]) for t in got] == [("d-a", "T01"), ("d-b", "T01")]
    assert all(t["open"] is True for t in got)


def test_counts(store):
    a = synthetic_dialogue("d-a", blocks=4)
    _write_all(store, "d-a", a)
    _write_all(store, "d-b", synthetic_dialogue("d-b", blocks=2))
    counts = store.counts()
    assert counts["dialogues"] == 2
    assert counts["block"] == 6
    assert counts["tension"] == 4
    assert counts["file"] == 4
    assert counts["dialogue"] == 2
    assert set(SCHEMA) <= set(counts)


# --------------------------------------------------------------------------- revisions


def test_write_against_a_stale_revision_conflicts(store):
    from indexer.store.base import Conflict

    items = synthetic_dialogue("d1")
    empty, r0 = store.load_for_update("d1")
    assert empty == {} and r0.number == 0
    _write_all(store, "d1", items)  # another writer commits first
    with pytest.raises(Conflict):
        store.write("d1", [make_item("verdict", "verdict", title="late")], [], r0)
    assert store.load("d1") == items  # nothing of the refused write landed
    loaded, r1 = store.load_for_update("d1")
    assert loaded == items and r1.number > r0.number == 0
    changed = copy.deepcopy(items)
    changed["meta"]["title"] = "now"
    store.write("d1", *diff(items, changed), r1, {"commit": "c0ffee", "dirty": False})
    r2 = store.revision("d1")
    assert r2.number > r1.number and r2.provenance == {"commit": "c0ffee", "dirty": False}
    with pytest.raises(Conflict):
        store.delete_dialogue("d1", r1)
    assert store.load("d1") == changed
    assert store.delete_dialogue("d1", r2) == len(items)
    assert store.load("d1") == {} and store.revision("d1").number > r2.number


def test_put_if_absent_first_writer_wins(store):
    first = make_item("datakey", "datakey", wrapped="first")
    second = make_item("datakey", "datakey", wrapped="second")
    assert store.put_if_absent("d1", first) == first
    assert store.put_if_absent("d1", second) == first
    assert store.load("d1") == {"datakey": first}


# --- the index clock and the file markers (issue 17) -------------------------------------


def test_clock_counts_every_write_per_dialogue_and_overall(store):
    assert store.clock() == 0 and store.clock("a") == 0
    a, b = synthetic_dialogue("a"), synthetic_dialogue("b")
    store.write("a", list(a.values()), [])
    c1 = store.clock()
    assert c1 > 0 and store.clock("a") == c1 and store.clock("b") == 0
    store.write("b", list(b.values()), [])
    c2 = store.clock()
    assert c2 > c1 and store.clock("b") == c2 and store.clock("a") == c1
    assert store.write("a", [], []) == 0  # nothing written: the clock does not move
    assert store.clock() == c2
    store.write("a", [dict(a["verdict"], title="Changed")], [])
    c3 = store.clock()
    assert c3 > c2 and store.clock("a") == c3 and store.clock("b") == c2
    store.write("b", [], ["verdict"])  # a delete only is a write too
    c4 = store.clock()
    assert c4 > c3 and store.clock("b") == c4
    store.delete_dialogue("a")  # the dialogue is gone; its clock says when
    c5 = store.clock()
    assert c5 > c4 and store.clock("a") == c5 and store.load("a") == {}
    other = another_handle(store)  # a restarted process sees the same clocks
    try:
        assert (other.clock(), other.clock("a"), other.clock("b")) == (c5, c5, c4)
        other.write("c", list(synthetic_dialogue("c").values()), [])
        assert store.clock() > c5 and store.clock("c") == store.clock()
    finally:
        other.close()


def test_markers_follow_the_file_items(store):
    assert store.markers() == {}
    a, b = synthetic_dialogue("a"), synthetic_dialogue("b")
    store.write("a", list(a.values()), [])
    store.write("b", list(b.values()), [])
    store.write("n", [make_item("verdict", "verdict")], [])  # no file items: not listed
    expect = {d: files_marker(store.file_hashes(d)) for d in ("a", "b")}
    assert expect["a"] == files_marker({"round-0/muffin.md": "a" * 64, "verdict.md": "b" * 64})
    assert store.markers() == expect
    assert store.markers(["b", "n", "zz"]) == {"b": expect["b"]}
    assert store.markers([]) == {}
    edited = dict(a["file#verdict.md"], sha256="c" * 64)
    store.write("a", [edited], [])
    assert store.markers(["a"]) == {"a": files_marker({"round-0/muffin.md": "a" * 64,
                                                       "verdict.md": "c" * 64})}
    store.write("a", [dict(a["verdict"], title="Other")], [])  # no file item changed
    assert store.markers(["a"])["a"] == files_marker(store.file_hashes("a"))
    store.write("a", [], ["file#round-0/muffin.md"])
    assert store.markers(["a"]) == {"a": files_marker({"verdict.md": "c" * 64})}
    store.delete_dialogue("a")
    assert store.markers() == {"b": expect["b"]}
