"""The watch daemon: routing, coalescing, real inotify events, and a real daemon process.

Part 1 checks the pure pieces (event path -> dialogue, debounce arithmetic). Part 2 runs the
daemon in-process on real files with real inotify events and a sync function that records
which dialogues it was asked to sync (the thing under test is the event -> sync mapping).
Part 3 runs ``blue-index watch`` as a process over the real sync engine and SQLite store and
compares the store with a fresh ``reindex`` of a copy of the same files.

"One sync per settled save" is checked without sleeping: after the save has been synced, a
probe file is written in another dialogue; inotify delivers events in order, so any extra
sync caused by the save would show up before, or merged into, the probe's sync.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from indexer.daemon_state import DaemonLock, daemon_status, lock_held, read_status
from indexer.watch import RECONCILE, Coalescer, Daemon, Log, route

from .support.githook import Repo, git_env
from .support.watch import (
    save_appends,
    save_atomic,
    save_in_place,
    save_sed,
    save_vim,
    wait_for,
)

PROBE = "zz-probe"


def response(label: str, extra: str = "") -> str:
    return (f"# Response\n\n[PERSPECTIVE P01: {label}]\nA body about {label}.\n\n"
            f"[TENSION T01: {label} tension]\nWhy {label} is contested.\n{extra}")


# -- part 1: routing and coalescing ------------------------------------------------------


ROOT = "/r/.blue/dialogues"


@pytest.mark.parametrize(("path", "is_dir", "expected"), [
    (f"{ROOT}/d1/round-0/muffin.md", False, "d1"),
    (f"{ROOT}/d1/tensions.md", False, "d1"),
    (f"{ROOT}/d1/round-0/panel.json", False, "d1"),
    (f"{ROOT}/d1", True, "d1"),
    (f"{ROOT}/d1/round-2", True, "d1"),
    (f"{ROOT}/d1/round-0/muffin.md~", False, None),        # vim backup
    (f"{ROOT}/d1/round-0/4913", False, None),              # vim probe
    (f"{ROOT}/d1/round-0/.muffin.md.swp", False, None),    # vim swap
    (f"{ROOT}/d1/round-0/muffin.md.tmp", False, None),     # atomic-save temp
    (f"{ROOT}/d1/round-0/sedAb12Cd", False, None),         # sed -i temp
    (f"{ROOT}/.git/index", False, None),                   # hidden folder
    (f"{ROOT}/.hidden", True, None),
    (f"{ROOT}/pool.json", False, RECONCILE),              # file directly under the root
    (ROOT, True, RECONCILE),
    ("/elsewhere/x.md", False, RECONCILE),
])
def test_route(path: str, is_dir: bool, expected: str | None) -> None:
    assert route(ROOT, path, is_dir) == expected


def test_coalescer_waits_for_quiet_then_batches_all_quiet_dialogues() -> None:
    c = Coalescer(debounce=0.1, max_wait=1.0, max_busy=10.0)
    assert c.take(0.0) == (None, None)  # idle: wait without a timeout
    c.add(["a"], 0.00)
    c.add(["b"], 0.05)
    c.add(["a"], 0.08)
    batch, wait = c.take(0.12)  # a quiet for 40 ms, b for 70 ms: nothing yet
    assert batch is None and wait == pytest.approx(0.03)
    batch, _ = c.take(0.19)
    assert batch is not None and batch.dialogues == {"a", "b"} and not batch.full
    assert len(c) == 0


def test_coalescer_busy_dialogue_does_not_starve_a_quiet_one() -> None:
    c = Coalescer(debounce=0.1, max_wait=1.0, max_busy=10.0)
    c.add(["quiet"], 0.0)
    for i in range(1, 40):  # "busy" gets an event every 50 ms
        c.add(["busy"], i * 0.05)
        batch, _ = c.take(i * 0.05 + 0.01)
        if batch is not None:
            break
    assert batch is not None and batch.dialogues == {"quiet"}
    assert i * 0.05 >= 1.0  # only after max_wait
    assert len(c) == 1  # busy still pending


def test_coalescer_reconcile_covers_everything_pending() -> None:
    c = Coalescer(debounce=0.1)
    c.add(["a", "b"], 0.0)
    c.add_full("overflow", 0.0)
    batch, _ = c.take(0.2)
    assert batch is not None and batch.full and batch.reason == "overflow"
    assert len(c) == 0


def test_coalescer_flush_makes_everything_pending_due_now() -> None:
    """A settle cookie: every key pending when it came is taken at once, even one that is
    not quiet and while another key keeps the batch from being due."""
    c = Coalescer(debounce=0.1, max_wait=1.0, max_busy=10.0)
    c.add(["a"], 0.0)
    c.add(["b"], 0.0)
    assert c.flush()
    c.add(["late"], 0.01)  # after the cookie: keeps its debounce
    batch, _ = c.take(0.02)
    assert batch is not None and batch.dialogues == {"a", "b"}
    batch, wait = c.take(0.03)
    assert batch is None and wait == pytest.approx(0.08)
    assert not Coalescer(0.1).flush()  # nothing pending: nothing to wait for


def test_coalescer_memory_is_per_dialogue_not_per_event() -> None:
    c = Coalescer(debounce=0.1)
    for i in range(100_000):
        c.add([f"d{i % 3}"], i * 1e-6)
    assert len(c) == 3


def test_log_lines_text_json_quiet_and_file(tmp_path: Path) -> None:
    """The daemon's log (stdlib logging): text or JSON on the stream, -q keeps warnings
    only, the file gets every event as JSON, and a closed stream never raises."""
    text, js = io.StringIO(), io.StringIO()
    Log(stream=text)("sync", "synced d1", ms=3)
    assert text.getvalue().endswith(" blue-index watch: synced d1\n")
    log = Log(json_lines=True, quiet=True, stream=js, file=tmp_path / "w" / "watch.log")
    log("sync", "synced d1", dialogues=["d1"])
    log("error", "sync failed", error=True)
    assert [json.loads(x)["event"] for x in js.getvalue().splitlines()] == ["error"]
    log.close()
    lines = [json.loads(x) for x in (tmp_path / "w" / "watch.log").read_text().splitlines()]
    assert [(x["event"], x["message"]) for x in lines] == [("sync", "synced d1"),
                                                           ("error", "sync failed")]
    assert lines[0]["dialogues"] == ["d1"] and lines[0]["time"].endswith("Z")
    closed = io.StringIO()
    closed.close()
    Log(stream=closed)("sync", "nobody reads this")  # must not raise


# -- part 2: the daemon in-process, real inotify, a recording sync -----------------------


class Recorder:
    """Records each sync request: a frozenset of dialogue ids, or None (whole tree)."""

    def __init__(self) -> None:
        self.calls: list[frozenset[str] | None] = []
        self._lock = threading.Lock()

    def __call__(self, dialogues: frozenset[str] | None) -> None:
        with self._lock:
            self.calls.append(dialogues)

    def since(self, n: int) -> list[frozenset[str] | None]:
        with self._lock:
            return list(self.calls[n:])


@pytest.fixture
def live(tmp_path: Path):
    root = tmp_path / "dialogues"
    for d in ("d1", "d2", "d3"):
        (root / d / "round-0").mkdir(parents=True)
        (root / d / "round-0" / "muffin.md").write_text(response(f"{d} first"))
    rec = Recorder()
    # debounce wide enough that a save (or a checkout) descheduled on a loaded machine still
    # falls in one window: these tests check coalescing, not the window's length
    daemon = Daemon(root, lambda: rec, debounce=0.4, log=Log(stream=io.StringIO()),
                    status_file=tmp_path / "watch.json")
    daemon.start()
    wait_for(lambda: rec.calls, what="the start-up reconcile")
    assert rec.calls == [None]  # the start-up reconcile is a whole-tree run
    yield root, rec, daemon
    daemon.stop()
    daemon.join(15)
    assert daemon.fatal is None


def probe(root: Path, rec: Recorder, n: int) -> list[frozenset[str] | None]:
    """Write the probe dialogue, wait for its sync, return every sync since call ``n``."""
    p = root / PROBE / "round-0" / "muffin.md"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(response(f"probe {n}"))
    wait_for(lambda: any(c and PROBE in c for c in rec.since(n)), what="the probe's sync")
    return rec.since(n)


def settle(root: Path, rec: Recorder, action, expected: set[str]) -> None:
    """Run ``action``; it must end in exactly one sync of exactly ``expected``."""
    n = len(rec.calls)
    action()
    wait_for(lambda: expected <= set().union(*[c or set() for c in rec.since(n)]),
             what=f"a sync of {sorted(expected)}")
    assert probe(root, rec, n) == [frozenset(expected), frozenset({PROBE})]


SAVES = {
    "atomic-rename": lambda p: save_atomic(p, response("atomic")),
    "vim-backup-rename": lambda p: save_vim(p, response("vim")),
    "in-place": lambda p: save_in_place(p, response("in place")),
    "many-appends": lambda p: save_appends(p, response("appended", "x" * 2000)),
    "sed-i": lambda p: save_sed(p, "first", "edited"),
}


@pytest.mark.parametrize("pattern", sorted(SAVES))
def test_each_save_pattern_is_one_sync(live, pattern: str) -> None:
    root, rec, daemon = live
    target = root / "d2" / "round-0" / "muffin.md"
    settle(root, rec, lambda: SAVES[pattern](target), {"d2"})
    # a second save of another file of the same dialogue: one more sync
    settle(root, rec, lambda: SAVES[pattern](root / "d2" / "round-0" / "muffin.md"), {"d2"})
    # the sync function returns before the daemon rewrites its status file: wait (bounded)
    status = wait_for(lambda: (s := read_status(daemon.status_file)) and
                      s["syncs"] == len(rec.calls) and s,
                      what="the status file to count every sync")
    assert status["syncs"] == len(rec.calls) and status["settle"] == "cookie-1"


def test_settle_cookie_syncs_pending_at_once_then_answers(tmp_path: Path) -> None:
    """The cookie protocol over real inotify events: a change just made (inside the
    debounce) is synced before the answer; a failing sync is answered 'failed'."""
    from indexer import cookie

    root = tmp_path / "dialogues"
    (root / "d1" / "round-0").mkdir(parents=True)
    rec = Recorder()
    fail = threading.Event()

    def sync(dialogues: frozenset[str] | None) -> None:
        rec(dialogues)
        if fail.is_set() and dialogues:
            raise OSError("disk on fire")

    daemon = Daemon(root, lambda: sync, debounce=5.0, log=Log(stream=io.StringIO()))
    daemon.start()
    try:
        wait_for(lambda: rec.calls, what="the start-up reconcile")
        (root / "d1" / "round-0" / "muffin.md").write_text(response("cookie"))
        done = cookie.settle([root], 10.0)  # the 5 s debounce has not passed: flushed
        assert done.ok and frozenset({"d1"}) in rec.since(1), (done, rec.calls)
        assert done.waited < 5.0
        n = len(rec.calls)
        assert cookie.settle([root], 10.0).ok and rec.since(n) == []  # nothing pending
        fail.set()
        (root / "d1" / "round-0" / "muffin.md").write_text(response("cookie again"))
        done = cookie.settle([root], 10.0)
        assert not done.ok and done.reason == "failed"
        assert not [p.name for p in root.iterdir() if p.name.startswith(cookie.PREFIX)]
    finally:
        daemon.stop()
        daemon.join(15)


def test_editor_leftovers_alone_cause_no_sync(live) -> None:
    root, rec, _ = live
    n = len(rec.calls)
    folder = root / "d1" / "round-0"
    (folder / ".muffin.md.swp").write_text("swap")
    (folder / "muffin.md~").write_text("backup")
    (folder / "4913").write_text("")
    (folder / "muffin.md.tmp").write_text("temp")
    assert probe(root, rec, n) == [frozenset({PROBE})]


def test_new_file_and_new_round_folder(live) -> None:
    root, rec, _ = live
    def new_round() -> None:
        (root / "d3" / "round-1").mkdir()
        (root / "d3" / "round-1" / "cupcake.md").write_text(response("new round"))
    settle(root, rec, new_round, {"d3"})


def test_folder_moves_and_deletion(live, tmp_path: Path) -> None:
    root, rec, _ = live
    outside = tmp_path / "outside"
    outside.mkdir()
    settle(root, rec, lambda: os.rename(root / "d1", root / "d1-renamed"), {"d1", "d1-renamed"})
    settle(root, rec, lambda: os.rename(root / "d1-renamed", outside / "gone"), {"d1-renamed"})
    settle(root, rec, lambda: os.rename(outside / "gone", root / "back"), {"back"})
    settle(root, rec, lambda: shutil.rmtree(root / "back"), {"back"})
    # a file moved from one dialogue to another
    settle(root, rec, lambda: os.rename(root / "d2" / "round-0" / "muffin.md",
                                        root / "d3" / "round-0" / "scone.md"), {"d2", "d3"})


def test_new_dialogue_folder_with_files_already_in_it(live, tmp_path: Path) -> None:
    root, rec, _ = live
    src = tmp_path / "staged"
    for r in range(3):
        (src / f"round-{r}").mkdir(parents=True)
        for e in ("muffin", "scone"):
            (src / f"round-{r}" / f"{e}.md").write_text(response(f"{e} {r}"))
    settle(root, rec, lambda: shutil.copytree(src, root / "copied"), {"copied"})
    settle(root, rec, lambda: os.rename(src, root / "moved-in"), {"moved-in"})


def test_git_checkout_of_300_files_is_one_sync(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    root = repo / ".blue" / "dialogues"
    dialogues = ("g1", "g2", "g3")
    for d in dialogues:
        for r in range(4):
            (root / d / f"round-{r}").mkdir(parents=True)
            for e in range(25):
                (root / d / f"round-{r}" / f"e{e:02d}.md").write_text(response(f"{d} {r} {e}"))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    subprocess.run([*git, "checkout", "-qb", "other"], check=True)
    for f in root.rglob("*.md"):
        f.write_text(f.read_text() + "\n[CONCESSION on T01]\nGranted.\n")
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    subprocess.run([*git, "checkout", "-q", "main"], check=True)
    rec = Recorder()
    daemon = Daemon(root, lambda: rec, debounce=0.6, log=Log(stream=io.StringIO()))
    daemon.start()
    try:
        wait_for(lambda: rec.calls, what="the start-up reconcile")
        settle(root, rec, lambda: subprocess.run([*git, "checkout", "-q", "other"], check=True),
               set(dialogues))
    finally:
        daemon.stop()
        daemon.join(15)


def test_watch_root_deleted_and_recreated(live) -> None:
    root, rec, daemon = live
    n = len(rec.calls)
    shutil.rmtree(root)
    wait_for(lambda: daemon.status.get("state") == "waiting", what="the waiting state")
    (root / "d9" / "round-0").mkdir(parents=True)
    (root / "d9" / "round-0" / "muffin.md").write_text(response("reborn"))
    wait_for(lambda: None in rec.since(n), what="a reconcile after the root came back")
    # and it follows events again
    settle(root, rec, lambda: save_atomic(root / "d9" / "round-0" / "muffin.md",
                                          response("again")), {"d9"})


def test_root_missing_at_start_is_awaited(tmp_path: Path) -> None:
    root = tmp_path / "not-yet"
    rec = Recorder()
    daemon = Daemon(root, lambda: rec, debounce=0.05, log=Log(stream=io.StringIO()))
    daemon.start()
    try:
        wait_for(lambda: daemon.status.get("state") == "waiting", what="the waiting state")
        assert rec.calls == []  # nothing to reconcile against: the store is left alone
        (root / "d1" / "round-0").mkdir(parents=True)
        (root / "d1" / "round-0" / "muffin.md").write_text(response("late"))
        wait_for(lambda: rec.calls, what="the reconcile once the root exists")
        assert rec.calls[0] is None
        settle(root, rec, lambda: save_in_place(root / "d1" / "round-0" / "muffin.md",
                                                response("later")), {"d1"})
    finally:
        daemon.stop()
        daemon.join(15)


def test_stop_finishes_and_exits(tmp_path: Path) -> None:
    root = tmp_path / "dialogues"
    root.mkdir()
    started, release = threading.Event(), threading.Event()
    calls: list[object] = []

    def slow(dialogues: frozenset[str] | None) -> None:
        started.set()
        release.wait(10)
        calls.append(dialogues)

    daemon = Daemon(root, lambda: slow, debounce=0.05, log=Log(stream=io.StringIO()))
    daemon.start()
    assert started.wait(10)
    daemon.stop()          # asked to stop while a sync is in flight
    release.set()
    daemon.join(10)
    assert calls == [None]  # the in-flight sync completed
    assert daemon.fatal is None


# -- lock and status file (no daemon process needed) -------------------------------------


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    path = tmp_path / ".blue" / "watch.lock"
    first, second = DaemonLock(path), DaemonLock(path)
    assert first.acquire()
    assert lock_held(path)
    assert not second.acquire(patience=0.05)
    first.release()
    assert not lock_held(path)
    assert second.acquire()
    second.release()


def test_daemon_status_none_without_a_daemon(tmp_path: Path) -> None:
    from indexer.config import load

    config = load(root=tmp_path, env={})
    (tmp_path / ".blue").mkdir()
    (tmp_path / ".blue" / "watch.json").write_text(json.dumps({"pid": 1, "syncs": 3}))
    assert daemon_status(config) is None  # a stale status file from a dead daemon


# -- part 3: the real daemon process over the sync engine and SQLite ---------------------

import signal  # noqa: E402
import sys  # noqa: E402

from .support.watch import DaemonProc  # noqa: E402

SAMPLES = Path(__file__).resolve().parent.parent / "sample_dialogues"


def cli(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), *args],
                         capture_output=True, text=True, timeout=60)
    if check:
        assert out.returncode == 0, f"{args}: {out.returncode} {out.stderr}"
    return out


def store_items(root: Path) -> dict[str, dict]:
    """Every item of every dialogue in the store of ``root`` (read through the store API)."""
    from indexer.config import load
    from indexer.store.factory import open_store

    store = open_store(load(root=root, env={}), create=False)
    try:
        ids = {m["id"] for m in store.dialogues()} | set(store.all_file_hashes())
        return {d: store.load(d) for d in sorted(ids)}
    finally:
        store.close()


def fresh_reindex(root: Path, tmp: Path) -> dict[str, dict]:
    """The store a one-shot ``reindex`` builds from a copy of the same files (and of the
    git repository, when there is one: HEAD is part of what the index depends on)."""
    other = tmp / f"fresh-{len(list(tmp.glob('fresh-*')))}"
    shutil.copytree(root / ".blue" / "dialogues", other / ".blue" / "dialogues",
                    symlinks=True)
    if (root / ".git").is_dir():
        shutil.copytree(root / ".git", other / ".git")
    cli(other, "reindex")
    return store_items(other)


def dialogue_folders(root: Path) -> list[Path]:
    return sorted(p for p in (root / ".blue" / "dialogues").iterdir() if p.is_dir())


class Watched:
    """A daemon process on ``root`` plus the checks the end-to-end tests share."""

    def __init__(self, root: Path, tmp: Path, *args: str, **kw) -> None:
        self.root, self.tmp = root, tmp
        self.dialogues = root / ".blue" / "dialogues"
        self.proc = DaemonProc(root, *args, **kw)
        self.proc.wait_ready()
        self.probes = 0

    def synced(self, n: int) -> set[str]:
        return set().union(*[set(s["dialogues"]) or {"*"} for s in self.proc.syncs()[n:]])

    def settle(self, action, expected: set[str]) -> None:
        """``action`` must end in exactly one sync of ``expected``, then a probe's sync."""
        n = len(self.proc.syncs())
        action()
        wait_for(lambda: expected <= self.synced(n), what=f"a sync of {sorted(expected)}: "
                 + self.proc.text()[-2000:])
        self.probes += 1
        p = self.dialogues / PROBE / "round-0" / "muffin.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(response(f"probe {self.probes}"))
        wait_for(lambda: PROBE in self.synced(n), what="the probe's sync")
        got = [sorted(s["dialogues"]) for s in self.proc.syncs()[n:]]
        assert got == [sorted(expected), [PROBE]]

    def converged(self) -> None:
        assert store_items(self.root) == fresh_reindex(self.root, self.tmp)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(SAMPLES, root / ".blue" / "dialogues")
    return root


def test_daemon_end_to_end(tree: Path, tmp_path: Path) -> None:
    w = Watched(tree, tmp_path)
    try:
        assert store_items(tree) == fresh_reindex(tree, tmp_path)  # the start-up reconcile
        status = json.loads(cli(tree, "status", "--json").stdout)
        assert status["daemon"]["running"] and status["daemon"]["pid"] == w.proc.pid
        d = dialogue_folders(tree)[0]
        target = d / "round-0" / "walnut.md"
        w.settle(lambda: save_atomic(target, response("zebrafish quorum")), {d.name})
        found = cli(tree, "search", "zebrafish")
        assert "zebrafish quorum" in found.stdout
        # the daemon log file: the same events as stderr, as JSON lines
        log_file = Path(status["daemon"]["log"])
        assert log_file == tree / ".blue" / "watch.log"
        logged = [json.loads(x)["event"] for x in log_file.read_text().splitlines()]
        assert logged.count("ready") == 1 and logged.count("sync") == len(w.proc.syncs())
        # a second daemon on the same root is refused, the first keeps running
        second = cli(tree, "watch", check=False)
        assert second.returncode == 2
        assert "already running" in second.stderr and len(second.stderr.strip().splitlines()) == 1
        assert w.proc.proc.poll() is None
    finally:
        code = w.proc.stop(signal.SIGTERM)
    assert code == 0
    assert cli(tree, "status", "--json").returncode == 0
    assert json.loads(cli(tree, "status", "--json").stdout)["daemon"]["running"] is False


def test_save_patterns_converge_to_a_fresh_reindex(tree: Path, tmp_path: Path) -> None:
    w = Watched(tree, tmp_path, "--debounce", "100")
    outside = tmp_path / "outside"
    outside.mkdir()
    try:
        d1, d2 = (p.name for p in dialogue_folders(tree)[:2])
        resp = sorted((tree / ".blue/dialogues" / d1).glob("round-0/*.md"))
        resp = [p for p in resp if not p.name.endswith(".prompt.md")]
        target = resp[0]
        base = target.read_text()
        w.settle(lambda: save_atomic(target, base + "\n[PERSPECTIVE P09: atomic]\nA.\n"), {d1})
        w.settle(lambda: save_vim(target, base + "\n[PERSPECTIVE P09: vim]\nV.\n"), {d1})
        w.settle(lambda: save_in_place(target, base + "\n[PERSPECTIVE P09: inplace]\nI.\n"),
                 {d1})
        w.settle(lambda: save_appends(target, base + "\n[TENSION T09: appended]\n" + "y" * 800),
                 {d1})
        w.settle(lambda: save_sed(target, "appended", "sedded"), {d1})
        w.converged()
        # 300 files rewritten at once (a checkout), across two new dialogues
        def burst() -> None:
            for n in range(300):
                f = w.dialogues / f"burst-{n % 2}" / f"round-{n % 3}" / f"e{n:03d}.md"
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_text(response(f"burst {n}"))
        w.settle(burst, {"burst-0", "burst-1"})
        w.settle(lambda: os.rename(w.dialogues / d2, w.dialogues / "renamed"), {d2, "renamed"})
        w.settle(lambda: os.rename(w.dialogues / "renamed", outside / "x"), {"renamed"})
        w.settle(lambda: os.rename(outside / "x", w.dialogues / "back-in"), {"back-in"})
        w.settle(lambda: shutil.rmtree(w.dialogues / "burst-1"), {"burst-1"})
        w.converged()
        assert w.proc.proc.poll() is None
    finally:
        assert w.proc.stop(signal.SIGINT) == 0


def test_file_with_errors_is_indexed_from_head(tree: Path, tmp_path: Path) -> None:
    """FORMAT.md 5: a file with errors is indexed from its clean version at git HEAD."""
    w = Watched(tree, tmp_path)
    try:
        d = dialogue_folders(tree)[0]
        target = d / "round-1" / "walnut.md"
        w.settle(lambda: save_atomic(target, response("okapi lighthouse")), {d.name})
        assert "okapi lighthouse" in cli(tree, "search", "okapi").stdout
        repo = Repo(tree, git_env(tmp_path / "home"))
        repo.git("init", "-q", "-b", "main")
        repo.git("add", "-A", ".blue/dialogues")
        repo.git("commit", "-q", "-m", "good")
        before = json.loads(cli(tree, "status", "--json").stdout)["counts"].get("diagnostic", 0)
        # a half-written marker: the file stops parsing cleanly
        broken = "# Response\n\n[PERSPECTIVE P01: okapi lighthouse\nunterminated\n[TENSION"
        w.settle(lambda: save_in_place(target, broken), {d.name})
        status = json.loads(cli(tree, "status", "--json").stdout)
        assert status["counts"].get("diagnostic", 0) > before
        assert "okapi lighthouse" in cli(tree, "search", "okapi").stdout  # HEAD's version
        w.converged()
        lint = cli(tree, "lint", str(target), check=False)
        assert lint.returncode == 1 and "walnut.md" in lint.stdout + lint.stderr
        assert w.proc.proc.poll() is None
        w.settle(lambda: save_atomic(target, response("okapi repaired")), {d.name})
        assert "okapi repaired" in cli(tree, "search", "okapi").stdout
        w.converged()
    finally:
        assert w.proc.stop() == 0


@pytest.mark.parametrize("crash", ["sigkill", "exit-after-a-write"])
def test_crash_during_a_burst_then_restart_converges(tree: Path, tmp_path: Path,
                                                     crash: str) -> None:
    from tests.support.crash import crash_env

    env = {}
    if crash == "exit-after-a-write":  # the daemon _exits right after its third commit
        cli(tree, "reindex")
        env = crash_env(3)
    w = Watched(tree, tmp_path, "--debounce", "20", env=env)
    n0 = len(w.proc.syncs())
    for n in range(400):
        f = w.dialogues / f"k{n % 5}" / f"round-{n % 2}" / f"e{n:03d}.md"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(response(f"kill {n}"))
        if n == 150 and crash == "sigkill":  # the daemon has synced part of the burst
            wait_for(lambda: len(w.proc.syncs()) > n0, what="a sync during the burst")
        if n == 200 and crash == "sigkill":
            w.proc.proc.kill()
    if crash == "exit-after-a-write":
        wait_for(lambda: w.proc.proc.poll() is not None, what="the crash")
    w.proc.kill()
    again = Watched(tree, tmp_path)
    try:
        again.converged()
    finally:
        assert again.proc.stop() == 0


def test_inotify_queue_overflow_reconciles(tree: Path, tmp_path: Path) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    w = Watched(tree, tmp_path)
    d = dialogue_folders(tree)[0]
    try:
        os.kill(w.proc.pid, signal.SIGSTOP)  # the kernel queue fills while nobody reads
        try:
            junk = d / "round-0"
            for n in range(limit // 3 + 200):  # create + modify + close: 3 events each
                (junk / f"scratch{n:05d}.tmp").write_text("x")
            # this change comes after the overflow: its events are lost for good
            save_atomic(d / "round-0" / "walnut.md", response("overflowed narwhal"))
        finally:
            os.kill(w.proc.pid, signal.SIGCONT)
        wait_for(lambda: w.proc.events("overflow"), what="the overflow line")
        wait_for(lambda: any(s["reason"] == "overflow" for s in w.proc.syncs()),
                 what="the reconcile after the overflow")
        assert "overflowed narwhal" in cli(tree, "search", "narwhal").stdout
        w.converged()
    finally:
        assert w.proc.stop() == 0


def _userns_ok() -> bool:
    if not shutil.which("unshare"):
        return False
    probe_cmd = ["unshare", "--user", "--map-root-user", "sh", "-c",
                 "echo 5 > /proc/sys/user/max_inotify_watches"]
    return subprocess.run(probe_cmd, capture_output=True).returncode == 0


def test_inotify_watch_limit_falls_back_to_polling(tree: Path, tmp_path: Path) -> None:
    if not _userns_ok():
        pytest.skip("cannot lower the inotify watch limit here (needs unprivileged user "
                    "namespaces: unshare --user)")
    # Inside a fresh user namespace the per-namespace inotify watch limit can be lowered:
    # the daemon really hits ENOSPC on add_watch for sub-folders.
    prefix = ["unshare", "--user", "--map-root-user", "sh", "-c",
              'echo 3 > /proc/sys/user/max_inotify_watches && exec "$@"', "sh"]
    w = Watched(tree, tmp_path, prefix=prefix)
    try:
        fallback = w.proc.events("fallback")
        assert len(fallback) == 1 and "limit" in fallback[0]["message"]
        d = dialogue_folders(tree)[0]
        w.settle(lambda: save_atomic(d / "round-0" / "walnut.md", response("polled kiwi")),
                 {d.name})
        assert "polled kiwi" in cli(tree, "search", "kiwi").stdout
        assert json.loads((tree / ".blue" / "watch.json").read_text())["observer"] == "polling"
    finally:
        assert w.proc.stop() == 0
