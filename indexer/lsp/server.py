"""``blue-index lsp``: the pygls wiring. Each handler is a few lines over the modules beside it.

Diagnostics are published after every change, from the buffer, for every open file of the
changed dialogue (a new tension in one file resolves a target in another). Changes are
coalesced: a burst of edits (or a client that sends faster than we check) costs one
re-assembly per pause (or per check's time in a stream), never one per change in a backlog.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from ..assemble import rel_to_dialogue
from . import actions, complete, navigate, symbols
from .text import SOURCE, Codec, line_at, read_lines, span, to_lsp
from .workspace import MAX_BYTES, WATCHED_RECHECK_SECONDS, Scope, Workspace

if TYPE_CHECKING:
    from ..config import Config
    from ..dialogue import Dialogue

log = logging.getLogger(__name__)

NAME = "blue-index"
POLL_SECONDS = 2.0  # re-stat open dialogues' files when the client cannot watch files
WATCH_ID = "blue-index-watched-files"
QUIET = 0.002  # seconds without a new change before diagnostics are computed
MAX_WAIT_MIN = 0.02  # longest wait for a pause, at least (else: the last check's time)
WORKSPACE_SYMBOLS_MAX = 200


def fs_path(uri: str) -> Path:
    """A document URI as the absolute, normalised path the workspace model keys on."""
    return Path(os.path.abspath(to_fs_path(uri) or uri))


class DialogueServer(LanguageServer):
    def __init__(self, settings: dict[str, Any]) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            ver = version("blue-index")
        except PackageNotFoundError:
            ver = "0"
        super().__init__(NAME, ver)
        self.settings = settings  # root, dialogues, config_file from the command line
        self.ws = Workspace(None)
        self._pending: set[Path] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._last_cost = 0.0
        self._last_change = 0.0
        self._first_pending = 0.0
        self._poller: asyncio.Task[None] | None = None
        self.uris: dict[Path, str] = {}  # open documents: path -> the URI the client used
        self.problem: str | None = None  # shown to the user once the session is up

    # -- setup ---------------------------------------------------------------------------
    def setup(self, params: lsp.InitializeParams) -> None:
        from .. import config as config_mod

        root = self.settings.get("root")
        if root is None:
            uri = params.root_uri or (params.workspace_folders[0].uri
                                      if params.workspace_folders else None)
            path = to_fs_path(uri) if uri else params.root_path
            root = Path(path) if path else None
        try:
            cfg = config_mod.load(root=root, dialogues=self.settings.get("dialogues"),
                                  config_file=self.settings.get("config_file"))
        except Exception as e:  # noqa: BLE001 - serve files anyway; say why once
            self.problem = f"blue-index: configuration not used ({e}); serving the files alone"
            log.warning("%s", self.problem)
            self.ws = Workspace(None)
            return
        self.ws = Workspace(cfg, lambda: _open_store(cfg))

    def register_watchers(self) -> None:
        if self.problem:
            self.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning,
                                                           message=self.problem))
        caps = self.client_capabilities.workspace
        dynamic = bool(caps and caps.did_change_watched_files
                       and caps.did_change_watched_files.dynamic_registration)
        if not dynamic:
            self._poller = asyncio.get_running_loop().create_task(self._poll())
            return
        self.ws.recheck_seconds = WATCHED_RECHECK_SECONDS
        globs = [f"{r.as_posix()}/**/*" for r in self.ws.roots]
        globs += ["**/.blue/dialogues/**/*", "**/.blue/docs/dialogues/**/*"]
        watchers = [lsp.FileSystemWatcher(glob_pattern=g) for g in globs]
        params = lsp.RegistrationParams(registrations=[lsp.Registration(
            id=WATCH_ID, method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))])
        self.client_register_capability(params, None)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                for key in self.ws.recheck_open():
                    self.schedule_dialogue(key)
            except Exception:  # noqa: BLE001 - keep polling; the log says what broke
                log.exception("re-checking files failed")

    # -- diagnostics, coalesced ----------------------------------------------------------
    def schedule(self, path: Path) -> None:
        """Publish once changes pause for QUIET seconds (a client with a backlog of changes
        sends them back to back), but never wait longer than one check's time (at least
        MAX_WAIT_MIN) so a stream of edits still gets diagnostics."""
        now = time.monotonic()
        self._last_change = now
        self._pending.add(path)
        if self._handle is None:
            self._first_pending = now
            self._handle = asyncio.get_running_loop().call_later(QUIET, self._settle)

    def _settle(self) -> None:
        now = time.monotonic()
        quiet = now - self._last_change
        if quiet < QUIET and now - self._first_pending < max(self._last_cost, MAX_WAIT_MIN):
            self._handle = asyncio.get_running_loop().call_later(QUIET - quiet, self._settle)
            return
        self._flush()

    def schedule_dialogue(self, key: tuple[Scope, str]) -> None:
        for p in list(self.ws.buffers):
            loc = self.ws.locate(p)
            if loc and (loc.scope, loc.dialogue) == key:
                self.schedule(p)

    def _flush(self) -> None:
        self._handle = None
        start = time.monotonic()
        pending, self._pending = self._pending, set()
        for key in {(loc.scope, loc.dialogue) for p in pending
                    if (loc := self.ws.locate(p)) and loc.dialogue}:
            pending |= {p for p in self.ws.buffers
                        if (lc := self.ws.locate(p)) and (lc.scope, lc.dialogue) == key}
        for path in sorted(pending):
            if path in self.ws.buffers:
                try:
                    self.publish(path)
                except Exception:  # noqa: BLE001 - one file must not stop the others
                    log.exception("diagnostics failed for %s", path)
        self._last_cost = time.monotonic() - start
        log.debug("diagnostics of %d files in %.1f ms", len(pending), self._last_cost * 1000)

    def uri_of(self, path: Path) -> str:
        return self.uris.get(path) or from_fs_path(str(path)) or path.as_uri()

    def publish(self, path: Path) -> None:
        uri = self.uri_of(path)
        doc = self.workspace.get_text_document(uri)
        lines = doc.lines
        codec = Codec(self.workspace.position_codec)
        diags = [to_lsp(d, lines, codec) for d in self.ws.diagnostics(path)]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=diags, version=doc.version))

    # -- helpers for requests -------------------------------------------------------------
    def lines_of(self, path: Path) -> list[str]:
        if path in self.ws.buffers:
            return list(self.workspace.get_text_document(self.uri_of(path)).lines)
        return read_lines(path, MAX_BYTES)

    def location(self, scope: Scope, d: Dialogue, file: str, line: int, column: int | None
                 ) -> lsp.Location:
        path = self.ws.abs_path(scope, d.id, file)
        lines = self.lines_of(path)
        line0, start, end = span(lines, line, column)
        rng = Codec(self.workspace.position_codec).range(lines, line0, start, end)
        return lsp.Location(uri=self.uri_of(path), range=rng)

    def target(self, uri: str, position: lsp.Position
               ) -> tuple[Scope, Dialogue, navigate.Target, lsp.Range] | None:
        path = fs_path(uri)
        found = self.ws.for_path(path)
        if found is None or found[1] is None:
            return None
        loc, d, _ = found
        lines = self.lines_of(path)
        codec = Codec(self.workspace.position_codec)
        text = line_at(lines, position.line)
        for token in navigate.tokens_at(text, codec.char(lines, position)):
            t = navigate.target_of(d, loc.rel, loc.place.role, loc.place.round,
                                   position.line + 1, token)
            if t is not None:
                return loc.scope, d, t, codec.range(lines, position.line, token.start,
                                                    token.end)
        return None


def _open_store(cfg: Config) -> Any:
    """The configured store, read only; None before the first ``reindex`` (files only)."""
    if cfg.backend == "sqlite" and cfg.sqlite_path is not None and not cfg.sqlite_path.exists():
        return None
    from ..store.factory import open_store

    return open_store(cfg, create=False)


def build(settings: dict[str, Any]) -> DialogueServer:
    server = DialogueServer(settings)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: DialogueServer, params: lsp.InitializeParams) -> None:
        ls.setup(params)

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: DialogueServer, params: lsp.InitializedParams) -> None:
        ls.register_watchers()

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DialogueServer, params: lsp.DidOpenTextDocumentParams) -> None:
        _sync(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DialogueServer, params: lsp.DidChangeTextDocumentParams) -> None:
        _sync(ls, params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DialogueServer, params: lsp.DidCloseTextDocumentParams) -> None:
        path = fs_path(params.text_document.uri)
        loc = ls.ws.locate(path)
        ls.ws.close(path)
        ls.uris.pop(path, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))
        if loc and loc.dialogue:
            ls.schedule_dialogue((loc.scope, loc.dialogue))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: DialogueServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            key = ls.ws.file_changed(fs_path(change.uri))
            if key is not None:
                ls.schedule_dialogue(key)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls: DialogueServer, params: lsp.HoverParams) -> lsp.Hover | None:
        hit = ls.target(params.text_document.uri, params.position)
        if hit is None:
            return None
        _, d, t, rng = hit
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                                    value=navigate.hover_markdown(d, t)),
                         range=rng)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: DialogueServer, params: lsp.DefinitionParams) -> lsp.Location | None:
        hit = ls.target(params.text_document.uri, params.position)
        if hit is None:
            return None
        scope, d, t, _ = hit
        loc = ls.ws.locate(fs_path(params.text_document.uri))
        here = (rel_to_dialogue(d.id, loc.rel), params.position.line + 1) if loc else None
        place = navigate.definition_place(t, here)
        return ls.location(scope, d, *place) if place else None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls: DialogueServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
        hit = ls.target(params.text_document.uri, params.position)
        if hit is None:
            return []
        scope, d, t, _ = hit
        places = navigate.reference_places(d, t, params.context.include_declaration)
        return [ls.location(scope, d, *p) for p in places]

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(ls: DialogueServer, params: lsp.DocumentSymbolParams
                        ) -> list[lsp.DocumentSymbol]:
        return _document_symbols(ls, fs_path(params.text_document.uri))

    @server.feature(lsp.WORKSPACE_SYMBOL)
    def workspace_symbol(ls: DialogueServer, params: lsp.WorkspaceSymbolParams
                         ) -> list[lsp.SymbolInformation]:
        return _workspace_symbols(ls, params.query)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                    lsp.CompletionOptions(trigger_characters=["[", " ", ","]))
    def completion(ls: DialogueServer, params: lsp.CompletionParams) -> lsp.CompletionList:
        path = fs_path(params.text_document.uri)
        found = ls.ws.for_path(path)
        if found is None:
            return lsp.CompletionList(is_incomplete=False, items=[])
        loc, d, _ = found
        lines = ls.lines_of(path)
        text = line_at(lines, params.position.line)
        char = Codec(ls.workspace.position_codec).char(lines, params.position)
        items = [lsp.CompletionItem(
            label=o.label, detail=o.detail,
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                            value=o.documentation) if o.documentation else None,
            kind=lsp.CompletionItemKind.Keyword if o.keyword else lsp.CompletionItemKind.Reference,
            data={"key": o.key} if o.key else None)
            for o in complete.offers(text[:char], d, loc.place.round)]
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: DialogueServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return _code_actions(ls, params)

    return server


def _sync(ls: DialogueServer, uri: str) -> None:
    """Mirror the client's buffer (pygls applied the change) into the model; schedule."""
    path = fs_path(uri)
    doc = ls.workspace.get_text_document(uri)
    ls.uris[path] = uri
    ls.ws.open(path, doc.version, doc.source)
    ls.schedule(path)


def _document_symbols(ls: DialogueServer, path: Path) -> list[lsp.DocumentSymbol]:
    found = ls.ws.for_path(path)
    if found is None:
        return []
    _, _, pf = found
    lines = ls.lines_of(path)
    codec = Codec(ls.workspace.position_codec)

    def rng(first: int, last: int) -> lsp.Range:
        a = codec.range(lines, first - 1, 0, 0)
        b = codec.range(lines, last - 1, 0, len(line_at(lines, last - 1)))
        return lsp.Range(start=a.start, end=b.end)

    def node(o: symbols.Outline) -> lsp.DocumentSymbol:
        b = o.block
        line0, s, e = span(lines, b.line, b.column)
        sel = codec.range(lines, line0, s, e)
        full = rng(b.line, max(b.end_line or b.line, b.line))
        return lsp.DocumentSymbol(
            name=symbols.name_of(b.keyword, b.raw_id, b.label, b.targets),
            kind=symbols.kind_of(b.kind), range=full, selection_range=sel,
            detail=b.kind, children=[node(c) for c in o.children] or None)

    if pf is None:
        return []
    out = [node(o) for o in symbols.outline(pf)]
    for ident, label, line, status in symbols.ledger_rows(pf):
        r = rng(line, line)
        out.append(lsp.DocumentSymbol(name=f"{ident} {label}".strip()[:symbols.NAME_MAX],
                                      kind=lsp.SymbolKind.Event, range=r, selection_range=r,
                                      detail=status))
    return out


def _workspace_symbols(ls: DialogueServer, query: str) -> list[lsp.SymbolInformation]:
    words = query.lower().split()
    out: list[lsp.SymbolInformation] = []
    loaded = ls.ws.loaded()
    for scope, did in loaded:
        d = ls.ws.dialogue(scope, did)
        for e in d.blocks:
            b = e.block
            if b.inline or not (words and symbols.matches(words, b.label, b.raw_id, b.id)):
                continue
            out.append(lsp.SymbolInformation(
                name=symbols.name_of(b.keyword, b.raw_id, b.label, b.targets),
                kind=symbols.kind_of(b.kind), container_name=did,
                location=ls.location(scope, d, e.file, b.line, b.column)))
            if len(out) >= WORKSPACE_SYMBOLS_MAX:
                return out
    store = ls.ws.store()
    if store is None or not words:
        return out
    done = {did for _, did in loaded}
    try:
        hits = store.search(" ".join(words) + "*", limit=WORKSPACE_SYMBOLS_MAX)
    except Exception as e:  # noqa: BLE001 - a query the index cannot read: memory only
        log.warning("index search failed: %s", e)
        return out
    for item in hits:
        did = item.get("dialogue_id") or ""
        if did in done:
            continue
        if not ls.ws.roots:
            continue
        path = ls.ws.abs_path(tuple(ls.ws.roots), did, item.get("file") or "")
        line0 = max((item.get("line") or 1) - 1, 0)
        pos = lsp.Position(line=line0, character=0)
        out.append(lsp.SymbolInformation(
            name=symbols.name_of(item.get("keyword") or "", item.get("raw_id"),
                                 item.get("label"), item.get("targets")),
            kind=symbols.kind_of(item.get("block_kind")), container_name=did,
            location=lsp.Location(uri=ls.uri_of(path),
                                  range=lsp.Range(start=pos, end=pos))))
        if len(out) >= WORKSPACE_SYMBOLS_MAX:
            break
    return out


def _code_actions(ls: DialogueServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    uri = params.text_document.uri
    path = fs_path(uri)
    lines = ls.lines_of(path)
    codec = Codec(ls.workspace.position_codec)
    first, last = params.range.start.line + 1, params.range.end.line + 1
    sent = [x for x in params.context.diagnostics if x.source == SOURCE]
    out = []
    for d in ls.ws.diagnostics(path):
        if d.line is None or not first <= d.line <= last:
            continue
        fix = actions.fix_for(d.code, line_at(lines, d.line - 1), d.line - 1, d.column)
        if fix is None:
            continue
        rng = codec.range(lines, fix.line0, fix.start, fix.end)
        linked = [x for x in sent if x.code == d.code and x.range.start.line == d.line - 1]
        out.append(lsp.CodeAction(
            title=fix.title, kind=lsp.CodeActionKind.QuickFix, diagnostics=linked or None,
            is_preferred=True,
            edit=lsp.WorkspaceEdit(changes={uri: [lsp.TextEdit(range=rng, new_text=fix.new)]})))
    return out


def serve(root: Path | None = None, dialogues: Path | None = None,
          config_file: Path | None = None) -> None:
    """Run the server on stdin/stdout until the client says exit."""
    build({"root": root, "dialogues": dialogues, "config_file": config_file}).start_io()
