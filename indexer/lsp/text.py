"""Text positions: the library's 1-based line/column (code points) <-> LSP ranges.

The library reports a line and a start column; an editor wants a range. A diagnostic on a
marker spans the marker (to its closing ``]``, or to the end of the line when it has none);
one without a column spans its line. Columns are converted to the client's position encoding
(UTF-16 unless the client chose another) with pygls' codec, from the line's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp

from ..model import ERROR, WARNING, Diagnostic

SOURCE = "blue-index"
SEVERITY = {ERROR: lsp.DiagnosticSeverity.Error, WARNING: lsp.DiagnosticSeverity.Warning}


def line_at(lines: Sequence[str], line0: int) -> str:
    return lines[line0].rstrip("\r\n") if 0 <= line0 < len(lines) else ""


def marker_end(text: str, start: int) -> int:
    """End (exclusive) of the marker starting at ``text[start]``: after its ``]``, else the
    end of the line without trailing blanks."""
    if start < len(text) and text[start] == "[":
        depth = 0
        for i in range(start, len(text)):
            c = text[i]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
                if depth == 0:
                    return i + 1
    return len(text.rstrip())


def span(lines: Sequence[str], line: int | None, column: int | None) -> tuple[int, int, int]:
    """``(line0, start, end)`` in code points for a 1-based line and column."""
    line0 = max((line or 1) - 1, 0)
    text = line_at(lines, line0)
    if column is None:
        start = len(text) - len(text.lstrip())
        return line0, start, max(len(text.rstrip()), start)
    start = min(max(column - 1, 0), len(text))
    end = marker_end(text, start)
    return line0, start, max(end, start)


class Codec:
    """Code points -> the client's units (pygls' PositionCodec over a file's lines)."""

    def __init__(self, codec: Any) -> None:
        self.codec = codec

    def range(self, lines: Sequence[str], line0: int, start: int, end: int) -> lsp.Range:
        text = line_at(lines, line0)
        return lsp.Range(
            start=lsp.Position(line=line0, character=self.codec.client_num_units(text[:start])),
            end=lsp.Position(line=line0, character=self.codec.client_num_units(text[:end])))

    def char(self, lines: Sequence[str], position: lsp.Position) -> int:
        """The client's character offset -> a code point index in that line."""
        text = line_at(lines, position.line)
        units = 0
        for i, c in enumerate(text):
            if units >= position.character:
                return i
            units += self.codec.client_num_units(c)
        return len(text)


def to_lsp(d: Diagnostic, lines: Sequence[str], codec: Codec) -> lsp.Diagnostic:
    line0, start, end = span(lines, d.line, d.column)
    message = f"{d.message}\nhint: {d.hint}" if d.hint else d.message
    return lsp.Diagnostic(
        range=codec.range(lines, line0, start, end), message=message, code=d.code,
        source=SOURCE, data={"hint": d.hint, "line": d.line, "column": d.column},
        severity=SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information))


def read_lines(path: Path, limit: int) -> list[str]:
    """A file's lines (LF, decoded leniently), empty when missing or over ``limit`` bytes."""
    try:
        if path.stat().st_size > limit:
            return []
        data = path.read_bytes()
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
