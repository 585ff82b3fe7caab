"""Which entries of the dialogue roots are dialogues, and what happens when an id is found twice.

In any root (``.blue/dialogues``, ``.blue/docs/dialogues``, or those configured), a folder is
a folder dialogue (its name is the id) and a file ``<id>.dialogue.md`` /
``<id>.dialogue.recorded.md`` directly under the root is a single-file dialogue with that id
(layout.py). Roots are read in order and merged per id:

- a folder and single files of the same id make one dialogue (the folder is the dialogue,
  the single file its recording, decided by assemble.py from the files alone);
- the same id as a folder in two roots, or the same single-file name twice, is an error
  (``dialogue-duplicate``) naming both; the first root's copy is the one indexed.

The merge is pure (sync.py lists the disk, githook/staged.py the git index, lint.py both), so
every entry point agrees on what a dialogue is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from . import diagnostics as diag
from . import layout
from .model import Diagnostic

T = TypeVar("T")
FOLDER = "folder"
FILE = "file"


@dataclass(frozen=True, slots=True)
class Conflict:
    """A dialogue id met twice; ``kept``/``dropped`` are paths as users see them."""

    dialogue: str
    kept: str
    dropped: str

    def diagnostic(self) -> Diagnostic:
        return diag.make("dialogue-duplicate", self.dropped, None, id=self.dialogue,
                         kept=self.kept, dropped=self.dropped)

    @property
    def message(self) -> str:
        return self.diagnostic().format()


def entry(name: str, is_dir: bool) -> tuple[str, str] | None:
    """(dialogue id, FOLDER | FILE) of an entry directly under a root; None: not a dialogue
    (hidden folders, pool files, notes, editor leftovers)."""
    if is_dir:
        return None if name.startswith(".") else (name, FOLDER)
    did = layout.single_file_id(name)
    return (did, FILE) if did is not None else None


@dataclass(slots=True)
class Found(Generic[T]):
    """What one root holds: per dialogue id, its files by path in the dialogue."""

    label: str  # the root as users see it (for conflict messages)
    folders: dict[str, dict[str, T]]
    files: dict[str, dict[str, T]]  # single files: {id: {file name: T}}


def merge(found: Iterable[Found[T]]) -> tuple[dict[str, dict[str, T]], list[Conflict]]:
    """``{dialogue id: {path in the dialogue: T}}`` over all roots (in order), and the
    conflicts. Paths in the dialogue: ``round-0/x.md`` for folder files, the file name for
    single files (layout.parse_path maps them back)."""
    out: dict[str, dict[str, T]] = {}
    where: dict[tuple[str, str], str] = {}  # (id, FOLDER or file name) -> root label
    conflicts: list[Conflict] = []
    for root in found:
        for did, files in root.folders.items():
            key = (did, FOLDER)
            if key in where:
                conflicts.append(Conflict(did, f"{where[key]}/{did}/", f"{root.label}/{did}/"))
                continue
            where[key] = root.label
            mine = out.setdefault(did, {})
            for rel, value in files.items():
                if rel in mine:  # a single file of an earlier root took the name
                    conflicts.append(Conflict(did, f"{where[(did, rel)]}/{rel}",
                                              f"{root.label}/{did}/{rel}"))
                    continue
                mine[rel] = value
                where[(did, rel)] = f"{root.label}/{did}"
        for did, files in root.files.items():
            mine = out.setdefault(did, {})
            for name, value in files.items():
                if name in mine:
                    conflicts.append(Conflict(did, f"{where[(did, name)]}/{name}",
                                              f"{root.label}/{name}"))
                    continue
                mine[name] = value
                where[(did, name)] = root.label
    return {d: f for d, f in out.items() if f}, conflicts
