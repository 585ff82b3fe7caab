"""A real LSP client (pytest-lsp's LanguageClient over stdio) driving ``blue-index lsp``.

The client records every ``publishDiagnostics`` (with its version) and every capability the
server registers; waits are bounded and say what they wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

WAIT = 20.0  # seconds: generous, the machine is shared


@dataclass
class Recorder:
    published: list[lsp.PublishDiagnosticsParams] = field(default_factory=list)
    registrations: list[lsp.Registration] = field(default_factory=list)


def make_client() -> tuple[LanguageClient, Recorder]:
    client = LanguageClient(converter_factory=default_converter)
    rec = Recorder()
    for method, func in DEFAULT_CLIENT_FEATURES.items():
        if method != lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            client.feature(method)(func)

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(ls: LanguageClient, params: lsp.PublishDiagnosticsParams) -> None:
        rec.published.append(params)

    @client.feature(lsp.CLIENT_REGISTER_CAPABILITY)
    def register(ls: LanguageClient, params: lsp.RegistrationParams) -> None:
        rec.registrations.extend(params.registrations)

    return client, rec


def capabilities(watch: bool = True) -> lsp.ClientCapabilities:
    """VS Code's capabilities; without ``watch``, a client that cannot watch files."""
    caps = client_capabilities("visual-studio-code")
    if not watch and caps.workspace is not None:
        caps.workspace.did_change_watched_files = None
    return caps


class Session:
    """One server process and its client."""

    def __init__(self, client: LanguageClient, rec: Recorder, root: Path) -> None:
        self.client, self.rec, self.root = client, rec, root
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}

    @property
    def pid(self) -> int:
        return self.client._server.pid  # type: ignore[union-attr]

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        text = path.read_bytes().decode("utf-8") if text is None else text  # CRLF kept
        self.versions[uri], self.texts[uri] = 1, text
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="markdown", version=1,
                                               text=text)))
        return uri

    def replace_all(self, uri: str, text: str) -> int:
        """A full-text change; returns the new version."""
        v = self.versions[uri] = self.versions[uri] + 1
        self.texts[uri] = text
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=v),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
        return v

    def edit(self, uri: str, line: int, start: int, end: int, new: str) -> int:
        """An incremental change on one line (ASCII columns); returns the new version."""
        v = self.versions[uri] = self.versions[uri] + 1
        lines = self.texts[uri].split("\n")
        lines[line] = lines[line][:start] + new + lines[line][end:]
        self.texts[uri] = "\n".join(lines)
        rng = lsp.Range(start=lsp.Position(line=line, character=start),
                        end=lsp.Position(line=line, character=end))
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=v),
            content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=new)]))
        return v

    def type_line(self, uri: str, text: str) -> tuple[int, int]:
        """Type ``text`` on a new line at the end, in one change: (its line, new version)."""
        lines = self.texts[uri].split("\n")
        last = len(lines) - 1
        end = len(lines[last])
        return last + 1, self.edit(uri, last, end, end, "\n" + text)

    async def diagnostics(self, uri: str, version: int | None = None,
                          after: int = 0) -> list[lsp.Diagnostic]:
        """The first diagnostics published for ``uri`` (at ``version`` when given), from the
        ``after``-th publication on."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for p in self.rec.published[after:]:
                if p.uri == uri and (version is None or p.version == version):
                    return list(p.diagnostics)
            await asyncio.sleep(0.001)
        raise AssertionError(f"no diagnostics for {uri} version {version} within {WAIT} s")

    def doc(self, uri: str) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=uri)

    async def hover(self, uri: str, line: int, char: int) -> lsp.Hover | None:
        return await self.client.text_document_hover_async(lsp.HoverParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=char)))

    async def definition(self, uri: str, line: int, char: int) -> Any:
        return await self.client.text_document_definition_async(lsp.DefinitionParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=char)))

    async def references(self, uri: str, line: int, char: int, decl: bool = False) -> Any:
        return await self.client.text_document_references_async(lsp.ReferenceParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=char),
            context=lsp.ReferenceContext(include_declaration=decl)))

    async def completion(self, uri: str, line: int, char: int) -> list[lsp.CompletionItem]:
        res = await self.client.text_document_completion_async(lsp.CompletionParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=char)))
        if res is None:
            return []
        return list(res.items if isinstance(res, lsp.CompletionList) else res)


async def start(root: Path, *extra: str, watch: bool = True) -> Session:
    """``blue-index --root ROOT [extra] lsp`` with an initialized session."""
    client, rec = make_client()
    await client.start_io(sys.executable, "-m", "indexer.cli", "--root", str(root), *extra,
                          "lsp")
    await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities(watch), root_uri=root.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))
    return Session(client, rec, root)


async def stop(s: Session) -> None:
    await s.client.shutdown_session()
    await s.client.stop()


@contextlib.asynccontextmanager
async def session(root: Path, *extra: str, watch: bool = True):  # noqa: ANN201
    """``start`` ... ``stop`` around a block."""
    s = await start(root, *extra, watch=watch)
    try:
        yield s
    finally:
        await stop(s)


def cli_json(root: Path, *argv: str) -> Any:
    """``blue-index --root ROOT ARGV`` as a subprocess; its JSON output."""
    out = subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), *argv],
                         capture_output=True, text=True, timeout=120, cwd=root)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def position_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """0-based (line, column) of the ``nth`` occurrence of ``needle`` (found in the test)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    return line, at - (text.rfind("\n", 0, at) + 1)
