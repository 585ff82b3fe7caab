"""The language server's model: the files of each dialogue, with open buffers merged over them.

A dialogue is rebuilt the way ``lint`` builds it: every file parsed (``parse_file``) and the
dialogue assembled (``assemble``), here with one difference: an open, edited buffer wins over
the file on disk. Files on disk come from the store when the stored hash equals the file's
(what ``reindex`` or the ``watch`` daemon wrote; no re-parse), else they are parsed here. The
store is only read, never written.

Staleness: a dialogue's files are re-checked (one ``stat`` each) whenever the client reports
a changed file, and when used after ``recheck_seconds`` (1 s; 10 s when the client watches
files), so a client that does not watch files still sees changes made by other tools.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import diagnostics as diag
from .. import layout
from ..assemble import assemble
from ..lint import sort_key
from ..model import Diagnostic, ParsedFile
from ..parse import parse_file

if TYPE_CHECKING:
    from ..config import Config
    from ..dialogue import Dialogue

log = logging.getLogger(__name__)

# A buffer or file larger than this is not parsed: one diagnostic says so (bounded memory and
# time; real dialogue files are tens of KB).
MAX_BYTES = int(os.environ.get("BLUE_INDEX_LSP_MAX_BYTES", 2_000_000))
RECHECK_SECONDS = 1.0
WATCHED_RECHECK_SECONDS = 10.0  # when the client reports file changes: a safety net only
MAX_DIALOGUES = 64  # dialogues kept in memory (least recently used dropped, unless open)
# Folder names that mark a dialogues root in any repository (FORMAT.md 1, 7).
ROOT_MARKERS = ((".blue", "dialogues"), (".blue", "docs", "dialogues"))
TOO_LARGE = "buffer-too-large"


def config_roots(config: Config) -> list[Path]:
    """The configured dialogue roots, in order (by default ``.blue/dialogues`` and
    ``.blue/docs/dialogues``; config.py)."""
    roots = getattr(config, "dialogue_roots", None) or [config.dialogues]
    return list(dict.fromkeys(Path(r).resolve() for r in roots))


def _marker_root(path: Path) -> Path | None:
    """``…/.blue/dialogues`` (or ``…/.blue/docs/dialogues``) above ``path``, if any."""
    parts = path.parts
    for marker in sorted(ROOT_MARKERS, key=len, reverse=True):
        n = len(marker)
        for i in range(len(parts) - n, -1, -1):
            if parts[i:i + n] == marker:
                return Path(*parts[:i + n])
    return None


Scope = tuple[Path, ...]  # the roots a dialogue is looked up in (first one wins)


@dataclass(slots=True)
class Located:
    """Where a file sits: its dialogues root, its path relative to it, its place, and the
    roots its dialogue is read from (all configured roots, or the one it was found in)."""

    root: Path
    rel: str
    place: layout.Place
    scope: Scope

    @property
    def dialogue(self) -> str | None:
        return self.place.dialogue


@dataclass(slots=True)
class _DiskFile:
    stat: tuple[int, int]  # size, mtime_ns
    pf: ParsedFile | None  # None: over MAX_BYTES or unreadable


@dataclass(slots=True)
class DialogueState:
    scope: Scope
    id: str
    disk: dict[str, _DiskFile] = field(default_factory=dict)  # rel to root -> file
    paths: dict[str, Path] = field(default_factory=dict)  # rel to root -> file on disk
    checked: float = 0.0
    generation: int = 0
    assembled: tuple[Any, Dialogue] | None = None  # (cache key, dialogue)


class Workspace:
    """Files, buffers and assembled dialogues. Not thread-safe: the server calls it from its
    event loop only."""

    def __init__(self, config: Config | None, store_factory: Any = None) -> None:
        self.config = config
        self.roots = config_roots(config) if config is not None else []
        self._store_factory = store_factory
        self._store: Any = None
        self._store_failed = False
        self.store_error: str | None = None
        # open buffers: path -> (version, text); parsed buffers: path -> (version, ParsedFile)
        self.buffers: dict[Path, tuple[int | None, str]] = {}
        self._parsed: dict[Path, tuple[int | None, ParsedFile]] = {}
        self._dialogues: OrderedDict[tuple[Scope, str], DialogueState] = OrderedDict()
        self.recheck_seconds = RECHECK_SECONDS

    # -- where files are -------------------------------------------------------------
    def locate(self, path: Path) -> Located | None:
        """The root and place of a file, or None when it is outside every dialogue root
        (or a file the index ignores)."""
        path = Path(os.path.abspath(path))
        root = next((r for r in self.roots if r in path.parents), None)
        scope: Scope = tuple(self.roots)
        if root is None:
            root = _marker_root(path.parent)
            if root is None:
                return None
            scope = (root,)
        rel = path.relative_to(root).as_posix()
        place = layout.classify(rel)
        if place.role == layout.IGNORED:
            return None
        return Located(root, rel, place, scope)

    # -- the store (read only, optional) -----------------------------------------------
    def store(self) -> Any:
        """The active store, or None (no index yet, unreachable, key missing: files only)."""
        if self._store is None and not self._store_failed and self._store_factory is not None:
            try:
                self._store = self._store_factory()
            except Exception as e:  # noqa: BLE001 - the server works from files without it
                self._store_failed = True
                self.store_error = f"{type(e).__name__}: {e}"
                log.warning("index not used: %s", self.store_error)
        return self._store

    def _stored(self, dialogue_id: str) -> dict[str, ParsedFile]:
        store = self.store()
        if store is None:
            return {}
        try:
            from ..codec import parsed_files_from_items

            return parsed_files_from_items(store.load(dialogue_id))
        except Exception as e:  # noqa: BLE001 - a bad partition: parse the files instead
            log.warning("index not used for %s: %s", dialogue_id, e)
            return {}

    # -- buffers ------------------------------------------------------------------------
    def open(self, path: Path, version: int | None, text: str) -> None:
        self.buffers[Path(os.path.abspath(path))] = (version, text)
        self._touch(path)

    def close(self, path: Path) -> None:
        path = Path(os.path.abspath(path))
        self.buffers.pop(path, None)
        self._parsed.pop(path, None)
        self._touch(path)

    def _touch(self, path: Path) -> None:
        loc = self.locate(path)
        if loc and loc.dialogue:
            st = self._dialogues.get((loc.scope, loc.dialogue))
            if st is not None:
                st.generation += 1

    def parsed_buffer(self, path: Path) -> ParsedFile | None:
        """The open buffer of ``path`` parsed (cached per version), or None if not open."""
        path = Path(os.path.abspath(path))
        buf = self.buffers.get(path)
        loc = self.locate(path)
        if buf is None or loc is None:
            return None
        version, text = buf
        hit = self._parsed.get(path)
        if hit and hit[0] == version and version is not None:
            return hit[1]
        data = text.encode("utf-8", errors="surrogatepass")
        pf = too_large(loc.rel, len(data)) if len(data) > MAX_BYTES else parse_file(loc.rel, data)
        self._parsed[path] = (version, pf)
        return pf

    # -- files on disk -------------------------------------------------------------------
    def _state(self, scope: Scope, dialogue_id: str) -> DialogueState:
        key = (scope, dialogue_id)
        st = self._dialogues.get(key)
        if st is None:
            st = DialogueState(scope, dialogue_id)
            self._dialogues[key] = st
            self._load(st)
            self._evict()
        else:
            self._dialogues.move_to_end(key)
            if time.monotonic() - st.checked > self.recheck_seconds:
                self.refresh(st)
        return st

    def _evict(self) -> None:
        open_keys = {(loc.scope, loc.dialogue) for p in self.buffers
                     if (loc := self.locate(p)) and loc.dialogue}
        for key in list(self._dialogues):
            if len(self._dialogues) <= MAX_DIALOGUES:
                break
            if key not in open_keys:
                del self._dialogues[key]

    def _listing(self, st: DialogueState) -> dict[str, tuple[Path, tuple[int, int]]]:
        """The dialogue's files as the library lists them (its folder and single files in
        every root of the scope, layout.py/roots.py): rel to its root -> (path, stat)."""
        from ..views import UnknownDialogue, dialogue_files

        try:
            files = dialogue_files(list(st.scope), st.id)
        except (UnknownDialogue, OSError):
            files = []
        out = {}
        for rel, p in files:
            try:
                s = p.stat()
            except OSError:
                continue
            out[rel] = (p, (s.st_size, s.st_mtime_ns))
        return out

    def _load(self, st: DialogueState) -> None:
        listing = self._listing(st)
        # the store indexes the configured roots only (another repo's dialogue of the same
        # name must not be answered from it)
        stored = self._stored(st.id) if listing and st.scope == tuple(self.roots) else {}
        for rel, (p, stat) in listing.items():
            st.disk[rel] = self._read(rel, p, stat, stored.get(rel))
            st.paths[rel] = p
        st.checked = time.monotonic()

    def _read(self, rel: str, path: Path, stat: tuple[int, int],
              stored: ParsedFile | None) -> _DiskFile:
        from .. import fsread  # regular files only, links kept in the repository, sizes

        limit = getattr(self.config, "max_file_size", fsread.DEFAULT_MAX_BYTES)
        if MAX_BYTES < stat[0] <= limit:
            return _DiskFile(stat, too_large(rel, stat[0]))
        repo = self.config.root if self.config is not None else None
        try:
            data = fsread.read_entry(str(path), fsread.boundary(path.parent, repo), limit)
        except fsread.Unreadable as e:  # as lint says it: a FIFO, a link leaving, too big
            return _DiskFile(stat, fsread.unreadable_file(rel, e.problem))
        except OSError as e:
            return _DiskFile(stat, _unreadable(rel, e))
        sha = hashlib.sha256(data).hexdigest()
        if stored is not None and stored.sha256 == sha and stored.good_sha256 == sha:
            return _DiskFile(stat, stored)  # what the index holds for exactly these bytes
        return _DiskFile(stat, parse_file(rel, data))

    def refresh(self, st: DialogueState) -> bool:
        """Re-stat the dialogue's files; re-read those that changed. True when any did."""
        listing = self._listing(st)
        changed = False
        for rel in [r for r in st.disk if r not in listing]:
            del st.disk[rel]
            st.paths.pop(rel, None)
            changed = True
        for rel, (p, stat) in listing.items():
            old = st.disk.get(rel)
            if old is None or old.stat != stat:
                st.disk[rel] = self._read(rel, p, stat, None)
                st.paths[rel] = p
                changed = True
        st.checked = time.monotonic()
        if changed:
            st.generation += 1
        return changed

    def file_changed(self, path: Path) -> tuple[Scope, str] | None:
        """A file changed on disk (client notification): re-check its dialogue now.
        Returns the dialogue's (root, id) when it is loaded and something changed."""
        loc = self.locate(path)
        if loc is None or not loc.dialogue:
            return None
        st = self._dialogues.get((loc.scope, loc.dialogue))
        if st is None:
            return None
        return (loc.scope, loc.dialogue) if self.refresh(st) else None

    def open_dialogues(self) -> list[tuple[Scope, str]]:
        """Dialogues with an open buffer (the ones whose diagnostics are shown)."""
        out = []
        for p in self.buffers:
            loc = self.locate(p)
            if loc and loc.dialogue and (loc.scope, loc.dialogue) not in out:
                out.append((loc.scope, loc.dialogue))
        return out

    def recheck_open(self) -> list[tuple[Scope, str]]:
        """Re-stat the files of every dialogue with an open buffer; those that changed."""
        out = []
        for key in self.open_dialogues():
            st = self._dialogues.get(key)
            if st is not None and self.refresh(st):
                out.append(key)
        return out

    # -- dialogues -------------------------------------------------------------------------
    def files(self, scope: Scope, dialogue_id: str) -> dict[str, ParsedFile]:
        """Every file of a dialogue (rel to its root -> parse): open buffers over the files
        on disk."""
        st = self._state(scope, dialogue_id)
        merged = {rel: f.pf for rel, f in st.disk.items() if f.pf is not None}
        for path in self.buffers:
            loc = self.locate(path)
            if loc and loc.scope == scope and loc.dialogue == dialogue_id:
                pf = self.parsed_buffer(path)
                if pf is not None:
                    merged[loc.rel] = pf
        return {k: merged[k] for k in sorted(merged)}

    def dialogue(self, scope: Scope, dialogue_id: str) -> Dialogue:
        """The assembled dialogue (cached until a file or buffer of it changes)."""
        st = self._state(scope, dialogue_id)
        versions = tuple(sorted((str(p), b[0] if b[0] is not None else id(b[1]))
                                for p, b in self.buffers.items()
                                if (loc := self.locate(p)) and loc.scope == scope
                                and loc.dialogue == dialogue_id))
        key = (st.generation, versions)
        if st.assembled is not None and st.assembled[0] == key:
            return st.assembled[1]
        d = assemble(dialogue_id, list(self.files(scope, dialogue_id).values()))
        st.assembled = (key, d)
        return d

    def for_path(self, path: Path) -> tuple[Located, Dialogue | None, ParsedFile | None] | None:
        """A file's place, its assembled dialogue (None for files of no dialogue) and its
        current parse (the buffer when open, else the file on disk)."""
        loc = self.locate(path)
        if loc is None:
            return None
        if not loc.dialogue:
            pf = self.parsed_buffer(path) or self._parse_disk(loc, path)
            return loc, None, pf
        d = self.dialogue(loc.scope, loc.dialogue)
        # the file's own parse (a single-file dialogue is split into parts by assemble)
        pf = self.files(loc.scope, loc.dialogue).get(loc.rel) or self.parsed_buffer(path)
        return loc, d, pf

    def _parse_disk(self, loc: Located, path: Path) -> ParsedFile | None:
        try:
            s = path.stat()
        except OSError:
            return None
        return self._read(loc.rel, path, (s.st_size, s.st_mtime_ns), None).pf

    def diagnostics(self, path: Path) -> list[Diagnostic]:
        """What ``lint`` reports for this file, from the buffer when it is open: the file's
        own diagnostics and the dialogue-level ones located in it."""
        found = self.for_path(path)
        if found is None:
            return []
        loc, d, pf = found
        out = list(pf.diagnostics) if pf is not None else []
        if d is not None:
            out += [x for x in d.diagnostics if x.file == loc.rel]
        return sorted(out, key=sort_key)

    def loaded(self) -> list[tuple[Scope, str]]:
        return list(self._dialogues)

    def abs_path(self, scope: Scope, dialogue_id: str, rel_in_dialogue: str) -> Path:
        """A dialogue-relative path (``round-1/x.md``, as in events) on disk."""
        rel = layout.parse_path(dialogue_id, rel_in_dialogue)
        st = self._dialogues.get((scope, dialogue_id))
        if st is not None and rel in st.paths:
            return st.paths[rel]
        for p in self.buffers:
            loc = self.locate(p)
            if loc and loc.scope == scope and loc.rel == rel:
                return p
        return next((r / rel for r in scope if (r / rel).exists()), scope[0] / rel)


def too_large(rel: str, size: int) -> ParsedFile:
    """A stand-in parse for content over MAX_BYTES: one diagnostic, no blocks."""
    place = layout.classify(rel)
    pf = ParsedFile(path=rel, role=place.role, dialogue=place.dialogue, round=place.round,
                    expert=place.expert, size=size)
    pf.diagnostics = [diag.make(TOO_LARGE, rel, 1, 1, size=size, limit=MAX_BYTES)]
    return pf


def _unreadable(rel: str, e: OSError) -> ParsedFile:
    place = layout.classify(rel)
    pf = ParsedFile(path=rel, role=place.role, dialogue=place.dialogue, round=place.round,
                    expert=place.expert)
    pf.diagnostics = [diag.make("internal-error", rel, None, what="the file", error=str(e))]
    return pf
