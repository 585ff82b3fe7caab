"""Files that other processes read while we write them: one atomic write, one file lock.

``atomic_write``: readers see the old content or the new, never a part (a sibling temp
file, then a rename; with ``exclusive``, a hard link that fails if the target exists, so
two creators never overwrite each other). ``FileLock``: an ``flock`` on a lock file,
released by ``release``, by closing, or by the death of the process (the kernel drops it,
so a crashed holder never leaves a stale lock).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

try:
    import fcntl
except ImportError:  # not POSIX: no locks (callers run without them)
    fcntl = None  # type: ignore[assignment]


def atomic_write(path: Path, data: bytes | str, *, mode: int | None = None,
                 exclusive: bool = False, durable: bool = False) -> None:
    """Replace (or, with ``exclusive``, create: FileExistsError if it exists) ``path`` with
    ``data`` (str: UTF-8) in one step. ``mode``: the file's permissions, set before it
    appears under its name. ``durable``: fsync the file and its folder (key files; caches
    need not). The temp file is removed on any failure."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    # without ``mode``, the usual permissions of a new file (0666 less the umask)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            if mode is not None:
                os.fchmod(f.fileno(), mode)  # exact, whatever the umask
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class LocksUnavailable(OSError):
    """This platform has no ``flock``."""


class FileLock:
    """An ``flock`` on ``path`` (created if missing), exclusive or ``shared``.

    ``acquire(timeout)`` waits (polling, bounded); ``on_wait(waited_s)`` is called on each
    poll, so the caller can say who it waits for or give up by raising."""

    def __init__(self, path: Path, shared: bool = False) -> None:
        self.path = path
        self.shared = shared
        self.fd: int | None = None

    def _open(self) -> int:
        if fcntl is None:
            raise LocksUnavailable(f"{self.path}: file locks are not available here")
        if self.fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        return self.fd

    def try_acquire(self) -> bool:
        """Take the lock if free (no wait). OSError when the lock file cannot be opened."""
        fd = self._open()
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, timeout: float, poll: float = 0.05,
                on_wait: Callable[[float], None] | None = None) -> bool:
        """Take the lock, waiting at most ``timeout`` seconds; False if still held (the
        lock file is then closed)."""
        t0 = time.monotonic()
        while not self.try_acquire():
            waited = time.monotonic() - t0
            if on_wait is not None:
                try:
                    on_wait(waited)
                except BaseException:
                    self.release()
                    raise
            if waited >= timeout:
                self.release()
                return False
            time.sleep(poll)
        return True

    def release(self) -> None:
        """Drop the lock (closing the only descriptor releases the flock)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, typ: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def lock_held(path: Path) -> bool:
    """True if some process holds an exclusive lock on ``path`` (a shared probe that
    takes nothing away: it is dropped at once). False when there is no such file."""
    if fcntl is None or not path.exists():
        return False
    probe = FileLock(path, shared=True)
    try:
        return not probe.try_acquire()
    except OSError:
        return False
    finally:
        probe.release()
