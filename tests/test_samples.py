"""sample_dialogues/ and tests/data/: the project's own example dialogues and the planted
broken trees. These tests pin what the samples promise to other tests (and the README):
layout, dialects, every irregular form of FORMAT.md section 2, the resolution cases of
section 3, no errors anywhere in the samples, and errors exactly where they were planted.
Lines are found by searching the files, not written down.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from indexer import layout
from indexer.assemble import assemble
from indexer.model import ERROR, ParsedFile
from indexer.parse import parse_file

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_dialogues"
DATA = REPO / "tests" / "data"
HEADED = "2026-03-02T1015Z-trunk-based-development"  # dialect A, headed ledger
TABLED = "2026-03-09T1400Z-cdn-cache-invalidation"   # dialect B, table ledger


def files_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def rel(p: Path, root: Path = SAMPLES) -> str:
    return p.relative_to(root).as_posix()


def role(p: Path, root: Path = SAMPLES) -> str:
    return layout.classify(rel(p, root)).role


@cache
def parsed(root: Path = SAMPLES) -> dict[str, ParsedFile]:
    return {rel(p, root): parse_file(rel(p, root), p.read_bytes()) for p in files_of(root)}


def responses(dialogue: str) -> list[Path]:
    return [p for p in files_of(SAMPLES / dialogue) if role(p) == layout.RESPONSE]


def line_of(path: Path, needle: str) -> int:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    hits = [i for i, ln in enumerate(text.split("\n"), 1) if needle in ln]
    assert len(hits) == 1, f"{needle!r} found {len(hits)} times in {path}"
    return hits[0]


# -- layout ----------------------------------------------------------------------------------

def test_three_dialogues_with_three_rounds_of_three_or_four_experts() -> None:
    dialogues = sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())
    assert dialogues == sorted([HEADED, TABLED, "feature-flag-service"])
    for d in dialogues:
        for n in (0, 1, 2):
            rnd = SAMPLES / d / f"round-{n}"
            experts = sorted(p.stem for p in rnd.glob("*.md") if role(p) == layout.RESPONSE)
            assert 3 <= len(experts) <= 4, (d, n, experts)
            prompts = sorted(p.name[: -len(".prompt.md")] for p in rnd.glob("*.prompt.md"))
            assert prompts == experts
            assert role(rnd / "panel.json") == layout.PANEL
        for name, r in (("expert-pool.json", layout.POOL), ("tensions.md", layout.LEDGER),
                        ("scoreboard.md", layout.SCOREBOARD), ("verdict.md", layout.VERDICT)):
            if d == "feature-flag-service" and name in ("scoreboard.md", "verdict.md"):
                # per-round scoreboards and no verdict: converged by the Judge's other words
                assert role(SAMPLES / d / "round-2" / name.replace("verdict", "scoreboard")) \
                    == layout.SCOREBOARD
                continue
            assert role(SAMPLES / d / name) == r


def test_every_role_is_present_and_top_level_markdown_is_single_file_dialogues() -> None:
    roles = {role(p) for p in files_of(SAMPLES)}
    assert roles == {layout.RESPONSE, layout.PROMPT, layout.PANEL, layout.SUMMARY,
                     layout.LEDGER, layout.SCOREBOARD, layout.VERDICT, layout.POOL, layout.NOTE,
                     layout.DIALOGUE_FILE}
    top = sorted(p.name for p in SAMPLES.glob("*.md"))
    assert top and all(re.fullmatch(r".+\.dialogue(\.recorded)?\.md", n) for n in top)
    assert {role(SAMPLES / n) for n in top} == {layout.DIALOGUE_FILE}
    assert role(SAMPLES / "pm-repo-sync-pool.json") == layout.POOL
    assert role(SAMPLES / HEADED / "background.md") == layout.NOTE
    assert role(SAMPLES / TABLED / "round-1" / "context-brief.md") == layout.NOTE
    assert role(SAMPLES / TABLED / "round-2" / "summary.md") == layout.SUMMARY
    assert role(SAMPLES / HEADED / "round-1.summary.md") == layout.SUMMARY


def test_prompts_hold_templates_fenced_and_unfenced_and_yield_no_blocks() -> None:
    prompts = [p for p in files_of(SAMPLES) if role(p) == layout.PROMPT]
    fenced = unfenced = 0
    for p in prompts:
        text = p.read_text()
        first = re.search(r"^\[[A-Z]", text, re.M)
        assert first, p
        before = text[: first.start()]
        if before.count("```") % 2 == 1:
            fenced += 1
        else:
            unfenced += 1
        assert parsed()[rel(p)].blocks == []
    assert fenced >= 1 and unfenced >= 1


# -- dialects and irregular forms ------------------------------------------------------------

_A = re.compile(r"^\W*\[(PERSPECTIVE|TENSION|REFINEMENT|CONCESSION|RESOLVED|RESOLUTION|"
                r"ACKNOWLEDGED)\b", re.M)
_B = re.compile(r"^\[(?:[A-Z]+-[PRTEC]\d{4}|RE:[A-Z]+)[\s:\]]", re.M)


@pytest.mark.parametrize(("dialogue", "mostly"), [(HEADED, "A"), (TABLED, "B")])
def test_each_dialogue_is_mostly_one_dialect_with_some_mixing(dialogue: str, mostly: str) -> None:
    text = "\n".join(p.read_text(encoding="utf-8-sig") for p in responses(dialogue))
    a, b = len(_A.findall(text)), len(_B.findall(text))
    major, minor = (a, b) if mostly == "A" else (b, a)
    assert major > 3 * max(minor, 1)
    assert minor + len(re.findall(r"\[MOVE:[A-Z]+ [A-Z]*-?[PR]\d{4}", text)) >= 1  # mixing


IRREGULAR_LINE_STARTS = [
    "[PERSPECTIVE P1: ", "[PERSPECTIVE: ", "[TENSION T-NEW: ", "[REFINEMENT on T01]",
    "[REFINEMENT T03]", "[REFINEMENT on T03 — ", "[REFINEMENT: ECLAIR R1-T01 narrowed to ",
    "[CONCESSION to Strudel on T01]: ", "[CONCESSION: ", "[CONCESSION on T04]",
    "[RESOLVED T01]", "[RESOLVED: STRUDEL R1-T01 (",
    "[RESOLVED MUFFIN R1-T01, MACARON R1-T01]", "[RESOLVED on T02 -- ", "[RESOLVED -- ",
    "[RESOLVED: the", "[RESOLUTION T03: ", "[ACKNOWLEDGED T02: Future work.]",
    "[TENSION T04-R1: ", "[TENSION T01-RESPONSE: ", "[MOVE:CONVERGE]", "[MOVE:BRIDGE P0003 R0001]",
    "## [MOVE:CONVERGE]", "**[PERSPECTIVE P01: ", "- [RESOLVED T02]", "[HUNCH: ",
    "[RE:SUPPORT ", "[RE:OPPOSE ", "[RE:REFINE ", "[RE:ADDRESS ", "[RE:RESOLVE ", "[RE:REOPEN ",
    "[RE:QUESTION ", "[RE:DEPEND ", "[MOVE:DEFEND ", "[MOVE:CHALLENGE ", "[MOVE:REQUEST ",
    "[MOVE:CONCEDE ", "[VERDICT:INTERIM]", "[VERDICT:FINAL]", "[DISSENT]", "[MINORITY VERDICT: ",
    "[CROISSANT-P0001: ", "[CROISSANT-R0001: ", "[CROISSANT-T0001: ", "[CUPCAKE-E0001: ",
    "[BRIOCHE-C0001: ",
]
INLINE = ["**Moves**: [MOVE:CONVERGE]", "| [MOVE:CONVERGE] |", "I signal **[MOVE:CONVERGE]**",
          "`[TENSION T05: "]


def _response_lines() -> list[str]:
    return [ln for d in (HEADED, TABLED) for p in responses(d)
            for ln in p.read_text(encoding="utf-8-sig").splitlines()]


@pytest.mark.parametrize("form", IRREGULAR_LINE_STARTS)
def test_marker_form_starts_a_response_line(form: str) -> None:
    assert any(ln.startswith(form) for ln in _response_lines()), form


@pytest.mark.parametrize("form", INLINE)
def test_inline_marker_form_present(form: str) -> None:
    assert any(form in ln for ln in _response_lines()), form


def test_markers_in_code_and_html_are_present_and_not_blocks() -> None:
    path = SAMPLES / HEADED / "round-0" / "eclair.md"
    text = path.read_text(encoding="utf-8-sig")
    fenced = line_of(path, "[TENSION T06: fenced")
    indented = line_of(path, "    [PERSPECTIVE P09: ")
    html = line_of(path, "[TENSION T08: an HTML block")
    inline = line_of(path, "`[TENSION T05: ")
    assert "```" in text and "<div" in text
    lines = {b.line for b in parsed()[rel(path)].blocks}
    assert not lines & {fenced, fenced + 1, indented, html, inline}


def test_encodings_crlf_bom_and_tabs() -> None:
    raws = {rel(p): p.read_bytes() for d in (HEADED, TABLED) for p in responses(d)}
    assert [k for k, v in raws.items() if b"\r\n" in v] == [f"{HEADED}/round-1/macaron.md"]
    assert [k for k, v in raws.items() if v.startswith(b"\xef\xbb\xbf")] == \
        [f"{HEADED}/round-0/eclair.md"]
    assert any(b"\t" in v for v in raws.values())


# -- diagnostics: none at error level in the samples; warnings where irregular on purpose ---

def test_samples_have_no_errors() -> None:
    errors = [d.format() for pf in parsed().values() for d in pf.diagnostics
              if d.severity == ERROR]
    assert errors == []


def test_samples_have_the_planned_warnings() -> None:
    got = {(d.file, d.line, d.code) for pf in parsed().values() for d in pf.diagnostics}
    hunch = SAMPLES / HEADED / "round-1" / "strudel.md"
    on_t02 = SAMPLES / TABLED / "round-2" / "cupcake.md"
    assert (rel(hunch), line_of(hunch, "[HUNCH:"), "unknown-keyword") in got
    assert (rel(on_t02), line_of(on_t02, "[RESOLVED on T02"), "marker-irregular") in got
    assert {c for (_f, _l, c) in got} >= {"bom", "crlf"}


# -- resolution cases (FORMAT.md section 3) --------------------------------------------------

@cache
def dialogue(name: str):  # noqa: ANN201 - indexer.dialogue.Dialogue
    files = [pf for path, pf in parsed().items() if path.startswith(name + "/")]
    return assemble(name, files)


def refs_at(name: str, path: str, needle: str) -> list[tuple[str | None, str]]:
    """(target tension as 'expert R<round> id', rule) of the references at that marker."""
    d = dialogue(name)
    line = line_of(SAMPLES / name / path, needle)
    tensions = {t.key: t for t in d.tensions}
    out = []
    for r in d.references:
        if r.file == path and r.line == line and r.type != "mention":
            t = tensions.get(r.target) if r.target else None
            out.append((f"{t.expert} R{t.round} {t.id}" if t else r.target, r.rule))
    return sorted(out, key=str)


def test_qualified_mention_resolves_macarons_round0_t01() -> None:
    assert refs_at(HEADED, "round-1/eclair.md", "[RESOLVED T01: MACARON-T01") == \
        [("macaron R0 T01", "mention")]


def test_qualified_list_and_qualified_colon_form() -> None:
    assert refs_at(HEADED, "round-2/eclair.md", "[RESOLVED MUFFIN R1-T01, MACARON R1-T01]") == \
        [("macaron R1 T01", "qualified"), ("muffin R1 T01", "qualified")]
    assert refs_at(HEADED, "round-2/muffin.md", "[RESOLVED: STRUDEL R1-T01 (") == \
        [("strudel R1 T01", "qualified")]


def test_own_t01_is_the_latest_earlier_one() -> None:
    # Strudel raised a T01 in round 0 and in round 1; in round 2 T01 means round 1's.
    raised = [(t.round, t.id) for t in dialogue(HEADED).tensions if t.expert == "strudel"]
    assert (0, "T01") in raised and (1, "T01") in raised
    assert refs_at(HEADED, "round-2/strudel.md", "[RESOLVED T01:") == \
        [("strudel R1 T01", "own")]


def test_unqualified_id_defined_by_the_table_ledger() -> None:
    ledger = (SAMPLES / TABLED / "tensions.md").read_text()
    assert re.search(r"^\| T02 \|", ledger, re.M)
    [(target, rule)] = refs_at(TABLED, "round-2/cupcake.md", "[RESOLVED on T02")
    assert rule == "ledger"


def test_unresolvable_target_is_kept_with_a_warning() -> None:
    d = dialogue(HEADED)
    line = line_of(SAMPLES / HEADED / "round-2" / "strudel.md", "[RESOLVED T07]")
    assert refs_at(HEADED, "round-2/strudel.md", "[RESOLVED T07]") == [(None, "unresolved")]
    assert any(x.line == line and "T07" in x.message for x in d.diagnostics)
    assert not any("T07" in t.id for t in d.tensions if t.id)


def test_reference_rule_violations_warn() -> None:
    d = dialogue(TABLED)
    cupcake = SAMPLES / TABLED / "round-1" / "cupcake.md"
    scone = SAMPLES / TABLED / "round-1" / "scone.md"
    got = {(x.file.split("/", 1)[-1], x.line) for x in d.diagnostics if x.code == "reference-rule"}
    assert ("round-1/cupcake.md", line_of(cupcake, "[RE:RESOLVE BRIOCHE-P0001]")) in got
    assert ("round-1/scone.md", line_of(scone, "[RE:REFINE SCONE-T0001]")) in got


# -- the planted broken trees ----------------------------------------------------------------

@pytest.mark.parametrize(("tree", "bad_file", "needle", "code"), [
    ("planted-error", "round-0/muffin.md", "[TENSION T01: never closed", "marker-unclosed"),
    ("duplicate-id", "round-0/eclair.md", "[PERSPECTIVE P01: Rotate on-call daily]",
     "duplicate-id"),
    ("invalid-panel", "round-0/panel.json", '"Adjacent" "relevance"', "json-invalid"),
])
def test_planted_errors_are_found_where_planted(tree: str, bad_file: str, needle: str,
                                                code: str) -> None:
    root = DATA / tree
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    results = parsed(root)
    bad = f"{folder.name}/{bad_file}"
    errors = {(path, d.line, d.code) for path, pf in results.items() for d in pf.diagnostics
              if d.severity == ERROR}
    assert errors == {(bad, line_of(folder / bad_file, needle), code)}
    assert len(results) >= 2  # a clean neighbour that must stay clean
