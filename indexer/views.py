"""Items -> the JSON-able views behind ``show`` and ``tensions``; files -> items for one dialogue.

The views read items only (whatever store or file tree they came from). ``tensions`` has the
CLI.md shape; ``status`` is what the experts' markers say, ``ledger_status`` what the Judge's
ledger says (the ledger wins, so ``--open`` and the open counts use the ledger status when
there is one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .errors import NotFound
from .items import Item, Items, of_kind

if TYPE_CHECKING:
    from .model import ParsedFile


class UnknownDialogue(NotFound):
    """No dialogue with this id (exit code 2 in the CLI)."""

    def __init__(self, dialogue_id: str, where: str | None = None) -> None:
        super().__init__(dialogue_id)
        self.dialogue_id, self.where = dialogue_id, where

    def __str__(self) -> str:
        where = f" in {self.where}" if self.where else ""
        return (f"unknown dialogue '{self.dialogue_id}'{where}; "
                "run `blue-index list` to see the ids")


def effective_status(t: Item) -> str:
    return t.get("ledger_status") or t.get("status") or "open"


def is_open(t: Item) -> bool:
    """Decided at assembly (``dialogue.Tension.is_open``), stored on the item."""
    return bool(t.get("open"))


def show(items: Items) -> dict[str, Any]:
    meta = items.get("meta") or {}
    verdicts = of_kind(items, "verdict")
    tensions = of_kind(items, "tension")
    diags = Counter(d.get("severity") for d in of_kind(items, "diagnostic"))
    return {
        "id": meta.get("id"),
        "title": meta.get("title"),
        "question": meta.get("question"),
        "domain": meta.get("domain"),
        "status": meta.get("status"),
        "status_reasons": meta.get("status_reasons") or [],
        "rounds": [{"number": r.get("number"), "experts": r.get("experts") or [],
                    "summary_title": r.get("summary_title"), "alignment": r.get("alignment")}
                   for r in of_kind(items, "round")],
        "experts": [{"slug": e.get("slug"), "name": e.get("name"), "role": e.get("role"),
                     "tier": e.get("tier"), "rounds": e.get("rounds") or [],
                     "total": e.get("total")} for e in of_kind(items, "expert")],
        "counts": {
            "blocks": dict(sorted(Counter(b.get("block_kind") for b in of_kind(items, "block"))
                                  .items())),
            "tensions": dict(sorted(Counter(effective_status(t) for t in tensions).items())),
            "open_tensions": sum(1 for t in tensions if is_open(t)),
            "references": sum(1 for _ in of_kind(items, "ref")),
            "diagnostics": {"error": diags.get("error", 0), "warning": diags.get("warning", 0)},
        },
        "verdict": ({"title": verdicts[0].get("title"), "decision": verdicts[0].get("decision")}
                    if verdicts else None),
    }


def tensions(items: Items, open_only: bool = False) -> list[dict[str, Any]]:
    events: dict[str, list[Item]] = {}
    for ev in of_kind(items, "event"):
        events.setdefault(ev.get("tension") or "", []).append(ev)
    return [
        {"key": t.get("key"), "id": t.get("id"), "expert": t.get("expert"),
         "round": t.get("round"), "label": t.get("label"), "status": t.get("status"),
         "ledger_status": t.get("ledger_status"),
         "events": [{"round": ev.get("round"), "actor": ev.get("actor"),
                     "kind": ev.get("event"), "file": ev.get("file"), "line": ev.get("line")}
                    for ev in events.get(t.get("key") or "", [])],
         # added by tension identity (FORMAT.md 6); the fields above keep their meaning
         "ledger_id": t.get("ledger_id"), "open": is_open(t), "agent": t.get("agent"),
         "names": names(t)}
        for t in of_kind(items, "tension")
        if not open_only or is_open(t)
    ]


def names(t: Item) -> list[dict[str, Any]]:
    """The expert tensions merged into ``t``, each with the rule and the file:line of the
    evidence that linked it (``tensions --why``)."""
    return [{"key": n.get("key"), "id": n.get("id"), "expert": n.get("expert"),
             "round": n.get("round"), "label": n.get("label"), "file": n.get("file"),
             "line": n.get("line"), "rule": n.get("rule"),
             "evidence": {"file": n.get("evidence_file"), "line": n.get("evidence_line")}}
            for n in t.get("names") or [] if isinstance(n, dict)]


def dialogue_files(dialogues_root: Path | Sequence[Path], dialogue_id: str
                   ) -> list[tuple[str, Path]]:
    """``(path relative to its dialogues root, absolute path)`` of the files to index: the
    dialogue's folder and single files in every root (roots.py: the first root wins)."""
    from .sync import scan_roots

    roots = [dialogues_root] if isinstance(dialogues_root, Path) else list(dialogues_root)
    if not dialogue_id or "/" in dialogue_id or dialogue_id.startswith("."):
        raise UnknownDialogue(dialogue_id, ", ".join(map(str, roots)))
    found = scan_roots(roots, {dialogue_id})[0].get(dialogue_id)
    if not found:
        raise UnknownDialogue(dialogue_id, ", ".join(map(str, roots)))
    return sorted((layout.parse_path(dialogue_id, rel), Path(st.path))
                  for rel, st in found.items())


def parsed_files(dialogues_root: Path | Sequence[Path], dialogue_id: str
                 ) -> list[ParsedFile]:
    """Read and parse every file of one dialogue; an entry that cannot be read (a FIFO, a
    device, too large: fsread) is a file holding that diagnostic."""
    from .fsread import Unreadable, read, unreadable_file
    from .parse import parse_file

    def parse_one(rel: str, p: Path) -> ParsedFile:
        try:  # never block on a FIFO or read a device (fsread)
            return parse_file(rel, read(str(p)))
        except Unreadable as u:
            return unreadable_file(rel, u.problem)

    return [parse_one(rel, p) for rel, p in dialogue_files(dialogues_root, dialogue_id)]


def items_from_files(dialogues_root: Path | Sequence[Path], dialogue_id: str) -> Items:
    """Read, parse and assemble one dialogue (no store involved)."""
    from .assemble import assemble
    from .codec import to_items

    parsed = parsed_files(dialogues_root, dialogue_id)
    return to_items(assemble(dialogue_id, parsed))
