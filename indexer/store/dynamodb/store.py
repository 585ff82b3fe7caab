"""The DynamoDB store: DialogueStore + AnalyticsStore over one table (see the package
docstring for the layout, the revision protocol and the snapshot rule)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator
from typing import TYPE_CHECKING, Any

from ...items import SCHEMA, Item, Items
from ..base import EMPTY_MARKER, Revision, StoreUnavailable
from . import admin
from .client import Client, ConditionFailed
from .codec import Attrs, decode_item
from .control import CLOCK_SKEW_S, LEASE_S, WAIT_S, Control, Registry, when
from .keys import FILE_SHARDS, INDEXES, MAX_INDEX_KEY_BYTES, Keys, bounded, physical_sk
from .large import PART_OF, Layout, assemble, layout_of

if TYPE_CHECKING:
    from ...config import Config

LEASE_MARGIN_S = 20.0  # a writer stops this long before its lease ends
READ_ATTEMPTS = 8  # snapshot reads retried when a commit lands during the Query
# A dialogue missing from a registry read this recent is taken as new (no GetItem before its
# load); if it was created meanwhile, the begin condition catches it (Conflict, retried).
LISTING_TTL_S = 60.0
# A control item this store read this recently (the registry, or markers()) answers
# file_hashes without another request: the run's snapshot, as all_file_hashes gives it.
FRESH_READ_S = 5.0
FEW = 8  # markers() of at most this many named dialogues: one GetItem each, else one Query


class DynamoDBStore:
    """DialogueStore + AnalyticsStore over one DynamoDB table.

    ``hook``: a test seam. When set, ``hook(point, dialogue_id)`` runs at ``loaded`` (end of
    ``load_for_update``), ``begun``, ``batch`` (after each batch) and ``commit`` (before the
    commit), so tests can pause writers and force interleavings; production never sets it.
    ``page_size``: items per Query page (default: the service's 1 MB pages).
    """

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
        page_size: int | None = None,
    ) -> None:
        self.namespace = namespace
        self.keys = Keys(namespace)
        self.db = Client(table, region=region, endpoint_url=endpoint_url, profile=profile,
                         max_attempts=max_attempts, retry_mode=retry_mode,
                         connect_timeout=connect_timeout, read_timeout=read_timeout,
                         throttle_retries=throttle_retries, batch_retries=batch_retries,
                         page_size=page_size,
                         label=f" (namespace '{namespace}')" if namespace else "")
        self.registry = Registry(self.db, self.keys, lease_s=lease_s, wait_s=wait_s,
                                 clock_skew_s=clock_skew_s)
        self.hook: Callable[[str, str], None] | None = None
        self._layouts: dict[str, tuple[int, Layout]] = {}
        # control items read before a load (change detection), with when they were read
        self._controls: dict[str, tuple[float, Control]] = {}
        self._listed_at: float | None = None  # when the registry was last read whole
        self._listed: set[str] = set()  # the dialogues it had

    @classmethod
    def from_config(cls, config: Config) -> DynamoDBStore:
        from ...provenance import expand_namespace

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

    @property
    def table(self) -> str:
        return self.db.table

    @property
    def client(self) -> Any:
        """The boto3 client (tests and tools reach the raw API through it)."""
        return self.db.boto

    @property
    def region(self) -> str | None:
        return self.db.region

    @property
    def endpoint_url(self) -> str | None:
        return self.db.endpoint_url

    @property
    def where(self) -> str:
        return self.db.where

    @property
    def lease_s(self) -> float:
        """How long this store's writes hold their lease (settable, e.g. by tests)."""
        return self.registry.lease_s

    @lease_s.setter
    def lease_s(self, value: float) -> None:
        self.registry.lease_s = value

    def _hook(self, point: str, dialogue_id: str) -> None:
        if self.hook is not None:
            self.hook(point, dialogue_id)

    # ---- reads and writes of the partition

    def _partition(self, dialogue_id: str, keys_only: bool = False) -> list[Attrs]:
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
        return list(self.db.query(**kw))

    def _index(self, index: str, value: str) -> Iterator[Attrs]:
        pk_attr = INDEXES[index][0]
        return self.db.query(
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": pk_attr},
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def _batch_write(self, requests: list[Attrs], dialogue_id: str, deadline: float) -> None:
        """The batches of one write; stops before a batch once the lease is nearly spent,
        so a taken-over writer never writes on."""

        def check_lease() -> None:
            if time.monotonic() > deadline:
                raise StoreUnavailable(
                    f"{self.where}: writing dialogue {dialogue_id} took longer than its "
                    f"lease ({self.lease_s:g} s), so another writer may take it over; "
                    "stopped; rerun the sync")

        self.db.batch_write(requests, before=check_lease,
                            after=lambda: self._hook("batch", dialogue_id))

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
        raw = list(self.db.query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":sk": {"S": phys}},
            ConsistentRead=True,
        ))
        return assemble([a for a in raw if a["sk"]["S"] == phys or PART_OF in a]).get(
            decode_item(attrs)["sk"]) or decode_item(attrs)


    # ---- DialogueStore

    def load(self, dialogue_id: str) -> Items:
        """A whole committed revision (the snapshot rule in the module docstring)."""
        for _ in range(READ_ATTEMPTS):
            before = self.registry.settled(self.registry.get(dialogue_id))
            if before.writing:
                raise StoreUnavailable(
                    f"{self.where}: dialogue {dialogue_id}: a sync by {before.writer} started "
                    f"{when(before.since)} did not finish, so the stored dialogue is "
                    "incomplete; run 'blue-index reindex' to complete it")
            raw = self._partition(dialogue_id)
            after = self.registry.get(dialogue_id)
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
            ctl = Control(dialogue_id) if new else self.registry.get(dialogue_id)
        ctl = self.registry.settled(ctl)
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
            ctl = self.registry.get(dialogue_id)
        return self.registry.settled(ctl).revision()

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        """From the control item (one GetItem, strongly consistent, remembered as the revision
        read before the next load); from the partition's file items when not recorded there."""
        read_at, ctl = self._controls.get(dialogue_id, (0.0, None))
        if ctl is None or time.monotonic() - read_at > FRESH_READ_S:
            ctl = self.registry.get(dialogue_id)
            self._controls[dialogue_id] = (time.monotonic(), ctl)
        return self._committed_files(ctl)

    # ---- the index clock and file markers (issue 17; control.py)

    def clock(self, dialogue: str | None = None) -> int:
        """The counter item's value, or the dialogue's control item's (one GetItem)."""
        if dialogue is not None:
            return self.registry.get(dialogue).clock
        return self.registry.clock()

    def markers(self, dialogues: Collection[str] | None = None) -> dict[str, str | None]:
        """From the control items: the run's registry Query (or one GetItem per named
        dialogue, when few), remembered as the revisions the next loads start from."""
        ids = None if dialogues is None else sorted(set(dialogues))
        if ids is not None and len(ids) <= FEW:
            controls = []
            for did in ids:
                ctl = self.registry.get(did)
                self._controls[did] = (time.monotonic(), ctl)
                controls.append(ctl)
        else:
            controls = [c for c in self._list_registry() if ids is None or c.did in ids]
        out: dict[str, str | None] = {}
        for c in controls:
            m = c.files_marker()
            if m != EMPTY_MARKER:
                out[c.did] = m
        return out

    def _committed_files(self, ctl: Control) -> dict[str, str]:
        """The file hashes of the committed revision. An unfinished write whose writer is
        gone reports none, so the next sync rebuilds that dialogue and finishes the write."""
        if ctl.writing and self.registry.abandoned(ctl):
            return {}
        if ctl.files is not None:
            return dict(ctl.files)
        if ctl.exists and not ctl.big:  # a first write, not committed yet
            return {}
        return self._partition_files(ctl.did)  # too big for the control item, or legacy

    def _partition_files(self, dialogue_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for a in self.db.query(
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
        return self.registry.settled(self.registry.get(dialogue_id)).revision()

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
        token = self.registry.begin(dialogue_id, expect)
        try:
            self._hook("begun", dialogue_id)
            for group in groups:
                self._batch_write(group, dialogue_id, deadline)
            self._hook("commit", dialogue_id)
            self.registry.commit(dialogue_id, token, expect.number + 1, lay, provenance)
        except BaseException:
            self.registry.failed.add(token)
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

    def rekey(self, dialogue_id: str) -> int:
        """Nothing is sealed in a plain store: nothing to re-seal (the envelope re-keys)."""
        return 0

    def put_if_absent(self, dialogue_id: str, item: Item) -> Item:
        """A conditional PutItem (``attribute_not_exists``); the loser gets the winner's item."""
        head, parts = self.keys.encode(dialogue_id, item)
        if parts:
            raise ValueError(f"put_if_absent({dialogue_id}, {item['sk']}): item too big")
        try:
            self.db.call("PutItem", TableName=self.db.table, Item=head,
                       ConditionExpression="attribute_not_exists(sk)")
            stored = item
        except ConditionFailed:
            r = self.db.call("GetItem", TableName=self.db.table,
                           Key={"pk": head["pk"], "sk": head["sk"]}, ConsistentRead=True)
            stored = decode_item(r["Item"])
        cached = self._layouts.get(dialogue_id)
        if cached is not None:
            cached[1].heads[item["sk"]] = item.get("kind")
        return stored

    # ---- AnalyticsStore

    def _live(self) -> list[Control]:
        return sorted((c for c in self.registry.all() if c.counts), key=lambda c: c.did)

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
        controls = self._list_registry()
        for c in controls:
            files = self._committed_files(c)
            if files:
                out[c.did] = dict(sorted(files.items()))
        return dict(sorted(out.items()))

    def _list_registry(self) -> list[Control]:
        """The registry, remembered: its control items as the revisions the next loads
        start from, and which dialogues exist."""
        self._listed_at = time.monotonic()
        controls = self.registry.all()
        self._controls = {c.did: (self._listed_at, c) for c in controls}
        self._listed = set(self._controls)
        return controls

    def indexed_files(self) -> dict[str, dict[str, str]]:
        """``{dialogue_id: {path: sha256}}`` from the sharded ``files`` index (eventually
        consistent: for audits and tooling, never for change detection)."""
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
        from ..memsearch import search_partitions

        ids = [dialogue_id] if dialogue_id is not None else self.dialogue_ids()
        return search_partitions(self.load, ids, query, kind, limit)


    # ---- administration

    def create_table(self, wait: bool = True) -> bool:
        """Create the table and its indexes (on-demand billing). True if it was created,
        False if it already existed; waits until ACTIVE either way."""
        return admin.create_table(self.db, wait)

    def delete_table(self) -> None:
        admin.delete_table(self.db)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "dynamodb",
            "table": self.table,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "namespace": self.namespace or None,
            **admin.describe(self.db),
        }

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DynamoDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
