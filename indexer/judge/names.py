"""Expert names as the Judge writes them -> the expert's slug (FORMAT.md 7).

``🧁 Muffin``, ``Muffin 🧁``, ``🧁 Muffin (Platform Architect)``, ``**Muffin**`` and
``Muffin — Platform Architect`` are all the expert ``muffin``: emoji, decoration and a role
in parentheses or after a dash are not part of the name.
"""

from __future__ import annotations

import re

_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_ROLE_DASH = re.compile(r"\s+(?:—|–|--|-|:)\s+.*$")
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*")
_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|/)\s*", re.IGNORECASE)
_ROUND = re.compile(r"\bR\d+\b")


def slug_of_name(name: str) -> str | None:
    """The slug of one written name, or None when it holds no name."""
    text = _ROLE_DASH.sub("", _PARENS.sub(" ", name or "")).strip()
    words = _WORDS.findall(text)
    if not words:
        return None
    return "-".join(w.strip("'-").lower() for w in words if w.strip("'-")) or None


def slugs_of_names(cell: str) -> list[str]:
    """``Muffin, Brioche and 🧁 Croissant (R0)`` -> ``[muffin, brioche, croissant]``."""
    out: list[str] = []
    for part in _SPLIT.split(_PARENS.sub(" ", cell or "")):
        part = _ROUND.sub(" ", part)  # a round next to a name: `Croissant R0`
        slug = slug_of_name(part)
        if slug and slug not in out:
            out.append(slug)
    return out
