"""Markdown through markdown-it-py tokens: one shared parser (CommonMark + tables), and
the few views the Judge readers need (headings, paragraph lines, tables), with 1-based
line numbers.

Inline parsing is done on demand, per inline token, when ``walk`` reaches it: a reader that
stops early (a summary's title is its first heading) does not pay for the rest of the file.
The result is the same as the parser's own inline and text_join core rules: those work
token by token, sharing only ``env`` (link reference definitions, found by the block pass).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_core import inline as inline_rule
from markdown_it.rules_core import text_join as text_join_rule
from markdown_it.token import Token

MD = MarkdownIt("commonmark").enable("table")
# MD without its inline core rules (they run per token in Doc.inline).
_BLOCKS = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])


_LINE_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_LINE_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def text_lines(lines: list[str], first: int = 1) -> Iterator[tuple[int, str, str | None]]:
    """``(line number, line, ATX heading text or None)`` of the lines outside fenced code:
    a line-by-line view for readers that need a few lines of a long file, not its tree."""
    fence = False
    for i, ln in enumerate(lines, first):
        if _LINE_FENCE.match(ln):
            fence = not fence
            continue
        if not fence:
            h = _LINE_HEADING.match(ln)
            yield i, ln, h.group(1) if h else None


def clean(text: str) -> str:
    """Drop a BOM; markdown-it handles CRLF and NUL itself."""
    return text[1:] if text.startswith("\ufeff") else text


@dataclass
class Doc:
    """Block tokens of one document; inline tokens get their children in ``inline``."""

    text: str
    tokens: list[Token]
    env: dict[str, object]
    _done: set[int] = field(default_factory=set)  # ids of inline tokens already parsed

    def inline(self, tok: Token) -> Token:
        """``tok`` with its children, as MD.parse would give them (parsed once)."""
        if id(tok) not in self._done:
            self._done.add(id(tok))
            if tok.content and MD.inline.terminator_re.search(tok.content) is None:
                # No character any inline rule starts at (most table cells: names, numbers,
                # status words): markdown-it's 'text' rule takes it all as one text token.
                tok.children = [Token("text", "", 0, content=tok.content)]
            else:
                state = StateCore(self.text, MD, self.env, [tok])
                inline_rule(state)
                text_join_rule(state)
        return tok


def parse(text: str) -> Doc:
    env: dict[str, object] = {}
    src = clean(text)
    return Doc(src, _BLOCKS.parse(src, env), env)


def plain(inline: Token | None) -> str:
    """The visible text of an inline token (emphasis markers dropped, code kept)."""
    if inline is None:
        return ""
    out: list[str] = []
    for c in inline.children or []:
        if c.type in ("text", "code_inline", "html_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out).strip()


@dataclass
class Line:
    """One source line of a paragraph: its text, and the bold phrase it starts with."""

    line: int
    text: str
    lead: str | None = None  # text of a leading **strong** run, if the line starts with one
    rest: str = ""           # the text after that run


def _split_lines(inline: Token, first: int) -> list[Line]:
    lines: list[Line] = []
    cur: list[Token] = []

    def flush(n: int) -> None:
        text = "".join(t.content for t in cur if t.type in ("text", "code_inline",
                                                             "html_inline")).strip()
        lead, rest = None, text
        toks = [t for t in cur if not (t.type == "text" and not t.content.strip())]
        if toks and toks[0].type == "strong_open":
            depth, parts, end = 0, [], len(toks)
            for j, t in enumerate(toks):
                if t.type == "strong_open":
                    depth += 1
                elif t.type == "strong_close":
                    depth -= 1
                    if depth == 0:
                        end = j + 1
                        break
                elif t.type in ("text", "code_inline"):
                    parts.append(t.content)
            lead = "".join(parts).strip()
            rest = "".join(t.content for t in toks[end:]
                           if t.type in ("text", "code_inline")).strip()
        if text:
            lines.append(Line(first + n, text, lead, rest))

    n = 0
    for c in inline.children or []:
        if c.type in ("softbreak", "hardbreak"):
            flush(n)
            cur, n = [], n + 1
        else:
            cur.append(c)
    flush(n)
    return lines


@dataclass
class Heading:
    level: int
    text: str
    line: int


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    line: int                       # line of the header row
    row_lines: list[int] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)  # enclosing headings, outer first


@dataclass
class Event:
    """A walk over the document: a heading, a paragraph line, or a table, in order."""

    kind: str  # "heading" | "line" | "table"
    heading: Heading | None = None
    line: Line | None = None
    table: Table | None = None


def walk(doc: Doc) -> Iterator[Event]:
    """Headings, paragraph lines and tables in document order (code and HTML skipped)."""
    tokens = doc.tokens
    stack: list[Heading] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t.type == "heading_open":
            inline = doc.inline(tokens[i + 1]) if i + 1 < len(tokens) else None
            h = Heading(int(t.tag[1:]), plain(inline), (t.map or [0])[0] + 1)
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            yield Event("heading", heading=h)
            i += 3
            continue
        if t.type == "paragraph_open" and i + 1 < len(tokens) and tokens[i + 1].type == "inline":
            for ln in _split_lines(doc.inline(tokens[i + 1]), (t.map or [0])[0] + 1):
                yield Event("line", line=ln)
            i += 3
            continue
        if t.type == "table_open":
            table, i = _table(doc, i)
            table.headings = list(stack)
            yield Event("table", table=table)
            continue
        i += 1


def _table(doc: Doc, i: int) -> tuple[Table, int]:
    tokens = doc.tokens
    header: list[str] = []
    rows: list[list[str]] = []
    row_lines: list[int] = []
    line = (tokens[i].map or [0])[0] + 1
    in_head = False
    row: list[str] | None = None
    while i < len(tokens) and tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "thead_open":
            in_head = True
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            row = []
            if not in_head:
                row_lines.append((t.map or [line - 1])[0] + 1)
        elif t.type == "tr_close" and row is not None:
            if in_head:
                header = row
            else:
                rows.append(row)
            row = None
        elif t.type == "inline" and row is not None:
            row.append(plain(doc.inline(t)))
        i += 1
    return Table(header, rows, line, row_lines), i + 1
