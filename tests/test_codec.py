"""codec: items follow SCHEMA exactly; parsed_files_from_items round-trips blocks and data."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.assemble import assemble
from indexer.codec import parsed_files_from_items, to_items
from indexer.export import dumps, export
from indexer.items import SCHEMA
from indexer.model import Block, Diagnostic, ParsedFile
from tests.support.assembly import D, blk, ledger, pfile, ref

_TYPES = {"str": (str,), "int": (int,), "float": (float, int), "bool": (bool,),
          "json": (list, dict)}


def _sample_files() -> list[ParsedFile]:
    warn = Diagnostic("irregular-form", "warning", "odd", "fix it", f"{D}/round-1/muffin.md", 4, 2)
    err = Diagnostic("unclosed-marker", "error", "bad", "", f"{D}/round-1/scone.md", 1, None)
    return [
        pfile("expert-pool.json", data={"domain": "d", "question": "q", "experts": []}),
        pfile("round-0/muffin.md", [blk("perspective", 1, "P01", "p", body="b ✓"),
                                    blk("move", 2, None, "", keyword="MOVE:CONVERGE",
                                        inline=True, parent=0),
                                    blk("tension", 4, "T01", "t")]),
        pfile("round-1/muffin.md", [
            blk("perspective", 1, "P0101", "p"),
            blk("reference", 2, None, "", keyword="RE:SUPPORT", parent=0,
                targets=[ref("SCONE-P0101", "P0101", "scone", 1)]),
            blk("resolved", 4, None, "", targets=[ref("T01", "T01"), ref("T09", "T09")])],
            diagnostics=[warn]),
        pfile("round-1/scone.md", [blk("perspective", 1, "P0101", "s")], diagnostics=[err]),
        ledger(("MUFFIN-T01", "T01", "muffin", 0, "t", "resolved")),
    ]


def test_items_have_exactly_the_schema_fields_and_types() -> None:
    items = to_items(assemble(D, _sample_files()))
    kinds = {i["kind"] for i in items.values()}
    assert {"dialogue", "file", "expert", "round", "block", "tension", "event", "ref",
            "diagnostic"} <= kinds
    for sk, item in items.items():
        assert item["sk"] == sk
        schema = SCHEMA[item["kind"]]
        assert set(item) == set(schema), sk
        for name, value in item.items():
            if value is not None:
                assert isinstance(value, _TYPES[schema[name]]), (sk, name, value)
                if schema[name] in ("int", "str"):
                    assert not isinstance(value, bool), (sk, name)
    json.dumps(items)  # JSON-able as is


def test_file_item_counts_and_diagnostic_items() -> None:
    items = to_items(assemble(D, _sample_files()))
    muffin = items["file#round-1/muffin.md"]
    assert (muffin["errors"], muffin["warnings"]) == (0, 1)
    assert (items["file#round-1/scone.md"]["errors"]) == 1
    assert items["diag#round-1/muffin.md#00001"]["code"] == "irregular-form"
    dialogue_level = [i for sk, i in items.items() if sk.startswith("diag#dialogue#")]
    assert any(i["code"] == "unresolved-target" and "T09" in i["message"]
               for i in dialogue_level)
    assert items["meta"]["blocks"] == sum(1 for i in items.values() if i["kind"] == "block")


def test_round_trip_blocks_data_and_diagnostics() -> None:
    files = _sample_files()
    back = parsed_files_from_items(to_items(assemble(D, files)))
    assert set(back) == {f.path for f in files}
    for f in files:
        assert back[f.path].to_dict() == f.to_dict()


def test_reassembling_from_items_gives_the_same_items() -> None:
    items = to_items(assemble(D, _sample_files()))
    again = to_items(assemble(D, parsed_files_from_items(items).values()))
    assert again == items


def test_export_depends_only_on_items_and_is_canonical() -> None:
    items = to_items(assemble(D, _sample_files()))
    text = dumps(export(items))
    # Items that went through a store (JSON, another key order) export to the same bytes.
    shuffled = dict(reversed(list(json.loads(json.dumps(items)).items())))
    assert dumps(export(shuffled)) == text
    assert text.endswith("}\n") and "✓" in text
    doc = json.loads(text)
    assert doc["dialogue"]["id"] == D
    t = next(t for t in doc["tensions"] if t["key"] == "00#muffin#tension#T01")
    assert [e["kind"] for e in t["events"]] == ["raised", "resolved"]
    assert t["ledger_status"] == "resolved"
    assert [p["key"] for p in doc["perspectives"]] == [
        "00#muffin#perspective#P01", "01#muffin#perspective#P0101", "01#scone#perspective#P0101"]


# --- property: any parsed files round-trip ----------------------------------------------
_ids = st.one_of(st.none(), st.sampled_from(["P01", "T01", "T02", "T-NEW", "P0101", "E0203"]))
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_refs = st.lists(st.builds(lambda e, i, r: ref(f"{(e or '').upper()} {i}".strip(), i, e, r),
                           st.sampled_from([None, "muffin", "scone"]),
                           st.sampled_from(["T01", "P01", "T02"]),
                           st.one_of(st.none(), st.integers(0, 3))), max_size=3)


@st.composite
def _blocks(draw: st.DrawFn) -> list[Block]:
    n = draw(st.integers(0, 6))
    out = []
    for i in range(n):
        kind = draw(st.sampled_from(["perspective", "tension", "resolved", "refinement",
                                     "reference", "move", "unknown"]))
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        out.append(Block(kind=kind, keyword=kind.upper(), line=draw(st.integers(1, 500)),
                         column=draw(st.integers(1, 9)), end_line=draw(st.integers(0, 600)),
                         id=(i_ := draw(_ids)), raw_id=i_, label=draw(_text), body=draw(_text),
                         targets=draw(_refs), mentions=draw(_refs),
                         inline=draw(st.booleans()), parent=parent))
    return out


@st.composite
def _files(draw: st.DrawFn) -> list[ParsedFile]:
    rels = draw(st.lists(st.sampled_from(
        ["round-0/muffin.md", "round-0/scone.md", "round-1/muffin.md", "round-2/scone.md",
         "round-1.summary.md", "background.md", "verdict.md", "round-1/panel.json"]),
        unique=True, max_size=6))
    out = []
    for rel in rels:
        data = draw(st.one_of(st.none(), st.fixed_dictionaries({"title": _text, "text": _text})))
        pf = pfile(rel, draw(_blocks()), data=data)
        pf.good_sha256 = draw(st.one_of(st.none(), st.just(pf.sha256)))
        out.append(pf)
    return out


@settings(max_examples=60, deadline=None)
@given(_files(), st.randoms(use_true_random=False))
def test_property_round_trip_and_order_independence(files: list[ParsedFile], rnd) -> None:
    items = to_items(assemble(D, files))
    back = parsed_files_from_items(items)
    for f in files:
        got = back[f.path]
        assert [b.to_dict() for b in got.blocks] == [b.to_dict() for b in f.blocks]
        assert (got.data, got.good_sha256, got.sha256) == (f.data, f.good_sha256, f.sha256)
    shuffled = files[:]
    rnd.shuffle(shuffled)
    assert to_items(assemble(D, shuffled)) == items
