"""The items of one dialogue from its files (pure: runs in parse worker processes on big
runs). Changed files are parsed; the others come back from the stored partition.

A file with errors is indexed from its clean version at git HEAD, else from what parses
(FORMAT.md 5: the store depends on the files and HEAD alone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import fsread, layout
from ..headrev import Head
from ..items import Items
from .disk import Disk

if TYPE_CHECKING:
    from ..model import ParsedFile

def in_dialogue(did: str, path: str) -> str:
    """A path relative to the dialogue folder, whichever form a backend or codec used."""
    return path[len(did) + 1:] if path.startswith(did + "/") else path


def build_items(did: str, rels: list[str], changed: dict[str, bytes | fsread.Problem],
                old_items: Items, disk: dict[str, Disk],
                head: Head | None = None, review: bool = False,
                limit: int = fsread.DEFAULT_MAX_BYTES) -> tuple[Items, int]:
    """The items of one dialogue from its files (pure; runs in a worker process on big runs).

    ``rels``: every file of the dialogue (paths in the dialogue folder); ``changed``: the bytes
    (or the read problem) of those to parse; the others are rebuilt from ``old_items`` (the
    stored partition), or read (``disk``: where each file is) and parsed when the store
    cannot rebuild them.
    A file with errors is indexed from its version at ``head`` when that one is clean, else
    from what parses (FORMAT.md 5); ``review``: HEAD moved since this dialogue was last
    synced, so its stored files with errors are read and settled again. Returns the items
    and the number of files parsed.
    """
    from ..assemble import assemble
    from ..codec import parsed_files_from_items, to_items

    old = {in_dialogue(did, p): pf for p, pf in parsed_files_from_items(old_items).items()}
    folder = any(layout.parse_path(did, rel) != rel for rel in rels)  # not only single files
    files: list[ParsedFile] = []
    parsed = 0
    for rel in rels:
        prev = old.get(rel)
        if rel in changed:
            data: bytes | fsread.Problem | None = changed[rel]
        elif prev is not None and (prev.role != layout.RECORDING or folder) \
                and not (review and prev.has_errors):
            files.append(prev)
            continue
        else:  # no rebuildable parse stored (or a recording whose folder is gone: its
            # blocks are not stored, and now it is the dialogue), or HEAD moved under a file
            # with errors: read it again
            data = _read_again(disk[rel], limit)
        if data is None:  # gone since the scan
            continue
        files.append(settle(layout.parse_path(did, rel), data, head, disk[rel].path))
        parsed += 1
    return to_items(assemble(did, files)), parsed


def _read_again(st: Disk, limit: int) -> bytes | fsread.Problem | None:
    if st.problem is not None:
        return st.problem
    try:
        return fsread.read(st.path, limit)
    except (FileNotFoundError, IsADirectoryError):
        return None
    except fsread.Unreadable as u:
        return u.problem


def settle(rel_path: str, data: bytes | fsread.Problem, head: Head | None,
           path: str = "") -> ParsedFile:
    """One file as the store keeps it: its parse (or read problem), with blocks and data
    from its version at ``head`` when the file has errors and that version has none
    (``path``: where the file is, to find it in git)."""
    from ..parse import parse_file

    pf = (fsread.unreadable_file(rel_path, data) if isinstance(data, fsread.Problem)
          else parse_file(rel_path, data))
    if pf.has_errors and head is not None:
        old = head.blob(path) if path else None
        if old is not None:
            good = parse_file(rel_path, old)
            if not good.has_errors:
                pf.blocks, pf.data, pf.good_sha256 = good.blocks, good.data, good.sha256
    return pf
