"""Settle cookies: a query asks the watch daemon "have you processed every event before
now?" the way Watchman does, with a file in the watched tree.

The query creates ``<root>/.blue-index-cookie-<host>-<pid>-<n>`` (``O_EXCL``, empty). The
kernel delivers file events of one watch in order, so when the daemon's event handler sees
the cookie's creation, every earlier change under that root is already in its pending
set; it then syncs those at once (no debounce) and answers: it deletes the cookie (settled)
or renames it to ``<cookie>.failed`` (the sync failed). The query waits for the answer at
most ``timeout`` seconds and otherwise falls back to syncing itself.

The name is hidden (a leading dot): the scanner, ``lint``, the hook and event routing never
read it (layout.classify ignores dotfiles), and it lives for milliseconds. ``.gitignore``
pattern for it: ``.blue-index-cookie-*``. No watchdog import here: queries use this module.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

PREFIX = ".blue-index-cookie-"
FAILED = ".failed"
#: What the daemon writes in its status file when it answers cookies (a daemon without it
#: is never asked: the query would only wait out its bound).
PROTOCOL = "cookie-1"
POLL_S = 0.002  # how often a query looks for the answer (a stat; answers take ~ms)
NOTICE_AFTER_S = 0.5  # a wait this long is announced (what it waits for, and how long)

_counter = itertools.count()


def is_cookie(name: str) -> bool:
    """A cookie the daemon must answer (not an answer file)."""
    return name.startswith(PREFIX) and not name.endswith(FAILED)


def is_cookie_file(name: str) -> bool:
    """A cookie or its answer: never a change to sync."""
    return name.startswith(PREFIX)


@dataclass(slots=True)
class Settled:
    """The outcome of one settle: ``ok`` (the daemon answered that it synced), ``waited``
    seconds, and why not (``reason``: "timeout", "failed", "cannot create the cookie")."""

    ok: bool
    waited: float
    reason: str = ""


def create(root: Path) -> Path:
    """A new, uniquely named cookie directly under ``root``."""
    host = socket.gethostname().replace(os.sep, "_")[:40]
    while True:
        path = root / f"{PREFIX}{host}-{os.getpid()}-{next(_counter)}-{time.monotonic_ns()}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
            return path
        except FileExistsError:
            continue


def settle(roots: Iterable[Path], timeout: float, what: str = "the watch daemon",
           notice: Callable[[str], None] | None = None) -> Settled:
    """Create one cookie per root, wait (at most ``timeout`` s overall) until the daemon
    has answered each; clean up whatever is left either way. A wait longer than
    NOTICE_AFTER_S is announced through ``notice`` (``what``: who is waited for)."""
    t0 = time.monotonic()
    cookies: list[Path] = []
    try:
        for root in roots:
            cookies.append(create(root))
    except OSError as e:
        _remove(cookies)
        return Settled(False, time.monotonic() - t0, f"cannot create the cookie ({e})")
    deadline = t0 + timeout
    waiting = list(cookies)
    failed = False
    told = notice is None
    while waiting:
        waiting = [c for c in waiting if os.path.lexists(c)]
        if not waiting:
            break
        now = time.monotonic()
        if now >= deadline:
            _remove(cookies)
            return Settled(False, now - t0, "timeout")
        if not told and now - t0 >= NOTICE_AFTER_S:
            told = True
            assert notice is not None
            notice(f"blue-index: waiting up to {timeout:g}s for {what} to sync the changes "
                   "made so far (settle cookie)")
        time.sleep(POLL_S)
    for c in cookies:
        answer = c.with_name(c.name + FAILED)
        if os.path.lexists(answer):
            failed = True
            with contextlib.suppress(OSError):
                os.unlink(answer)
    return Settled(not failed, time.monotonic() - t0, "failed" if failed else "")


def answer(path: str, ok: bool) -> None:
    """The daemon's answer: delete the cookie (settled) or rename it to ``.failed``."""
    with contextlib.suppress(OSError):
        if ok:
            os.unlink(path)
        else:
            os.replace(path, path + FAILED)


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        for q in (p, p.with_name(p.name + FAILED)):
            with contextlib.suppress(OSError):
                os.unlink(q)
