"""The DynamoDB backend: one table, one partition per dialogue (RFC 0058 layout), via boto3,
safe for many writers (several machines' daemons, hooks, CI) on the same table.

Table layout (created by ``blue-index table create``; on-demand billing):

===========  ===============================  ==========================  ============
index        partition key                    sort key                    projection
===========  ===============================  ==========================  ============
table        ``pk`` = ``dialogue#{id}``       ``sk`` = the item's sk      all
             or ``registry`` (control items)  or ``dialogue#{id}``
by_category  ``_cat`` = ``dialogue`` (meta)   ``_cat_sk`` = ``{id}#{sk}``  all
             or ``open-tension``
by_status    ``_status`` =                    ``_status_sk``              all
             ``{dialogue|tension}#{status}``
by_expert    ``_expert`` = block's expert     ``_expert_sk``              keys + kind,
                                                                          round, id
files        ``_file`` = ``file#{00..15}``    ``_file_sk``                keys + path,
             (a shard of the dialogue id)                                 sha256
===========  ===============================  ==========================  ============

The indexes are sparse (only items carrying the key attribute appear), so no command ever
Scans; keys and values are encoded by ``dynamo_items`` (bounded sort keys, namespaces).

**Revisions (many writers).** Each dialogue has a control item in the ``registry``
partition: ``rev`` (committed revision), ``state`` (``committed`` or ``writing``), the
writer's token and lease while writing, and what the committed revision holds: ``files``
(``{path: sha256}``, zlib-compressed JSON), ``counts`` (items by kind) and ``prov`` (where the
content came from). A write is: (1) the load (one Query), computed against the revision R
the writer read *before* it (the registry Query of the run, or a GetItem); (2) *begin*, one
conditional UpdateItem: ``rev = R AND state = committed`` -> ``state = writing`` with a
token and a lease (a new dialogue: ``attribute_not_exists(rev)``; a dead writer's unfinished
write: ``rev = R AND writer = its token``); (3) the diff in BatchWriteItem chunks of 25; (4)
*commit*, one conditional UpdateItem: ``writer = my token`` -> ``rev = R + 1``, ``state =
committed``, the new files/counts/provenance. A failed begin or commit is Conflict: the
caller reloads, re-diffs and retries. Since begin succeeds only if no write began after R
was read, and R was read before the load, the diff is always against exactly revision R:
two writers never interleave their batches, and the partition always equals one writer's
full tree.

**Snapshot rule (readers).** ``load`` reads the control item (GetItem), Queries the partition,
and reads the control item again: it returns only when both reads show the same committed
revision (else it retries, a bounded number of times). A write in progress is waited for
(bounded, ``wait_s``); an unfinished write of a dead writer is an error naming the fix.
Requests per changed dialogue: 1 Query + ceil(items/25) BatchWriteItem + 2 UpdateItem (+1
BatchWriteItem when a data key is written: it goes first, alone); per run: 1 registry Query.

**Leases.** A writer's lease (``lease_s``, default 120 s) bounds how long a crashed writer
blocks others: after it (clocks assumed within ``CLOCK_SKEW_S``), or at once when the writer
is a dead process on this host, the next writer takes the write over; a writer gives up
before a batch once its own lease is nearly spent, so a taken-over writer never writes on.

``hook``: a test seam. When set, ``hook(point, dialogue_id)`` runs at ``loaded`` (end of
``load_for_update``), ``begun``, ``batch`` (after each batch) and ``commit`` (before the
commit), so tests can pause writers and force interleavings; production never sets it.

Errors: botocore retries transient failures (``max_attempts``, default 3) with connect and
read timeouts (3 s, 6 s), so an endpoint that accepts and never answers fails in about
20 s; throttling is retried further here with capped backoff and full jitter, and any other
service error is one line (StoreUnavailable, exit 3).

search() has no server-side full-text index to use: it loads the partition of each dialogue
searched and matches in memory exactly like SQLite's FTS5 (see ``memsearch``).
"""

from __future__ import annotations

import json
import os
import random
import socket
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..items import SCHEMA, Item, Items
from .base import Conflict, Revision, StoreUnavailable, chunks
from .dynamo_items import (
    MAX_INDEX_KEY_BYTES,
    PART_OF,
    Keys,
    Layout,
    assemble,
    bounded,
    decode_item,
    dumps,
    encode_item,
    layout_of,
    part_key,
    physical_sk,
)

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["DynamoDBStore", "encode_item", "decode_item", "part_key", "INDEXES"]

BATCH = 25
LEASE_S = 120.0
LEASE_MARGIN_S = 20.0  # a writer stops this long before its lease ends
CLOCK_SKEW_S = 15.0
WAIT_S = 10.0  # how long a reader or writer waits for another writer's commit
READ_ATTEMPTS = 8  # snapshot reads retried when a commit lands during the Query
# A dialogue missing from a registry read this recent is taken as new (no GetItem before its
# load); if it was created meanwhile, the begin condition catches it (Conflict, retried).
LISTING_TTL_S = 60.0
MAX_FILES_BYTES = 300_000  # a bigger file map is not kept in the control item
COMMITTED, WRITING = "committed", "writing"
HOST = socket.gethostname()

INDEXES: dict[str, tuple[str, str, list[str] | None]] = {
    # name: (partition attribute, sort attribute, INCLUDE list or None for ALL)
    "by_category": ("_cat", "_cat_sk", None),
    "by_status": ("_status", "_status_sk", None),
    "by_expert": ("_expert", "_expert_sk", ["block_kind", "round", "id"]),
    "files": ("_file", "_file_sk", ["path", "sha256"]),
}

_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException",
              "RequestLimitExceeded"}
# Error codes that mean "the store is not usable as configured", with what to do.
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


class _Throttled(StoreUnavailable):
    """Still throttled after botocore's retries: retried again by ``_call``."""


class _ConditionFailed(Exception):
    """A condition expression did not hold (handled where the condition was written)."""


def partition_key(dialogue_id: str) -> str:
    return Keys().pk(dialogue_id)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@dataclass(slots=True)
class _Control:
    """A dialogue's control item in the registry partition (see the module docstring)."""

    did: str
    exists: bool = False
    rev: int = 0
    state: str = COMMITTED
    writer: str | None = None
    since: float = 0.0
    lease: float = LEASE_S
    files: dict[str, str] | None = None  # None: not recorded here (too big, or legacy)
    big: bool = False  # the file map was too big for this item: read the file items
    counts: dict[str, int] = field(default_factory=dict)
    prov: dict[str, Any] | None = None

    @classmethod
    def parse(cls, did: str, a: dict[str, Any] | None) -> _Control:
        if not a:
            return cls(did)
        files = None
        if "files" in a:
            files = json.loads(zlib.decompress(bytes(a["files"]["B"])))
        return cls(
            did=a.get("did", {}).get("S", did), exists=True,
            rev=int(a.get("rev", {}).get("N", "0")),
            state=a.get("state", {}).get("S", COMMITTED),
            writer=a.get("writer", {}).get("S"),
            since=float(a.get("since", {}).get("N", "0")),
            lease=float(a.get("lease", {}).get("N", str(LEASE_S))),
            files=files, big=bool(a.get("files_big", {}).get("BOOL")),
            counts=json.loads(a["counts"]["S"]) if "counts" in a else {},
            prov=json.loads(a["prov"]["S"]) if "prov" in a else None,
        )

    @property
    def writing(self) -> bool:
        return self.state == WRITING

    def abandoned(self, failed: set[str], skew: float = CLOCK_SKEW_S) -> bool:
        """A write in progress whose writer is gone: its lease ran out (``skew``: how far
        clocks may disagree), it is a dead process on this host, or it is this store's own
        write that failed."""
        if not self.writing or self.writer is None:
            return False
        if self.writer in failed or time.time() > self.since + self.lease + skew:
            return True
        host, _, rest = self.writer.partition("|")
        pid = rest.split("|", 1)[0]
        return host == HOST and pid.isdigit() and not _alive(int(pid))

    def revision(self, layout: Layout | None = None) -> Revision:
        repair = self.writing
        if layout is not None:
            repair = repair or bool(layout.orphans) or (bool(layout.heads) and (
                not self.exists or (self.files is not None and self.files != layout.files)))
        return Revision(self.rev, self.writer if self.writing else None, self.prov, repair)


# --------------------------------------------------------------------------- the store


class DynamoDBStore:
    """DialogueStore + AnalyticsStore over one DynamoDB table (see the module docstring)."""

    backend = "dynamodb"
    shared = True  # many machines write one table: provenance rules apply

    def __init__(
        self,
        table: str,
        region: str | None = None,
        endpoint_url: str | None = None,
        profile: str | None = None,
        max_attempts: int = 3,
        retry_mode: str = "standard",
        batch_retries: int = 10,
        connect_timeout: float = 3.0,
        read_timeout: float = 6.0,
        namespace: str = "",
        lease_s: float = LEASE_S,
        wait_s: float = WAIT_S,
        throttle_retries: int = 8,
        clock_skew_s: float = CLOCK_SKEW_S,
    ) -> None:
        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self.batch_retries = batch_retries
        self.throttle_retries = throttle_retries
        self.max_attempts = max_attempts
        self.read_timeout = read_timeout
        self.namespace = namespace
        self.keys = Keys(namespace)
        self.lease_s = lease_s
        self.wait_s = wait_s
        self.clock_skew_s = clock_skew_s
        self.hook: Callable[[str, str], None] | None = None
        self._layouts: dict[str, tuple[int, Layout]] = {}
        # control items read before a load (change detection), with when they were read
        self._controls: dict[str, tuple[float, _Control]] = {}
        self._listed_at: float | None = None  # when the registry was last read whole
        self._listed: set[str] = set()  # the dialogues it had
        self._failed: set[str] = set()  # tokens of this store's writes that did not commit
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
                    connect_timeout=connect_timeout,
                    read_timeout=read_timeout,
                ),
            )
            self.region = self.client.meta.region_name

    @classmethod
    def from_config(cls, config: Config) -> DynamoDBStore:
        from ..provenance import expand_namespace

        d = config.dynamodb
        kw: dict[str, Any] = {}
        for name in ("connect_timeout", "read_timeout", "lease_s", "wait_s"):
            if d.get(name) is not None:
                kw[name] = float(d[name])
        return cls(
            table=str(d.get("table") or "blue_dialogues"),
            region=d.get("region"),
            endpoint_url=d.get("endpoint_url"),
            profile=d.get("profile"),
            max_attempts=int(d.get("max_attempts") or 3),
            retry_mode=str(d.get("retry_mode") or "standard"),
            namespace=expand_namespace(str(d.get("namespace") or ""), config.dialogues),
            **kw,
        )

    # ---- errors

    @property
    def where(self) -> str:
        at = self.endpoint_url or f"AWS region {self.region}"
        ns = f" (namespace '{self.namespace}')" if self.namespace else ""
        return f"DynamoDB table '{self.table}'{ns} at {at}"

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
        except bx.ReadTimeoutError:
            raise StoreUnavailable(
                f"{self.where}: the endpoint did not answer {op} within "
                f"{self.read_timeout:g} s ({self.max_attempts} attempts); check endpoint_url "
                f"and that the server is healthy") from None
        except (bx.EndpointConnectionError, bx.ConnectionClosedError, bx.ConnectTimeoutError,
                bx.HTTPClientError):
            raise StoreUnavailable(
                f"{self.where}: cannot reach the endpoint ({op}); check endpoint_url, the "
                f"network, or that the local DynamoDB server is running") from None
        except bx.ClientError as e:
            err = e.response.get("Error", {})
            code = err.get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed(op) from None
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    f"{self.where} does not exist; create it with `blue-index table create`"
                ) from None
            if code in _THROTTLED:
                raise _Throttled(
                    f"{self.where}: {op} failed: {_UNAVAILABLE_CODES[code]}") from None
            if code in _UNAVAILABLE_CODES:
                raise StoreUnavailable(
                    f"{self.where}: {op} failed: {_UNAVAILABLE_CODES[code]}") from None
            text = " ".join(str(err.get("Message") or e).split())
            raise StoreUnavailable(f"{self.where}: {op} failed: {code or 'error'}: "
                                   f"{text[:300]}") from None

    def _call(self, op: str, **kw: Any) -> dict[str, Any]:
        """One API call (``op`` in CamelCase); throttling retried here beyond botocore's
        attempts, with capped exponential backoff and full jitter."""
        method = getattr(self.client, "".join(
            "_" + c.lower() if c.isupper() else c for c in op).lstrip("_"))
        attempt = 0
        while True:
            try:
                with self._errors(op):
                    return method(**kw)
            except _Throttled:
                attempt += 1
                if attempt > self.throttle_retries:
                    raise
                time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))

    def _hook(self, point: str, dialogue_id: str) -> None:
        if self.hook is not None:
            self.hook(point, dialogue_id)

    # ---- low-level helpers

    def _query(self, **kw: Any) -> Iterator[dict[str, Any]]:
        """Every item of a (paginated) Query."""
        kw["TableName"] = self.table
        while True:
            resp = self._call("Query", **kw)
            yield from resp.get("Items", [])
            last = resp.get("LastEvaluatedKey")
            if not last:
                return
            kw["ExclusiveStartKey"] = last

    def _partition(self, dialogue_id: str, keys_only: bool = False) -> list[dict[str, Any]]:
        kw: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self.keys.pk(dialogue_id)}},
            "ConsistentRead": True,
        }
        if keys_only:
            kw["ProjectionExpression"] = "pk, sk, #k, #j, #po, #v, #l, #p, #h"
            kw["ExpressionAttributeNames"] = {"#k": "kind", "#j": "_j", "#po": PART_OF,
                                              "#v": "_ver", "#l": "_sk", "#p": "path",
                                              "#h": "sha256"}
        return list(self._query(**kw))

    def _index(self, index: str, value: str) -> Iterator[dict[str, Any]]:
        pk_attr = INDEXES[index][0]
        return self._query(
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": pk_attr},
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def _batch_write(self, requests: list[dict[str, Any]], dialogue_id: str = "",
                     deadline: float | None = None) -> None:
        """BatchWriteItem by 25; UnprocessedItems retried with capped backoff + full jitter."""
        for chunk in chunks(requests, BATCH):
            if deadline is not None and time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"{self.where}: writing dialogue {dialogue_id} took longer than its "
                    f"lease ({self.lease_s:g} s), so another writer may take it over; "
                    "stopped; rerun the sync")
            pending: dict[str, Any] = {self.table: chunk}
            attempt = 0
            while pending:
                resp = self._call("BatchWriteItem", RequestItems=pending)
                pending = {t: r for t, r in (resp.get("UnprocessedItems") or {}).items() if r}
                if pending:
                    attempt += 1
                    if attempt > self.batch_retries:
                        raise StoreUnavailable(
                            f"{self.where}: writes still unprocessed after {attempt} "
                            f"retries (throttled); retry later or raise the table's capacity")
                    time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
            self._hook("batch", dialogue_id)

    def _layout(self, dialogue_id: str, rev: int) -> Layout:
        """The partition's layout at revision ``rev`` (the load's, else a keys-only Query)."""
        cached = self._layouts.pop(dialogue_id, None)
        if cached is not None and cached[0] == rev:
            return cached[1]
        return layout_of(self._partition(dialogue_id, keys_only=True))

    def _resolve_parts(self, attrs: dict[str, Any]) -> Item:
        """Decode an index item; a head split into parts is re-read from its partition."""
        if "_parts" not in attrs:
            return decode_item(attrs)
        pk, phys = attrs["pk"]["S"], attrs["sk"]["S"]
        raw = list(self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":sk": {"S": phys}},
            ConsistentRead=True,
        ))
        return assemble([a for a in raw if a["sk"]["S"] == phys or PART_OF in a]).get(
            decode_item(attrs)["sk"]) or decode_item(attrs)

    # ---- control items (registry partition)

    def _control_key(self, dialogue_id: str) -> dict[str, Any]:
        return {"pk": {"S": self.keys.registry},
                "sk": {"S": physical_sk(f"dialogue#{dialogue_id}")}}

    def _get_control(self, dialogue_id: str) -> _Control:
        r = self._call("GetItem", TableName=self.table, Key=self._control_key(dialogue_id),
                       ConsistentRead=True)
        return _Control.parse(dialogue_id, r.get("Item"))

    def _registry(self) -> list[_Control]:
        """Every control item: one consistent Query of the registry partition."""
        out = []
        for a in self._query(KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": self.keys.registry}},
                             ConsistentRead=True):
            out.append(_Control.parse(a.get("did", {}).get("S", ""), a))
        return out

    def _settled(self, ctl: _Control) -> _Control:
        """``ctl``, or a fresher one once another live writer's write has committed; waits
        at most ``wait_s`` (then a one-line error naming the writer)."""
        deadline = time.monotonic() + self.wait_s
        delay = 0.02
        while ctl.writing and not ctl.abandoned(self._failed, self.clock_skew_s):
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"{self.where}: dialogue {ctl.did} is being written by {ctl.writer} since "
                    f"{_when(ctl.since)}; waited {self.wait_s:g} s for it to commit; retry "
                    "in a moment")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
            ctl = self._get_control(ctl.did)
        return ctl

    def _begin(self, dialogue_id: str, expect: Revision) -> str:
        """The conditional UpdateItem that makes this writer the partition's only writer."""
        token = f"{HOST}|{os.getpid()}|{uuid.uuid4().hex[:12]}"
        names = {"#r": "rev", "#s": "state", "#w": "writer", "#t": "since", "#l": "lease",
                 "#d": "did"}
        values: dict[str, Any] = {
            ":writing": {"S": WRITING}, ":w": {"S": token}, ":t": {"N": repr(time.time())},
            ":l": {"N": repr(self.lease_s)}, ":d": {"S": dialogue_id}, ":zero": {"N": "0"}}
        if expect.writer is not None:  # take over a dead writer's unfinished write
            cond = "#r = :r AND #w = :old"
            values[":r"], values[":old"] = {"N": str(expect.number)}, {"S": expect.writer}
        elif expect.number == 0:
            cond = "attribute_not_exists(#r)"
        else:
            cond = "#r = :r AND #s = :committed"
            values[":r"], values[":committed"] = {"N": str(expect.number)}, {"S": COMMITTED}
        try:
            self._call("UpdateItem", TableName=self.table, Key=self._control_key(dialogue_id),
                       UpdateExpression="SET #s = :writing, #w = :w, #t = :t, #l = :l, "
                                        "#d = :d, #r = if_not_exists(#r, :zero)",
                       ConditionExpression=cond, ExpressionAttributeNames=names,
                       ExpressionAttributeValues=values)
        except _ConditionFailed:
            raise Conflict(f"{self.where}: dialogue {dialogue_id} changed since it was loaded "
                           f"(another writer got in after revision {expect.number})") from None
        return token

    def _commit(self, dialogue_id: str, token: str, rev: int, lay: Layout,
                provenance: dict[str, Any] | None) -> None:
        names = {"#r": "rev", "#s": "state", "#w": "writer", "#t": "since", "#l": "lease",
                 "#c": "counts", "#f": "files"}
        values: dict[str, Any] = {":r": {"N": str(rev)}, ":committed": {"S": COMMITTED},
                                  ":w": {"S": token}, ":c": {"S": dumps(lay.kind_counts())}}
        sets = "#r = :r, #s = :committed, #c = :c"
        removes = "#w, #t, #l"
        files = zlib.compress(dumps(dict(sorted(lay.files.items()))).encode(), 6)
        names["#b"] = "files_big"
        if len(files) <= MAX_FILES_BYTES:
            sets += ", #f = :f"
            values[":f"] = {"B": files}
            removes += ", #b"
        else:  # read from the partition's file items instead (file_hashes)
            sets += ", #b = :big"
            values[":big"] = {"BOOL": True}
            removes += ", #f"
        if provenance is not None:
            sets += ", #p = :p"
            names["#p"] = "prov"
            values[":p"] = {"S": dumps(provenance)}
        try:
            self._call("UpdateItem", TableName=self.table, Key=self._control_key(dialogue_id),
                       UpdateExpression=f"SET {sets} REMOVE {removes}",
                       ConditionExpression="#w = :w", ExpressionAttributeNames=names,
                       ExpressionAttributeValues=values)
        except _ConditionFailed:
            raise Conflict(f"{self.where}: dialogue {dialogue_id}: this write was taken over "
                           "by another writer before it committed") from None

    # ---- DialogueStore

    def load(self, dialogue_id: str) -> Items:
        """A whole committed revision (the snapshot rule in the module docstring)."""
        for _ in range(READ_ATTEMPTS):
            before = self._settled(self._get_control(dialogue_id))
            if before.writing:
                raise StoreUnavailable(
                    f"{self.where}: dialogue {dialogue_id}: a sync by {before.writer} started "
                    f"{_when(before.since)} did not finish, so the stored dialogue is "
                    "incomplete; run 'blue-index reindex' to complete it")
            raw = self._partition(dialogue_id)
            after = self._get_control(dialogue_id)
            if after.rev == before.rev and not after.writing:
                self._layouts[dialogue_id] = (after.rev, layout_of(raw))
                return assemble(raw)
            time.sleep(random.uniform(0, 0.1))
        raise StoreUnavailable(f"{self.where}: dialogue {dialogue_id} kept changing while being "
                               f"read ({READ_ATTEMPTS} attempts); retry in a moment")

    def load_for_update(self, dialogue_id: str) -> tuple[Items, Revision]:
        """The partition at revision R, where R was read before the Query (from the run's
        registry read or a GetItem); ``write(expect=R)`` then validates it."""
        now = time.monotonic()
        read_at, ctl = self._controls.pop(dialogue_id, (0.0, None))
        if ctl is None or now - read_at > LISTING_TTL_S:
            new = ctl is None and dialogue_id not in self._listed and \
                self._listed_at is not None and now - self._listed_at < LISTING_TTL_S
            ctl = _Control(dialogue_id) if new else self._get_control(dialogue_id)
        ctl = self._settled(ctl)
        raw = self._partition(dialogue_id)
        lay = layout_of(raw)
        self._layouts[dialogue_id] = (ctl.rev, lay)
        rev = ctl.revision(lay)
        self._hook("loaded", dialogue_id)
        return assemble(raw), rev

    def revision(self, dialogue_id: str) -> Revision:
        """From the run's registry read when fresh (a kept dialogue costs no request), else
        one GetItem; a write given it is validated by its begin condition anyway."""
        read_at, ctl = self._controls.get(dialogue_id, (0.0, None))
        if ctl is None or time.monotonic() - read_at > LISTING_TTL_S:
            ctl = self._get_control(dialogue_id)
        return self._settled(ctl).revision()

    def clock(self, dialogue: str | None = None) -> int:
        """The index clock: committed revisions of one dialogue (one GetItem) or of all (one
        registry Query); a deletion is a revision too, so the sum only grows. Interim
        version (issue 17b) until the store's own clock (17a) lands."""
        if dialogue is not None:
            return self._get_control(dialogue).rev
        return sum(c.rev for c in self._registry())

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        """From the control item (one GetItem, strongly consistent, remembered as the revision
        read before the next load); from the partition's file items when not recorded there."""
        ctl = self._get_control(dialogue_id)
        self._controls[dialogue_id] = (time.monotonic(), ctl)
        return self._committed_files(ctl)

    def _committed_files(self, ctl: _Control) -> dict[str, str]:
        """The file hashes of the committed revision. An unfinished write whose writer is
        gone reports none, so the next sync rebuilds that dialogue and finishes the write."""
        if ctl.writing and ctl.abandoned(self._failed, self.clock_skew_s):
            return {}
        if ctl.files is not None:
            return dict(ctl.files)
        if ctl.exists and not ctl.big:  # a first write, not committed yet
            return {}
        return self._partition_files(ctl.did)  # too big for the control item, or legacy

    def _partition_files(self, dialogue_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for a in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :f)",
            ExpressionAttributeValues={":pk": {"S": self.keys.pk(dialogue_id)},
                                       ":f": {"S": "file#"}},
            ProjectionExpression="#p, #h",
            ExpressionAttributeNames={"#p": "path", "#h": "sha256"},
            ConsistentRead=True,
        ):
            path, digest = a.get("path", {}).get("S"), a.get("sha256", {}).get("S")
            if path is not None and digest is not None:
                out[path] = digest
        return out

    def _expect(self, dialogue_id: str) -> Revision:
        """The current revision, for a write not preceded by ``load_for_update``."""
        return self._settled(self._get_control(dialogue_id)).revision()

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str],
              expect: Revision | None = None,
              provenance: dict[str, Any] | None = None) -> int:
        """One revision: begin, the batches (a data key first, alone), commit."""
        if expect is None:
            expect = self._expect(dialogue_id)
        if not puts and not deletes and not expect.repair:
            return 0
        put_sks = [p.get("sk") for p in puts]
        if len(set(put_sks)) != len(put_sks) or set(put_sks) & set(deletes):
            raise ValueError(f"write({dialogue_id}): a sort key is put or deleted twice")
        encoded = [(item, *self.keys.encode(dialogue_id, item)) for item in puts]
        lay = self._layout(dialogue_id, expect.number)
        pk = {"S": self.keys.pk(dialogue_id)}
        first: list[dict[str, Any]] = []
        rest: list[dict[str, Any]] = []
        new_parts: dict[str, list[str]] = {}
        stale: list[str] = list(lay.orphans)
        for item, head, parts in encoded:
            sk = item["sk"]
            rest += [{"PutRequest": {"Item": p}} for p in parts]
            new_parts[sk] = [p["sk"]["S"] for p in parts]
            (first if sk == "datakey" else rest).append({"PutRequest": {"Item": head}})
            stale += lay.parts.get(sk, [])
        for sk in deletes:
            rest.append({"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": physical_sk(sk)}}}})
            stale += lay.parts.get(sk, [])
        keep = {s for ps in new_parts.values() for s in ps}
        rest += [{"DeleteRequest": {"Key": {"pk": pk, "sk": {"S": s}}}}
                 for s in sorted(set(stale) - keep)]
        lay.apply(puts, deletes, new_parts)
        self._commit_write(dialogue_id, expect, [first, rest], lay, provenance)
        return len(puts) + len(deletes)

    def _commit_write(self, dialogue_id: str, expect: Revision,
                      groups: list[list[dict[str, Any]]], lay: Layout,
                      provenance: dict[str, Any] | None) -> None:
        deadline = time.monotonic() + self.lease_s - min(LEASE_MARGIN_S, self.lease_s / 4)
        self._controls.pop(dialogue_id, None)  # stale after this write, whatever happens
        self._listed.add(dialogue_id)  # and no longer known to be absent
        token = self._begin(dialogue_id, expect)
        try:
            self._hook("begun", dialogue_id)
            for group in groups:
                self._batch_write(group, dialogue_id, deadline)
            self._hook("commit", dialogue_id)
            self._commit(dialogue_id, token, expect.number + 1, lay, provenance)
        except BaseException:
            self._failed.add(token)
            raise
        self._layouts[dialogue_id] = (expect.number + 1, lay)

    def delete_dialogue(self, dialogue_id: str, expect: Revision | None = None,
                        provenance: dict[str, Any] | None = None) -> int:
        """Every item of the partition, as one revision (the control item stays, with empty
        files and counts, so revisions keep counting up)."""
        if expect is None:
            expect = self._expect(dialogue_id)
        raw = self._partition(dialogue_id, keys_only=True)
        if not raw and not expect.repair:
            return 0
        lay = layout_of(raw)
        pk = {"S": self.keys.pk(dialogue_id)}
        reqs = [{"DeleteRequest": {"Key": {"pk": pk, "sk": a["sk"]}}} for a in raw]
        self._commit_write(dialogue_id, expect, [reqs], Layout(), provenance)
        return len(lay.heads)

    def put_if_absent(self, dialogue_id: str, item: Item) -> Item:
        """A conditional PutItem (``attribute_not_exists``); the loser gets the winner's item."""
        head, parts = self.keys.encode(dialogue_id, item)
        if parts:
            raise ValueError(f"put_if_absent({dialogue_id}, {item['sk']}): item too big")
        try:
            self._call("PutItem", TableName=self.table, Item=head,
                       ConditionExpression="attribute_not_exists(sk)")
            stored = item
        except _ConditionFailed:
            r = self._call("GetItem", TableName=self.table,
                           Key={"pk": head["pk"], "sk": head["sk"]}, ConsistentRead=True)
            stored = decode_item(r["Item"])
        cached = self._layouts.get(dialogue_id)
        if cached is not None:
            cached[1].heads[item["sk"]] = item.get("kind")
        return stored

    # ---- AnalyticsStore

    def _live(self) -> list[_Control]:
        return sorted((c for c in self._registry() if c.counts), key=lambda c: c.did)

    def dialogue_ids(self) -> list[str]:
        """Every partition holding at least one committed item (one registry Query)."""
        return [c.did for c in self._live()]

    def _with_ids(self, index: str, value: str) -> list[Item]:
        """Items of an index partition (``value``: its key, namespaced and bounded), each
        with ``dialogue_id``, by (dialogue, sk)."""
        found = []
        for a in self._index(index, value):
            item = self._resolve_parts(a)
            did = self.keys.did_of_pk(a["pk"]["S"])
            item["dialogue_id"] = did
            found.append(((did, item["sk"]), item))
        return [i for _, i in sorted(found, key=lambda t: t[0])]

    def dialogues(self) -> list[Item]:
        """Meta items (each with ``dialogue_id``), by id."""
        return self._with_ids("by_category", self.keys.ns("dialogue"))

    def open_tensions(self) -> list[Item]:
        """Tension items (with ``dialogue_id``) whose status is not ``resolved``."""
        return self._with_ids("by_category", self.keys.ns("open-tension"))

    def by_status(self, kind: str, status: str) -> list[Item]:
        """Meta (``kind="dialogue"``) or tension items with a status, via by_status."""
        return self._with_ids("by_status",
                              bounded(self.keys.ns(f"{kind}#{status}"), MAX_INDEX_KEY_BYTES))

    def contributions(self, expert: str) -> list[dict[str, Any]]:
        """``{"dialogue_id", "sk", "block_kind", "round", "id"}`` of an expert's blocks."""
        out = []
        for a in self._index("by_expert", bounded(self.keys.ns(expert), MAX_INDEX_KEY_BYTES)):
            rnd = a.get("round", {})
            out.append({
                "dialogue_id": self.keys.did_of_pk(a["pk"]["S"]),
                "sk": a["_sk"]["S"] if "_sk" in a else a["sk"]["S"],
                "block_kind": a.get("block_kind", {}).get("S"),
                "round": int(rnd["N"]) if "N" in rnd else None,
                "id": a.get("id", {}).get("S"),
            })
        return sorted(out, key=lambda c: (c["dialogue_id"], c["sk"]))

    def counts(self) -> dict[str, int]:
        """Items per kind (every kind, 0 when none) plus ``dialogues`` (partitions)."""
        out = dict.fromkeys(SCHEMA, 0)
        live = self._live()
        for c in live:
            for kind, n in c.counts.items():
                out[kind] = out.get(kind, 0) + int(n)
        out["dialogues"] = len(live)
        return out

    def all_file_hashes(self) -> dict[str, dict[str, str]]:
        """From the registry (one strongly consistent Query of the base table, not an index);
        the control items read are remembered as the revisions the next loads start from."""
        out: dict[str, dict[str, str]] = {}
        self._listed_at = time.monotonic()
        controls = self._registry()
        self._controls = {c.did: (self._listed_at, c) for c in controls}
        self._listed = set(self._controls)
        for c in controls:
            files = self._committed_files(c)
            if files:
                out[c.did] = dict(sorted(files.items()))
        return dict(sorted(out.items()))

    def indexed_files(self) -> dict[str, dict[str, str]]:
        """``{dialogue_id: {path: sha256}}`` from the sharded ``files`` index (eventually
        consistent: for audits and tooling, never for change detection)."""
        from .dynamo_items import FILE_SHARDS

        out: dict[str, dict[str, str]] = {}
        for shard in range(FILE_SHARDS):
            for a in self._index("files", self.keys.ns(f"file#{shard:02d}")):
                did = self.keys.did_of_pk(a["pk"]["S"])
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

        with self._errors("CreateTable"):
            try:
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
            "namespace": self.namespace or None,
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
