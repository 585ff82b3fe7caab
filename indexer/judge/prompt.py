"""round-N/<expert>.prompt.md: the Judge's Key Tensions table as the experts of round N saw it.

Prompts are never a source of blocks (their markers are templates). What they tell is which
ids of the Judge's numbering were known when the round was written, with their labels and
raisers (FORMAT.md 6): rows ``| T01 | **label** — text | Open | Muffin, Brioche |`` under a
heading named in grammars/judge.yaml (``identity.prompt_headings``), with or without a header
row. Read line by line (no Markdown parse): a prompt is long and only these lines matter.

Data: ``{"tensions": [{"id", "title", "label", "status", "raisers", "line"}], "table":
digest of the rows, "role": the role the first line gives the expert}`` (keys present when
found) or None.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from ..model import Diagnostic
from .md import text_lines
from .names import slugs_of_names
from .rules import grammar, norm_words

_TITLE = re.compile(r"^\*\*(?P<title>.+?)\*\*\s*(?:—|–|--|-|:)?\s*(?P<rest>.*)$")


def split_title(cell: str) -> tuple[str, str]:
    """``**Sync direction** — text`` -> (``Sync direction``, the whole cell without bold)."""
    m = _TITLE.match(cell.strip())
    plain = cell.replace("**", "").strip()
    if m:
        return m.group("title").strip(), plain
    head = re.split(r"\s+(?:—|–|--)\s+", plain, maxsplit=1)[0]
    return head.strip(), plain


def tension_rows(lines: list[str], first_line: int = 1,
                 headings: list[str] | None = None) -> list[dict[str, Any]]:
    """Tension rows of a Markdown text under the given heading words (None: anywhere)."""
    g = grammar()
    out: list[dict[str, Any]] = []
    inside = headings is None
    for n, ln, heading in text_lines(lines, first_line):
        if heading is not None:
            if headings is not None:
                words = norm_words(heading)
                inside = any(words == x or words.startswith(x + " ") or words.endswith(" " + x)
                             for x in headings)
            continue
        if not inside or not ln.lstrip().startswith("|"):
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if len(cells) < 2:
            continue
        m = g.ledger_id_cell.match(cells[0].strip("*_ "))
        if not m or m.group("expert"):
            continue
        title, label = split_title(cells[1])
        status = cells[2] if len(cells) >= 4 else (cells[2] if len(cells) == 3 else "")
        raisers = slugs_of_names(cells[-1]) if len(cells) >= 4 else []
        out.append({"id": g.norm_id(m.group("id")), "title": title, "label": label,
                    "status": g.status_of(status) if status else None,
                    "raisers": raisers, "line": n})
    return out


def parse_prompt(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    g = grammar()
    m = g.prompt_role.match(text[:400])
    role = {"role": m.group("role").strip()} if m else {}
    rows = tension_rows(text.split("\n"), 1, g.prompt_headings) if "|" in text else []
    if not rows:
        return role or None, []
    # the same table in every prompt of a round: its digest lets the linker read it once
    sig = hashlib.sha256(json.dumps([[r["id"], r["title"], r["label"], r["raisers"]]
                                     for r in rows]).encode()).hexdigest()[:16]
    return {"tensions": rows, "table": sig, **role}, []
