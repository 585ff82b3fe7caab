"""Items over DynamoDB's 400 KB limit, and what one partition physically holds.

An item over the limit keeps its small fields as attributes and moves its big ones into a
zlib-compressed bundle (``_z``); if the bundle is still too big it is split into part items
``{sk}#part#{version}#{NNN}`` (``_part_of`` names the head), read back transparently by
``assemble``. ``Layout`` is the partition seen by sort key (heads, their parts, orphaned
parts of older versions, file hashes): what a write must delete besides the items it names.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from hashlib import sha256

from ...items import Item, Items
from .codec import BUNDLE, Attrs, decode_item, dumps, json_names, logical_sk, size

MAX_ITEM_BYTES = 350_000  # below the 400 KB item limit, with room for names and overhead
PART_BYTES = 300_000
BIG_FIELD_BYTES = 1_024  # fields above this move into the compressed bundle of a big item
# Fields that queries and indexes read: never bundled, always plain attributes.
KEEP_PLAIN = frozenset({"kind", "status", "path", "sha256", "expert", "id", "block_kind",
                        "round", "key"})
PART_OF = "_part_of"
LEGACY_MARKER = "_partition"  # per-partition counts item of earlier versions: cleaned up


def part_key(head_sk: str, version: str, index: int) -> str:
    """A part item's physical sort key (``head_sk``: the head's physical sort key)."""
    return f"{head_sk}#part#{version}#{index:03d}"


def fit(head: Attrs, fields: Attrs, item: Item) -> tuple[Attrs, list[Attrs]]:
    """``head`` (the item's attributes, keys included) made to fit: unchanged when small
    enough, else with its big ``fields`` bundled, plus part items when the bundle is big."""
    if size(head) <= MAX_ITEM_BYTES:
        return head, []
    big = [n for n, av in fields.items()
           if n not in KEEP_PLAIN and size({n: av}) > BIG_FIELD_BYTES]
    bundle = zlib.compress(dumps({n: item[n] for n in big}).encode(), 6)
    for n in big:
        del head[n]
    if len(bundle) + size(head) <= MAX_ITEM_BYTES:
        head[BUNDLE] = {"B": bundle}
        return head, []
    version = sha256(bundle).hexdigest()[:12]
    pieces = [bundle[i : i + PART_BYTES] for i in range(0, len(bundle), PART_BYTES)]
    head["_parts"], head["_ver"] = {"N": str(len(pieces))}, {"S": version}
    pk, phys, sk = head["pk"], head["sk"]["S"], item["sk"]
    parts = [
        {"pk": pk, "sk": {"S": part_key(phys, version, i)}, PART_OF: {"S": sk},
         "_ver": {"S": version}, "_chunk": {"B": piece}}
        for i, piece in enumerate(pieces)
    ]
    return head, parts


@dataclass(slots=True)
class Layout:
    """What is physically in one partition, by logical sort key: head items (kind), their
    part items, orphans (parts of no current head version, leftovers of older versions),
    and the file hashes of its file items (what the registry records at commit)."""

    heads: dict[str, str | None] = field(default_factory=dict)  # sk -> kind
    parts: dict[str, list[str]] = field(default_factory=dict)  # sk -> its parts' physical sks
    orphans: list[str] = field(default_factory=list)  # physical sks to delete
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    file_sks: dict[str, str] = field(default_factory=dict)  # file item sk -> path

    def kind_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind in self.heads.values():
            if kind is not None:
                out[kind] = out.get(kind, 0) + 1
        return dict(sorted(out.items()))

    def apply(self, puts: list[Item], deletes: list[str], new_parts: dict[str, list[str]]
              ) -> None:
        """The layout after a write of ``puts``/``deletes`` (parts as encoded)."""
        for sk in deletes:
            self.heads.pop(sk, None)
            self.parts.pop(sk, None)
            path = self.file_sks.pop(sk, None)
            if path is not None:
                self.files.pop(path, None)
        for item in puts:
            sk = item["sk"]
            kind = item.get("kind")
            self.heads[sk] = kind if isinstance(kind, str) else None
            old = self.file_sks.pop(sk, None)
            if old is not None:
                self.files.pop(old, None)
            if kind == "file" and isinstance(item.get("path"), str) \
                    and isinstance(item.get("sha256"), str):
                self.files[item["path"]] = item["sha256"]
                self.file_sks[sk] = item["path"]
        for sk, ps in new_parts.items():
            if ps:
                self.parts[sk] = ps
            else:
                self.parts.pop(sk, None)
        self.orphans = []


def layout_of(raw: list[Attrs]) -> Layout:
    lay = Layout()
    versions: dict[str, str | None] = {}
    parts: list[tuple[str, str, str]] = []
    for a in raw:
        phys = a["sk"]["S"]
        if phys == LEGACY_MARKER:
            lay.orphans.append(phys)
        elif PART_OF in a:
            parts.append((a[PART_OF]["S"], a.get("_ver", {}).get("S", ""), phys))
        else:
            sk = logical_sk(a)
            kind = a.get("kind", {}).get("S")
            lay.heads[sk] = kind if "kind" not in json_names(a) else None
            versions[sk] = a["_ver"]["S"] if "_ver" in a else None
            path, digest = a.get("path", {}).get("S"), a.get("sha256", {}).get("S")
            if kind == "file" and path is not None and digest is not None:
                lay.files[path] = digest
                lay.file_sks[sk] = path
    for head, ver, phys in parts:
        if head in lay.heads and versions.get(head) == ver:
            lay.parts.setdefault(head, []).append(phys)
        else:
            lay.orphans.append(phys)
    return lay


def assemble(raw: list[Attrs]) -> Items:
    """Items from a partition's raw attributes: heads decoded, parts joined back in."""
    chunks_by_head: dict[tuple[str, str], dict[str, bytes]] = {}
    heads = []
    for a in raw:
        if PART_OF in a:
            key = (a[PART_OF]["S"], a.get("_ver", {}).get("S", ""))
            chunks_by_head.setdefault(key, {})[a["sk"]["S"]] = bytes(a["_chunk"]["B"])
        elif a["sk"]["S"] != LEGACY_MARKER:
            heads.append(a)
    items: Items = {}
    for a in heads:
        bundle = None
        if "_parts" in a:
            sk, phys = logical_sk(a), a["sk"]["S"]
            got = chunks_by_head.get((sk, a["_ver"]["S"]), {})
            n = int(a["_parts"]["N"])
            want = [part_key(phys, a["_ver"]["S"], i) for i in range(n)]
            if all(k in got for k in want):
                bundle = b"".join(got[k] for k in want)
            # else: parts missing (tampering): the item comes back short, so the next sync
            # sees it as changed and rewrites it whole.
        item = decode_item(a, bundle)
        items[item["sk"]] = item
    return items
