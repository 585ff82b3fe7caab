"""The store's unit: a dialogue as a set of flat items, the same on every backend.

A dialogue (one partition) is ``dict[sk, item]``. Every item is a JSON-able dict with at
least ``sk`` (unique within the dialogue) and ``kind`` (one of ``SCHEMA``'s keys). Backends
store and return items unchanged (SQLite: one table per kind, keyed by
``(dialogue_id, sk)``; DynamoDB: ``PK = dialogue#{id}``, ``SK = sk``). The sync engine
diffs the loaded items against freshly assembled ones and writes only puts and deletes.

``SCHEMA`` lists, per kind, each field and its type: ``str``, ``int``, ``float``, ``bool``
or ``json`` (lists and dicts). ``None`` is allowed for every field. ``CONTENT`` names the
fields that hold dialogue text (encrypted when the envelope is on).

Sort keys (``RR`` = two-digit round or ``--``; ``{path}`` relative to the dialogue folder):

=============  ===========================================  ==========================
kind           sk                                           table (SQLite)
=============  ===========================================  ==========================
dialogue       ``meta``                                     dialogues
file           ``file#{path}``                              files
expert         ``expert#{slug}``                            experts
round          ``round#{NN}``                               rounds
block          ``block#{key}``                              blocks
tension        ``tension#{key}``                            tensions
event          ``event#{tension key}#{RR}#{ordinal:04d}``   events
ref            ``ref#{source}#{type}#{target}``             refs
verdict        ``verdict``                                  verdicts
diagnostic     ``diag#{path}#{ordinal:05d}``                diagnostics
datakey        ``datakey``                                  data_keys
=============  ===========================================  ==========================

Block keys are stable: ``{RR}#{expert or 'judge'}#{kind}#{local id or 'n' + ordinal}``
(ordinal among blocks of that kind without an id in that file, 3 digits), so editing one
file never changes another file's keys.
"""

from __future__ import annotations

from typing import Any

Item = dict[str, Any]
Items = dict[str, Item]

SCHEMA: dict[str, dict[str, str]] = {
    "dialogue": {
        "sk": "str", "kind": "str", "id": "str", "title": "str", "question": "str",
        "domain": "str", "status": "str", "rounds": "int", "experts": "int",
        "tensions": "int", "open_tensions": "int", "blocks": "int", "decision": "str",
        # the Judge statements that made the status converged (convergence.py)
        "status_reasons": "json",
    },
    "file": {
        "sk": "str", "kind": "str", "path": "str", "role": "str", "round": "int",
        "expert": "str", "sha256": "str", "size": "int",
        # sha256 of the content that the stored blocks/data reflect (the last good one)
        "good_sha256": "str", "data": "json", "errors": "int", "warnings": "int",
    },
    "expert": {
        "sk": "str", "kind": "str", "slug": "str", "name": "str", "role": "str",
        "tier": "str", "relevance": "float", "emoji": "str", "rounds": "json",
        "scores": "json", "total": "int", "sources": "json",
    },
    "round": {
        "sk": "str", "kind": "str", "number": "int", "experts": "json", "files": "int",
        "summary_title": "str", "summary": "str", "alignment": "json",
    },
    "block": {
        "sk": "str", "kind": "str", "key": "str", "file": "str", "ordinal": "int",
        "round": "int", "expert": "str", "block_kind": "str", "keyword": "str",
        "id": "str", "raw_id": "str", "label": "str", "body": "str", "line": "int",
        "column": "int", "end_line": "int", "inline": "bool", "parent": "str",
        "targets": "json", "mentions": "json",
    },
    "tension": {
        "sk": "str", "kind": "str", "key": "str", "id": "str", "expert": "str",
        "round": "int", "label": "str", "status": "str", "ledger_status": "str",
        "ledger_id": "str", "file": "str", "line": "int", "status_by_round": "json",
        # derived once (dialogue.Tension.is_open: the ledger's word wins) so every view and
        # every backend's open_tensions() agree on what "open" means
        "open": "bool",
        # the expert tensions merged into it, each with its link's rule and evidence
        "names": "json", "agent": "str",
    },
    "event": {
        "sk": "str", "kind": "str", "tension": "str", "round": "int", "actor": "str",
        "event": "str", "file": "str", "line": "int", "block": "str",
    },
    "ref": {
        "sk": "str", "kind": "str", "source": "str", "type": "str", "target": "str",
        "target_raw": "str", "rule": "str", "resolved": "bool", "file": "str",
        "line": "int",
    },
    "verdict": {
        "sk": "str", "kind": "str", "file": "str", "title": "str", "text": "str",
        "decision": "str",
    },
    "diagnostic": {
        "sk": "str", "kind": "str", "file": "str", "line": "int", "column": "int",
        "code": "str", "severity": "str", "message": "str", "hint": "str",
    },
    # The dialogue's data key, wrapped by the master key (only when encryption is on).
    "datakey": {
        "sk": "str", "kind": "str", "key_id": "str", "version": "int", "wrapped": "str",
        "algorithm": "str",
    },
}

# With encryption on, an item's CONTENT fields are sealed together into ``enc`` (and set
# to None); everything else stays in clear so queries that do not read content still work.
for _kind in SCHEMA:
    if _kind != "datakey":
        SCHEMA[_kind]["enc"] = "str"

# Dialogue text: encrypted by the envelope, searched by FTS when in clear.
CONTENT: dict[str, tuple[str, ...]] = {
    "dialogue": ("title", "question", "domain", "decision", "status_reasons"),
    "file": ("data",),
    "expert": ("role",),
    "round": ("summary_title", "summary"),
    "block": ("label", "body", "targets", "mentions"),
    "tension": ("label", "names"),
    "verdict": ("title", "text", "decision"),
    "diagnostic": ("message",),
}

TABLES: dict[str, str] = {
    "dialogue": "dialogues", "file": "files", "expert": "experts", "round": "rounds",
    "block": "blocks", "tension": "tensions", "event": "events", "ref": "refs",
    "verdict": "verdicts", "diagnostic": "diagnostics", "datakey": "data_keys",
}


def of_kind(items: Items, kind: str) -> list[Item]:
    """Items of one kind in sort-key order (the same order on every backend)."""
    return [items[sk] for sk in sorted(items) if items[sk].get("kind") == kind]


def rr(round_: int | None) -> str:
    """Two-digit round for keys; ``--`` when the item has no round."""
    return "--" if round_ is None else f"{round_:02d}"


def diff(old: Items, new: Items) -> tuple[list[Item], list[str]]:
    """Items to put (new or changed) and sort keys to delete, in deterministic order."""
    puts = [new[sk] for sk in sorted(new) if old.get(sk) != new[sk]]
    deletes = [sk for sk in sorted(old) if sk not in new]
    return puts, deletes
