"""The file-watch daemon: watchdog events -> per-dialogue debounce -> ``Syncer.run``.

- ``routing``: event path -> dialogue id (or a whole-tree reconcile), the event handler;
- ``debounce``: pending dialogues -> the next batch (``Coalescer``);
- ``daemon``: the daemon's lifecycle (observers, root loss, signals, status file, cookies);
- ``observers``: inotify (reporting overflow and the watch limit) or polling;
- ``log``: its log through stdlib ``logging`` (stderr and ``.blue/watch.log``);
- ``command``: the store-backed sync and ``blue-index watch``.

watchdog is imported lazily (when a daemon starts): ``daemon_status`` (used by
``blue-index status``) lives in ``indexer.daemon_state`` and imports none of this.
"""

from __future__ import annotations

from ..daemon_state import daemon_status
from .command import StoreSync, watch
from .daemon import Daemon, SyncFn
from .debounce import Batch, Coalescer
from .log import Log
from .routing import RECONCILE, Handler, route, route_roots

__all__ = [
    "RECONCILE", "Batch", "Coalescer", "Daemon", "Handler", "Log", "StoreSync", "SyncFn",
    "daemon_status", "route", "route_roots", "watch",
]
