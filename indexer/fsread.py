"""Reading entries of the dialogues folder safely (FORMAT.md 5: hostile entries).

Every reader of the working tree (the sync scan, ``lint``, the hook's working-tree paths,
the daemon through the sync engine) goes through here, so that:

- only regular files are opened: ``lstat``/``stat`` before, ``fstat`` after a non-blocking
  ``open`` (a FIFO never blocks, ``/dev/zero`` is never read);
- a symbolic link is followed only when its target stays inside the repository root; a
  link leaving it, a loop or a dangling link is a diagnostic on that entry;
- a file over the size limit is not read (``file-too-large``);
- a permission error or a file name that is not valid UTF-8 is a diagnostic on that entry.

A :class:`Problem` describes such an entry; :func:`unreadable_file` turns it into the
ParsedFile the store keeps for it (no content, one diagnostic), so everything else syncs.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from typing import Any

from . import diagnostics as diag
from . import layout
from .config import MAX_FILE_SIZE
from .errors import ProblemsFound
from .model import ParsedFile

DEFAULT_MAX_BYTES = MAX_FILE_SIZE


@dataclass(frozen=True, slots=True)
class Problem:
    """Why an entry cannot be read: a diagnostic code and its message fields."""

    code: str
    fields: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def sha256(self) -> str:
        """A stand-in content hash, stable while the problem stays the same (so change
        detection treats the entry like any file: unchanged problem, no write)."""
        text = f"unreadable\0{self.code}\0{sorted(self.fields.items())!r}"
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


class Unreadable(ProblemsFound):  # noqa: N818 - reads as what it is: the entry is unreadable
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.code)
        self.problem = problem


def escape_name(name: str) -> str:
    """A name as text: undecodable bytes (surrogate escapes) as ``\\xNN``; others as is."""
    if name.isascii():
        return name
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def bad_name(name: str) -> bool:
    """True when the name's bytes are not valid UTF-8 (os.scandir gives surrogates)."""
    if name.isascii():
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def problem_of(e: OSError) -> Problem:
    if e.errno == errno.ELOOP:
        return Problem("symlink-loop")
    if e.errno in (errno.EACCES, errno.EPERM):
        return Problem("file-unreadable", {"error": "permission denied"})
    if e.errno == errno.ENOENT:
        return Problem("symlink-broken")
    return Problem("file-unreadable", {"error": e.strerror or str(e)})


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def boundary(folder: str | os.PathLike[str], repo: str | os.PathLike[str] | None) -> str:
    """The real path links under ``folder`` must stay in: the repository when ``folder``
    lies inside it, else ``folder`` itself (a dialogues root given outside the repository)."""
    real = os.path.realpath(folder)
    top = os.path.realpath(repo) if repo is not None else real
    return top if inside(real, top) else real


def resolve(path: str, root: str) -> str:
    """The real path of ``path`` when every link on the way stays under ``root`` (a real
    path); raises Unreadable for a loop, a dangling link or a link leaving the root."""
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as e:
        raise Unreadable(problem_of(e)) from None
    if not inside(real, root):
        raise Unreadable(Problem("symlink-outside", {"target": real}))
    return real


def check(st: os.stat_result, limit: int) -> None:
    """Raise Unreadable unless ``st`` is a regular file within the size limit."""
    if not stat.S_ISREG(st.st_mode):
        raise Unreadable(Problem("file-not-regular", {"what": _kind(st.st_mode)}))
    if st.st_size > limit:
        raise Unreadable(Problem("file-too-large", {"size": st.st_size, "limit": limit}))


def read(path: str, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file (``path`` already resolved: not followed if a link).

    Non-blocking open, ``fstat`` check, at most ``limit`` bytes. Raises Unreadable for
    anything else; FileNotFoundError when the file vanished.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise Unreadable(problem_of(e)) from None
    try:
        check(os.fstat(fd), limit)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # grew since the fstat
                raise Unreadable(Problem("file-too-large", {"size": size, "limit": limit}))
        return b"".join(chunks)
    except OSError as e:
        raise Unreadable(problem_of(e)) from None
    finally:
        os.close(fd)


def read_entry(path: str, root: str, limit: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a working-tree entry: links resolved and kept inside ``root``, then ``read``."""
    try:
        st = os.lstat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise FileNotFoundError(path) from None
        raise Unreadable(problem_of(e)) from None
    if stat.S_ISLNK(st.st_mode):
        path = resolve(path, root)
        try:
            st = os.stat(path)
        except OSError as e:
            raise Unreadable(problem_of(e)) from None
    check(st, limit)  # never open a FIFO or a device, even non-blocking
    return read(path, limit)


@dataclass(slots=True)
class Entry:
    """What the walk does with a non-plain entry: ``kind`` is ``file`` (``path``, ``stat``
    of the real file), ``dir`` (walk ``path``) or ``problem``; ``name`` is the name to
    index it under (escaped when it is not UTF-8)."""

    kind: str
    name: str
    path: str = ""
    st: os.stat_result | None = None
    problem: Problem | None = None


def inspect(path: str, name: str, root: str, limit: int, walking: set[str]) -> Entry | None:
    """The slow path of a walk, for an entry that is not a plain small regular file with a
    UTF-8 name: a link, a FIFO, a device, a big file, a bad name. ``walking`` holds the real
    paths of the folders being walked (a link back to one of them is a loop). None: skip
    (a hidden folder, a name layout ignores)."""
    if bad_name(name):
        shown = escape_name(name)
        return Entry("problem", shown, problem=Problem("name-not-utf8", {"name": shown}))
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        return Entry("problem", name, problem=problem_of(e))
    real = path
    if stat.S_ISLNK(st.st_mode):
        try:
            real = resolve(path, root)
            st = os.stat(real)
        except Unreadable as u:
            return Entry("problem", name, problem=u.problem)
        except OSError as e:
            return Entry("problem", name, problem=problem_of(e))
    if stat.S_ISDIR(st.st_mode):
        if name.startswith("."):
            return None
        if real in walking:
            return Entry("problem", name, problem=Problem("symlink-loop"))
        if not os.access(real, os.R_OK | os.X_OK):
            return Entry("problem", name,
                         problem=Problem("file-unreadable", {"error": "permission denied"}))
        return Entry("dir", name, real)
    if layout.is_temp(name) or layout.classify(f"d/{name}").role == layout.IGNORED:
        return None
    try:
        check(st, limit)
    except Unreadable as u:
        return Entry("problem", name, problem=u.problem)
    return Entry("file", name, real, st)


def unreadable_file(rel_path: str, problem: Problem) -> ParsedFile:
    """What the store keeps for an entry that cannot be read: its place, one diagnostic."""
    place = layout.classify(rel_path)
    role = layout.NOTE if place.role == layout.IGNORED else place.role
    dialogue = place.dialogue or rel_path.split("/", 1)[0]
    d = diag.make(problem.code, rel_path, None, None, **problem.fields)
    return ParsedFile(path=rel_path, role=role, dialogue=dialogue, round=place.round,
                      expert=place.expert, diagnostics=[d], sha256=problem.sha256, size=0)
