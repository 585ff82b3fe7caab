"""Hostile trees, built for real in temp folders: FIFOs, device files, symlink loops, links
leaving the repository, dangling links, files over the size limit, names that are not
UTF-8. Each builder returns what a correct tool must report: ``{path relative to the
dialogues root: diagnostic code}``, written down here from how the tree was built."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from .sync import REPO

SAMPLES = REPO / "sample_dialogues"
LIMIT = 65536  # the size limit the hostile repos configure (bytes; above every sample)
SECRET = "xylophone"  # a word only the file outside the repository holds
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def sample_ids() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if p.is_dir())


def build(root: Path, outside: Path) -> dict[str, str]:
    """A repository at ``root`` with the samples and, in the first dialogue, one entry of
    every hostile kind. ``outside``: a folder outside the repository (a link target)."""
    dialogues = root / ".blue" / "dialogues"
    shutil.copytree(SAMPLES, dialogues)
    (root / ".blue" / "config.yaml").write_text(
        f"limits:\n  max_file_size: {LIMIT}\n", encoding="utf-8")
    did = sample_ids()[0]
    d = dialogues / did
    r0 = d / "round-0"
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "secret.md"
    secret.write_text(f"# Secret\n\n[PERSPECTIVE P01: {SECRET} outside]\nLeaked.\n",
                      encoding="utf-8")
    os.mkfifo(r0 / "fifo.md")
    (r0 / "zero.md").symlink_to("/dev/zero")
    (r0 / "loop.md").symlink_to("loop.md")
    (r0 / "up").symlink_to("..")
    (r0 / "leak.md").symlink_to(secret)
    (d / "escape").symlink_to(outside)
    (r0 / "gone.md").symlink_to("nope.md")
    (r0 / "big.md").write_text("# Big\n\n" + "word " * LIMIT, encoding="utf-8")
    open(os.fsencode(r0) + b"/caf\xe9.md", "wb").close()  # noqa: SIM115
    (d / "background-link.md").symlink_to("background.md")  # inside: followed
    expected = {
        "round-0/fifo.md": "file-not-regular",
        "round-0/zero.md": "symlink-outside",
        "round-0/loop.md": "symlink-loop",
        "round-0/up": "symlink-loop",
        "round-0/leak.md": "symlink-outside",
        "escape": "symlink-outside",
        "round-0/gone.md": "symlink-broken",
        "round-0/big.md": "file-too-large",
        "round-0/caf\\xe9.md": "name-not-utf8",
    }
    if os.geteuid() == 0:  # a device node inside the repository (mknod needs root)
        os.mknod(r0 / "null.md", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        expected["round-0/null.md"] = "file-not-regular"
    return {f"{did}/{rel}": code for rel, code in expected.items()}


def run(root: Path, *args: str, env: dict[str, str] | None = None,
        prefix: list[str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``blue-index --root ROOT ARGS`` in a real process; the timeout is a safety net
    against a hang (the failure the hostile trees provoke), not a speed assertion."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    for var in ("BLUE_INDEX_BACKEND", "BLUE_INDEX_SQLITE_PATH"):
        if var not in (env or {}):
            full_env.pop(var, None)
    return subprocess.run([*(prefix or []), sys.executable, "-m", "indexer.cli", "--root",
                           str(root), *args], capture_output=True, text=True, env=full_env,
                          cwd=REPO, timeout=timeout, check=False)


def store_state(db: Path) -> dict[str, dict]:
    """Every item of every dialogue in the SQLite file ``db``."""
    from indexer.store.sqlite import SQLiteStore

    store = SQLiteStore(db, create=False)
    try:
        ids = {m["id"] for m in store.dialogues()} | set(store.all_file_hashes())
        return {d: store.load(d) for d in sorted(ids)}
    finally:
        store.close()


def fresh_rebuild(root: Path, tmp: Path, prefix: list[str] | None = None) -> dict[str, dict]:
    """A fresh ``reindex`` of the same files and HEAD into a new SQLite file."""
    tmp.mkdir(parents=True, exist_ok=True)
    db = tmp / f"fresh-{len(list(tmp.glob('fresh-*.db')))}.db"
    p = run(root, "reindex", env={"BLUE_INDEX_SQLITE_PATH": str(db)}, prefix=prefix)
    assert p.returncode == 0, p.stderr
    return store_state(db)


def diagnostic_codes(items: dict[str, dict]) -> dict[str, set[str]]:
    """``{file: {codes}}`` of a partition's diagnostic items."""
    out: dict[str, set[str]] = {}
    for it in items.values():
        if it["kind"] == "diagnostic":
            out.setdefault(it["file"], set()).add(it["code"])
    return out


def lint_json(root: Path, *paths: str, prefix: list[str] | None = None,
              cwd_rel: bool = True) -> list[dict]:
    p = run(root, "lint", *paths, "--json", prefix=prefix)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)
