"""Target resolution (FORMAT.md 3): named rules, in the order grammars/resolution.yaml gives.

Given a target written by expert X in round r, each rule that applies to how the target is
written (``qualified`` ``MUFFIN R1-T01``; ``addressee``, a bare id after ``to Strudel``;
``bare`` ``T01``) is asked in turn; the first that finds an entity decides and is recorded
as the reference's rule. The rules (their order and reach are data):

- ``ledger``: the Judge's numbering defined the id when X wrote (identity.py);
- ``qualified``: that expert's entity with that local id, in the round given, else the
  latest earlier one;
- ``mention``: a qualified mention in the same marker names the id
  (``[RESOLVED T01: MACARON-T01 (...)]``);
- ``own``: X's own entity with that local id, the latest earlier one;
- none: ``unresolved``.

"Latest earlier" = in the latest round before r that has one, else in round r.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .grammar import grammar_file, read_grammar_file
from .model import Ref
from .ruler import Ruler

QUALIFIED = "qualified"
LEDGER = "ledger"
MENTION = "mention"
OWN = "own"
UNRESOLVED = "unresolved"

# How a target is written (resolution.yaml `applies_to`).
WRITTEN_QUALIFIED = "qualified"
WRITTEN_ADDRESSEE = "addressee"
WRITTEN_BARE = "bare"
FILE = "resolution.yaml"


@dataclass(frozen=True, slots=True)
class Candidate:
    expert: str | None
    id: str
    round: int | None
    key: str
    order: int  # tie-break within a round: position in the dialogue (files sorted by path)


def _round(c: Candidate) -> int:
    return -1 if c.round is None else c.round


def latest_earlier(cands: list[Candidate], writer_round: int | None) -> Candidate | None:
    """The candidate in the latest round before ``writer_round`` that has one, else one in
    ``writer_round`` itself. Without a writer round (Judge notes), the latest one."""
    if not cands:
        return None
    if writer_round is None:
        top = max(_round(c) for c in cands)
        return next(c for c in cands if _round(c) == top)
    earlier = [c for c in cands if _round(c) < writer_round]
    if earlier:
        top = max(_round(c) for c in earlier)
        return next(c for c in earlier if _round(c) == top)
    return next((c for c in cands if _round(c) == writer_round), None)


def written(ref: Ref) -> str:
    """How ``ref`` is written: ``qualified``, ``addressee`` (``to Strudel on T01``) or bare."""
    if not ref.expert:
        return WRITTEN_BARE
    return WRITTEN_QUALIFIED if ref.raw.lower().startswith(ref.expert) else WRITTEN_ADDRESSEE


# A rule: (resolver, target, writer, writer's round, the marker's qualified mentions) -> key.
RuleFn = Callable[["Resolver", Ref, "str | None", "int | None", "list[Ref]"], "str | None"]


def _ledger(r: Resolver, ref: Ref, writer: str | None, rnd: int | None,
            mentions: list[Ref]) -> str | None:
    return r.ledger(ref.id, rnd, ref.expert or writer)


def _qualified(r: Resolver, ref: Ref, writer: str | None, rnd: int | None,
               mentions: list[Ref]) -> str | None:
    return r.qualified(ref, rnd)


def _mention(r: Resolver, ref: Ref, writer: str | None, rnd: int | None,
             mentions: list[Ref]) -> str | None:
    for m in mentions:
        if m.expert and m.id == ref.id:
            key = r.qualified(m, rnd)
            if key:
                return key
    return None


def _own(r: Resolver, ref: Ref, writer: str | None, rnd: int | None,
         mentions: list[Ref]) -> str | None:
    hit = latest_earlier(r.by.get((writer, ref.id), []), rnd) if writer else None
    return hit.key if hit else None


RULES: dict[str, RuleFn] = {LEDGER: _ledger, QUALIFIED: _qualified, MENTION: _mention, OWN: _own}


def rules() -> Ruler[RuleFn]:
    """The resolution rules of the grammar folder, in order (loaded once per file)."""
    return _rules(grammar_file(FILE))


@lru_cache(maxsize=8)
def _rules(path: Path) -> Ruler[RuleFn]:
    doc = read_grammar_file(FILE, path)
    return Ruler.from_data(doc["resolution"], RULES, path, "resolution")


class Resolver:
    """Entities of one dialogue indexed by (expert, local id), plus the ledger's own ids."""

    def __init__(self, candidates: list[Candidate],
                 ledger: Callable[[str, int | None, str | None], str | None],
                 ruler: Ruler[RuleFn] | None = None) -> None:
        self.by: dict[tuple[str | None, str], list[Candidate]] = defaultdict(list)
        for c in sorted(candidates, key=lambda c: (_round(c), c.order, c.key)):
            self.by[(c.expert, c.id)].append(c)
        # (unqualified id, writer's round, whose) -> the Judge's row the writer knew by it
        self.ledger = ledger
        ruler = ruler or rules()
        # per way of writing, the rules that apply to it, in order
        self._order = {form: [(r.name, r.fn) for r in ruler
                              if form in r.params.get("applies_to", ())]
                       for form in (WRITTEN_QUALIFIED, WRITTEN_ADDRESSEE, WRITTEN_BARE)}

    def qualified(self, ref: Ref, writer_round: int | None) -> str | None:
        cands = self.by.get((ref.expert, ref.id), [])
        if ref.round is not None:
            exact = next((c for c in cands if c.round == ref.round), None)
            if exact:
                return exact.key
        hit = latest_earlier(cands, writer_round)
        return hit.key if hit else None

    def resolve(self, ref: Ref, writer: str | None, writer_round: int | None,
                marker_mentions: list[Ref]) -> tuple[str | None, str]:
        """``(target key or None, rule that matched)``."""
        for name, fn in self._order[written(ref)]:
            key = fn(self, ref, writer, writer_round, marker_mentions)
            if key:
                return key, name
        return None, UNRESOLVED
