"""Event path -> dialogue: which sync a file event asks for (pure, no watchdog import).

An event's dialogue is the first path component under its dialogue root (or the id of a
single-file dialogue ``<id>.dialogue.md`` directly under a root); events on a root itself,
on other files directly under it, or outside every root ask for a full reconcile (RECONCILE);
editor leftovers (``x.md~``, ``4913``, ``.x.swp``...), hidden folders and dotfiles (settle
cookies among them) are ignored. ``Handler`` feeds a daemon with the routed keys.
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath
from typing import Any, Protocol

from .. import cookie, layout

#: Route of an event that needs a whole-tree reconcile. No folder name contains "/".
RECONCILE = "/"


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


class Sink(Protocol):
    """What the handler feeds (the daemon)."""

    def changed(self, keys: set[str]) -> None: ...

    def root_lost(self) -> None: ...

    def cookie(self, path: str) -> None: ...


class Handler:
    """watchdog event handler (duck-typed ``dispatch``): routes events to the daemon."""

    def __init__(self, sink: Sink, root: str, roots: list[str]) -> None:
        self.sink = sink
        self.root = root
        self.roots = roots

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        if kind in ("opened", "closed_no_write", "attrib"):
            return
        if event.is_directory and kind == "modified":  # parents of every change: no news
            return
        src = os.fsdecode(event.src_path)
        if src == self.root and kind == "deleted":
            self.sink.root_lost()
            return
        if kind == "created" and not event.is_directory \
                and cookie.is_cookie(os.path.basename(src)):
            self.sink.cookie(src)  # every earlier event of this root is already routed
            return
        keys = {route_roots(self.roots, src, event.is_directory)}
        if kind == "moved":
            keys.add(route_roots(self.roots, os.fsdecode(event.dest_path), event.is_directory))
        found = {k for k in keys if k is not None}
        if found:
            self.sink.changed(found)
