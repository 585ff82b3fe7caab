"""Fresh answers: bring the dialogues a query reads up to date with the files first.

``ensure_fresh(config, store, dialogues)`` is what every query calls before it reads
(``dialogues``: the ids it reads, None for the whole tree):

1. When a watch daemon is running on this root and answers settle cookies (its status file
   says ``settle: cookie-1`` and it has native events), ask it to settle: a cookie per
   dialogue root read (indexer/cookie.py); the daemon syncs every earlier event at once
   and answers. Waited for at most ``query.daemon_wait`` seconds (default
   ``DAEMON_WAIT_S``), then, or when the daemon answers that its sync failed, step 2.
2. Otherwise sync here through the one sync engine, ``Syncer.run(dialogues=...)``: a stat
   per file of the dialogues read, a parse only of what changed. The per-dialogue lock of
   the engine keeps it from interleaving with a daemon's or a reindex's sync of the same
   dialogue, and a store write is one revision, so readers see whole dialogues only.

Nothing is synced (and the answer comes from the store as it is) when the caller says so
(``--no-sync``, ``query: {sync: false}``), when there is no index yet (a query never builds
one: that is ``reindex``'s job), when no dialogue root exists here (a machine reading a
shared table without the files); a store this process may not write (ReadOnlyStore, raised
by the sync's first write: only when something changed) gives a one-line note that the
answer may be stale, never an error. ``wait_for_clock`` is ``--min-clock``: a bounded wait
until the store's clock reaches a value a caller knows was written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store.base import ReadOnlyStore, StoreUnavailable

if TYPE_CHECKING:
    from .config import Config
    from .store.base import Store
    from .sync import SyncReport

#: How long a query waits for the daemon's answer to its cookie before syncing itself.
#: The daemon answers in ~1-20 ms when idle (it syncs what is pending, no debounce); a
#: bound well above that but far below a human's patience: if the daemon is busy with a
#: long reconcile, the query's own one-dialogue sync (~10 ms) is the better deal.
DAEMON_WAIT_S = 0.5
#: How long ``--min-clock`` waits by default for the store's clock to reach the value.
CLOCK_WAIT_S = 5.0
CLOCK_POLL_S = 0.01

DAEMON = "daemon"  # the watch daemon settled (its cookie answered)
SYNCED = "synced"  # this process synced
SKIPPED = "skipped"  # asked not to (--no-sync, or query.sync: false in the config)
NO_INDEX = "no-index"  # no index built yet: a query never builds one
NO_FILES = "no-files"  # no dialogue root here: nothing to be fresh against
READ_ONLY = "read-only"  # the store cannot be written here: answered as it is


class ClockTimeout(StoreUnavailable):
    """``--min-clock C``: the store's clock did not reach C within the bound (exit 3)."""


@dataclass(slots=True)
class Freshness:
    """How a query's dialogues were brought up to date (``how``: one of the constants
    above), in how many seconds, ``note`` for the user when the answer may be stale,
    ``fallback`` why the daemon was not used or not waited for, and the engine's report
    when this process synced."""

    how: str
    dialogues: list[str] | None = None
    seconds: float = 0.0
    note: str | None = None
    fallback: str | None = None
    report: SyncReport | None = None
    daemon_seconds: float = 0.0


def query_sync_default(config: Config) -> bool:
    """``query: {sync: ...}`` of the config (default true)."""
    return bool(config_query(config).get("sync", True))


def config_query(config: Config) -> dict[str, Any]:
    value = getattr(config, "query", None)
    return value if isinstance(value, dict) else {}


def ensure_fresh(config: Config, store: Store | None,
                 dialogues: Collection[str] | None = None, *, sync: bool | None = None,
                 daemon_wait: float | None = None, use_daemon: bool = True,
                 notice: Callable[[str], None] | None = None) -> Freshness:
    """Make ``dialogues`` (None: the whole tree) of ``store`` equal to the files before a
    read; see the module docstring. ``store`` None: there is no index to bring up to date.
    ``sync`` None follows the config. ``notice``: where a long wait for the daemon is
    announced. Raises what the sync raises (StoreUnavailable: exit 3) except a read-only
    store, which is a note."""
    t0 = time.monotonic()
    ids = sorted(set(dialogues)) if dialogues is not None else None
    if not (query_sync_default(config) if sync is None else sync):
        return Freshness(SKIPPED, ids)
    if store is None:
        return Freshness(NO_INDEX, ids)
    if config.missing_roots() or not config.existing_roots:
        return Freshness(NO_FILES, ids)
    fallback = None
    daemon_s = 0.0
    if use_daemon:
        wait = daemon_wait if daemon_wait is not None else float(
            config_query(config).get("daemon_wait", DAEMON_WAIT_S))
        settled, fallback, daemon_s = settle_with_daemon(config, ids, wait, notice)
        if settled:
            return Freshness(DAEMON, ids, time.monotonic() - t0, daemon_seconds=daemon_s)
    from .sync import Syncer

    try:
        report = Syncer(config, store).run(dialogues=ids)
    except ReadOnlyStore as e:  # raised by the first write: nothing was written
        return Freshness(READ_ONLY, ids, time.monotonic() - t0,
                         note=e.note.removeprefix("blue-index: "), fallback=fallback)
    return Freshness(SYNCED, ids, time.monotonic() - t0, fallback=fallback, report=report,
                     daemon_seconds=daemon_s)


def settle_with_daemon(config: Config, dialogues: list[str] | None, wait: float,
                       notice: Callable[[str], None] | None = None
                       ) -> tuple[bool, str | None, float]:
    """Ask a running daemon to settle the roots ``dialogues`` live in. Returns (settled,
    why not, seconds waited); no daemon (or one that cannot answer) is (False, why, 0)."""
    from . import cookie
    from .daemon_state import daemon_status

    status = daemon_status(config)
    if status is None:
        return False, "no daemon", 0.0
    if status.get("settle") != cookie.PROTOCOL:
        return False, "the daemon does not answer settle cookies (an older blue-index)", 0.0
    if status.get("observer") != "inotify":
        # polling sees a cookie and the changes before it in the same snapshot, in no order
        return False, f"the daemon uses {status.get('observer') or 'no'} file events", 0.0
    watched = {str(r) for r in status.get("dialogue_roots") or [status.get("dialogues")]}
    roots = _roots_of(config, dialogues)
    if not roots or any(str(r) not in watched for r in roots):
        return False, "the daemon does not watch these dialogue roots", 0.0
    if wait <= 0:
        return False, "query.daemon_wait is 0", 0.0
    done = cookie.settle(roots, wait, f"the watch daemon (pid {status.get('pid')})", notice)
    if done.ok:
        return True, None, done.waited
    why = (f"the daemon did not answer within {wait:g}s" if done.reason == "timeout" else
           "the daemon's sync failed" if done.reason == "failed" else done.reason)
    return False, why, done.waited


def _roots_of(config: Config, dialogues: list[str] | None) -> list[Path]:
    """The existing roots that hold ``dialogues`` (every existing root for the whole tree,
    or for an id no root holds: a deletion shows in the root it was in, unknown here)."""
    roots = config.existing_roots
    if dialogues is None:
        return roots
    from . import layout

    out: list[Path] = []
    for did in dialogues:
        where = [r for r in roots if (r / did).is_dir() or any(
            (r / f"{did}{s}").is_file() for s in layout.SINGLE_FILE_SUFFIXES)]
        if not where:
            return roots
        out.extend(r for r in where if r not in out)
    return out


def answer_clock(config: Config, store: Store | None, wanted: bool,
                 min_clock: int | None = None, timeout: float | None = None,
                 notice: Callable[[str], None] | None = None) -> int | None:
    """The store's clock for an answer, read before the answer is (so the answer reflects
    at least every write up to it): after waiting for ``min_clock`` when given (at most
    ``timeout`` s, default CLOCK_WAIT_S), else only when ``wanted`` (on DynamoDB it costs
    a registry Query). No index: None, or ClockTimeout when a clock is awaited."""
    if store is None:
        if min_clock:
            raise ClockTimeout(f"{config.sqlite_path}: no index yet, so its clock is 0 < "
                               f"{min_clock}; run 'blue-index reindex'")
        return None
    if min_clock is not None:
        return wait_for_clock(store, min_clock, timeout=CLOCK_WAIT_S if timeout is None
                              else timeout, notice=notice)
    return clock_of(store) if wanted else None


def clock_of(store: Store, dialogue: str | None = None) -> int:
    """The store's index clock (overall, or one dialogue's): monotonic, 0 before a write."""
    return int(store.clock(dialogue))


def wait_for_clock(store: Store, min_clock: int, dialogue: str | None = None,
                   timeout: float = CLOCK_WAIT_S,
                   notice: Callable[[str], None] | None = None) -> int:
    """Wait (at most ``timeout`` s) until the store's clock is at least ``min_clock``;
    returns the clock. ClockTimeout (exit 3) when it does not get there in time. A wait
    longer than NOTICE_AFTER_S is announced through ``notice``."""
    from .cookie import NOTICE_AFTER_S

    t0 = time.monotonic()
    told = notice is None
    while True:
        now = clock_of(store, dialogue)
        if now >= min_clock:
            return now
        waited = time.monotonic() - t0
        if not told and waited >= NOTICE_AFTER_S:
            told = True
            assert notice is not None
            notice(f"blue-index: waiting up to {timeout:g}s for the store's clock to reach "
                   f"{min_clock} (now {now})")
        if waited >= timeout:
            what = f"dialogue {dialogue}'s" if dialogue else "the store's"
            raise ClockTimeout(
                f"{what} clock is {now}, waited {waited:.1f}s for it to reach {min_clock}; "
                "is the writer (sync, daemon) running? retry, or raise --clock-timeout")
        time.sleep(CLOCK_POLL_S)
