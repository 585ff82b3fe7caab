"""Debounce and coalescing: pending dialogues -> the next batch to sync.

A dialogue is settled after ``debounce`` of quiet; settled dialogues are synced together
once every pending dialogue is quiet (one sync for a multi-dialogue ``git checkout``), or
when a quiet one has waited ``max_wait`` (a busy dialogue never starves the others), or a
busy one ``max_busy``. ``flush`` makes everything pending due now (a settle cookie: a query
is waiting). Pending state is one entry per dialogue, not per path or event, so memory does
not grow with the number of events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .routing import RECONCILE


@dataclass(frozen=True, slots=True)
class Batch:
    """One sync to run: these dialogues, or (``full``) the whole tree."""

    dialogues: frozenset[str]
    full: bool = False
    reason: str = "change"


class Coalescer:
    """Pending work: per key (dialogue id or ``RECONCILE``), its first and last event time.

    Not thread-safe on its own; the daemon guards it with its Condition.
    """

    def __init__(self, debounce: float, max_wait: float | None = None,
                 max_busy: float | None = None) -> None:
        self.debounce = debounce
        self.max_wait = max_wait if max_wait is not None else max(1.0, 10 * debounce)
        self.max_busy = max_busy if max_busy is not None else max(10.0, 50 * debounce)
        self._pending: dict[str, list[float]] = {}
        self._forced: set[str] = set()
        self._full_reason = "reconcile"

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, keys: Iterable[str], at: float) -> None:
        """Record events at ``at`` (monotonic seconds; a future time delays a retry)."""
        for key in keys:
            span = self._pending.get(key)
            if span is None:
                self._pending[key] = [at, at]
            else:
                span[1] = max(span[1], at)

    def add_full(self, reason: str, at: float) -> None:
        if RECONCILE not in self._pending:
            self._full_reason = reason
        self.add((RECONCILE,), at)

    def flush(self) -> bool:
        """Make every pending key due at the next ``take``; False when nothing is pending."""
        self._forced |= self._pending.keys()
        return bool(self._pending)

    def take(self, now: float) -> tuple[Batch | None, float | None]:
        """A batch that is due now, else None and the seconds until one may be (None: idle)."""
        p = self._pending
        if not p:
            return None, None
        ready = {k for k, (_, last) in p.items() if now - last >= self.debounce}
        due = len(ready) == len(p) or any(now - p[k][0] >= self.max_wait for k in ready)
        chosen = (ready if due else set()) | {
            k for k, (first, _) in p.items() if now - first >= self.max_busy
        } | (self._forced & p.keys())
        self._forced.clear()
        if chosen:
            if RECONCILE in chosen:  # a whole-tree run covers every pending dialogue
                p.clear()
                return Batch(frozenset(), True, self._full_reason), 0.0
            for k in chosen:
                del p[k]
            return Batch(frozenset(chosen)), 0.0
        wake = [first + self.max_busy for first, _ in p.values()]
        for k, (first, last) in p.items():
            wake.append(first + self.max_wait if k in ready else last + self.debounce)
        return None, max(0.0, min(wake) - now)
