"""``blue-index watch``: the daemon over the real sync engine and the configured store."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any, TextIO

from ..daemon_state import DaemonLock, daemon_status, lock_path, log_path, status_path
from .daemon import Daemon
from .log import Log

if TYPE_CHECKING:
    from ..config import Config


class StoreSync:
    """``Syncer.run`` over the configured store, opened in the calling (worker) thread.

    A SQLite store is checked before each sync (and by the daemon's probe): when its file
    was deleted or replaced since it was opened, the store is reopened (a new file is
    built) and the whole tree reconciled, instead of writing on into a deleted file."""

    def __init__(self, config: Config, log: Log | None = None) -> None:
        self.config = config
        self.log = log or Log()
        self._open()

    def _open(self) -> None:
        from ..store.factory import open_store
        from ..sync import Syncer

        self.store = open_store(self.config)
        inner = getattr(self.store, "inner", self.store)
        if hasattr(inner, "notice"):  # a wait on a locked SQLite store: one log line
            inner.notice = lambda text: self.log("busy", text.removeprefix("blue-index: "),
                                                 error=True)
        self.syncer = Syncer(self.config, self.store)
        self.identity = self._identity()

    def _identity(self) -> tuple[int, int] | None:
        path = self.config.sqlite_path if self.config.backend == "sqlite" else None
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return (0, 0)  # gone
        return (st.st_dev, st.st_ino)

    def stale(self) -> bool:
        """True when the SQLite file is no longer the one this process opened."""
        return self.identity is not None and self._identity() != self.identity

    def __call__(self, dialogues: frozenset[str] | None) -> Any:
        if self.stale():
            gone = self._identity() == (0, 0)
            self.log("store-replaced", f"{self.config.sqlite_path} was "
                     f"{'deleted' if gone else 'replaced'} under the daemon; reopening it and "
                     "reconciling the whole tree", error=True, store=str(self.config.sqlite_path))
            with contextlib.suppress(Exception):
                self.store.close()
            self._open()
            dialogues = None
        return self.syncer.run(dialogues=dialogues)

    def close(self) -> None:
        self.store.close()


def watch(config: Config, *, debounce_ms: int = 100, json_log: bool = False,
          quiet: bool = False, polling: bool = False, stream: TextIO | None = None) -> int:
    """Run the daemon for ``config`` until SIGINT/SIGTERM. Exit code 0; 2 if one is running."""
    lock = DaemonLock(lock_path(config))
    if not lock.acquire():
        log = Log(json_lines=json_log, quiet=quiet, stream=stream)
        running = daemon_status(config) or {}
        pid = f" (pid {running['pid']})" if running.get("pid") else ""
        log("refused", f"another watch daemon{pid} is already running for {config.root}; "
            "stop it first or check `blue-index status`", error=True)
        return 2
    log = Log(json_lines=json_log, quiet=quiet, stream=stream, file=log_path(config))
    try:
        roots = config.existing_roots or config.dialogue_roots[:1]
        daemon = Daemon(roots[0], lambda: StoreSync(config, log), more_roots=roots[1:],
                        debounce=max(debounce_ms, 0) / 1000, log=log,
                        status_file=status_path(config), polling=polling,
                        extra_status={"dialogues": str(roots[0]),
                                      "dialogue_roots": [str(r) for r in roots],
                                      "backend": config.backend,
                                      "log": str(log.file) if log.file else None})
        return daemon.run_forever()
    finally:
        log.close()
        lock.release()
