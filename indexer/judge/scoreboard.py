"""scoreboard.md (or one per round, round-N/scoreboard.md): the expert-by-round score table
(``| Expert | Role | R0 | R1 | Total |``, or per round ``| Expert | Role | Tier | W | C | T | R
| Score |`` / ``| Agent | Wisdom | ... | **Total** |``), the ALIGNMENT table, and the bold
``**Label:** value`` lines under them (total ALIGNMENT, convergence). Names in the expert
column carry emoji and roles (``🧁 Muffin (Architect)``): the slug is the name alone.
``statements`` lists headings and bold lines that say convergence was achieved.

Data: ``{"title", "experts": [{"name", "slug", "role", "scores": {"0": 25, ...},
"total"}], "alignment": [{"round": 0, "<column as written>": int|str, ...}],
"totals": {"alignment": 415, "W": 135, ...}, "fields": {"<label>": "<value>"},
"convergence": str|None}``. A score of ``—`` means the expert was absent (key omitted).
"""

from __future__ import annotations

import re
from typing import Any

from ..layout import classify
from ..model import Diagnostic
from . import md
from .names import slug_of_name
from .rules import JUDGE_BAD_VALUE, JUDGE_UNKNOWN_SHAPE, diag, grammar, norm_words, to_int
from .summary import says_converged


def _is(names: list[str], header: str) -> bool:
    return norm_words(header) in {norm_words(n) for n in names}


def _expert_rows(table: md.Table, path: str, diags: list[Diagnostic],
                 round_: int | None = None) -> list[dict[str, Any]]:
    g = grammar()
    sb = g.scoreboard
    rounds = {i: int(m.group(1)) for i, h in enumerate(table.header)
              if (m := g.round_column.match(h.strip()))}
    name_i = next(i for i, h in enumerate(table.header) if _is(sb["expert_column"], h))
    role_i = next((i for i, h in enumerate(table.header) if _is(sb["role_column"], h)), None)
    total_i = next((i for i, h in enumerate(table.header) if _is(sb["total_column"], h)), None)
    absent = {norm_words(a) for a in sb["absent"]} | {a.strip() for a in sb["absent"]}
    out = []
    for row, line in zip(table.rows, table.row_lines, strict=False):
        cells = row + [""] * (len(table.header) - len(row))
        name = cells[name_i].strip()
        if not name:
            continue
        scores: dict[str, int] = {}
        for i, rnd in rounds.items():
            cell = cells[i].strip()
            if cell in absent or norm_words(cell) in absent:
                continue
            value = to_int(cell)
            if value is None:
                diags.append(diag(JUDGE_BAD_VALUE, f"score {cell!r} of {name} in round {rnd} "
                                  "is not a whole number", "write a number or — for absent",
                                  path, line))
                continue
            scores[str(rnd)] = value
        total = to_int(cells[total_i]) if total_i is not None else None
        if total_i is not None and total is None and cells[total_i].strip():
            diags.append(diag(JUDGE_BAD_VALUE, f"total {cells[total_i]!r} of {name} is not a "
                              "whole number", "write the sum of the round scores", path, line))
        if not rounds and round_ is not None and total_i is not None:
            # a per-round board (round-N/scoreboard.md): its score column is that round's
            value = to_int(cells[total_i])
            if value is not None:
                scores[str(round_)] = value
            total = None  # that column is the round's score, not a total
        out.append({"name": name, "slug": slug_of_name(name) or name.lower(),
                    "role": cells[role_i].strip() if role_i is not None else None,
                    "scores": scores, "total": total, "line": line})
    return out


def _alignment_rows(table: md.Table, path: str,
                    diags: list[Diagnostic]) -> list[dict[str, Any]]:
    out = []
    for row, line in zip(table.rows, table.row_lines, strict=False):
        cells = row + [""] * (len(table.header) - len(row))
        rnd = to_int(cells[0])
        if rnd is None:
            if cells[0].strip():
                diags.append(diag(JUDGE_BAD_VALUE, f"ALIGNMENT round {cells[0]!r} is not a "
                                  "number", "number rounds from 0", path, line))
            continue
        entry: dict[str, Any] = {"round": rnd}
        for h, cell in zip(table.header[1:], cells[1:], strict=False):
            if h.strip():
                v = to_int(cell)
                entry[h.strip()] = v if v is not None else cell.strip()
        out.append(entry)
    return out


def parse_scoreboard(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    g = grammar()
    sb = g.scoreboard
    diags: list[Diagnostic] = []
    title: str | None = None
    experts: list[dict[str, Any]] = []
    alignment: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    totals: dict[str, int] = {}
    convergence: str | None = None
    said: list[dict[str, Any]] = []  # headings and bold lines saying convergence was achieved
    round_ = classify(path).round if path else None
    for ev in md.walk(md.parse(text)):
        if ev.kind == "heading" and ev.heading:
            if title is None and ev.heading.level == 1:
                title = ev.heading.text
            if says_converged(ev.heading.text):
                said.append({"text": ev.heading.text, "line": ev.heading.line})
        elif ev.kind == "table" and ev.table and ev.table.header:
            t = ev.table
            named = any(_is(sb["expert_column"], h) for h in t.header)
            if named and (any(g.round_column.match(h.strip()) for h in t.header)
                          or sum(_is(sb["score_columns"], h) for h in t.header) >= 2):
                experts += _expert_rows(t, path, diags, round_)
            elif _is(sb["alignment_first_column"], t.header[0]):
                alignment += _alignment_rows(t, path, diags)
        elif ev.kind == "line" and ev.line and ev.line.lead and ev.line.lead.endswith(":"):
            label = ev.line.lead[:-1].strip()
            value = ev.line.rest.strip()
            fields.setdefault(label, value)
            if _is(sb["total_label"], label):
                m = re.match(r"\s*(-?\d+)", value)
                if m:
                    totals["alignment"] = int(m.group(1))
                for k, v in g.total_parts.findall(value):
                    totals[k] = int(v)
            elif _is(sb["convergence_label"], label) and convergence is None:
                convergence = value
            if says_converged(f"{label}: {value}"):
                said.append({"text": ev.line.text, "line": ev.line.line})
    if not experts and not alignment:
        diags.append(diag(JUDGE_UNKNOWN_SHAPE, "no expert score table and no ALIGNMENT table",
                          "use '| Expert | Role | R0 | R1 | Total |' and "
                          "'| Round | W | C | T | R | Score | ...'", path,
                          1 if text.strip() else None))
    return {"title": title, "experts": experts, "alignment": alignment, "totals": totals,
            "fields": fields, "convergence": convergence, "statements": said}, diags
