"""parse_file / parse_markers on small inline fixtures: every form of FORMAT.md section 2-3,
Markdown contexts where a marker is not one, role dispatch and bad input (section 5)."""

from __future__ import annotations

import hashlib

import pytest

from indexer import layout
from indexer.grammar import Grammar
from indexer.model import ERROR, WARNING
from indexer.parse import decode, parse_file, parse_markers

RESP = "2026-01-01T0000Z-d/round-1/muffin.md"


def one(marker: str) -> dict:
    """The single block of ``marker`` as a plain dict (targets as (expert, round, id))."""
    blocks, diags = parse_markers(marker + "\nbody text\n", expert="muffin")
    assert len(blocks) == 1, blocks
    b = blocks[0]
    return {"kind": b.kind, "keyword": b.keyword, "id": b.id, "label": b.label,
            "targets": [(t.expert, t.round, t.id) for t in b.targets],
            "codes": [d.code for d in diags]}


# (marker, kind, keyword, id, label, targets, diagnostic codes)
DIALECT_A = [
    ("[PERSPECTIVE P01: label]", "perspective", "PERSPECTIVE", "P01", "label", [], []),
    ("[PERSPECTIVE P1: label]", "perspective", "PERSPECTIVE", "P01", "label", [], []),
    ("[PERSPECTIVE: label]", "perspective", "PERSPECTIVE", None, "label", [], []),
    ("[perspective p1:label]", "perspective", "PERSPECTIVE", "P01", "label", [], []),
    ("[TENSION T01: label]", "tension", "TENSION", "T01", "label", [], []),
    ("[TENSION T-NEW: label]", "tension", "TENSION", "T-NEW", "label", [], []),
    ("[TENSION T04-R1: label]", "tension", "TENSION", "T04-R1", "label", [], []),
    ("[TENSION T01-RESPONSE: label]", "tension", "TENSION", "T01-RESPONSE", "label", [], []),
    ("[REFINEMENT: label]", "refinement", "REFINEMENT", None, "label", [], []),
    ("[REFINEMENT on T01]", "refinement", "REFINEMENT", None, "", [(None, None, "T01")], []),
    ("[REFINEMENT T03]", "refinement", "REFINEMENT", None, "", [(None, None, "T03")], []),
    ("[REFINEMENT on T03 — label]", "refinement", "REFINEMENT", None, "label",
     [(None, None, "T03")], []),
    ("[REFINEMENT: ECLAIR R1-T01 narrowed to x]", "refinement", "REFINEMENT", None,
     "ECLAIR R1-T01 narrowed to x", [], []),
    ("[CONCESSION: label]", "concession", "CONCESSION", None, "label", [], []),
    ("[CONCESSION on T06]", "concession", "CONCESSION", None, "", [(None, None, "T06")], []),
    ("[CONCESSION to Strudel on T01]", "concession", "CONCESSION", None, "",
     [("strudel", None, "T01")], []),
    ("[RESOLVED T01: label]", "resolved", "RESOLVED", None, "label", [(None, None, "T01")], []),
    ("[RESOLVED T01]", "resolved", "RESOLVED", None, "", [(None, None, "T01")], []),
    ("[RESOLVED: STRUDEL R1-T01 (label)]", "resolved", "RESOLVED", None,
     "STRUDEL R1-T01 (label)", [("strudel", 1, "T01")], []),
    ("[RESOLVED MUFFIN R1-T01, MACARON R1-T01, ECLAIR R1-T01]", "resolved", "RESOLVED", None, "",
     [("muffin", 1, "T01"), ("macaron", 1, "T01"), ("eclair", 1, "T01")], []),
    ("[RESOLVED on T02 -- note]", "resolved", "RESOLVED", None, "note", [(None, None, "T02")],
     ["marker-irregular"]),
    ("[RESOLVED -- note]", "resolved", "RESOLVED", None, "note", [], []),
    ("[RESOLVED: free text]", "resolved", "RESOLVED", None, "free text", [], []),
    ("[RESOLVED on T01]", "resolved", "RESOLVED", None, "", [(None, None, "T01")],
     ["marker-irregular"]),
    ("[RESOLVED MUFFIN-T01]", "resolved", "RESOLVED", None, "", [("muffin", None, "T01")], []),
    ("[RESOLVED R1-T01]", "resolved", "RESOLVED", None, "", [(None, 1, "T01")], []),
    ("[RESOLVED T0101]", "resolved", "RESOLVED", None, "", [(None, 1, "T0101")], []),
    ("[RESOLVED MUFFIN-P0101]", "resolved", "RESOLVED", None, "", [("muffin", 1, "P0101")], []),
    ("[RESOLVED T1 , T2]", "resolved", "RESOLVED", None, "", [(None, None, "T01"),
                                                              (None, None, "T02")], []),
    ("[RESOLUTION T03: text]", "resolution", "RESOLUTION", None, "text",
     [(None, None, "T03")], []),
    ("[ACKNOWLEDGED T09: Future work.]", "acknowledged", "ACKNOWLEDGED", None, "Future work.",
     [(None, None, "T09")], []),
    ("[MOVE:CONVERGE]", "move", "MOVE:CONVERGE", None, "", [], []),
    ("[move : converge]", "move", "MOVE:CONVERGE", None, "", [], []),
    ("[MOVE:BRIDGE P0003 R0001]", "move", "MOVE:BRIDGE", None, "",
     [(None, 0, "P0003"), (None, 0, "R0001")], []),
    ("[MOVE:CHALLENGE P0002]", "move", "MOVE:CHALLENGE", None, "", [(None, 0, "P0002")], []),
]
DIALECT_B = [
    ("[MUFFIN-P0101: label]", "perspective", "PERSPECTIVE", "P0101", "label", [], []),
    ("[DONUT-R0101: x]", "recommendation", "RECOMMENDATION", "R0101", "x", [],
     ["marker-expert-mismatch"]),
    ("[MUFFIN-T0101: x]", "tension", "TENSION", "T0101", "x", [], []),
    ("[MUFFIN-E0101: x]", "evidence", "EVIDENCE", "E0101", "x", [], []),
    ("[MUFFIN-C0101: x]", "claim", "CLAIM", "C0101", "x", [], []),
    ("[MOVE:DEFEND P0001]", "move", "MOVE:DEFEND", None, "", [(None, 0, "P0001")], []),
    ("[MOVE:REQUEST more data on egress]", "move", "MOVE:REQUEST", None,
     "more data on egress", [], []),
    ("[MOVE:CONCEDE DONUT-R0001]", "move", "MOVE:CONCEDE", None, "", [("donut", 0, "R0001")], []),
    ("[VERDICT:INTERIM]", "verdict", "VERDICT:INTERIM", None, "", [], []),
    ("[VERDICT:FINAL]", "verdict", "VERDICT:FINAL", None, "", [], []),
    ("[DISSENT]", "verdict", "DISSENT", None, "", [], []),
    ("[MINORITY VERDICT: label]", "verdict", "MINORITY VERDICT", None, "label", [], []),
    ("[NOSUCH: x]", "unknown", "NOSUCH", None, "x", [], ["unknown-keyword"]),
    ("[MOVE:DANCE]", "unknown", "MOVE:DANCE", None, "", [], ["unknown-keyword"]),
]


@pytest.mark.parametrize(("marker", "kind", "keyword", "id_", "label", "targets", "codes"),
                         DIALECT_A + DIALECT_B, ids=[c[0] for c in DIALECT_A + DIALECT_B])
def test_marker_forms(marker: str, kind: str, keyword: str, id_: str | None, label: str,
                      targets: list, codes: list) -> None:
    assert one(marker) == {"kind": kind, "keyword": keyword, "id": id_, "label": label,
                           "targets": targets, "codes": codes}


RE_KINDS = ["SUPPORT", "OPPOSE", "REFINE", "ADDRESS", "RESOLVE", "REOPEN", "QUESTION", "DEPEND"]


@pytest.mark.parametrize("rel", RE_KINDS)
def test_cross_references_belong_to_preceding_entity(rel: str) -> None:
    text = (f"[MUFFIN-P0101: mine]\ntext\n\n[MOVE:CONVERGE]\n\n[RE:{rel} T0001]\nwhy\n\n"
            f"[MUFFIN-T0102: next]\n[re:{rel.lower()} P0001]\n")
    blocks, diags = parse_markers(text, expert="muffin")
    assert [b.keyword for b in blocks] == ["PERSPECTIVE", "MOVE:CONVERGE", f"RE:{rel}",
                                           "TENSION", f"RE:{rel}"]
    assert (blocks[2].parent, blocks[4].parent) == (0, 3)
    assert blocks[2].kind == "reference" and blocks[2].body == "why"
    assert [t.id for t in blocks[2].targets] == ["T0001"] and diags == []


def test_bare_re_and_orphan_reference() -> None:
    blocks, diags = parse_markers("[RE: DONUT-R0001]\ntext\n")
    assert blocks[0].keyword == "RE" and [t.raw for t in blocks[0].targets] == ["DONUT-R0001"]
    assert blocks[0].parent is None and [d.code for d in diags] == ["reference-orphan"]


def test_bodies_end_at_marker_break_heading_or_eof() -> None:
    text = ("[PERSPECTIVE P01: a]\nline one\nline two\n\n[TENSION T01: b]\n"
            "t body\n---\nnot body\n[CONCESSION: c]: starts here\nmore\n## Heading\nafter\n"
            "[MOVE:CONVERGE]\n\n")
    blocks, _ = parse_markers(text)
    assert [(b.line, b.body, b.end_line) for b in blocks] == [
        (1, "line one\nline two", 3), (5, "t body", 6), (9, "starts here\nmore", 10),
        (13, "", 13)]


def test_body_keeps_markdown_source_and_code() -> None:
    text = "[PERSPECTIVE P01: a]\nSee **this**:\n\n```\n[TENSION T09: no]\n```\n\n- item\n"
    blocks, _ = parse_markers(text)
    assert len(blocks) == 1
    assert blocks[0].body == "See **this**:\n\n```\n[TENSION T09: no]\n```\n\n- item"


@pytest.mark.parametrize("text", [
    "```\n[PERSPECTIVE P01: fenced]\n```\n",
    "~~~md\n[PERSPECTIVE P01: fenced]\n~~~\n",
    "intro\n\n    [PERSPECTIVE P01: indented code]\n",
    "<div>\n[PERSPECTIVE P01: html block]\n</div>\n",
    "<!--\n[PERSPECTIVE P01: comment]\n-->\n",
    "Text with `[PERSPECTIVE P01: inline code]` in it.\n",
    "`[PERSPECTIVE P01: code span at line start]`\n",
    "text ``a\n[PERSPECTIVE P01: code span across lines]`` b\n",
    "\\[PERSPECTIVE P01: escaped]\n",
    "[PERSPECTIVE P01: a link](https://example.org)\n",
    "[a normal link] and [lower case brackets]\n",
    "- [ ] task\n- [x] done\n- [X] done too\n",
])
def test_not_a_marker(text: str) -> None:
    blocks, diags = parse_markers(text)
    assert blocks == [] and diags == []


def test_decorated_markers() -> None:
    text = ("## [MOVE:CONVERGE]\nafter heading\n\n**[PERSPECTIVE P01: bold]**\nbold body\n\n"
            "*[TENSION T01: em]*: em body\n\n- [RESOLVED T06]\n- **[CONCESSION on T02]** ok\n"
            "1. [REFINEMENT on T03]\n\n> [PERSPECTIVE P02: quoted]\n")
    blocks, diags = parse_markers(text)
    assert [(b.line, b.keyword, b.id, b.label, b.body, b.inline) for b in blocks] == [
        (1, "MOVE:CONVERGE", None, "", "after heading", False),
        (4, "PERSPECTIVE", "P01", "bold", "bold body", False),
        (7, "TENSION", "T01", "em", "em body", False),
        (9, "RESOLVED", None, "", "", False),
        (10, "CONCESSION", None, "", "ok", False),
        (11, "REFINEMENT", None, "", "", False),
        (13, "PERSPECTIVE", "P02", "quoted", "", False),
    ]
    assert [b.column for b in blocks] == [4, 3, 2, 3, 5, 4, 3]
    assert diags == []


def test_inline_markers() -> None:
    text = ("[PERSPECTIVE P01: a]\nI signal **[MOVE:CONVERGE]** with a reservation.\n\n"
            "**Moves**: [MOVE:CONVERGE]\n\n| who | move |\n|---|---|\n"
            "| Eclair | [MOVE:CONVERGE] |\n"
            "\n## Later\nsay `[MOVE:CONVERGE]` not [MOVE:CONVERGE]\n")
    blocks, diags = parse_markers(text)
    assert [(b.line, b.keyword, b.inline, b.parent, b.body) for b in blocks] == [
        (1, "PERSPECTIVE", False, None, "I signal **[MOVE:CONVERGE]** with a reservation.\n\n"
         "**Moves**: [MOVE:CONVERGE]\n\n| who | move |\n|---|---|\n| Eclair | [MOVE:CONVERGE] |"),
        (2, "MOVE:CONVERGE", True, 0, ""),
        (4, "MOVE:CONVERGE", True, 0, ""),
        (8, "MOVE:CONVERGE", True, 0, ""),
        (11, "MOVE:CONVERGE", True, None, ""),
    ]
    assert [b.column for b in blocks[1:]] == [12, 12, 12, 27] and diags == []


def test_mentions_in_label_and_body() -> None:
    text = ("[REFINEMENT: Sharpening CROISSANT-T01 from Round 0]\nThis answers STRUDEL R1-T01 "
            "and MUFFIN-P0101, not RFC-0058 nor R1-T01.\n[RESOLVED T01: MACARON-T01 (x)]\n")
    blocks, _ = parse_markers(text)
    assert [(m.raw, m.expert, m.round, m.id) for m in blocks[0].mentions] == [
        ("CROISSANT-T01", "croissant", None, "T01"), ("STRUDEL R1-T01", "strudel", 1, "T01"),
        ("MUFFIN-P0101", "muffin", 1, "P0101")]
    assert [m.raw for m in blocks[1].mentions] == ["MACARON-T01"]
    assert [t.raw for t in blocks[1].targets] == ["T01"]


def test_errors_unclosed_duplicate_bad_id() -> None:
    text = ("[PERSPECTIVE P01: a]\n[TENSION T01: never closed\n[PERSPECTIVE P1: again]\n"
            "[PERSPECTIVE PX: bad]\n[MUFFIN-P01: short typed id]\n[MUFFIN-Q0101: no such type]\n"
            "[TENSION T-NEW: a]\n[TENSION T-NEW: b]\n")
    blocks, diags = parse_markers(text, path="f.md")
    got = [(d.code, d.severity, d.line) for d in diags]
    assert sorted(got, key=lambda x: x[2]) == [
        ("marker-unclosed", ERROR, 2), ("duplicate-id", ERROR, 3), ("marker-bad-id", ERROR, 4),
        ("marker-bad-id", ERROR, 5), ("marker-bad-id", ERROR, 6)]
    assert all(d.file == "f.md" and d.hint for d in diags)
    assert "line 1" in next(d for d in diags if d.code == "duplicate-id").message


def test_irregular_forms_warn() -> None:
    blocks, diags = parse_markers("[CONCESSION Eclair is right]\n[PERSPECTIVE some label]\n")
    assert [b.label for b in blocks] == ["Eclair is right", "some label"]
    assert [(d.code, d.severity) for d in diags] == [("marker-irregular", WARNING)] * 2


def test_whitespace_and_tabs_are_free() -> None:
    blocks, diags = parse_markers("[PERSPECTIVE\tP1 :\tlabel\t]\tbody\there\n")
    assert (blocks[0].id, blocks[0].label, blocks[0].body) == ("P01", "label", "body\there")
    assert diags == []


def test_setext_underline_is_a_break_not_a_heading() -> None:
    blocks, _ = parse_markers("[PERSPECTIVE P01: a]\nbody\n---\nafter\n")
    assert [(b.line, b.body) for b in blocks] == [(1, "body")]


def test_link_reference_definition_shape_is_still_a_marker() -> None:
    blocks, _ = parse_markers("[TENSION T01]: Scale\n")
    assert [(b.id, b.body) for b in blocks] == [("T01", "Scale")]


# -- files: roles, hashes, bad input ------------------------------------------------------------
def test_parse_file_fields_and_hash() -> None:
    data = b"[PERSPECTIVE P01: a]\nbody\n"
    pf = parse_file(RESP, data)
    assert (pf.role, pf.dialogue, pf.round, pf.expert) == (layout.RESPONSE, "2026-01-01T0000Z-d",
                                                         1, "muffin")
    assert pf.sha256 == hashlib.sha256(data).hexdigest() == pf.good_sha256
    assert pf.size == len(data) and len(pf.blocks) == 1


def test_prompt_note_and_ignored_files_yield_nothing() -> None:
    data = b"```\n[PERSPECTIVE P01: t]\n```\n[PERSPECTIVE P01: template]\n"
    for rel, role in [("d/round-0/muffin.prompt.md", layout.PROMPT),
                      ("d/background.md", layout.NOTE), ("d/round-0/.#muffin.md", layout.IGNORED)]:
        pf = parse_file(rel, data)
        assert pf.role == role and pf.blocks == [] and pf.diagnostics == []
        assert pf.good_sha256 == pf.sha256


def test_verdict_file_yields_blocks() -> None:
    pf = parse_file("d/verdict.md", b"# Verdict\n\nAll experts signaled [MOVE:CONVERGE].\n")
    assert pf.role == layout.VERDICT
    assert [(b.keyword, b.inline, b.line) for b in pf.blocks] == [("MOVE:CONVERGE", True, 3)]


def test_errors_clear_good_sha() -> None:
    pf = parse_file(RESP, b"[TENSION T01: open\n")
    assert pf.has_errors and pf.good_sha256 is None
    assert pf.diagnostics[0].file == RESP


@pytest.mark.parametrize(("data", "codes"), [
    (b"[PERSPECTIVE P01: a]\nbad \xff byte\n", [("invalid-utf8", ERROR, 2)]),
    (b"[PERSPECTIVE P01: a]\x00\x01\x02", [("binary-content", ERROR, 1)]),
    (b"\xef\xbb\xbf[PERSPECTIVE P01: a]\n", [("bom", WARNING, 1)]),
    (b"[PERSPECTIVE P01: a]\r\nbody\r\n", [("crlf", WARNING, 1)]),
    (b"", [("empty-file", WARNING, 1)]),
    (b"  \n\n", [("empty-file", WARNING, 1)]),
    (b"[\n", []),
    (b"[PERSPECTIVE", [("marker-unclosed", ERROR, 1)]),
])
def test_bad_input_gives_diagnostics(data: bytes, codes: list) -> None:
    pf = parse_file(RESP, data)
    assert [(d.code, d.severity, d.line) for d in pf.diagnostics] == codes


def test_bom_and_crlf_still_parse() -> None:
    pf = parse_file(RESP, b"\xef\xbb\xbf[PERSPECTIVE P01: a]\r\nbody\r\n\r\n[TENSION T01: b]\r\n")
    assert [(b.line, b.id, b.body) for b in pf.blocks] == [(1, "P01", "body"), (4, "T01", "")]


def test_invalid_utf8_column() -> None:
    text, diags = decode(b"ok\nab\xc3(")
    assert (diags[0].line, diags[0].column) == (2, 3) and "\ufffd" in text


def test_large_file_20mb() -> None:
    para = ("word " * 199 + "word\n") * 20 + "\n"
    chunk = "[PERSPECTIVE: big]\n" + para
    n = 20_000_000 // len(chunk) + 1
    data = (chunk * n).encode()
    assert len(data) >= 20_000_000
    pf = parse_file(RESP, data)
    assert len(pf.blocks) == n and not pf.diagnostics
    assert pf.blocks[-1].body == para.strip()


def test_fifty_thousand_markers() -> None:
    n = 50_000
    text = "".join(f"[PERSPECTIVE P{i}: label {i}]\nbody {i}\n" for i in range(1, n + 1))
    pf = parse_file(RESP, text.encode())
    assert len(pf.blocks) == n and not pf.diagnostics
    assert (pf.blocks[-1].id, pf.blocks[-1].label, pf.blocks[-1].body) == (
        f"P{n}", f"label {n}", f"body {n}")


def test_many_unclosed_brackets_are_linear() -> None:
    text = "[TENSION T01: open\n" * 20_000 + "[ [ [ [\n" * 20_000
    pf = parse_file(RESP, text.encode())
    assert sum(d.code == "marker-unclosed" for d in pf.diagnostics) == 20_000


# -- linear-time inline scanning and the nesting limit (issue 13) -------------------------


def _inline_line(n: int) -> str:
    return "Moves: " + " ".join(f"[MOVE:CONVERGE] step {k}," for k in range(n)) + "\n"


def test_inline_markers_cost_one_scan_per_line(monkeypatch):
    """Thousands of inline markers on one line: each line's brackets are matched in one pass
    and its column base found once, whatever the number of markers (structural: counted
    calls, no clock). Every marker is found, at the column an independent scan gives."""
    import indexer.inline as inline_mod
    import indexer.parse as parse_mod

    calls = {"pairs": 0, "match": 0, "column": 0}

    def counting(name, fn):
        def wrapper(*a, **kw):
            calls[name] += 1
            return fn(*a, **kw)
        return wrapper

    monkeypatch.setattr(inline_mod, "bracket_pairs", counting("pairs", inline_mod.bracket_pairs))
    monkeypatch.setattr(parse_mod, "match_bracket", counting("match", parse_mod.match_bracket))
    monkeypatch.setattr(parse_mod._FileParser, "column",
                        counting("column", parse_mod._FileParser.column))
    for n in (10, 5000):
        calls.update(pairs=0, match=0, column=0)
        text = _inline_line(n)
        pf = parse_file("d/round-0/muffin.md", text.encode())
        moves = [b for b in pf.blocks if b.inline]
        want = [i + 1 for i in range(len(text)) if text.startswith("[MOVE:CONVERGE]", i)]
        assert [b.column for b in moves] == want and len(want) == n
        assert calls == {"pairs": 1, "match": 0, "column": 1}, (n, calls)


def test_bracket_pairs_agree_with_the_one_marker_matcher():
    """The one-pass matcher gives, for every '[' not escaped, what the per-marker matcher
    gives (nesting, escapes, unclosed brackets)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from indexer.inline import bracket_pairs, match_bracket

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet="[]\\ab", max_size=40))
    def check(s):
        pairs = bracket_pairs(s)
        for i, c in enumerate(s):
            if c == "[" and (i == 0 or s[i - 1] != "\\"):
                assert pairs.get(i, -1) == match_bracket(s, i), (s, i)

    check()


def test_deeply_nested_brackets_on_one_line():
    depth = 20000
    text = "Note " + "[TENSION T01: x " * depth + "]" * depth + "\n"
    pf = parse_file("d/round-0/muffin.md", text.encode())
    inline = [b for b in pf.blocks if b.inline]
    # one marker: the ones nested in its brackets are part of its label
    assert len(inline) == 1 and inline[0].column == len("Note ") + 1
    assert inline[0].label.count("[TENSION T01: x") == depth - 1


def test_markers_beyond_the_nesting_limit_are_found_and_reported():
    from indexer.parse import markdown

    limit = markdown().options["maxNesting"]
    quote = "> " * (limit + 5) + "[TENSION T01: deep in quotes]\n"
    items = "".join("  " * k + "- item\n" for k in range(limit + 3))
    listed = "  " * (limit + 3) + "- [PERSPECTIVE P01: deep in lists]\n"
    text = "# Muffin\n\n" + quote + "\n" + items + listed
    pf = parse_file("d/round-0/muffin.md", text.encode())
    found = {(b.kind, b.label, b.line) for b in pf.blocks}
    lines = text.split("\n")
    assert ("tension", "deep in quotes", lines.index(quote.rstrip("\n")) + 1) in found
    assert ("perspective", "deep in lists", lines.index(listed.rstrip("\n")) + 1) in found
    deep = [d for d in pf.diagnostics if d.code == "nesting-too-deep"]
    assert len(deep) == 1 and deep[0].severity == "warning"
    # nesting within the limit: no diagnostic, markers read as before
    shallow = parse_file("d/round-0/muffin.md", b"> > [TENSION T01: fine]\n")
    assert [b.label for b in shallow.blocks] == ["fine"]
    assert not [d for d in shallow.diagnostics if d.code == "nesting-too-deep"]


# -- inline markers are upper case only (README "What it reads"; issue 16) -----------------


@pytest.mark.parametrize("written", [
    "[tension T01: x]", "[Tension T01: x]", "[resolved T01]", "[MOVE:converge]",
    "[move:CONVERGE]", "[RE:support T0101]", "[VERDICT:final]", "[Re:SUPPORT T0101]",
])
def test_lower_case_inline_marker_is_prose(written: str) -> None:
    """Inside a sentence or a table cell only an upper-case keyword is a marker: the same
    text in upper case is one (so the case is what decides), and the lower-case one leaves
    no block and no diagnostic (the README promises none: it is prose)."""
    for text in (f"Some text {written} more.\n", f"| a | b {written} |\n|---|---|\n| c | d |\n"):
        blocks, diags = parse_markers(text, path="d/round-1/muffin.md")
        assert blocks == [] and diags == [], text
        upper = text.replace(written, written.upper())
        blocks, _ = parse_markers(upper, path="d/round-1/muffin.md")
        assert [b.inline for b in blocks] == [True], upper
    # at the start of a line keywords are case-insensitive (FORMAT.md 3)
    blocks, _ = parse_markers(f"{written}\n")
    assert [b.keyword for b in blocks] == [Grammar.canonical(written[1:-1].split(" ")[0])]
