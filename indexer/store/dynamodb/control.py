"""Revisions for many writers: each dialogue's control item in the ``registry`` partition.

A control item holds ``rev`` (committed revision), ``state`` (``committed`` or ``writing``),
the writer's token and lease while writing, and what the committed revision holds: ``files``
(``{path: sha256}``, zlib-compressed JSON), ``counts`` (items by kind) and ``prov`` (where
the content came from). A writer *begins* with one conditional UpdateItem (``rev = R AND
state = committed`` -> ``state = writing`` + token + lease; a new dialogue:
``attribute_not_exists(rev)``; a dead writer's unfinished write: ``rev = R AND writer = its
token``) and *commits* with another (``writer = my token`` -> ``rev = R + 1``, committed,
the new files/counts/provenance). A failed begin or commit is Conflict.

**The index clock** (issue 17): a counter item of its own (``pk = clock``, outside the
registry) that each commit first moves up with one atomic ``ADD`` (``tick``); the commit
records the value in the control item (``clock``), with ``marker`` (``base.files_marker`` of
the committed file map), so ``Store.clock``/``Store.markers`` are one GetItem or the
registry Query. The counter only grows: a tick whose commit then fails is simply skipped.

**Leases.** A writer's lease (``lease_s``, default 120 s) bounds how long a crashed writer
blocks others: after it (clocks assumed within ``CLOCK_SKEW_S``), or at once when the writer
is a dead process on this host, the next writer takes the write over.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..base import EMPTY_MARKER, Conflict, Revision, StoreUnavailable, files_marker
from .client import Client, ConditionFailed
from .codec import Attrs, dumps
from .keys import Keys, physical_sk
from .large import Layout

LEASE_S = 120.0
CLOCK_SKEW_S = 15.0
WAIT_S = 10.0  # how long a reader or writer waits for another writer's commit
MAX_FILES_BYTES = 300_000  # a bigger file map is not kept in the control item
COMMITTED, WRITING = "committed", "writing"
NO_FILES = "none"  # the stored marker of a revision without file items (never "": dynalite)
HOST = socket.gethostname()


def when(epoch: float) -> str:
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
class Control:
    """A dialogue's control item (see the module docstring)."""

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
    clock: int = 0  # the store's index clock at this dialogue's last commit
    marker: str | None = None  # files_marker of ``files`` (None: an item from before it)

    @classmethod
    def parse(cls, did: str, a: Attrs | None) -> Control:
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
            clock=int(a.get("clock", {}).get("N", "0")),
            marker=a.get("marker", {}).get("S"),
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

    def files_marker(self) -> str | None:
        """The committed revision's file marker ('' when it holds no file); None when
        unknown (a write in progress, or an item that records no file map)."""
        if not self.exists:
            return EMPTY_MARKER
        if self.writing:
            return None
        if self.marker is not None:
            return EMPTY_MARKER if self.marker == NO_FILES else self.marker
        return files_marker(self.files) if self.files is not None else None

    def revision(self, layout: Layout | None = None) -> Revision:
        repair = self.writing
        if layout is not None:
            repair = repair or bool(layout.orphans) or (bool(layout.heads) and (
                not self.exists or (self.files is not None and self.files != layout.files)))
        return Revision(self.rev, self.writer if self.writing else None, self.prov, repair)


class Registry:
    """The control items of one store (its namespace's ``registry`` partition)."""

    def __init__(self, client: Client, keys: Keys, lease_s: float = LEASE_S,
                 wait_s: float = WAIT_S, clock_skew_s: float = CLOCK_SKEW_S) -> None:
        self.client = client
        self.keys = keys
        self.lease_s = lease_s
        self.wait_s = wait_s
        self.clock_skew_s = clock_skew_s
        self.failed: set[str] = set()  # tokens of this store's writes that did not commit

    def key(self, dialogue_id: str) -> Attrs:
        return {"pk": {"S": self.keys.registry},
                "sk": {"S": physical_sk(f"dialogue#{dialogue_id}")}}

    def get(self, dialogue_id: str) -> Control:
        r = self.client.call("GetItem", TableName=self.client.table,
                             Key=self.key(dialogue_id), ConsistentRead=True)
        return Control.parse(dialogue_id, r.get("Item"))

    def all(self) -> list[Control]:
        """Every control item: one consistent Query of the registry partition."""
        return [Control.parse(a.get("did", {}).get("S", ""), a)
                for a in self.client.query(
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": self.keys.registry}},
                    ConsistentRead=True)]

    def abandoned(self, ctl: Control) -> bool:
        return ctl.abandoned(self.failed, self.clock_skew_s)

    def settled(self, ctl: Control) -> Control:
        """``ctl``, or a fresher one once another live writer's write has committed; waits
        at most ``wait_s`` (then a one-line error naming the writer)."""
        deadline = time.monotonic() + self.wait_s
        delay = 0.02
        while ctl.writing and not self.abandoned(ctl):
            if time.monotonic() >= deadline:
                raise StoreUnavailable(
                    f"{self.client.where}: dialogue {ctl.did} is being written by "
                    f"{ctl.writer} since {when(ctl.since)}; waited {self.wait_s:g} s for it "
                    "to commit; retry in a moment")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
            ctl = self.get(ctl.did)
        return ctl

    def begin(self, dialogue_id: str, expect: Revision) -> str:
        """The conditional UpdateItem that makes this writer the partition's only writer;
        returns the writer's token."""
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
            self.client.call(
                "UpdateItem", TableName=self.client.table, Key=self.key(dialogue_id),
                UpdateExpression="SET #s = :writing, #w = :w, #t = :t, #l = :l, "
                                 "#d = :d, #r = if_not_exists(#r, :zero)",
                ConditionExpression=cond, ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except ConditionFailed:
            raise Conflict(f"{self.client.where}: dialogue {dialogue_id} changed since it was "
                           f"loaded (another writer got in after revision {expect.number})"
                           ) from None
        return token

    def clock_key(self) -> Attrs:
        return {"pk": {"S": self.keys.ns("clock")}, "sk": {"S": "clock"}}

    def tick(self) -> int:
        """The store's clock moved up by one (an atomic ADD); returns the new value."""
        r = self.client.call("UpdateItem", TableName=self.client.table, Key=self.clock_key(),
                             UpdateExpression="ADD #n :one",
                             ExpressionAttributeNames={"#n": "n"},
                             ExpressionAttributeValues={":one": {"N": "1"}},
                             ReturnValues="UPDATED_NEW")
        return int(r["Attributes"]["n"]["N"])

    def clock(self) -> int:
        """The store's clock (one strongly consistent GetItem; 0 before any commit)."""
        r = self.client.call("GetItem", TableName=self.client.table, Key=self.clock_key(),
                             ConsistentRead=True)
        return int(r.get("Item", {}).get("n", {}).get("N", "0"))

    def commit(self, dialogue_id: str, token: str, rev: int, lay: Layout,
               provenance: dict[str, Any] | None) -> None:
        """Revision ``rev`` committed with what ``lay`` holds, if ``token`` still writes;
        the store's clock ticks first, and the control item records its value."""
        clock = self.tick()
        names = {"#r": "rev", "#s": "state", "#w": "writer", "#t": "since", "#l": "lease",
                 "#c": "counts", "#f": "files", "#k": "clock", "#m": "marker"}
        values: dict[str, Any] = {":r": {"N": str(rev)}, ":committed": {"S": COMMITTED},
                                  ":w": {"S": token}, ":c": {"S": dumps(lay.kind_counts())},
                                  ":k": {"N": str(clock)},
                                  ":m": {"S": files_marker(lay.files) or NO_FILES}}
        sets = "#r = :r, #s = :committed, #c = :c, #k = :k, #m = :m"
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
            self.client.call(
                "UpdateItem", TableName=self.client.table, Key=self.key(dialogue_id),
                UpdateExpression=f"SET {sets} REMOVE {removes}",
                ConditionExpression="#w = :w", ExpressionAttributeNames=names,
                ExpressionAttributeValues=values)
        except ConditionFailed:
            raise Conflict(f"{self.client.where}: dialogue {dialogue_id}: this write was taken "
                           "over by another writer before it committed") from None
