"""``blue-index serve`` as a real process: loopback only, pages from the store, re-rendered
after a sync, and no page request ever writes the store."""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import *  # noqa: F403 - the browser fixtures
from tests.support.report import folder_ids
from tests.support.sync import REPO, cli


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as r:
                return r.status, r.read().decode("utf-8"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def _start(root: Path, *args: str) -> Served:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("BLUE_INDEX_SQLITE_PATH", None)
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(root),
                             "serve", "--port", "0", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    # bounded wait for the one line that says where it listens
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if not ready:
        proc.kill()
        raise AssertionError("serve did not say where it listens within 60 s")
    line = proc.stdout.readline()
    m = re.match(r"serving (http://[^/]+/) ", line)
    assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
    return Served(proc, m.group(1))


@pytest.fixture
def repo(tmp_path: Path, samples_dir: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(samples_dir, root / ".blue" / "dialogues")
    assert cli(root, "reindex").returncode == 0
    return root


@pytest.fixture
def served(repo: Path) -> Iterator[Served]:
    s = _start(repo)
    yield s
    s.proc.terminate()
    assert s.proc.wait(timeout=30) == 0  # SIGTERM: a clean exit


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


def test_serves_on_loopback_only(served: Served, repo: Path) -> None:
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
                                                               repo: Path) -> None:
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


def test_served_page_in_the_browser(served: Served, repo: Path, open_page) -> None:
    did = folder_ids(repo / ".blue" / "dialogues")[0]
    w = open_page()
    w.goto(served.url)
    w.page.click(f'tr[data-id="{did}"] a.title')
    w.page.wait_for_url(re.compile(re.escape(f"/dialogue/{did}.html")))
    assert w.page.locator("svg.timeline .mark").count() > 0
    w.page.fill("#search", "trunk")
    w.page.locator("#search-results li.hit").first.wait_for(timeout=10_000)
    w.shot("served")
    assert w.errors == []


def test_unknown_dialogue_and_busy_port(repo: Path) -> None:
    p = cli(repo, "serve", "no-such-dialogue", "--port", "0")
    assert p.returncode == 2 and "unknown dialogue" in p.stderr
    s = _start(repo)
    try:
        port = re.match(r"http://[^:]+:(\d+)/", s.url).group(1)
        p = cli(repo, "serve", "--port", port)
        assert p.returncode == 2 and "choose another --port" in p.stderr
    finally:
        s.proc.terminate()
        s.proc.wait(timeout=30)
