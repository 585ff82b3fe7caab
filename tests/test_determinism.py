"""FORMAT.md 5: a file with errors is indexed from its version at git HEAD when that one is
clean, else from what parses; a long-lived store equals a fresh rebuild of the same files
and HEAD, item for item. Real git repositories, real SQLite files."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer import config as config_mod
from indexer.store.sqlite import SQLiteStore
from indexer.sync import Syncer

from .support.githook import Repo

GOOD = "# Walnut\n\n[PERSPECTIVE P01: Quixotic lighthouse keeper]\nA good body.\n"
# duplicate local id in one file: an error (FORMAT.md 5), with a new label that parses
BROKEN = "# Walnut\n\n[PERSPECTIVE P01: Zany replacement]\nx\n\n[PERSPECTIVE P01: again]\ny\n"
OTHER = "# Hazel\n\n[TENSION T01: Untouched neighbour]\nStays.\n"
DID = "2026-01-01T0000Z-determinism"
REL = f"{DID}/round-0/walnut.md"


def _labels(store: SQLiteStore, rel: str = "round-0/walnut.md") -> set[str]:
    return {it["label"] for it in store.load(DID).values()
            if it["kind"] == "block" and it["file"] == rel}


def _fresh(root: Path, tmp: Path) -> dict:
    """Items of a fresh rebuild of a copy of the same work tree (files, .git, HEAD)."""
    other = tmp / f"fresh-{len(list(tmp.glob('fresh-*')))}"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("blue.db*", "cache"))
    cfg = config_mod.load(root=other, env={})
    store = SQLiteStore(cfg.sqlite_path)
    try:
        Syncer(cfg, store).run()
        return store.load(DID)
    finally:
        store.close()


def _setup(tmp_path: Path, git: bool) -> tuple[Repo | None, Path, SQLiteStore, Syncer]:
    root = tmp_path / "repo"
    repo = Repo.create(root, tmp_path / "home") if git else None
    d = root / ".blue" / "dialogues" / DID / "round-0"
    d.mkdir(parents=True)
    (d / "walnut.md").write_text(GOOD, encoding="utf-8")
    (d / "hazel.md").write_text(OTHER, encoding="utf-8")
    cfg = config_mod.load(root=root, env={})
    store = SQLiteStore(cfg.sqlite_path)
    return repo, root, store, Syncer(cfg, store)


def test_error_file_indexed_from_clean_head(tmp_path: Path) -> None:
    repo, root, store, syncer = _setup(tmp_path, git=True)
    assert repo is not None
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "good")
    syncer.run()
    good = store.load(DID)
    target = root / ".blue" / "dialogues" / REL
    target.write_text(BROKEN, encoding="utf-8")
    rep = syncer.run()
    assert rep.parsed == 1 and rep.diagnostics["error"] >= 1
    after = store.load(DID)
    # blocks from HEAD's clean version; the current hash and diagnostics are stored
    assert _labels(store) == {"Quixotic lighthouse keeper"}
    item = after["file#round-0/walnut.md"]
    assert item["errors"] >= 1 and item["sha256"] != item["good_sha256"]
    assert item["good_sha256"] == good["file#round-0/walnut.md"]["sha256"]
    assert [h["sk"] for h in store.search("quixotic lighthouse", dialogue_id=DID)]
    assert _labels(store, "round-0/hazel.md") == {"Untouched neighbour"}
    assert after == _fresh(root, tmp_path)
    assert syncer.run().items_written == 0
    # HEAD moves to the broken version (no file changes): now "what parses"
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "broken")
    rep = syncer.run()
    assert rep.dialogues == [DID]
    assert _labels(store) == {"Zany replacement", "again"}
    assert store.load(DID) == _fresh(root, tmp_path)
    # HEAD moves back to a clean version of the file: HEAD's blocks again
    target.write_text(GOOD.replace("Quixotic", "Velvet"), encoding="utf-8")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "fixed in git")
    target.write_text(BROKEN, encoding="utf-8")
    syncer.run()
    assert _labels(store) == {"Velvet lighthouse keeper"}
    assert store.load(DID) == _fresh(root, tmp_path)
    # fixing the file brings its own content in
    target.write_text(GOOD.replace("Quixotic", "Amber"), encoding="utf-8")
    syncer.run()
    assert _labels(store) == {"Amber lighthouse keeper"}
    assert store.load(DID) == _fresh(root, tmp_path)
    store.close()


def test_error_file_without_git_indexes_what_parses(tmp_path: Path) -> None:
    _, root, store, syncer = _setup(tmp_path, git=False)
    syncer.run()
    (root / ".blue" / "dialogues" / REL).write_text(BROKEN, encoding="utf-8")
    syncer.run()
    assert _labels(store) == {"Zany replacement", "again"}
    assert store.load(DID) == _fresh(root, tmp_path)
    store.close()


def test_error_file_untracked_in_git_indexes_what_parses(tmp_path: Path) -> None:
    repo, root, store, syncer = _setup(tmp_path, git=True)
    assert repo is not None
    repo.git("commit", "-q", "--allow-empty", "-m", "empty")
    (root / ".blue" / "dialogues" / REL).write_text(BROKEN, encoding="utf-8")
    syncer.run()
    assert _labels(store) == {"Zany replacement", "again"}
    assert store.load(DID) == _fresh(root, tmp_path)
    store.close()


def test_lost_hash_cache_still_follows_head(tmp_path: Path) -> None:
    """The machine-local cache records the HEAD of each dialogue's last sync; without it,
    the dialogues are reviewed against HEAD (slower, never wrong)."""
    repo, root, store, syncer = _setup(tmp_path, git=True)
    assert repo is not None
    target = root / ".blue" / "dialogues" / REL
    target.write_text(BROKEN, encoding="utf-8")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "broken")
    syncer.run()
    assert _labels(store) == {"Zany replacement", "again"}
    target.write_text(GOOD, encoding="utf-8")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "good")
    target.write_text(BROKEN, encoding="utf-8")  # same bytes as stored: unchanged file
    shutil.rmtree(root / ".blue" / "cache")
    syncer.run()
    assert _labels(store) == {"Quixotic lighthouse keeper"}
    assert store.load(DID) == _fresh(root, tmp_path)
    store.close()

