"""Several dialogue roots and single-file dialogues, end to end through the real CLI: the
default roots (.blue/dialogues and .blue/docs/dialogues), ``dialogues:`` lists and repeated
``--dialogues``, ids met twice, recordings in another root, the hook, and the daemon."""

from __future__ import annotations

import json
import re
import shutil
import signal
from pathlib import Path

import pytest

from indexer import config as config_mod
from indexer.export import dumps, export
from indexer.views import items_from_files
from tests.support.githook import Repo
from tests.support.sync import cli, cli_json
from tests.support.watch import DaemonProc, save_atomic, save_vim, wait_for

SAMPLES = Path(__file__).resolve().parent.parent / "sample_dialogues"
SINGLE = re.compile(r"(.+?)\.dialogue(?:\.recorded)?\.md")
FLAGS = "2026-04-02T0900Z-feature-flag-cleanup"
TRUNK = "2026-03-02T1015Z-trunk-based-development"


def split_tree(root: Path) -> tuple[Path, Path]:
    """The samples as a repository would hold them: round folders (and pool files) under
    .blue/dialogues, single files under .blue/docs/dialogues (the two default roots)."""
    folders, docs = root / ".blue" / "dialogues", root / ".blue" / "docs" / "dialogues"
    folders.mkdir(parents=True)
    docs.mkdir(parents=True)
    for p in SAMPLES.iterdir():
        if p.is_dir():
            shutil.copytree(p, folders / p.name)
        elif SINGLE.fullmatch(p.name):
            shutil.copy2(p, docs / p.name)
        else:
            shutil.copy2(p, folders / p.name)
    return folders, docs


def ids_in(*roots: Path) -> list[str]:
    """Dialogue ids, read from the names: folders and single files (FORMAT.md 1, 8)."""
    out = set()
    for r in roots:
        for p in r.iterdir():
            if p.is_dir() and not p.name.startswith("."):
                out.add(p.name)
            elif m := SINGLE.fullmatch(p.name):
                out.add(m.group(1))
    return sorted(out)


def table_rows(path: Path, section: str) -> list[list[str]]:
    text = path.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip().strip("*") for c in ln.strip().strip("|").split("|")]
            for ln in body.splitlines() if ln.startswith("|")]
    return [r for r in rows[2:]]


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "repo"
    folders, docs = split_tree(root)
    return root, folders, docs


def test_default_roots_are_both_read_and_queries_answer_for_single_files(repo) -> None:
    root, folders, docs = repo
    rep = cli_json(root, "reindex")
    assert rep["conflicts"] == []
    assert [d["id"] for d in cli_json(root, "list")] == ids_in(folders, docs)
    # show / tensions / export from the store equal a direct reading of the files
    shown = cli_json(root, "show", FLAGS)
    assert [e["slug"] for e in shown["experts"]] == sorted(
        re.findall(r"[A-Za-z]+", r[0])[0].lower() for r in table_rows(docs / f"{FLAGS}.dialogue.md",
                                                                       "Expert Panel")
        if "Judge" not in r[0])
    tensions = cli_json(root, "tensions", FLAGS)
    tracker = table_rows(docs / f"{FLAGS}.dialogue.md", "Tensions Tracker")
    ledger = {(t["expert"], t["ledger_status"]) for t in tensions}
    assert ledger == {(re.findall(r"[A-Za-z]+", r[1])[0].lower(), r[3].lower()) for r in tracker}
    out = cli(root, "export", FLAGS, check=True).stdout
    assert out == dumps(export(items_from_files([folders, docs], FLAGS)))
    doc = json.loads(out)
    assert {f["path"]: f["role"] for f in doc["files"]} == {
        f"{FLAGS}.dialogue.md": "dialogue-file"}
    # search finds a single file's block with its file, line, expert and round
    text = (docs / f"{FLAGS}.dialogue.md").read_text().split("\n")
    line = next(i for i, ln in enumerate(text, 1) if ln.startswith("- [TENSION T01: Who"))
    hits = cli_json(root, "search", "orphaned", "--dialogue", FLAGS)
    assert [(h["file"], h["line"], h["expert"], h["round"]) for h in hits] == [
        (f"{FLAGS}.dialogue.md", line, "cannoli", 0)]
    # the folder dialogue holds its recording (other root) once, not its blocks twice
    trunk = json.loads(cli(root, "export", TRUNK, check=True).stdout)
    roles = {f["path"]: f["role"] for f in trunk["files"]}
    assert roles[f"{TRUNK}.dialogue.recorded.md"] == "recording"
    alone = export(items_from_files(folders, TRUNK))
    assert [b["key"] for b in trunk["blocks"]] == [b["key"] for b in alone["blocks"]]
    # a second run changes nothing; --check agrees
    again = cli_json(root, "reindex")
    assert again["parsed"] == 0 and again["items_written"] == 0
    assert cli(root, "reindex", "--check").returncode == 0
    single = docs / f"{FLAGS}.dialogue.md"
    single.write_text(single.read_text() + "\nA late note.\n")
    drift = cli(root, "reindex", "--check")
    assert drift.returncode == 1
    assert f"{FLAGS}.dialogue.md: changed since the last sync" in drift.stdout.splitlines()


def test_a_dialogue_folder_in_two_roots_is_an_error_naming_both(repo) -> None:
    root, folders, docs = repo
    shutil.copytree(folders / TRUNK, docs / TRUNK)
    (docs / TRUNK / "round-0" / "muffin.md").write_text("[PERSPECTIVE P01: the copy]\n")
    proc = cli(root, "reindex")
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if "dialogue-duplicate" in ln]
    assert len(lines) == 1
    assert f"{folders / TRUNK}/" in lines[0] and f"{docs / TRUNK}/" in lines[0]
    # the first root's copy is the one indexed; the others are untouched
    got = json.loads(cli(root, "export", TRUNK, check=True).stdout)
    assert "the copy" not in json.dumps(got)
    lint = cli(root, "lint", "--json")
    assert lint.returncode == 1
    codes = [d["code"] for d in json.loads(lint.stdout) if d["severity"] == "error"]
    assert codes == ["dialogue-duplicate"]


def test_roots_from_config_list_string_and_repeated_option(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    a, b = root / "a", root / "b"
    a.mkdir(parents=True)
    b.mkdir()
    shutil.copytree(SAMPLES / TRUNK, a / TRUNK)
    shutil.copy2(SAMPLES / f"{FLAGS}.dialogue.md", b)
    (root / ".blue").mkdir()
    conf = root / ".blue" / "config.yaml"
    conf.write_text("dialogues: [a, b]\n")
    assert config_mod.load(root=root, env={}).dialogue_roots == [a, b]
    cli(root, "reindex", check=True)
    assert [d["id"] for d in cli_json(root, "list")] == sorted([TRUNK, FLAGS])
    conf.write_text("dialogues: b\n")  # a string stays accepted
    assert config_mod.load(root=root, env={}).dialogue_roots == [b]
    conf.write_text("dialogues: {a: 1}\n")
    bad = cli(root, "list")
    assert bad.returncode == 2 and "'dialogues' must be" in bad.stderr
    conf.unlink()
    out = cli(root, "--dialogues", str(a), "--dialogues", str(b), "lint", "--json")
    files = {d["file"] for d in json.loads(out.stdout)}
    assert files and all(str(a) in f or str(b) in f or not f.startswith("/") for f in files)
    missing = cli(root, "--dialogues", str(a), "--dialogues", str(root / "nope"), "reindex")
    assert missing.returncode == 2 and "nope" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_hook_blocks_an_unclosed_marker_in_a_single_file(tmp_path: Path) -> None:
    repo = Repo.create(tmp_path / "repo", tmp_path / "home")
    assert repo.cli("hook", "install").returncode == 0
    text = (SAMPLES / f"{FLAGS}.dialogue.md").read_text()
    target = "[TENSION T01: Hard expiry breaks long-running experiments]"
    broken = text.replace(target, target[:-1])
    path = repo.write(f".blue/docs/dialogues/{FLAGS}.dialogue.md", broken)
    line = next(i for i, ln in enumerate(broken.split("\n"), 1) if ln == target[:-1])
    repo.git("add", "-A")
    proc = repo.commit("broken single file")
    assert proc.returncode == 1 and repo.head() is None
    rel = path.relative_to(repo.root).as_posix()
    assert f"{rel}:{line}:" in proc.stdout + proc.stderr
    assert "marker-unclosed" in proc.stdout + proc.stderr
    path.write_text(text)
    repo.git("add", "-A")
    ok = repo.commit("fixed")
    assert ok.returncode == 0, ok.stdout + ok.stderr


def fresh(root: Path, tmp: Path) -> dict[str, dict]:
    other = tmp / f"fresh-{len(list(tmp.glob('fresh-*')))}"
    shutil.copytree(root / ".blue" / "dialogues", other / ".blue" / "dialogues")
    shutil.copytree(root / ".blue" / "docs", other / ".blue" / "docs")
    cli(other, "reindex", check=True)
    return items_of(other)


def items_of(root: Path) -> dict[str, dict]:
    from indexer.store.factory import open_store

    store = open_store(config_mod.load(root=root, env={}), create=False)
    try:
        return {d["id"]: store.load(d["id"]) for d in store.dialogues()}
    finally:
        store.close()


def test_daemon_syncs_a_single_file_once_and_agrees_with_reindex(repo, tmp_path) -> None:
    root, _, docs = repo
    d = DaemonProc(root, "--debounce", "100")
    try:
        d.wait_ready()
        assert items_of(root) == fresh(root, tmp_path)  # start-up reconcile, both roots
        single = docs / f"{FLAGS}.dialogue.md"
        base = single.read_text()
        for n, save in enumerate((save_atomic, save_vim)):
            before = len(d.syncs())
            save(single, base + f"\n### 🥐 Brioche\n\n[PERSPECTIVE P0{n + 5}: zebra {n}]\nZ.\n")
            wait_for(lambda b=before: len(d.syncs()) > b, what="a sync after the save")
            wait_for(lambda n=n: f"zebra {n}" in cli(root, "search", "zebra").stdout,
                     what="the new block in the index")
            syncs = d.syncs()[before:]
            assert [s["dialogues"] for s in syncs] == [[FLAGS]], syncs
            assert syncs[0]["parsed"] == 1
        before = len(d.syncs())
        rec = docs / f"{TRUNK}.dialogue.recorded.md"  # a recording: its folder's dialogue
        save_atomic(rec, rec.read_text() + "\nMore notes.\n")
        wait_for(lambda: len(d.syncs()) > before, what="a sync of the recording")
        assert [s["dialogues"] for s in d.syncs()[before:]] == [[TRUNK]]
        assert items_of(root) == fresh(root, tmp_path)
    finally:
        code = d.stop(signal.SIGTERM)
    assert code == 0


# -- the pure parts: names, routing, merging ---------------------------------------------

@pytest.mark.parametrize(("name", "did"), [
    ("2026-01-26T0700Z-aws.dialogue.md", "2026-01-26T0700Z-aws"),
    ("cross-repo.dialogue.recorded.md", "cross-repo"),
    ("notes.md", None), ("x.dialogue.md~", None), (".x.dialogue.md", None),
    ("x.dialogue.recorded.md.tmp", None), ("x.dialogue.json", None),
])
def test_single_file_names(name: str, did: str | None) -> None:
    from indexer import layout

    assert layout.single_file_id(name) == did
    place = layout.classify(name)
    assert (place.role == layout.DIALOGUE_FILE) == (did is not None)
    assert place.dialogue == did
    # inside a folder the same name is a note of that folder, not a dialogue
    assert layout.classify(f"d/{name}").role in (layout.NOTE, layout.IGNORED)


def test_watch_routes_single_files_to_their_dialogue(tmp_path: Path) -> None:
    from indexer.watch import RECONCILE, route_roots

    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert route_roots([a, b], f"{b}/x.dialogue.md", False) == "x"
    assert route_roots([a, b], f"{a}/x/round-0/m.md", False) == "x"
    assert route_roots([a, b], f"{b}/pool.json", False) == RECONCILE
    assert route_roots([a, b], f"{b}/x.dialogue.md.tmp", False) is None
    assert route_roots([a, b], str(tmp_path / "c" / "y.md"), False) == RECONCILE


def test_merge_keeps_the_first_root_and_names_both() -> None:
    from indexer.roots import Found, merge

    first = Found("r1", {"x": {"round-0/m.md": 1}}, {"y": {"y.dialogue.md": 2}})
    second = Found("r2", {"x": {"round-0/m.md": 3}, "y": {"round-0/c.md": 4}},
                   {"x": {"x.dialogue.recorded.md": 5}, "y": {"y.dialogue.md": 6}})
    merged, conflicts = merge([first, second])
    assert merged == {"x": {"round-0/m.md": 1, "x.dialogue.recorded.md": 5},
                      "y": {"y.dialogue.md": 2, "round-0/c.md": 4}}
    assert [(c.dialogue, c.kept, c.dropped) for c in conflicts] == [
        ("x", "r1/x/", "r2/x/"), ("y", "r1/y.dialogue.md", "r2/y.dialogue.md")]
