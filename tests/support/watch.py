"""Helpers for the watch daemon tests: bounded polling, file save patterns, a daemon process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]


def wait_for(pred: Callable[[], T], timeout: float = 15.0, interval: float = 0.05,
              what: str = "condition") -> T:
    """Poll ``pred`` until it returns something truthy (bounded); fail with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# -- save patterns: each is how a real tool writes ``path`` with ``text`` -------------------


def save_atomic(path: Path, text: str) -> None:
    """Editors (VS Code, JetBrains, many agents): temp file in the folder, rename over."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_vim(path: Path, text: str) -> None:
    """vim with backupcopy=no: probe file 4913, rename to x.md~, write anew, drop backup."""
    probe = path.parent / "4913"
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    if path.exists():
        os.replace(path, backup)
    path.write_text(text, encoding="utf-8")
    if backup.exists():
        backup.unlink()


def save_in_place(path: Path, text: str) -> None:
    """Truncate and write the same inode (nano, echo >, many scripts)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def save_appends(path: Path, text: str, pieces: int = 40) -> None:
    """An agent streaming a file in small appends, with short pauses between them."""
    size = max(1, len(text) // pieces)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(0, len(text), size):
            f.write(text[i : i + size])
            f.flush()
            time.sleep(0.002)


def save_sed(path: Path, old: str, new: str) -> None:
    """GNU ``sed -i``: writes a sibling ``sedXXXXXX`` file, renames it over."""
    subprocess.run(["sed", "-i", f"s/{old}/{new}/", str(path)], check=True)


# -- a real daemon process ---------------------------------------------------------------


class DaemonProc:
    """``python -m indexer.cli --root ROOT watch --json-log`` with its stderr in a file."""

    def __init__(self, root: Path, *args: str, env: dict[str, str] | None = None,
                 prefix: list[str] | None = None) -> None:
        self.root = root
        self.log_path = root / f"watch-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [*(prefix or []), sys.executable, "-m", "indexer.cli", "--root", str(root),
               "watch", "--json-log", *args]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                     stderr=self._log, env={**os.environ, **(env or {})})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                out.append({"event": "text", "message": raw})
        return out

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.lines() if e.get("event") == kind]

    def syncs(self) -> list[dict[str, Any]]:
        return self.events("sync")

    def wait_ready(self, timeout: float = 15.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.text()}")
            return bool(self.events("ready"))
        wait_for(ready, timeout, what="the daemon's ready line")

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(15)
        self._log.close()


def copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)
