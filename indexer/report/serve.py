"""``blue-index serve``: the report's pages, rendered from the store on request.

Stdlib ``http.server``, one thread: the store object is used from the thread that opened it
(SQLite connections are per thread) and a local viewer needs no more. Before answering a
page the server asks the store for its file hashes (``all_file_hashes``: one query on
either backend) and re-renders only the dialogues whose files changed since the last
request, so a running ``watch`` (or any sync) shows up on reload. Requests only read: no
method of the store that writes is ever called from here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from . import pages
from .site import (
    ASSETS,
    CONTENT_TYPES,
    RenderedDialogue,
    SearchIndex,
    Site,
    render_dialogue,
    search_files,
)

if TYPE_CHECKING:
    from ..store.base import Store

LOOPBACK = "127.0.0.1"
DEFAULT_PORT = 8765
# Sent with every answer: the same policy the pages carry in a meta tag.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                               "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class LiveSite:
    """Pages by URL path, cached per dialogue and re-rendered when its files change."""

    def __init__(self, store: Store, dialogue_ids: list[str] | None = None) -> None:
        self.store, self.only = store, set(dialogue_ids or ())
        self.site = Site()
        self.fingerprints: dict[str, str] = {}
        self.rendered: dict[str, tuple[str, RenderedDialogue]] = {}  # id -> (fingerprint, page)
        self.shared: dict[str, bytes] = {}  # index.html, search.json, search.js
        self.renders = 0  # dialogue pages rendered (tests and logs read it)

    def refresh(self) -> None:
        """Ask the store what changed (file hashes per dialogue); forget stale pages."""
        hashes = self.store.all_file_hashes()
        ids = [d for m in self.store.dialogues() if isinstance(d := m.get("id"), str) and d]
        fps = {}
        for did in ids:
            if self.only and did not in self.only:
                continue
            text = json.dumps(sorted((hashes.get(did) or {}).items()))
            fps[did] = hashlib.sha256(text.encode()).hexdigest()
        if fps != self.fingerprints:
            self.fingerprints = fps
            self.shared.clear()
            for did in list(self.rendered):
                if self.rendered[did][0] != fps.get(did):
                    del self.rendered[did]

    def _dialogue(self, did: str) -> RenderedDialogue:
        hit = self.rendered.get(did)
        if hit is None:
            hit = (self.fingerprints[did],
                   render_dialogue(self.site, did, self.store.load(did)))
            self.rendered[did] = hit
            self.renders += 1
        return hit[1]

    def _shared(self) -> None:
        search = SearchIndex()
        rows = []
        for did in self.fingerprints:
            r = self._dialogue(did)
            rows.append(r.row)
            search.add_rows(did, r.title, r.search)
        self.shared = {"index.html": self.site.index(rows).encode(),
                       **search_files(search.document())}

    def get(self, path: str) -> tuple[str, bytes] | None:
        """``(content type, body)`` for a URL path, None when there is no such page."""
        rel = unquote(urlsplit(path).path).lstrip("/") or "index.html"
        if rel.startswith("assets/") and rel[7:] in ASSETS:
            return CONTENT_TYPES["." + rel.rsplit(".", 1)[1]], Site.asset(rel[7:])
        self.refresh()
        if rel in ("index.html", "search.json", "search.js"):
            if not self.shared:
                self._shared()
            return CONTENT_TYPES["." + rel.rsplit(".", 1)[1]], self.shared[rel]
        if rel.startswith("dialogue/"):
            names = {pages.page_name(d): d for d in self.fingerprints}
            did = names.get(rel[9:])
            if did is not None:
                return CONTENT_TYPES[".html"], self._dialogue(did).html
        return None


def make_server(live: LiveSite, host: str = LOOPBACK, port: int = DEFAULT_PORT,
                log: Callable[[str], None] | None = None) -> HTTPServer:
    """A server bound to ``host:port`` (port 0: any free port); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "blue-index"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib API
            if log:
                log(f"{self.address_string()} {format % args}")

        def _answer(self, head_only: bool) -> None:
            try:
                found = live.get(self.path)
            except Exception as e:  # noqa: BLE001 - the store may be away; say so, keep serving
                found = None
                status, body, ctype = 503, f"blue-index: {e}\n".encode(), "text/plain"
            else:
                status, body, ctype = ((200, found[1], found[0]) if found else
                                       (404, b"not found\n", "text/plain; charset=utf-8"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in SECURITY_HEADERS.items():
                self.send_header(k, v)
            self.end_headers()
            if not head_only:
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self._answer(head_only=False)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server API
            self._answer(head_only=True)

    return HTTPServer((host, port), Handler)
