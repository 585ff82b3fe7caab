"""Items -> the export document (``blue-index export``), in the spirit of RFC 0051's JSON export.

Built from items only, so an export from SQLite and one from DynamoDB (or from the files
directly) are byte for byte equal when the stores agree. ``dumps`` is the canonical byte form:
sorted keys, indent 2, UTF-8 text as is, trailing newline. Lists are in key order.

Document (``format_version`` 1)::

    {"format": "blue-index-export", "format_version": 1,
     "dialogue": {id, title, question, domain, status, rounds, experts, tensions,
                  open_tensions, blocks, decision},
     "experts": [{slug, name, role, tier, relevance, emoji, rounds, scores, total, sources}],
     "rounds": [{round, experts, files, summary_title, summary, alignment}],
     "perspectives": [{key, id, expert, round, label, content, file, line}],
     "tensions": [{key, id, expert, round, label, status, ledger_status, ledger_id, file,
                   line, status_by_round, events: [{round, actor, kind, file, line, block}]}],
     "blocks": [{key, kind, keyword, id, raw_id, expert, round, label, content, file, line,
                 column, end_line, inline, parent, targets, mentions}],
     "references": [{source, type, target, target_raw, rule, resolved, file, line}],
     "verdict": {file, title, text, decision} | null,
     "files": [{path, role, round, expert, sha256, size, good_sha256, errors, warnings}],
     "diagnostics": [{file, line, column, code, severity, message, hint}]}
"""

from __future__ import annotations

import json
from typing import Any

from .items import Item, Items, of_kind
from .views import names

FORMAT = "blue-index-export"
FORMAT_VERSION = 1


def _pick(item: Item, *names: str, **renamed: str) -> dict[str, Any]:
    out = {n: item.get(n) for n in names}
    out.update({new: item.get(old) for new, old in renamed.items()})
    return out


def _block(b: Item) -> dict[str, Any]:
    return _pick(b, "key", "keyword", "id", "raw_id", "expert", "round", "label", "file",
                 "line", "column", "end_line", "inline", "parent", "targets", "mentions",
                 kind="block_kind", content="body")


def export(items: Items) -> dict[str, Any]:
    meta = items.get("meta") or {}
    blocks = of_kind(items, "block")
    events: dict[str, list[Item]] = {}
    for ev in of_kind(items, "event"):
        events.setdefault(ev.get("tension") or "", []).append(ev)
    verdicts = of_kind(items, "verdict")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dialogue": _pick(meta, "id", "title", "question", "domain", "status", "rounds",
                          "experts", "tensions", "open_tensions", "blocks", "decision",
                          "status_reasons"),
        "experts": [_pick(e, "slug", "name", "role", "tier", "relevance", "emoji", "rounds",
                          "scores", "total", "sources") for e in of_kind(items, "expert")],
        "rounds": [_pick(r, "experts", "files", "summary_title", "summary", "alignment",
                         round="number") for r in of_kind(items, "round")],
        "perspectives": [_pick(b, "key", "id", "expert", "round", "label", "file", "line",
                               content="body")
                         for b in blocks if b.get("block_kind") == "perspective"],
        "tensions": [
            {**_pick(t, "key", "id", "expert", "round", "label", "status", "ledger_status",
                     "ledger_id", "file", "line", "status_by_round", "open", "agent"),
             "names": names(t),
             "events": [_pick(ev, "round", "actor", "file", "line", "block", kind="event")
                        for ev in events.get(t.get("key") or "", [])]}
            for t in of_kind(items, "tension")
        ],
        "blocks": [_block(b) for b in blocks],
        "references": [_pick(r, "source", "type", "target", "target_raw", "rule", "resolved",
                             "file", "line") for r in of_kind(items, "ref")],
        "verdict": _pick(verdicts[0], "file", "title", "text", "decision") if verdicts else None,
        "files": [_pick(f, "path", "role", "round", "expert", "sha256", "size", "good_sha256",
                        "errors", "warnings") for f in of_kind(items, "file")],
        "diagnostics": [_pick(d, "file", "line", "column", "code", "severity", "message", "hint")
                        for d in of_kind(items, "diagnostic")],
    }


def dumps(doc: dict[str, Any]) -> str:
    """The canonical text of an export document."""
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
