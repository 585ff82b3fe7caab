"""One file's bytes -> ParsedFile: markers, bodies and diagnostics (FORMAT.md 2, 3, 5).

Markdown structure comes from markdown-it-py *block* tokens (the core inline rule is off:
inline tokens keep their ``content`` without children), so code blocks, fences and HTML
blocks are never searched. Markers are then read line by line only where one can stand: a
line of a paragraph or heading, or a table cell. Bodies are sliced from the source lines
between a marker and the next marker, thematic break or heading. Everything is linear in the
size of the file.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from . import diagnostics as diag
from . import layout
from .grammar import Grammar, KeywordRule
from .grammar import load as load_grammar
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


# -- the marker reader --------------------------------------------------------------------
@dataclass(slots=True)
class _Marker:
    """What the text between the brackets says, before placement in the file."""

    kind: str
    keyword: str
    rule: KeywordRule | None = None
    id: str | None = None
    raw_id: str | None = None
    label: str = ""
    targets: list[Ref] = field(default_factory=list)
    problems: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (code, fields)


def _split_label(rest: str) -> tuple[str, str | None]:
    """Head (id or targets) and label: split at the first ':' or ' -- ' / ' — ' note."""
    cut, label = len(rest), None
    c = rest.find(":")
    if c >= 0:
        cut, label = c, rest[c + 1:]
    for sep in (" -- ", " — ", " – "):
        d = rest.find(sep, 0, cut)
        if d >= 0 and d < cut:
            cut, label = d, rest[d + len(sep):]
    if label is None:  # a trailing dash note with nothing after it
        for sep in (" --", " —"):
            if rest.rstrip().endswith(sep):
                cut = rest.rstrip().rfind(sep)
                label = ""
    return rest[:cut].strip(), (label.strip() if label is not None else None)


class _Reader:
    def __init__(self, g: Grammar, expert: str | None) -> None:
        self.g = g
        self.expert = expert

    def read(self, inner: str) -> _Marker | None:
        """Read a marker's inner text; None when it is no marker at all."""
        g = self.g
        m = g.head_re.match(inner)
        if m:
            kw = m.group("kw").upper()
            if kw not in g.keywords and kw not in g.aliases:
                kw = g.canonical(kw)
            rest = inner[m.end():]
            canon = g.aliases.get(kw, kw)
            if canon in g.families:
                sub = g.subtype_re.match(rest)
                if sub and f"{canon}:{sub.group('sub')}" not in g.keywords:
                    return self._unknown(f"{canon}:{sub.group('sub')}", rest[sub.end():])
            rule = g.keywords[canon]
            return self._known(rule, rest)
        m = g.typed_head_re.match(inner)
        if m:
            return self._typed(m, inner[m.end():])
        m = g.unknown_re.match(inner)
        if m:
            return self._unknown(g.canonical(m.group("kw")), inner[m.end():])
        return None

    def _unknown(self, keyword: str, rest: str) -> _Marker:
        label = rest.strip()
        label = label[1:].strip() if label.startswith(":") else label
        return _Marker("unknown", keyword, label=label,
                       problems=[("unknown-keyword", {"keyword": keyword})])

    def _typed(self, m: Any, rest: str) -> _Marker:
        g = self.g
        letter, num = m.group("letter").upper(), m.group("num")
        raw = m.group(0).strip()
        label = rest.strip()
        label = label[1:].strip() if label.startswith(":") else label
        et = g.entity_types.get(letter)
        if et is None or len(num) != g.typed_id_digits:
            mk = _Marker("unknown", "TYPED-ID", raw_id=raw, label=label)
            mk.problems.append(("marker-bad-id", {
                "id": raw, "expected": f"EXPERT-<{'|'.join(sorted(g.entity_types))}>"
                f"<{g.typed_id_digits} digits: round, seq>", "example": "MUFFIN-P0101"}))
            return mk
        expert = m.group("expert").lower()
        mk = _Marker(et.kind, et.kind.upper(), id=f"{letter}{num}", raw_id=raw, label=label)
        if self.expert and expert != self.expert:
            mk.problems.append(("marker-expert-mismatch", {
                "id": raw, "named": expert, "expert": self.expert,
                "expected": f"{self.expert.upper()}-{letter}{num}"}))
        return mk

    def _known(self, rule: KeywordRule, rest: str) -> _Marker:
        g = self.g
        mk = _Marker(rule.kind, rule.keyword, rule)
        if rule.label_only or not (rule.id_letter or rule.targets):
            label = rest.strip()
            mk.label = label[1:].strip() if label.startswith(":") else label
            return mk
        head, label = _split_label(rest)
        if rule.id_letter:
            mk.label = label if label is not None else ""
            if head:
                m = g.local_id_re.fullmatch(head)
                if m and m.group("letter").upper() == rule.id_letter:
                    mk.id, mk.raw_id = g._norm(m), head
                elif label is None and not m:
                    # `[PERSPECTIVE some text]`: a label without ':' (tolerated)
                    mk.label = head
                    mk.problems.append(("marker-irregular", {
                        "detail": f"no ':' before the label of [{rule.keyword}]",
                        "hint": f"write [{rule.keyword} {rule.id_letter}01: label]"}))
                else:
                    mk.raw_id = head
                    mk.problems.append(("marker-bad-id", {
                        "id": head, "expected": f"a {rule.kind} id",
                        "example": f"{rule.id_letter}01 (or {rule.id_letter}1, "
                                   f"{rule.id_letter}-NEW)"}))
            return mk
        # target-taking keyword
        addressee = None
        while head:
            w, _, after = head.partition(" ")
            word = w.lower()
            if word not in rule.prepositions and word not in g.tolerated_prepositions:
                break
            if word not in rule.prepositions:
                mk.problems.append(("marker-irregular", {
                    "detail": f"'{w}' before the targets of [{rule.keyword}]",
                    "hint": f"write [{rule.keyword} T01] or [{rule.keyword} MUFFIN R1-T01]"}))
            head = after.strip()
            if word in g.addressee_prepositions and head and g.ref_re.match(head) is None:
                name, _, head = head.partition(" ")
                addressee, head = name.strip(".,").lower(), head.strip()
        targets, leftover = g.parse_ref_list(head) if head else ([], "")
        if leftover:
            mk.problems.append(("marker-irregular", {
                "detail": f"'{leftover}' is not a target of [{rule.keyword}]",
                "hint": "put a ':' before the label, or list ids such as T01, MUFFIN R1-T01"}))
            label = leftover + (": " + label if label else "")
        mk.label = label or ""
        if not targets and mk.label:
            # `[RESOLVED: STRUDEL R1-T01 (label)]`: leading ids of the label are targets
            refs, lo = g.parse_ref_list(mk.label)
            if refs and (not lo or lo[0] in "(:-—–"):
                targets = refs
        if addressee:
            targets = [Ref(t.raw, t.id, t.expert or addressee, t.round) for t in targets]
        mk.targets = targets
        return mk


# -- Markdown walk -------------------------------------------------------------------------
_BRACKETS = re.compile(r"[\[\]\\]")


def _match_bracket(s: str, i: int) -> int:
    """Index of the ']' closing the '[' at ``s[i]`` on this line, or -1."""
    close = s.find("]", i + 1)
    if close < 0:
        return -1
    if s.find("[", i + 1, close) < 0 and s.find("\\", i + 1, close) < 0:
        return close  # the common case: no nesting, no escapes
    depth = 0
    for j, c in _unescaped(s, i):
        if c == "[":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _unescaped(s: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Positions of the brackets of ``s`` from ``start`` that no backslash escapes."""
    skip = -1
    for m in _BRACKETS.finditer(s, start):
        j = m.start()
        if j == skip:
            continue
        c = s[j]
        if c == "\\":
            skip = j + 1
        else:
            yield j, c


def _bracket_pairs(s: str) -> dict[int, int]:
    """Every '[' of a line -> the ']' that closes it (backslash escapes honoured), found in
    one pass: asking ``_match_bracket`` for each of thousands of inline markers on one line
    would rescan the line each time (quadratic)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for j, c in _unescaped(s):
        if c == "[":
            stack.append(j)
        elif stack:
            pairs[stack.pop()] = j
    return pairs


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


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Ranges of CommonMark code spans in ``text`` (matching backtick runs of equal length)."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while True:
        i = text.find("`", i)
        if i < 0:
            break
        j = i
        while j < n and text[j] == "`":
            j += 1
        runs.append((i, j - i))
        i = j
    by_len: dict[int, list[int]] = {}
    for k, (_, ln) in enumerate(runs):
        by_len.setdefault(ln, []).append(k)
    spans = []
    k = 0
    while k < len(runs):
        start, ln = runs[k]
        bs = 0
        while start - bs - 1 >= 0 and text[start - bs - 1] == "\\":
            bs += 1
        if bs % 2 == 1:  # escaped opener: the rest of the run may still open
            k += 1
            continue
        lst = by_len[ln]
        p = bisect.bisect_right(lst, k)
        if p < len(lst):
            close = lst[p]
            spans.append((start, runs[close][0] + ln))
            k = close + 1
        else:
            k += 1
    return spans


def _in_spans(spans: list[tuple[int, int]], pos: int) -> bool:
    p = bisect.bisect_right(spans, (pos, 1 << 60)) - 1
    return p >= 0 and spans[p][0] <= pos < spans[p][1]


class _FileParser:
    def __init__(self, text: str, g: Grammar, path: str, expert: str | None) -> None:
        self.g = g
        self.path = path
        self.lines = text.split("\n")
        self.reader = _Reader(g, expert)
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
                spans = _code_spans(ln) if "`" in ln else None
                self.line(ln, n, body_from=n + 1, spans=spans, base=0)

    # -- places where markers stand ------------------------------------------------------
    def heading(self, content: str, line0: int, end0: int) -> None:
        self.headings.append((line0, self.level, content))
        self.terminators.append(line0)
        self.current = None
        if "[" in content:
            spans = _code_spans(content) if "`" in content else None
            self.line(content, line0, body_from=end0, spans=spans, base=0)

    def paragraph(self, content: str, line0: int) -> None:
        spans = _code_spans(content) if "`" in content else None
        base = 0
        for i, ln in enumerate(content.split("\n")):
            if "[" in ln:
                self.line(ln, line0 + i, body_from=line0 + i + 1, spans=spans, base=base)
            base += len(ln) + 1

    def cell(self, content: str, line0: int) -> None:
        spans = _code_spans(content) if "`" in content else None
        self.inline_markers(content, 0, line0, spans, 0)

    def line(self, ln: str, line0: int, body_from: int, spans: list[tuple[int, int]] | None,
             base: int) -> None:
        s = ln.lstrip(" \t")
        lead = len(ln) - len(s)
        k = 0
        while k < 3 and k < len(s) and s[k] in "*_":
            k += 1
        pos = lead
        if k < len(s) and s[k] == "[" and not (spans and _in_spans(spans, base + lead + k)):
            pos = self.line_marker(ln, s, lead, k, line0, body_from)
        self.inline_markers(ln, pos, line0, spans, base)

    def column(self, line0: int, text: str, offset: int) -> int:
        src = self.lines[line0] if line0 < len(self.lines) else ""
        at = src.find(text)
        return (at if at >= 0 else 0) + offset + 1

    def line_marker(self, ln: str, s: str, lead: int, k: int, line0: int, body_from: int) -> int:
        """Read a marker at the start of a line; return where inline scanning resumes."""
        close = _match_bracket(s, k)
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
        self.targets_after(mk, after)
        idx = self.add(mk, line0, col, inline=False)
        self.terminators.append(line0)
        self.body_start[idx] = (body_from, after)
        self.current = idx
        return lead + close + 1

    def inline_markers(self, ln: str, pos: int, line0: int, spans: list[tuple[int, int]] | None,
                       base: int) -> None:
        if "[" not in ln[pos:]:
            return
        pairs: dict[int, int] | None = None  # built on the first candidate: linear time
        col0 = 0
        after = pos  # markers nested in a marker's brackets belong to its label
        for m in self.g.inline_re.finditer(ln, pos):
            i = m.start()
            if i < after or spans and _in_spans(spans, base + i):
                continue
            if i > 0 and ln[i - 1] == "\\":
                continue
            if pairs is None:
                pairs = _bracket_pairs(ln)
                st = ln.lstrip(" \t")
                col0 = self.column(line0, st, 0) - (len(ln) - len(st))
            close = pairs.get(i, -1)
            if close < 0 or ln[close + 1:close + 2] in ("(", "["):
                continue
            mk = self.reader.read(ln[i + 1:close])
            if mk is None or any(diag.CODES[c].severity == "error" for c, _ in mk.problems):
                continue  # prose that merely looks like a marker
            self.targets_after(mk, ln[close + 1:].lstrip(" \t*_:"))
            self.add(mk, line0, col0 + i, inline=True)
            after = close

    def targets_after(self, mk: _Marker, after: str) -> None:
        """``[ACCEPT] T03 closed.``: a target-taking marker with none inside its brackets
        takes the ids right after them (bare, ``MUFFIN-T01`` or ``MUFFIN R1-T01``; a word
        before an id, as in ``The T01``, is prose)."""
        rule = mk.rule
        if not (self.g.targets_after_bracket and rule and rule.targets and not rule.label_only
                and not mk.targets and after[:1].isalnum()):
            return
        word, _, rest = after.partition(" ")
        if word.lower() in rule.prepositions or word.lower() in self.g.tolerated_prepositions:
            after = rest.lstrip()  # `[CONCEDE-WITH-SCOPE] on T02`
        refs, _ = self.g.parse_ref_list(after)
        good = []
        for r in refs:
            if r.expert and " " in r.raw and r.round is None:
                break
            good.append(r)
        mk.targets = good

    # -- blocks --------------------------------------------------------------------------
    def add(self, mk: _Marker, line0: int, col: int, inline: bool) -> int:
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
        except Exception as e:  # noqa: BLE001 - a bug there must not stop indexing
            out.append(diag.make("internal-error", rel_path, what=f"{role} file",
                                 error=f"{type(e).__name__}: {e}"))
        else:
            for x in d:
                x.file = x.file or rel_path
            out += d
    return blocks, data, out


def parse_file(rel_path: str, data: bytes, grammar: Grammar | None = None) -> ParsedFile:
    """Everything one file yields. Never raises on file content.

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
