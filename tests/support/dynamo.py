"""A real DynamoDB-compatible HTTP server for the tests, and a fault-injecting proxy.

``dynamo_endpoint`` (session): starts ``python -m moto.server`` on a free local port and
stops it at the end. ``BLUE_INDEX_TEST_DYNAMODB_ENDPOINT=http://host:port`` uses that server
instead; ``BLUE_INDEX_TEST_DYNAMODB_REAL=1`` uses real AWS (the standard credential chain and
region; tables are created and deleted per test). ``dynamo_store_factory`` gives
``make(**kw) -> DynamoDBStore`` on a fresh table (uuid name) that is deleted after the test.

``MotoServer`` can be stopped and started again on the same port (fault tests);
``FaultProxy`` sits between boto3 and the server and answers some requests with throttling
errors, rewrites some BatchWriteItem calls to process only part of the items (the rest come
back as UnprocessedItems), or stops forwarding altogether: faults at the HTTP level, the
client code path untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REAL = os.environ.get("BLUE_INDEX_TEST_DYNAMODB_REAL") == "1"
EXTERNAL = os.environ.get("BLUE_INDEX_TEST_DYNAMODB_ENDPOINT") or None
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
REGION = os.environ.get("AWS_REGION", "us-east-1") if REAL else "us-east-1"

__all__ = ["MotoServer", "FaultProxy", "DynaliteServer", "dynamo_endpoint",
           "dynalite_endpoint", "dynamo_store_factory", "dynalite_store_factory",
           "fake_aws_credentials", "free_port", "count_requests", "raw_partition"]
DYNALITE_VERSION = "4.0.0"  # pinned; .ci/run installs the same into DYNALITE_DIR
DYNALITE_DIR = Path(__file__).resolve().parents[2] / ".ci" / "node"  # git-ignored


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _ServerProcess:
    """A local server subprocess on a loopback port: started, awaited, stopped."""

    name = "server"

    def __init__(self, port: int | None = None, log: Path | None = None) -> None:
        self.port = port or free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        """The server answers (called until true or the start times out)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> Any:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                     env={**os.environ, **FAKE_CREDENTIALS})
        if out is not subprocess.DEVNULL:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            if self.ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on {self.endpoint} within {timeout:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


class MotoServer(_ServerProcess):
    """moto's server as a subprocess (one request at a time: see moto_serial.py);
    restartable on the same port."""

    name = "moto server"

    def command(self) -> list[str]:
        return [sys.executable, str(Path(__file__).with_name("moto_serial.py")),
                "-H", "127.0.0.1", "-p", str(self.port)]

    def ready(self) -> bool:
        try:
            urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1).close()
            return True
        except (urllib.error.URLError, OSError):
            return False

    def restart(self) -> None:
        self.stop()
        self.start()


class DynaliteServer(_ServerProcess):
    """dynalite (an independent DynamoDB implementation on node.js, in memory) as a
    subprocess on loopback. ``ensure_installed`` runs the pinned ``npm install`` when
    ``.ci/run`` has not."""

    name = "dynalite"

    def command(self) -> list[str]:
        return ["node", str(self.cli()), "--host", "127.0.0.1", "--port", str(self.port),
                "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]

    @staticmethod
    def cli() -> Path:
        return DYNALITE_DIR / "node_modules" / "dynalite" / "cli.js"

    @classmethod
    def ensure_installed(cls) -> None:
        if cls.cli().exists():
            return
        import fcntl

        DYNALITE_DIR.mkdir(parents=True, exist_ok=True)
        with open(DYNALITE_DIR / ".install.lock", "w") as lock:  # one xdist worker installs
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not cls.cli().exists():
                cls._install()

    @classmethod
    def _install(cls) -> None:
        r = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                            str(DYNALITE_DIR), f"dynalite@{DYNALITE_VERSION}"],
                           capture_output=True, text=True, check=False)
        if r.returncode != 0 or not cls.cli().exists():
            raise RuntimeError(f"npm install dynalite@{DYNALITE_VERSION} failed: "
                               f"{r.stderr.strip()[-500:]}")


@pytest.fixture(scope="session")
def dynalite_endpoint(fake_aws_credentials: None, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[str]:
    """The endpoint of a dynalite server for this session (skipped only without node)."""
    import shutil

    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node.js/npm not installed: the dynalite suite needs them (.ci/run)")
    DynaliteServer.ensure_installed()
    server = DynaliteServer(log=tmp_path_factory.mktemp("dynalite") / "dynalite.log").start()
    yield server.endpoint
    server.stop()


@pytest.fixture
def dynalite_store_factory(dynalite_endpoint: str) -> Iterator[Callable[..., Any]]:
    """``dynamo_store_factory`` on the dynalite server."""
    yield from _store_factory(dynalite_endpoint)


@pytest.fixture(scope="session")
def fake_aws_credentials() -> Iterator[None]:
    """Fake credentials for the local server (real AWS mode keeps the real chain)."""
    if REAL:
        yield
        return
    saved = {k: os.environ.get(k) for k in (*FAKE_CREDENTIALS, "AWS_PROFILE")}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(FAKE_CREDENTIALS)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def dynamo_endpoint(fake_aws_credentials: None, tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[str | None]:
    """The endpoint URL of the test DynamoDB (None = real AWS)."""
    if REAL:
        yield None
        return
    if EXTERNAL:
        yield EXTERNAL
        return
    server = MotoServer(log=tmp_path_factory.mktemp("moto") / "moto.log").start()
    yield server.endpoint
    server.stop()


def table_name() -> str:
    return f"blue_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def dynamo_store_factory(dynamo_endpoint: str | None) -> Iterator[Callable[..., Any]]:
    """``make(endpoint_url=..., table=..., create=True, **kw)``: a DynamoDBStore on a fresh
    table (created unless ``create=False``); every table made is deleted afterwards."""
    yield from _store_factory(dynamo_endpoint)


def _store_factory(dynamo_endpoint: str | None) -> Iterator[Callable[..., Any]]:
    from indexer.store.dynamodb import DynamoDBStore

    made: list[DynamoDBStore] = []
    tables: set[str] = set()

    def make(endpoint_url: str | None = dynamo_endpoint, table: str | None = None,
             create: bool = True, **kw: Any) -> DynamoDBStore:
        kw.setdefault("region", REGION)
        store = DynamoDBStore(table=table or table_name(), endpoint_url=endpoint_url, **kw)
        if create:
            store.create_table()
            tables.add(store.table)
        made.append(store)
        return store

    yield make
    if tables:
        admin = DynamoDBStore(table="-", endpoint_url=dynamo_endpoint, region=REGION)
        for t in tables:
            with contextlib.suppress(Exception):  # already gone (server restarted) is fine
                admin.client.delete_table(TableName=t)
        admin.close()
    for s in made:
        s.close()


def raw_partition(store: Any, did: str) -> list[dict[str, Any]]:
    """The partition as DynamoDB holds it (low-level client, independent of the codec)."""
    pages = store.client.get_paginator("query").paginate(
        TableName=store.table, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": f"dialogue#{did}"}})
    return [a for page in pages for a in page["Items"]]


def count_requests(store: Any) -> dict[str, int]:
    """Count API calls and BatchWriteItem items from the client side (a boto3
    ``before-parameter-build`` event hook): ``{"Query": n, "BatchWriteItem": n, "items": n
    user items put or deleted, "internal": n part/marker items}``.
    Each API call counts once (botocore's own retries of a call are not separate calls);
    a resend of UnprocessedItems is a new call."""
    counts: dict[str, int] = {"items": 0}

    def hook(model: Any, params: dict[str, Any], **_: Any) -> None:
        counts[model.name] = counts.get(model.name, 0) + 1
        if model.name == "BatchWriteItem":
            for reqs in params["RequestItems"].values():
                for r in reqs:
                    item = r.get("PutRequest", {}).get("Item") or r["DeleteRequest"]["Key"]
                    sk = item["sk"]["S"]
                    key = "internal" if sk.startswith("_") or "#part#" in sk else "items"
                    counts[key] = counts.get(key, 0) + 1

    store.client.meta.events.register("before-parameter-build.dynamodb.*", hook)
    return counts


# --------------------------------------------------------------------------- fault proxy


def _json_response(handler: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/x-amz-json-1.0")
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("x-amzn-RequestId", uuid.uuid4().hex)
    handler.send_header("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))
    handler.end_headers()
    handler.wfile.write(body)


class FaultProxy:
    """Forwards DynamoDB HTTP requests to ``upstream``, injecting faults on a schedule.

    ``throttle_every=n``: every n-th request gets ProvisionedThroughputExceededException.
    ``partial_every=n``: every n-th BatchWriteItem forwards only its first half of items and
    returns the rest as UnprocessedItems. ``cut_after_writes=k``: after k BatchWriteItem
    requests were forwarded, nothing more is (connections are dropped) until ``heal()``.
    ``writes`` records, per forwarded BatchWriteItem, the sort keys the server received.
    """

    def __init__(self, upstream: str) -> None:
        u = urlsplit(upstream)
        self.upstream = (u.hostname or "127.0.0.1", u.port or 80)
        self.throttle_every = 0
        self.partial_every = 0
        self.cut_after_writes: int | None = None
        self.requests = 0
        self.batch_calls = 0
        self.throttled = 0
        self.partials = 0
        self.dropped = 0
        self.writes: list[list[str]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def heal(self) -> None:
        with self.lock:
            self.throttle_every = self.partial_every = 0
            self.cut_after_writes = None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                action = proxy._decide(target)
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "throttle":
                    _json_response(self, 400, json.dumps({
                        "__type": "com.amazonaws.dynamodb.v20120810#"
                                  "ProvisionedThroughputExceededException",
                        "message": "injected: rate of requests exceeds the allowed throughput",
                    }).encode())
                    return
                rest: dict[str, list[Any]] = {}
                if target == "BatchWriteItem":
                    req = json.loads(body)
                    if action == "partial":
                        kept: dict[str, list[Any]] = {}
                        for table, reqs in req["RequestItems"].items():
                            half = (len(reqs) + 1) // 2
                            kept[table], rest[table] = reqs[:half], reqs[half:]
                        req["RequestItems"] = kept
                        body = json.dumps(req).encode()
                    with proxy.lock:
                        proxy.writes.append([
                            (r.get("PutRequest", {}).get("Item")
                             or r.get("DeleteRequest", {}).get("Key"))["sk"]["S"]
                            for reqs in req["RequestItems"].values() for r in reqs])
                status, resp = proxy._forward(self.path, dict(self.headers), body)
                if rest and status == 200:
                    data = json.loads(resp)
                    unprocessed = data.setdefault("UnprocessedItems", {})
                    for table, reqs in rest.items():
                        if reqs:
                            unprocessed.setdefault(table, []).extend(reqs)
                    resp = json.dumps(data).encode()
                _json_response(self, status, resp)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _decide(self, target: str) -> str:
        with self.lock:
            self.requests += 1
            if target == "BatchWriteItem":
                if self.cut_after_writes is not None and self.batch_calls >= self.cut_after_writes:
                    self.dropped += 1
                    return "drop"
                self.batch_calls += 1
            elif self.cut_after_writes is not None and self.batch_calls >= self.cut_after_writes:
                self.dropped += 1
                return "drop"
            if self.throttle_every and self.requests % self.throttle_every == 0:
                self.throttled += 1
                if target == "BatchWriteItem":
                    self.batch_calls -= 1  # not forwarded
                return "throttle"
            if (target == "BatchWriteItem" and self.partial_every
                    and self.batch_calls % self.partial_every == 0):
                self.partials += 1
                return "partial"
            return "forward"

    def _forward(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        conn = HTTPConnection(*self.upstream, timeout=30)
        try:
            headers = {k: v for k, v in headers.items()
                       if k.lower() not in ("content-length", "connection", "host")}
            headers["Content-Length"] = str(len(body))
            headers["Host"] = f"{self.upstream[0]}:{self.upstream[1]}"
            conn.request("POST", path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()
