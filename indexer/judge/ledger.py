"""tensions.md, the Judge's tension ledger, in the shapes of FORMAT.md 7:

- (A) headings: ``### MACARON-T01 (R0): label`` / ``#### CROISSANT R1-T01: label`` followed
  by status lines (``**Resolved in R1** by ...``, ``**Status: OPEN** — ...``) under section
  headings (``## RESOLVED``) that give a default status;
- (B) table: ``| ID | Tension | Status | Resolution |``; (C) the same with round columns
  (``| ID | Tension | Status | Raised | Resolved |``); other cells are kept in ``columns``;
- (D) a table without a status column under a heading that states the status of everything
  below it (``## All Tensions RESOLVED`` then ``| ID | Tension | Resolution | Round |``).

Data: ``{"shape": "headings"|"table"|"mixed"|None, "entries": [entry, ...], "final": bool}``
where an entry is ``{"ref": {raw, id, expert, round}, "label", "status", "status_raw",
"note", "resolved_round", "section", "line", "columns"[, "agent"]}``; ``final`` when the
title says the ledger is final (``# Tensions Tracker — FINAL``); ``agent`` when rows are
keyed by (ID, Agent). ``status`` is canonical (grammars/judge.yaml) or
None when the words are not known (with a warning).
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Diagnostic
from . import md
from .names import slug_of_name
from .rules import (
    JUDGE_UNKNOWN_SHAPE,
    JUDGE_UNKNOWN_STATUS,
    JudgeGrammar,
    diag,
    grammar,
    norm_words,
)

_ROUND = re.compile(r"\bR(\d+)\b")


def _ref(g: JudgeGrammar, m: re.Match[str], raw: str) -> dict[str, Any]:
    expert = m.group("expert")
    rnd = m.group("round") or m.group("raised")
    return {"raw": raw, "id": g.norm_id(m.group("id")),
            "expert": expert.lower() if expert else None,
            "round": int(rnd) if rnd is not None else None}


def _resolved_round(g: JudgeGrammar, status: str | None, text: str) -> int | None:
    if status not in g.resolved_statuses:
        return None
    m = _ROUND.search(text)
    return int(m.group(1)) if m else None


def _section_default(g: JudgeGrammar, headings: list[md.Heading]) -> str | None:
    for h in reversed(headings):
        status = g.section_status_of(h.text)
        if status:
            return status
    return None


class _Entry:
    def __init__(self, ref: dict[str, Any], label: str, line: int, section: str | None,
                 default: str | None) -> None:
        self.ref, self.label, self.line, self.section = ref, label, line, section
        self.default = default
        self.explicit: tuple[str, str, int] | None = None  # (status text, note, line)
        self.lead: tuple[str, str, int] | None = None      # first bold status phrase

    def take(self, g: JudgeGrammar, ln: md.Line) -> None:
        if not ln.lead:
            return
        words = ln.lead.split(":", 1)
        if len(words) == 2 and words[0].strip().lower() in g.status_prefixes:
            if self.explicit is None:
                self.explicit = (words[1].strip(), ln.rest, ln.line)
        elif self.lead is None and g.status_of(ln.lead):
            self.lead = (ln.lead, ln.rest, ln.line)

    def finish(self, g: JudgeGrammar, path: str, diags: list[Diagnostic]) -> dict[str, Any]:
        raw, note, status = "", "", None
        chosen = self.explicit or self.lead
        if chosen:
            raw, note, at = chosen
            status = g.status_of(raw)
            if status is None:
                diags.append(diag(JUDGE_UNKNOWN_STATUS,
                                  f"ledger status {raw!r} of {self.ref['raw']} is not a known "
                                  "status word", "use a status listed in grammars/judge.yaml "
                                  "(or add the word there)", path, at))
        else:
            status = self.default
            if status is None:
                diags.append(diag(JUDGE_UNKNOWN_STATUS,
                                  f"ledger entry {self.ref['raw']} has no status line and no "
                                  "status section", "add a line like **Status: OPEN**",
                                  path, self.line))
        note = note.lstrip("—–-: ").strip()
        # "Resolved in R1" names the round; a later explicit "Status: RESOLVED" may not.
        rr = _resolved_round(g, status, raw)
        if rr is None and self.lead and status in g.resolved_statuses:
            rr = _resolved_round(g, g.status_of(self.lead[0]), self.lead[0])
        return {"ref": self.ref, "label": self.label, "status": status, "status_raw": raw,
                "note": note, "resolved_round": rr, "section": self.section,
                "line": self.line, "columns": {}}


def _from_headings(g: JudgeGrammar, events: list[md.Event], path: str,
                   diags: list[Diagnostic]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cur: _Entry | None = None
    sections: list[md.Heading] = []  # non-entry headings enclosing the current position
    for ev in events:
        if ev.kind == "heading" and ev.heading:
            h = ev.heading
            if cur:
                entries.append(cur.finish(g, path, diags))
                cur = None
            m = g.ledger_heading.match(h.text)
            while sections and sections[-1].level >= h.level:
                sections.pop()
            if m:
                cur = _Entry(_ref(g, m, h.text[: m.end("id")]), m.group("label").strip(),
                             h.line,
                             sections[-1].text if sections else None,
                             _section_default(g, sections))
            else:
                sections.append(h)
        elif ev.kind == "line" and ev.line and cur:
            cur.take(g, ev.line)
        elif ev.kind == "table" and cur:
            entries.append(cur.finish(g, path, diags))
            cur = None
    if cur:
        entries.append(cur.finish(g, path, diags))
    return entries


def _col(g: JudgeGrammar, header: list[str], name: str) -> int | None:
    return next((i for i, h in enumerate(header) if g.column(name, h)), None)


def _heading_status(g: JudgeGrammar, headings: list[md.Heading]) -> str | None:
    """Shape D: a heading that states the status of everything below it, anywhere in its
    words (``## All Tensions RESOLVED``); the innermost such heading wins."""
    for h in reversed(headings):
        words = f" {norm_words(h.text)} "
        for phrase, canon in g.section_statuses:
            if f" {phrase} " in words:
                return canon
    return None


def _from_table(g: JudgeGrammar, table: md.Table, path: str,
                diags: list[Diagnostic]) -> list[dict[str, Any]]:
    ci, cs = _col(g, table.header, "id"), _col(g, table.header, "status")
    if ci is None:
        return []  # not a tension table (e.g. a category summary)
    default = _heading_status(g, table.headings) if cs is None else None
    if cs is None and default is None:
        return []  # no status column and no heading that states one
    cl = _col(g, table.header, "label")
    if cl is None:
        cl = next((i for i in range(len(table.header)) if i not in (ci, cs)), None)
    cr = _col(g, table.header, "resolved_in")
    ca = _col(g, table.header, "agent")
    section = table.headings[-1].text if table.headings else None
    out: list[dict[str, Any]] = []
    for row, line in zip(table.rows, table.row_lines, strict=False):
        cells = row + [""] * (len(table.header) - len(row))
        raw_id = cells[ci].strip()
        m = g.ledger_id_cell.match(raw_id)
        if not m:
            if raw_id:
                diags.append(diag(JUDGE_UNKNOWN_SHAPE,
                                  f"ledger row id {raw_id!r} is not a tension id",
                                  "use ids like T02, MUFFIN-T01 or MUFFIN R1-T01", path, line))
            continue
        raw_status = cells[cs].strip() if cs is not None else ""
        status = g.status_of(raw_status) if cs is not None else default
        if status is None:
            diags.append(diag(JUDGE_UNKNOWN_STATUS,
                              f"ledger status {raw_status!r} of {raw_id} is not a known "
                              "status word", "use a status listed in grammars/judge.yaml",
                              path, line))
        rr = _resolved_round(g, status, raw_status)
        if rr is None and cr is not None:
            rr = _resolved_round(g, status, cells[cr])
        raw = raw_id[: m.end("id")]
        extra = {table.header[i]: cells[i] for i in range(len(table.header))
                 if i not in (ci, cs, cl) and table.header[i]}
        entry = {"ref": _ref(g, m, raw), "label": cells[cl].strip() if cl is not None
                 else "", "status": status, "status_raw": raw_status, "note": "",
                 "resolved_round": rr, "section": section, "line": line, "columns": extra}
        if ca is not None and cells[ca].strip():  # rows keyed by (ID, Agent): the raiser
            entry["agent"] = slug_of_name(cells[ca])
        out.append(entry)
    return out


def parse_ledger(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    g = grammar()
    diags: list[Diagnostic] = []
    events = list(md.walk(md.parse(text)))
    headed = _from_headings(g, events, path, diags)
    tabled = [e for ev in events if ev.kind == "table" and ev.table
              for e in _from_table(g, ev.table, path, diags)]
    shape = ("mixed" if headed and tabled else "headings" if headed
             else "table" if tabled else None)
    entries = sorted(headed + tabled, key=lambda e: e["line"])
    title = next((ev.heading.text for ev in events if ev.kind == "heading" and ev.heading),
                 "")
    final = any(f" {w} " in f" {norm_words(title)} " for w in g.final_ledger)
    if not entries:
        diags.append(diag(JUDGE_UNKNOWN_SHAPE, "no tension entries found in the ledger",
                          "use headings like '### MUFFIN-T01 (R0): label' or a table "
                          "'| ID | Tension | Status |'", path, 1 if text.strip() else None))
    return {"shape": shape, "entries": entries, "final": final}, diags
