"""Tension lifecycle: which markers are events of which kind, and a tension's status over time.

The per-keyword facts (event kind, which kinds raise a tension, reference types, RFC 0051
reference rules) are rules: they live in grammars/*.yaml and are asked of indexer.grammar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import Ref

if TYPE_CHECKING:
    from .grammar import Grammar

# A marker touching a tension whose keyword has no lifecycle meaning (RE:SUPPORT T0001).
REFERENCED = "referenced"
RAISED = "raised"

# Replaying events: the status each event kind leads to, given the current status.
_CLOSED = ("resolved", "acknowledged", "deferred")


class Rules:
    """The grammar's per-keyword facts, as the assembler asks them."""

    def __init__(self, grammar: Grammar) -> None:
        self.g = grammar

    def raises(self, block_kind: str) -> bool:
        """Blocks of this kind raise a tension (TENSION, typed ``X-T0101``)."""
        return self.g.raises_tension(block_kind)

    def event_on_target(self, keyword: str, block_kind: str) -> str | None:
        """The lifecycle event a marker records on the tensions it targets (None: none).

        A raising marker (``[TENSION T02: ...]`` naming something) raises nothing on it.
        """
        if self.g.raises_tension(block_kind):
            return None
        event = self.g.event_of(keyword, block_kind)
        return None if event == RAISED else event

    def ref_type(self, keyword: str) -> str:
        """Reference type: the grammar's ``ref`` (RE:SUPPORT -> support), else the keyword."""
        rule = self.g.rule(keyword)
        return (rule.ref if rule and rule.ref else keyword).lower()

    def violation(self, keyword: str, target: Ref, source_kind: str | None) -> str | None:
        return self.g.reference_violation(keyword, target, source_kind)


def rules() -> Rules:
    from .grammar import load

    return Rules(load())


def next_status(current: str, event: str) -> str:
    """Status after one event. Addressing never reopens a closed tension; only REOPEN does."""
    if event == RAISED:
        return current or "open"
    if event == "addressed":
        return "addressed" if current in ("open", "reopened", "addressed") else current
    if event == "reopened":  # also on a tension still open: someone argues it is not done
        return "reopened"
    if event in _CLOSED:
        return event
    return current  # referenced, or an event kind this replay does not know


def replay(events: list[tuple[int | None, str]], first_round: int | None,
           last_round: int | None) -> tuple[str, dict[str, str]]:
    """Final status and status after each round from ``(round, kind)`` events in order."""
    status = "open"
    by_round: dict[str, str] = {}
    rounds = [r for r, _ in events if r is not None]
    lo = min([r for r in (first_round, *rounds) if r is not None], default=None)
    hi = max([r for r in (last_round, *rounds) if r is not None], default=None)
    pending = list(events)
    undated = [kind for r, kind in pending if r is None]
    for kind in undated:  # events without a round (notes) apply before the first round
        status = next_status(status, kind)
    if lo is not None and hi is not None:
        for rnd in range(lo, hi + 1):
            for r, kind in pending:
                if r == rnd:
                    status = next_status(status, kind)
            by_round[str(rnd)] = status
    return status, by_round
