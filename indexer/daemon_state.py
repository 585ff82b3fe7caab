"""The watch daemon's on-disk state: its lock and its status file (no watchdog import).

``.blue/watch.lock`` is held with ``fcntl.flock`` for the daemon's whole life. The kernel
drops the lock when the process dies, however it dies, so a crashed daemon never leaves
the root locked. ``.blue/watch.json`` (pid, start time, sync counts, last sync, last error,
whether it answers settle cookies) is rewritten atomically after each sync; it is only
trusted while the lock is held. ``.blue/watch.log`` is the daemon's log file.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .fsutil import FileLock, atomic_write, lock_held
from .localstate import make_file_dir

if TYPE_CHECKING:
    from .config import Config

LOCK_NAME = "watch.lock"
STATUS_NAME = "watch.json"
LOG_NAME = "watch.log"


def lock_path(config: Config) -> Path:
    return config.state_dir / LOCK_NAME


def status_path(config: Config) -> Path:
    return config.state_dir / STATUS_NAME


def log_path(config: Config) -> Path:
    """The daemon's log file (JSON lines, rotated; stderr gets the same lines)."""
    return config.state_dir / LOG_NAME


class DaemonLock:
    """An exclusive, non-blocking ``flock`` on the lock file; released by close or death."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path)

    def acquire(self, patience: float = 0.3) -> bool:
        """Take the lock; False if another daemon holds it.

        Retries briefly because ``daemon_status`` takes a shared lock for an instant to
        probe it; a real daemon holds it for good, so patience never hides one.
        """
        make_file_dir(self.path)
        if not self._lock.acquire(timeout=patience, poll=0.02):
            return False
        fd = self._lock.fd
        assert fd is not None  # held
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return True

    def release(self) -> None:
        self._lock.release()


def write_status(path: Path, status: dict[str, Any]) -> None:
    """Replace the status file atomically (write a sibling temp file, then rename)."""
    atomic_write(path, json.dumps(status, indent=2, sort_keys=True) + "\n")


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def daemon_status(config: Config) -> dict[str, Any] | None:
    """The running daemon's status (the status file plus ``running: True``), else None.

    Cheap: one open, one flock probe, one small JSON read. A status file left by a dead
    daemon is ignored because nobody holds the lock any more.
    """
    if not lock_held(lock_path(config)):
        return None
    status = read_status(status_path(config)) or {}
    status["running"] = True
    with contextlib.suppress(OSError, ValueError):
        status.setdefault("pid", int(lock_path(config).read_text().split()[0]))
    return status
