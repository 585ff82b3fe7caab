"""Nothing on disk stops the index (FORMAT.md 5): every hostile entry is a diagnostic on
that entry, everything else syncs, and the store equals a fresh rebuild afterwards.

The trees are built for real (tests/support/hostile.py); every command runs as a real
process under a timeout that is only a safety net against the hangs these trees used to
cause (FIFOs, /dev/zero), never a speed assertion."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from .support.hostile import (
    LIMIT,
    NOBODY,
    SECRET,
    build,
    diagnostic_codes,
    fresh_rebuild,
    lint_json,
    run,
    sample_ids,
    store_state,
)
from .support.sync import dialogue_files, expected_items
from .support.watch import DaemonProc, wait_for


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "repo"
    return root, build(root, tmp_path / "outside")


def _clean_copy(root: Path, tmp: Path) -> Path:
    """The regular files of the hostile repo's dialogues, copied without the hostile
    entries (what the other files must index to)."""
    out = tmp / "clean"
    src = root / ".blue" / "dialogues"
    for p in src.rglob("*"):
        if any(q.is_symlink() for q in (p, *p.parents)) or not p.is_file() \
                or p.stat().st_size > LIMIT or not os.fsdecode(p.name).isascii():
            continue
        dst = out / p.relative_to(src)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)
    return out


def _check_store(root: Path, tmp: Path, expected: dict[str, str]) -> dict[str, dict]:
    state = store_state(root / ".blue" / "blue.db")
    ids = sample_ids()
    assert set(ids) <= set(state)
    did = ids[0]
    codes = diagnostic_codes(state[did])
    for rel, code in expected.items():
        assert code in codes.get(rel, set()), (rel, codes.get(rel))
    clean = _clean_copy(root, tmp)
    # the untouched dialogues: exactly what parse + assemble of their files give
    for other in sorted(set(state) - {did}):
        assert state[other] == expected_items(clean, other), other
    # the hostile dialogue: every block of its regular files, nothing from outside
    want = expected_items(clean, did)
    blocks = {sk: it for sk, it in state[did].items() if it["kind"] == "block"}
    want_blocks = {sk: it for sk, it in want.items() if it["kind"] == "block"}
    assert blocks == want_blocks
    assert not any(SECRET in str(it.get("label")) + str(it.get("body"))
                   for it in state[did].values())
    # a link inside the repository is followed: the note it points at is indexed again
    link = state[did]["file#background-link.md"]
    assert link["sha256"] == state[did]["file#background.md"]["sha256"]
    from indexer.layout import parse_path

    assert set(dialogue_files(clean, did)) <= {parse_path(did, it["path"]) for it in
                                                state[did].values() if it["kind"] == "file"}
    return state


def test_reindex_reports_each_entry_and_syncs_the_rest(hostile, tmp_path):
    root, expected = hostile
    p = run(root, "reindex", "--json")
    assert p.returncode == 0, p.stderr
    state = _check_store(root, tmp_path, expected)
    assert state == fresh_rebuild(root, tmp_path / "fresh")
    again = run(root, "reindex", "--json")
    assert again.returncode == 0 and '"items_written": 0' in again.stdout
    search = run(root, "search", SECRET, "--json")
    assert search.returncode == 0 and search.stdout.strip() == "[]"


def test_entries_turning_hostile_after_a_sync(hostile, tmp_path):
    """A file replaced by a FIFO (or growing over the limit) after it was indexed: the
    entry gets its diagnostic, the rest is unchanged; the store equals a fresh rebuild."""
    root, expected = hostile
    assert run(root, "reindex").returncode == 0
    did = sample_ids()[0]
    r1 = root / ".blue" / "dialogues" / did / "round-1"
    victim, grower = sorted(p for p in r1.glob("*.md") if ".prompt" not in p.name)[:2]
    victim.unlink()
    os.mkfifo(victim)
    grower.write_text(grower.read_text(encoding="utf-8") + "more " * LIMIT, encoding="utf-8")
    assert run(root, "reindex").returncode == 0
    codes = diagnostic_codes(store_state(root / ".blue" / "blue.db")[did])
    assert codes[f"{did}/round-1/{victim.name}"] == {"file-not-regular"}
    assert "file-too-large" in codes[f"{did}/round-1/{grower.name}"]
    assert store_state(root / ".blue" / "blue.db") == fresh_rebuild(root, tmp_path / "fresh")


def test_lint_reports_each_entry(hostile, tmp_path):
    root, expected = hostile
    diags = lint_json(root)
    got = {(d["file"], d["code"]) for d in diags}
    dialogues = (root / ".blue" / "dialogues").resolve()
    for rel, code in expected.items():
        assert (str(dialogues / rel), code) in got, rel
    # the other files are linted as usual: the same diagnostics as the clean copy's
    clean = _clean_copy(root, tmp_path)
    want = lint_json(root, str(clean))
    def strip(ds, base):
        return {(os.path.relpath(d["file"], base), d["code"], d["line"]) for d in ds}
    ours = {x for x in strip(diags, dialogues) if x[0] not in expected}
    assert ours == strip(want, clean)


def test_lint_of_one_hostile_file(hostile):
    root, expected = hostile
    did = sample_ids()[0]
    fifo = root / ".blue" / "dialogues" / did / "round-0" / "fifo.md"
    p = run(root, "lint", str(fifo))
    assert p.returncode == 1 and "file-not-regular" in p.stdout
    p = run(root, "parse", str(fifo))
    assert p.returncode == 2  # not a file to parse: said in one line
    assert len(p.stderr.strip().splitlines()) == 1


def test_daemon_on_a_hostile_tree(hostile, tmp_path):
    root, expected = hostile
    proc = DaemonProc(root)
    try:
        proc.wait_ready(60)
        _check_store(root, tmp_path, expected)
        # a new FIFO while it runs: one sync, a diagnostic, no retry loop
        did = sample_ids()[0]
        os.mkfifo(root / ".blue" / "dialogues" / did / "round-1" / "late.md")
        wait_for(lambda: "file-not-regular" in diagnostic_codes(
            store_state(root / ".blue" / "blue.db")[did]).get(f"{did}/round-1/late.md", ()),
            30, what="the new FIFO's diagnostic")
        assert not proc.events("error"), proc.text()
        assert store_state(root / ".blue" / "blue.db") == fresh_rebuild(root, tmp_path / "f")
    finally:
        assert proc.stop(signal.SIGTERM, timeout=30) == 0


def test_unreadable_entries_as_another_user(public_tmp):
    root = public_tmp / "repo"
    expected = build(root, public_tmp / "outside")
    subprocess.run(["chown", "-R", "65534:65534", str(root)], check=True)
    did = sample_ids()[0]
    d = root / ".blue" / "dialogues" / did
    locked_file = sorted((d / "round-1").glob("*.md"))[0]
    locked_file.chmod(0)
    locked_dir = d / "round-2"
    locked_dir.chmod(0)
    expected = {**expected, f"{did}/round-1/{locked_file.name}": "file-unreadable",
                f"{did}/round-2": "file-unreadable"}
    p = run(root, "reindex", prefix=NOBODY)
    assert p.returncode == 0, p.stderr
    state = store_state(root / ".blue" / "blue.db")
    codes = diagnostic_codes(state[did])
    for rel, code in expected.items():
        assert code in codes.get(rel, set()), (rel, codes.get(rel))
    for other in sample_ids()[1:]:
        assert state[other] == expected_items(root / ".blue" / "dialogues", other)
    (root / ".blue" / "fresh").mkdir()
    os.chown(root / ".blue" / "fresh", 65534, 65534)
    assert state == fresh_rebuild(root, root / ".blue" / "fresh", prefix=NOBODY)
    p = run(root, "lint", "--json", prefix=NOBODY)
    assert p.returncode == 1 and "file-unreadable" in p.stdout, p.stderr
    locked_dir.chmod(0o755)
    locked_file.chmod(0o644)


def test_hook_run_on_a_hostile_tree(hostile, tmp_path):
    """Staged links are followed like reindex follows them; whatever git could stage of
    the hostile tree, the hook finishes and reports the entries."""
    from .support.githook import git_env

    root, expected = hostile
    env = git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, env=env, check=True)
    subprocess.run(["git", "add", "--ignore-errors", "-A", ".blue/dialogues"], cwd=root,
                   env=env, capture_output=True, timeout=120, check=False)
    staged = subprocess.run(["git", "ls-files", "-s"], cwd=root, env=env, text=True,
                            capture_output=True, check=True).stdout
    p = run(root, "hook", "run")
    assert p.returncode == 1, p.stderr  # errors block
    out = p.stdout + p.stderr
    links = {line.split("\t", 1)[1] for line in staged.splitlines() if line.startswith("120000")}
    checked = 0
    for rel, code in expected.items():
        if f".blue/dialogues/{rel}" in links:
            checked += 1
            assert f".blue/dialogues/{rel}: error {code}" in out, (rel, out)
    assert checked >= 5  # leak, zero, loop, gone, up, escape: git stages links as they are


def test_huge_and_deep_files(tmp_path):
    """A response with 5,000 inline markers on one line and one nested past markdown-it's
    limit: reindex and lint finish, every marker is in the store (counted independently
    from the text), the deep one with its warning; the store equals a fresh rebuild."""
    from indexer.parse import markdown

    root = tmp_path / "repo"
    d = root / ".blue" / "dialogues" / "2026-01-01T0000Z-huge" / "round-0"
    d.mkdir(parents=True)
    n = 5000  # bench/bench_inline.py times 50,000
    wide = "# Muffin\n\nMoves: " + " ".join(f"[MOVE:CONVERGE] {k}," for k in range(n)) + "\n"
    (d / "muffin.md").write_text(wide, encoding="utf-8")
    depth = markdown().options["maxNesting"] + 10
    (d / "strudel.md").write_text("# Strudel\n\n" + "> " * depth +
                                  "[TENSION T01: buried deep]\nWhy.\n", encoding="utf-8")
    p = run(root, "reindex")
    assert p.returncode == 0, p.stderr
    state = store_state(root / ".blue" / "blue.db")["2026-01-01T0000Z-huge"]
    moves = [it for it in state.values() if it["kind"] == "block" and it["file"] ==
             "round-0/muffin.md" and it["block_kind"] == "move"]
    assert len(moves) == wide.count("[MOVE:CONVERGE]") == n
    deep = [it for it in state.values() if it["kind"] == "block" and it["label"] ==
            "buried deep"]
    assert len(deep) == 1
    assert "nesting-too-deep" in diagnostic_codes(state)["2026-01-01T0000Z-huge/round-0/"
                                                         "strudel.md"]
    assert run(root, "lint").returncode == 0  # warnings only
    assert store_state(root / ".blue" / "blue.db") == fresh_rebuild(root, tmp_path / "fresh")


def test_names_that_are_not_utf8(tmp_path):
    """A dialogue folder and a file whose names are not UTF-8: reindex and the hook report
    each under its escaped name (never a crash), and the rest is indexed."""
    from .support.githook import git_env

    root = tmp_path / "repo"
    dialogues = root / ".blue" / "dialogues"
    good = dialogues / "good" / "round-0"
    good.mkdir(parents=True)
    (good / "muffin.md").write_text("# M\n\n[TENSION T01: fine]\nx\n", encoding="utf-8")
    bad_dir = os.fsencode(dialogues) + b"/\xe9t\xe9"
    os.makedirs(bad_dir + b"/round-0")
    with open(bad_dir + b"/round-0/muffin.md", "wb") as f:
        f.write(b"# M\n\n[TENSION T01: hidden]\nx\n")
    with open(os.fsencode(good) + b"/caf\xe9.md", "wb") as f:
        f.write(b"# C\n")
    assert run(root, "reindex").returncode == 0
    state = store_state(root / ".blue" / "blue.db")
    assert sorted(state) == ["\\xe9t\\xe9", "good"]
    assert diagnostic_codes(state["\\xe9t\\xe9"]) == {"\\xe9t\\xe9/": {"name-not-utf8"}}
    assert "name-not-utf8" in diagnostic_codes(state["good"])["good/round-0/caf\\xe9.md"]
    assert [it["label"] for it in state["good"].values() if it["kind"] == "block"] == ["fine"]
    env = git_env(tmp_path / "home")
    (tmp_path / "home").mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    p = run(root, "hook", "run")
    assert p.returncode == 1
    assert ".blue/dialogues/good/round-0/caf\\xe9.md: error name-not-utf8" in p.stdout + \
        p.stderr
    assert ".blue/dialogues/\\xe9t\\xe9/round-0/muffin.md: error name-not-utf8" in \
        p.stdout + p.stderr
