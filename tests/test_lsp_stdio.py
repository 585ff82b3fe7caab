"""``blue-index lsp`` against a client that writes much faster than it reads (raw JSON-RPC
over real pipes): the server must neither crash nor grow, and the last change must win."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.lsp import rss_kb

TRUNK = "2026-03-02T1015Z-trunk-based-development"
CHANGES = 800


def _frame(obj: dict) -> bytes:
    body = json.dumps(obj).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _messages(data: bytes) -> list[dict]:
    out, i = [], 0
    while True:
        j = data.find(b"\r\n\r\n", i)
        if j < 0:
            return out
        headers = dict(h.split(b":", 1) for h in data[i:j].split(b"\r\n"))
        length = int(headers[b"Content-Length"])
        if j + 4 + length > len(data):
            return out
        out.append(json.loads(data[j + 4:j + 4 + length]))
        i = j + 4 + length


def test_a_client_that_sends_without_reading(tmp_path: Path, samples_dir: Path) -> None:
    shutil.copytree(samples_dir / TRUNK, tmp_path / ".blue" / "dialogues" / TRUNK)
    f = tmp_path / ".blue" / "dialogues" / TRUNK / "round-1" / "muffin.md"
    base = f.read_text(encoding="utf-8")
    uri = f.as_uri()
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(tmp_path), "lsp"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    out = bytearray()
    reading = threading.Event()

    def read() -> None:
        reading.wait()
        while chunk := proc.stdout.read1(65536):  # type: ignore[union-attr]
            out.extend(chunk)

    def write() -> None:
        w = proc.stdin
        assert w is not None
        w.write(_frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}))
        w.write(_frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
        w.write(_frame({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "markdown", "version": 1, "text": base}}}))
        for v in range(2, CHANGES + 2):
            w.write(_frame({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": v},
                "contentChanges": [{"text": base + f"\n[TENSION T{v % 90 + 10}: change {v}\n"}]}}))
            w.flush()

    reader = threading.Thread(target=read, daemon=True)
    writer = threading.Thread(target=write, daemon=True)
    reader.start()
    writer.start()
    try:
        time.sleep(2)  # the client reads nothing meanwhile: the pipes fill up
        held = rss_kb(proc.pid)
        assert proc.poll() is None
        assert held < 300_000, f"server RSS {held} kB while the client did not read"
        reading.set()
        writer.join(120)
        assert not writer.is_alive(), "the server stopped reading its input"
        deadline = time.monotonic() + 60
        last = CHANGES + 1
        while time.monotonic() < deadline:  # bounded: until the last version is published
            pubs = [m for m in _messages(bytes(out))
                    if m.get("method") == "textDocument/publishDiagnostics"]
            if pubs and pubs[-1]["params"].get("version") == last:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"version {last} never published")
        diags = pubs[-1]["params"]["diagnostics"]
        assert [d["range"]["start"]["line"] for d in diags if d["code"] == "marker-unclosed"] \
            == [base.count("\n") + 1]
        assert len(pubs) < CHANGES  # coalesced
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))  # type: ignore[union-attr]
        proc.stdin.write(_frame({"jsonrpc": "2.0", "method": "exit"}))  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
