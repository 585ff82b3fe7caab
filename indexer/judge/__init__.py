"""Readers for the Judge's files: ledger, scoreboard, summaries, verdict, pool and panel.

``parse_judge(role, text, path)`` -> ``(data | None, diagnostics)``; never raises. The
parser calls it from ``parse_file`` for the Judge roles of indexer/layout.py. Shapes are
documented in each module; words and headings live in grammars/judge.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import layout
from ..grammar import GrammarError
from ..model import Diagnostic
from .ledger import parse_ledger
from .panel import parse_panel, parse_pool
from .prompt import parse_prompt
from .rules import (
    CODES,
    JSON_INVALID,
    JUDGE_BAD_VALUE,
    JUDGE_UNKNOWN_SHAPE,
    JUDGE_UNKNOWN_STATUS,
    JUDGE_UNREADABLE,
    diag,
)
from .scoreboard import parse_scoreboard
from .summary import parse_summary
from .verdict import parse_verdict

__all__ = ["CODES", "JSON_INVALID", "JUDGE_BAD_VALUE", "JUDGE_ROLES", "JUDGE_UNKNOWN_SHAPE",
           "JUDGE_UNKNOWN_STATUS", "JUDGE_UNREADABLE", "parse_judge"]

Reader = Callable[[str, str], tuple[dict[str, Any] | None, list[Diagnostic]]]
_READERS: dict[str, Reader] = {
    layout.LEDGER: parse_ledger,
    layout.SCOREBOARD: parse_scoreboard,
    layout.SUMMARY: parse_summary,
    layout.VERDICT: parse_verdict,
    layout.POOL: parse_pool,
    layout.PANEL: parse_panel,
    layout.PROMPT: parse_prompt,
}
JUDGE_ROLES = frozenset(_READERS)


def parse_judge(role: str, text: str, path: str) -> tuple[dict[str, Any] | None,
                                                           list[Diagnostic]]:
    """Structured data of one Judge file and its diagnostics. Unknown roles -> (None, [])."""
    reader = _READERS.get(role)
    if reader is None:
        return None, []
    try:
        return reader(text, path)
    except GrammarError:
        raise  # a broken judge.yaml is loud (exit 2), not a problem of this file
    except Exception as e:  # noqa: BLE001 - odd input must give a diagnostic, never a crash
        return None, [diag(JUDGE_UNREADABLE, f"could not read this {role} file "
                           f"({type(e).__name__}: {e})", "check the file's structure; "
                           "report a bug if it looks fine", path)]
