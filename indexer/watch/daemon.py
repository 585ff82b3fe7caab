"""The watch daemon: file events -> per-dialogue debounce -> one sync function.

One code path: every sync, the start-up reconcile included, is the sync function called with
``None`` (the whole tree) or some dialogue ids; the daemon only decides *which* dialogues to
sync and *when*. Lost events (inotify queue overflow), a lost watch root and the inotify
watch limit each give one log line and a full reconcile; the watch limit switches to
polling. A settle cookie (indexer/cookie.py) makes everything pending due at once, and is
answered after that sync. The worker sleeps on a Condition, so an idle daemon uses no CPU.
Its status (``.blue/watch.json``) is rewritten after each sync.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .. import cookie
from ..daemon_state import write_status
from .debounce import Batch, Coalescer
from .log import Log, now_iso
from .observers import event_filter, native_observer
from .routing import RECONCILE, Handler

#: A sync function: ``None`` = reconcile the whole tree, else these dialogue ids.
SyncFn = Callable[[frozenset[str] | None], Any]

MAX_ROOT_POLL = 2.0  # seconds between existence checks while the root is missing
PROBE_INTERVAL = 1.0  # seconds between checks that the root and the store are still theirs
STOP_GRACE = 0.8  # seconds a signal waits for the sync in flight before the process exits
POLL_INTERVAL = 1.0  # seconds between snapshots when polling instead of inotify


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
        # settle cookies seen and not answered yet: (path, sync errors when it was seen)
        self._cookies: list[tuple[str, int]] = []
        self._status: dict[str, Any] = {
            "pid": os.getpid(), "started": now_iso(), "root": str(self.root),
            "debounce_ms": round(debounce * 1000), "state": "starting", "observer": None,
            "syncs": 0, "reconciles": 0, "errors": 0, "last_sync": None,
            "last_sync_dialogues": [], "last_sync_ms": None, "last_error": None,
            "settle": cookie.PROTOCOL,
            **(extra_status or {}),
        }

    # called from watchdog threads (and signal handlers): record and wake the worker
    def changed(self, keys: Iterable[str]) -> None:
        with self._cond:
            self._pending.add(keys, time.monotonic())
            self._cond.notify()

    def cookie(self, path: str) -> None:
        """A query's settle cookie: every event before it is pending (one inotify queue,
        in order), so make all of that due now; the worker answers after syncing it."""
        with self._cond:
            self._pending.flush()
            self._cookies.append((path, self.errors))
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
            with self._cond:
                left, self._cookies = self._cookies, []
            for path, _ in left:  # stopping: the query falls back to syncing itself
                cookie.answer(path, False)
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
                batch, cookies = self._next_batch(sync)
                ok = self._run(sync, batch) if batch is not None else True
                for path, errors in cookies:  # answered after the sync they asked for
                    cookie.answer(path, ok and errors == self.errors)

    def _next_batch(self, sync: SyncFn | None = None
                    ) -> tuple[Batch | None, list[tuple[str, int]]]:
        """The next batch due, and the cookies to answer once it has run (they made every
        earlier event due: the batch covers them); between events, every PROBE_INTERVAL,
        check that the root is still the folder we watch (not moved away or replaced) and
        that the store is still the one we opened (``sync.stale()``): either asks for a
        reconcile."""
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
                if batch is not None or self._cookies:
                    cookies, self._cookies = self._cookies, []
                    return batch, cookies
                self._cond.wait(min(wait, next_probe - now) if wait is not None
                                else next_probe - now)
        return None, []

    def _run(self, sync: SyncFn, batch: Batch) -> bool:
        """One sync; False when it failed (retried later with back-off) or the root is lost."""
        if not self._root_intact():
            self.root_lost()
            return False
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
            return False
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
        self._set_status(syncs=self.syncs, reconciles=self.reconciles, last_sync=now_iso(),
                         last_sync_dialogues=(["*"] if batch.full else dialogues)[:50],
                         last_sync_ms=ms, state="watching")
        if not self._ready:
            self._ready = True
            self.log("ready", f"watching {self.root} ({self._status['observer']}, "
                     f"debounce {round(self.debounce * 1000)} ms)",
                     observer=self._status["observer"], root=str(self.root))
        return True

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
        handler = Handler(self, str(self.root), [str(r) for r in self.roots])
        if not self.polling:
            obs = None
            try:
                obs = native_observer(self._report)
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

    def _schedule(self, obs: Any, handler: Handler) -> None:
        """Watch the primary root, and each other root that is a folder now."""
        for root in self.roots:
            if root == self.root or root.is_dir():
                obs.schedule(handler, str(root), recursive=True, event_filter=event_filter())

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
