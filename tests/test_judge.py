"""indexer.judge: the Judge's files (ledger, scoreboard, summary, verdict, pool, panel).

Expected values are computed in the tests from the file text with simple, independent
line scans (regexes, ``json``), never taken from the code under test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import layout
from indexer.judge import (
    JSON_INVALID,
    JUDGE_UNKNOWN_SHAPE,
    JUDGE_UNKNOWN_STATUS,
    JUDGE_UNREADABLE,
    parse_judge,
)
from indexer.model import ERROR

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_dialogues"
HEADED = SAMPLES / "2026-03-02T1015Z-trunk-based-development"
TABLED = SAMPLES / "2026-03-09T1400Z-cdn-cache-invalidation"
JUDGE_YAML = REPO / "grammars" / "judge.yaml"


def read(p: Path) -> str:
    return p.read_text(encoding="utf-8-sig")


def judge(role: str, p: Path) -> tuple[dict, list]:
    return parse_judge(role, p.read_text(encoding="utf-8"), p.name)


# -- independent expectations ----------------------------------------------------------------

_HEAD = re.compile(r"^#{3,4}\s+([A-Z]+)(?:-| R(\d+)-)(T[\w-]*?)(?: \(R(\d+)\))?:\s*(.*)$")
_BOLD = re.compile(r"^\*\*(.+?)\*\*")


def _canon(words: str) -> str:
    """The test's own small status mapping (not the grammar's)."""
    w = words.lower().removeprefix("status:").strip()
    for prefix, canon in (("partially resolved", "partially-resolved"),
                          ("resolved", "resolved"), ("narrowed", "narrowed"),
                          ("superseded", "superseded"), ("open", "open"),
                          ("acknowledged", "acknowledged"), ("deferred", "deferred"),
                          ("reopened", "reopened")):
        if w.startswith(prefix):
            return canon
    raise AssertionError(f"test mapping lacks {words!r}")


def expected_headed(text: str) -> list[dict]:
    """Entries of a headed ledger by a plain line scan: id/expert/round/line/status."""
    lines = text.splitlines()
    out = []
    for i, ln in enumerate(lines):
        m = _HEAD.match(ln)
        if not m:
            continue
        bold = []
        for nxt in lines[i + 1:]:
            if nxt.startswith("#"):
                break
            b = _BOLD.match(nxt)
            if b:
                bold.append(b.group(1))
        explicit = [b for b in bold if b.lower().startswith("status:")]
        status_words = explicit[0] if explicit else bold[0]
        rnd = m.group(2) or m.group(4)
        rr = re.search(r"Resolved in R(\d+)", " ".join(bold))
        out.append({"expert": m.group(1).lower(), "round": int(rnd), "id": m.group(3),
                    "label": m.group(5).strip(), "line": i + 1,
                    "status": _canon(status_words),
                    "resolved_round": int(rr.group(1)) if rr and
                    _canon(status_words) == "resolved" else None})
    return out


def _cells(line: str) -> list[str]:
    return [c.strip().strip("*").strip() for c in line.strip().strip("|").split("|")]


Rows = list[tuple[int, list[str]]]


def expected_tables(text: str, first_header: str) -> list[tuple[list[str], Rows]]:
    """Pipe tables whose first header cell is ``first_header``: (header, [(line, cells)])."""
    lines = text.splitlines()
    out = []
    for i, ln in enumerate(lines):
        if ln.startswith("|") and _cells(ln)[0].lower() == first_header.lower():
            rows = []
            for j in range(i + 2, len(lines)):
                if not lines[j].startswith("|"):
                    break
                rows.append((j + 1, _cells(lines[j])))
            out.append((_cells(ln), rows))
    return out


def _ledger_view(entries: list[dict]) -> list[dict]:
    return [{"expert": e["ref"]["expert"], "round": e["ref"]["round"], "id": e["ref"]["id"],
             "label": e["label"], "line": e["line"], "status": e["status"],
             "resolved_round": e["resolved_round"]} for e in entries]


# -- ledger ----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["corpus", "samples"])
def test_headed_ledger_matches_line_scan(which: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue("corpus_dialogue") if which == "corpus" else HEADED
    path = folder / "tensions.md"
    data, diags = judge(layout.LEDGER, path)
    assert data["shape"] == "headings"
    assert not [d for d in diags if d.severity == ERROR]
    expected = expected_headed(read(path))
    assert len(expected) >= 10
    assert _ledger_view(data["entries"]) == expected
    # The category summary table at the end is not a tension table.
    assert all(e["ref"]["id"].startswith("T") for e in data["entries"])


def test_corpus_ledger_lists_every_tension_the_verdict_counts(corpus_dialogue: Path) -> None:
    """The verdict states 'Tensions Resolved N/M'; the ledger must list M tensions, and its
    resolved entries are those with a 'Resolved in' line (a line scan of the file)."""
    verdict = read(corpus_dialogue / "verdict.md")
    m = re.search(r"Tensions Resolved\s*│\s*(\d+)/(\d+)", verdict)
    assert m, "verdict.md no longer states the resolved count"
    resolved_claimed, total = int(m.group(1)), int(m.group(2))
    ledger_text = read(corpus_dialogue / "tensions.md")
    data, _ = judge(layout.LEDGER, corpus_dialogue / "tensions.md")
    assert len(data["entries"]) == total
    assert resolved_claimed == total  # the verdict claims all of them, by the end
    resolved_lines = len(re.findall(r"^\*\*Resolved in R\d+\*\*", ledger_text, re.M))
    assert sum(e["status"] == "resolved" for e in data["entries"]) == resolved_lines
    # Every tension of the verdict's resolved table appears in the ledger.
    verdict_ids = set(re.findall(r"│\s*([A-Z]+(?:-| R\d+-)T\d+)", verdict))
    ledger_ids = {e["ref"]["raw"] for e in data["entries"]}
    assert verdict_ids and verdict_ids <= ledger_ids


def test_corpus_ledger_sections_and_qualified_refs(corpus_dialogue: Path) -> None:
    text = read(corpus_dialogue / "tensions.md")
    data, _ = judge(layout.LEDGER, corpus_dialogue / "tensions.md")
    lines = text.splitlines()
    for e in data["entries"]:
        above = [ln for ln in lines[: e["line"] - 1] if re.match(r"^#{2,4} ", ln)
                 and not _HEAD.match(ln)]
        assert e["section"] == re.sub(r"^#+\s*", "", above[-1])
        assert e["ref"]["raw"] in lines[e["line"] - 1]


def test_table_ledger_matches_line_scan() -> None:
    path = TABLED / "tensions.md"
    text = read(path)
    data, diags = judge(layout.LEDGER, path)
    assert data["shape"] == "table"
    assert diags == []
    expected = []
    widths = set()
    for header, rows in expected_tables(text, "ID"):
        widths.add(len(header))
        si = [h.lower() for h in header].index("status")
        ri = next((i for i, h in enumerate(header) if h.lower() == "resolved in"), None)
        for line, cells in rows:
            rr = cells[ri] if ri is not None else ""
            expected.append({"expert": None, "round": None, "id": cells[0],
                             "label": cells[1], "line": line, "status": _canon(cells[si]),
                             "resolved_round": int(rr[1:]) if re.fullmatch(r"R\d+", rr)
                             and _canon(cells[si]) == "resolved" else None})
    assert widths == {4, 5}
    assert _ledger_view(data["entries"]) == expected
    # The category table ("| Category | R0 Open | ...") is ignored.
    assert len(expected_tables(text, "Category")) == 1
    assert not any(e["label"] == "Purge mechanics" for e in data["entries"])


def test_ledger_status_words_come_from_the_grammar() -> None:
    """Every phrase listed in grammars/judge.yaml maps to its canonical status."""
    statuses = yaml.safe_load(JUDGE_YAML.read_text())["statuses"]
    longest: dict[str, str] = {}
    for canon, phrases in statuses.items():
        for p in phrases:
            longest[p] = canon
    rows = "".join(f"| T{i:02d} | label {i} | {p} |\n" for i, p in enumerate(longest, 1))
    data, diags = parse_judge(layout.LEDGER, "| ID | Tension | Status |\n|---|---|---|\n" + rows,
                              "d/tensions.md")
    assert diags == []
    assert [e["status"] for e in data["entries"]] == list(longest.values())


def test_headed_ledger_status_precedence_and_sections() -> None:
    text = (
        "# Ledger\n\n## RESOLVED\n\n"
        "### MUFFIN-T01 (R0): no status line, section decides\nplain text\n\n"
        "### CUPCAKE-T1 (R0): lead phrase wins over section\n**Narrowed in R1** by Cupcake\n\n"
        "## OPEN — Round 1\n\n### Cluster A\n\n"
        "#### ECLAIR R1-T02: explicit status wins\n**Partially addressed** by x\n"
        "**Status: SUPERSEDED** by ECLAIR R2-T01\n\n"
        "#### SCONE R1-T03: no status at all, open section\n\n"
        "#### DONUT R1-T04: a word nobody knows\n**Status: WOBBLY** — hm\n"
    )
    data, diags = parse_judge(layout.LEDGER, text, "d/tensions.md")
    got = {e["ref"]["raw"]: (e["ref"]["id"], e["status"], e["section"])
           for e in data["entries"]}
    assert got == {
        "MUFFIN-T01": ("T01", "resolved", "RESOLVED"),
        "CUPCAKE-T1": ("T01", "narrowed", "RESOLVED"),
        "ECLAIR R1-T02": ("T02", "superseded", "Cluster A"),
        "SCONE R1-T03": ("T03", "open", "Cluster A"),
        "DONUT R1-T04": ("T04", None, "Cluster A"),
    }
    wobbly = next(i for i, ln in enumerate(text.splitlines(), 1) if "WOBBLY" in ln)
    assert [(d.code, d.line) for d in diags] == [(JUDGE_UNKNOWN_STATUS, wobbly)]


def test_ledger_crlf_and_bom_read_like_lf() -> None:
    text = read(HEADED / "tensions.md")
    lf, _ = parse_judge(layout.LEDGER, text, "t.md")
    crlf, _ = parse_judge(layout.LEDGER, "\ufeff" + text.replace("\n", "\r\n"), "t.md")
    assert crlf == lf


@pytest.mark.parametrize("text", [
    "",
    "   \n\n",
    "# Tensions\n\nNothing yet.\n",
    "| ID | Tension | Status |\n|---|---|---|\n| T09 |\n",        # missing cells
    "| ID | Tension | Status |\n|---|---|---|\n| | orphan | OPEN |\n",
    "| ID | Status |\n|---|---|\n| not-an-id | OPEN |\n",
    "### MUFFIN-T01 (R0):\n",
    "\x00\x01\x02 binary \xff\xfe junk [[[ ||| ###",
])
def test_malformed_ledgers_give_diagnostics_not_exceptions(text: str) -> None:
    data, diags = parse_judge(layout.LEDGER, text, "d/tensions.md")
    assert isinstance(data, dict) and isinstance(data["entries"], list)
    json.dumps(data)
    assert all(d.code != JUDGE_UNREADABLE and d.severity != ERROR for d in diags)
    if not data["entries"]:
        assert any(d.code == JUDGE_UNKNOWN_SHAPE for d in diags)


def test_missing_status_cell_is_a_warning() -> None:
    data, diags = parse_judge(layout.LEDGER, "| ID | Tension | Status |\n|---|---|---|\n| T09 |\n",
                              "d/tensions.md")
    assert data["entries"][0]["ref"]["id"] == "T09"
    assert data["entries"][0]["status"] is None
    assert [(d.code, d.line) for d in diags] == [(JUDGE_UNKNOWN_STATUS, 3)]


# -- scoreboard ------------------------------------------------------------------------------

def expected_scoreboard(text: str) -> tuple[list[dict], list[dict], int | None]:
    ((header, rows),) = [t for t in expected_tables(text, "Expert")]
    rounds = {i: int(h[1:]) for i, h in enumerate(header) if re.fullmatch(r"R\d+", h)}
    experts = []
    for _line, cells in rows:
        scores = {str(r): int(cells[i]) for i, r in rounds.items() if cells[i].isdigit()}
        experts.append({"name": cells[0], "slug": cells[0].lower(), "role": cells[1],
                        "scores": scores, "total": int(cells[header.index("Total")])})
    ((aheader, arows),) = [t for t in expected_tables(text, "Round")]
    alignment = [{"round": int(c[0]), "Score": int(c[aheader.index("Score")])} for _, c in arows]
    m = re.search(r"\*\*Total ALIGNMENT:\*\*\s*(\d+)", text)
    return experts, alignment, int(m.group(1)) if m else None


@pytest.mark.parametrize("which", ["corpus", "headed", "tabled"])
def test_scoreboard_matches_line_scan(which: str, request: pytest.FixtureRequest) -> None:
    folder = {"headed": HEADED, "tabled": TABLED}.get(which) or \
        request.getfixturevalue("corpus_dialogue")
    path = folder / "scoreboard.md"
    text = read(path)
    data, diags = judge(layout.SCOREBOARD, path)
    assert diags == []
    experts, alignment, total = expected_scoreboard(text)
    assert [{k: e[k] for k in ("name", "slug", "role", "scores", "total")}
            for e in data["experts"]] == experts
    assert [{"round": a["round"], "Score": a["Score"]} for a in data["alignment"]] == alignment
    assert data["totals"]["alignment"] == total
    # The file is self-consistent: totals are sums of the rounds, an absent round is "—".
    for e in data["experts"]:
        assert sum(e["scores"].values()) == e["total"]
    assert sum(a["Score"] for a in data["alignment"]) == total
    conv = re.search(r"^\*\*Convergence:\*\*\s*(.+)$", text, re.M)
    assert data["convergence"] == conv.group(1).strip()
    assert data["title"] == text.splitlines()[0].lstrip("# ").strip()
    # ALIGNMENT parts (W:.. C:..) add up to the total.
    parts = {k: v for k, v in data["totals"].items() if k != "alignment"}
    assert set(parts) == {"W", "C", "T", "R"} and sum(parts.values()) == total


def test_scoreboard_bad_cells_and_unknown_shape() -> None:
    text = ("| Expert | Role | R0 | R1 | Total |\n|---|---|---|---|---|\n"
            "| Muffin | x | 20 | lots | 20 |\n| Cupcake | y | — |\n")
    data, diags = parse_judge(layout.SCOREBOARD, text, "d/scoreboard.md")
    assert data["experts"][0]["scores"] == {"0": 20}
    assert data["experts"][1]["scores"] == {} and data["experts"][1]["total"] is None
    assert [(d.code, d.line) for d in diags] == [("judge-bad-value", 3)]
    data, diags = parse_judge(layout.SCOREBOARD, "just prose\n", "d/scoreboard.md")
    assert data["experts"] == [] and [d.code for d in diags] == [JUDGE_UNKNOWN_SHAPE]


# -- verdict and summaries -------------------------------------------------------------------

def test_corpus_verdict_decision_is_the_answer_heading(corpus_dialogue: Path) -> None:
    text = read(corpus_dialogue / "verdict.md")
    after = text.split("## Answer to the Question", 1)[1]
    expected = re.search(r"^### (.+)$", after, re.M).group(1).strip()
    data, diags = judge(layout.VERDICT, corpus_dialogue / "verdict.md")
    assert diags == []
    assert data["decision"] == expected
    assert data["title"] == text.splitlines()[0].lstrip("# ").strip()
    assert data["text"] == text.strip()


def test_sample_verdicts_both_decision_shapes() -> None:
    a = read(HEADED / "verdict.md")
    data, diags = judge(layout.VERDICT, HEADED / "verdict.md")
    assert diags == []
    assert data["decision"] == re.search(r"^\*\*Decision:\*\*\s*(.+)$", a, re.M).group(1)
    b = read(TABLED / "verdict.md")
    data, diags = judge(layout.VERDICT, TABLED / "verdict.md")
    assert diags == []
    assert data["decision"] == re.search(r"^### (.+)$", b, re.M).group(1)


def test_verdict_without_decision_warns() -> None:
    data, diags = parse_judge(layout.VERDICT, "# Verdict\n\nWe talked a lot.\n", "d/verdict.md")
    assert data["decision"] is None and data["title"] == "Verdict"
    assert [d.code for d in diags] == [JUDGE_UNKNOWN_SHAPE]


def _summaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.md")
                  if layout.classify(p.relative_to(folder.parent).as_posix()).role
                  == layout.SUMMARY)


@pytest.mark.parametrize("which", ["corpus", "samples"])
def test_summaries_title_and_text(which: str, request: pytest.FixtureRequest) -> None:
    folders = [request.getfixturevalue("corpus_dialogue")] if which == "corpus" \
        else [HEADED, TABLED]
    paths = [p for f in folders for p in _summaries(f)]
    assert len(paths) >= 3
    for p in paths:
        text = read(p)
        data, diags = judge(layout.SUMMARY, p)
        assert diags == []
        first = next(ln for ln in text.splitlines() if ln.startswith("#"))
        assert data["title"] == first.lstrip("# ").strip()
        assert data["text"] == text.strip()


# -- pool and panel --------------------------------------------------------------------------

def _json_files(folder: Path, role: str) -> list[Path]:
    root = folder.parent
    return sorted(p for p in root.rglob("*.json") if p.is_relative_to(folder) or p.parent == root
                  if layout.classify(p.relative_to(root).as_posix()).role == role)


@pytest.mark.parametrize("which", ["corpus", "samples"])
def test_pools_and_panels_match_json(which: str, request: pytest.FixtureRequest) -> None:
    folders = [request.getfixturevalue("corpus_dialogue")] if which == "corpus" \
        else [HEADED, TABLED]
    seen = 0
    for folder in folders:
        for p in _json_files(folder, layout.POOL):
            raw = json.loads(p.read_text())
            data, diags = judge(layout.POOL, p)
            assert diags == []
            assert data == {"domain": raw["domain"], "question": raw["question"],
                            "experts": raw["experts"]}
            seen += 1
        for p in _json_files(folder, layout.PANEL):
            raw = json.loads(p.read_text())
            data, diags = judge(layout.PANEL, p)
            assert diags == []
            assert [(a["name"], a["slug"], a["emoji"], a["role"], a["tier"], a["relevance"])
                    for a in data["agents"]] == [
                (a["name"], a["name"].lower(), a["emoji"], a["role"], a["tier"], a["relevance"])
                for a in raw["agents"]]
            seen += 1
    assert seen >= 4


def test_invalid_panel_json_is_an_error_with_position() -> None:
    path = next((REPO / "tests" / "data" / "invalid-panel").rglob("panel.json"))
    text = path.read_text()
    # Where the syntax breaks: the line with two adjacent string values and no comma.
    line_no = next(i for i, ln in enumerate(text.splitlines(), 1) if '"Adjacent" "' in ln)
    col = text.splitlines()[line_no - 1].index('"Adjacent" "') + len('"Adjacent" ') + 1
    data, diags = parse_judge(layout.PANEL, text, "x/round-0/panel.json")
    assert data is None
    assert [(d.code, d.severity, d.line, d.column) for d in diags] == [
        (JSON_INVALID, ERROR, line_no, col)]
    assert diags[0].file == "x/round-0/panel.json"


@pytest.mark.parametrize("role", [layout.POOL, layout.PANEL])
@pytest.mark.parametrize("text", ["", "{", "nul\x00l", "[1, 2]", '{"experts": 3, "agents": 3}',
                                  '{"experts": [1, {"role": "x"}], "agents": [{"emoji": "x"}, 2]}',
                                  '"just a string"', "\ufeff{}"])
def test_odd_json_never_raises(role: str, text: str) -> None:
    data, diags = parse_judge(role, text, "d/x.json")
    assert data is None or isinstance(data, dict)
    json.dumps(data)
    if data is None:
        assert [d.code for d in diags] == [JSON_INVALID]
    assert all(d.code != JUDGE_UNREADABLE for d in diags)


def test_top_level_pool_file() -> None:
    p = SAMPLES / "pm-repo-sync-pool.json"
    assert layout.classify(p.name).role == layout.POOL
    data, diags = judge(layout.POOL, p)
    assert diags == [] and data["experts"] == json.loads(p.read_text())["experts"]


# -- dispatch, determinism, fuzz -------------------------------------------------------------

def test_non_judge_roles_return_nothing() -> None:
    for role in (layout.RESPONSE, layout.PROMPT, layout.NOTE, layout.IGNORED, "bogus"):
        assert parse_judge(role, "[PERSPECTIVE P01: x]", "d/round-0/muffin.md") == (None, [])


def test_output_is_deterministic_and_json_able() -> None:
    for folder in (HEADED, TABLED):
        for name, role in (("tensions.md", layout.LEDGER), ("scoreboard.md", layout.SCOREBOARD),
                           ("verdict.md", layout.VERDICT)):
            a = judge(role, folder / name)[0]
            b = judge(role, folder / name)[0]
            assert json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False)


_md_text = st.text(alphabet=st.sampled_from(list("|#*-:[]()T0123 RESOLVEDopen\n\t`>\x00é—")),
                   max_size=300)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_md_text, role=st.sampled_from([layout.LEDGER, layout.SCOREBOARD, layout.SUMMARY,
                                            layout.VERDICT, layout.POOL, layout.PANEL]))
def test_fuzz_never_crashes(text: str, role: str) -> None:
    data, diags = parse_judge(role, text, "d/f")
    json.dumps(data)
    assert all(d.code != JUDGE_UNREADABLE for d in diags)


# --- FORMAT.md 7: Judge files as written in the wild --------------------------------------
SHAPES = REPO / "tests" / "data" / "judge-shapes"


def test_ledger_shape_d_heading_states_the_status() -> None:
    """``## All Tensions RESOLVED`` over a table without a status column (shape D)."""
    p = SHAPES / "tensions-all-resolved.md"
    data, diags = judge(layout.LEDGER, p)
    want = {}
    section = None
    for ln in read(p).splitlines():
        if ln.startswith("## "):
            section = ln[3:].split()[-1].lower()
        m = re.match(r"\| (T\d+) \|", ln)
        if m:
            want[m.group(1)] = section
    assert {e["ref"]["id"]: e["status"] for e in data["entries"]} == want
    assert set(want.values()) == {"resolved", "deferred"} and not diags


def test_ledger_shape_c_and_final_title(samples_dir: Path) -> None:
    """Round columns (``| Raised | Resolved |``) kept per row; a FINAL title is read."""
    p = samples_dir / "feature-flag-service" / "tensions.md"
    data, diags = judge(layout.LEDGER, p)
    rows = [ln for ln in read(p).splitlines() if re.match(r"\| T\d+ \|", ln)]
    assert len(data["entries"]) == len(rows) and data["final"] is True and not diags
    for e, ln in zip(data["entries"], rows, strict=True):
        cells = [c.strip() for c in ln.strip("|").split("|")]
        assert e["columns"]["Raised"] == cells[3]
        assert e["status"] == re.sub(r"[^a-z ]", "", cells[2].lower()).split()[0]


def test_tracker_rows_keyed_by_id_and_agent() -> None:
    """``| ID | Agent | ... |``: the same id twice, each row with its raiser as a slug."""
    data, _ = judge(layout.LEDGER, SHAPES / "tensions-tracker.md")
    assert [(e["ref"]["id"], e["agent"], e["status"]) for e in data["entries"]] == [
        ("T01", "muffin", "resolved"), ("T01", "scone", "open")]


def test_panel_under_panel_key_and_emoji_names() -> None:
    p = SHAPES / "panel-under-panel.json"
    raw = json.loads(read(p))
    data, diags = judge(layout.PANEL, p)
    assert not diags
    assert [a["slug"] for a in data["agents"]] == [
        re.sub(r"[^a-z]", "", a["name"].lower()) for a in raw["panel"]]


def test_per_round_scoreboards_and_agent_names(samples_dir: Path) -> None:
    """W/C/T/R columns and ``| Agent | Wisdom | ... | **Total** |``; emoji and roles in the
    name are not part of the slug; the score is the file's round's."""
    folder = samples_dir / "feature-flag-service"
    for p in sorted(folder.glob("round-*/scoreboard.md")):
        rnd = p.parent.name.split("-")[1]
        data, diags = parse_judge(layout.SCOREBOARD, read(p), p.relative_to(samples_dir)
                                  .as_posix())
        rows = [ln for ln in read(p).splitlines() if ln.startswith("| ") and "🧁" in ln]
        assert not diags and len(data["experts"]) == len(rows) == 3
        for e, ln in zip(data["experts"], rows, strict=True):
            cells = [c.strip() for c in ln.strip().strip("|").split("|")]
            assert e["slug"] == re.sub(r"\(.*\)|[^A-Za-z()]", "", cells[0]).lower()
            assert e["scores"] == {rnd: int(cells[-1].strip("*"))}


def test_summary_numbering_in_its_three_forms(samples_dir: Path) -> None:
    """``## Open Tensions (3)`` numbered items, ``### T01 → ...`` headings, ``- T04: ...``."""
    folder = samples_dir / "feature-flag-service"
    for p in (folder / "round-0.summary.md", folder / "round-1" / "summary.md"):
        data, _ = judge(layout.SUMMARY, p)
        text = read(p)
        want = [f"T{int(n):02d}" for n in re.findall(r"^(\d+)\. ", text, re.M)]
        want += re.findall(r"^(?:### |- )(T\d+)\b", text, re.M)
        assert [t["id"] for t in data["tensions"]] == want and want
