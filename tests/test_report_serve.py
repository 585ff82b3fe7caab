"""``blue-index serve`` as a real process: loopback only, pages from the store, re-rendered
after a sync, and no page request ever writes the store."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

from tests.support.report import *  # noqa: F403 - the serve fixtures
from tests.support.report import Served, folder_ids, start_serve
from tests.support.sync import cli


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel lists them) with a listening socket on port."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            addr, p = local.rsplit(":", 1)
            if int(p, 16) == port and state == "0A":  # LISTEN
                out.append(addr)
    return out


def _db_state(db: Path) -> list[tuple[str, str, int]]:
    return [(p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]


def test_serves_on_loopback_only(served: Served, serve_repo: Path) -> None:
    repo = serve_repo
    host, port = re.match(r"http://([^:]+):(\d+)/", served.url).groups()
    assert host == "127.0.0.1"
    assert _listening(int(port)) == ["0100007F"]  # 127.0.0.1, nothing else
    status, body, headers = served.get("/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    ids = folder_ids(repo / ".blue" / "dialogues")
    assert re.findall(r'data-id="([^"]+)"', body) == ids
    for path in ("/assets/report.css", "/assets/report.js", "/search.json", "/search.js",
                 f"/dialogue/{ids[0]}.html"):
        assert served.get(path)[0] == 200, path
    for path in ("/nope.html", "/dialogue/nope.html", "/../.blue/blue.db",
                 "/assets/../../pyproject.toml", "/.blue-index-report"):
        assert served.get(path)[0] == 404, path


def test_page_requests_never_write_and_a_sync_shows_on_reload(served: Served,
                                                               serve_repo: Path) -> None:
    repo = serve_repo
    dialogues = repo / ".blue" / "dialogues"
    did = folder_ids(dialogues)[0]
    db = repo / ".blue" / "blue.db"
    watcher = sqlite3.connect(db)
    version = watcher.execute("PRAGMA data_version").fetchone()[0]
    before = _db_state(db)
    for _ in range(2):
        for path in ("/", f"/dialogue/{did}.html", "/search.json"):
            assert served.get(path)[0] == 200
    assert _db_state(db) == before
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == version
    # edit a perspective's label, sync, reload: the new label is served
    f = next(p for p in sorted((dialogues / did).glob("round-*/*.md"))
             if ".prompt" not in p.name and "[PERSPECTIVE" in p.read_text(encoding="utf-8"))
    text = f.read_text(encoding="utf-8")
    new_label = "Served after the sync zebra"
    f.write_text(re.sub(r"\[PERSPECTIVE ([^:\]]+): [^\]]*\]",
                        lambda m: f"[PERSPECTIVE {m.group(1)}: {new_label}]", text, count=1),
                 encoding="utf-8")
    assert new_label not in served.get(f"/dialogue/{did}.html")[1]
    assert cli(repo, "reindex").returncode == 0
    assert watcher.execute("PRAGMA data_version").fetchone()[0] != version  # the sync wrote
    assert new_label in served.get(f"/dialogue/{did}.html")[1]
    search = json.loads(served.get("/search.json")[1])
    assert any(e[5] == new_label for e in search["entries"])
    after = _db_state(db)
    served.get("/")
    served.get(f"/dialogue/{did}.html")
    assert _db_state(db) == after
    watcher.close()


def test_unknown_dialogue_and_busy_port(serve_repo: Path) -> None:
    repo = serve_repo
    p = cli(repo, "serve", "no-such-dialogue", "--port", "0")
    assert p.returncode == 2 and "unknown dialogue" in p.stderr
    s = start_serve(repo)
    try:
        port = re.match(r"http://[^:]+:(\d+)/", s.url).group(1)
        p = cli(repo, "serve", "--port", port)
        assert p.returncode == 2 and "choose another --port" in p.stderr
    finally:
        s.proc.terminate()
        s.proc.wait(timeout=30)
