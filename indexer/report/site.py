"""The report as files: Jinja2 templates (autoescape on) over ``pages``' dicts, and
``build``, which writes the static site of ``blue-index report``.

Layout of a report folder (the same paths ``serve`` answers)::

    index.html                  every dialogue, sortable, with a filter box
    dialogue/<id>.html          one page per dialogue (pages.page_name)
    assets/report.css, .js      the stylesheet and the one small script
    search.json                 the search index (pages.search_entries rows)
    search.js                   the same, as a script, so search works from file:// too
    .blue-index-report          marks the folder as ours (build refuses to fill another one)

jinja2 is imported here, never at CLI start-up (the hook must start fast).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from ..localstate import make_dir
from ..views import UnknownDialogue
from . import pages

if TYPE_CHECKING:
    from ..items import Items
    from ..store.base import Store

MARKER = ".blue-index-report"
ASSETS = ("report.css", "report.js")
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8",
                 ".json": "application/json; charset=utf-8"}


class ReportError(OutputError):
    """The report cannot be written where asked (exit code 2): one line, what to do."""


class Site:
    """The templates, loaded once."""

    def __init__(self) -> None:
        import jinja2

        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("indexer.report", "templates"),
            autoescape=True, trim_blocks=True, lstrip_blocks=True,
            undefined=jinja2.ChainableUndefined)
        self.env.globals["marks_legend"] = pages.svg.MARKS

    def index(self, rows: list[dict[str, Any]], title: str = "Dialogues") -> str:
        return self.env.get_template("index.html").render(rows=rows, root="", title=title)

    def dialogue(self, page: dict[str, Any]) -> str:
        return self.env.get_template("dialogue.html").render(page=page, root="../",
                                                              title=page["title"])

    @staticmethod
    def asset(name: str) -> bytes:
        return resources.files("indexer.report").joinpath("assets", name).read_bytes()


class SearchIndex:
    """The search document, filled one dialogue page at a time (pages are not kept)."""

    def __init__(self) -> None:
        self.dialogues: list[list[str]] = []
        self.entries: list[list[Any]] = []

    def add(self, page: dict[str, Any]) -> None:
        self.add_rows(page["id"], page["title"], pages.search_entries(page, 0))

    def add_rows(self, dialogue_id: str, title: str, rows: list[list[Any]]) -> None:
        """Rows from ``pages.search_entries`` (their first field is set here)."""
        n = len(self.dialogues)
        self.entries.extend([n, *row[1:]] for row in rows)
        self.dialogues.append([dialogue_id, title, "dialogue/" + pages.page_name(dialogue_id)])

    def document(self) -> dict[str, Any]:
        """``{"format", "format_version", "dialogues": [[id, title, page path]], "fields",
        "entries": [rows]}``."""
        return search_document(self.dialogues, self.entries)


def search_document(dialogues: list[list[str]], entries: list[list[Any]]) -> dict[str, Any]:
    return {"format": "blue-index-search", "format_version": 1, "dialogues": dialogues,
            "fields": ["dialogue", "href", "kind", "expert", "round", "label", "words",
                       "snippet"],
            "entries": entries}


def search_files(doc: dict[str, Any]) -> dict[str, bytes]:
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return {"search.json": text.encode(), "search.js": f"window.BLUE_SEARCH={text};\n".encode()}


def selected_ids(store: Store, wanted: list[str] | None) -> list[str]:
    """The ids to show: all dialogues in the store, or the ones asked for (each must exist)."""
    ids = [m.get("id") for m in store.dialogues() if m.get("id")]
    if not wanted:
        return ids
    missing = [d for d in wanted if d not in set(ids)]
    if missing:
        raise UnknownDialogue(missing[0], "the store")
    return list(dict.fromkeys(wanted))


@dataclass
class BuildReport:
    out: Path
    dialogues: int = 0
    files: int = 0
    bytes: int = 0
    largest: tuple[str, int] = ("", 0)
    seconds: float = 0.0
    pages: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"out": str(self.out), "dialogues": self.dialogues, "files": self.files,
                "bytes": self.bytes, "largest_page": {"path": self.largest[0],
                                                      "bytes": self.largest[1]},
                "seconds": round(self.seconds, 3)}


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out}: not a folder; give --out a folder to write the report to")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ReportError(f"{out}: folder is not empty and holds no earlier report; "
                          "give --out an empty or new folder")
    try:
        make_dir(out / "dialogue")  # .blue/report: .blue/.gitignore ignores it
        (out / "assets").mkdir(exist_ok=True)
        (out / MARKER).write_text("written by blue-index report; safe to delete\n")
    except OSError as e:
        raise ReportError(f"{out}: cannot write the report ({e.strerror}); "
                          "choose another --out") from e


@dataclass
class RenderedDialogue:
    """One dialogue's page and what the index and the search index need from it."""

    id: str
    html: bytes
    row: dict[str, Any]
    title: str
    search: list[list[Any]]  # pages.search_entries rows


def render_dialogue(site: Site, dialogue_id: str, items: Items) -> RenderedDialogue:
    page = pages.dialogue_page(items)
    page["id"] = page["id"] or dialogue_id
    return RenderedDialogue(dialogue_id, site.dialogue(page).encode(), pages.index_row(page),
                            page["title"], pages.search_entries(page, 0))


# Rendering in worker processes (forked, so they inherit the compiled templates) pays off
# from this many dialogues; the main process loads from the store and writes meanwhile.
PARALLEL_MIN = 8
_worker_site: Site | None = None


def _render_in_worker(dialogue_id: str, items: Items) -> RenderedDialogue:
    global _worker_site
    if _worker_site is None:
        _worker_site = Site()
    return render_dialogue(_worker_site, dialogue_id, items)


def _pool(dialogues: int, site: Site) -> tuple[Any, int]:
    """A process pool like the sync engine's (same worker count and orphan guard), or None
    for small runs, one core, or a threaded caller (forking threads is not safe)."""
    from ..sync import _follow_parent, _workers

    workers = _workers()
    if workers < 2 or dialogues < PARALLEL_MIN or threading.active_count() != 1:
        return None, 0
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _worker_site
    _worker_site = site
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_follow_parent, initargs=(os.getpid(),)), workers


def build(store: Store, out: Path, dialogue_ids: list[str] | None = None,
          progress: Callable[[int, int, str], None] | None = None) -> BuildReport:
    """Write the static site for the given dialogues (default: all) into ``out``. Reads the
    store only; pages left from an earlier run for dialogues no longer shown are removed.
    ``progress(done, total, dialogue)`` is called before each dialogue."""
    t0 = time.perf_counter()
    ids = selected_ids(store, dialogue_ids)
    _prepare(out)
    site, rep = Site(), BuildReport(out=out)

    def put(rel: str, data: bytes) -> None:
        (out / rel).write_bytes(data)
        rep.files += 1
        rep.bytes += len(data)
        if rel.endswith(".html"):
            rep.pages.append(rel)
            if len(data) > rep.largest[1]:
                rep.largest = (rel, len(data))

    rows, search = [], SearchIndex()

    def finish(r: RenderedDialogue) -> None:
        put("dialogue/" + pages.page_name(r.id), r.html)
        rows.append(r.row)
        search.add_rows(r.id, r.title, r.search)

    for name in ASSETS:
        put(f"assets/{name}", site.asset(name))
    pool, workers = _pool(len(ids), site)
    window: deque[Any] = deque()
    try:
        for n, did in enumerate(ids):
            if progress:
                progress(n, len(ids), did)
            items = store.load(did)
            if pool is None:
                finish(render_dialogue(site, did, items))
                continue
            window.append(pool.submit(_render_in_worker, did, items))
            while len(window) > 2 * workers + 1:
                finish(window.popleft().result())
        while window:
            finish(window.popleft().result())
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    put("index.html", site.index(rows).encode())
    for rel, data in search_files(search.document()).items():
        put(rel, data)
    keep = {pages.page_name(d) for d in ids}
    for old in (out / "dialogue").glob("*.html"):
        if old.name not in keep:
            old.unlink()
    rep.dialogues = len(ids)
    rep.seconds = time.perf_counter() - t0
    return rep
