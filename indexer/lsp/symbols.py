"""Document symbols (a file's blocks as an outline) and workspace symbols (search).

Workspace symbols search the index (``AnalyticsStore.search``) for the dialogues not loaded
in the editor, and the loaded (possibly edited) dialogues in memory: every word of the query
must appear in the block's label or id, the last one as a prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

if TYPE_CHECKING:
    from ..model import Block, ParsedFile

KINDS = {
    "perspective": lsp.SymbolKind.Interface,
    "tension": lsp.SymbolKind.Event,
    "refinement": lsp.SymbolKind.Method,
    "concession": lsp.SymbolKind.Method,
    "resolved": lsp.SymbolKind.Constant,
    "resolution": lsp.SymbolKind.Constant,
    "acknowledged": lsp.SymbolKind.Constant,
    "recommendation": lsp.SymbolKind.Class,
    "evidence": lsp.SymbolKind.Field,
    "claim": lsp.SymbolKind.Property,
    "reference": lsp.SymbolKind.Key,
    "move": lsp.SymbolKind.Operator,
    "verdict": lsp.SymbolKind.Module,
}
NAME_MAX = 100


def kind_of(block_kind: str | None) -> lsp.SymbolKind:
    return KINDS.get(block_kind or "", lsp.SymbolKind.String)


def name_of(keyword: str, raw_id: str | None, label: str | None,
            targets: list[Any] | None = None) -> str:
    head = keyword
    if raw_id and not keyword.endswith(raw_id.upper()):
        head += f" {raw_id}"
    tg = ", ".join((t.raw if hasattr(t, "raw") else t.get("raw", "")) for t in targets or [])
    if tg:
        head += f" {tg}"
    text = f"[{head}] {label or ''}".strip()
    return text if len(text) <= NAME_MAX else text[:NAME_MAX - 1] + "…"


@dataclass(slots=True)
class Outline:
    """A block as an outline node: 1-based lines, children nested under their parent."""

    block: Block
    children: list[Outline]


def outline(pf: ParsedFile) -> list[Outline]:
    nodes = [Outline(b, []) for b in pf.blocks]
    top: list[Outline] = []
    for node in nodes:
        p = node.block.parent
        if p is not None and 0 <= p < len(nodes) and nodes[p] is not node:
            nodes[p].children.append(node)
        else:
            top.append(node)
    return top


def ledger_rows(pf: ParsedFile) -> list[tuple[str, str, int, str]]:
    """A ledger's rows as the Judge reader read them: ``(id, label, line, status)``."""
    data = pf.data if isinstance(pf.data, dict) else {}
    out = []
    for e in data.get("entries") or []:
        if isinstance(e, dict) and isinstance(e.get("line"), int):
            ref = r if isinstance(r := e.get("ref"), dict) else {}
            out.append((str(ref.get("raw") or ref.get("id") or "?"), str(e.get("label") or ""),
                        e["line"], str(e.get("status") or "")))
    return out


def matches(words: list[str], *texts: str | None) -> bool:
    blob = " ".join(t for t in texts if t).lower()
    tokens = blob.replace("-", " ").split()
    return all(
        (any(tok.startswith(w) for tok in tokens) if i == len(words) - 1 else w in blob)
        for i, w in enumerate(words))
