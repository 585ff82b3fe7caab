"""Copy every partition from one store to another (``blue-index store copy``).

Switching backends is then a config change plus this one command, and rolling back is
switching the config back (the source is left untouched). The copy is a diff per
dialogue (load both sides, write only what differs, delete partitions the source does not
have), so running it twice writes nothing the second time and an interrupted copy is
finished by running it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..items import diff
from .base import Store


@dataclass(slots=True)
class CopyReport:
    dialogues: int = 0  # partitions in the source
    written: int = 0  # items put or deleted in the destination
    removed: int = 0  # destination partitions absent from the source (deleted)


def dialogue_ids(store: Store) -> set[str]:
    """Every partition with a meta item or a file item."""
    ids = {str(m.get("dialogue_id") or m.get("id")) for m in store.dialogues()}
    return ids | set(store.all_file_hashes())


def copy_store(src: Store, dst: Store,
               progress: Callable[[int, int, str], None] | None = None) -> CopyReport:
    """Make ``dst`` hold exactly the partitions of ``src``."""
    rep = CopyReport()
    src_ids = sorted(dialogue_ids(src))
    rep.dialogues = len(src_ids)
    for n, did in enumerate(src_ids, 1):
        old, rev = dst.load_for_update(did)
        puts, deletes = diff(old, src.load(did))
        if puts or deletes or rev.repair:  # against what was loaded (else: Conflict)
            rep.written += dst.write(did, puts, deletes, rev)
        if progress:
            progress(n, len(src_ids), did)
    for did in sorted(dialogue_ids(dst) - set(src_ids)):
        rep.written += dst.delete_dialogue(did)
        rep.removed += 1
    return rep


def copy_all(src: Store, dst: Store) -> int:
    """Copy every partition of ``src`` into ``dst``; returns the items written or deleted."""
    return copy_store(src, dst).written
