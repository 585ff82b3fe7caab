"""Machine-local cache of file hashes: ``path -> (size, mtime_ns, sha256)``.

A pure accelerator for the sync engine: when a file's size and mtime match its entry, the
cached sha256 stands in for reading the file. It is never the record of what is synced
(the store's file items are), so losing or corrupting it costs time, not correctness.
Entries for files modified within ``RACY_NS`` of the scan are not kept, because a later
edit in the same mtime tick could leave size and mtime unchanged.

One small JSON file per dialogue (``<cache dir>/<dialogue id>.json``), loaded on first use
and rewritten only when it changed, so syncing one dialogue costs the same in a tree of a
hundred files or of a hundred thousand.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from .localstate import make_dir

RACY_NS = 2_000_000_000
VERSION = 2


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class HashCache:
    """``{dialogue}/{path} -> [size, mtime_ns, sha256]`` for one dialogues root."""

    def __init__(self, folder: Path, root: Path | str) -> None:
        self.folder = folder
        self.root = str(root)
        self.shards: dict[str, dict[str, list]] = {}
        # per dialogue, facts of its last sync here: git HEAD, grammar fingerprint
        self.notes: dict[str, dict[str, str | None]] = {}
        self.dirty: set[str] = set()
        self.started_ns = time.time_ns()

    def shard(self, did: str) -> dict[str, list]:
        """A dialogue's entries ``{path: [size, mtime_ns, sha256]}`` (read-only for callers:
        the sync engine's per-file loop reads it directly instead of calling ``get``)."""
        return self._shard(did)

    def _shard(self, did: str) -> dict[str, list]:
        shard = self.shards.get(did)
        if shard is None:
            shard = {}
            try:
                doc = json.loads((self.folder / f"{did}.json").read_text(encoding="utf-8"))
                if doc.get("version") == VERSION and doc.get("root") == self.root:
                    shard = {rel: e for rel, e in (doc.get("files") or {}).items()
                             if isinstance(e, list) and len(e) == 3}
                    if isinstance(doc.get("notes"), dict):
                        self.notes[did] = doc["notes"]
            except (OSError, ValueError, AttributeError):
                pass  # missing or damaged: start empty, it is only a cache
            self.shards[did] = shard
        return shard

    def get(self, did: str, rel: str, size: int, mtime_ns: int) -> str | None:
        """The cached sha256 when size and mtime still match, else None."""
        e = self._shard(did).get(rel)
        if e and len(e) == 3 and e[0] == size and e[1] == mtime_ns:
            return e[2]
        return None

    def note(self, did: str, key: str) -> str | None:
        """A fact of the dialogue's last sync here (``head``: git HEAD commit, ``grammar``:
        grammar fingerprint); None when unknown."""
        self._shard(did)
        return self.notes.get(did, {}).get(key)

    def set_note(self, did: str, key: str, value: str | None) -> None:
        if self.note(did, key) != value:
            self.notes.setdefault(did, {})[key] = value
            self.dirty.add(did)

    def put(self, did: str, rel: str, size: int, mtime_ns: int, sha: str) -> None:
        shard = self._shard(did)
        if mtime_ns >= self.started_ns - RACY_NS:
            if shard.pop(rel, None) is not None:
                self.dirty.add(did)
            return
        if shard.get(rel) != [size, mtime_ns, sha]:
            shard[rel] = [size, mtime_ns, sha]
            self.dirty.add(did)

    def retain(self, did: str, rels: set[str]) -> None:
        """Keep only the entries of files still present in a dialogue."""
        shard = self._shard(did)
        for rel in shard.keys() - rels:
            del shard[rel]
            self.dirty.add(did)

    def forget(self, did: str) -> None:
        """Drop a dialogue that is gone from disk."""
        self.shards[did] = {}
        self.notes.pop(did, None)
        self.dirty.discard(did)
        with contextlib.suppress(OSError):
            (self.folder / f"{did}.json").unlink()

    def known(self) -> list[str]:
        """Dialogues with a cache file (to forget the ones gone from disk)."""
        try:
            return [p.name[:-5] for p in os.scandir(self.folder) if p.name.endswith(".json")]
        except OSError:
            return []

    def save(self) -> None:
        """Write the changed shards atomically (temp file + rename); errors are ignored."""
        from .fsutil import atomic_write

        for did in sorted(self.dirty):
            doc = {"version": VERSION, "root": self.root, "files": self.shards[did],
                   "notes": self.notes.get(did, {})}
            with contextlib.suppress(OSError):
                make_dir(self.folder)
                atomic_write(self.folder / f"{did}.json", json.dumps(doc, separators=(",", ":")))
        self.dirty.clear()
