"""Helpers for the sync, reindex and crash tests: a repo in tmp_path, expected exports
computed straight from parse + assemble (independent of the sync engine), a CLI runner."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from indexer import config as config_mod
from indexer import layout

REPO = Path(__file__).resolve().parent.parent.parent


def make_repo(root: Path, sources: dict[str, Path]) -> config_mod.Config:
    """``root/.blue/dialogues/<name>`` copied from each source folder; the repo's config."""
    dialogues = root / ".blue" / "dialogues"
    dialogues.mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        shutil.copytree(src, dialogues / name)
    return config_mod.load(root=root, env={})


def copy_tree(src: Path, root: Path) -> config_mod.Config:
    """Every dialogue folder (and root file) of ``src`` under ``root/.blue/dialogues``."""
    dialogues = root / ".blue" / "dialogues"
    shutil.copytree(src, dialogues)
    return config_mod.load(root=root, env={})


def dialogue_files(dialogues: Path, did: str) -> dict[str, bytes]:
    """``{path relative to the dialogues root: bytes}`` of the indexable files of a dialogue."""
    out = {}
    for p in sorted((dialogues / did).rglob("*")):
        rel = p.relative_to(dialogues).as_posix()
        if p.is_file() and layout.classify(rel).role != layout.IGNORED:
            out[rel] = p.read_bytes()
    for name in (f"{did}.dialogue.md", f"{did}.dialogue.recorded.md"):  # FORMAT.md 8
        if (dialogues / name).is_file():
            out[name] = (dialogues / name).read_bytes()
    return out


def expected_items(dialogues: Path, did: str) -> dict:
    """The items a fresh index of these files must hold, from parse + assemble directly."""
    from indexer.assemble import assemble
    from indexer.codec import to_items
    from indexer.parse import parse_file

    files = [parse_file(rel, data) for rel, data in dialogue_files(dialogues, did).items()]
    return to_items(assemble(did, files))


def expected_export(dialogues: Path, did: str) -> str:
    from indexer.export import dumps, export

    return dumps(export(expected_items(dialogues, did)))


def store_export(store, did: str) -> str:
    from indexer.export import dumps, export

    return dumps(export(store.load(did)))


def dialogue_ids(dialogues: Path) -> list[str]:
    """Folder names and single-file dialogue ids (``<id>.dialogue[.recorded].md``): an
    independent reading of FORMAT.md 1 and 8, not layout.py's."""
    ids = {p.name for p in dialogues.iterdir() if p.is_dir() and not p.name.startswith(".")}
    ids |= {m.group(1) for p in dialogues.iterdir() if p.is_file()
            and (m := re.fullmatch(r"([^.].*?)\.dialogue(?:\.recorded)?\.md", p.name))}
    return sorted(ids)


def cli(root: Path, *args: str, env: dict[str, str] | None = None,
        check: bool = False, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``blue-index --root ROOT ARGS`` in a real subprocess (``timeout``: a guard)."""
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    for var in ("BLUE_INDEX_BACKEND", "BLUE_INDEX_SQLITE_PATH"):
        if var not in (env or {}):
            full_env.pop(var, None)
    p = subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), *args],
                       capture_output=True, text=True, env=full_env, cwd=REPO, check=False,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}: {p.stderr}")
    return p


def cli_json(root: Path, *args: str, **kw) -> dict:
    p = cli(root, *args, "--json", **kw)
    assert p.returncode in (0, 1), p.stderr
    return json.loads(p.stdout)
