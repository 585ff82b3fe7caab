"""Every keyword, alias, id form and status word shipped in grammars/*.yaml is read as the
kind FORMAT.md gives it. The expectations are tables written here from FORMAT.md 2-7 (not
read from the grammar); the grammar files only supply the list to cover, so deleting an
alias (e.g. DEFERRED) or adding one without a row here fails a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from indexer.grammar import DEFAULT_DIR, Grammar
from indexer.grammar import load as load_grammar
from indexer.judge import parse_judge
from indexer.parse import parse_markers

RESPONSE = "d/round-1/muffin.md"


def _yaml(name: str) -> Any:
    return yaml.safe_load((DEFAULT_DIR / name).read_text(encoding="utf-8"))


def _marker_files() -> list[dict[str, Any]]:
    return [d for d in (_yaml(p.name) for p in sorted(Path(DEFAULT_DIR).glob("*.yaml")))
            if isinstance(d, dict) and "dialect" in d]


# spelled keyword -> (block kind, canonical keyword, lifecycle event, convergence move, a line)
KEYWORDS: dict[str, tuple[str, str, str | None, bool, str]] = {
    # dialect A (FORMAT.md 2), and the markers seen beyond it (FORMAT.md 7)
    "PERSPECTIVE": ("perspective", "PERSPECTIVE", None, False, "[PERSPECTIVE P01: a view]"),
    "TENSION": ("tension", "TENSION", "raised", False, "[TENSION T01: a worry]"),
    "REFINEMENT": ("refinement", "REFINEMENT", "addressed", False, "[REFINEMENT on T01]"),
    "REFINED": ("refinement", "REFINEMENT", "addressed", False, "[REFINED T01]: narrower"),
    "CONCESSION": ("concession", "CONCESSION", "addressed", False,
                   "[CONCESSION to Strudel on T01]: granted"),
    "CONCEDED": ("concession", "CONCESSION", "addressed", False, "[CONCEDED on T01]"),
    "CONCEDE-WITH-SCOPE": ("concession", "CONCEDE-WITH-SCOPE", "addressed", False,
                           "[CONCEDE-WITH-SCOPE on T01]"),
    "RESOLVED": ("resolved", "RESOLVED", "resolved", False, "[RESOLVED MUFFIN R0-T01]"),
    "RESOLUTION": ("resolution", "RESOLUTION", "resolved", False, "[RESOLUTION T01: done]"),
    "ACKNOWLEDGED": ("acknowledged", "ACKNOWLEDGED", "acknowledged", False,
                     "[ACKNOWLEDGED T01: Future work.]"),
    "ACKNOWLEDGE": ("acknowledged", "ACKNOWLEDGED", "acknowledged", False, "[ACKNOWLEDGE T01]"),
    "ACCEPT": ("accept", "ACCEPT", "resolved", False, "[ACCEPT] T01 closed."),
    "ACCEPTED": ("accept", "ACCEPT", "resolved", False, "[ACCEPTED T01]"),
    "DEFER": ("defer", "DEFER", "deferred", False, "[DEFER T01]"),
    "DEFERRED": ("defer", "DEFER", "deferred", False, "[DEFERRED T01]: later"),
    "CONFIRM": ("confirm", "CONFIRM", None, False, "[CONFIRM T01]"),
    "CONFIRMED": ("confirm", "CONFIRM", None, False, "[CONFIRMED T01]"),
    "CHALLENGE": ("challenge", "CHALLENGE", None, False, "[CHALLENGE: T01 is too broad]"),
    "FINAL POSITION": ("position", "FINAL POSITION", None, False, "[FINAL POSITION]"),
    "CONVERGENCE CONFIRMED": ("move", "CONVERGENCE CONFIRMED", None, True,
                              "[CONVERGENCE CONFIRMED]"),
    "DESIGN CONVERGENCE CONFIRMED": ("move", "DESIGN CONVERGENCE CONFIRMED", None, True,
                                     "[DESIGN CONVERGENCE CONFIRMED]"),
    "CONVERGENCE PROPOSAL": ("move", "CONVERGENCE PROPOSAL", None, True,
                             "[CONVERGENCE PROPOSAL]"),
    # dialect B (RFC 0051): references, moves, verdicts
    "RE": ("reference", "RE", None, False, "[RE T0101]"),
    "RE:SUPPORT": ("reference", "RE:SUPPORT", None, False, "[RE:SUPPORT R0101]"),
    "RE:SUPPORTS": ("reference", "RE:SUPPORT", None, False, "[RE:SUPPORTS R0101]"),
    "RE:OPPOSE": ("reference", "RE:OPPOSE", None, False, "[RE:OPPOSE P0101]"),
    "RE:OPPOSES": ("reference", "RE:OPPOSE", None, False, "[RE:OPPOSES P0101]"),
    "RE:REFINE": ("reference", "RE:REFINE", None, False, "[RE:REFINE P0101]"),
    "RE:ADDRESS": ("reference", "RE:ADDRESS", "addressed", False, "[RE:ADDRESS T0101]"),
    "RE:RESOLVE": ("reference", "RE:RESOLVE", "resolved", False, "[RE:RESOLVE T0101]"),
    "RE:REOPEN": ("reference", "RE:REOPEN", "reopened", False, "[RE:REOPEN T0101]"),
    "RE:QUESTION": ("reference", "RE:QUESTION", None, False, "[RE:QUESTION E0101]"),
    "RE:DEPEND": ("reference", "RE:DEPEND", None, False, "[RE:DEPEND C0101]"),
    "MOVE:DEFEND": ("move", "MOVE:DEFEND", None, False, "[MOVE:DEFEND P0101]"),
    "MOVE:CHALLENGE": ("move", "MOVE:CHALLENGE", None, False, "[MOVE:CHALLENGE P0002]"),
    "MOVE:BRIDGE": ("move", "MOVE:BRIDGE", None, False, "[MOVE:BRIDGE P0003 R0001]"),
    "MOVE:REQUEST": ("move", "MOVE:REQUEST", None, False, "[MOVE:REQUEST rollout data]"),
    "MOVE:CONCEDE": ("move", "MOVE:CONCEDE", None, False, "[MOVE:CONCEDE P0101]"),
    "MOVE:CONVERGE": ("move", "MOVE:CONVERGE", None, True, "[MOVE:CONVERGE]"),
    "MOVE:CONDITIONAL-CONVERGE": ("move", "MOVE:CONDITIONAL-CONVERGE", None, True,
                                  "[MOVE:CONDITIONAL-CONVERGE]"),
    "VERDICT": ("verdict", "VERDICT", None, False, "[VERDICT: ship it]"),
    "VERDICT:INTERIM": ("verdict", "VERDICT:INTERIM", None, False, "[VERDICT:INTERIM]"),
    "VERDICT:FINAL": ("verdict", "VERDICT:FINAL", None, False, "[VERDICT:FINAL]"),
    "DISSENT": ("verdict", "DISSENT", None, False, "[DISSENT]"),
    "MINORITY VERDICT": ("verdict", "MINORITY VERDICT", None, False,
                         "[MINORITY VERDICT: keep the monolith]"),
}
# RFC 0051 type letters (FORMAT.md 2, dialect B)
ENTITY_TYPES = {"P": "perspective", "R": "recommendation", "T": "tension", "E": "evidence",
                "C": "claim"}
# local id forms (FORMAT.md 2-3): written -> normalised
ID_FORMS = {"P1": "P01", "P01": "P01", "t1": "T01", "T-NEW": "T-NEW", "T-new": "T-NEW",
            "T04-R1": "T04-R1", "T4-R1": "T04-R1", "T01-RESPONSE": "T01-RESPONSE"}
PLACEHOLDERS = {"NEW"}
# words read before targets (`[REFINEMENT on T01]`, `[CONCESSION to Strudel on T01]`)
PREPOSITIONS = {"REFINEMENT": {"on"}, "CONCESSION": {"on", "to"},
                "CONCEDE-WITH-SCOPE": {"on", "to"}}
TOLERATED = {"on", "to", "for", "about", "re"}


def shipped_keywords() -> set[str]:
    out: set[str] = set()
    for doc in _marker_files():
        out |= {Grammar.canonical(k) for k in doc.get("keywords") or {}}
        out |= {Grammar.canonical(k) for k in doc.get("aliases") or {}}
    return out


def test_every_shipped_keyword_and_alias_has_a_row() -> None:
    assert shipped_keywords() == set(KEYWORDS)


def _cases() -> list[str]:
    return sorted(set(KEYWORDS) | shipped_keywords())  # a grammar-only spelling fails below


@pytest.mark.parametrize("spelled", _cases())
def test_keyword_reads_as_its_kind(spelled: str) -> None:
    assert spelled in KEYWORDS, f"{spelled} is in grammars/ but has no expected kind here"
    kind, canonical, event, converges, line = KEYWORDS[spelled]
    g = load_grammar()
    text = f"[MUFFIN-P0101: a view]\n\n{line}\n" if spelled.startswith("RE") else f"{line}\n"
    blocks, diags = parse_markers(text, g, RESPONSE, "muffin")
    b = blocks[-1]
    assert (b.kind, b.keyword) == (kind, canonical), (line, [d.code for d in diags])
    assert "unknown-keyword" not in {d.code for d in diags}
    assert g.event_of(b.keyword, b.kind) == event
    assert g.converges(b.keyword) is converges
    # at the start of a line the keyword is case-insensitive; inside a sentence it is read
    # in upper case only
    low = line.replace(spelled, spelled.lower(), 1)
    assert parse_markers(f"{low}\n", g, RESPONSE, "muffin")[0][-1].keyword == canonical
    inline = parse_markers(f"As said, {line}\n", g, RESPONSE, "muffin")[0]
    assert [(x.kind, x.keyword, x.inline) for x in inline] == [(kind, canonical, True)]


def test_every_entity_type_reads_as_its_kind() -> None:
    shipped = {k: v for d in _marker_files() for k, v in (d.get("entity_types") or {}).items()}
    assert set(shipped) == set(ENTITY_TYPES)
    g = load_grammar()
    for letter, kind in ENTITY_TYPES.items():
        blocks, diags = parse_markers(f"[MUFFIN-{letter}0102: x]\n", g, RESPONSE, "muffin")
        assert [(b.kind, b.id) for b in blocks] == [(kind, f"{letter}0102")] and not diags
    assert g.raises_tension("tension") and not g.raises_tension("claim")


@pytest.mark.parametrize(("written", "normal"), sorted(ID_FORMS.items()))
def test_id_form_normalises(written: str, normal: str) -> None:
    kw = "PERSPECTIVE" if normal.startswith("P") else "TENSION"
    blocks, diags = parse_markers(f"[{kw} {written}: x]\n", load_grammar(), RESPONSE, "muffin")
    assert [b.id for b in blocks] == [normal] and not diags


def test_placeholders_prepositions_and_families() -> None:
    docs = _marker_files()
    ids = next(d["ids"] for d in docs if "ids" in d)
    assert {w.upper() for w in ids["placeholders"]} == PLACEHOLDERS
    shipped = {Grammar.canonical(k): set(v["prepositions"]) for d in docs
               for k, v in (d.get("keywords") or {}).items() if v.get("prepositions")}
    assert shipped == PREPOSITIONS
    tolerated = {w for d in docs for w in d.get("tolerated_prepositions") or []}
    assert tolerated == TOLERATED
    g = load_grammar()
    for kw, words in PREPOSITIONS.items():
        for w in sorted(TOLERATED):
            blocks, diags = parse_markers(f"[{kw} {w} T01]\n", g, RESPONSE, "muffin")
            assert [t.id for t in blocks[0].targets] == ["T01"], (kw, w)
            assert ({d.code for d in diags} == set()) is (w in words), (kw, w)
    # a family word with a subtype the grammar lacks is an unknown keyword, not RE + label
    for fam in ("RE", "MOVE", "VERDICT"):
        blocks, diags = parse_markers(f"[{fam}:NOSUCH x]\n", g, RESPONSE, "muffin")
        assert blocks[0].kind == "unknown" and blocks[0].keyword == f"{fam}:NOSUCH"


# -- the Judge's status words (grammars/judge.yaml), FORMAT.md 6-7 ---------------------------

STATUS_WORDS = {
    "open": ["open", "unresolved", "new", "active", "pending"],
    "addressed": ["addressed", "partially addressed", "refined", "under discussion",
                  "in progress"],
    "resolved": ["resolved", "closed", "settled", "eliminated", "fully resolved",
                 "resolved by consensus"],
    "reopened": ["reopened", "re-opened", "re opened"],
    "acknowledged": ["acknowledged", "accepted", "accepted risk", "not blocking",
                     "future work"],
    "deferred": ["deferred", "postponed", "parked", "out of scope"],
    "narrowed": ["narrowed", "scoped", "reduced"],
    "superseded": ["superseded", "evolved", "subsumed", "replaced by", "merged"],
    "partially-resolved": ["partially resolved", "partly resolved", "mostly resolved"],
}
SECTION_WORDS = {
    "open": ["open", "open tensions", "unresolved", "still open"],
    "resolved": ["resolved", "resolved tensions", "closed"],
    "addressed": ["partially addressed", "addressed"],
    "narrowed": ["narrowed"], "superseded": ["superseded"], "deferred": ["deferred"],
    "acknowledged": ["acknowledged"], "partially-resolved": ["partially resolved"],
}


def _pairs(table: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(w, canon) for canon, words in table.items() for w in words}


def test_every_status_word_has_a_row() -> None:
    doc = _yaml("judge.yaml")
    assert _pairs(doc["statuses"]) == _pairs(STATUS_WORDS)
    assert _pairs(doc["section_statuses"]) == _pairs(SECTION_WORDS)


@pytest.mark.parametrize(("word", "status"), sorted(_pairs(STATUS_WORDS)))
def test_status_word_in_a_ledger_row(word: str, status: str) -> None:
    text = (f"# Tensions\n\n| ID | Tension | Status |\n|---|---|---|\n"
            f"| T01 | a worry | **{word.title()}** in R2 |\n")
    data, _ = parse_judge("ledger", text, "d/tensions.md")
    assert [e["status"] for e in data["entries"]] == [status]


@pytest.mark.parametrize(("word", "status"), sorted(_pairs(SECTION_WORDS)))
def test_section_word_over_a_table(word: str, status: str) -> None:
    text = (f"# Tensions\n\n## {word.title()}\n\n| ID | Tension | Resolution |\n"
            f"|---|---|---|\n| T01 | a worry | x |\n")
    data, _ = parse_judge("ledger", text, "d/tensions.md")
    assert [e["status"] for e in data["entries"]] == [status]
