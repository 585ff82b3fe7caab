"""Crash safety: a reindex process killed at any point is finished by the next run, which
ends in exactly the state a fresh index of the same files has."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.gen_corpus import generate
from indexer.store.sqlite import SQLiteStore
from tests.support.crash import KILLED, crash_env
from tests.support.sync import REPO, cli, copy_tree, dialogue_ids, expected_items


def _assert_converged(cfg) -> None:
    """Every dialogue on disk is stored exactly as a fresh index would hold it, and
    nothing else is stored."""
    store = SQLiteStore(cfg.sqlite_path)
    try:
        ids = dialogue_ids(cfg.dialogues)
        assert sorted(store.all_file_hashes()) == ids
        for did in ids:
            assert store.load(did) == expected_items(cfg.dialogues, did), did
    finally:
        store.close()


def _mutate(cfg, step: int) -> None:
    """A deterministic mix of edits, deletions and additions across dialogues."""
    ids = dialogue_ids(cfg.dialogues)
    did = ids[step % len(ids)]
    responses = sorted(p for p in (cfg.dialogues / did).glob("round-*/*.md")
                       if not p.name.endswith(".prompt.md"))
    if responses:
        f = responses[step % len(responses)]
        f.write_text(f.read_text(encoding="utf-8")
                     + f"\n[PERSPECTIVE P9{step % 10}: Crash step {step}]\nEdited.\n",
                     encoding="utf-8")
        if step % 3 == 2 and len(responses) > 1:
            responses[(step + 1) % len(responses)].unlink()
    if step % 4 == 3 and len(ids) > 2:
        shutil.rmtree(cfg.dialogues / ids[-1])
    if step % 4 == 1:
        shutil.copytree(cfg.dialogues / ids[0], cfg.dialogues / f"zz-added-{step}")


@pytest.mark.parametrize("kill_after", [1, 2, 3, 5])
def test_killed_after_n_writes_then_recovered(samples_dir, tmp_path, kill_after):
    cfg = copy_tree(samples_dir, tmp_path)
    shutil.copytree(cfg.dialogues / dialogue_ids(cfg.dialogues)[0], cfg.dialogues / "zz-extra")
    shutil.copytree(cfg.dialogues / dialogue_ids(cfg.dialogues)[1], cfg.dialogues / "zz-more")
    cli(tmp_path, "reindex", check=True)
    for step in range(4):
        _mutate(cfg, step)
    killed = cli(tmp_path, "reindex", env=crash_env(kill_after))
    writes_needed = 5  # 4 mutation steps touch at least this many partitions
    if kill_after < writes_needed:
        assert killed.returncode == KILLED, killed.stderr
    recovered = cli(tmp_path, "reindex", check=True)
    assert recovered.returncode == 0
    _assert_converged(cfg)
    assert cli(tmp_path, "reindex", "--check").returncode == 0


@pytest.mark.slow
def test_sigkill_at_many_points(tmp_path):
    """Real SIGKILLs of a real reindex process at a spread of moments, with the tree
    changing between attempts; then one clean run converges."""
    dialogues = tmp_path / ".blue" / "dialogues"
    generate(dialogues, dialogues=8, rounds=3, experts=6, seed=7)
    from indexer import config as config_mod

    cfg = config_mod.load(root=tmp_path, env={})
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUE_INDEX_")}
    cmd = [sys.executable, "-m", "indexer.cli", "--root", str(tmp_path), "reindex"]
    kills = 0
    for step, delay in enumerate((0.05, 0.15, 0.3, 0.45, 0.6, 0.8, 1.0, 0.25, 0.5, 0.7)):
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        _mutate(cfg, step)
    assert kills >= 3  # most attempts were really interrupted
    p = cli(tmp_path, "reindex", check=True)
    assert p.returncode == 0
    _assert_converged(cfg)


def test_stale_hash_cache_after_crash_is_harmless(samples_dir, tmp_path):
    """The hash cache may know a file's new hash while the store does not (killed between
    the two): the next run must still sync that file."""
    cfg = copy_tree(samples_dir, tmp_path)
    cli(tmp_path, "reindex", check=True)
    _mutate(cfg, 0)
    # age the edited files so the cache is allowed to remember them
    for p in Path(cfg.dialogues).rglob("*.md"):
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 60 * 10**9))
    killed = cli(tmp_path, "reindex", env=crash_env(1))
    assert killed.returncode == KILLED
    # simulate the worst case: the cache was saved with every new hash before the kill
    from indexer.hashcache import HashCache, sha256_bytes

    cache = HashCache(cfg.state_dir / "cache" / "hashes", cfg.dialogues)
    cache.started_ns = time.time_ns()
    for p in Path(cfg.dialogues).rglob("*"):
        if p.is_file() and len(p.relative_to(cfg.dialogues).parts) > 1:
            st = p.stat()
            did, rel = p.relative_to(cfg.dialogues).as_posix().split("/", 1)
            cache.put(did, rel, st.st_size, st.st_mtime_ns, sha256_bytes(p.read_bytes()))
    cache.save()
    assert cli(tmp_path, "reindex", check=True).returncode == 0
    _assert_converged(cfg)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_parse_workers_do_not_outlive_a_killed_sync(tmp_path):
    """A big run parses in worker processes; SIGKILL of the sync process takes them down."""
    generate(tmp_path / ".blue" / "dialogues", dialogues=12, rounds=3, experts=6, seed=11)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUE_INDEX_")}
    env["BLUE_INDEX_WORKERS"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(tmp_path),
                             "reindex"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while not workers and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.02)
    assert workers, "the run never started a parse worker"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{w}").exists() and "Z" not in _state(w) for w in workers):
        assert time.monotonic() < deadline, f"orphaned parse workers {workers}"
        time.sleep(0.05)
    from indexer import config as config_mod

    assert cli(tmp_path, "reindex", check=True).returncode == 0
    _assert_converged(config_mod.load(root=tmp_path, env={}))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
