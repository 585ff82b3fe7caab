"""expert-pool.json / *-pool.json and round-N/panel.json.

pool: ``{"domain", "question", "experts": [{"role", "tier", "relevance", ...}]}`` (entries
kept as written; a pool lists candidates, not the panel); panel: experts under ``agents`` or
``panel`` (``{"round": 0, "panel": [{"name", "role", "tier", "source"}]}``), read as
``{"agents": [{"name", "slug", "emoji", "role", "tier", "relevance"}]}`` with slug = the
name without emoji or role. Invalid JSON is an error with its line and
column; a valid document of the wrong shape gives what could be read and a warning."""

from __future__ import annotations

import json
import re
from typing import Any

from ..model import Diagnostic
from .md import clean
from .names import slug_of_name
from .rules import JSON_INVALID, JUDGE_BAD_VALUE, JUDGE_UNKNOWN_SHAPE, diag


def _load(text: str, path: str) -> tuple[Any, list[Diagnostic]]:
    try:
        return json.loads(clean(text)), []
    except json.JSONDecodeError as e:
        return None, [diag(JSON_INVALID, e.msg,
                           "fix the JSON syntax (a missing comma or quote?)", path,
                           e.lineno, e.colno)]
    except (ValueError, RecursionError) as e:
        return None, [diag(JSON_INVALID, str(e), "fix the JSON syntax", path)]


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _num(v: Any) -> float | int | None:
    return v if isinstance(v, int | float) and not isinstance(v, bool) else None


def _list(doc: Any, key: str, path: str, diags: list[Diagnostic]) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        diags.append(diag(JUDGE_UNKNOWN_SHAPE, f"expected a JSON object with {key!r}, got "
                          f"{type(doc).__name__}", f"write {{\"{key}\": [...]}}", path, 1))
        return []
    items = doc.get(key)
    if not isinstance(items, list):
        diags.append(diag(JUDGE_UNKNOWN_SHAPE, f"no {key!r} list in the JSON object",
                          f"add \"{key}\": [...]", path, 1))
        return []
    good = [x for x in items if isinstance(x, dict)]
    if len(good) != len(items):
        diags.append(diag(JUDGE_BAD_VALUE, f"{len(items) - len(good)} {key} entries are not "
                          "objects and were skipped", "each entry must be {...}", path, 1))
    return good


PANEL_KEYS = ("agents", "panel")


def parse_pool(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    doc, diags = _load(text, path)
    if diags:
        return None, diags
    experts = _list(doc, "experts", path, diags)
    d = doc if isinstance(doc, dict) else {}
    return {"domain": _str(d.get("domain")), "question": _str(d.get("question")),
            "experts": experts}, diags


def parse_panel(text: str, path: str) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    doc, diags = _load(text, path)
    if diags:
        return None, diags
    agents = []
    # FORMAT.md 7: experts under "agents" or under "panel" ({"round": 0, "panel": [...]})
    key = next((k for k in PANEL_KEYS if isinstance(doc, dict) and k in doc), PANEL_KEYS[0])
    for a in _list(doc, key, path, diags):
        name = _str(a.get("name"))
        if not name or not name.strip():
            diags.append(diag(JUDGE_BAD_VALUE, "a panel agent has no name and was skipped",
                              "give every agent a \"name\"", path, 1))
            continue
        agents.append({"name": name.strip(),
                       "slug": slug_of_name(name) or re.sub(r"\s+", "-", name.strip().lower()),
                       "emoji": _str(a.get("emoji")), "role": _str(a.get("role")),
                       "tier": _str(a.get("tier")), "relevance": _num(a.get("relevance"))})
    return {"agents": agents}, diags
