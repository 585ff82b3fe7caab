"""Tension lifecycle: which markers are events of which kind, and a tension's status over time.

The per-keyword facts (event kind, which kinds raise a tension, reference types, RFC 0051
reference rules) are rules: they live in grammars/*.yaml and are asked of indexer.grammar.
How events move a tension's status is grammars/lifecycle.yaml: named transitions, in order,
the first that takes an event deciding (:class:`Transitions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .grammar import grammar_file, read_grammar_file
from .model import Ref
from .ruler import Ruler

if TYPE_CHECKING:
    from .grammar import Grammar

# A marker touching a tension whose keyword has no lifecycle meaning (RE:SUPPORT T0001).
REFERENCED = "referenced"
RAISED = "raised"


class Rules:
    """The grammar's per-keyword facts and the lifecycle, as the assembler asks them."""

    def __init__(self, grammar: Grammar, lifecycle: Transitions | None = None) -> None:
        self.g = grammar
        self.lifecycle = lifecycle or transitions()

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


FILE = "lifecycle.yaml"
SAME = "same"  # a transition's `to` that keeps the status


@dataclass(frozen=True, slots=True)
class Transition:
    events: frozenset[str]
    from_: frozenset[str] | None  # None: from any status
    to: str


@dataclass(frozen=True, slots=True)
class Transitions:
    """grammars/lifecycle.yaml: the initial status and the named transitions, in order."""

    initial: str
    ruler: Ruler[Transition]

    def next_status(self, current: str, event: str) -> str:
        """Status after one event: the first transition that takes it decides."""
        for rule in self.ruler:
            t = rule.fn
            if event in t.events and (t.from_ is None or current in t.from_):
                return current if t.to == SAME else t.to
        return current  # raised, restated, referenced: no transition takes them

    def replay(self, events: list[tuple[int | None, str]], first_round: int | None,
               last_round: int | None) -> tuple[str, dict[str, str]]:
        """Final status and status after each round from ``(round, kind)`` events in order."""
        status = self.initial
        by_round: dict[str, str] = {}
        rounds = [r for r, _ in events if r is not None]
        lo = min([r for r in (first_round, *rounds) if r is not None], default=None)
        hi = max([r for r in (last_round, *rounds) if r is not None], default=None)
        for r, kind in events:  # events without a round (notes) apply before the first round
            if r is None:
                status = self.next_status(status, kind)
        if lo is not None and hi is not None:
            for rnd in range(lo, hi + 1):
                for r, kind in events:
                    if r == rnd:
                        status = self.next_status(status, kind)
                by_round[str(rnd)] = status
        return status, by_round


def transitions() -> Transitions:
    """The lifecycle of the grammar folder (loaded once per file)."""
    return _transitions(grammar_file(FILE))


@lru_cache(maxsize=8)
def _transitions(path: Path) -> Transitions:
    doc = read_grammar_file(FILE, path)
    entries = doc["transitions"]
    registry = {str(e["rule"]): Transition(frozenset(e["events"]),
                                           frozenset(e["from"]) if "from" in e else None,
                                           str(e["to"])) for e in entries}
    return Transitions(str(doc["initial"]), Ruler.from_data(entries, registry, path,
                                                            "transitions"))


def next_status(current: str, event: str) -> str:
    """Status after one event (grammars/lifecycle.yaml). Addressing never reopens a closed
    tension; only REOPEN does."""
    return transitions().next_status(current, event)


def replay(events: list[tuple[int | None, str]], first_round: int | None,
           last_round: int | None) -> tuple[str, dict[str, str]]:
    """Final status and status after each round from ``(round, kind)`` events in order."""
    return transitions().replay(events, first_round, last_round)
