"""The scan: every indexable file under the dialogue roots, one ``stat`` each.

``scan_roots`` lists ``{dialogue id: {path in the dialogue: Disk}}`` (folders are folder
dialogues, ``<id>.dialogue.md`` files single-file ones, merged across roots by roots.py).
It is the floor of every whole-tree run, so its hot loop (``_walk``) does one
``DirEntry.stat()`` per plain file and as little Python around it as possible; anything odd
(links, FIFOs, devices, big files, bad names) goes to ``fsread.inspect``, which decides.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import fsread, layout
from ..roots import FOLDER, Conflict, Found, entry, merge

NO_MTIME = -1  # an entry that cannot be read: never matches a hash-cache entry


@dataclass(slots=True)
class Disk:
    path: str
    size: int
    mtime_ns: int
    problem: fsread.Problem | None = None  # an entry that cannot be read (never opened)


@dataclass(slots=True)
class _Walk:
    """What every folder of one scan shares: the repository's real path (links may not
    leave it), the size limit, and the real paths of the folders being walked (loops)."""

    repo: str
    limit: int
    walking: set[str] = field(default_factory=set)


def scan(root: Path, only: Collection[str] | None = None, repo: Path | None = None,
         limit: int = fsread.DEFAULT_MAX_BYTES) -> dict[str, dict[str, Disk]]:
    """``{dialogue id: {path in the dialogue: stat}}`` of every indexable file of one root."""
    return scan_roots([root], only, repo, limit)[0]


def scan_roots(roots: Sequence[Path], only: Collection[str] | None = None,
               repo: Path | None = None, limit: int = fsread.DEFAULT_MAX_BYTES
               ) -> tuple[dict[str, dict[str, Disk]], list[Conflict]]:
    """Every dialogue of the roots, merged in root order (roots.py), and the ids met twice.

    Folders are folder dialogues, ``<id>.dialogue.md`` files single-file dialogues; other
    files directly under a root (shared pool files) belong to no dialogue and are skipped.
    Entries that cannot be read (fsread: links leaving ``repo``, FIFOs, files over
    ``limit``, ...) are listed with their ``problem``; a dialogue folder that cannot be read
    (a name that is not UTF-8, a link leaving the repository) is one such entry (path ''),
    in a partition under its escaped name.
    """
    found = []
    for root in roots:
        w = _Walk(fsread.boundary(root, repo), limit)
        root_real = os.path.realpath(root)
        folders: dict[str, dict[str, Disk]] = {}
        singles: dict[str, dict[str, Disk]] = {}
        for e in _entries(root):
            what = dialogue_entry(e)
            if what is None:
                continue
            did, kind = fsread.escape_name(what[0]), what[1]
            if only is not None and did not in only:
                continue
            if kind == FOLDER:
                files: dict[str, Disk] = {}
                # a folder that is no link is where the root really is (no realpath each)
                real = (os.path.realpath(e.path) if e.is_symlink() else
                        os.path.join(root_real, e.name))
                if did != what[0]:  # not UTF-8: reported under its escaped name, not read
                    problem = fsread.Problem("name-not-utf8", {"name": did})
                    files[""] = Disk(e.path, 0, NO_MTIME, problem)
                elif not fsread.inside(real, w.repo):
                    problem = fsread.Problem("symlink-outside", {"target": real})
                    files[""] = Disk(e.path, 0, NO_MTIME, problem)
                else:
                    _walk(e.path, "", did, files, w, real)
                if files:
                    folders[did] = files
            else:
                st = _stat(e, w)
                if st is not None:
                    singles.setdefault(did, {})[fsread.escape_name(e.name)] = st
        found.append(Found(str(root), folders, singles))
    if len(found) == 1 and found[0].folders.keys().isdisjoint(found[0].files):
        return {**found[0].folders, **found[0].files}, []  # what merge returns, without a copy
    return merge(found)


def _entries(root: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return []


def dialogue_entry(e: os.DirEntry[str]) -> tuple[str, str] | None:
    """(id, FOLDER | FILE) when an entry directly under a root is a dialogue."""
    try:
        return entry(e.name, e.is_dir())
    except OSError:
        return None


def _stat(e: os.DirEntry[str], w: _Walk) -> Disk | None:
    """The stat of one single-file dialogue entry (None when it vanished); anything but a
    plain small regular file goes through ``fsread.inspect`` as in a folder walk."""
    try:
        if e.is_file(follow_symlinks=False) and e.name.isascii():
            st = e.stat(follow_symlinks=False)
            if st.st_size <= w.limit:
                return Disk(e.path, st.st_size, st.st_mtime_ns)
    except (FileNotFoundError, NotADirectoryError):
        return None
    x = fsread.inspect(e.path, e.name, w.repo, w.limit, w.walking)
    if x is None or x.kind == "dir":
        return None
    if x.kind == "file" and x.st is not None:
        return Disk(x.path, x.st.st_size, x.st.st_mtime_ns)
    return Disk(e.path, 0, NO_MTIME, x.problem)


def _walk(folder: str, prefix: str, did: str, files: dict[str, Disk], w: _Walk,
          real: str) -> None:
    """``prefix``: the folder's path in the dialogue folder ('' at its top, else ending
    in '/'); ``real``: its real path. The hot loop of every whole-tree run: one
    ``DirEntry.stat()`` per plain file and as little Python around it as possible; anything
    else (links, FIFOs, devices, big files, bad names) goes to ``fsread.inspect``."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as err:  # an unreadable folder: a problem on that entry, not a crash
        files[prefix.rstrip("/")] = Disk(folder, 0, NO_MTIME, fsread.problem_of(err))
        return
    w.walking.add(real)
    ignored = _ignored
    limit = w.limit
    for e in entries:
        name = e.name
        try:
            if e.is_dir(follow_symlinks=False):
                if not name.startswith("."):  # hidden folders are never indexed
                    if fsread.bad_name(name):
                        _odd(e.path, name, prefix, did, files, w)
                    else:
                        _walk(e.path, f"{prefix}{name}/", did, files, w, f"{real}/{name}")
                continue
            if e.is_file(follow_symlinks=False) and name.isascii():
                if ignored(name):
                    continue
                st = e.stat(follow_symlinks=False)
                if st.st_size <= limit:
                    files[prefix + name] = Disk(e.path, st.st_size, st.st_mtime_ns)
                    continue
        except FileNotFoundError:  # vanished during the scan
            continue
        _odd(e.path, name, prefix, did, files, w)
    w.walking.discard(real)


def walk_files(folder: str | Path, repo: str, limit: int = fsread.DEFAULT_MAX_BYTES,
               walking: set[str] | None = None) -> dict[str, Disk]:
    """Every entry under ``folder`` the way ``scan`` walks a dialogue folder (``lint``, the
    hook's linked folders); ``walking``: real paths of folders above it (loops)."""
    files: dict[str, Disk] = {}
    real = os.path.realpath(folder)
    _walk(str(folder), "", "", files, _Walk(repo, limit, set(walking or ())), real)
    return files


def _odd(path: str, name: str, prefix: str, did: str, files: dict[str, Disk],
         w: _Walk) -> None:
    """An entry off the hot path: fsread decides (follow, skip, or a problem to report)."""
    e = fsread.inspect(path, name, w.repo, w.limit, w.walking)
    if e is None:
        return
    rel = prefix + e.name
    if e.kind == "dir":
        _walk(e.path, rel + "/", did, files, w, e.path)
    elif e.kind == "file" and e.st is not None:
        files[rel] = Disk(e.path, e.st.st_size, e.st.st_mtime_ns)
    else:
        files[rel] = Disk(path, 0, NO_MTIME, e.problem)


@functools.lru_cache(maxsize=4096)
def _ignored(name: str) -> bool:
    """layout.classify's verdict for a file below a dialogue folder with no hidden folder on
    the way: it then depends on the name only, so it is computed once per name."""
    return layout.classify(f"dialogue/{name}").role == layout.IGNORED
