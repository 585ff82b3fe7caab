"""The store interfaces every backend implements (the factory is ``store/factory.py``).

``DialogueStore`` is partition-scoped: every method takes a ``dialogue_id`` and touches only
that dialogue's items (no cross-dialogue joins, so DynamoDB can implement it with one Query
per dialogue). ``AnalyticsStore`` holds the cross-dialogue reads. Items are described in
``indexer/items.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ..errors import StoreUnavailable as StoreUnavailable  # lives in indexer.errors
from ..items import Item, Items


class ReadOnlyStore(StoreUnavailable):
    """The store can be read but not written: a SQLite file (or its folder) without write
    permission, DynamoDB credentials without write access. Raised by the first write a sync
    attempts (nothing is written). ``reindex`` reports it as any StoreUnavailable (exit 3);
    a query that syncs before answering catches it, prints ``note`` on stderr and answers
    from the store as it is (never an error)."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(message)
        self.where = where

    @property
    def note(self) -> str:
        """The one line a query prints before answering from the unsynced store."""
        where = f"{self.where} is" if self.where else "the index is"
        return (f"blue-index: {where} read-only here, so this answer may be stale "
                "(the files may have changed since the last sync)")


class IntegrityError(StoreUnavailable):
    """Stored content failed an integrity check (tampered or misplaced ciphertext)."""


class Conflict(StoreUnavailable):
    """The partition changed since it was loaded (another writer committed first, or took
    over this writer's unfinished write). The sync engine reloads, re-diffs and retries."""


class ItemRejected(StoreUnavailable):
    """An item the backend cannot store (a key or value it refuses). ``sk`` names it; the
    sync engine reports the file it came from and syncs the rest."""

    def __init__(self, message: str, sk: str, reason: str = "") -> None:
        super().__init__(message)
        self.sk = sk
        self.reason = reason or message


@dataclass(frozen=True, slots=True)
class Revision:
    """What a writer saw when it loaded a partition (``load_for_update``); ``write`` and
    ``delete_dialogue`` given it commit only if it is still current, else raise Conflict.

    ``number``: the committed revision (0: never written). ``writer``: an unfinished write
    found in the partition that this writer may take over (its owner is gone). ``provenance``:
    where the stored content came from (``{"repository", "branch", "commit", "dirty"}``), or
    None. ``repair``: the store wants a commit even for an empty diff (an unfinished write to
    finish, bookkeeping to bring up to date)."""

    number: int = 0
    writer: str | None = None
    provenance: dict[str, Any] | None = None
    repair: bool = False


@runtime_checkable
class DialogueStore(Protocol):
    def load(self, dialogue_id: str) -> Items:
        """Every item of one dialogue, keyed by sk (empty dict if unknown)."""

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        """``{path relative to the dialogue folder: sha256}`` of its file items."""

    def load_for_update(self, dialogue_id: str) -> tuple[Items, Revision]:
        """``load`` for a writer: the items and the revision they are at."""

    def revision(self, dialogue_id: str) -> Revision:
        """The partition's current revision (and provenance), without its items."""

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str],
              expect: Revision | None = None,
              provenance: dict[str, Any] | None = None) -> int:
        """Apply one dialogue's diff as one revision: readers see it whole or not at all.
        With ``expect``, only if the partition is still at that revision (else Conflict).
        ``provenance`` is recorded with the revision. Returns items written+deleted."""

    def delete_dialogue(self, dialogue_id: str, expect: Revision | None = None,
                        provenance: dict[str, Any] | None = None) -> int:
        """Remove the whole partition (as one revision). Returns items deleted."""

    def put_if_absent(self, dialogue_id: str, item: Item) -> Item:
        """Store ``item`` unless an item with its sort key exists; return the stored one
        (the first writer wins: data keys are created this way)."""

    def clock(self, dialogue: str | None = None) -> int:
        """The index clock: a counter that every committed write (``write``,
        ``delete_dialogue``) moves up, kept in the store (so it survives restarts and is
        shared by every process and machine writing it). ``clock()`` is the store's clock,
        strictly increasing with each write; ``clock(d)`` is the store's clock at the last
        write of dialogue ``d``. 0 before any write (of the store, or of that dialogue).
        So ``clock(d) <= clock()``, and a reader that saw clock C after a write can wait
        for ``clock() >= C`` elsewhere."""

    def markers(self, dialogues: Collection[str] | None = None) -> dict[str, str | None]:
        """``{dialogue: files_marker(its file hashes)}`` for every dialogue holding file
        items (or only those of ``dialogues``), maintained by the store at each write;
        None where the store cannot vouch for it (rows edited outside ``write``, a write
        left unfinished, a store from before markers): the caller lists that dialogue's
        ``file_hashes`` instead. A sync compares it with the marker of the files it last
        found in step, so a dialogue with nothing changed costs no listing of its hashes."""
    def rekey(self, dialogue_id: str) -> int:
        """Seal the dialogue's content again under a fresh data key (``reindex --full``).
        A store without encryption has nothing to seal: 0. Returns the items re-sealed."""


@runtime_checkable
class AnalyticsStore(Protocol):
    def dialogues(self) -> list[Item]:
        """The ``meta`` item of every dialogue, ordered by id."""

    def search(self, query: str, dialogue_id: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[Item]:
        """Block items matching a full-text query, best first."""

    def open_tensions(self) -> list[Item]:
        """Tension items whose status is not resolved, across dialogues."""

    def counts(self) -> dict[str, int]:
        """Item counts by kind, plus ``dialogues``."""

    def all_file_hashes(self) -> dict[str, dict[str, str]]:
        """``{dialogue_id: {path: sha256}}`` for every dialogue (drives deletions)."""


class Store(DialogueStore, AnalyticsStore, Protocol):
    """What a backend object provides: both interfaces, plus a description and close().
    ``shared``: several machines write it (DynamoDB), so provenance rules apply."""

    shared: bool

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


EMPTY_MARKER = ""  # a dialogue holding no file items (SQLite keeps it; markers() omits it)


def files_marker(hashes: dict[str, str]) -> str:
    """The content marker of a dialogue: a fingerprint of its ``{path: sha256}`` (the file
    items a store holds, or the files a sync found on disk). Equal markers mean equal file
    sets; the same function on both sides, so the two can be compared."""
    if not hashes:
        return EMPTY_MARKER
    h = hashlib.sha256()
    for path in sorted(hashes):
        h.update(f"{path}\0{hashes[path]}\n".encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


def chunks(seq: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
