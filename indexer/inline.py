"""Inline scanning of one line of Markdown text: brackets, code spans, inline markers.

Everything here is linear in the length of the line: a line's brackets are paired in one
pass (``bracket_pairs``) however many markers stand on it, and code spans are found once
per paragraph. ``parse.py`` decides where a line can hold markers; this module finds them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from .diagnostics import CODES
from .grammar import Grammar
from .marker import Marker, MarkerReader

_BRACKETS = re.compile(r"[\[\]\\]")

Spans = list[tuple[int, int]]


def match_bracket(s: str, i: int) -> int:
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


def bracket_pairs(s: str) -> dict[int, int]:
    """Every '[' of a line -> the ']' that closes it (backslash escapes honoured), found in
    one pass: asking ``match_bracket`` for each of thousands of inline markers on one line
    would rescan the line each time (quadratic)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for j, c in _unescaped(s):
        if c == "[":
            stack.append(j)
        elif stack:
            pairs[stack.pop()] = j
    return pairs


def code_spans(text: str) -> Spans:
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


def in_spans(spans: Spans, pos: int) -> bool:
    p = bisect.bisect_right(spans, (pos, 1 << 60)) - 1
    return p >= 0 and spans[p][0] <= pos < spans[p][1]


def inline_markers(g: Grammar, reader: MarkerReader, ln: str, pos: int, spans: Spans | None,
                   base: int) -> Iterator[tuple[int, int, Marker]]:
    """``(start, close, marker)`` of each inline marker of ``ln`` from ``pos`` on.

    Only upper-case keywords count inside a sentence (prose is noisy): `[tension T01: x]`
    or `[MOVE:converge]` there is text, not a marker, and says nothing. Markers nested in a
    marker's brackets belong to its label; code spans (``spans``, offsets from ``base``),
    escaped brackets, links and prose that merely looks like a marker are skipped.
    """
    pairs: dict[int, int] | None = None  # built on the first candidate: linear time
    after = pos
    for m in g.inline_re.finditer(ln, pos):
        i = m.start()
        if i < after or spans and in_spans(spans, base + i):
            continue
        if i > 0 and ln[i - 1] == "\\":
            continue
        if pairs is None:
            pairs = bracket_pairs(ln)
        close = pairs.get(i, -1)
        if close < 0 or ln[close + 1:close + 2] in ("(", "["):
            continue
        mk = reader.read(ln[i + 1:close])
        if mk is None or mk.spelled != mk.spelled.upper() \
                or any(CODES[c].severity == "error" for c, _ in mk.problems):
            continue  # lower case, or prose that merely looks like a marker
        yield i, close, mk
        after = close
