"""The one atomic write, the one file lock and the one YAML reader of the package: real
files, real processes (a lock held by another process, then that process killed)."""

from __future__ import annotations

import ast
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.fsutil import FileLock, atomic_write, lock_held
from indexer.yamlfile import YamlError, parse_yaml

ROOT = Path(__file__).resolve().parents[1]


def _leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != name)


def test_atomic_write_replaces_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "state.json"
    atomic_write(target, "one")
    atomic_write(target, b"two \xe2\x9c\x93")
    assert target.read_bytes() == "two ✓".encode()
    assert _leftovers(tmp_path, target.name) == []
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("mode", [0o600, 0o755])
def test_atomic_write_mode_is_exact_whatever_the_umask(tmp_path, mode):
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "f", "x", mode=mode, durable=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == mode


def test_exclusive_never_overwrites(tmp_path):
    target = tmp_path / "key"
    atomic_write(target, "first", mode=0o600, exclusive=True)
    with pytest.raises(FileExistsError):
        atomic_write(target, "second", mode=0o600, exclusive=True)
    assert target.read_text() == "first"
    assert _leftovers(tmp_path, target.name) == []


def test_a_failed_write_leaves_the_old_content_and_no_temp_file(tmp_path):
    target = tmp_path / "d"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        atomic_write(target, "x")
    assert target.is_dir() and _leftovers(tmp_path, target.name) == []


def test_readers_see_the_old_or_the_new_content_never_a_part(tmp_path):
    target = tmp_path / "big"
    versions = [b"a" * 2_000_000, b"b" * 3_000_000]
    atomic_write(target, versions[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            data = target.read_bytes()
            seen.add(data[:1] + str(len(data)).encode())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            atomic_write(target, versions[i % 2])
    finally:
        stop.set()
        reader.join()
    assert seen <= {b"a2000000", b"b3000000"}, seen


HOLD = """
import sys, time
from pathlib import Path
from indexer.fsutil import FileLock
lock = FileLock(Path(sys.argv[1]))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_lock_held_by_another_process_waits_then_frees_when_it_dies(tmp_path):
    path = tmp_path / "locks" / "d1.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert lock_held(path)
        waits: list[float] = []
        mine = FileLock(path)
        assert mine.acquire(timeout=0.3, poll=0.05, on_wait=waits.append) is False
        assert mine.fd is None  # given up: nothing left open
        assert len(waits) >= 3 and waits == sorted(waits) and waits[-1] >= 0.3
        assert lock_held(path)  # probing took nothing away
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        t0 = time.monotonic()
        assert mine.acquire(timeout=10)  # the kernel dropped the dead holder's lock
        assert time.monotonic() - t0 < 10
        assert lock_held(path)  # held by us now: a probe from any descriptor sees it
    finally:
        holder.kill()
        holder.wait(10)
    mine.release()
    assert lock_held(path) is False


def test_on_wait_can_give_up_and_the_lock_file_is_closed(tmp_path):
    path = tmp_path / "l"
    first = FileLock(path)
    assert first.try_acquire()
    second = FileLock(path)

    def impatient(waited: float) -> None:
        raise TimeoutError(f"waited {waited}")

    with pytest.raises(TimeoutError):
        second.acquire(timeout=60, on_wait=impatient)
    assert second.fd is None
    first.release()
    with FileLock(path) as third:
        assert third.try_acquire()


def test_lock_held_on_a_missing_file_is_false_and_creates_nothing(tmp_path):
    assert lock_held(tmp_path / "none.lock") is False
    assert list(tmp_path.iterdir()) == []


def test_yaml_errors_say_the_line_and_unsafe_tags_are_refused(tmp_path):
    assert parse_yaml("a: 1\nb: [x, y]\n") == {"a": 1, "b": ["x", "y"]}
    with pytest.raises(YamlError) as e:
        parse_yaml("a: 1\nb: 2\nc: [unclosed\nd: 4\n")
    assert e.value.line is not None and e.value.line >= 4
    assert e.value.at("cfg.yaml") == f"cfg.yaml:{e.value.line}"
    with pytest.raises(YamlError):
        parse_yaml("x: !!python/object/apply:os.system ['true']\n")
    assert parse_yaml("k: ü # comment\n") == {"k": "ü"}


def _calls(tree: ast.AST) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [f"import {a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(f"import {node.module}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name):
            out.append(f"{node.func.value.id}.{node.func.attr}")
    return out


# Renames of complete files, not writes: a key file put in place, a damaged database moved,
# a settle cookie renamed to its "failed" answer.
RENAMES = {"indexer/keys/rotate.py", "indexer/store/sqlite.py", "indexer/cookie.py"}


def test_one_helper_each_for_atomic_writes_locks_and_yaml():
    """No module but fsutil locks files or renames temp files into place, and no module but
    yamlfile reads YAML: a fifth atomic-write helper or a fourth YAML loader fails here."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "indexer").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if call in ("import fcntl", "os.replace", "import yaml",
                        "yaml.load", "yaml.safe_load"):
                found.setdefault(call, set()).add(rel)
    assert found.get("import fcntl") == {"indexer/fsutil.py"}
    assert found.get("import yaml") == {"indexer/yamlfile.py"}
    assert found.get("os.replace", set()) - RENAMES == {"indexer/fsutil.py"}
    assert "yaml.safe_load" not in found
