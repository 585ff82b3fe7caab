"""Completion: tension ids after a target-taking marker keyword, keywords after ``[``.

Which keywords take targets, and which words may stand before them (``on``, ``to Strudel``),
is the grammar's (grammars/*.yaml). Which tensions are open at a round is the assembled
dialogue's: a tension raised before this round whose status after the previous round
(``status_by_round``, replayed by the library) is not closed (grammars/judge.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..grammar import load as load_grammar

if TYPE_CHECKING:
    from ..dialogue import Dialogue, Tension

# `[KEYWORD rest` up to the cursor, with no `]` in between.
_OPEN_MARKER = re.compile(r"\[\s*(?P<kw>[A-Za-z][A-Za-z_]*(?:\s*:\s*[A-Za-z_]+)?)"
                          r"(?P<rest>(?:\s[^\]\[]*)?)$")
_KEYWORD_START = re.compile(r"\[\s*(?P<part>[A-Za-z][A-Za-z:_]*)?$")


@dataclass(slots=True)
class Offer:
    label: str  # what is inserted
    detail: str
    documentation: str
    key: str | None = None  # the tension key (tensions) or None (keywords)
    keyword: bool = False


def closed_statuses() -> frozenset[str]:
    from ..judge.rules import grammar

    return grammar().closed_statuses


def open_at(d: Dialogue, round_: int | None) -> list[Tension]:
    """Tensions open when round ``round_`` was written (None: at the end of the dialogue)."""
    if round_ is None:
        return [t for t in d.tensions if t.is_open]
    closed = closed_statuses()
    out = []
    for t in d.tensions:
        if t.round is not None and t.round >= round_:
            continue  # not raised yet when this round was written
        status = t.status_by_round.get(str(round_ - 1), "open")
        if status not in closed:
            out.append(t)
    return out


def insert_text(t: Tension) -> str:
    """How a writer names the tension: the ledger's own id when it is one of the Judge's
    numbering (a bare id resolves to it), else the qualified ``EXPERT R1-T01``."""
    g = load_grammar()
    if t.ledger_id:
        ref = g.parse_ref(t.ledger_id)
        if ref is not None and ref.expert is None:
            return t.ledger_id
    if t.expert and t.id:
        return f"{t.expert.upper()} R{t.round}-{t.id}" if t.round is not None \
            else f"{t.expert.upper()}-{t.id}"
    return t.id or t.key


def offers(prefix: str, d: Dialogue | None, round_: int | None) -> list[Offer]:
    """What to offer with ``prefix`` (the line up to the cursor) before the cursor."""
    g = load_grammar()
    m = _OPEN_MARKER.search(prefix)
    if m and g.takes_targets(m.group("kw")):
        if d is None:
            return []
        out = []
        for t in open_at(d, round_):
            who = f"{t.expert.capitalize()} R{t.round}" if t.expert else "the Judge's ledger"
            out.append(Offer(insert_text(t), f"{t.effective_status} · {who}",
                             t.label or "", key=t.key))
        return out
    k = _KEYWORD_START.search(prefix)
    if k:
        names = sorted(set(g.keywords) | set(g.aliases))
        return [Offer(n, g.kind_of(n), _keyword_doc(n), keyword=True) for n in names]
    return []


def _keyword_doc(name: str) -> str:
    g = load_grammar()
    rule = g.rule(name)
    if rule is None:
        return ""
    canonical = g.aliases.get(name)
    parts = [f"alias of {canonical}"] if canonical else []
    if rule.id_letter:
        parts.append(f"takes an id: [{rule.keyword} {rule.id_letter}01: label]")
    if rule.targets:
        parts.append(f"takes targets: [{rule.keyword} T01] or [{rule.keyword} MUFFIN R1-T01]")
    if rule.event:
        parts.append(f"{rule.event} the tensions it names")
    return "; ".join(parts)
