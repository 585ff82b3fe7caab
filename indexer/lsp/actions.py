"""Quick fixes for the forms the grammar tolerates, and for an unclosed marker.

- ``marker-irregular`` from a tolerated preposition (``[RESOLVED on T01]``): drop the words
  the keyword's rule does not list (grammars/keywords.yaml ``prepositions``), keeping those
  it does (``[CONCESSION to Strudel on T01]`` is regular);
- ``marker-unclosed``: close the marker at the end of its line.

Each fix is a text replacement on one line, in code points: ``(line0, start, end, new)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..grammar import load as load_grammar
from .text import marker_end

IRREGULAR = "marker-irregular"
UNCLOSED = "marker-unclosed"


@dataclass(slots=True)
class Fix:
    title: str
    line0: int
    start: int
    end: int
    new: str


def regular_form(marker: str) -> str | None:
    """``[RESOLVED on T01]`` -> ``[RESOLVED T01]``; None when there is nothing to drop."""
    g = load_grammar()
    if not (marker.startswith("[") and marker.endswith("]")):
        return None
    inner = marker[1:-1]
    m = g.head_re.match(inner)
    if m is None:
        return None
    rule = g.rule(m.group("kw"))
    if rule is None or not rule.targets:
        return None
    words = inner[m.end():].split(" ")
    kept: list[str] = []
    dropped = False
    i = 0
    while i < len(words):  # only the words before the first target
        w = words[i]
        low = w.lower()
        if not w:
            i += 1
            continue
        if low in rule.prepositions:
            kept.append(w)
            if low in g.addressee_prepositions and i + 1 < len(words) \
                    and g.ref_re.fullmatch(words[i + 1]) is None:
                kept.append(words[i + 1])  # the addressee's name
                i += 1
        elif low in g.tolerated_prepositions:
            dropped = True
        else:
            break
        i += 1
    if not dropped:
        return None
    rest = " ".join(kept + words[i:])
    return f"[{m.group('kw')}{' ' + rest if rest else ''}]"


def fix_for(code: str, line_text: str, line0: int, column: int | None) -> Fix | None:
    """The fix for one diagnostic at 1-based ``column`` of a line, if there is one."""
    if column is None:
        return None
    start = column - 1
    if start >= len(line_text) or line_text[start] != "[":
        return None
    if code == IRREGULAR:
        end = marker_end(line_text, start)
        new = regular_form(line_text[start:end])
        if new is None:
            return None
        return Fix(f"Write {new}", line0, start, end, new)
    if code == UNCLOSED:
        end = len(line_text.rstrip())
        return Fix("Close the marker at the end of the line", line0, end, end, "]")
    return None
