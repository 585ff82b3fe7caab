"""Fresh queries (issue 17): an answer reflects the files as they are, with or without the
watch daemon, and never a half-synced dialogue.

Real files, real SQLite, real ``blue-index`` subprocesses, a real ``watch`` daemon process
with real inotify events. What a fresh answer must hold is computed from the files the test
wrote (the markers it put there, counted with a regex) or from an independent parse +
assemble of the same bytes (tests/support/sync.py), never from the query under test.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.cookie import PREFIX
from indexer.export import dumps, export
from indexer.fresh import DAEMON, NO_INDEX, READ_ONLY, SKIPPED, SYNCED, ensure_fresh
from indexer.store.factory import open_store
from indexer.views import tensions

from .support.sync import REPO, cli, expected_export
from .support.watch import DaemonProc, save_appends, save_atomic, save_in_place, wait_for

DID = "2026-05-01T0900Z-agent-writes"
WRITER = "muffin"
SAVES = (save_atomic, save_in_place, lambda p, t: save_appends(p, t, pieces=4))


def _round_file(round_no: int, markers: list[str]) -> str:
    body = "".join(f"\n[TENSION T{n:02d}: {label}]\nWhy {label} matters.\n"
                   for n, label in enumerate(markers, 1))
    return f"# Muffin, round {round_no}\n{body}"


def _labels_in_files(root: Path) -> set[str]:
    """The tension labels the writer's files hold (a regex over the files, not the parser)."""
    out: set[str] = set()
    for f in (root / ".blue" / "dialogues" / DID).rglob(f"{WRITER}.md"):
        out |= set(re.findall(r"^\[TENSION T\d+: (.+)\]$", f.read_text(), re.M))
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one folder dialogue (two rounds, another expert) already indexed."""
    root = tmp_path / "repo"
    d = root / ".blue" / "dialogues" / DID
    for r in (0, 1):
        (d / f"round-{r}").mkdir(parents=True)
        (d / f"round-{r}" / "scone.md").write_text(
            f"# Scone\n\n[PERSPECTIVE P01: scone view {r}]\nA view.\n")
    (d / "round-0" / f"{WRITER}.md").write_text(_round_file(0, ["seed tension"]))
    assert cli(root, "reindex").returncode == 0
    return root


def _config(root: Path) -> config_mod.Config:
    return config_mod.load(root=root, env={})


class Agent:
    """Writes a new marker into a round file, then asks; counts stale answers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / ".blue" / "dialogues" / DID / "round-1" / f"{WRITER}.md"
        self.markers: list[str] = []
        self.stale: list[str] = []

    def write(self, n: int) -> str:
        label = f"agent marker {n} kiwi{n}"
        self.markers.append(label)
        SAVES[n % len(SAVES)](self.file, _round_file(1, self.markers))
        return label

    def check(self, rows: list[dict], label: str) -> None:
        got = {t["label"] for t in rows if t["expert"] == WRITER}
        want = _labels_in_files(self.root)
        assert label in want  # the file holds what the agent wrote
        if got != want:
            self.stale.append(f"{label}: missing {sorted(want - got)[:3]}, "
                              f"extra {sorted(got - want)[:3]}")


def _rounds(root: Path, n: int, via_cli_every: int, daemon_wait: float | None = None
            ) -> tuple[Agent, dict[str, int]]:
    """``n`` write-then-query rounds: most in-process (ensure_fresh + the tensions view),
    every ``via_cli_every``-th through ``blue-index tensions --json`` as a subprocess."""
    config = _config(root)
    store = open_store(config)
    agent = Agent(root)
    hows: dict[str, int] = {}
    try:
        for i in range(n):
            label = agent.write(i)
            if i % via_cli_every == 0:
                p = cli(root, "tensions", DID, "--json")
                assert p.returncode == 0, p.stderr
                agent.check(json.loads(p.stdout), label)
                hows["cli"] = hows.get("cli", 0) + 1
            else:
                done = ensure_fresh(config, store, [DID], daemon_wait=daemon_wait)
                hows[done.how] = hows.get(done.how, 0) + 1
                agent.check(tensions(store.load(DID)), label)
    finally:
        store.close()
    return agent, hows


def test_agent_writes_then_asks_without_a_daemon(repo: Path) -> None:
    agent = Agent(repo)
    label = agent.write(0)
    p = cli(repo, "tensions", DID, "--json")  # the real CLI, right after the write
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert label in {t["label"] for t in rows}
    agent.check(rows, label)
    assert agent.stale == []
    # --no-sync answers from the store as it is: the next marker is not there yet
    label = agent.write(1)
    rows = json.loads(cli(repo, "tensions", DID, "--json", "--no-sync").stdout)
    assert label not in {t["label"] for t in rows}
    assert label in {t["label"] for t in json.loads(cli(repo, "tensions", DID, "--json").stdout)}


def test_200_rounds_without_a_daemon_no_stale_answer(repo: Path) -> None:
    agent, hows = _rounds(repo, 200, via_cli_every=20)
    assert agent.stale == []
    assert hows == {"cli": 10, SYNCED: 190}


def test_200_rounds_with_a_daemon_no_stale_answer(repo: Path) -> None:
    proc = DaemonProc(repo)
    try:
        proc.wait_ready()
        # a generous bound: this test is about the cookie path answering, not its speed
        agent, hows = _rounds(repo, 200, via_cli_every=20, daemon_wait=10.0)
        assert agent.stale == []
        assert hows == {"cli": 10, DAEMON: 190}  # every in-process round settled by cookie
        assert proc.proc.poll() is None and not proc.events("error")
        # cookies leave nothing behind and never cause a sync of their own
        assert not list((repo / ".blue" / "dialogues").glob(f"{PREFIX}*"))
        assert all(s["dialogues"] in ([DID], []) for s in proc.syncs())
    finally:
        assert proc.stop() == 0


def test_agent_with_a_daemon_through_the_cli(repo: Path) -> None:
    proc = DaemonProc(repo)
    try:
        proc.wait_ready()
        agent = Agent(repo)
        for i in range(3):
            label = agent.write(i)
            p = cli(repo, "-v", "tensions", DID, "--json")  # -v: says when it synced itself
            assert p.returncode == 0, p.stderr
            agent.check(json.loads(p.stdout), label)
            assert "synced here" not in p.stderr, p.stderr  # the daemon answered
        assert agent.stale == []
        out = json.loads(cli(repo, "sync", "--wait", "--json").stdout)
        assert out["how"] == DAEMON and out["report"] is None
        assert out["clock"] == json.loads(cli(repo, "status", "--json").stdout)["clock"]
    finally:
        assert proc.stop() == 0


def test_a_daemon_that_does_not_answer_is_waited_for_a_bound_then_the_query_syncs(
        repo: Path) -> None:
    proc = DaemonProc(repo)
    try:
        proc.wait_ready()
        os.kill(proc.pid, signal.SIGSTOP)  # alive, holds its lock, answers nothing
        try:
            agent = Agent(repo)
            label = agent.write(0)
            config = _config(repo)
            store = open_store(config)
            try:
                t0 = time.monotonic()
                done = ensure_fresh(config, store, [DID], daemon_wait=0.3)
                waited = time.monotonic() - t0
                assert done.how == SYNCED and "did not answer within 0.3s" in done.fallback
                assert waited >= 0.3 and done.daemon_seconds >= 0.3
                agent.check(tensions(store.load(DID)), label)
            finally:
                store.close()
            p = cli(repo, "-v", "tensions", DID, "--json")  # the default bound, then itself
            assert p.returncode == 0 and "did not answer" in p.stderr, p.stderr
            agent.check(json.loads(p.stdout), label)
            # sync --wait: a longer bound, announced with what it waits for, then itself
            label = agent.write(1)
            p = cli(repo, "sync", "--wait", "--timeout", "1.2", "--json")
            assert p.returncode == 0, p.stderr
            assert f"waiting up to 1.2s for the watch daemon (pid {proc.pid})" in p.stderr
            out = json.loads(p.stdout)
            assert out["how"] == SYNCED and "did not answer within 1.2s" in out["fallback"]
            assert out["daemon_seconds"] >= 1.2 and out["report"]["dialogues"] == [DID]
            rows = json.loads(cli(repo, "tensions", DID, "--json", "--no-sync").stdout)
            agent.check(rows, label)
            assert agent.stale == []
            # the query cleaned up its cookie
            assert not list((repo / ".blue" / "dialogues").glob(f"{PREFIX}*"))
        finally:
            os.kill(proc.pid, signal.SIGCONT)
    finally:
        assert proc.stop() == 0


def test_no_sync_sources(repo: Path, tmp_path: Path) -> None:
    config = _config(repo)
    store = open_store(config)
    try:
        assert ensure_fresh(config, store, [DID], sync=False).how == SKIPPED
        assert ensure_fresh(config, None, [DID]).how == NO_INDEX
    finally:
        store.close()
    # the config default: query: {sync: false}; --sync overrides it
    (repo / ".blue" / "config.yaml").write_text("query: {sync: false}\n")
    agent = Agent(repo)
    label = agent.write(0)
    assert label not in cli(repo, "tensions", DID, "--json").stdout
    assert label in cli(repo, "tensions", DID, "--json", "--sync").stdout
    # a wrong type in the new section is a config error naming the key (exit 2)
    (repo / ".blue" / "config.yaml").write_text("query: {sync: maybe}\n")
    p = cli(repo, "list")
    assert p.returncode == 2 and "query.sync" in p.stderr


def _read_only(repo: Path, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with the SQLite file read-only: chmod for a normal user; for root (who
    writes anyway) a read-only bind mount in a user + mount namespace."""
    db = repo / ".blue" / "blue.db"
    if os.geteuid() != 0:
        db.chmod(0o444)
        try:
            return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60)
        finally:
            db.chmod(0o644)
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("root here, and no user namespaces to make a read-only mount")
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           script, str(db), *cmd], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_read_only_store_answers_with_a_note(repo: Path) -> None:
    agent = Agent(repo)
    label = agent.write(0)
    p = _read_only(repo, [sys.executable, "-m", "indexer.cli", "--root", str(repo),
                          "tensions", DID, "--json"])
    assert p.returncode == 0, p.stderr
    assert "read-only here" in p.stderr and "may be stale" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert label not in p.stdout and "seed tension" in p.stdout  # the store as it is
    code = ("import sys, json; from pathlib import Path; from indexer import config; "
            "from indexer.store.factory import open_store; from indexer.fresh import ensure_fresh;"
            " c = config.load(root=Path(sys.argv[1]), env={}); "
            "d = ensure_fresh(c, open_store(c, create=False), [sys.argv[2]]); "
            "print(json.dumps([d.how, d.note]))")
    p = _read_only(repo, [sys.executable, "-c", code, str(repo), DID])
    assert p.returncode == 0, p.stderr
    how, note = json.loads(p.stdout)
    assert how == READ_ONLY and "may be stale" in note
    # once writable again, the next query syncs
    assert label in cli(repo, "tensions", DID, "--json").stdout


def test_clock_in_answers_and_min_clock(repo: Path) -> None:
    status = json.loads(cli(repo, "status", "--json").stdout)
    before = status["clock"]
    assert isinstance(before, int) and before > 0  # the reindex wrote
    show = json.loads(cli(repo, "show", DID, "--json", "--no-sync").stdout)
    assert show["clock"] == before
    p = cli(repo, "tensions", DID, "--json", "--no-sync", "--clock")
    assert isinstance(json.loads(p.stdout), list)  # the list shape is kept
    assert p.stderr.strip() == f"clock {before}"
    Agent(repo).write(0)
    after = json.loads(cli(repo, "show", DID, "--json").stdout)["clock"]
    assert after > before  # the query's own sync wrote a revision
    # --min-clock: a value reached returns at once; one never reached fails within its bound
    assert cli(repo, "list", "--json", "--no-sync", "--min-clock", str(after)).returncode == 0
    t0 = time.monotonic()
    p = cli(repo, "list", "--no-sync", "--min-clock", str(after + 1), "--clock-timeout", "0.3")
    assert p.returncode == 3 and f"reach {after + 1}" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and time.monotonic() - t0 < 20


def test_min_clock_waits_for_a_write_made_meanwhile(repo: Path) -> None:
    before = json.loads(cli(repo, "status", "--json", "--no-sync").stdout)["clock"]
    Agent(repo).write(0)
    cmd = [sys.executable, "-m", "indexer.cli", "--root", str(repo), "show", DID, "--json",
           "--no-sync", "--min-clock", str(before + 1), "--clock-timeout", "30"]
    waiter = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    time.sleep(0.5)
    assert waiter.poll() is None  # still waiting: nothing was written yet
    assert cli(repo, "reindex").returncode == 0  # the write it waits for
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert json.loads(out)["clock"] >= before + 1


# -- racing: a daemon, a reindex loop and two queries on one dialogue ----------------------


STATE_A = "# Muffin\n\n[PERSPECTIVE P01: state a]\nA.\n\n[TENSION T01: a one]\nWhy.\n"
STATE_B = ("# Muffin\n\n[PERSPECTIVE P01: state b]\nB.\n" + "".join(
    f"\n[TENSION T{n:02d}: b tension {n}]\nWhy {n}.\n" for n in range(1, 8))
    + "\n[CONCESSION on T01]\nGranted.\n")


def test_queries_racing_a_daemon_and_a_reindex_see_whole_dialogues(repo: Path,
                                                                   tmp_path: Path) -> None:
    dialogues = repo / ".blue" / "dialogues"
    target = dialogues / DID / "round-1" / f"{WRITER}.md"
    expected = set()
    for text in (STATE_A, STATE_B):  # what a fresh index holds in each state
        target.write_text(text)
        expected.add(expected_export(dialogues, DID))
    assert len(expected) == 2
    proc = DaemonProc(repo, "--debounce", "20")
    stop = threading.Event()
    seen: list[str] = []
    errors: list[str] = []

    def toggle() -> None:
        n = 0
        while not stop.is_set():
            save_atomic(target, STATE_A if n % 2 else STATE_B)  # one atomic file change
            n += 1
            time.sleep(0.03)

    def reindexer() -> None:
        while not stop.is_set():
            p = cli(repo, "reindex", "-q")
            if p.returncode != 0:
                errors.append(f"reindex: {p.returncode} {p.stderr}")

    def cli_queries() -> None:
        while not stop.is_set():
            p = cli(repo, "export", DID)
            if p.returncode != 0:
                errors.append(f"export: {p.returncode} {p.stderr}")
            else:
                seen.append(p.stdout)

    def library_queries() -> None:
        config = _config(repo)
        store = open_store(config)
        try:
            while not stop.is_set():
                try:
                    ensure_fresh(config, store, [DID], daemon_wait=0.2)
                    seen.append(dumps(export(store.load(DID))))
                except Exception as e:  # noqa: BLE001 - collected, asserted below
                    errors.append(f"library: {e!r}")
        finally:
            store.close()

    try:
        proc.wait_ready()
        threads = [threading.Thread(target=f) for f in
                   (toggle, reindexer, cli_queries, library_queries)]
        for t in threads:
            t.start()
        wait_for(lambda: sum(s.startswith("{") for s in seen) >= 80 and len(
            {s for s in seen if s in expected}) == 2, timeout=120,
            what="80 answers covering both states")
    finally:
        stop.set()
        for t in threads:
            t.join(60)
        code = proc.stop()
    assert errors == []
    half = [s for s in seen if s not in expected]
    assert half == [], f"{len(half)} of {len(seen)} answers were neither state"
    assert code == 0
