"""The file-watch daemon: watchdog events -> per-dialogue debounce -> ``Syncer.run``.

One code path: every sync, the start-up reconcile included, is ``Syncer.run(dialogues=...)``
(``None`` = the whole tree). The daemon only decides *which* dialogues to sync and *when*:

- an event's dialogue is the first path component under its dialogue root (or the id of a
  single-file dialogue ``<id>.dialogue.md`` directly under a root); events on a root
  itself, on other files directly under it, or outside every root ask for a full reconcile;
  editor leftovers (``x.md~``, ``4913``, ``.x.swp``...) and hidden folders are ignored;
- a dialogue is settled after ``debounce`` of quiet; settled dialogues are synced together
  once every pending dialogue is quiet (one sync for a multi-dialogue ``git checkout``),
  or when a quiet one has waited ``max_wait`` (a busy dialogue never starves the others);
- lost events (inotify queue overflow), a lost watch root and the inotify watch limit each
  give one stderr line and a full reconcile; the watch limit switches to polling.

Pending state is one entry per dialogue (not per path or event), so memory does not grow
with the number of events; the worker sleeps on a Condition, so an idle daemon uses no CPU.
watchdog is imported lazily: ``daemon_status`` (used by ``blue-index status``) stays cheap.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, TextIO

from . import layout
from .daemon_state import DaemonLock, daemon_status, lock_path, status_path, write_status

if TYPE_CHECKING:
    from .config import Config

__all__ = [
    "RECONCILE", "Batch", "Coalescer", "Daemon", "Log", "StoreSync", "daemon_status",
    "route", "watch",
]

#: Route of an event that needs a whole-tree reconcile. No folder name contains "/".
RECONCILE = "/"
#: A sync function: ``None`` = reconcile the whole tree, else these dialogue ids.
SyncFn = Callable[[frozenset[str] | None], Any]

MAX_ROOT_POLL = 2.0  # seconds between existence checks while the root is missing
PROBE_INTERVAL = 1.0  # seconds between checks that the root and the store are still theirs
STOP_GRACE = 0.8  # seconds a signal waits for the sync in flight before the process exits
POLL_INTERVAL = 1.0  # seconds between snapshots when polling instead of inotify


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- routing -------------------------------------------------------------------------------


def route(root: str, path: str, is_directory: bool) -> str | None:
    """The dialogue id an event path belongs to, ``RECONCILE``, or None (ignore it)."""
    if not path:
        return None
    if path == root:
        return RECONCILE
    rel = os.path.relpath(path, root)
    if rel == ".." or rel.startswith(".." + os.sep):
        return RECONCILE
    parts = rel.split(os.sep)
    if any(p.startswith(".") for p in parts):  # hidden folders and dotfiles: never indexed
        return None
    if not is_directory:
        if layout.classify(str(PurePosixPath(*parts))).role == layout.IGNORED:
            return None
        if len(parts) == 1:  # a single-file dialogue, else a pool file: the whole tree
            return layout.single_file_id(parts[0]) or RECONCILE
    return parts[0]


def route_roots(roots: list[str], path: str, is_directory: bool) -> str | None:
    """``route`` against the root the path lies in (the first that holds it); a path
    outside every root asks for a reconcile."""
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            return route(root, path, is_directory)
    return RECONCILE if path else None


class _Handler:
    """watchdog event handler (duck-typed ``dispatch``): routes events to the daemon."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.root = str(daemon.root)
        self.roots = [str(r) for r in daemon.roots]

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write", "attrib"):
            return
        if event.is_directory and kind == "modified":  # parents of every change: no news
            return
        src = os.fsdecode(event.src_path)
        if src == self.root and kind == "deleted":
            self.daemon.root_lost()
            return
        keys = {route_roots(self.roots, src, event.is_directory)}
        if kind == "moved":
            keys.add(route_roots(self.roots, os.fsdecode(event.dest_path), event.is_directory))
        keys.discard(None)
        if keys:
            self.daemon.changed(keys)  # type: ignore[arg-type]


# -- debounce and coalescing ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Batch:
    """One sync to run: these dialogues, or (``full``) the whole tree."""

    dialogues: frozenset[str]
    full: bool = False
    reason: str = "change"


class Coalescer:
    """Pending work: per key (dialogue id or ``RECONCILE``), its first and last event time.

    Not thread-safe on its own; the daemon guards it with its Condition.
    """

    def __init__(self, debounce: float, max_wait: float | None = None,
                 max_busy: float | None = None) -> None:
        self.debounce = debounce
        self.max_wait = max_wait if max_wait is not None else max(1.0, 10 * debounce)
        self.max_busy = max_busy if max_busy is not None else max(10.0, 50 * debounce)
        self._pending: dict[str, list[float]] = {}
        self._full_reason = "reconcile"

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, keys: Iterable[str], at: float) -> None:
        """Record events at ``at`` (monotonic seconds; a future time delays a retry)."""
        for key in keys:
            span = self._pending.get(key)
            if span is None:
                self._pending[key] = [at, at]
            else:
                span[1] = max(span[1], at)

    def add_full(self, reason: str, at: float) -> None:
        if RECONCILE not in self._pending:
            self._full_reason = reason
        self.add((RECONCILE,), at)

    def take(self, now: float) -> tuple[Batch | None, float | None]:
        """A batch that is due now, else None and the seconds until one may be (None: idle)."""
        p = self._pending
        if not p:
            return None, None
        ready = {k for k, (_, last) in p.items() if now - last >= self.debounce}
        due = len(ready) == len(p) or any(now - p[k][0] >= self.max_wait for k in ready)
        chosen = (ready if due else set()) | {
            k for k, (first, _) in p.items() if now - first >= self.max_busy
        }
        if chosen:
            if RECONCILE in chosen:  # a whole-tree run covers every pending dialogue
                p.clear()
                return Batch(frozenset(), True, self._full_reason), 0.0
            for k in chosen:
                del p[k]
            return Batch(frozenset(chosen)), 0.0
        wake = [first + self.max_busy for first, _ in p.values()]
        for k, (first, last) in p.items():
            wake.append(first + self.max_wait if k in ready else last + self.debounce)
        return None, max(0.0, min(wake) - now)


# -- logging -------------------------------------------------------------------------------


class Log:
    """One line per event on stderr: human text, or one JSON object (``--json-log``)."""

    def __init__(self, json_lines: bool = False, quiet: bool = False,
                 stream: TextIO | None = None) -> None:
        self.json_lines = json_lines
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._lock = threading.RLock()  # a signal handler may log while a line is written

    def __call__(self, event: str, message: str, *, error: bool = False, **fields: Any) -> None:
        if self.quiet and not error:
            return
        if self.json_lines:
            line = json.dumps({"time": _now_iso(), "event": event, **fields, "message": message},
                              ensure_ascii=False, default=str)
        else:
            line = f"{datetime.now().strftime('%H:%M:%S')} blue-index watch: {message}"
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed stderr must not kill the daemon


def _ids(dialogues: Iterable[str], limit: int = 5) -> str:
    ids = sorted(dialogues)
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def _report_fields(report: Any) -> dict[str, Any]:
    """The counts of a SyncReport worth a log line (missing attributes read as 0)."""
    fields = {k: getattr(report, k, 0) for k in (
        "files_seen", "parsed", "unchanged", "deleted", "dialogues_written",
        "items_written", "items_deleted")}
    diags = getattr(report, "diagnostics", None)
    if isinstance(diags, dict):
        fields["diagnostics"] = diags
    elif diags is not None:
        try:
            fields["diagnostics"] = len(diags)
        except TypeError:
            fields["diagnostics"] = diags
    return fields


# -- observers -----------------------------------------------------------------------------


_EVENT_TYPES = (
    "FileCreatedEvent", "FileDeletedEvent", "FileModifiedEvent", "FileMovedEvent",
    "FileClosedEvent", "DirCreatedEvent", "DirDeletedEvent", "DirMovedEvent",
)


def _event_filter() -> list[type]:
    """Only events that can change content: no open/close-nowrite (our own reads!)."""
    import watchdog.events as ev

    return [getattr(ev, name) for name in _EVENT_TYPES]


def _native_observer(report: Callable[[str, OSError | None], None]) -> Any:
    """An inotify observer that tells us what watchdog otherwise only logs or swallows.

    watchdog 7 handles ``IN_Q_OVERFLOW`` by re-adding watches (events are still lost) and
    skips sub-folders whose ``add_watch`` fails (ENOSPC: the watch limit). Both are
    reported through ``report`` from a thin ``InotifyFD`` subclass.
    """
    try:
        from watchdog.observers.api import BaseObserver
        from watchdog.observers.inotify import InotifyEmitter
        from watchdog.observers.inotify_c import InotifyFD
    except (ImportError, OSError):  # not Linux: the platform's native observer, as is
        from watchdog.observers import Observer

        return Observer()

    # A folder moved out and back in reuses its stale watch; watchdog warns, harmlessly.
    warnings.filterwarnings("ignore", message="Callback with id .* already exists",
                            category=RuntimeWarning)

    class ReportingFD(InotifyFD):
        def add_callback(self, path: bytes, mask: Any, callback: Any, id_: Any) -> Any:
            try:
                return super().add_callback(path, mask, callback, id_)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EMFILE):
                    report("limit", e)
                raise

        def handle_event(self, event: Any) -> None:
            try:
                super().handle_event(event)
            finally:
                if event.is_queue_overflow:
                    report("overflow", None)

    class NativeObserver(BaseObserver):
        def __init__(self) -> None:
            self._fd = ReportingFD()
            self._fd.start()
            super().__init__(InotifyEmitter, timeout=1.0, inotify_fd=self._fd)

        def on_thread_stop(self) -> None:
            super().on_thread_stop()
            self._fd.stop()
            if self._fd.is_alive():
                self._fd.join()

    return NativeObserver()


# -- the daemon ----------------------------------------------------------------------------


class Daemon:
    """Watch ``root`` (and ``more_roots``) and keep the store in step through
    ``open_sync()``'s function.

    ``open_sync`` is called in the worker thread (SQLite connections belong to the thread
    that opened them); if its result has ``close()``, that is called on exit. ``root`` is
    the primary root: its loss and return are followed (wait, re-arm, reconcile); the other
    roots are watched when they exist at start (a root created later needs a restart).
    """

    def __init__(self, root: Path, open_sync: Callable[[], SyncFn], *,
                 more_roots: Iterable[Path] = (),
                 debounce: float = 0.1, log: Log | None = None,
                 status_file: Path | None = None, polling: bool = False,
                 poll_interval: float = POLL_INTERVAL,
                 extra_status: dict[str, Any] | None = None) -> None:
        self.root = Path(os.path.abspath(root))
        self.roots = [self.root] + [p for p in (Path(os.path.abspath(r)) for r in more_roots)
                                    if p != self.root]
        self.open_sync = open_sync
        self.debounce = debounce
        self.log = log or Log()
        self.status_file = status_file
        self.polling = polling
        self.poll_interval = poll_interval
        self.syncs = 0
        self.reconciles = 0
        self.errors = 0
        self.fatal: BaseException | None = None
        self._cond = threading.Condition(threading.RLock())  # RLock: signal handlers re-enter
        self._pending = Coalescer(debounce)
        self._stopping = False
        self._lost = False
        self._rearm_reason: str | None = None  # set when _lost is not about the root
        self._fallback: str | None = None
        self._observer: Any = None
        self._root_id: tuple[int, int] | None = None
        self._ready = False
        self._backoff = 0.5
        self._worker: threading.Thread | None = None
        self._status: dict[str, Any] = {
            "pid": os.getpid(), "started": _now_iso(), "root": str(self.root),
            "debounce_ms": round(debounce * 1000), "state": "starting", "observer": None,
            "syncs": 0, "reconciles": 0, "errors": 0, "last_sync": None,
            "last_sync_dialogues": [], "last_sync_ms": None, "last_error": None,
            **(extra_status or {}),
        }

    # called from watchdog threads (and signal handlers): record and wake the worker
    def changed(self, keys: Iterable[str]) -> None:
        with self._cond:
            self._pending.add(keys, time.monotonic())
            self._cond.notify()

    def root_lost(self) -> None:
        with self._cond:
            self._lost = True
            self._cond.notify()

    def _thread_died(self, args: Any) -> None:
        """A watchdog thread crashed: say so in one line, then re-arm and reconcile."""
        if args.thread is self._worker:
            return
        name = getattr(args.thread, "name", "?")
        self.log("error", f"file watcher thread {name} failed ({args.exc_type.__name__}: "
                 f"{args.exc_value}); restarting the watch and reconciling", error=True)
        with self._cond:
            self._lost = True
            self._rearm_reason = "watcher thread failed"
            self._cond.notify()

    def _report(self, kind: str, exc: OSError | None) -> None:
        if kind == "overflow":
            self.log("overflow", "inotify event queue overflowed (events were lost); "
                     "reconciling the whole tree", error=True)
            with self._cond:
                self._pending.add_full("overflow", time.monotonic())
                self._cond.notify()
        elif kind == "limit":
            with self._cond:
                if self._fallback is None:
                    self._fallback = str(exc)
                self._cond.notify()

    def stop(self) -> None:
        """Ask the worker to finish the sync in flight and exit."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    # lifecycle
    def start(self) -> None:
        self._worker = threading.Thread(target=self._main, name="blue-index-watch", daemon=True)
        self._worker.start()

    def join(self, timeout: float | None = None) -> None:
        if self._worker is not None:
            self._worker.join(timeout)

    def run_forever(self) -> int:
        """Run until SIGINT/SIGTERM (main thread only); re-raise a fatal start-up error."""
        stop_at: list[float] = []

        def on_signal(signum: int, _frame: Any) -> None:
            self.log("signal", f"{signal.Signals(signum).name}: finishing, then exiting",
                     signal=signal.Signals(signum).name)
            stop_at.append(time.monotonic())
            self.stop()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        hook, threading.excepthook = threading.excepthook, self._thread_died
        try:
            self.start()
            worker = self._worker
            while worker is not None and worker.is_alive():
                worker.join(0.05)
                if stop_at and time.monotonic() - stop_at[0] > STOP_GRACE and worker.is_alive():
                    self._abandon()
        finally:
            threading.excepthook = hook
            for s, h in previous.items():
                signal.signal(s, h)
        if self.fatal is not None:
            raise self.fatal
        return 0

    def _abandon(self) -> None:
        """A signal came and the sync in flight (a long reconcile, a wait on a locked store)
        did not finish within STOP_GRACE: exit now. Safe: a store write is one transaction
        (rolled back when the process dies) and the next run redoes whatever was not synced;
        the kernel releases the daemon lock."""
        self.log("stopped", f"the sync in flight did not finish within {STOP_GRACE:g}s; "
                 "exiting now (the next run redoes it)")
        self._status["state"] = "stopped"
        with contextlib.suppress(OSError):
            if self.status_file is not None:
                write_status(self.status_file, self._status)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    @property
    def status(self) -> dict[str, Any]:
        return dict(self._status)

    # the worker thread
    def _main(self) -> None:
        sync: Any = None
        try:
            sync = self.open_sync()
            self._loop(sync)
        except BaseException as e:  # noqa: BLE001 - reported by run_forever / the caller
            self.fatal = e
        finally:
            self._disarm()
            close = getattr(sync, "close", None)
            if callable(close):
                close()
            self._set_status(state="stopped")

    def _loop(self, sync: SyncFn) -> None:
        self._arm()
        with self._cond:
            self._pending.add_full("start", time.monotonic() - self.debounce)
        while True:
            with self._cond:
                if self._stopping:
                    return
                fallback, lost = self._fallback, self._lost
            if fallback is not None and not self.polling:
                self._switch_to_polling(fallback)
            elif lost:
                self._wait_for_root()
            else:
                batch = self._next_batch(sync)
                if batch is not None:
                    self._run(sync, batch)

    def _next_batch(self, sync: SyncFn | None = None) -> Batch | None:
        """The next batch due; between events, every PROBE_INTERVAL, check that the root is
        still the folder we watch (not moved away or replaced) and that the store is still
        the one we opened (``sync.stale()``): either asks for a reconcile."""
        next_probe = time.monotonic() + PROBE_INTERVAL
        with self._cond:
            while not self._stopping and not self._lost and (
                    self._fallback is None or self.polling):
                now = time.monotonic()
                if now >= next_probe:
                    next_probe = now + PROBE_INTERVAL
                    if not self._root_intact():
                        self._lost = True
                        break
                    stale = getattr(sync, "stale", None)
                    if callable(stale) and stale():
                        self._pending.add_full("store-replaced", now - self.debounce)
                batch, wait = self._pending.take(now)
                if batch is not None:
                    return batch
                self._cond.wait(min(wait, next_probe - now) if wait is not None
                                else next_probe - now)
        return None

    def _run(self, sync: SyncFn, batch: Batch) -> None:
        if not self._root_intact():
            self.root_lost()
            return
        t0 = time.perf_counter()
        try:
            report = sync(None if batch.full else batch.dialogues)
        except Exception as e:  # noqa: BLE001 - keep running; retry with backoff
            self.errors += 1
            msg = f"{e.__class__.__name__}: {e}".splitlines()[0]
            self.log("error", f"sync failed ({msg}); retrying in {self._backoff:.1f}s",
                     error=True, reason=batch.reason, error_message=msg)
            with self._cond:
                keys = (RECONCILE,) if batch.full else batch.dialogues
                self._pending.add(keys, time.monotonic() + self._backoff - self.debounce)
            self._backoff = min(self._backoff * 2, 30.0)
            self._set_status(errors=self.errors, last_error=msg)
            return
        self._backoff = 0.5
        ms = round((time.perf_counter() - t0) * 1000, 1)
        self.syncs += 1
        self.reconciles += batch.full
        fields = _report_fields(report)
        dialogues = sorted(getattr(report, "dialogues", None) or batch.dialogues) \
            if not batch.full else sorted(getattr(report, "dialogues", None) or ())
        what = f"reconciled the tree ({batch.reason})" if batch.full else \
            f"synced {_ids(batch.dialogues)}"
        self.log("sync", f"{what}: {fields.get('parsed', 0)} files parsed, "
                 f"{fields.get('items_written', 0)} items written, "
                 f"{fields.get('items_deleted', 0)} deleted, {ms} ms",
                 full=batch.full, reason=batch.reason, dialogues=sorted(batch.dialogues),
                 ms=ms, syncs=self.syncs, **fields)
        for line in [*getattr(report, "refused", ()), *getattr(report, "rejected", ())]:
            self.log("warning", line, error=True)  # shared store: not written (provenance)
        self._set_status(syncs=self.syncs, reconciles=self.reconciles, last_sync=_now_iso(),
                         last_sync_dialogues=(["*"] if batch.full else dialogues)[:50],
                         last_sync_ms=ms, state="watching")
        if not self._ready:
            self._ready = True
            self.log("ready", f"watching {self.root} ({self._status['observer']}, "
                     f"debounce {round(self.debounce * 1000)} ms)",
                     observer=self._status["observer"], root=str(self.root))

    # observers
    def _root_intact(self) -> bool:
        try:
            st = os.stat(self.root)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._root_id

    def _arm(self) -> None:
        """Start an observer on the root; if the root is missing, mark it lost."""
        try:
            st = os.stat(self.root)
        except OSError:
            st = None
        if st is None or not self.root.is_dir():
            self.root_lost()
            return
        self._root_id = (st.st_dev, st.st_ino)
        handler = _Handler(self)
        if not self.polling:
            obs = None
            try:
                obs = _native_observer(self._report)
                self._schedule(obs, handler)
                obs.start()
            except OSError as e:
                self._stop_observer(obs)
                if e.errno in (errno.ENOENT, errno.ENOTDIR):
                    self.root_lost()
                    return
                self._announce_polling(str(e))
            else:
                self._observer = obs
                self._set_status(observer="inotify")
                return
        from watchdog.observers.polling import PollingObserver

        obs = PollingObserver(timeout=self.poll_interval)
        self._schedule(obs, handler)
        obs.start()
        self._observer = obs
        self._set_status(observer="polling")

    def _schedule(self, obs: Any, handler: _Handler) -> None:
        """Watch the primary root, and each other root that is a folder now."""
        for root in self.roots:
            if root == self.root or root.is_dir():
                obs.schedule(handler, str(root), recursive=True, event_filter=_event_filter())

    @staticmethod
    def _stop_observer(obs: Any) -> None:
        if obs is None:
            return
        try:
            obs.stop()
            if obs.is_alive():
                obs.join()
        except (OSError, RuntimeError):
            pass

    def _disarm(self) -> None:
        obs, self._observer = self._observer, None
        self._stop_observer(obs)

    def _announce_polling(self, why: str) -> None:
        self.polling = True
        self.log("fallback", f"native file events unavailable ({why}); polling every "
                 f"{self.poll_interval:g}s instead. To restore inotify, raise the limit: "
                 "sudo sysctl fs.inotify.max_user_watches=524288", error=True, why=why)

    def _switch_to_polling(self, why: str) -> None:
        self._disarm()
        self._announce_polling(why)
        self._arm()
        with self._cond:
            self._pending.add_full("fallback", time.monotonic() - self.debounce)

    def _wait_for_root(self) -> None:
        """The root vanished: stop watching, poll (bounded back-off) until it is back."""
        self._disarm()
        with self._cond:
            reason, self._rearm_reason = self._rearm_reason, None
        if reason is None or not self.root.is_dir():
            what = ("does not exist yet" if self._root_id is None else
                    "disappeared (moved, removed or replaced)")
            self.log("root-lost", f"{self.root} {what}; waiting for it to appear",
                     error=True, root=str(self.root))
        self._set_status(state="waiting")
        delay = 0.05
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._lost = False
            self._arm()
            with self._cond:
                if not self._lost:
                    self._pending.add_full("root-back" if reason is None else "rearm",
                                           time.monotonic() - self.debounce)
                    break
                self._cond.wait(delay)
            delay = min(delay * 2, MAX_ROOT_POLL)
        if reason is None:
            self.log("root-back", f"{self.root} is back; reconciling", root=str(self.root))

    def _set_status(self, **fields: Any) -> None:
        self._status.update(fields)
        if self.status_file is not None:
            try:
                write_status(self.status_file, self._status)
            except OSError as e:
                self.log("error", f"cannot write {self.status_file}: {e}", error=True)


# -- the store-backed sync and the command entry point -------------------------------------


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
        from .store.factory import open_store
        from .sync import Syncer

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
    log = Log(json_lines=json_log, quiet=quiet, stream=stream)
    lock = DaemonLock(lock_path(config))
    if not lock.acquire():
        running = daemon_status(config) or {}
        pid = f" (pid {running['pid']})" if running.get("pid") else ""
        log("refused", f"another watch daemon{pid} is already running for {config.root}; "
            "stop it first or check `blue-index status`", error=True)
        return 2
    try:
        roots = config.existing_roots or config.dialogue_roots[:1]
        daemon = Daemon(roots[0], lambda: StoreSync(config, log), more_roots=roots[1:],
                        debounce=max(debounce_ms, 0) / 1000, log=log,
                        status_file=status_path(config), polling=polling,
                        extra_status={"dialogues": str(roots[0]),
                                      "dialogue_roots": [str(r) for r in roots],
                                      "backend": config.backend})
        return daemon.run_forever()
    finally:
        lock.release()
