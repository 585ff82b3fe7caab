"""Machine-local cache of file hashes: ``path -> (size, mtime_ns, sha256)``.

A pure accelerator for the sync engine: when a file's size and mtime match its entry, the
cached sha256 stands in for reading the file. It is never the record of what is synced
(the store's file items are), so losing or corrupting it costs time, not correctness.
Entries for files modified within ``RACY_NS`` of the scan are not kept, because a later
edit in the same mtime tick could leave size and mtime unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

RACY_NS = 2_000_000_000
VERSION = 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class HashCache:
    """``path -> [size, mtime_ns, sha256]`` for one dialogues root, kept in a JSON file."""

    def __init__(self, file: Path, root: Path) -> None:
        self.file = file
        self.root = str(root)
        self.entries: dict[str, list] = {}
        self.dirty = False
        self.started_ns = time.time_ns()
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
            if doc.get("version") == VERSION and doc.get("root") == self.root:
                self.entries = dict(doc.get("files") or {})
        except (OSError, ValueError, AttributeError):
            self.entries = {}  # missing or damaged: start empty, it is only a cache

    def get(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The cached sha256 when size and mtime still match, else None."""
        e = self.entries.get(path)
        if e and len(e) == 3 and e[0] == size and e[1] == mtime_ns:
            return e[2]
        return None

    def put(self, path: str, size: int, mtime_ns: int, sha: str) -> None:
        if mtime_ns >= self.started_ns - RACY_NS:
            if self.entries.pop(path, None) is not None:
                self.dirty = True
            return
        if self.entries.get(path) != [size, mtime_ns, sha]:
            self.entries[path] = [size, mtime_ns, sha]
            self.dirty = True

    def retain(self, paths: set[str], prefixes: tuple[str, ...] | None = None) -> None:
        """Drop entries not in ``paths`` (only those under ``prefixes`` when given)."""
        for p in list(self.entries):
            if p not in paths and (prefixes is None or p.startswith(prefixes)):
                del self.entries[p]
                self.dirty = True

    def save(self) -> None:
        """Write atomically (temp file + rename); failures are ignored (it is a cache)."""
        if not self.dirty:
            return
        tmp = self.file.with_name(f"{self.file.name}.{os.getpid()}.tmp")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            doc = {"version": VERSION, "root": self.root, "files": self.entries}
            tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.file)
            self.dirty = False
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()
