"""The one sync engine (watch, reindex, hook, fresh queries): files on disk -> the store.

``disk`` lists the files (the scan: a stat each), ``engine`` decides what changed and
writes it, ``build`` makes one dialogue's items from its files, ``summary`` lets a
whole-tree run skip the dialogues unchanged since their last sync. The names below are the
package's API.
"""

from .build import build_items, settle
from .disk import Disk, dialogue_entry, scan, scan_roots, walk_files
from .engine import (
    CONFLICT_RETRIES,
    PARALLEL_MIN,
    WORKERS_ENV,
    Syncer,
    SyncReport,
    _follow_parent,
    _workers,
    item_drift,
    last_sync,
    state_file,
)

__all__ = ["CONFLICT_RETRIES", "PARALLEL_MIN", "WORKERS_ENV", "Disk", "SyncReport",
           "Syncer", "_follow_parent", "_workers", "build_items", "dialogue_entry",
           "item_drift", "last_sync", "scan", "scan_roots", "settle", "state_file",
           "walk_files"]
