"""The public API (``import indexer``): lazy, stable names, and the same answers as the CLI
and as a fresh rebuild computed straight from parse + assemble (tests/support/sync.py)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import indexer
from tests.support.sync import (
    REPO,
    cli,
    dialogue_files,
    dialogue_ids,
    expected_export,
    expected_items,
)

# What the git hook must not pay for (the same modules test_githook guards, and the API's)
HEAVY = ("markdown_it", "yaml", "sqlite_utils", "jsonschema", "boto3", "rich", "jinja2",
         "pygls", "watchdog", "cryptography", "indexer.api", "indexer.sync")


def test_import_indexer_imports_nothing_else() -> None:
    code = ("import sys, indexer\n"
            "print(sorted(m for m in sys.modules if m.startswith('indexer')))\n"
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=REPO, check=True)
    assert p.stdout.splitlines() == ["['indexer']", "[]"]


def test_every_public_name_resolves_and_no_submodule_shadows_it() -> None:
    """A submodule named like an API function would replace it once imported (``import
    indexer.export`` sets ``indexer.export``): import them all, then look."""
    for mod in pkgutil.walk_packages(indexer.__path__, "indexer."):
        if mod.name.startswith("indexer.grammars") or mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)
    assert set(indexer.__all__) == {"__version__", *indexer._LAZY}
    for name in indexer.__all__:
        value = getattr(indexer, name)
        assert not isinstance(value, types.ModuleType), name
        assert name == "__version__" or value.__doc__, f"{name} has no docstring"
    with pytest.raises(AttributeError):
        _ = indexer.no_such_name


@pytest.fixture
def tree(samples_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(samples_dir, tmp_path / "dialogues")
    return tmp_path / "dialogues"


def test_sync_folder_equals_a_fresh_rebuild_and_queries_answer_like_the_cli(
        tree: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "index.db"
    ids = dialogue_ids(tree)
    rep = indexer.sync_folder(tree, store=db)
    assert sorted(rep.dialogues) == ids and rep.to_dict()["parsed"] == rep.files_seen
    assert indexer.sync_folder(tree, store=db).to_dict()["items_written"] == 0
    assert (tmp_path / ".blue" / "cache").is_dir()  # outside git: the current folder's
    for did in ids:
        assert json.dumps(indexer.export_dialogue(db, did), sort_keys=True, indent=2,
                          ensure_ascii=False) + "\n" == expected_export(tree, did)
    # the CLI over the same store (a real process): the same documents
    env = {"BLUE_INDEX_SQLITE_PATH": str(db)}

    def cli_json(*args: str):
        p = cli(tmp_path, "--dialogues", str(tree), *args, "--json", env=env)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    assert indexer.list_dialogues(db) == cli_json("list")
    assert [d["id"] for d in indexer.list_dialogues(db)] == ids
    did = ids[0]
    shown = cli_json("show", did)
    assert isinstance(shown.pop("clock"), int)  # the CLI adds the store's clock (issue 17)
    assert indexer.show_dialogue(db, did) == shown
    assert indexer.list_tensions(db, did) == cli_json("tensions", did)
    assert indexer.list_tensions(db, did, open_only=True) == cli_json("tensions", did, "--open")
    word = indexer.list_tensions(db, did)[0]["label"].split()[0]
    assert indexer.search_blocks(db, word, dialogue=did) == cli_json("search", word,
                                                                      "--dialogue", did)


def test_store_forms_and_errors(tree: Path, tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(tree, repo / ".blue" / "dialogues")
    monkeypatch.chdir(repo)
    for var in ("BLUE_INDEX_BACKEND", "BLUE_INDEX_SQLITE_PATH"):
        monkeypatch.delenv(var, raising=False)
    rep = indexer.sync_folder()  # the current repository's configured roots and store
    assert sorted(rep.dialogues) == dialogue_ids(repo / ".blue" / "dialogues")
    cfg = indexer.load_config(root=repo)
    assert cfg.sqlite_path is not None and cfg.sqlite_path.is_file()
    by_config, by_folder, by_file = (indexer.list_dialogues(s) for s in
                                     (cfg, repo, cfg.sqlite_path))
    assert by_config == by_folder == by_file == indexer.list_dialogues()
    store = indexer.open_store(repo)
    try:  # a caller's store is used, not closed
        assert indexer.list_dialogues(store) == by_config
        assert indexer.list_dialogues(store) == by_config
    finally:
        store.close()
    with pytest.raises(indexer.StoreUnavailable) as e:
        indexer.open_store(tmp_path / "nothing.db", create=False)
    assert e.value.exit_code == 3 and not (tmp_path / "nothing.db").exists()
    with pytest.raises(indexer.NotFound) as nf:
        indexer.show_dialogue(repo, "no-such-dialogue")
    assert nf.value.exit_code == 2 and "no-such-dialogue" in str(nf.value)


def test_parse_and_assemble_without_a_store(tree: Path) -> None:
    from indexer.codec import to_items

    did = dialogue_ids(tree)[0]
    folder = tree / did
    f = next(p for p in sorted(folder.glob("round-*/*.md")) if not p.name.endswith(".prompt.md"))
    pf = indexer.parse_file(f)
    assert (pf.dialogue, pf.expert) == (did, f.stem)
    p = cli(REPO, "parse", str(f), "--json")
    assert [(b.kind, b.id, b.line) for b in pf.blocks] == [
        (b["kind"], b["id"], b["line"]) for b in json.loads(p.stdout)["blocks"]]
    same = indexer.parse_bytes(f.read_bytes(), f"{did}/{f.parent.name}/{f.name}")
    assert [(b.kind, b.id, b.label) for b in same.blocks] == \
        [(b.kind, b.id, b.label) for b in pf.blocks]
    # a folder, and the same files as sources, give the dialogue a rebuild gives
    assert to_items(indexer.assemble_dialogue(folder)) == expected_items(tree, did)
    sources = dialogue_files(tree, did)  # an independent listing (tests/support)
    assert to_items(indexer.assemble_dialogue(sources)) == expected_items(tree, did)
    single = next(tree.glob("*.dialogue.md"))
    d = indexer.assemble_dialogue(single)
    assert d.id == single.name[: -len(".dialogue.md")]
    with pytest.raises(indexer.UsageError):
        indexer.parse_file(tree / "missing.md")
