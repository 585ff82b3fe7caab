"""What lets a whole-tree run skip the dialogues unchanged since their last sync here.

Per dialogue, machine-local (``<state>/cache/hashes/summary``, one small JSON file): the
*stat print* of its files as scanned (path in the dialogue, size, mtime_ns of each, or the
problem of an entry that cannot be read), the content marker of those files
(``store.base.files_marker`` of their sha256s), and git HEAD and the grammar fingerprint of
that sync. A later run skips a dialogue (no listing of its stored hashes, no hash-cache
shard, no per-file comparison: its stats are all it costs) when its files stat the same,
the store's marker (``Store.markers``) is still that marker, and HEAD and the grammar are
unchanged. Anything else is the full comparison.

Each entry is a fact when written: the files with that stat print had that content. It is
recorded only for a dialogue the run found in step with the store or wrote without
refusal, and never when a file was modified within ``hashcache.RACY_NS`` of the run (an
edit in the same mtime tick could keep size and mtime). So a stale, lost or damaged
summary costs time, never correctness. Like the hash cache it trusts size + mtime: an edit
that restores both (``os.utime`` back to the old mtime, same size) is not seen by a plain
run; ``reindex --full`` and ``--check`` read every file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

from ..fsutil import atomic_write
from ..localstate import make_dir
from .disk import Disk

VERSION = 1
NAME = "summary"  # no ".json": HashCache.known() takes every *.json there for a shard


def stat_print(files: dict[str, Disk]) -> str:
    """A fingerprint of a dialogue's scan: each file's path, size and mtime (or problem),
    in scan order (a folder whose listing order changed just takes the full comparison)."""
    text = repr([(rel, d.size, d.mtime_ns) if d.problem is None else (rel, d.problem.sha256)
                 for rel, d in files.items()])
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


class Summary:
    """The summary file of one set of dialogue roots: ``{dialogue: [stat print, marker,
    head, grammar]}``. Updates are merged into the file as it is when saved, so two syncs
    (daemon and reindex) do not erase each other's entries."""

    def __init__(self, folder: Path, root: str) -> None:
        self.path = folder / NAME
        self.root = root
        self.entries = self._read()
        self.changes: dict[str, list[str | None] | None] = {}  # None: forget

    def _read(self) -> dict[str, list[str | None]]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("version") == VERSION and doc.get("root") == self.root:
                return {d: e for d, e in doc["dialogues"].items()
                        if isinstance(e, list) and len(e) == 4}
        except (OSError, ValueError, AttributeError, KeyError, TypeError):
            pass  # missing or damaged: every dialogue takes the full comparison
        return {}

    def fresh(self, did: str, files: dict[str, Disk], marker: str | None, head: str | None,
              grammar: str) -> bool:
        """True when ``did`` is unchanged since an entry was recorded and the store still
        holds what it held then."""
        e = self.entries.get(did)
        return (e is not None and marker is not None and e[1] == marker and e[2] == head
                and e[3] == grammar and e[0] == stat_print(files))

    def record(self, did: str, stat: str, marker: str, head: str | None,
               grammar: str) -> None:
        entry: list[str | None] = [stat, marker, head, grammar]
        if self.entries.get(did) != entry:
            self.entries[did] = entry
            self.changes[did] = entry

    def forget(self, did: str) -> None:
        if self.entries.pop(did, None) is not None:
            self.changes[did] = None

    def save(self) -> None:
        """Merge this run's changes into the file (temp file + rename); errors ignored."""
        if not self.changes:
            return
        entries = self._read()
        for did, e in self.changes.items():
            if e is None:
                entries.pop(did, None)
            else:
                entries[did] = e
        with contextlib.suppress(OSError):
            make_dir(self.path.parent)
            doc = {"version": VERSION, "root": self.root, "dialogues": entries}
            atomic_write(self.path, json.dumps(doc, separators=(",", ":")))
        self.changes.clear()
