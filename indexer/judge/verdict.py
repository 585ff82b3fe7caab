"""verdict.md: the final verdict text, its title and the decision.

The decision is a decision line (``**Decision:** x``, ``Decision: x``) or else the first
heading or bold paragraph under a decision section (``## Answer to the Question`` then
``### NO.``), skipping a restated question. Data: ``{"title", "text", "decision"}``."""

from __future__ import annotations

from typing import Any

from ..model import Diagnostic
from . import md
from .rules import JUDGE_UNKNOWN_SHAPE, diag, grammar, norm_words
from .summary import normalise_text


def _decision(doc: md.Doc) -> str | None:
    v = grammar().verdict
    labels, sections = set(v["decision_labels"]), set(v["decision_sections"])
    in_section: int | None = None  # level of the decision section we are inside
    fallback: str | None = None
    for ev in md.walk(doc):
        if ev.kind == "heading" and ev.heading:
            h = ev.heading
            if in_section is not None and h.level > in_section and fallback is None:
                fallback = h.text
            if in_section is not None and h.level <= in_section:
                in_section = None
            if norm_words(h.text) in sections:
                in_section = h.level
        elif ev.kind == "line" and ev.line:
            ln = ev.line
            head, sep, tail = ln.text.partition(":")
            if sep and norm_words(head) in labels and tail.strip():
                return tail.strip()
            if in_section is not None and fallback is None and ln.lead \
                    and not ln.lead.rstrip().endswith("?") and not ln.rest:
                fallback = ln.lead
    return fallback


def parse_verdict(text: str, path: str) -> tuple[dict[str, Any], list[Diagnostic]]:
    body = normalise_text(text)
    from .summary import title_of

    doc = md.parse(body)  # one parse for the decision and the title
    decision = _decision(doc)
    diags = []
    if decision is None:
        diags.append(diag(JUDGE_UNKNOWN_SHAPE, "no decision found in the verdict",
                          "add a line '**Decision:** ...' or a '## Answer' section",
                          path, 1 if body else None))
    return {"title": title_of(doc), "text": body, "decision": decision}, diags
