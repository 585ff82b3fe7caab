"""Single-file dialogues (FORMAT.md 8): every file of ../shared/corpus/blue-legacy and the
single files of sample_dialogues/, checked against an independent reading of the file.

The reading here walks the lines itself (fences, headings, marker lines, tables) with its
own rules written from FORMAT.md 8: which heading opens a round, names an expert or is the
Judge's; which line starts with a marker; what the Expert Panel and Tensions Tracker tables
hold; what the Judge's latest word on the status is. Only keyword names and kinds come from
grammars/*.yaml (data, read here directly).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import yaml

from indexer import layout
from indexer.assemble import assemble
from indexer.dialogue import Dialogue
from indexer.model import ParsedFile
from indexer.parse import parse_file

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_dialogues"
SINGLE = re.compile(r"(.+?)\.dialogue(?:\.recorded)?\.md")
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if SINGLE.fullmatch(p.name))
FLAGS = SAMPLES / "2026-04-02T0900Z-feature-flag-cleanup.dialogue.md"
LOGS = SAMPLES / "2026-04-06T1100Z-log-retention.dialogue.recorded.md"
STUB = SAMPLES / "2026-04-08T1500Z-placeholder-dialogue.dialogue.recorded.md"
NARRATIVE = SAMPLES / "2026-04-09T1000Z-office-move-retro.dialogue.md"
TRUNK = "2026-03-02T1015Z-trunk-based-development"
JUDGE = "💙"


# -- the independent reading -----------------------------------------------------------------

@cache
def keyword_kinds() -> dict[str, str]:
    """Keyword (and alias) -> kind, from the grammar YAML files."""
    kinds: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for name in ("keywords.yaml", "typed-ids.yaml"):
        data = yaml.safe_load((REPO / "grammars" / name).read_text(encoding="utf-8"))
        for kw, spec in (data.get("keywords") or {}).items():
            kinds[kw.upper()] = spec["kind"]
        aliases.update({a.upper(): c.upper() for a, c in (data.get("aliases") or {}).items()})
    for a, c in aliases.items():
        kinds[a] = kinds[c]
    return kinds


def code_lines(lines: list[str]) -> set[int]:
    """1-based lines inside fenced code (a fence closes on a run of the same character at
    least as long; an unclosed fence runs to the end of the file)."""
    out: set[int] = set()
    fence: str | None = None
    for i, ln in enumerate(lines, 1):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})", ln)
        if fence is not None:
            out.add(i)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not ln.strip().strip(fence[0]):
                fence = None
        elif m and not (m.group(1)[0] == "`" and "`" in ln.strip()[len(m.group(1)):]):
            fence = m.group(1)
            out.add(i)
    return out


def clean(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip()


def is_judge(text: str) -> bool:
    return JUDGE in text or text.lower().startswith("judge")


def headings(lines: list[str], code: set[int]) -> list[tuple[int, int, str]]:
    return [(i, len(m.group(1)), clean(m.group(2))) for i, ln in enumerate(lines, 1)
            if i not in code and (m := re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", ln))]


def tables(lines: list[str], code: set[int], title: str) -> list[list[list[str]]]:
    """Rows (header first, separator dropped) of the tables under the H2 ``title...``."""
    out, rows, inside = [], [], False
    for i, ln in enumerate(lines, 1):
        if i in code:
            continue
        h = re.match(r"^##\s+(.*)$", ln)
        if h:
            inside = clean(h.group(1)).lower().startswith(title)
        if inside and ln.lstrip().startswith("|"):
            cells = [clean(c) for c in ln.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                rows.append(cells)
        elif rows:
            out.append(rows)
            rows = []
    if rows:
        out.append(rows)
    return out


def panel(lines: list[str], code: set[int]) -> list[str] | None:
    """Expert slugs of the Expert Panel table (the Judge aside), None without one."""
    found = tables(lines, code, "expert panel")
    if not found:
        return None
    slugs = []
    for rows in found:
        header = [h.lower() for h in rows[0]]
        col = next((header.index(n) for n in ("agent", "name", "id") if n in header), 0)
        for row in rows[1:]:
            cell = row[col] if col < len(row) else ""
            if cell and not is_judge(cell):
                slugs.append(re.findall(r"[A-Za-z][\w'-]*", cell)[0].lower())
    return slugs


def context(lines: list[str], code: set[int], known: set[str]
            ) -> list[tuple[int, int | None, str | None]]:
    """(heading line, round, expert) each heading sets: H2 round / Judge / other, H3 expert /
    Judge / other; deeper headings change nothing."""
    heads = headings(lines, code)
    decorated = {re.findall(r"[A-Za-z][\w'-]*", t)[0].lower() for _, lv, t in heads
                 if lv == 3 and not is_judge(t) and re.findall(r"[A-Za-z][\w'-]*", t)
                 and any(ord(c) > 127 and not c.isalnum() for c in t.split("(")[0])}
    known = known | decorated
    out: list[tuple[int, int | None, str | None]] = [(1, None, None)]
    rnd: int | None = None
    for line, level, text in heads:
        if level == 2:
            if is_judge(text):
                m = re.search(r"\bround\s+(\d+)", text, re.I)
                rnd = int(m.group(1)) if m else rnd
            else:
                m = re.match(r"(?:opening arguments\s*\(\s*round\s+(\d+)\s*\)|round\s+(\d+))",
                             text, re.I)
                rnd = int(m.group(1) or m.group(2)) if m else None
            out.append((line, rnd, None))
        elif level == 3:
            words = re.findall(r"[A-Za-z][\w'-]*", text.split("(")[0])
            one = words[0].lower() if len(words) == 1 and not is_judge(text) else None
            out.append((line, rnd, one if one in known else None))
    return out


def where(ctx: list[tuple[int, int | None, str | None]], line: int) -> tuple[int | None,
                                                                              str | None]:
    last = [c for c in ctx if c[0] <= line][-1]
    return last[1], last[2]


MARKER = re.compile(r"^ {0,3}(?:#{1,6}\s+)?(?:>\s*)?(?:[-*+]\s+|\d+[.)]\s+)?([*_]{0,3})"
                    r"\[([^\]\[]*)\](?![(\[])")


def expected_markers(lines: list[str], code: set[int]) -> list[dict]:
    """Line-start and decorated markers outside code: keyword, kind, id, label."""
    kinds = keyword_kinds()
    out = []
    for i, ln in enumerate(lines, 1):
        if i in code or ln.startswith("    ") or ln.startswith("\t"):
            continue
        m = MARKER.match(ln)
        if not m:
            continue
        inner = m.group(2).strip()
        typed = re.match(r"([A-Z][A-Za-z]+)-([PRTEC])(\d{4})\b", inner)
        head = re.match(r"([A-Za-z]+(?:\s*:\s*[A-Za-z]+)?)", inner)
        if typed:
            out.append({"line": i, "kind": None, "id": typed.group(2) + typed.group(3)})
            continue
        if not head:
            continue
        word = re.sub(r"\s*:\s*", ":", head.group(1)).upper()
        kw = next((k for k in sorted(kinds, key=len, reverse=True) if re.match(
            r"\s*:\s*".join(r"\s+".join(map(re.escape, p.split(" "))) for p in k.split(":"))
            + r"(?![A-Za-z0-9_])", inner, re.I)), None)
        if kw is not None:
            pass
        elif re.fullmatch(r"[A-Z][A-Z0-9_]+", head.group(1).split(":")[0].strip()):
            kw = None  # an unknown upper-case keyword: a block of kind unknown
        else:
            continue  # prose in brackets ([Dialogue content to be added])
        kind = kinds[kw] if kw else "unknown"
        if kw and kw.split(":")[0] in ("MOVE", "RE", "VERDICT") and word != kw:
            kind = None  # a family member the grammar does not list: not asserted here
        ident = label = None
        if kw in ("PERSPECTIVE", "TENSION"):
            idm = re.match(rf"{kw}\s+([A-Za-z])(\d+)([-A-Za-z0-9]*)\s*:(.*)$", inner, re.I)
            if idm:
                ident = f"{idm.group(1).upper()}{int(idm.group(2)):02d}{idm.group(3).upper()}"
                label = idm.group(4).strip()
            elif re.match(rf"{kw}\s*:(.*)$", inner, re.I):
                label = inner.split(":", 1)[1].strip()
        out.append({"line": i, "kind": kind, "id": ident, "label": label})
    return out


def tracker_rows(lines: list[str], code: set[int], known: set[str]
                 ) -> list[tuple[str, str | None, str]]:
    """(ID as written, agent slug, status cell) of every Tensions Tracker row."""
    out = []
    for rows in tables(lines, code, "tensions tracker"):
        header = [h.lower() for h in rows[0]]
        ci = header.index("id")
        ai = next((header.index(n) for n in ("agent", "raised by", "raised", "expert")
                   if n in header), None)
        si = header.index("status")
        for row in rows[1:]:
            agent = None
            if ai is not None and ai < len(row):
                words = re.findall(r"[A-Za-z][\w'-]*", row[ai])
                agent = next((w.lower() for w in words if w.lower() in known), None)
                agent = agent or next((w.lower() for w in words if w[0].isupper()
                                       and not re.fullmatch(r"R\d+", w)
                                       and w.lower() not in ("all", "unanimous", "judge")),
                                      None)
            out.append((row[ci], agent, row[si] if si < len(row) else ""))
    return out


def latest_word(lines: list[str], code: set[int]) -> tuple[int, str] | None:
    """The Judge's latest word: ``**Status**`` lines and metadata rows; a Judge section's
    heading or bold phrase declaring convergence (then "converged")."""
    words: list[tuple[int, str]] = []
    heads = headings(lines, code)
    spans = []
    for k, (line, level, text) in enumerate(heads):
        if level in (2, 3) and is_judge(text):
            end = next((h[0] for h in heads[k + 1:] if h[1] <= level), len(lines) + 1)
            spans.append((line, end))

    def judged(i: int) -> bool:
        return any(a <= i < b for a, b in spans)

    declares = re.compile(r"convergence achieved|convergence declaration|convergence "
                          r"confirmed|100% convergence|\bconverged\b", re.I)
    for i, ln in enumerate(lines, 1):
        if i in code:
            continue
        m = re.match(r"^\s*\*\*status(?::\*\*|\*\*:)\s*(.+)$", ln, re.I) or \
            re.match(r"^\s*\|\s*\*\*status\*\*\s*\|\s*([^|]+)\|", ln, re.I)
        if m:
            words.append((i, clean(m.group(1))))
        elif judged(i):
            heading = ln.lstrip().startswith("#")
            texts = [ln] if heading else re.findall(r"\*\*(.+?)\*\*", ln)
            if any(declares.search(t) and not re.search(r"\bnot\b", t, re.I) for t in texts):
                words.append((i, "converged"))
    return max(words) if words else None


# -- the product's reading -------------------------------------------------------------------

def read(path: Path) -> tuple[ParsedFile, Dialogue]:
    pf = parse_file(path.name, path.read_bytes())
    return pf, assemble(pf.dialogue or "", [pf])


def check_file(path: Path) -> dict[str, int]:
    """Everything FORMAT.md 8 asks of one single file; returns what was checked."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    code = code_lines(lines)
    pf, d = read(path)
    assert pf.role == layout.DIALOGUE_FILE and d.id == SINGLE.fullmatch(path.name).group(1)
    slugs = panel(lines, code)
    ctx = context(lines, code, set(slugs or []))
    # every line-start or decorated marker outside code is a block, with its place
    by_line = {}
    for e in d.blocks:
        if not e.block.inline:
            by_line.setdefault(e.block.line, e)
    want = expected_markers(lines, code)
    for m in want:
        e = by_line.get(m["line"])
        assert e is not None, f"{path.name}:{m['line']}: marker not read as a block"
        rnd, expert = where(ctx, m["line"])
        assert (e.round, e.expert) == (rnd, expert), f"{path.name}:{m['line']}"
        if m["kind"]:
            assert e.block.kind == m["kind"], f"{path.name}:{m['line']}"
        if m["id"]:
            assert e.block.id == m["id"], f"{path.name}:{m['line']}"
        if m.get("label") is not None:
            assert e.block.label == m["label"], f"{path.name}:{m['line']}"
        assert e.file == path.name
    # and nothing else is a block (lines indented as code are left out of both sides)
    seen = {m["line"] for m in want}
    extra = [ln for ln in by_line if ln not in seen and not lines[ln - 1].startswith("    ")]
    assert not extra, f"{path.name}: blocks at lines {extra} are no line-start markers"
    # experts are the Expert Panel's rows
    if slugs is not None:
        assert sorted(e.slug for e in d.experts) == sorted(set(slugs)), path.name
    # the tracker's rows are the ledger
    rows = tracker_rows(lines, code, set(slugs or []))
    entries = ((pf.data or {}).get("ledger") or {}).get("entries") or []
    assert [(e["ref"]["raw"], e["agent"]) for e in entries] == [(r[0], r[1]) for r in rows]
    for raw, agent, status in rows:
        held = [t for t in d.tensions if t.ledger_id == raw]
        assert held, f"{path.name}: tracker row {raw} is no tension"
        if any(t.expert == agent for t in held):
            held = [t for t in held if t.expert == agent]
        assert any(t.ledger_status for t in held) or not status.strip(), (path.name, raw)
    # status: the Judge's latest word
    word = latest_word(lines, code)
    converged = bool(word) and re.search(r"converg", word[1], re.I) is not None \
        and not re.search(r"\bnot\b", word[1], re.I)
    assert (d.status == "converged") == converged, (path.name, word, d.status)
    # no markers: said once, as information
    infos = [x for x in pf.diagnostics if x.code == "single-file-no-markers"]
    assert (len(infos) == 1) == (not pf.blocks) and all(x.severity == "info" for x in infos)
    return {"markers": len(want), "rows": len(rows), "experts": len(slugs or [])}


# -- the real corpus -------------------------------------------------------------------------

def test_every_legacy_file_reads_as_its_headings_say(legacy_dir: Path) -> None:
    files = sorted(p for p in legacy_dir.iterdir() if SINGLE.fullmatch(p.name))
    assert files, f"no single-file dialogues in {legacy_dir}"
    totals = {"markers": 0, "rows": 0, "experts": 0}
    for p in files:
        for k, v in check_file(p).items():
            totals[k] += v
    assert totals["markers"] > 100 and totals["rows"] > 20 and totals["experts"] > 20


# -- sample_dialogues/ -----------------------------------------------------------------------

@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_single_files_read_as_their_headings_say(path: Path) -> None:
    check_file(path)


def line_of(path: Path, needle: str) -> int:
    hits = [i for i, ln in enumerate(path.read_text().split("\n"), 1) if needle in ln]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


def block_at(d: Dialogue, line: int):
    return next(e for e in d.blocks if e.block.line == line and not e.block.inline)


def test_each_heading_form_and_marker_decoration() -> None:
    """The sample holds each form once; what each gives is read from the file's text."""
    _, d = read(FLAGS)
    cases = {  # a marker line -> the heading form it stands under
        "[PERSPECTIVE P01: Every flag gets": "### 🥐 Brioche",        # emoji before
        "**[PERSPECTIVE P01: Flags double": "### Cannoli 🧁",        # emoji after, bold
        "- [TENSION T01: Who deletes": "### Cannoli 🧁",             # list item
        "[PERSPECTIVE P01: Dead flags": "### 🍩 Donut (Release Engineer)",  # role
        "[REFINEMENT on T01: Expiry": "### Brioche",                 # name only
    }
    for marker, heading in cases.items():
        e = block_at(d, line_of(FLAGS, marker))
        name = re.findall(r"[A-Za-z]+", heading)[0].lower()
        rounds = [i for i, ln in enumerate(FLAGS.read_text().split("\n"), 1)
                  if ln.startswith("## ") and "Round" in ln and JUDGE not in ln]
        rnd_line = max(r for r in rounds if r < e.block.line)
        rnd = int(re.search(r"Round (\d+)", FLAGS.read_text().split("\n")[rnd_line - 1])[1])
        assert (e.expert, e.round) == (name, rnd), marker
    donut = next(x for x in d.experts if x.slug == "donut")
    assert donut.role == "Release Engineer" and donut.tier == "wildcard"
    # the fenced marker is an example, not a block
    fenced = line_of(FLAGS, "[TENSION T09:")
    assert all(e.block.line != fenced for e in d.blocks)
    # Judge sections at H2 (round 0) and H3 (round 1) are those rounds' summaries
    by_round = {r.number: r for r in d.rounds}
    assert by_round[0].summary_title.startswith(f"{JUDGE} Judge: Round 0")
    assert by_round[1].summary_title.startswith(f"{JUDGE} Judge: Round 1")
    assert "CONVERGENCE ACHIEVED" in by_round[1].summary
    # the Judge's later word wins over the **Status** line
    assert "**Status**: In Progress" in FLAGS.read_text() and d.status == "converged"


def test_both_tracker_shapes() -> None:
    """| ID | Agent | ...: ids restart per expert, rows keyed by (ID, Agent); | ID | Tension |
    Status | Raised | Resolved |: the Judge's numbering, the raiser from the Raised cell."""
    pf, d = read(FLAGS)
    rows = [(e["ref"]["id"], e["agent"], e["status"]) for e in pf.data["ledger"]["entries"]]
    assert rows == [("T01", "brioche", "resolved"), ("T01", "cannoli", "open"),
                    ("T01", "donut", "deferred")]
    for _, agent, status in rows:
        t = next(t for t in d.tensions if t.expert == agent and t.id == "T01")
        assert t.ledger_status == status
    assert next(t for t in d.tensions if t.expert == "donut").is_open is False
    pf, d = read(LOGS)
    rows = [(e["ref"]["raw"], e["agent"], e["resolved_round"])
            for e in pf.data["ledger"]["entries"]]
    assert rows == [("T01", "eclair", 1), ("T02", "macaron", None)]
    t02 = next(t for t in d.tensions if t.id == "T02")
    # Eclair's unqualified [REFINEMENT on T02] reaches the tracker's T02 (Macaron's)
    assert t02.expert == "macaron" and [ev.actor for ev in t02.events] == ["macaron", "eclair"]


def test_stub_and_narrative_are_dialogues_with_an_info_note() -> None:
    pf, d = read(STUB)
    assert d.title == "Placeholder For A Dialogue Not Yet Held" and d.rounds == []
    assert [x.code for x in pf.diagnostics] == ["single-file-no-markers"]
    pf, d = read(NARRATIVE)
    assert d.title == "Office Move Retrospective" and d.blocks == []
    assert [r.number for r in d.rounds] == [1, 2]
    assert {(e.slug, e.role) for e in d.experts} == {("scone", "Facilities"),
                                                    ("churro", "Engineering Manager")}
    assert "Tension 1" not in {e.name for e in d.experts}
    # round 2 has no expert headings: its speakers are bold paragraph leads
    text = NARRATIVE.read_text()
    round2 = text.split("## Round 2", 1)[1].split("\n## ", 1)[0]
    leads = sorted(m.lower() for m in re.findall(r"^\*\*([A-Z][a-z]+):\*\*", round2, re.M))
    assert leads and next(r for r in d.rounds if r.number == 2).experts == leads
    assert [x.code for x in pf.diagnostics] == ["single-file-no-markers"]
    assert not [x for x in d.diagnostics if x.code == "round-missing"]


def test_recording_of_a_folder_dialogue_is_not_counted_twice() -> None:
    folder = SAMPLES / TRUNK
    files = [parse_file(p.relative_to(SAMPLES).as_posix(), p.read_bytes())
             for p in sorted(folder.rglob("*")) if p.is_file()]
    alone = assemble(TRUNK, files)
    rec = SAMPLES / f"{TRUNK}.dialogue.recorded.md"
    rec_pf = parse_file(rec.name, rec.read_bytes())
    assert rec_pf.role == layout.DIALOGUE_FILE and rec_pf.blocks  # it has markers of its own
    both = assemble(TRUNK, [*files, rec_pf])
    assert [e.key for e in both.blocks] == [e.key for e in alone.blocks]
    assert [t.key for t in both.tensions] == [t.key for t in alone.tensions]
    roles = {f.path: f.role for f in both.files}
    assert roles[rec.name] == layout.RECORDING
    assert len(both.files) == len(alone.files) + 1


@pytest.mark.parametrize("path", [FLAGS, LOGS, NARRATIVE], ids=lambda p: p.name)
def test_every_cut_of_a_single_file_reads_without_failing(path: Path) -> None:
    """A file being written (an agent appending, a save cut short): every prefix parses,
    assembles and encodes, with no internal error, and its blocks are those of the whole
    file that lie before the cut (bodies aside)."""
    from indexer.codec import to_items

    data = path.read_bytes()
    whole, _ = read(path)
    cuts = sorted({i for i, b in enumerate(data) if b == 0x0A} | {len(data) // 3, len(data)})
    for cut in cuts:
        pf = parse_file(path.name, data[:cut])
        assert not [x for x in pf.diagnostics if x.code == "internal-error"], cut
        to_items(assemble(pf.dialogue or "", [pf]))
        last = data[:cut].count(b"\n")  # lines complete before the cut
        want = [(b.line, b.kind, b.id) for b in whole.blocks if b.line <= last]
        got = [(b.line, b.kind, b.id) for b in pf.blocks if b.line <= last]
        assert got == want, cut
