"""The physical keys of the table: partition and sort keys, sparse index keys, namespaces.

Keys that fit: DynamoDB refuses sort keys over 1,024 bytes (index sort keys too, and index
partition keys over 2,048). A sort key longer than ``MAX_SK_BYTES`` (a long file path in
``file#...`` or ``diag#...``) is stored as its first ``HEAD_BYTES`` bytes + ``~`` + 40 hex
digits of its sha256, with the full key kept in the ``_sk`` attribute; ``begins_with``
queries on the kind prefix still work. Index keys are bounded the same way. A value the
service cannot take (text that is not valid Unicode, e.g. a file name's stray bytes) raises
ItemRejected naming the item, before anything is sent.

Namespaces: every partition key and index key is prefixed with ``ns#{namespace}#`` when the
store has a namespace (default: none, one shared view).
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

from ...items import Item
from ..base import ItemRejected
from .codec import JSON_NAMES, LOGICAL_SK, Attrs, encode_fields
from .large import fit

MAX_SK_BYTES = 512  # table sort keys above this are hashed (the limit is 1,024)
MAX_INDEX_KEY_BYTES = 960  # index keys ("{id}#{sk}", expert, status) above this are hashed
HEAD_BYTES = 160  # how much of a hashed key stays readable
FILE_SHARDS = 16  # the files index partition key is spread over this many values

# The global secondary indexes (all sparse; the table in the package docstring):
# name: (partition attribute, sort attribute, INCLUDE list or None for ALL).
INDEXES: dict[str, tuple[str, str, list[str] | None]] = {
    "by_category": ("_cat", "_cat_sk", None),
    "by_status": ("_status", "_status_sk", None),
    "by_expert": ("_expert", "_expert_sk", ["block_kind", "round", "id"]),
    "files": ("_file", "_file_sk", ["path", "sha256"]),
}


def bounded(key: str, limit: int) -> str:
    """``key`` if its UTF-8 form fits in ``limit`` bytes, else a readable head + its hash."""
    raw = key.encode()
    if len(raw) <= limit:
        return key
    return f"{raw[:HEAD_BYTES].decode('utf-8', 'ignore')}~{sha256(raw).hexdigest()[:40]}"


def physical_sk(sk: str) -> str:
    """The table sort key an item's (logical) sort key is stored under."""
    return bounded(sk, MAX_SK_BYTES)


def file_shard(dialogue_id: str) -> int:
    """Which of the ``FILE_SHARDS`` files-index keys a dialogue's file items go to."""
    return int(sha256(dialogue_id.encode()).hexdigest()[:8], 16) % FILE_SHARDS


def is_open(tension: Item) -> bool:
    """What ``open_tensions`` returns: tension items marked open at assembly."""
    return bool(tension.get("open"))


@dataclass(frozen=True, slots=True)
class Keys:
    """The physical keys of one store: partition keys and index key values, namespaced."""

    namespace: str = ""

    def ns(self, value: str) -> str:
        return f"ns#{self.namespace}#{value}" if self.namespace else value

    def pk(self, dialogue_id: str) -> str:
        return self.ns(f"dialogue#{dialogue_id}")

    @property
    def registry(self) -> str:
        """The partition of the per-dialogue control items (revisions, file hashes)."""
        return self.ns("registry")

    def did_of_pk(self, pk: str) -> str:
        return pk[len(self.pk("")):]

    def index_attrs(self, dialogue_id: str, item: Item, phys: str) -> dict[str, dict[str, str]]:
        """The sparse index keys this item carries (see ``INDEXES``)."""
        kind = item.get("kind")
        tail = {"S": bounded(f"{dialogue_id}#{phys}", MAX_INDEX_KEY_BYTES)}
        out: dict[str, dict[str, str]] = {}
        status = item.get("status")
        if kind == "tension":  # the Judge's word wins (FORMAT.md 6), as in views and exports
            status = item.get("ledger_status") or status
        if kind == "dialogue":
            out["_cat"], out["_cat_sk"] = {"S": self.ns("dialogue")}, tail
        if kind in ("dialogue", "tension") and isinstance(status, str):
            out["_status"] = {"S": bounded(self.ns(f"{kind}#{status}"), MAX_INDEX_KEY_BYTES)}
            out["_status_sk"] = tail
        if kind == "tension" and is_open(item):
            out["_cat"], out["_cat_sk"] = {"S": self.ns("open-tension")}, tail
        if kind == "block" and isinstance(item.get("expert"), str) and item["expert"]:
            out["_expert"] = {"S": bounded(self.ns(item["expert"]), MAX_INDEX_KEY_BYTES)}
            out["_expert_sk"] = tail
        if kind == "file":
            out["_file"] = {"S": self.ns(f"file#{file_shard(dialogue_id):02d}")}
            out["_file_sk"] = tail
        return out

    def encode(self, dialogue_id: str, item: Item) -> tuple[Attrs, list[Attrs]]:
        """The head item's attributes and its part items (empty unless the item is huge)."""
        sk = item.get("sk")
        if not isinstance(sk, str) or not sk:
            raise ValueError(f"item without a sort key in dialogue {dialogue_id}: {item!r:.80}")
        try:
            return self._encode(dialogue_id, item, sk)
        except UnicodeEncodeError as e:
            reason = f"DynamoDB cannot store text that is not valid Unicode ({e.reason})"
            raise ItemRejected(f"dialogue {dialogue_id}, {item.get('kind')} "
                               f"{sk.encode('utf-8', 'backslashreplace').decode()}: "
                               f"{reason}; rename the file", sk, reason) from None

    def _encode(self, dialogue_id: str, item: Item, sk: str) -> tuple[Attrs, list[Attrs]]:
        phys = physical_sk(sk)
        fields, as_json = encode_fields(item)
        head: Attrs = {"pk": {"S": self.pk(dialogue_id)}, "sk": {"S": phys}, **fields}
        if phys != sk:
            head[LOGICAL_SK] = {"S": sk}
        head.update(self.index_attrs(dialogue_id, item, phys))
        if as_json:
            head[JSON_NAMES] = {"L": [{"S": n} for n in as_json]}
        return fit(head, fields, item)


def encode_item(dialogue_id: str, item: Item) -> tuple[Attrs, list[Attrs]]:
    """``Keys().encode``: the default (no namespace) encoding."""
    return Keys().encode(dialogue_id, item)
