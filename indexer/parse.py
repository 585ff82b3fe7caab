"""One file's bytes -> ParsedFile: markers, bodies and diagnostics (FORMAT.md 2, 3, 5).

Markdown structure comes from markdown-it-py *block* tokens (the core inline rule is off:
inline tokens keep their ``content`` without children), so code blocks, fences and HTML
blocks are never searched. Markers are then read line by line only where one can stand: a
line of a paragraph or heading, or a table cell. Bodies are sliced from the source lines
between a marker and the next marker, thematic break or heading. Everything is linear in the
size of the file.

The parts: this module walks the tokens and places blocks and bodies; ``inline.py`` scans
one line (brackets, code spans, inline markers); ``marker.py`` reads what a marker says.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from typing import Any

from . import diagnostics as diag
from . import layout
from .grammar import Grammar, GrammarError
from .grammar import load as load_grammar
from .inline import Spans, code_spans, in_spans, inline_markers, match_bracket
from .marker import Marker, MarkerReader
from .model import Block, Diagnostic, ParsedFile, Ref

MARKER_ROLES = frozenset({layout.RESPONSE, layout.VERDICT})
SINGLE_ROLES = layout.SINGLE_FILE_ROLES  # markers and structure: indexer/single_file.py
JUDGE_ROLES = frozenset({layout.LEDGER, layout.SCOREBOARD, layout.SUMMARY, layout.VERDICT,
                         layout.POOL, layout.PANEL, layout.PROMPT})
TEXT_ROLES = MARKER_ROLES | JUDGE_ROLES | SINGLE_ROLES | {layout.PROMPT}

_md: Any = None


def markdown() -> Any:
    """The process-wide block-level parser (built once)."""
    global _md
    if _md is None:
        from markdown_it import MarkdownIt

        # 'reference' off: `[TENSION T01]: x` is a marker, not a link reference definition.
        _md = MarkdownIt("commonmark").enable("table").disable(["inline", "reference"])
    return _md


# -- bytes -> text ----------------------------------------------------------------------
def decode(data: bytes, path: str = "") -> tuple[str | None, list[Diagnostic]]:
    """Text with LF line endings, and encoding diagnostics; None for binary content."""
    out: list[Diagnostic] = []
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        return None, [diag.make("binary-content", path, line)]
    if data.startswith(b"\xef\xbb\xbf"):
        out.append(diag.make("bom", path, 1, 1))
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        out.append(diag.make("invalid-utf8", path, line, col, byte=data[e.start]))
        text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        i = text.index("\r")
        out.append(diag.make("crlf", path, text.count("\n", 0, i) + 1))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, out


# -- Markdown walk -------------------------------------------------------------------------
_LEAVES = frozenset({"paragraph_open", "heading_open", "fence", "code_block", "html_block",
                     "hr", "table_open"})
_CONTAINER_PREFIX = re.compile(r"^(?:[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+[ \t]*")


def _too_deep(tokens: list[Any], lines: list[str], limit: int) -> list[int]:
    """0-based lines markdown-it dropped because containers (quotes, lists) nest deeper than
    its ``maxNesting``: non-blank lines inside a container that no leaf block covers."""
    if not tokens or max(t.level for t in tokens) < limit - 1:
        return []
    covered = bytearray(len(lines) + 1)
    for t in tokens:
        if t.type in _LEAVES and t.map:
            covered[t.map[0]:t.map[1]] = b"\1" * (t.map[1] - t.map[0])
    return [n for n, ln in enumerate(lines) if not covered[n] and ln.strip()]


class _FileParser:
    def __init__(self, text: str, g: Grammar, path: str, expert: str | None) -> None:
        self.g = g
        self.path = path
        self.lines = text.split("\n")
        self.reader = MarkerReader(g, expert)
        self.blocks: list[Block] = []
        self.diags: list[Diagnostic] = []
        self.terminators: list[int] = []  # 0-based lines that end a body
        self.body_start: dict[int, tuple[int, str]] = {}  # block index -> (line0, first text)
        self.current: int | None = None  # block an inline marker stands in
        self.entity: int | None = None  # nearest preceding entity block
        self.setext_break: int | None = None
        self.headings: list[tuple[int, int, str]] = []  # (line0, level, text)
        self.level = 1  # level of the heading being read
        self.tokens: list[Any] = []  # markdown-it's block tokens (single_file.py reads them too)

    def problem(self, code: str, line0: int, col: int | None, **fields: Any) -> None:
        self.diags.append(diag.make(code, self.path, line0 + 1, col, **fields))

    def run(self, text: str) -> tuple[list[Block], list[Diagnostic]]:
        tokens = self.tokens = markdown().parse(text)
        cell = False
        heading: tuple[int, int] | None = None
        for t in tokens:
            tt = t.type
            if tt == "inline":
                if heading is not None:
                    self.heading(t.content, *heading)
                    heading = None
                elif cell:
                    if "[" in t.content:
                        self.cell(t.content, t.map[0])
                elif "[" in t.content:
                    self.paragraph(t.content, t.map[0])
            elif tt == "heading_open":
                heading = (t.map[0], t.map[1])
                self.level = int(t.tag[1:])
                if t.markup in ("-", "=") and t.map[1] - t.map[0] > 2:
                    # Setext underline after several lines: a paragraph then a break, as
                    # writers mean it (`text\n---`), not a multi-line heading.
                    heading = None
                    self.setext_break = t.map[1] - 1
            elif tt == "heading_close":
                if self.setext_break is not None:
                    self.terminators.append(self.setext_break)
                    self.current = None
                    self.setext_break = None
            elif tt == "hr":
                self.terminators.append(t.map[0])
                self.current = None
            elif tt in ("td_open", "th_open"):
                cell = True
            elif tt in ("td_close", "th_close"):
                cell = False
        deep = _too_deep(tokens, self.lines, markdown().options["maxNesting"])
        if deep:
            self.deep(deep)
        self.finish()
        return self.blocks, self.diags

    def deep(self, lines0: list[int]) -> None:
        """Lines markdown-it did not read (nesting limit): read each as a plain line once
        its quote and list prefixes are cut, so no marker is lost; say so once."""
        self.problem("nesting-too-deep", lines0[0], None,
                     limit=markdown().options["maxNesting"])
        for n in lines0:
            ln = _CONTAINER_PREFIX.sub("", self.lines[n])
            if "[" in ln:
                spans = code_spans(ln) if "`" in ln else None
                self.line(ln, n, body_from=n + 1, spans=spans, base=0)

    # -- places where markers stand ------------------------------------------------------
    def heading(self, content: str, line0: int, end0: int) -> None:
        self.headings.append((line0, self.level, content))
        self.terminators.append(line0)
        self.current = None
        if "[" in content:
            spans = code_spans(content) if "`" in content else None
            self.line(content, line0, body_from=end0, spans=spans, base=0)

    def paragraph(self, content: str, line0: int) -> None:
        spans = code_spans(content) if "`" in content else None
        base = 0
        for i, ln in enumerate(content.split("\n")):
            if "[" in ln:
                self.line(ln, line0 + i, body_from=line0 + i + 1, spans=spans, base=base)
            base += len(ln) + 1

    def cell(self, content: str, line0: int) -> None:
        spans = code_spans(content) if "`" in content else None
        self.inline_markers(content, 0, line0, spans, 0)

    def line(self, ln: str, line0: int, body_from: int, spans: Spans | None,
             base: int) -> None:
        s = ln.lstrip(" \t")
        lead = len(ln) - len(s)
        k = 0
        while k < 3 and k < len(s) and s[k] in "*_":
            k += 1
        pos = lead
        if k < len(s) and s[k] == "[" and not (spans and in_spans(spans, base + lead + k)):
            pos = self.line_marker(ln, s, lead, k, line0, body_from)
        self.inline_markers(ln, pos, line0, spans, base)

    def column(self, line0: int, text: str, offset: int) -> int:
        src = self.lines[line0] if line0 < len(self.lines) else ""
        at = src.find(text)
        return (at if at >= 0 else 0) + offset + 1

    def line_marker(self, ln: str, s: str, lead: int, k: int, line0: int, body_from: int) -> int:
        """Read a marker at the start of a line; return where inline scanning resumes."""
        close = match_bracket(s, k)
        if close < 0:
            inner = s[k + 1:]
            m = self.g.head_re.match(inner) or self.g.typed_head_re.match(inner)
            if m:
                self.problem("marker-unclosed", line0, self.column(line0, s, k),
                             keyword=m.group(0).strip())
            return lead + k + 1
        after = s[close + 1:]
        if after[:1] in ("(", "["):  # a link, not a marker
            return lead + close + 1
        mk = self.reader.read(s[k + 1:close])
        if mk is None:
            return lead + k + 1
        col = self.column(line0, s, k)
        strip = " \t*_" if k else " \t"
        after = after.lstrip(strip)
        if after.startswith(":"):
            after = after[1:].lstrip(strip)
        self.reader.targets_after(mk, after)
        idx = self.add(mk, line0, col, inline=False)
        self.terminators.append(line0)
        self.body_start[idx] = (body_from, after)
        self.current = idx
        return lead + close + 1

    def inline_markers(self, ln: str, pos: int, line0: int, spans: Spans | None,
                       base: int) -> None:
        if "[" not in ln[pos:]:
            return
        col0 = None
        for i, close, mk in inline_markers(self.g, self.reader, ln, pos, spans, base):
            if col0 is None:  # once per line, whatever the number of markers
                st = ln.lstrip(" \t")
                col0 = self.column(line0, st, 0) - (len(ln) - len(st))
            self.reader.targets_after(mk, ln[close + 1:].lstrip(" \t*_:"))
            self.add(mk, line0, col0 + i, inline=True)

    # -- blocks --------------------------------------------------------------------------
    def add(self, mk: Marker, line0: int, col: int, inline: bool) -> int:
        for code, fields in mk.problems:
            self.problem(code, line0, col, **fields)
        rule = mk.rule
        parent = self.current if inline else None
        if rule is not None and rule.attach == "entity":
            parent = self.entity
            if parent is None:
                self.problem("reference-orphan", line0, col, keyword=mk.keyword)
        b = Block(kind=mk.kind, keyword=mk.keyword, line=line0 + 1, column=col,
                  end_line=line0 + 1, id=mk.id, raw_id=mk.raw_id, label=mk.label,
                  targets=mk.targets, inline=inline, parent=parent)
        self.blocks.append(b)
        idx = len(self.blocks) - 1
        if not inline and self.g.is_entity(mk.kind):
            self.entity = idx
        return idx

    def finish(self) -> None:
        lines = self.lines
        terms = self.terminators
        terms.sort()
        seen: dict[str, int] = {}
        g = self.g
        for idx, b in enumerate(self.blocks):
            if not b.inline:
                line0 = b.line - 1
                body_from, first = self.body_start[idx]
                end = terms[bisect.bisect_right(terms, line0)] if terms[-1] > line0 else len(lines)
                body_from = min(body_from, end)
                last = end - 1
                while last >= body_from and not lines[last].strip():
                    last -= 1
                rest = "\n".join(lines[body_from:last + 1])
                b.body = (first + "\n" + rest).strip() if rest else first.strip()
                b.end_line = last + 1 if last >= body_from else b.line
                if b.id and b.id.split("-")[-1] not in g.placeholders:
                    if b.id in seen:
                        self.problem("duplicate-id", line0, b.column, id=b.id,
                                     first=seen[b.id], kind=b.kind)
                    else:
                        seen[b.id] = b.line
            b.mentions = _mentions(g, b)


def _mentions(g: Grammar, b: Block) -> list[Ref]:
    text = f"{b.label}\n{b.body}" if b.body else b.label
    if not text or "-" not in text:
        return []
    own = {(t.expert, t.id, t.round) for t in b.targets}
    out, seen = [], set()
    for r in g.find_mentions(text):
        key = (r.expert, r.id, r.round)
        if key not in own and key not in seen:
            seen.add(key)
            out.append(r)
    return out


def id_sections(fp: _FileParser, pattern: re.Pattern[str]) -> list[list[Any]]:
    """``[first line, last line, id]`` of each section opened by a heading that starts with
    a tension id (``### T06: ...``); it runs to the next heading of its level or above."""
    out: list[list[Any]] = []
    heads = fp.headings
    for i, (line0, level, text) in enumerate(heads):
        m = pattern.match(text.replace("*", "").replace("`", ""))
        if not m:
            continue
        end = next((h[0] for h in heads[i + 1:] if h[1] <= level), len(fp.lines))
        out.append([line0 + 1, end, m.group("id").upper()])
    return out


def parse_markers(text: str, grammar: Grammar | None = None, path: str = "",
                  expert: str | None = None) -> tuple[list[Block], list[Diagnostic]]:
    """Blocks and marker diagnostics of Markdown text (LF line endings)."""
    g = grammar or load_grammar()
    return _FileParser(text, g, path, expert).run(text)


def parse_markers_tokens(text: str, grammar: Grammar | None = None, path: str = ""
                         ) -> tuple[list[Block], list[Diagnostic], list[Any]]:
    """parse_markers, plus the markdown-it block tokens it walked (one parse of the text
    serves both the markers and the structure of a single-file dialogue)."""
    fp = _FileParser(text, grammar or load_grammar(), path, None)
    blocks, diags = fp.run(text)
    return blocks, diags, fp.tokens


# -- files -----------------------------------------------------------------------------------
def parse_text(text: str, rel_path: str, grammar: Grammar | None = None,
               place: layout.Place | None = None) -> tuple[list[Block], dict[str, Any] | None,
                                                           list[Diagnostic]]:
    """Role dispatch over already-decoded text: (blocks, judge data, diagnostics)."""
    place = place or layout.classify(rel_path)
    role = place.role
    blocks: list[Block] = []
    data: dict[str, Any] | None = None
    out: list[Diagnostic] = []
    if role in (layout.RESPONSE,) and not text.strip():
        out.append(diag.make("empty-file", rel_path, 1, role=role))
    if role in MARKER_ROLES:
        fp = _FileParser(text, grammar or load_grammar(), rel_path, place.expert)
        blocks, d = fp.run(text)
        out += d
        if role == layout.RESPONSE and fp.headings:
            from .judge.rules import grammar as judge_grammar

            sections = id_sections(fp, judge_grammar().section_heading)
            if sections:
                data = {"sections": sections}
    if role in SINGLE_ROLES:
        from .single_file import read_single_file

        blocks, data, d = read_single_file(text, rel_path, grammar, parse_markers_tokens)
        out += d
    if role in JUDGE_ROLES:
        from .judge import parse_judge  # lazily: markdown-it only when a Judge file is read

        try:
            data, d = parse_judge(role, text, rel_path)
        except GrammarError:
            raise  # a broken judge.yaml is loud, not a problem of each Judge file
        except Exception as e:  # noqa: BLE001 - a bug there must not stop indexing
            out.append(diag.make("internal-error", rel_path, what=f"{role} file",
                                 error=f"{type(e).__name__}: {e}"))
        else:
            for x in d:
                x.file = x.file or rel_path
            out += d
    return blocks, data, out


def parse_file(rel_path: str, data: bytes, grammar: Grammar | None = None) -> ParsedFile:
    """Everything one file yields. Never raises on file content (only GrammarError, on a
    broken grammar file).

    ``rel_path`` is relative to the dialogues root (POSIX); role, dialogue, round and
    expert come from layout.classify.
    """
    place = layout.classify(rel_path)
    pf = ParsedFile(path=rel_path, role=place.role, dialogue=place.dialogue, round=place.round,
                    expert=place.expert, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if place.role in TEXT_ROLES:
        text, pf.diagnostics = decode(data, rel_path)
        if rel_path.endswith(".json"):  # line endings only matter to Markdown
            pf.diagnostics = [d for d in pf.diagnostics if d.code != "crlf"]
        if place.role in MARKER_ROLES or place.role in SINGLE_ROLES:
            grammar = grammar or load_grammar()  # a broken grammar is loud, not per file
        if text is not None:  # prompts: their Key Tensions table only, never blocks
            try:
                pf.blocks, pf.data, d = parse_text(text, rel_path, grammar, place)
            except GrammarError:
                raise  # a broken grammar file is loud (exit 2), not per file
            except Exception as e:  # noqa: BLE001 - never crash the caller on one file
                pf.blocks, pf.data = [], None
                d = [diag.make("internal-error", rel_path, what="the file",
                               error=f"{type(e).__name__}: {e}")]
            pf.diagnostics += d
    elif place.role == layout.NOTE and rel_path.rsplit("/", 1)[-1].endswith(".md"):
        from .judge.rules import grammar as judge_grammar

        if rel_path.rsplit("/", 1)[-1] in judge_grammar().status_notes:
            # CONVERGENCE.md: a Judge note whose convergence statements decide the status
            from .judge.summary import statements

            text, pf.diagnostics = decode(data, rel_path)
            said = statements(text.split("\n")) if text is not None else []
            pf.data = {"statements": said} if said else None
    if place.odd:
        pf.diagnostics.append(diag.make("layout-unknown", rel_path, None, None,
                                        name=rel_path.rsplit("/", 1)[-1]))
    pf.diagnostics.sort(key=lambda x: (x.line or 0, x.column or 0, x.code))
    pf.good_sha256 = None if pf.has_errors else pf.sha256
    return pf
