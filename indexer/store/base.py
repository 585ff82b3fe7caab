"""The store interfaces every backend implements, and the factory that picks the active one.

``DialogueStore`` is partition-scoped: every method takes a ``dialogue_id`` and touches only
that dialogue's items (no cross-dialogue joins, so DynamoDB can implement it with one Query
per dialogue). ``AnalyticsStore`` holds the cross-dialogue reads. Items are described in
``indexer/items.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..items import Item, Items

if TYPE_CHECKING:
    from ..config import Config


class StoreUnavailable(Exception):
    """The store cannot be reached or opened (exit code 3). Message: one line, what to do."""


class IntegrityError(StoreUnavailable):
    """Stored content failed an integrity check (tampered or misplaced ciphertext)."""


@runtime_checkable
class DialogueStore(Protocol):
    def load(self, dialogue_id: str) -> Items:
        """Every item of one dialogue, keyed by sk (empty dict if unknown)."""

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        """``{path relative to the dialogue folder: sha256}`` of its file items."""

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str]) -> int:
        """Apply one dialogue's diff atomically where the backend can (SQLite: one
        transaction; DynamoDB: batches, the file items last). Returns items written+deleted."""

    def delete_dialogue(self, dialogue_id: str) -> int:
        """Remove the whole partition. Returns items deleted."""


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
    """What a backend object provides: both interfaces, plus a description and close()."""

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


def open_store(config: Config, create: bool = True) -> Store:
    """The single active backend named by the configuration. Heavy imports happen here."""
    if config.backend == "dynamodb":
        from .dynamodb import DynamoDBStore

        store: Any = DynamoDBStore.from_config(config)
    else:
        from .sqlite import SQLiteStore

        store = SQLiteStore(config.sqlite_path, create=create,
                            busy_timeout=config.sqlite_busy_timeout,
                            daemon_pid=lambda: _daemon_pid(config))
    if config.encryption:
        from .envelope import EncryptedStore

        store = EncryptedStore.wrap(store, config)
    return store


def _daemon_pid(config: Config) -> int | None:
    from ..daemon_state import daemon_status

    return (daemon_status(config) or {}).get("pid")


def chunks(seq: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]
