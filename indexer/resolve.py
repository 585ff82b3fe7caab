"""Target resolution, in the order of FORMAT.md section 3.

Given a target written by expert X in round r:

1. ``qualified`` (``MUFFIN R1-T01``, ``MUFFIN-T01``): that expert's entity with that local id,
   in the round given, else the latest earlier one;
2. ``ledger``: unqualified, and the Judge's numbering defined that id when X wrote (the
   round's prompts or the previous summary name it; identity.py), a ``| T02 |`` row;
3. ``mention``: unqualified, and a qualified mention in the same marker names that id
   (``[RESOLVED T01: MACARON-T01 (...)]``);
4. ``own``: X's own entity with that local id, the latest earlier one;
5. ``unresolved``.

"Latest earlier" = in the latest round before r that has one, else in round r.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .model import Ref

QUALIFIED = "qualified"
LEDGER = "ledger"
MENTION = "mention"
OWN = "own"
UNRESOLVED = "unresolved"


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


class Resolver:
    """Entities of one dialogue indexed by (expert, local id), plus the ledger's own ids."""

    def __init__(self, candidates: list[Candidate],
                 ledger: Callable[[str, int | None, str | None], str | None]) -> None:
        self._by: dict[tuple[str | None, str], list[Candidate]] = defaultdict(list)
        for c in sorted(candidates, key=lambda c: (_round(c), c.order, c.key)):
            self._by[(c.expert, c.id)].append(c)
        # (unqualified id, writer's round, whose) -> the Judge's row the writer knew by it
        self._ledger = ledger

    def qualified(self, ref: Ref, writer_round: int | None) -> str | None:
        cands = self._by.get((ref.expert, ref.id), [])
        if ref.round is not None:
            exact = next((c for c in cands if c.round == ref.round), None)
            if exact:
                return exact.key
        hit = latest_earlier(cands, writer_round)
        return hit.key if hit else None

    def resolve(self, ref: Ref, writer: str | None, writer_round: int | None,
                marker_mentions: list[Ref]) -> tuple[str | None, str]:
        """``(target key or None, rule that matched)``."""
        if ref.expert:
            if not ref.raw.lower().startswith(ref.expert):
                # `[CONCESSION to Strudel on T01]`: the id is written bare; when the Judge's
                # numbering had it then, it is the ledger's (which holds Strudel's T01)
                row = self._ledger(ref.id, writer_round, ref.expert)
                if row is not None:
                    return row, LEDGER
            key = self.qualified(ref, writer_round)
            return (key, QUALIFIED) if key else (None, UNRESOLVED)
        row = self._ledger(ref.id, writer_round, writer)
        if row is not None:
            return row, LEDGER
        for m in marker_mentions:
            if m.expert and m.id == ref.id:
                key = self.qualified(m, writer_round)
                if key:
                    return key, MENTION
        if writer:
            hit = latest_earlier(self._by.get((writer, ref.id), []), writer_round)
            if hit:
                return hit.key, OWN
        return None, UNRESOLVED
