"""``blue-index lsp`` end to end: a real LSP client (pytest-lsp) talking to the server process
over stdio, on copies of sample_dialogues/ and of the shared jira dialogue in temp repos.

Expected values come from the files (read here with regexes) or from the CLI run as a
subprocess (``lint --json``, ``tensions --json``, ``parse --json``), never from the server's
own modules.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from lsprotocol import types as lsp

from tests.support.lsp import cli_json, position_of, rss_kb, session

TRUNK = "2026-03-02T1015Z-trunk-based-development"
CDN = "2026-03-09T1400Z-cdn-cache-invalidation"
JIRA = "2026-03-11T1341Z-jira-cloud-integration-for-blue"
CLOSING = {"resolved", "acknowledged", "deferred"}
CLOSED = CLOSING | {"superseded"}

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.asyncio


def _repo(tmp: Path, *dialogues: Path) -> Path:
    """A temp repository with these dialogue folders under .blue/dialogues."""
    for d in dialogues:
        shutil.copytree(d, tmp / ".blue" / "dialogues" / d.name)
    return tmp


@pytest.fixture
def samples_repo(tmp_path: Path, samples_dir: Path) -> Path:
    return _repo(tmp_path, samples_dir / TRUNK, samples_dir / CDN)


@pytest.fixture
def jira_repo(tmp_path: Path, corpus_dir: Path) -> Path:
    src = corpus_dir / JIRA
    if not src.is_dir():
        pytest.skip(f"{src} not in the shared corpus")
    return _repo(tmp_path, src)


def _words(s: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", " ", (s or "").lower()).strip()


def _events(root: Path, dialogue: str) -> list[dict]:
    return cli_json(root, "tensions", dialogue, "--json")


def _touching(tensions: list[dict], file: str, line: int) -> dict:
    """The tension whose events include the marker at file:line (per ``tensions --json``)."""
    hits = [t for t in tensions if any(e["file"] == file and e["line"] == line
                                       for e in t["events"])]
    assert len(hits) == 1, (file, line, [t["key"] for t in hits])
    return hits[0]


def _place(loc: lsp.Location, folder: Path) -> tuple[str, int]:
    path = Path(loc.uri.removeprefix("file://"))
    return path.relative_to(folder).as_posix(), loc.range.start.line + 1


# -- diagnostics ---------------------------------------------------------------------------
async def test_diagnostics_equal_lint_for_every_file(tmp_path: Path, samples_dir: Path
                                                     ) -> None:
    """Same codes, lines, columns, severities and hints as ``lint --json`` (cross-file ones
    included), for every file of sample_dialogues/ (folders, single files, pool files),
    opened one by one."""
    samples_repo = tmp_path / "repo"
    shutil.copytree(samples_dir, samples_repo / ".blue" / "dialogues")
    lint = cli_json(samples_repo, "lint", "--json")
    async with session(samples_repo) as s:
        files = sorted(p for p in (samples_repo / ".blue" / "dialogues").rglob("*")
                       if p.is_file())
        assert len(files) > 60
        seen_codes = set()
        for f in files:
            rel = f.relative_to(samples_repo).as_posix()
            want = sorted((d["code"], d["line"] - 1, d["severity"], d["hint"]) for d in lint
                          if d["file"] == rel)
            text = f.read_text(encoding="utf-8")
            lines = text.split("\n")
            n = len(s.rec.published)
            uri = s.open(f)
            got = await s.diagnostics(uri, 1, after=n)
            sev = {lsp.DiagnosticSeverity.Error: "error", lsp.DiagnosticSeverity.Warning: "warning",
                   lsp.DiagnosticSeverity.Information: "info"}
            assert sorted((d.code, d.range.start.line, sev[d.severity], d.data["hint"])
                          for d in got) == want, rel
            for d in got:  # columns: the marker's '[' (or the line's text without a column)
                lw = [x for x in lint if x["file"] == rel and x["code"] == d.code
                      and x["line"] - 1 == d.range.start.line]
                col = lw[0]["column"]
                line = lines[d.range.start.line]
                expect = col - 1 if col else len(line) - len(line.lstrip())
                assert d.range.start.character == expect, (rel, d.code)
                seen_codes.add(d.code)
            s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
                text_document=s.doc(uri)))  # one open file at a time: a fast test
        assert {"unresolved-target", "marker-irregular", "unknown-keyword", "crlf",
                "ledger-unmatched", "reference-rule", "single-file-no-markers"} <= seen_codes


async def test_typing_an_unclosed_marker_and_fixing_it(samples_repo: Path) -> None:
    f = samples_repo / ".blue/dialogues" / TRUNK / "round-1/macaron.md"
    async with session(samples_repo) as s:
        uri = s.open(f)
        before = await s.diagnostics(uri, 1)
        assert not [d for d in before if d.code == "marker-unclosed"]
        typed = "[RESOLVED T01 the rollback tag"
        line, v = s.type_line(uri, typed)
        got = [d for d in await s.diagnostics(uri, v) if d.code == "marker-unclosed"]
        assert len(got) == 1
        r = got[0].range
        assert (r.start.line, r.start.character) == (line, 0)
        assert (r.end.line, r.end.character) == (line, len(typed))
        assert got[0].severity == lsp.DiagnosticSeverity.Error
        v = s.edit(uri, line, len("[RESOLVED T01"), len("[RESOLVED T01"), "]")
        after = await s.diagnostics(uri, v)
        assert not [d for d in after if d.code == "marker-unclosed"]


# -- hover, definition, references ---------------------------------------------------------
def _ledger_heading(ledger: str, ident: str) -> tuple[str, str]:
    """(label, status words) of a headings-shaped ledger entry ``### MUFFIN-T01 (R0): x``."""
    lines = ledger.split("\n")
    for i, ln in enumerate(lines):
        m = re.match(rf"#+ {re.escape(ident)}(?: \(R\d+\))?: (.*)$", ln)
        if m:
            status = next((re.sub(r"\*", "", x) for x in lines[i + 1:i + 4]
                           if x.startswith("**Status:")), "")
            return m.group(1).strip(), re.sub(r"^Status:\s*|\s+—.*$", "", status)
    raise AssertionError(f"{ident} not in the ledger")


async def test_hover_definition_references_on_a_round_1_target(samples_repo: Path) -> None:
    folder = samples_repo / ".blue/dialogues" / TRUNK
    f = folder / "round-1/muffin.md"
    text = f.read_text(encoding="utf-8")
    line, col = position_of(text, "[REFINEMENT on T01]")
    char = col + len("[REFINEMENT on ")
    tensions = _events(samples_repo, TRUNK)
    t = _touching(tensions, "round-1/muffin.md", line + 1)
    label, status = _ledger_heading((folder / "tensions.md").read_text(encoding="utf-8"),
                                    f"{t['expert'].upper()}-{t['id']}")
    raising = (folder / f"round-{t['round']}" / f"{t['expert']}.md").read_text(encoding="utf-8")
    raise_line, _ = position_of(raising, f"[TENSION {t['id']}:")
    async with session(samples_repo) as s:
        uri = s.open(f)
        h = await s.hover(uri, line, char)
        assert h is not None
        value = h.contents.value
        assert label in value and _words(status) in _words(value)
        assert (h.range.start.character, h.range.end.character) == (char, char + 3)
        d = await s.definition(uri, line, char + 1)
        assert _place(d, folder) == (f"round-{t['round']}/{t['expert']}.md", raise_line + 1)
        refs = await s.references(uri, line, char)
        assert sorted(_place(r, folder) for r in refs) == sorted(
            (e["file"], e["line"]) for e in t["events"])
        assert len(refs) >= 2
        # a position on no id: nothing
        assert await s.hover(uri, line, 1) is None


async def test_hover_on_a_typed_id_and_a_ledger_row(samples_repo: Path) -> None:
    """Dialect B (RFC 0051 ids) and the Judge's table ledger."""
    folder = samples_repo / ".blue/dialogues" / CDN
    ledger = (folder / "tensions.md").read_text(encoding="utf-8")
    rows = {m.group(1): (m.group(2).strip(), m.group(3).strip()) for m in re.finditer(
        r"^\| (T[-0-9A-Z]+) \| ([^|]+)\| ([^|]+)\|", ledger, re.M)}
    async with session(samples_repo) as s:
        uri = s.open(folder / "tensions.md")
        line, col = position_of(ledger, "| T01 |")
        h = await s.hover(uri, line, col + 3)
        assert h is not None and rows["T01"][0] in h.contents.value
        assert _words(rows["T01"][1]) in _words(h.contents.value)
        tensions = _events(samples_repo, CDN)
        d = await s.definition(uri, line, col + 3)
        raised = [t for t in tensions if _words(t["label"]) == _words(rows["T01"][0])]
        assert len(raised) == 1
        ev = next(e for e in raised[0]["events"] if e["kind"] == "raised")
        assert _place(d, folder) == (ev["file"], ev["line"])


async def test_hover_and_references_on_a_perspective(samples_repo: Path) -> None:
    folder = samples_repo / ".blue/dialogues" / CDN
    f = folder / "round-1/croissant.md"
    text = f.read_text(encoding="utf-8")
    line, col = position_of(text, "[MOVE:BRIDGE CUPCAKE-P0001")
    char = col + len("[MOVE:BRIDGE CU")
    raising = (folder / "round-0/cupcake.md").read_text(encoding="utf-8")
    rline, _ = position_of(raising, "[CUPCAKE-P0001:")
    label = re.search(r"^\[CUPCAKE-P0001: (.*)\]$", raising, re.M).group(1)
    naming = {(p.relative_to(folder).as_posix(), i + 1)  # markers naming it, read here
              for p in folder.glob("round-*/*.md") if not p.name.endswith(".prompt.md")
              for i, ln in enumerate(p.read_text(encoding="utf-8").split("\n"))
              if re.match(r"\[(RE|MOVE):[A-Z]+ [^\]]*CUPCAKE-P0001", ln)}
    assert len(naming) >= 2
    async with session(samples_repo) as s:
        uri = s.open(f)
        h = await s.hover(uri, line, char)
        assert h is not None and label in h.contents.value
        assert (h.range.start.character, h.range.end.character) == (
            col + len("[MOVE:BRIDGE "), col + len("[MOVE:BRIDGE CUPCAKE-P0001"))
        assert _place(await s.definition(uri, line, char), folder) == (
            "round-0/cupcake.md", rline + 1)
        refs = {_place(r, folder) for r in await s.references(uri, line, char)}
        assert naming <= refs
        assert ("round-0/cupcake.md", rline + 1) not in refs
        with_decl = {_place(r, folder) for r in await s.references(uri, line, char, True)}
        assert with_decl == refs | {("round-0/cupcake.md", rline + 1)}


async def test_ledger_rows_are_symbols_and_hover(samples_repo: Path) -> None:
    folder = samples_repo / ".blue/dialogues" / TRUNK
    ledger = (folder / "tensions.md").read_text(encoding="utf-8")
    heads = {i: m.group(1) for i, ln in enumerate(ledger.split("\n"))
             if (m := re.match(r"#{3,4} ([A-Z]+(?:-| R\d+-)T[-0-9A-Z]+)", ln))}
    async with session(samples_repo) as s:
        uri = s.open(folder / "tensions.md")
        syms = await s.client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=s.doc(uri)))
        assert {x.range.start.line for x in syms} == set(heads)
        assert all(x.name.startswith(heads[x.range.start.line]) for x in syms)
        for line0, ident in heads.items():  # every row's id hovers to its tension
            h = await s.hover(uri, line0, ledger.split("\n")[line0].index(ident) + 1)
            assert h is not None, ident
            label, _ = _ledger_heading(ledger, ident)
            assert label in h.contents.value, ident


def _ledger_rows(ledger: str) -> dict[str, tuple[str, int, str]]:
    """``{id: (label, 1-based line, status)}`` of a table ledger, read with a regex."""
    out = {}
    for i, ln in enumerate(ledger.split("\n")):
        m = re.match(r"\| (T\d+) \| ([^|]+?) \| ([^|]+?) \|", ln)
        if m:
            out[m.group(1)] = (m.group(2), i + 1, m.group(3).replace("*", "").strip())
    return out


async def test_jira_round_1_t01_is_the_ledger_tension(jira_repo: Path) -> None:
    folder = jira_repo / ".blue/dialogues" / JIRA
    rows = _ledger_rows((folder / "tensions.md").read_text(encoding="utf-8"))
    label, row_line, status = rows["T01"]
    f = folder / "round-1/croissant.md"
    text = f.read_text(encoding="utf-8")
    line, col = position_of(text, "[REFINEMENT on T01]")
    char = col + len("[REFINEMENT on ")
    t = _touching(_events(jira_repo, JIRA), "round-1/croissant.md", line + 1)
    async with session(jira_repo) as s:
        uri = s.open(f)
        h = await s.hover(uri, line, char + 2)
        assert h is not None
        assert label in h.contents.value
        assert status.split()[0].lower() in h.contents.value.lower()  # "Resolved R1"
        # who raised it and when: the expert tensions the Judge merged into the row
        for n in t.get("names") or []:
            assert f"{n['label']} — `{n['file']}:{n['line']}`" in h.contents.value
        # a Judge id: its definition is the ledger row (read above from tensions.md)
        d = await s.definition(uri, line, char)
        assert _place(d, folder) == ("tensions.md", row_line)
        refs = await s.references(uri, line, char)
        assert sorted(_place(r, folder) for r in refs) == sorted(
            (e["file"], e["line"]) for e in t["events"])
        assert len({p[0] for p in map(lambda r: _place(r, folder), refs)}) > 3
        # a bare T01 in round-1 prose (no marker names it) is the ledger's T01 too
        prose = next((p, ln) for p in sorted(folder.glob("round-1/*.md"))
                     if not p.name.endswith(".prompt.md")
                     for ln in p.read_text(encoding="utf-8").split("\n")
                     if not ln.lstrip("-* ").startswith("[") and not ln.startswith("#")
                     and re.search(r"(?<![\w-])T01(?![\w-])", ln))
        ptext = prose[0].read_text(encoding="utf-8")
        pline = ptext.split("\n").index(prose[1])
        pcol = re.search(r"(?<![\w-])T01(?![\w-])", prose[1]).start()
        h = await s.hover(s.open(prose[0]), pline, pcol + 1)
        assert h is not None and label in h.contents.value, prose


# -- completion ------------------------------------------------------------------------------
def _open_at(tensions: list[dict], rnd: int) -> set[str]:
    """Keys open when round ``rnd`` was written: raised before it, and not closed by the
    events of earlier rounds (replayed here: addressing never reopens; only a reopen does)."""
    out = set()
    for t in tensions:
        if t["round"] is not None and t["round"] >= rnd:
            continue
        status = "open"
        for e in sorted(t["events"], key=lambda e: e["round"] if e["round"] is not None else -1):
            if e["round"] is not None and e["round"] >= rnd:
                continue
            if e["kind"] in CLOSING:
                status = e["kind"]
            elif e["kind"] == "reopened":
                status = "reopened"
        if status not in CLOSED:
            out.add(t["key"])
    return out


async def _complete_after(s, path: Path, typed: str) -> set[str]:
    uri = s.open(path)
    await s.diagnostics(uri, 1)
    line, v = s.type_line(uri, typed)
    await s.diagnostics(uri, v)
    items = await s.completion(uri, line, len(typed))
    assert all(i.data and i.label for i in items)
    return {i.data["key"] for i in items}


async def test_completion_offers_the_ids_open_at_that_round(samples_repo: Path) -> None:
    folder = samples_repo / ".blue/dialogues" / TRUNK
    tensions = _events(samples_repo, TRUNK)
    async with session(samples_repo) as s:
        cases = ((1, "[RESOLVED "), (2, "[REFINEMENT "), (2, "[CONCESSION to Muffin on "))
        for rnd, typed in cases:
            got = await _complete_after(s, folder / f"round-{rnd}/muffin.md", typed)
            want = _open_at(tensions, rnd)
            assert got == want, (rnd, typed)
            assert want
        # after '[' the grammar's keywords
        uri = (folder / "round-1/muffin.md").as_uri()
        v = s.edit(uri, 0, 0, 0, "[\n")
        await s.diagnostics(uri, v)
        kws = {i.label for i in await s.completion(uri, 0, 1)}
        grammar = set()  # every keyword and alias of the marker grammars, read here
        for y in sorted((REPO / "grammars").glob("*.yaml")):
            doc = yaml.safe_load(y.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and "dialect" in doc:
                grammar |= {" ".join(str(k).split()) for k in (doc.get("keywords") or {})}
                grammar |= {" ".join(str(k).split()) for k in (doc.get("aliases") or {})}
        assert kws == grammar


async def test_completion_in_the_jira_dialogue(jira_repo: Path) -> None:
    folder = jira_repo / ".blue/dialogues" / JIRA
    tensions = _events(jira_repo, JIRA)
    async with session(jira_repo) as s:
        got = await _complete_after(s, folder / "round-2/muffin.md", "- [RESOLVED ")
        assert got == _open_at(tensions, 2)


# -- code actions ----------------------------------------------------------------------------
async def test_code_action_rewrites_the_irregular_form(samples_repo: Path) -> None:
    f = samples_repo / ".blue/dialogues" / TRUNK / "round-1/macaron.md"
    async with session(samples_repo) as s:
        uri = s.open(f)
        await s.diagnostics(uri, 1)
        line, v = s.type_line(uri, "[RESOLVED on T01]")
        diags = [d for d in await s.diagnostics(uri, v) if d.code == "marker-irregular"
                 and d.range.start.line == line]
        assert len(diags) == 1
        rng = lsp.Range(start=lsp.Position(line=line, character=0),
                        end=lsp.Position(line=line, character=0))
        acts = await s.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=s.doc(uri), range=rng,
            context=lsp.CodeActionContext(diagnostics=diags)))
        assert len(acts) == 1 and acts[0].kind == lsp.CodeActionKind.QuickFix
        (edit,) = acts[0].edit.changes[uri]
        assert edit.new_text == "[RESOLVED T01]"
        assert (edit.range.start.character, edit.range.end.character) == (0, 17)
        v = s.edit(uri, line, 0, 17, edit.new_text)
        assert not [d for d in await s.diagnostics(uri, v) if d.code == "marker-irregular"
                    and d.range.start.line == line]
        # an unclosed marker: closed at the end of its line
        v = s.edit(uri, line, 0, 14, "[RESOLVED T01 rollback")
        diags = [d for d in await s.diagnostics(uri, v) if d.code == "marker-unclosed"]
        acts = await s.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=s.doc(uri), range=diags[0].range,
            context=lsp.CodeActionContext(diagnostics=diags)))
        (edit,) = acts[0].edit.changes[uri]
        assert (edit.new_text, edit.range.start.character) == ("]", len("[RESOLVED T01 rollback"))


# -- symbols ---------------------------------------------------------------------------------
async def test_document_symbols_are_the_blocks(samples_repo: Path) -> None:
    f = samples_repo / ".blue/dialogues" / CDN / "round-1/cupcake.md"
    parsed = cli_json(samples_repo, "parse", str(f), "--json")
    async with session(samples_repo) as s:
        uri = s.open(f)
        syms = await s.client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=s.doc(uri)))

        def flat(xs):
            for x in xs:
                yield x
                yield from flat(x.children or [])

        got = sorted((x.selection_range.start.line + 1, x.name.split("]")[0][1:].split()[0])
                     for x in flat(syms))
        want = sorted((b["line"], b["keyword"].split()[0]) for b in parsed["blocks"])
        assert got == want
        tops = {x.selection_range.start.line + 1 for x in syms}
        assert tops == {b["line"] for b in parsed["blocks"] if b["parent"] is None}


async def test_workspace_symbols_read_the_index_and_never_write_it(samples_repo: Path) -> None:
    cli_json(samples_repo, "reindex", "--json")
    db = samples_repo / ".blue" / "blue.db"
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    async with session(samples_repo) as s:
        found = await s.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(
            query="merge queue"))
        hits = cli_json(samples_repo, "search", "merge queue*", "--json")
        assert hits
        dialogues = samples_repo / ".blue" / "dialogues"
        assert sorted((Path(x.location.uri.removeprefix("file://")).relative_to(dialogues)
                       .as_posix(), x.location.range.start.line + 1) for x in found) == sorted(
            (f"{h['dialogue']}/{h['file']}", h["line"]) for h in hits)
        # edit a buffer: the index is not touched
        f = samples_repo / ".blue/dialogues" / TRUNK / "round-1/muffin.md"
        uri = s.open(f)
        v = s.edit(uri, 0, 0, 0, "[TENSION T09: brand new]\n")
        await s.diagnostics(uri, v)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


# -- files changing on disk ----------------------------------------------------------------
async def _unresolved_after_disk_edit(s, root: Path, notify: bool) -> None:
    folder = root / ".blue/dialogues" / TRUNK
    target = folder / "round-2/strudel.md"  # targets T07, which nobody raised
    uri = s.open(target)
    first = await s.diagnostics(uri, 1)
    assert [d for d in first if d.code == "unresolved-target"]
    other = folder / "round-1/strudel.md"  # not open: strudel raises T07 there, on disk
    n = len(s.rec.published)
    other.write_text(other.read_text(encoding="utf-8") + "\n[TENSION T07: raised on disk]\n",
                     encoding="utf-8")
    if notify:
        s.client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(
            changes=[lsp.FileEvent(uri=other.as_uri(), type=lsp.FileChangeType.Changed)]))
    after = await s.diagnostics(uri, 1, after=n)
    assert not [d for d in after if d.code == "unresolved-target"]


async def test_registers_for_file_changes_and_follows_them(samples_repo: Path) -> None:
    async with session(samples_repo) as s:
        await s.diagnostics(s.open(samples_repo / ".blue/dialogues" / TRUNK / "verdict.md"), 1)
        regs = [r for r in s.rec.registrations
                if r.method == lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES]
        assert len(regs) == 1
        opts = regs[0].register_options
        globs = [w["globPattern"] if isinstance(w, dict) else w.glob_pattern
                 for w in (opts["watchers"] if isinstance(opts, dict) else opts.watchers)]
        assert f"{(samples_repo / '.blue/dialogues').resolve().as_posix()}/**/*" in globs
        await _unresolved_after_disk_edit(s, samples_repo, notify=True)


async def test_a_client_that_does_not_watch_files_does_not_go_stale(samples_repo: Path) -> None:
    async with session(samples_repo, watch=False) as s:
        await _unresolved_after_disk_edit(s, samples_repo, notify=False)
        assert not s.rec.registrations


# -- bad input ---------------------------------------------------------------------------------
async def test_bad_input_never_crashes(samples_repo: Path, tmp_path: Path) -> None:
    async with session(samples_repo) as s:
        folder = samples_repo / ".blue/dialogues" / TRUNK
        # outside the dialogue roots: no diagnostics, no answers, no error
        outside = tmp_path / "notes" / "todo.md"
        outside.parent.mkdir()
        outside.write_text("[TENSION T01 unclosed\n", encoding="utf-8")
        ou = s.open(outside)
        assert await s.hover(ou, 0, 10) is None
        assert await s.completion(ou, 0, 10) == []
        # a buffer that is no file at all
        s.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri="untitled:Untitled-1", language_id="markdown",
                                               version=1, text="[TENSION T01 x\n")))
        assert await s.diagnostics("untitled:Untitled-1", 1) == []
        assert await s.hover("untitled:Untitled-1", 0, 10) is None
        # a FIFO among the dialogue's files: never opened (it would block), said as lint says
        os.mkfifo(folder / "round-1" / "pipe.md")
        pu = s.open(folder / "round-1/muffin.md")
        await s.diagnostics(pu, 1)  # bounded wait: fails if the server blocked on the FIFO
        pl, pc = position_of(s.texts[pu], "[REFINEMENT on T01]")
        assert await s.hover(pu, pl, pc + len("[REFINEMENT on ")) is not None
        # binary content in a round file
        bu = s.open(folder / "round-2/binary.md", "[TENSION T01: x]\n\x00\x01\x02")
        assert [d.code for d in await s.diagnostics(bu, 1)] == ["binary-content"]
        # a huge buffer: one diagnostic, not parsed
        huge = "[PERSPECTIVE P01: x]\n" + ("word " * 200 + "\n") * 3000
        hu = s.open(folder / "round-2/huge.md", huge)
        assert [d.code for d in await s.diagnostics(hu, 1)] == ["buffer-too-large"]
        # a flood of changes, sent without waiting: coalesced, and the last one wins
        fu = s.open(folder / "round-2/muffin.md")
        await s.diagnostics(fu, 1)
        base = s.texts[fu]
        n = len(s.rec.published)
        for i in range(300):
            v = s.replace_all(fu, base + f"\n[TENSION T{50 + i % 40}: flood {i}\n")
        last = await s.diagnostics(fu, v, after=n)
        assert [d.range.start.line for d in last if d.code == "marker-unclosed"] == [
            base.count("\n") + 1]
        assert sum(1 for p in s.rec.published[n:] if p.uri == fu) < 300
        assert rss_kb(s.pid) < 400_000
        # the file outside the roots never got a diagnostic; the server still answers
        assert all(not p.diagnostics for p in s.rec.published if p.uri == ou)
        assert await s.completion(fu, 0, 0) == []
        assert s.client._server.returncode is None


async def test_dialogues_under_the_docs_root_are_served(tmp_path: Path, samples_dir: Path
                                                        ) -> None:
    """``.blue/docs/dialogues/<dialogue>/`` is a dialogue root too (FORMAT.md 7)."""
    folder = tmp_path / ".blue" / "docs" / "dialogues" / TRUNK
    shutil.copytree(samples_dir / TRUNK, folder)
    f = folder / "round-2" / "strudel.md"
    rel = f.relative_to(tmp_path).as_posix()
    want = sorted((d["code"], d["line"] - 1) for d in cli_json(tmp_path, "lint", rel, "--json"))
    assert ("unresolved-target", 6) in want  # cross-file: needs the whole dialogue
    async with session(tmp_path) as s:
        uri = s.open(f)
        got = await s.diagnostics(uri, 1)
        assert sorted((d.code, d.range.start.line) for d in got) == want


async def test_reads_what_the_watch_daemon_writes(samples_repo: Path) -> None:
    """A dialogue not loaded in the editor is answered from the index, as the daemon keeps it."""
    from tests.support.watch import DaemonProc, save_atomic

    cli_json(samples_repo, "reindex", "--json")
    daemon = DaemonProc(samples_repo)
    try:
        daemon.wait_ready(60)
        async with session(samples_repo) as s:
            f = samples_repo / ".blue/dialogues" / CDN / "round-2" / "brioche.md"
            marker = "[PERSPECTIVE P77: quokka telemetry]"
            text = f.read_text(encoding="utf-8").rstrip("\n") + f"\n\n{marker}\n"
            save_atomic(f, text)
            line = text.split("\n").index(marker)
            deadline = asyncio.get_running_loop().time() + 30
            found: list = []
            while not found and asyncio.get_running_loop().time() < deadline:
                found = await s.client.workspace_symbol_async(lsp.WorkspaceSymbolParams(
                    query="quokka tele")) or []
                await asyncio.sleep(0.1)
            assert found, "the daemon's write never reached workspace symbols within 30 s"
            assert [(Path(x.location.uri.removeprefix("file://")), x.location.range.start.line)
                    for x in found] == [(f, line)]
    finally:
        daemon.stop()


async def test_an_unsaved_edit_in_one_file_refreshes_the_others(samples_repo: Path) -> None:
    """The buffer wins over the file on disk, and every open file of the dialogue is
    re-checked when one changes."""
    folder = samples_repo / ".blue/dialogues" / TRUNK
    async with session(samples_repo) as s:
        a = s.open(folder / "round-2/strudel.md")  # [RESOLVED T07]: nobody raised T07
        assert [d for d in await s.diagnostics(a, 1) if d.code == "unresolved-target"]
        n = len(s.rec.published)
        b = s.open(folder / "round-1/strudel.md")
        await s.diagnostics(b, 1, after=n)
        await s.diagnostics(a, 1, after=n)  # opening b re-checks a too: let that pass
        n = len(s.rec.published)
        _, v = s.type_line(b, "[TENSION T07: raised in an unsaved buffer]")
        await s.diagnostics(b, v, after=n)
        again = await s.diagnostics(a, 1, after=n)
        assert not [d for d in again if d.code == "unresolved-target"]
        assert "T07" not in (folder / "round-1/strudel.md").read_text(encoding="utf-8")
        # closing the buffer: the file on disk counts again
        n = len(s.rec.published)
        s.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=s.doc(b)))
        back = await s.diagnostics(a, 1, after=n)
        assert [d for d in back if d.code == "unresolved-target"]


async def test_a_broken_config_is_said_once_and_files_are_still_served(
        samples_repo: Path) -> None:
    (samples_repo / ".blue" / "config.yaml").write_text("storage: [not, a, mapping\n",
                                                        encoding="utf-8")
    async with session(samples_repo) as s:
        f = samples_repo / ".blue/dialogues" / TRUNK / "round-2/strudel.md"
        got = await s.diagnostics(s.open(f), 1)
        assert [d for d in got if d.code == "unresolved-target"]
        assert len(s.client.messages) == 1
        assert "config.yaml" in s.client.messages[0].message


async def test_a_single_file_dialogue(tmp_path: Path, samples_dir: Path) -> None:
    """``.blue/docs/dialogues/<id>.dialogue.md``: the whole dialogue in one file (FORMAT.md 8)."""
    src = next(p for p in sorted(samples_dir.glob("*.dialogue.md"))
               if "[REFINEMENT on T01" in p.read_text(encoding="utf-8"))
    did = src.name.removesuffix(".dialogue.md")
    f = tmp_path / ".blue" / "docs" / "dialogues" / src.name
    f.parent.mkdir(parents=True)
    shutil.copyfile(src, f)
    rel = f.relative_to(tmp_path).as_posix()
    lint = sorted((d["code"], d["line"]) for d in cli_json(tmp_path, "lint", rel, "--json"))
    parsed = cli_json(tmp_path, "parse", str(f), "--json")
    text = f.read_text(encoding="utf-8")
    line, col = position_of(text, "[REFINEMENT on T01")
    char = col + len("[REFINEMENT on ")
    t = _touching(_events(tmp_path, did), src.name, line + 1)
    async with session(tmp_path) as s:
        uri = s.open(f)
        got = await s.diagnostics(uri, 1)
        assert sorted((d.code, d.range.start.line + 1) for d in got) == lint
        h = await s.hover(uri, line, char)
        assert h is not None and t["label"] in h.contents.value
        refs = await s.references(uri, line, char)
        assert sorted(r.range.start.line + 1 for r in refs) == sorted(
            e["line"] for e in t["events"])
        assert {r.uri for r in refs} == {uri}
        syms = await s.client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=s.doc(uri)))
        assert {x.selection_range.start.line + 1 for x in syms} >= {
            b["line"] for b in parsed["blocks"] if b["parent"] is None}
