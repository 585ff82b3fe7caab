"""Dialogue <-> items (indexer/items.py): what the store holds, and the parse cache inside it.

``to_items`` writes every SCHEMA field of every item (None where unknown), with no clock and
no ordering effects, so two assemblies of the same files give equal items. The file and
block items carry enough to rebuild each file's ParsedFile (``parsed_files_from_items``):
the sync engine re-assembles a dialogue without re-parsing its unchanged files.

Paths: ``file``/``path`` fields are relative to the dialogue folder; diagnostic items keep
``Diagnostic.file`` as written (relative to the dialogues root). Diagnostic sort keys are
``diag#{path}#{n:05d}`` for a file's own diagnostics and ``diag#dialogue#{n:05d}`` for the
dialogue-level ones (``dialogue`` cannot be a file path: indexed files end in .md/.json).
"""

from __future__ import annotations

import copy
from typing import Any

from . import layout
from .assemble import rel_to_dialogue
from .dialogue import Dialogue
from .grammar import fingerprint
from .items import SCHEMA, Item, Items, rr
from .model import ERROR, WARNING, Block, Diagnostic, ParsedFile, Ref

DIALOGUE_DIAG = "dialogue"


# Per kind, the item with every field None, built once: to_items makes an item per block,
# and rebuilding the field list and sets for each one showed up in profiles.
_TEMPLATES: dict[str, dict[str, Any]] = {k: dict.fromkeys(f) for k, f in SCHEMA.items()}


def _item(kind: str, sk: str, **values: Any) -> Item:
    """An item with every SCHEMA field of its kind (None where not given); no extras."""
    item: Item = _TEMPLATES[kind].copy()
    if not values.keys() <= item.keys():  # a programming error: the schema is the contract
        unknown = set(values) - set(item)
        raise KeyError(f"{kind} item has no field(s) {sorted(unknown)}")
    item.update(values)
    item["sk"], item["kind"] = sk, kind
    return item


def _refs(refs: list[Ref]) -> list[dict[str, Any]]:
    # Ref.to_dict (dataclasses.asdict) field by field: same dict, without asdict's deep copy
    # of plain str/int/None values (it dominated to_items on block-heavy dialogues).
    return [{"raw": r.raw, "id": r.id, "expert": r.expert, "round": r.round} for r in refs]


def _copy_json(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars): copy.deepcopy's result, faster."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_json(v) for v in value)
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    return copy.deepcopy(value)


def _diag_item(sk: str, d: Diagnostic) -> Item:
    return _item("diagnostic", sk, file=d.file, line=d.line, column=d.column, code=d.code,
                 severity=d.severity, message=d.message, hint=d.hint)


diagnostic_item = _diag_item  # public: the sync engine adds store-level diagnostics


def to_items(dialogue: Dialogue) -> Items:
    d = dialogue
    items: Items = {}

    def put(item: Item) -> None:
        items[item["sk"]] = item

    blocks = [e for e in d.blocks]
    put(_item(
        "dialogue", "meta", id=d.id, title=d.title, question=d.question, domain=d.domain,
        status=d.status, rounds=len(d.rounds), experts=len(d.experts),
        tensions=len(d.tensions), open_tensions=d.open_tensions, blocks=len(blocks),
        decision=d.verdict.decision if d.verdict else None, grammar=fingerprint(),
        status_reasons=_copy_json(d.status_reasons),
    ))
    for pf in d.files:
        rel = rel_to_dialogue(d.id, pf.path)
        put(_item(
            "file", f"file#{rel}", path=rel, role=pf.role, round=pf.round, expert=pf.expert,
            sha256=pf.sha256, size=pf.size, good_sha256=pf.good_sha256,
            data=_copy_json(pf.data),
            errors=sum(1 for x in pf.diagnostics if x.severity == ERROR),
            warnings=sum(1 for x in pf.diagnostics if x.severity == WARNING),
        ))
        for n, diag in enumerate(pf.diagnostics, 1):
            put(_diag_item(f"diag#{rel}#{n:05d}", diag))
    for n, diag in enumerate(d.diagnostics, 1):
        put(_diag_item(f"diag#{DIALOGUE_DIAG}#{n:05d}", diag))
    for e in d.experts:
        put(_item(
            "expert", f"expert#{e.slug}", slug=e.slug, name=e.name, role=e.role, tier=e.tier,
            relevance=e.relevance, emoji=e.emoji, rounds=list(e.rounds), scores=dict(e.scores),
            total=e.total, sources=list(e.sources),
        ))
    for r in d.rounds:
        put(_item(
            "round", f"round#{r.number:02d}", number=r.number, experts=list(r.experts),
            files=r.files, summary_title=r.summary_title, summary=r.summary,
            alignment=_copy_json(r.alignment),
        ))
    for be in blocks:
        b = be.block
        put(_item(
            "block", f"block#{be.key}", key=be.key, file=be.file, ordinal=be.ordinal,
            round=be.round, expert=be.expert, block_kind=b.kind, keyword=b.keyword, id=b.id,
            raw_id=b.raw_id, label=b.label, body=b.body, line=b.line, column=b.column,
            end_line=b.end_line, inline=b.inline, parent=be.parent, targets=_refs(b.targets),
            mentions=_refs(b.mentions),
        ))
    for t in d.tensions:
        put(_item(
            "tension", f"tension#{t.key}", key=t.key, id=t.id, expert=t.expert, round=t.round,
            label=t.label, status=t.status, ledger_status=t.ledger_status,
            ledger_id=t.ledger_id, file=t.file, line=t.line,
            status_by_round=dict(t.status_by_round), open=t.is_open,
            names=_copy_json(t.names), agent=t.agent,
        ))
        for ev in t.events:
            put(_item(
                "event", f"event#{t.key}#{rr(ev.round)}#{ev.ordinal:04d}", tension=t.key,
                round=ev.round, actor=ev.actor, event=ev.kind, file=ev.file, line=ev.line,
                block=ev.block,
            ))
    for ref in d.references:
        target = ref.target or f"?{ref.target_raw}"
        put(_item(
            "ref", f"ref#{ref.source}#{ref.type}#{target}", source=ref.source, type=ref.type,
            target=ref.target, target_raw=ref.target_raw, rule=ref.rule, resolved=ref.resolved,
            file=ref.file, line=ref.line,
        ))
    if d.verdict:
        v = d.verdict
        put(_item("verdict", "verdict", file=v.file, title=v.title, text=v.text,
                  decision=v.decision))
    return items


def dialogue_id_of(items: Items) -> str | None:
    meta = items.get("meta")
    return meta.get("id") if meta else None


def parsed_files_from_items(items: Items) -> dict[str, ParsedFile]:
    """Each file's stored ParsedFile, keyed by its path relative to the dialogues root.

    Blocks and data are the last good parse (what the items reflect); sha256 and
    diagnostics are the file's current ones.
    """
    did = dialogue_id_of(items)
    files: dict[str, ParsedFile] = {}
    for item in items.values():
        if item.get("kind") != "file":
            continue
        rel = item["path"]
        files[rel] = ParsedFile(
            path=layout.parse_path(did, rel) if did else rel, role=item["role"], dialogue=did,
            round=item.get("round"), expert=item.get("expert"),
            data=_copy_json(item.get("data")),
            sha256=item.get("sha256") or "", size=item.get("size") or 0,
            good_sha256=item.get("good_sha256"),
        )
    blocks: dict[str, list[Item]] = {}
    for item in items.values():
        if item.get("kind") == "block" and item.get("file") in files:
            blocks.setdefault(item["file"], []).append(item)
    for rel, its in blocks.items():
        its.sort(key=lambda i: i["ordinal"])
        index = {i["key"]: n for n, i in enumerate(its)}
        files[rel].blocks = [
            Block(
                kind=i["block_kind"], keyword=i["keyword"], line=i["line"], column=i["column"],
                end_line=i["end_line"], id=i["id"], raw_id=i["raw_id"], label=i["label"],
                body=i["body"], targets=[Ref.from_dict(r) for r in i["targets"] or []],
                mentions=[Ref.from_dict(r) for r in i["mentions"] or []],
                inline=bool(i["inline"]), parent=index.get(i["parent"]) if i["parent"] else None,
            )
            for i in its
        ]
    diags: dict[str, list[tuple[str, Item]]] = {}
    for sk, item in items.items():
        if item.get("kind") != "diagnostic":
            continue
        rel = sk[len("diag#"):].rsplit("#", 1)[0]
        if rel in files:
            diags.setdefault(rel, []).append((sk, item))
    for rel, found in diags.items():
        found.sort(key=lambda pair: pair[0])  # by sort key, unique
        files[rel].diagnostics = [
            Diagnostic(code=i["code"], severity=i["severity"], message=i["message"],
                       hint=i["hint"] if i["hint"] is not None else "", file=i["file"] or "",
                       line=i["line"], column=i["column"])
            for _, i in found
        ]
    return {pf.path: pf for pf in files.values()}
