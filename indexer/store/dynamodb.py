"""The DynamoDB backend: one table, one partition per dialogue (RFC 0058 layout), via boto3.

Table layout (created by ``blue-index table create``; on-demand billing):

==============  ==============================  =====================================  ==========
index           partition key                   sort key                               projection
==============  ==============================  =====================================  ==========
table           ``pk`` = ``dialogue#{id}``      ``sk`` = the item's sk (items.py)       all
by_category     ``_cat`` = ``dialogue`` (meta)  ``_cat_sk`` = ``{id}#{sk}``            all
                or ``open-tension``
by_status       ``_status`` =                   ``_status_sk`` = ``{id}#{sk}``         all
                ``{dialogue|tension}#{status}``
by_expert       ``_expert`` = block's expert    ``_expert_sk`` = ``{id}#{sk}``         keys +
                                                                                       block_kind,
                                                                                       round, id
files           ``_file`` = ``file``            ``_file_sk`` = ``{id}#{sk}``           keys + path,
                                                                                       sha256
==============  ==============================  =====================================  ==========

All four indexes are sparse (only the items that carry the key attribute appear), so no
command ever needs a Scan. Item fields are stored as attributes of their SCHEMA type
(``json`` fields as compact JSON strings, which keeps key order and float text exact); a
value whose type does not match the schema is stored as JSON and listed in ``_j``. An item
over the 400 KB limit keeps its small fields as attributes and moves its big ones into a
zlib-compressed bundle (``_z``); if the bundle is still too big it is split into part items
``{sk}#part#{version}#{NNN}`` written before the head, read back transparently, and deleted
with (or after) the head. Writes: the diff only, BatchWriteItem by 25, file items last, so an
interrupted sync is redone. Throttling is retried by botocore (``retries`` config), and
``UnprocessedItems`` here with capped exponential backoff and full jitter.

search() has no server-side full-text index to use: it loads the partition of each dialogue
searched (one Query each; every dialogue when no ``dialogue_id`` is given) and matches in
memory with the same tokenisation and bm25 ranking as SQLite's FTS5 (see ``textsearch``).
"""

from __future__ import annotations

import json
import math
import random
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from hashlib import sha256
from typing import TYPE_CHECKING, Any

from ..items import SCHEMA, Item, Items
from .base import StoreUnavailable, chunks

if TYPE_CHECKING:
    from ..config import Config

BATCH = 25
MAX_ITEM_BYTES = 350_000  # below the 400 KB item limit, with room for names and overhead
PART_BYTES = 300_000
BIG_FIELD_BYTES = 1_024  # fields above this move into the compressed bundle of a big item
# Fields that queries and indexes read: never bundled, always plain attributes.
KEEP_PLAIN = frozenset({"kind", "status", "path", "sha256", "expert", "id", "block_kind",
                        "round", "key"})
INTERNAL_PREFIX = "_"
PART_OF = "_part_of"
# One internal item per partition (never returned by load): lists the partition in the
# by_category index and holds its item counts by kind, so counts() is one index Query.
MARKER = "_partition"

INDEXES: dict[str, tuple[str, str, list[str] | None]] = {
    # name: (partition attribute, sort attribute, INCLUDE list or None for ALL)
    "by_category": ("_cat", "_cat_sk", None),
    "by_status": ("_status", "_status_sk", None),
    "by_expert": ("_expert", "_expert_sk", ["block_kind", "round", "id"]),
    "files": ("_file", "_file_sk", ["path", "sha256"]),
}

# Error codes that mean "the store is not usable as configured" rather than a bug here.
_UNAVAILABLE_CODES = {
    "UnrecognizedClientException": "the AWS credentials were rejected; check AWS_PROFILE "
    "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
    "InvalidSignatureException": "the AWS request signature was rejected; check the "
    "credentials and the region",
    "AccessDeniedException": "access denied; grant the dynamodb:* actions on the table "
    "to these credentials",
    "ExpiredTokenException": "the AWS session token has expired; refresh the credentials",
    "ProvisionedThroughputExceededException": "still throttled after retries; retry later "
    "or raise the table's capacity",
    "ThrottlingException": "still throttled after retries; retry later",
    "RequestLimitExceeded": "account request limit exceeded; retry later",
    "InternalServerError": "the DynamoDB service failed; retry later",
    "ServiceUnavailable": "the DynamoDB service is unavailable; retry later",
}


def partition_key(dialogue_id: str) -> str:
    return f"dialogue#{dialogue_id}"


# --------------------------------------------------------------------------- item codec


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dynamo_float(v: float) -> bool:
    """A float that a DynamoDB number holds exactly (else it is stored as JSON)."""
    if not math.isfinite(v) or (v == 0.0 and math.copysign(1.0, v) < 0):
        return False
    return v == 0.0 or 1e-128 < abs(v) < 1e125


def _encode_value(typ: str | None, v: Any) -> dict[str, Any] | None:
    """The attribute value for a field of schema type ``typ``; None when JSON is needed."""
    if v is None:
        return {"NULL": True}
    if typ == "json":
        return {"S": _dumps(v)}
    if typ == "str" and isinstance(v, str):
        return {"S": v}
    if typ == "bool" and isinstance(v, bool):
        return {"BOOL": v}
    if typ == "int" and type(v) is int and abs(v) < 10**38:
        return {"N": str(v)}
    if typ == "float" and type(v) is float and _dynamo_float(v):
        return {"N": repr(v)}
    return None


def _decode_value(typ: str | None, av: dict[str, Any], as_json: bool) -> Any:
    if "NULL" in av:
        return None
    if as_json or typ == "json":
        return json.loads(av["S"])
    if "S" in av:
        return av["S"]
    if "BOOL" in av:
        return av["BOOL"]
    if "N" in av:
        return float(av["N"]) if typ == "float" else int(Decimal(av["N"]))
    raise ValueError(f"unexpected DynamoDB attribute value {av!r}")


def _size(attrs: dict[str, Any]) -> int:
    """Upper bound of DynamoDB's size of an item (names + values, UTF-8)."""
    total = 0
    for name, av in attrs.items():
        total += len(name.encode()) + 1
        for t, v in av.items():
            if t == "B":
                total += len(v)
            elif t in ("S", "N"):
                total += len(v.encode())
            elif t == "L":
                total += 3 + sum(len(x["S"].encode()) + 1 for x in v)
            else:
                total += 1
    return total


def _schema(item: Item) -> dict[str, str]:
    kind = item.get("kind")
    return SCHEMA.get(kind, {}) if isinstance(kind, str) else {}


def _index_attrs(dialogue_id: str, item: Item) -> dict[str, dict[str, str]]:
    """The sparse index keys this item carries (see the table in the module docstring)."""
    kind, sk = item.get("kind"), item["sk"]
    tail = {"S": f"{dialogue_id}#{sk}"}
    out: dict[str, dict[str, str]] = {}
    status = item.get("status")
    if kind == "tension":  # the Judge's word wins (FORMAT.md 6), as in views and exports
        status = item.get("ledger_status") or status
    if kind == "dialogue":
        out["_cat"], out["_cat_sk"] = {"S": "dialogue"}, tail
    if kind in ("dialogue", "tension") and status is not None:
        out["_status"], out["_status_sk"] = {"S": f"{kind}#{status}"}, tail
    if kind == "tension" and is_open(item):
        out["_cat"], out["_cat_sk"] = {"S": "open-tension"}, tail
    if kind == "block" and isinstance(item.get("expert"), str) and item["expert"]:
        out["_expert"], out["_expert_sk"] = {"S": item["expert"]}, tail
    if kind == "file":
        out["_file"], out["_file_sk"] = {"S": "file"}, tail
    return out


def is_open(tension: Item) -> bool:
    """What ``open_tensions`` returns: tension items marked open at assembly."""
    return bool(tension.get("open"))


def encode_item(dialogue_id: str, item: Item) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The head item's attributes and its part items (empty unless the item is huge)."""
    sk = item.get("sk")
    if not isinstance(sk, str) or not sk:
        raise ValueError(f"item without a sort key in dialogue {dialogue_id}: {item!r:.80}")
    pk = partition_key(dialogue_id)
    schema = _schema(item)
    fields: dict[str, Any] = {}
    as_json: list[str] = []
    for name, value in item.items():
        if name.startswith(INTERNAL_PREFIX) or name == "pk":
            raise ValueError(f"item field name {name!r} is reserved by the DynamoDB backend")
        if name == "sk":
            continue
        av = _encode_value(schema.get(name), value)
        if av is None:
            av = {"S": _dumps(value)}
            as_json.append(name)
        fields[name] = av
    head: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}, **fields}
    head.update(_index_attrs(dialogue_id, item))
    if as_json:
        head["_j"] = {"L": [{"S": n} for n in as_json]}
    if _size(head) <= MAX_ITEM_BYTES:
        return head, []
    # Too big: move the big fields (original values, JSON) into a compressed bundle.
    big = [n for n, av in fields.items()
           if n not in KEEP_PLAIN and _size({n: av}) > BIG_FIELD_BYTES]
    bundle = zlib.compress(_dumps({n: item[n] for n in big}).encode(), 6)
    for n in big:
        del head[n]
    if len(bundle) + _size(head) <= MAX_ITEM_BYTES:
        head["_z"] = {"B": bundle}
        return head, []
    version = sha256(bundle).hexdigest()[:12]
    pieces = [bundle[i : i + PART_BYTES] for i in range(0, len(bundle), PART_BYTES)]
    head["_parts"], head["_ver"] = {"N": str(len(pieces))}, {"S": version}
    parts = [
        {"pk": {"S": pk}, "sk": {"S": part_key(sk, version, i)}, PART_OF: {"S": sk},
         "_ver": {"S": version}, "_chunk": {"B": piece}}
        for i, piece in enumerate(pieces)
    ]
    return head, parts


def part_key(sk: str, version: str, index: int) -> str:
    return f"{sk}#part#{version}#{index:03d}"


def decode_item(attrs: dict[str, Any], bundle: bytes | None = None) -> Item:
    """An item back from its head attributes (+ the joined part chunks, when it has parts)."""
    as_json = _json_names(attrs)
    kind = _decode_value("str", attrs["kind"], "kind" in as_json) if "kind" in attrs else None
    schema = SCHEMA.get(kind, {}) if isinstance(kind, str) else {}
    values: dict[str, Any] = {"sk": attrs["sk"]["S"]}
    for name, av in attrs.items():
        if name in ("pk", "sk") or name.startswith(INTERNAL_PREFIX):
            continue
        values[name] = _decode_value(schema.get(name), av, name in as_json)
    if "_z" in attrs:
        bundle = bytes(attrs["_z"]["B"])
    if bundle is not None:
        values.update(json.loads(zlib.decompress(bundle)))
    # Deterministic field order: the schema's, then any others by name.
    ordered = {n: values[n] for n in schema if n in values}
    ordered.update({n: values[n] for n in sorted(values) if n not in ordered})
    return ordered


def _json_names(attrs: dict[str, Any]) -> set[str]:
    return {x["S"] for x in attrs.get("_j", {}).get("L", [])}


# --------------------------------------------------------------------------- partition layout


@dataclass(slots=True)
class _Layout:
    """What is physically in one partition: head items, their parts, the marker's counts."""

    heads: dict[str, str | None] = field(default_factory=dict)  # sk -> kind
    parts: dict[str, list[str]] = field(default_factory=dict)  # head sk -> its part sks
    orphans: list[str] = field(default_factory=list)  # parts of no current head version
    counts: dict[str, int] | None = None  # as stored in the marker item (None: no marker)

    def kind_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for kind in self.heads.values():
            if kind is not None:
                out[kind] = out.get(kind, 0) + 1
        return dict(sorted(out.items()))


def _layout_of(raw: list[dict[str, Any]]) -> _Layout:
    lay = _Layout()
    versions: dict[str, str | None] = {}
    parts: list[tuple[str, str, str]] = []
    for a in raw:
        sk = a["sk"]["S"]
        if sk == MARKER:
            lay.counts = json.loads(a["_counts"]["S"]) if "_counts" in a else {}
        elif PART_OF in a:
            parts.append((a[PART_OF]["S"], a.get("_ver", {}).get("S", ""), sk))
        else:
            kind = a.get("kind", {}).get("S")
            lay.heads[sk] = kind if "kind" not in _json_names(a) else None
            versions[sk] = a["_ver"]["S"] if "_ver" in a else None
    for head, ver, sk in parts:
        if head in lay.heads and versions.get(head) == ver:
            lay.parts.setdefault(head, []).append(sk)
        else:
            lay.orphans.append(sk)
    return lay


def _assemble(raw: list[dict[str, Any]]) -> Items:
    """Items from a partition's raw attributes: heads decoded, parts joined back in."""
    chunks_by_head: dict[tuple[str, str], dict[str, bytes]] = {}
    heads = []
    for a in raw:
        if PART_OF in a:
            key = (a[PART_OF]["S"], a.get("_ver", {}).get("S", ""))
            chunks_by_head.setdefault(key, {})[a["sk"]["S"]] = bytes(a["_chunk"]["B"])
        elif a["sk"]["S"] != MARKER:
            heads.append(a)
    items: Items = {}
    for a in heads:
        bundle = None
        if "_parts" in a:
            got = chunks_by_head.get((a["sk"]["S"], a["_ver"]["S"]), {})
            n = int(a["_parts"]["N"])
            want = [part_key(a["sk"]["S"], a["_ver"]["S"], i) for i in range(n)]
            if all(k in got for k in want):
                bundle = b"".join(got[k] for k in want)
            # else: parts missing (tampering): the item comes back short, so the next sync
            # sees it as changed and rewrites it whole.
        item = decode_item(a, bundle)
        items[item["sk"]] = item
    return items


# --------------------------------------------------------------------------- the store


class DynamoDBStore:
    """DialogueStore + AnalyticsStore over one DynamoDB table (see the module docstring)."""

    backend = "dynamodb"

    def __init__(
        self,
        table: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        max_attempts: int = 10,
        retry_mode: str = "standard",
        batch_retries: int = 10,
        timeout: float = 20.0,
    ) -> None:
        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self.batch_retries = batch_retries
        self._layouts: dict[str, _Layout] = {}
        with self._errors("connect"):
            import boto3
            from botocore.config import Config as BotoConfig

            session = boto3.session.Session(profile_name=profile or None)
            self.client = session.client(
                "dynamodb",
                region_name=region or None,
                endpoint_url=endpoint_url or None,
                config=BotoConfig(
                    retries={"mode": retry_mode, "max_attempts": max_attempts},
                    connect_timeout=min(timeout, 5.0),
                    read_timeout=timeout,
                ),
            )
            self.region = self.client.meta.region_name

    @classmethod
    def from_config(cls, config: Config) -> DynamoDBStore:
        d = config.dynamodb
        return cls(
            table=str(d.get("table") or "blue_dialogues"),
            region=d.get("region"),
            endpoint_url=d.get("endpoint_url"),
            profile=d.get("profile"),
            max_attempts=int(d.get("max_attempts") or 10),
            retry_mode=str(d.get("retry_mode") or "standard"),
        )

    # ---- errors

    @property
    def where(self) -> str:
        at = self.endpoint_url or f"AWS region {self.region}"
        return f"DynamoDB table '{self.table}' at {at}"

    @contextmanager
    def _errors(self, op: str) -> Iterator[None]:
        """Translate botocore failures into one-line StoreUnavailable messages."""
        from botocore import exceptions as bx

        try:
            yield
        except (bx.NoCredentialsError, bx.PartialCredentialsError):
            raise StoreUnavailable(
                "DynamoDB: no AWS credentials found; set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run `aws configure`)") from None
        except bx.NoRegionError:
            raise StoreUnavailable(
                "DynamoDB: no AWS region configured; set storage.dynamodb.region in "
                ".blue/config.yaml or BLUE_INDEX_DYNAMODB_REGION / AWS_REGION") from None
        except bx.ProfileNotFound as e:
            raise StoreUnavailable(f"DynamoDB: {e}; fix AWS_PROFILE or "
                                   f"storage.dynamodb.profile") from None
        except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ConnectTimeoutError,
                bx.ReadTimeoutError, bx.HTTPClientError):
            raise StoreUnavailable(
                f"{self.where}: cannot reach the endpoint ({op}); check endpoint_url, the "
                f"network, or that the local DynamoDB server is running") from None
        except bx.ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    f"{self.where} does not exist; create it with `blue-index table create`"
                ) from None
            if code in _UNAVAILABLE_CODES:
                raise StoreUnavailable(
                    f"{self.where}: {op} failed: {_UNAVAILABLE_CODES[code]}") from None
            raise

    # ---- low-level helpers

    def _query(self, **kw: Any) -> Iterator[dict[str, Any]]:
        """Every item of a (paginated) Query."""
        kw["TableName"] = self.table
        while True:
            with self._errors("Query"):
                resp = self.client.query(**kw)
            yield from resp.get("Items", [])
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kw["ExclusiveStartKey"] = last

    def _partition(self, dialogue_id: str, keys_only: bool = False) -> list[dict[str, Any]]:
        kw: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition_key(dialogue_id)}},
            "ConsistentRead": True,
        }
        if keys_only:
            kw["ProjectionExpression"] = "pk, sk, #k, #j, #po, #v, #c"
            kw["ExpressionAttributeNames"] = {"#k": "kind", "#j": "_j", "#po": PART_OF,
                                              "#v": "_ver", "#c": "_counts"}
        return list(self._query(**kw))

    def _index(self, index: str, value: str) -> Iterator[dict[str, Any]]:
        pk_attr = INDEXES[index][0]
        return self._query(
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": pk_attr},
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem by 25; UnprocessedItems retried with capped backoff + full jitter."""
        for chunk in chunks(requests, BATCH):
            pending: dict[str, Any] = {self.table: chunk}
            attempt = 0
            while pending:
                with self._errors("BatchWriteItem"):
                    resp = self.client.batch_write_item(RequestItems=pending)
                pending = {t: r for t, r in (resp.get("UnprocessedItems") or {}).items() if r}
                if pending:
                    attempt += 1
                    if attempt > self.batch_retries:
                        raise StoreUnavailable(
                            f"{self.where}: writes still unprocessed after {attempt} "
                            f"retries (throttled); retry later or raise the table's capacity")
                    time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))

    def _layout(self, dialogue_id: str) -> _Layout:
        lay = self._layouts.get(dialogue_id)
        if lay is None:
            lay = _layout_of(self._partition(dialogue_id, keys_only=True))
            self._layouts[dialogue_id] = lay
        return lay

    def _resolve_parts(self, attrs: dict[str, Any]) -> Item:
        """Decode an index item; a head split into parts is re-read from its partition."""
        if "_parts" not in attrs:
            return decode_item(attrs)
        pk, sk = attrs["pk"]["S"], attrs["sk"]["S"]
        raw = list(self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":sk": {"S": sk}},
            ConsistentRead=True,
        ))
        return _assemble([a for a in raw if a["sk"]["S"] == sk or PART_OF in a]).get(sk) \
            or decode_item(attrs)

    # ---- DialogueStore

    def load(self, dialogue_id: str) -> Items:
        raw = self._partition(dialogue_id)
        self._layouts[dialogue_id] = _layout_of(raw)
        return _assemble(raw)

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for a in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :f)",
            ExpressionAttributeValues={":pk": {"S": partition_key(dialogue_id)},
                                       ":f": {"S": "file#"}},
            ProjectionExpression="#p, #h",
            ExpressionAttributeNames={"#p": "path", "#h": "sha256"},
            ConsistentRead=True,
        ):
            path, digest = a.get("path", {}).get("S"), a.get("sha256", {}).get("S")
            if path is not None and digest is not None:
                out[path] = digest
        return out

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str]) -> int:
        """Order: new parts; other items (+ the marker); stale parts; file items last. A
        crash at any point leaves a file item unwritten, so the next sync redoes the rest."""
        if not puts and not deletes:
            return 0
        put_sks = [p.get("sk") for p in puts]
        if len(set(put_sks)) != len(put_sks) or set(put_sks) & set(deletes):
            raise ValueError(f"write({dialogue_id}): a sort key is put or deleted twice")
        lay = self._layout(dialogue_id)
        self._layouts.pop(dialogue_id, None)  # unknown until every group is written
        pk = {"S": partition_key(dialogue_id)}
        part_puts: list[dict[str, Any]] = []
        heads: list[dict[str, Any]] = []
        files: list[dict[str, Any]] = []
        new_parts: dict[str, list[str]] = {}
        stale: list[str] = list(lay.orphans)
        for item in puts:
            head, parts = encode_item(dialogue_id, item)
            sk = item["sk"]
            part_puts += [{"PutRequest": {"Item": p}} for p in parts]
            new_parts[sk] = [p["sk"]["S"] for p in parts]
            (files if sk.startswith("file#") else heads).append({"PutRequest": {"Item": head}})
            stale += lay.parts.get(sk, [])
        for sk in deletes:
            req = {"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": sk}}}}
            (files if sk.startswith("file#") else heads).append(req)
            stale += lay.parts.get(sk, [])
        keep = {s for ps in new_parts.values() for s in ps}
        stale_reqs = [{"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": s}}}}
                      for s in sorted(set(stale) - keep)]
        # The layout after this write, and the marker it needs.
        for item in puts:
            kind = item.get("kind")
            lay.heads[item["sk"]] = kind if isinstance(kind, str) else None
        for sk in deletes:
            lay.heads.pop(sk, None)
            lay.parts.pop(sk, None)
        for sk, ps in new_parts.items():
            if ps:
                lay.parts[sk] = ps
            else:
                lay.parts.pop(sk, None)
        lay.orphans = []
        counts = lay.kind_counts()
        marker_last: list[dict[str, Any]] = []
        if lay.heads and counts != lay.counts:
            heads.append({"PutRequest": {"Item": self._marker(dialogue_id, counts)}})
            lay.counts = counts
        elif not lay.heads and lay.counts is not None:
            marker_last.append({"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": MARKER}}}})
            lay.counts = None
        for group in (part_puts, heads, stale_reqs, files, marker_last):
            self._batch_write(group)
        self._layouts[dialogue_id] = lay
        return len(puts) + len(deletes)

    @staticmethod
    def _marker(dialogue_id: str, counts: dict[str, int]) -> dict[str, Any]:
        return {"pk": {"S": partition_key(dialogue_id)}, "sk": {"S": MARKER},
                "_cat": {"S": "partition"}, "_cat_sk": {"S": dialogue_id},
                "_counts": {"S": _dumps(counts)}}

    def delete_dialogue(self, dialogue_id: str) -> int:
        """Everything but the file items, then the file items, then the marker."""
        raw = self._partition(dialogue_id, keys_only=True)
        pk = {"S": partition_key(dialogue_id)}
        sks = [a["sk"]["S"] for a in raw]
        heads = [s for a, s in zip(raw, sks, strict=True) if PART_OF not in a and s != MARKER]
        files = [s for s in heads if s.startswith("file#")]
        first = [s for s in sks if s != MARKER and s not in files]
        last = [s for s in sks if s == MARKER]
        for group in (first, files, last):
            self._batch_write([{"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": s}}}}
                               for s in group])
        self._layouts.pop(dialogue_id, None)
        return len(heads)

    # ---- AnalyticsStore

    def _partitions(self) -> list[tuple[str, dict[str, int]]]:
        """``(dialogue_id, counts by kind)`` of every partition, from the markers."""
        out = []
        for a in self._index("by_category", "partition"):
            counts = json.loads(a["_counts"]["S"]) if "_counts" in a else {}
            out.append((a["_cat_sk"]["S"], counts))
        return sorted(out)

    def dialogue_ids(self) -> list[str]:
        """Every partition holding at least one item (one index Query)."""
        return [did for did, _ in self._partitions()]

    def _with_ids(self, index: str, value: str) -> list[Item]:
        """Items of an index partition, each with ``dialogue_id``, by (dialogue, sk)."""
        found = []
        for a in self._index(index, value):
            item = self._resolve_parts(a)
            did = a["pk"]["S"].split("#", 1)[1]
            item["dialogue_id"] = did
            found.append(((did, a["sk"]["S"]), item))
        return [i for _, i in sorted(found, key=lambda t: t[0])]

    def dialogues(self) -> list[Item]:
        """Meta items (each with ``dialogue_id``), by id."""
        return self._with_ids("by_category", "dialogue")

    def open_tensions(self) -> list[Item]:
        """Tension items (with ``dialogue_id``) whose status is not ``resolved``."""
        return self._with_ids("by_category", "open-tension")

    def by_status(self, kind: str, status: str) -> list[Item]:
        """Meta (``kind="dialogue"``) or tension items with a status, via by_status."""
        return self._with_ids("by_status", f"{kind}#{status}")

    def contributions(self, expert: str) -> list[dict[str, Any]]:
        """``{"dialogue_id", "sk", "block_kind", "round", "id"}`` of an expert's blocks."""
        out = []
        for a in self._index("by_expert", expert):
            rnd = a.get("round", {})
            out.append({
                "dialogue_id": a["pk"]["S"].split("#", 1)[1], "sk": a["sk"]["S"],
                "block_kind": a.get("block_kind", {}).get("S"),
                "round": int(rnd["N"]) if "N" in rnd else None,
                "id": a.get("id", {}).get("S"),
            })
        return sorted(out, key=lambda c: (c["dialogue_id"], c["sk"]))

    def counts(self) -> dict[str, int]:
        """Items per kind (every kind, 0 when none) plus ``dialogues`` (partitions)."""
        out = dict.fromkeys(SCHEMA, 0)
        parts = self._partitions()
        for _, counts in parts:
            for kind, n in counts.items():
                out[kind] = out.get(kind, 0) + int(n)
        out["dialogues"] = len(parts)
        return out

    def all_file_hashes(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for a in self._index("files", "file"):
            did = a["pk"]["S"].split("#", 1)[1]
            path, digest = a.get("path", {}).get("S"), a.get("sha256", {}).get("S")
            if path is not None and digest is not None:
                out.setdefault(did, {})[path] = digest
        return dict(sorted((d, dict(sorted(h.items()))) for d, h in out.items()))

    def search(self, query: str, dialogue_id: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[Item]:
        """DynamoDB has no text index: load each searched partition (one Query each; all of
        them without ``dialogue_id``) and rank in memory exactly as the SQLite store does."""
        from .memsearch import search_partitions

        ids = [dialogue_id] if dialogue_id is not None else self.dialogue_ids()
        return search_partitions(self.load, ids, query, kind, limit)

    # ---- administration

    def create_table(self, wait: bool = True) -> bool:
        """Create the table and its indexes (on-demand billing). True if it was created,
        False if it already existed; waits until ACTIVE either way."""
        attrs = {"pk", "sk"} | {a for pk_, sk_, _ in INDEXES.values() for a in (pk_, sk_)}
        gsis = []
        for name, (pk_, sk_, include) in INDEXES.items():
            proj: dict[str, Any] = {"ProjectionType": "ALL"}
            if include is not None:
                proj = {"ProjectionType": "INCLUDE", "NonKeyAttributes": include}
            gsis.append({
                "IndexName": name,
                "KeySchema": [{"AttributeName": pk_, "KeyType": "HASH"},
                              {"AttributeName": sk_, "KeyType": "RANGE"}],
                "Projection": proj,
            })
        created = True
        from botocore.exceptions import ClientError

        try:
            with self._errors("CreateTable"):
                self.client.create_table(
                    TableName=self.table,
                    AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                          for a in sorted(attrs)],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                    GlobalSecondaryIndexes=gsis,
                    BillingMode="PAY_PER_REQUEST",
                )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
            created = False
        if wait:
            with self._errors("DescribeTable"):
                self.client.get_waiter("table_exists").wait(
                    TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 300})
        missing = set(INDEXES) - set(self.describe().get("indexes", []))
        if missing:
            raise StoreUnavailable(
                f"{self.where} exists without the indexes {sorted(missing)}; it was not "
                f"created by blue-index: use another table name (storage.dynamodb.table)")
        return created

    def delete_table(self) -> None:
        with self._errors("DeleteTable"):
            self.client.delete_table(TableName=self.table)

    def describe(self) -> dict[str, Any]:
        with self._errors("DescribeTable"):
            t = self.client.describe_table(TableName=self.table)["Table"]
        return {
            "backend": "dynamodb",
            "table": self.table,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "status": t.get("TableStatus"),
            "items_approx": t.get("ItemCount"),
            "indexes": sorted(g["IndexName"] for g in t.get("GlobalSecondaryIndexes", [])),
        }

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DynamoDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
