"""round-N.summary.md / round-N/summary.md: the Judge's synthesis, kept as text.

Data: ``{"title": first heading or None, "text": the file's text}``."""

from __future__ import annotations

from typing import Any

from ..model import Diagnostic
from . import md
from .rules import JUDGE_UNKNOWN_SHAPE, diag


def title_of(text: str | md.Doc) -> str | None:
    """The first heading's text (``text`` may be already parsed)."""
    doc = md.parse(text) if isinstance(text, str) else text
    return next((ev.heading.text for ev in md.walk(doc)
                 if ev.kind == "heading" and ev.heading and ev.heading.text), None)


def normalise_text(text: str) -> str:
    """BOM dropped, CRLF -> LF, trailing blank space trimmed: what search indexes."""
    return md.clean(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def parse_summary(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    body = normalise_text(text)
    diags = [] if body else [diag(JUDGE_UNKNOWN_SHAPE, "the summary is empty",
                                  "write the Judge's synthesis of the round", path)]
    return {"title": title_of(body), "text": body}, diags
