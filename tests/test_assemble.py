"""assemble() on hand-built ParsedFiles: resolution order, lifecycle, metadata, robustness."""

from __future__ import annotations

import random

from indexer.assemble import assemble
from indexer.codec import to_items
from indexer.dialogue import Dialogue, Tension
from tests.support.assembly import D, blk, ledger, pfile, ref


def _t(d: Dialogue, key: str) -> Tension:
    return next(t for t in d.tensions if t.key == key)


def _refs_from(d: Dialogue, source: str) -> list[tuple[str | None, str]]:
    return [(r.target, r.rule) for r in d.references if r.source == source and r.type != "mention"]


def _codes(d: Dialogue) -> list[str]:
    return [x.code for x in d.diagnostics]


def worked_files() -> list:
    """The FORMAT.md section 3 cases, shaped like the real corpus (labels are made up)."""
    return [
        pfile("round-0/macaron.md", [blk("perspective", 1, "P01", "a"),
                                     blk("tension", 4, "T01", "no plan b")]),
        pfile("round-0/strudel.md", [blk("tension", 1, "T01", "schema first")]),
        pfile("round-1/macaron.md", [
            blk("resolved", 3, None, "MACARON-T01 (no plan b)", targets=[ref("T01", "T01")],
                mentions=[ref("MACARON-T01", "T01", "macaron")]),
            blk("tension", 6, "T01", "cost unmeasured"),
        ]),
        pfile("round-1/muffin.md", [blk("tension", 1, "T01", "staleness")]),
        pfile("round-1/eclair.md", [blk("tension", 1, "T01", "leakage")]),
        pfile("round-1/strudel.md", [blk("tension", 1, "T01", "trait shape")]),
        pfile("round-2/cannoli.md", [
            blk("resolved", 7, None, "", targets=[ref("MUFFIN R1-T01", "T01", "muffin", 1),
                                                  ref("MACARON R1-T01", "T01", "macaron", 1),
                                                  ref("ECLAIR R1-T01", "T01", "eclair", 1)]),
        ]),
        pfile("round-2/strudel.md", [
            blk("tension", 7, "T01", "graph assembly"),
            blk("resolved", 10, None, "STRUDEL R1-T01 (trait shape)",
                targets=[ref("STRUDEL R1-T01", "T01", "strudel", 1)]),
        ]),
        pfile("round-3/strudel.md", [blk("resolved", 7, "T01", "graph assembly",
                                         targets=[ref("T01", "T01")])]),
    ]


def test_worked_resolution_cases() -> None:
    d = assemble(D, worked_files())
    assert _refs_from(d, "01#macaron#resolved#n001") == [("00#macaron#tension#T01", "mention")]
    assert sorted(_refs_from(d, "02#cannoli#resolved#n001")) == [
        ("01#eclair#tension#T01", "qualified"), ("01#macaron#tension#T01", "qualified"),
        ("01#muffin#tension#T01", "qualified")]
    assert _refs_from(d, "02#strudel#resolved#n001") == [("01#strudel#tension#T01", "qualified")]
    # A RESOLVED block with an id keeps it in its key; the target is Strudel's T01 of round 2.
    assert _refs_from(d, "03#strudel#resolved#T01") == [("02#strudel#tension#T01", "own")]
    assert _t(d, "02#strudel#tension#T01").status == "resolved"
    assert _t(d, "00#strudel#tension#T01").status == "open"
    assert _t(d, "00#macaron#tension#T01").status == "resolved"
    assert _t(d, "01#macaron#tension#T01").status == "resolved"
    assert "unresolved-target" not in _codes(d)


def test_ledger_defined_unqualified_id() -> None:
    files = [
        pfile("round-0/muffin.md", [blk("tension", 1, "T01", "muffin's own")]),
        pfile("round-0/scone.md", [blk("tension", 1, "T02", "release trains")]),
        pfile("round-1/muffin.md", [blk("resolved", 5, None, "note",
                                        targets=[ref("T02", "T02")])]),
        ledger(("T02", "T02", None, None, "release trains", "resolved")),
    ]
    d = assemble(D, files)
    # Rule 2 wins over rule 4: the ledger's T02 (which holds Scone's T02, same label), not
    # anything of Muffin's.
    assert _refs_from(d, "01#muffin#resolved#n001") == [("ledger#T02", "ledger")]
    t = _t(d, "ledger#T02")
    assert (t.status, t.ledger_status, t.ledger_id) == ("resolved", "resolved", "T02")
    assert [(n["key"], n["rule"]) for n in t.names] == [("00#scone#tension#T02", "label")]
    assert "00#scone#tension#T02" not in {x.key for x in d.tensions}


def test_ledger_only_tension_and_unmatched_warning() -> None:
    files = [
        pfile("round-0/muffin.md", [blk("tension", 1, "T01", "x")]),
        pfile("round-1/muffin.md", [blk("resolved", 5, None, "", targets=[ref("T07", "T07")])]),
        ledger(("T07", "T07", None, None, "only the judge saw it", "open"),
               ("MUFFIN-T01", "T01", "muffin", 0, "x", "deferred")),
    ]
    d = assemble(D, files)
    t = _t(d, "ledger#T07")
    assert t.ledger_status == "open" and t.status == "resolved" and t.file == "tensions.md"
    assert _refs_from(d, "01#muffin#resolved#n001") == [("ledger#T07", "ledger")]
    warn = next(x for x in d.diagnostics if x.code == "ledger-unmatched")
    assert "T07" in warn.message and warn.file == f"{D}/tensions.md" and warn.line == 10
    m = _t(d, "00#muffin#tension#T01")
    assert (m.status, m.ledger_status, m.effective_status, m.is_open) == \
        ("open", "deferred", "deferred", False)


def test_unresolved_target_warns_with_id_file_line() -> None:
    d = assemble(D, [pfile("round-1/galette.md", [
        blk("refinement", 12, None, "", targets=[ref("T09", "T09")])])])
    (w,) = [x for x in d.diagnostics if x.code == "unresolved-target"]
    assert "T09" in w.message and w.file == f"{D}/round-1/galette.md" and w.line == 12
    (r,) = d.references
    assert (r.target, r.resolved, r.rule, r.target_raw) == (None, False, "unresolved", "T09")


def test_lifecycle_events_and_status_by_round() -> None:
    files = [
        pfile("round-0/muffin.md", [blk("tension", 2, "T01", "t")]),
        pfile("round-1/donut.md", [blk("concession", 3, None, "", keyword="CONCESSION",
                                       targets=[ref("MUFFIN-T01", "T01", "muffin")])]),
        pfile("round-2/muffin.md", [blk("resolved", 4, None, "", targets=[ref("T01", "T01")])]),
        pfile("round-3/donut.md", [
            blk("perspective", 1, "P01", "p"),
            blk("reference", 2, None, "", keyword="RE:REOPEN", parent=0,
                targets=[ref("MUFFIN-T01", "T01", "muffin")]),
        ]),
        pfile("round-4/muffin.md", [blk("acknowledged", 1, None, "",
                                        targets=[ref("T01", "T01")])]),
    ]
    d = assemble(D, files)
    t = _t(d, "00#muffin#tension#T01")
    assert [(e.round, e.actor, e.kind) for e in t.events] == [
        (0, "muffin", "raised"), (1, "donut", "addressed"), (2, "muffin", "resolved"),
        (3, "donut", "reopened"), (4, "muffin", "acknowledged")]
    assert t.status_by_round == {"0": "open", "1": "addressed", "2": "resolved",
                                 "3": "reopened", "4": "acknowledged"}
    assert t.status == "acknowledged" and t.ledger_status is None
    assert t.events[3].block == "03#donut#reference#n001" and t.events[3].line == 2


def test_label_mention_in_lifecycle_marker_is_an_event() -> None:
    files = [
        pfile("round-0/croissant.md", [blk("tension", 7, "T01", "t")]),
        pfile("round-1/croissant.md", [blk("refinement", 10, None, "Sharpening CROISSANT-T01",
                                           mentions=[ref("CROISSANT-T01", "T01", "croissant")])]),
        pfile("round-1/muffin.md", [blk("perspective", 1, "P01", "p", body="see CROISSANT-T01",
                                        mentions=[ref("CROISSANT-T01", "T01", "croissant")])]),
    ]
    d = assemble(D, files)
    t = _t(d, "00#croissant#tension#T01")
    assert [e.kind for e in t.events] == ["raised", "addressed"]
    mention = next(r for r in d.references if r.source == "01#muffin#perspective#P01")
    assert (mention.type, mention.target, mention.rule) == \
        ("mention", "00#croissant#tension#T01", "qualified")


def test_rfc0051_rules_warn_and_keep_reference() -> None:
    files = [pfile("round-1/muffin.md", [
        blk("perspective", 1, "P0101", "p"),
        blk("tension", 3, "T0101", "t"),
        blk("perspective", 5, "P0102", "q"),
        blk("reference", 6, None, "", keyword="RE:RESOLVE", parent=2,
            targets=[ref("P0101", "P0101")]),
        blk("reference", 7, None, "", keyword="RE:REFINE", parent=2,
            targets=[ref("T0101", "T0101")]),
        blk("reference", 8, None, "", keyword="RE:REFINE", parent=2,
            targets=[ref("P0101", "P0101")]),
    ])]
    d = assemble(D, files)
    rule_warnings = [x for x in d.diagnostics if x.code == "reference-rule"]
    assert [w.line for w in rule_warnings] == [6, 7]
    assert ("01#muffin#perspective#P0101", "own") in _refs_from(d, "01#muffin#reference#n001")
    assert _refs_from(d, "01#muffin#reference#n002") == [("01#muffin#tension#T0101", "own")]


def test_metadata_experts_rounds_status() -> None:
    files = worked_files() + [
        pfile("expert-pool.json", data={"domain": "Dom", "question": "Q?", "experts": [
            {"role": "Contrarian", "tier": "wildcard", "relevance": 0.3},
            {"role": "Nobody Here", "tier": "core", "relevance": 0.9}]}),
        pfile("round-1/panel.json", data={"agents": [
            {"name": "Muffin", "emoji": "m", "role": "DBA", "tier": "Core", "relevance": 0.95}]}),
        pfile("scoreboard.md", data={
            "title": "Scoreboard: Test Dialogue", "convergence": "✓ ACHIEVED (Round 3)",
            "experts": [{"name": "Strudel", "slug": "strudel", "role": "Contrarian",
                         "scores": {"1": 5, "0": 4}, "total": 9}],
            "alignment": [{"round": 0, "score": 10}, {"round": 3, "score": 4}],
            "totals": {}}),
        pfile("round-0.summary.md", data={"title": "Round 0", "text": "summary"}),
        pfile("verdict.md", data={"title": "Final", "text": "done", "decision": "NO"}),
    ]
    d = assemble(D, files)
    assert (d.title, d.question, d.domain, d.status) == ("Test Dialogue", "Q?", "Dom", "converged")
    assert [r.number for r in d.rounds] == [0, 1, 2, 3]
    assert d.rounds[0].experts == ["macaron", "strudel"] and d.rounds[0].summary == "summary"
    assert d.rounds[3].alignment == {"round": 3, "score": 4}
    ex = {e.slug: e for e in d.experts}
    assert sorted(ex) == ["cannoli", "eclair", "macaron", "muffin", "strudel"]
    s = ex["strudel"]
    assert (s.name, s.role, s.tier, s.relevance, s.scores, s.total, s.rounds) == \
        ("Strudel", "Contrarian", "wildcard", 0.3, {"0": 4, "1": 5}, 9, [0, 1, 2, 3])
    assert s.sources == ["pool", "response", "scoreboard"]
    assert (ex["muffin"].tier, ex["muffin"].emoji, ex["muffin"].role) == ("core", "m", "DBA")
    assert d.verdict is not None and d.verdict.decision == "NO"


def test_robustness_all_assemble_with_warnings() -> None:
    files = [
        pfile("round-0/muffin.md", [blk("tension", 1, "T01", "a"),
                                    blk("perspective", 3, "P01", "p")]),
        pfile("round-0/scone.md", [blk("tension", 1, "T01", "same local id, other expert")]),
        pfile("round-2/muffin.md", []),  # round 1 missing; a response with no markers
        pfile("round-2/scone.md", [
            blk("perspective", 1, "P01", "x"),
            blk("reference", 2, None, "", keyword="RE:DEPEND", parent=0,
                targets=[ref("P02", "P02")]),
            blk("perspective", 3, "P02", "y"),
            blk("reference", 4, None, "", keyword="RE:DEPEND", parent=2,
                targets=[ref("P01", "P01")]),
        ]),
        ledger(("DONUT-T05", "T05", "donut", 0, "never raised", "open")),
    ]
    d = assemble(D, files)
    codes = set(_codes(d))
    assert {"round-missing", "empty-response", "ledger-unmatched", "reference-cycle"} <= codes
    assert {t.key for t in d.tensions} == {"00#muffin#tension#T01", "00#scone#tension#T01",
                                           "ledger#DONUT-R0-T05"}
    missing = next(x for x in d.diagnostics if x.code == "round-missing")
    assert "round 1" in missing.message
    to_items(d)  # and the items can be built


def test_duplicate_ids_and_judge_blocks_get_distinct_keys() -> None:
    files = [
        pfile("round-0/muffin.md", [blk("tension", 1, "T-NEW", "a"),
                                    blk("tension", 5, "T-NEW", "b")]),
        pfile("background.md", [blk("move", 1, None, "", keyword="MOVE:CONVERGE")]),
        pfile("notes.md", [blk("move", 1, None, "", keyword="MOVE:CONVERGE")]),
    ]
    d = assemble(D, files)
    keys = [e.key for e in d.blocks]
    assert len(keys) == len(set(keys)) == 4
    assert "--#judge#move#n001~2" in keys and "00#muffin#tension#T-NEW~2" in keys
    assert _codes(d).count("duplicate-key") == 2


def test_deterministic_under_shuffling() -> None:
    files = worked_files() + [ledger(("T02", "T02", None, None, "x", "open"))]
    expected = to_items(assemble(D, files))
    rng = random.Random(7)
    for _ in range(10):
        shuffled = files[:]
        rng.shuffle(shuffled)
        assert to_items(assemble(D, shuffled)) == expected


def test_file_with_errors_still_assembles() -> None:
    from indexer.model import Diagnostic

    bad = pfile("round-0/muffin.md", [blk("tension", 1, "T01", "a")],
                diagnostics=[Diagnostic("unclosed-marker", "error", "x",
                                        file=f"{D}/round-0/muffin.md", line=3)])
    d = assemble(D, [bad])
    assert [t.key for t in d.tensions] == ["00#muffin#tension#T01"]


def test_malformed_judge_data_does_not_crash() -> None:
    files = [
        pfile("expert-pool.json", data={"experts": "not a list", "question": 5}),
        pfile("round-0/panel.json", data={"agents": ["x", {"name": 7}, {"name": "Muffin",
                                                                       "relevance": "high"}]}),
        pfile("scoreboard.md", data={"experts": [{"name": None}, {"name": "Muffin",
                                                                  "scores": {"x": 1, "0": 2},
                                                                  "total": "9"}],
                                     "alignment": [{"round": "zero"}, 3], "convergence": None}),
        pfile("tensions.md", data={"entries": [{"ref": None}, {"ref": {"raw": "", "id": None}},
                                               "row", {"ref": {"raw": "T01", "id": "T01"}}]}),
        pfile("verdict.md", data=None),
        pfile("round-0/muffin.md", [blk("tension", 1, "T01", "a")]),
        # identity's inputs as a damaged store might hold them
        pfile("round-1/muffin.md", [blk("resolved", 3, None, "x")],
              data={"sections": [None, [1], ["a", "b", "c"], [1, 9, "T01"]]}),
        pfile("round-1/muffin.prompt.md", data={"tensions": ["row", {"id": 5},
                                                             {"id": "T01", "raisers": "x"}]}),
        pfile("round-0.summary.md", data={"tensions": [{"id": "T01", "mentions": [3, None]}],
                                          "statements": "yes"}),
        pfile("round-1/scoreboard.md", data={"statements": [None, "x", {"text": 5}]}),
    ]
    d = assemble(D, files)
    (m,) = d.experts
    assert (m.slug, m.relevance, m.total, m.scores) == ("muffin", None, None, {"0": 2, "x": 1})
    assert d.status == "active" and d.question is None  # a verdict without a decision
    # The Judge's T01 is a tension of its own; nothing links Muffin's T01 to it (no label).
    assert {t.ledger_id for t in d.tensions} == {"T01", None}
    assert "tension-unlinked" in _codes(d)
    to_items(d)


def test_tracker_rows_keyed_by_id_and_agent() -> None:
    """Rows ``| T01 | Muffin |`` and ``| T01 | Scone |`` are two tensions; a bare T01 written
    by Scone when T01 was known is Scone's row."""
    rows = [{"ref": {"raw": "T01", "id": "T01", "expert": None, "round": None},
             "label": label, "status": status, "line": line, "agent": agent, "columns": {}}
            for label, status, line, agent in (("latency", "resolved", 5, "muffin"),
                                               ("stale flags", "open", 6, "scone"))]
    files = [
        pfile("round-0/muffin.md", [blk("tension", 1, "T01", "latency")]),
        pfile("round-0/scone.md", [blk("tension", 1, "T01", "stale flags")]),
        pfile("round-1/scone.md", [blk("refinement", 2, None, "", targets=[ref("T01", "T01")])]),
        pfile("tensions.md", data={"shape": "table", "entries": rows}),
    ]
    d = assemble(D, files)
    keyed = {t.key: t for t in d.tensions if t.ledger_id}
    assert set(keyed) == {"ledger#T01#muffin", "ledger#T01#scone"}
    assert (keyed["ledger#T01#scone"].agent, keyed["ledger#T01#scone"].ledger_status) == (
        "scone", "open")
    assert _refs_from(d, "01#scone#refinement#n001") == [("ledger#T01#scone", "ledger")]
