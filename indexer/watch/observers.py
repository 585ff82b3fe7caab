"""File observers: the platform's native one (inotify, reporting what watchdog swallows)
or polling. watchdog is imported here only, when a daemon starts."""

from __future__ import annotations

import errno
import warnings
from collections.abc import Callable
from typing import Any

_EVENT_TYPES = (
    "FileCreatedEvent", "FileDeletedEvent", "FileModifiedEvent", "FileMovedEvent",
    "FileClosedEvent", "DirCreatedEvent", "DirDeletedEvent", "DirMovedEvent",
)


def event_filter() -> list[type]:
    """Only events that can change content: no open/close-nowrite (our own reads!)."""
    import watchdog.events as ev

    return [getattr(ev, name) for name in _EVENT_TYPES]


def native_observer(report: Callable[[str, OSError | None], None]) -> Any:
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
