"""The public API of blue-index (re-exported lazily by ``indexer/__init__.py``).

A small set of functions with simple arguments; each is what a CLI command does, and the
query functions return exactly the documented ``--json`` shapes (README "JSON output").
Stores are named by what is at hand: a ``Store`` object, a ``Config``, a repository folder
(its ``.blue/config.yaml`` decides) or the path of a SQLite file. Errors are
``indexer.errors.BlueIndexError`` subclasses with a one-line message and an ``exit_code``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from .errors import UsageError

if TYPE_CHECKING:
    from .config import Config
    from .dialogue import Dialogue
    from .model import ParsedFile
    from .store.base import Store
    from .sync import SyncReport

PathLike: TypeAlias = "str | os.PathLike[str]"
StoreLike: TypeAlias = "Store | Config | str | os.PathLike[str] | None"


# -- read: files -> ParsedFile -> Dialogue ---------------------------------------------------
def parse_file(path: PathLike) -> ParsedFile:
    """Parse one dialogue file on disk: blocks and diagnostics. Its role (response, ledger,
    ...), dialogue, round and expert come from its path below the nearest dialogues root.
    Only regular files are read (a FIFO or device is a ``ProblemsFound`` error)."""
    from .fsread import read
    from .lint import find_dialogues_root
    from .parse import parse_file as parse_one

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{p}: {'a folder, not a file' if p.is_dir() else 'no such file'}")
    root = find_dialogues_root(p)
    return parse_one(p.resolve().relative_to(root).as_posix(), read(str(p)))


def parse_bytes(data: bytes, path: str) -> ParsedFile:
    """Parse content in memory; ``path`` is where it would live below a dialogues root
    (``<dialogue>/round-0/muffin.md``), which decides its role."""
    from .parse import parse_file as parse_one

    return parse_one(path, data)


def assemble_dialogue(source: PathLike | Mapping[str, bytes],
                      dialogue_id: str | None = None) -> Dialogue:
    """One dialogue, assembled (tensions with their lifecycle, experts, rounds, verdict,
    diagnostics) from a dialogue folder, a single-file dialogue (``<id>.dialogue.md``), or
    ``{path below the dialogues root: bytes}`` (then ``dialogue_id`` defaults to the first
    path component)."""
    from . import layout
    from .assemble import assemble

    if isinstance(source, Mapping):
        files = [parse_bytes(data, rel) for rel, data in sorted(source.items())]
        did = dialogue_id or next((f.dialogue for f in files if f.dialogue), None)
        if not did:
            raise UsageError("no dialogue among the sources; give dialogue_id")
        return assemble(did, files)
    from .views import parsed_files

    p = Path(source).resolve()
    found = dialogue_id or (p.name if p.is_dir() else layout.single_file_id(p.name))
    if not found:
        raise UsageError(f"{p}: neither a dialogue folder nor a <id>.dialogue.md file")
    return assemble(found, parsed_files(p.parent, found))


# -- stores ----------------------------------------------------------------------------------
def open_store(source: StoreLike = None, *, create: bool = True) -> Store:
    """Open a store: from a ``Config``; a repository folder (its config, default SQLite at
    ``.blue/blue.db``); the path of a SQLite file; None for the repository of the current
    folder. ``create=False`` never creates an empty index (``StoreUnavailable`` instead).
    Close it with ``store.close()``."""
    from .config import Config, load
    from .store.factory import open_store as open_configured

    if source is None or isinstance(source, Config):
        return open_configured(source or load(), create=create)
    if not isinstance(source, str | os.PathLike):
        return source  # already a store
    p = Path(source)
    if p.is_dir():
        return open_configured(load(root=p), create=create)
    from .store.sqlite import SQLiteStore

    return SQLiteStore(p, create=create)


@contextmanager
def _opened(source: StoreLike, create: bool = False) -> Iterator[Store]:
    """The store ``source`` names, closed afterwards if opened here."""
    from .config import Config

    if source is not None and not isinstance(source, str | os.PathLike | Config):
        yield source  # the caller's store: the caller closes it
        return
    store = open_store(source, create=create)
    try:
        yield store
    finally:
        store.close()


def sync_folder(dialogues: PathLike | Sequence[PathLike] | None = None, *,
                store: StoreLike = None, root: PathLike | None = None, full: bool = False,
                check: bool = False, repair: bool = False, force: bool = False,
                config: Config | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> SyncReport:
    """Sync dialogue folders into a store, as ``blue-index reindex`` does; the report has
    the counts of ``reindex --json`` (``report.to_dict()``).

    ``dialogues``: one folder or several (default: the repository's configured roots).
    ``store``: a store, a SQLite file path, or None for the repository's configured store.
    ``root``: the repository (default: the git top-level of the first folder, else that
    folder; machine-local state goes to ``root/.blue/cache``). ``config`` replaces the
    three. ``check`` writes nothing and lists differences in ``report.drift``.
    """
    from .config import load
    from .sync import Syncer

    if config is None:
        roots = [] if dialogues is None else [dialogues] if isinstance(
            dialogues, str | os.PathLike) else list(dialogues)
        paths = [Path(r).resolve() for r in roots]
        config = load(root=Path(root) if root is not None else _repo_of(paths),
                      dialogues=paths or None)
    if isinstance(store, str | os.PathLike):
        config = dataclasses.replace(config, backend="sqlite", sqlite_path=Path(store).resolve())
        store = None
    with _opened(store if store is not None else config, create=True) as st:
        return Syncer(config, st).run(full=full, check=check, progress=progress,
                                      repair=repair, force=force)


def _repo_of(folders: list[Path]) -> Path | None:
    """The git top-level of the first folder; None (the current folder's) outside git."""
    from .config import find_root

    if not folders or not folders[0].is_dir():
        return None
    top = find_root(folders[0])
    return top if top != folders[0] or (top / ".git").exists() else None


# -- queries: the documented --json shapes ---------------------------------------------------
def _items(store: Store, dialogue_id: str) -> dict[str, Any]:
    from .views import UnknownDialogue

    items = store.load(dialogue_id)
    if not items:
        where = store.describe()
        raise UnknownDialogue(dialogue_id, str(where.get("location") or where.get("table")
                                               or "the store"))
    return items


def list_dialogues(store: StoreLike = None) -> list[dict[str, Any]]:
    """Every dialogue in the store (``list --json``): id, title, status, counts."""
    keys = ("title", "question", "domain", "status", "rounds", "experts", "tensions",
            "open_tensions", "blocks", "decision")
    with _opened(store) as st:
        return [{"id": d.get("id") or d.get("dialogue_id"), **{k: d.get(k) for k in keys}}
                for d in st.dialogues()]


def show_dialogue(store: StoreLike, dialogue_id: str) -> dict[str, Any]:
    """One dialogue (``show --json``): rounds, experts, counts, verdict."""
    from .views import show

    with _opened(store) as st:
        return show(_items(st, dialogue_id))


def list_tensions(store: StoreLike, dialogue_id: str, open_only: bool = False
                  ) -> list[dict[str, Any]]:
    """The tensions of one dialogue with their lifecycle (``tensions --json``)."""
    from .views import tensions

    with _opened(store) as st:
        return tensions(_items(st, dialogue_id), open_only)


def search_blocks(store: StoreLike, query: str, *, dialogue: str | None = None,
                  kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Full-text search over block labels and bodies (``search --json``), best first; every
    word must match, ``word*`` is a prefix."""
    with _opened(store) as st:
        hits = st.search(query, dialogue_id=dialogue, kind=kind, limit=limit)
    return [{"dialogue": h.get("dialogue_id"), "key": h.get("key"), "kind": h.get("block_kind"),
             "id": h.get("id"), "expert": h.get("expert"), "round": h.get("round"),
             "file": h.get("file"), "line": h.get("line"), "label": h.get("label"),
             "body": h.get("body")} for h in hits]


def export_dialogue(store: StoreLike, dialogue_id: str) -> dict[str, Any]:
    """The whole dialogue as the export document (``export``); ``indexer.export.dumps``
    gives its canonical bytes."""
    from .export import export

    with _opened(store) as st:
        return export(_items(st, dialogue_id))
