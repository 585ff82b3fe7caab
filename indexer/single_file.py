"""A whole dialogue in one Markdown file (FORMAT.md 8) -> blocks and the dialogue's structure.

The file is parsed once, by the marker parser (parse.py), whose markdown-it tokens also give
the headings and tables read here. Headings say where each block stands: the round (an H2
``## Round N ...`` / ``## Opening Arguments (Round N)``), the expert (an H3 ``### 🧁 Muffin``,
``### Muffin 🧁``, ``### 🧁 Muffin (Role)``, ``### Muffin``) or the Judge (a 💙 heading, H2
or H3). Every heading pattern, table name and status word is in grammars/single-file.yaml.

``read_single_file`` returns the blocks (file order, file lines) and the structure as JSON
data (stored with the file, so an unchanged file is never re-parsed); ``sections`` turns that
back into the parts a folder dialogue would have (one response per round and expert, the
Judge's sections as round summaries, the panel, the scoreboard, the tracker as ledger), which
is all assemble.py needs to build the same Dialogue model as for a folder.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import diagnostics as diag
from . import layout
from .grammar import Grammar, read_grammar_file
from .model import Block, Diagnostic, ParsedFile, SectionFile

# (text, grammar, path) -> (blocks, diagnostics, markdown-it block tokens)
MarkerParser = Callable[[str, Grammar, str], tuple[list[Block], list[Diagnostic], list[Any]]]

GRAMMAR_FILE = "single-file.yaml"
_DECOR = re.compile(r"[*_`]+")
_BOLD = re.compile(r"(?:\*\*|__)(.+?)(?:\*\*|__)")
_ROUND_REF = re.compile(r"\bR(\d+)\b")


@dataclass(frozen=True)
class ExpertForm:
    pattern: re.Pattern[str]
    known: bool  # counts only for names known from the panel or a decorated heading


@dataclass(frozen=True)
class SingleFileGrammar:
    title: list[re.Pattern[str]]
    judge_mark: str
    judge_names: list[re.Pattern[str]]
    judge_round: re.Pattern[str]
    rounds: list[re.Pattern[str]]
    experts: list[ExpertForm]
    sections: dict[str, list[re.Pattern[str]]]
    panel_columns: dict[str, set[str]]
    tracker_columns: dict[str, set[str]]
    perspective_columns: dict[str, set[str]]
    expert_lead: re.Pattern[str]
    status_label: re.Pattern[str]
    status_cell: re.Pattern[str]
    phrases: list[str]
    negations: list[str]

    def section_of(self, text: str) -> str | None:
        return next((name for name, pats in self.sections.items()
                     if any(p.match(text) for p in pats)), None)

    def is_judge(self, text: str) -> bool:
        return self.judge_mark in text or any(p.match(text) for p in self.judge_names)

    def round_of(self, text: str) -> tuple[int, str | None] | None:
        for p in self.rounds:
            m = p.match(text)
            if m:
                groups = m.groupdict()
                title = groups.get("title") or groups.get("paren")
                return int(m.group("round")), (title.strip() or None) if title else None
        return None

    def expert_of(self, text: str, known: set[str] | None) -> dict[str, str | None] | None:
        """name/role/emoji of an expert heading; ``known=None`` reads decorated forms only."""
        for form in self.experts:
            if form.known and (known is None):
                continue
            m = form.pattern.match(text)
            if m is None:
                continue
            g = m.groupdict()
            name = g["name"]
            if form.known and name.lower() not in (known or set()):
                continue
            return {"name": name, "slug": name.lower(), "role": (g.get("role") or "").strip()
                    or None, "emoji": (g.get("emoji") or "").strip() or None}
        return None

    def declares_convergence(self, text: str) -> bool:
        low = " ".join(text.lower().split())
        if any(n in low for n in self.negations):
            return False
        return any(p in low for p in self.phrases)


def _patterns(values: Any) -> list[re.Pattern[str]]:
    return [re.compile(v, re.I) for v in (values if isinstance(values, list) else [values])]


def _columns(mapping: dict[str, list[str]]) -> dict[str, set[str]]:
    return {k: {_norm(h) for h in v} for k, v in mapping.items()}


@cache
def single_grammar(path: str | None = None) -> SingleFileGrammar:
    """grammars/single-file.yaml ($BLUE_INDEX_GRAMMARS when it has one), compiled once."""
    data = read_grammar_file(GRAMMAR_FILE, path)
    conv = data["convergence"]
    return SingleFileGrammar(
        title=_patterns(data["title"]),
        judge_mark=str(data["judge_mark"]),
        judge_names=_patterns(data["judge_names"]),
        judge_round=re.compile(data["judge_round"], re.I),
        rounds=_patterns(data["rounds"]),
        experts=[ExpertForm(re.compile(e["pattern"], re.I), bool(e.get("known")))
                 for e in data["experts"]],
        sections={k: _patterns(v) for k, v in data["sections"].items()},
        panel_columns=_columns(data["panel_columns"]),
        tracker_columns=_columns(data["tracker_columns"]),
        perspective_columns=_columns(data["perspective_columns"]),
        expert_lead=re.compile(data["expert_lead"], re.I),
        status_label=re.compile(data["status_label"], re.I),
        status_cell=re.compile(data["status_cell"], re.I),
        phrases=[p.lower() for p in conv["phrases"]],
        negations=[n.lower() for n in conv["negations"]],
    )


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%]+", " ", text.lower()).split())


def _clean(text: str) -> str:
    """A heading's or cell's text without emphasis markers."""
    return _DECOR.sub("", text).strip()


# -- the token walk ------------------------------------------------------------------------

@dataclass
class _Heading:
    level: int
    text: str  # emphasis removed
    line: int  # 1-based


@dataclass
class _Table:
    header: list[str]
    rows: list[list[str]]
    line: int
    row_lines: list[int]


def _structure(tokens: list[Any]) -> tuple[list[_Heading], list[tuple[int, str]],
                                           list[_Table]]:
    """ATX headings, paragraph lines (1-based line, raw text) and tables, in file order."""
    heads: list[_Heading] = []
    lines: list[tuple[int, str]] = []
    tables: list[_Table] = []
    table: _Table | None = None
    row: list[str] | None = None
    in_head = False
    kind = ""
    for i, t in enumerate(tokens):
        tt = t.type
        if tt == "heading_open":
            kind = "heading" if t.markup.startswith("#") else ""
            if kind:
                heads.append(_Heading(int(t.tag[1:]), _clean(tokens[i + 1].content),
                                      t.map[0] + 1))
        elif tt == "paragraph_open":
            kind = "paragraph"
        elif tt == "inline":
            if row is not None:
                row.append(_clean(t.content))
            elif kind == "paragraph" and t.map:
                lines += [(t.map[0] + 1 + n, ln) for n, ln in enumerate(t.content.split("\n"))]
            kind = ""
        elif tt == "table_open":
            table = _Table([], [], t.map[0] + 1, [])
        elif tt == "thead_open":
            in_head = True
        elif tt == "thead_close":
            in_head = False
        elif tt == "tr_open":
            row = []
            if table is not None and not in_head:
                table.row_lines.append(t.map[0] + 1 if t.map else table.line)
        elif tt == "tr_close" and table is not None and row is not None:
            if in_head:
                table.header = row
            else:
                table.rows.append(row)
            row = None
        elif tt == "table_close" and table is not None:
            tables.append(table)
            table = None
    return heads, lines, tables


def _col(header: list[str], names: set[str]) -> int | None:
    return next((i for i, h in enumerate(header) if _norm(h) in names), None)


def _cell(row: list[str], i: int | None) -> str:
    return row[i].strip() if i is not None and i < len(row) else ""


# -- reading -------------------------------------------------------------------------------

class _Reader:
    def __init__(self, g: SingleFileGrammar, text: str, path: str) -> None:
        self.g = g
        self.path = path
        self.src = text.split("\n")
        self.diags: list[Diagnostic] = []

    def read(self, blocks: list[Block], tokens: list[Any]) -> dict[str, Any]:
        g = self.g
        heads, para, tables = _structure(tokens)
        title = self._title(heads)
        # which H2 section each table stands in
        h2 = [h for h in heads if h.level <= 2]
        h2_lines = [h.line for h in h2]

        def section_name(line: int) -> str | None:
            k = bisect.bisect_right(h2_lines, line) - 1
            return g.section_of(h2[k].text) if k >= 0 and h2[k].level == 2 else None

        by_section: dict[str, list[_Table]] = {}
        for t in tables:
            name = section_name(t.line)
            if name:
                by_section.setdefault(name, []).append(t)
        panel = self._panel(by_section.get("panel", []))
        known = {e["slug"] for e in panel}
        known |= {e["slug"] for h in heads if h.level == 3 and not g.is_judge(h.text)
                  and (e := g.expert_of(h.text, None))}
        sections, rounds, experts, judge_spans = self._walk(heads, known)
        self._leads(para, sections, rounds, known)
        seen = {e["slug"] for e in panel}
        for e in experts:  # experts the headings name that the panel does not
            if e["slug"] not in seen:
                seen.add(e["slug"])
                panel.append({**e, "tier": None, "relevance": None, "source": "heading"})
        self._summaries(rounds, judge_spans, heads)
        return {
            "title": title,
            "status": self._status(para, tables, judge_spans, heads),
            "sections": sections,
            "rounds": [rounds[n] for n in sorted(rounds)],
            "experts": panel,
            "panel": bool(by_section.get("panel")),
            "scores": self._scores(by_section.get("scoreboard", [])),
            "ledger": self._tracker(by_section.get("tracker", []), known),
            "perspectives": self._perspectives(by_section.get("perspectives", [])),
            "markers": len(blocks),
        }

    def _title(self, heads: list[_Heading]) -> str | None:
        first = next((h for h in heads if h.level == 1), None)
        if first is None:
            return None
        for p in self.g.title:
            m = p.match(first.text)
            if m:
                return m.group("title").strip() or None
        return None

    def _walk(self, heads: list[_Heading], known: set[str]
              ) -> tuple[list[list[Any]], dict[int, dict[str, Any]], list[dict[str, Any]],
                         list[tuple[int, int, int | None, str]]]:
        """Sections ``[line, round, expert, judge]`` (each heading starts one), rounds,
        experts met, and the Judge's spans (first line, end line, round, heading)."""
        g = self.g
        rnd: int | None = None
        expert: str | None = None
        judge = False
        sections: list[list[Any]] = [[1, None, None, 0]]
        rounds: dict[int, dict[str, Any]] = {}
        experts: list[dict[str, Any]] = []
        spans: list[tuple[int, int, int | None, str]] = []

        def open_round(n: int, title: str | None, line: int) -> None:
            rounds.setdefault(n, {"number": n, "title": title, "line": line, "experts": [],
                                  "summary_title": None, "summary": None})

        for k, h in enumerate(heads):
            if h.level == 2:
                expert, judge = None, False
                r = g.round_of(h.text)
                if g.is_judge(h.text):
                    judge = True
                    m = g.judge_round.search(h.text)
                    rnd = int(m.group("round")) if m else rnd
                    if rnd is not None:
                        open_round(rnd, None, h.line)
                elif r is not None:
                    rnd = r[0]
                    open_round(rnd, r[1], h.line)
                else:
                    rnd = None
            elif h.level == 3:
                if g.is_judge(h.text):
                    expert, judge = None, True
                else:
                    e = g.expert_of(h.text, known)
                    expert, judge = (e["slug"] if e else None), (judge and e is None)
                    if e:
                        if e["slug"] not in {x["slug"] for x in experts}:
                            experts.append({**e, "line": h.line})
                        if rnd is not None and e["slug"] not in rounds[rnd]["experts"]:
                            rounds[rnd]["experts"].append(e["slug"])
            else:
                continue
            sections.append([h.line, rnd, expert, int(judge)])
            if judge and g.is_judge(h.text):
                end = next((x.line for x in heads[k + 1:] if x.level <= h.level),
                           len(self.src) + 1)
                spans.append((h.line, end, rnd, h.text))
        return sections, rounds, experts, spans

    def _leads(self, para: list[tuple[int, str]], sections: list[list[Any]],
               rounds: dict[int, dict[str, Any]], known: set[str]) -> None:
        """Experts speaking as bold paragraph leads (narratives) join their round."""
        starts = [s[0] for s in sections]
        for line, text in para:
            m = self.g.expert_lead.match(text)
            if m is None or m.group("name").lower() not in known:
                continue
            rnd, _ = section_at(sections, line, starts)
            slug = m.group("name").lower()
            if rnd is not None and rnd in rounds and slug not in rounds[rnd]["experts"]:
                rounds[rnd]["experts"].append(slug)

    def _summaries(self, rounds: dict[int, dict[str, Any]],
                   spans: list[tuple[int, int, int | None, str]], heads: list[_Heading]) -> None:
        """The Judge's sections of each round, as that round's summary (title, text)."""
        for start, end, rnd, heading in spans:
            if rnd is None or rnd not in rounds:
                continue
            text = "\n".join(self.src[start - 1:end - 1]).strip()
            r = rounds[rnd]
            r["summary_title"] = r["summary_title"] or heading
            r["summary"] = f"{r['summary']}\n\n{text}" if r["summary"] else text

    def _status(self, para: list[tuple[int, str]], tables: list[_Table],
                spans: list[tuple[int, int, int | None, str]],
                heads: list[_Heading]) -> dict[str, Any] | None:
        """The Judge's latest word: a ``**Status**`` line or metadata row, or a later Judge
        heading / bold phrase that declares convergence (then the word is ``converged``)."""
        g = self.g
        words: list[tuple[int, str, str]] = []  # (line, word, as written)
        for line, text in para:
            m = g.status_label.match(text)
            if m and m.group("word"):
                word = _clean(m.group("word"))
                words.append((line, word, text.strip()))
        for t in tables:
            for row, line in zip([t.header, *t.rows], [t.line, *t.row_lines], strict=False):
                if len(row) >= 2 and g.status_cell.match(row[0]) and row[1].strip():
                    words.append((line, _clean(row[1]), " | ".join(row)))
        starts = [s[0] for s in spans]

        def in_judge(line: int) -> bool:
            k = bisect.bisect_right(starts, line) - 1
            return k >= 0 and spans[k][0] <= line < spans[k][1]

        for h in heads:
            if in_judge(h.line) and g.declares_convergence(h.text):
                words.append((h.line, "converged", h.text))
        for line, text in para:
            if in_judge(line):
                for m in _BOLD.finditer(text):
                    if g.declares_convergence(m.group(1)):
                        words.append((line, "converged", m.group(1).strip()))
                        break
        if not words:
            return None
        line, word, written = max(words, key=lambda w: w[0])
        return {"word": word, "text": written, "line": line,
                "converged": g.declares_convergence(word)}

    # -- tables ----------------------------------------------------------------------------

    def _panel(self, tables: list[_Table]) -> list[dict[str, Any]]:
        g = self.g
        cols = g.panel_columns
        out: list[dict[str, Any]] = []
        for t in tables:
            ni, ii = _col(t.header, cols["name"]), _col(t.header, cols["id"])
            who = ni if ni is not None else ii if ii is not None else 0
            ri = _col(t.header, cols["role"])
            ri = ri if ri != who else None
            ti, vi = _col(t.header, cols["tier"]), _col(t.header, cols["relevance"])
            ei = _col(t.header, cols["emoji"])
            for row, line in zip(t.rows, t.row_lines, strict=False):
                cell = _cell(row, who)
                if not cell or g.is_judge(cell):
                    continue
                e = g.expert_of(cell, None) or g.expert_of(cell, {_norm(cell.split(" (")[0])})
                name = e["name"] if e else cell.split(" (")[0].strip()
                try:
                    relevance = float(_cell(row, vi)) if vi is not None else None
                except ValueError:
                    relevance = None
                tier = _cell(row, ti)
                out.append({
                    "name": name, "slug": re.sub(r"\s+", "-", name.lower()),
                    "role": _cell(row, ri) or (e["role"] if e else None) or None,
                    "tier": tier if tier and _norm(tier) else None, "relevance": relevance,
                    "emoji": _cell(row, ei) or (e["emoji"] if e else None) or None,
                    "line": line, "source": "panel"})
        return out

    def _scores(self, tables: list[_Table]) -> list[dict[str, Any]]:
        """Alignment Scoreboard rows: the expert's dimension scores and total."""
        out: list[dict[str, Any]] = []
        for t in tables:
            if not t.header:
                continue
            for row, line in zip(t.rows, t.row_lines, strict=False):
                e = self.g.expert_of(_cell(row, 0), None) or self.g.expert_of(
                    _cell(row, 0), {_norm(_cell(row, 0))})
                if not e:
                    continue
                values = {}
                for i, h in enumerate(t.header[1:], 1):
                    v = _cell(row, i)
                    if re.fullmatch(r"-?\d+", v):
                        values[_clean(h)] = int(v)
                total = values.pop(_clean(t.header[-1]), None) if len(t.header) > 1 else None
                out.append({"name": e["name"], "slug": e["slug"], "dimensions": values,
                            "total": total, "line": line})
        return out

    def _tracker(self, tables: list[_Table], known: set[str]) -> dict[str, Any] | None:
        """The Tensions Tracker in the Judge's ledger row shape, plus ``agent``."""
        from .judge import md
        from .judge.ledger import _from_table
        from .judge.rules import grammar as judge_grammar

        if not tables:
            return None
        jg = judge_grammar()
        cols = self.g.tracker_columns
        entries: list[dict[str, Any]] = []
        for t in tables:
            table = md.Table(t.header, t.rows, t.line, t.row_lines)
            rows = _from_table(jg, table, self.path, self.diags)
            ai, ri = _col(t.header, cols["agent"]), _col(t.header, cols["round"])
            # an Agent column keys rows by (ID, agent); a Raised column names who raised a
            # row of the Judge's own numbering (ids unique in the table)
            ids = [_cell(r, 0) for r in t.rows]
            per_agent = ai is not None and (_norm(t.header[ai]) in self.g.tracker_columns[
                "per_agent"] or len(set(ids)) < len(ids))
            by_line = dict(zip(t.row_lines, t.rows, strict=False))
            for entry in rows:
                row = by_line.get(entry["line"], [])
                agent = _agent(_cell(row, ai), known)
                rnd = _round(_cell(row, ri)) if ri is not None else None
                if rnd is None and ai is not None:
                    m = _ROUND_REF.search(_cell(row, ai))
                    rnd = int(m.group(1)) if m else None
                ref = dict(entry["ref"])
                if per_agent:  # ids restart per expert: the row is that expert's tension
                    ref["expert"] = ref.get("expert") or agent
                ref["round"] = ref.get("round") if ref.get("round") is not None else rnd
                entries.append({**entry, "ref": ref, "agent": agent})
        return {"shape": "table", "entries": entries}

    def _perspectives(self, tables: list[_Table]) -> list[dict[str, Any]]:
        cols = self.g.perspective_columns
        out = []
        for t in tables:
            ii, ai = _col(t.header, cols["id"]), _col(t.header, cols["agent"])
            li, ri = _col(t.header, cols["label"]), _col(t.header, cols["round"])
            for row, line in zip(t.rows, t.row_lines, strict=False):
                if _cell(row, ii):
                    out.append({"id": _cell(row, ii), "agent": _agent(_cell(row, ai), None),
                                "label": _cell(row, li), "round": _round(_cell(row, ri)),
                                "line": line})
        return out


def _agent(cell: str, known: set[str] | None) -> str | None:
    """The first expert a cell names (``🧁 Muffin R0``, ``Muffin, Scone``): a known slug when
    the cell holds one, else its first word that reads as a name."""
    words = re.findall(r"[A-Za-z][\w'-]*", cell)
    if known:
        hit = next((w.lower() for w in words if w.lower() in known), None)
        if hit:
            return hit
    skip = {"r", "all", "unanimous", "judge"}
    first = next((w for w in words if w[0].isupper() and not re.fullmatch(r"R\d+", w)
                  and w.lower() not in skip), None)
    return first.lower() if first else None


def _round(cell: str) -> int | None:
    m = re.search(r"\d+", cell)
    return int(m.group(0)) if m else None


def _duplicates(blocks: list[Block], secs: list[list[Any]], g: Grammar, path: str
                ) -> list[Diagnostic]:
    """duplicate-id per section: ids restart with each expert (and round) of the file."""
    out = []
    seen: dict[tuple[int | None, str | None, str], int] = {}
    starts = [s[0] for s in secs]
    for b in blocks:
        if b.inline or not b.id or b.id.split("-")[-1] in g.placeholders:
            continue
        key = (*section_at(secs, b.line, starts), b.id)
        if key in seen:
            out.append(diag.make("duplicate-id", path, b.line, b.column, id=b.id,
                                 first=seen[key], kind=b.kind))
        else:
            seen[key] = b.line
    return out


def read_single_file(text: str, path: str, grammar: Grammar | None,
                     markers: MarkerParser) -> tuple[list[Block], dict[str, Any], list[Diagnostic]]:
    """Blocks, structure and diagnostics of a single-file dialogue (text with LF endings).
    ``markers``: the marker parser (``parse.parse_markers_tokens``), passed in by the
    parser that calls this, so that this module does not import it back."""
    from .grammar import load as load_grammar

    g = grammar or load_grammar()
    blocks, diags, tokens = markers(text, g, path)
    reader = _Reader(single_grammar(), text, path)
    data = reader.read(blocks, tokens)
    # the parser checks ids per file; here they are unique per expert and round
    diags = [d for d in diags if d.code != "duplicate-id"]
    diags += _duplicates(blocks, data["sections"], g, path) + reader.diags
    if not blocks:
        family = "Alignment Dialogue" if data["experts"] or data["rounds"] else "stub"
        if data["rounds"] and not data["panel"] and not data["ledger"]:
            family = "free-form"
        diags.append(diag.make("single-file-no-markers", path, 1, family=family))
    return blocks, data, diags


# -- the parts a folder dialogue would have ------------------------------------------------

def section_at(sections: list[list[Any]], line: int, starts: list[int] | None = None
               ) -> tuple[int | None, str | None]:
    """(round, expert) of the heading a line stands under (``starts``: the sections' first
    lines, when the caller asks many times)."""
    k = bisect.bisect_right(starts or [s[0] for s in sections], line) - 1
    s = sections[max(k, 0)]
    return s[1], s[2]


def sections(pf: ParsedFile) -> list[ParsedFile]:
    """The parts of a single-file dialogue as the folder files they stand for (in memory).

    One response per (round, expert) heading with the blocks written under it (the blocks of
    the Judge's and other sections go to a note per round), the Judge's sections as round
    summaries, the Expert Panel as a panel, the scoreboard (with the Judge's latest word as
    its convergence line and the title), and the tracker as the ledger.
    """
    data = pf.data if isinstance(pf.data, dict) else {}
    secs = data.get("sections") or [[1, None, None, 0]]
    parts: dict[tuple[str, int | None, str | None], SectionFile] = {}

    def part(role: str, rnd: int | None, expert: str | None = None, **kw: Any) -> SectionFile:
        key = (role, rnd, expert)
        if key not in parts:
            parts[key] = SectionFile(path=pf.path, role=role, dialogue=pf.dialogue, round=rnd,
                                     expert=expert, sha256=pf.sha256, size=pf.size,
                                     good_sha256=pf.good_sha256, **kw)
        return parts[key]

    for r in data.get("rounds") or []:
        for slug in r.get("experts") or []:
            part(layout.RESPONSE, r["number"], slug)
        if r.get("summary"):
            part(layout.SUMMARY, r["number"],
                 data={"title": r.get("summary_title"), "text": r["summary"]})
        elif not r.get("experts"):  # a round with neither: still a round of the dialogue
            part(layout.NOTE, r["number"])
    starts = [s[0] for s in secs]
    for i, b in enumerate(pf.blocks):
        rnd, expert = section_at(secs, b.line, starts)
        f = part(layout.RESPONSE, rnd, expert) if expert else part(layout.NOTE, rnd)
        f.blocks.append(b)
        f.indices.append(i)
    for f in parts.values():  # a block's parent is an index in the real file's list
        where = {real: n for n, real in enumerate(f.indices)}
        f.blocks = [b if b.parent is None else _reparent(b, where.get(b.parent))
                    for b in f.blocks]
    agents = data.get("experts") or []
    if agents:
        part(layout.PANEL, None, data={"agents": agents})
    status = data.get("status") or {}
    scores = data.get("scores") or []
    if scores or status or data.get("title"):
        part(layout.SCOREBOARD, None, data={
            "title": data.get("title"), "alignment": [], "totals": {}, "fields": {},
            "convergence": status.get("word"),
            # the Judge's latest word, when it says converged, is what convergence.py reads
            "statements": [{"text": status["text"], "line": status["line"]}]
            if status.get("converged") else [],
            "experts": [{"name": s["name"], "slug": s["slug"], "role": None, "scores": {},
                         "total": s.get("total")} for s in scores]})
    if data.get("ledger"):
        part(layout.LEDGER, None, data=data["ledger"])
    return list(parts.values())


def _reparent(b: Block, parent: int | None) -> Block:
    from dataclasses import replace

    return replace(b, parent=parent)
