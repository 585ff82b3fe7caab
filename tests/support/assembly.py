"""Hand-built ParsedFiles for the assembler's unit tests (no parser involved)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from indexer import layout
from indexer.model import Block, Diagnostic, ParsedFile, Ref

D = "2026-01-01T0000Z-test"


def ref(raw: str, id_: str, expert: str | None = None, round_: int | None = None) -> Ref:
    return Ref(raw=raw, id=id_, expert=expert, round=round_)


def blk(kind: str, line: int, id_: str | None = None, label: str = "", *,
        keyword: str | None = None, targets: list[Ref] | None = None,
        mentions: list[Ref] | None = None, body: str = "", parent: int | None = None,
        inline: bool = False) -> Block:
    return Block(kind=kind, keyword=keyword or kind.upper(), line=line, end_line=line + 1,
                 id=id_, raw_id=id_, label=label, body=body, targets=targets or [],
                 mentions=mentions or [], parent=parent, inline=inline)


def pfile(rel: str, blocks: list[Block] | None = None, data: dict[str, Any] | None = None,
          diagnostics: list[Diagnostic] | None = None, dialogue: str = D) -> ParsedFile:
    """A ParsedFile at ``{dialogue}/{rel}`` with its role from the layout."""
    path = f"{dialogue}/{rel}"
    place = layout.classify(path)
    payload = json.dumps([b.to_dict() for b in blocks or []] + [data], sort_keys=True).encode()
    sha = hashlib.sha256(payload).hexdigest()
    return ParsedFile(path=path, role=place.role, dialogue=place.dialogue, round=place.round,
                      expert=place.expert, blocks=blocks or [], diagnostics=diagnostics or [],
                      data=data, sha256=sha, size=len(payload), good_sha256=sha)


def ledger(*entries: tuple[str, str, str | None, int | None, str, str]) -> ParsedFile:
    """tensions.md data from ``(raw, id, expert, round, label, status)`` rows."""
    rows = [{"ref": {"raw": raw, "id": id_, "expert": ex, "round": rnd}, "label": label,
             "status": status, "status_raw": status.upper(), "resolved_round": None,
             "section": "", "line": 10 + 2 * i}
            for i, (raw, id_, ex, rnd, label, status) in enumerate(entries)]
    return pfile("tensions.md", data={"shape": "headings", "entries": rows})
