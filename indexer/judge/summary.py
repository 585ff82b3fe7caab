"""round-N.summary.md / round-N/summary.md: the Judge's synthesis, kept as text, plus what the
linker and the dialogue status need from it, read line by line (no second Markdown parse):

- ``tensions``: the Judge's numbering as the summary writes it (``### T01 → label``,
  ``- T08: label``, a numbered list under ``## Open Tensions (7)``: item n is T0n), with the
  qualified ids each such line names (``T03 <- MACARON-T01``: the summary names a merge);
- ``statements``: lines that say convergence was achieved (grammars/judge.yaml).

Data: ``{"title", "text", "tensions": [{"id", "label", "line", "mentions"}],
"statements": [{"text", "line"}]}``.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import Diagnostic
from . import md
from .rules import JUDGE_UNKNOWN_SHAPE, diag, grammar, norm_words

_MENTION = re.compile(r"\b([A-Z][A-Za-z]+)(?:-|\s+R(\d+)-)(T\d+)\b")


def title_of(text: str | md.Doc) -> str | None:
    """The first heading's text (``text`` may be already parsed)."""
    doc = md.parse(text) if isinstance(text, str) else text
    return next((ev.heading.text for ev in md.walk(doc)
                 if ev.kind == "heading" and ev.heading and ev.heading.text), None)


def normalise_text(text: str) -> str:
    """BOM dropped, CRLF -> LF, trailing blank space trimmed: what search indexes."""
    return md.clean(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def says_converged(text: str) -> bool:
    """A statement that convergence was achieved, not negated just before."""
    g = grammar()
    for pat in g.converged_patterns:
        for m in pat.finditer(text):
            if not g.negation.search(text[max(0, m.start() - 40):m.start()]):
                return True
    return False


def statements(lines: list[str], first: int = 1) -> list[dict[str, Any]]:
    """Lines saying convergence was achieved (outside code fences)."""
    return [{"text": ln.strip(), "line": i} for i, ln, _ in md.text_lines(lines, first)
            if ln.strip() and says_converged(ln.replace("*", ""))]


def numbering(lines: list[str]) -> list[dict[str, Any]]:
    """The Judge ids a summary writes, with their labels and qualified mentions."""
    g = grammar()
    out: list[dict[str, Any]] = []
    numbered = False
    for i, ln, heading in md.text_lines(lines):
        text = ln.replace("**", "")
        m = None
        if heading is not None:
            words = norm_words(heading)
            numbered = any(words == x or words.startswith(x + " ")
                           for x in g.summary_numbered_under)
            m = g.summary_heading.match(heading.replace("**", ""))
        else:
            m = g.summary_item.match(text)
            if m is None and numbered:
                n = g.summary_numbered_item.match(text)
                if n:
                    out.append({"id": g.norm_id(f"T{n.group('n')}"),
                                "label": n.group("label").strip(), "line": i, "mentions": []})
                    continue
        if m:
            mentions = [mm.group(0) for mm in _MENTION.finditer(text)]
            out.append({"id": g.norm_id(m.group("id")), "label": m.group("label").strip(),
                        "line": i, "mentions": mentions})
    return out


def parse_summary(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    body = normalise_text(text)
    diags = [] if body else [diag(JUDGE_UNKNOWN_SHAPE, "the summary is empty",
                                  "write the Judge's synthesis of the round", path)]
    lines = md.clean(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return {"title": title_of(body), "text": body, "tensions": numbering(lines),
            "statements": statements(lines)}, diags
