"""Bounded waits and one-line errors for DynamoDB, through the real CLI in a subprocess."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import REGION
from tests.support.sync import cli


def _repo(tmp_path: Path, endpoint: str, table: str) -> Path:
    root = tmp_path / "repo"
    (root / ".blue" / "dialogues" / "d1" / "round-0").mkdir(parents=True)
    (root / ".blue" / "dialogues" / "d1" / "round-0" / "muffin.md").write_text(
        "[PERSPECTIVE P01: a view]\nBody.\n", encoding="utf-8")
    (root / ".blue" / "config.yaml").write_text(
        "storage:\n  backend: dynamodb\n  dynamodb:\n"
        f"    table: {table}\n    region: {REGION}\n    endpoint_url: {endpoint}\n")
    return root


class SilentServer:
    """Accepts TCP connections on loopback and never answers (holds them open)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)  # so that close() ends the accepting thread promptly
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()
        for c in self.accepted:
            c.close()


def test_endpoint_that_never_answers_fails_in_one_line_exit_3(tmp_path, fake_aws_credentials):
    """Default timeouts and retries: the CLI gives up by itself (the subprocess timeout is
    only a guard against a hang) and says what it waited for."""
    server = SilentServer()
    try:
        root = _repo(tmp_path, f"http://127.0.0.1:{server.port}", "t")
        r = cli(root, "reindex", timeout=60)
    finally:
        server.close()
    assert r.returncode == 3, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "did not answer" in lines[0] and "attempts" in lines[0]
    assert len(server.accepted) >= 2  # it did connect, and retried a bounded number of times


def test_non_throttling_service_error_is_exit_3(tmp_path, dynamo_endpoint, dynamo_store_factory):
    """A table with another key schema (not made by blue-index): the service answers with a
    ValidationException; the CLI prints it in one line and exits 3 (not 1, 'unexpected')."""
    if dynamo_endpoint is None:
        pytest.skip("needs a local endpoint")
    store = dynamo_store_factory(create=False)
    store.client.create_table(
        TableName=store.table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    try:
        r = cli(_repo(tmp_path, dynamo_endpoint, store.table), "reindex")
    finally:
        store.client.delete_table(TableName=store.table)
    assert r.returncode == 3, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "ValidationException" in lines[0]
    assert lines[0].startswith(f"blue-index: DynamoDB table '{store.table}'")
