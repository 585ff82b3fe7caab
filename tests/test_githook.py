"""The git pre-commit hook, end to end: real repositories, real ``git commit`` runs that
execute the installed hook, real staged/unstaged states."""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from indexer import githook
from indexer.config import load as load_config
from tests.support.githook import (
    DIALOGUES,
    GOOD,
    RESOLVES,
    TENSION,
    UNCLOSED,
    Repo,
    marker_line,
)

D = "2026-01-01T0000Z-hook-test"  # a dialogue id


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo.create(tmp_path / "repo", tmp_path / "home")
    r.write("README.md", "a repository with dialogues\n")
    r.git("add", "README.md")
    r.git("commit", "-q", "-m", "init")
    return r


@pytest.fixture
def hooked(repo: Repo) -> Repo:
    proc = repo.cli("hook", "install")
    assert proc.returncode == 0, proc.stderr
    return repo


def _output(proc) -> str:
    return proc.stdout + proc.stderr


def _unclosed(repo: Repo, rel: str) -> tuple[str, int]:
    return repo.dlg(rel, UNCLOSED), marker_line(UNCLOSED)


# ----------------------------------------------------------------------- basic commits


def test_good_file_commits(hooked: Repo) -> None:
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    proc = hooked.commit("good")
    assert proc.returncode == 0, _output(proc)
    assert hooked.committed(path) == GOOD
    assert "error" not in _output(proc)


def test_unclosed_marker_blocks_with_path_and_line(hooked: Repo) -> None:
    before = hooked.head()
    path, line = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", path)
    proc = hooked.commit("broken")
    assert proc.returncode == 1
    out = _output(proc)
    assert f"{path}:{line}:" in out
    assert "error" in out
    assert out.rstrip().splitlines()[-1].endswith("`git commit --no-verify` skips this check")
    assert hooked.head() == before  # no commit was made
    # The same through `hook run` directly: exit code 1.
    run = hooked.cli("hook", "run")
    assert run.returncode == 1
    assert f"{path}:{line}:" in run.stderr


def test_no_dialogue_files_no_output(hooked: Repo) -> None:
    hooked.write("src/app.py", "print('hi')\n")
    hooked.git("add", "src/app.py")
    run = hooked.cli("hook", "run")
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    proc = hooked.commit("code only")
    assert proc.returncode == 0
    assert "blue-index" not in _output(proc)


def test_files_outside_the_dialogues_folder_are_not_checked(hooked: Repo) -> None:
    """A broken-looking Markdown file elsewhere in the repository is not a dialogue file."""
    hooked.write("docs/round-0/muffin.md", UNCLOSED)
    hooked.git("add", "docs")
    run = hooked.cli("hook", "run")
    assert (run.returncode, run.stderr) == (0, "")


# ---------------------------------------------------------------- index vs working tree


def test_broken_in_index_fixed_in_worktree_blocks(hooked: Repo) -> None:
    path, line = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", path)
    hooked.dlg(f"{D}/round-0/muffin.md", GOOD)  # fixed, but not staged
    proc = hooked.commit("partial")
    assert proc.returncode == 1
    assert f"{path}:{line}:" in _output(proc)


def test_good_in_index_broken_in_worktree_passes(hooked: Repo) -> None:
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    hooked.dlg(f"{D}/round-0/muffin.md", UNCLOSED)  # broken, but not staged
    proc = hooked.commit("partial")
    assert proc.returncode == 0, _output(proc)
    assert hooked.committed(path) == GOOD


def test_commit_all_checks_what_is_committed(hooked: Repo) -> None:
    """``git commit -a`` commits the working tree: git points the hook at that index."""
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    hooked.commit("good")
    hooked.dlg(f"{D}/round-0/muffin.md", UNCLOSED)
    proc = hooked.commit("all", "-a")
    assert proc.returncode == 1
    assert f"{path}:{marker_line(UNCLOSED)}:" in _output(proc)


# ------------------------------------------------------------------ renames, deletions


def test_renamed_file_is_checked_under_its_new_name(hooked: Repo) -> None:
    old, _ = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", old)
    assert hooked.commit("broken on purpose", "--no-verify").returncode == 0
    new = f"{DIALOGUES}/{D}/round-0/cupcake.md"
    hooked.git("mv", old, new)
    assert "R" in hooked.git("diff", "--cached", "--name-status").stdout  # git sees a rename
    proc = hooked.commit("rename")
    assert proc.returncode == 1
    assert f"{new}:{marker_line(UNCLOSED)}:" in _output(proc)
    # Fix it during the rename: passes.
    hooked.dlg(f"{D}/round-0/cupcake.md", GOOD)
    hooked.git("add", new)
    assert hooked.commit("rename fixed").returncode == 0


def test_deleted_broken_file_passes(hooked: Repo) -> None:
    path, _ = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", path)
    assert hooked.commit("broken on purpose", "--no-verify").returncode == 0
    hooked.git("rm", "-q", path)
    proc = hooked.commit("delete")
    assert proc.returncode == 0, _output(proc)
    assert _output(proc).count("blue-index") == 0


def test_binary_file_is_reported_not_crashing(hooked: Repo) -> None:
    path = hooked.dlg(f"{D}/round-0/muffin.md", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x00binary")
    hooked.git("add", path)
    proc = hooked.commit("binary")
    out = _output(proc)
    assert proc.returncode == 1
    assert path in out
    assert "Traceback" not in out


# ---------------------------------------------------------------- dialogue-level checks


def test_resolution_of_a_tension_committed_earlier_resolves(hooked: Repo) -> None:
    """Dialogue-level checks see the other (unchanged) files of the dialogue in the index."""
    t = hooked.dlg(f"{D}/round-0/muffin.md", TENSION)
    hooked.git("add", t)
    assert hooked.commit("tension").returncode == 0
    r = hooked.dlg(f"{D}/round-1/strudel.md", RESOLVES)
    hooked.git("add", r)
    run = hooked.cli("hook", "run", "--strict")
    assert (run.returncode, run.stderr) == (0, ""), run.stderr


def test_deleted_tension_file_leaves_the_reference_unresolved(hooked: Repo) -> None:
    """Deleted files are not in the staged dialogue: the reference to them is a warning."""
    t = hooked.dlg(f"{D}/round-0/muffin.md", TENSION)
    hooked.git("add", t)
    assert hooked.commit("tension").returncode == 0
    hooked.git("rm", "-q", t)
    r = hooked.dlg(f"{D}/round-1/strudel.md", RESOLVES)
    hooked.git("add", r)
    run = hooked.cli("hook", "run")
    assert run.returncode == 0  # warnings do not block
    assert f"{r}:{marker_line_of(RESOLVES, '[RESOLVED')}:" in run.stderr
    assert "warning" in run.stderr
    assert t not in run.stderr  # nothing reported for the deleted file
    strict = hooked.cli("hook", "run", "--strict")
    assert strict.returncode == 1
    assert strict.stderr.rstrip().splitlines()[-1].endswith("skips this check")


def test_only_staged_files_are_reported(hooked: Repo) -> None:
    """A committed file with problems is context, not something this commit is blamed for."""
    old, _ = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", old)
    assert hooked.commit("broken on purpose", "--no-verify").returncode == 0
    new = hooked.dlg(f"{D}/round-0/eclair.md", GOOD)
    hooked.git("add", new)
    proc = hooked.commit("another file of the same dialogue")
    assert proc.returncode == 0, _output(proc)
    assert old not in _output(proc)


def marker_line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


# ------------------------------------------------------------------------- warnings


UNKNOWN_KEYWORD = "# Muffin\n\n[PERSPECTIVE P01: fine]\nok\n\n[FROBNICATE: not a keyword]\nText.\n"


def test_warnings_pass_and_strict_blocks(hooked: Repo) -> None:
    path = hooked.dlg(f"{D}/round-0/muffin.md", UNKNOWN_KEYWORD)
    hooked.git("add", path)
    line = marker_line_of(UNKNOWN_KEYWORD, "[FROBNICATE")
    run = hooked.cli("hook", "run")
    assert run.returncode == 0
    assert f"{path}:{line}:" in run.stderr and "warning" in run.stderr
    strict = hooked.cli("hook", "run", "--strict")
    assert strict.returncode == 1
    assert f"{path}:{line}:" in strict.stderr
    # An installed hook with --strict blocks the real commit; the plain one lets it through.
    assert hooked.cli("hook", "install", "--strict").returncode == 0
    assert hooked.commit("strict").returncode == 1
    assert hooked.cli("hook", "install").returncode == 0
    assert hooked.commit("plain").returncode == 0


# ------------------------------------------------------------------ install / uninstall

EXISTING = "#!/bin/sh\n# the team's own hook\necho ran >> '{marker}'\nexit {code}\n"


def _write_existing(repo: Repo, hooks: Path, marker: Path, code: int = 0) -> Path:
    hooks.mkdir(parents=True, exist_ok=True)
    hook = hooks / "pre-commit"
    hook.write_text(EXISTING.format(marker=marker, code=code))
    hook.chmod(0o750)
    return hook


def test_existing_hook_is_kept_and_still_runs(repo: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    hook = _write_existing(repo, repo.root / ".git" / "hooks", marker)
    assert repo.cli("hook", "install").returncode == 0
    path = repo.dlg(f"{D}/round-0/muffin.md", GOOD)
    repo.git("add", path)
    assert repo.commit("good").returncode == 0
    assert marker.read_text() == "ran\n"
    # Ours still runs after the kept one.
    bad, _ = _unclosed(repo, f"{D}/round-0/eclair.md")
    repo.git("add", bad)
    assert repo.commit("bad").returncode == 1
    assert marker.read_text() == "ran\nran\n"
    # When the kept hook fails, the commit is blocked even if the dialogue files are fine.
    repo.git("rm", "-q", "--cached", bad)
    chained = hook.parent / githook.CHAINED_NAME
    chained.write_text(EXISTING.format(marker=marker, code=3))
    repo.dlg(f"{D}/round-0/tarte.md", GOOD)
    repo.git("add", f"{DIALOGUES}/{D}/round-0/tarte.md")
    before = repo.head()
    assert repo.commit("kept hook fails").returncode != 0
    assert repo.head() == before


def test_install_twice_then_uninstall_restores_byte_for_byte(repo: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    hook = _write_existing(repo, repo.root / ".git" / "hooks", marker)
    original, mode = hook.read_bytes(), stat.S_IMODE(hook.stat().st_mode)
    assert repo.cli("hook", "install").returncode == 0
    assert repo.cli("hook", "install").returncode == 0
    hooks = sorted(p.name for p in hook.parent.iterdir() if not p.name.endswith(".sample"))
    assert hooks == ["pre-commit", githook.CHAINED_NAME]
    assert hook.read_bytes() != original
    # The kept hook runs once per commit, not twice (no double chaining).
    path = repo.dlg(f"{D}/round-0/muffin.md", GOOD)
    repo.git("add", path)
    assert repo.commit("good").returncode == 0
    assert marker.read_text() == "ran\n"
    proc = repo.cli("hook", "uninstall")
    assert proc.returncode == 0
    assert hook.read_bytes() == original
    assert stat.S_IMODE(hook.stat().st_mode) == mode
    assert not (hook.parent / githook.CHAINED_NAME).exists()
    # Uninstalling again changes nothing.
    assert repo.cli("hook", "uninstall").returncode == 0
    assert hook.read_bytes() == original


def test_uninstall_without_previous_hook_removes_it(repo: Repo) -> None:
    hook = repo.root / ".git" / "hooks" / "pre-commit"
    assert repo.cli("hook", "install").returncode == 0
    assert os.access(hook, os.X_OK)
    assert repo.cli("hook", "uninstall").returncode == 0
    assert not hook.exists()


def test_foreign_hook_over_a_kept_one_is_refused(repo: Repo, tmp_path: Path) -> None:
    hooks = repo.root / ".git" / "hooks"
    _write_existing(repo, hooks, tmp_path / "m1")
    assert repo.cli("hook", "install").returncode == 0
    # Another tool overwrites our hook while the kept one is still there.
    _write_existing(repo, hooks, tmp_path / "m2")
    proc = repo.cli("hook", "install")
    assert proc.returncode == 2
    assert githook.CHAINED_NAME in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_core_hooks_path(repo: Repo, tmp_path: Path, where: str) -> None:
    hooks = (repo.root / "githooks") if where == "relative" else (tmp_path / "shared-hooks")
    repo.git("config", "core.hooksPath", "githooks" if where == "relative" else str(hooks))
    marker = tmp_path / "marker"
    original = _write_existing(repo, hooks, marker).read_bytes()
    # Installing from a subfolder still finds the hooks folder.
    sub = repo.root / "src"
    sub.mkdir()
    proc = repo.run(sys.executable, "-m", "indexer.cli", "hook", "install", check=True, cwd=sub)
    assert str(hooks / "pre-commit") in proc.stdout
    assert githook.is_ours(hooks / "pre-commit")
    assert not (repo.root / ".git" / "hooks" / "pre-commit").exists()
    path, line = _unclosed(repo, f"{D}/round-0/muffin.md")
    repo.git("add", path)
    blocked = repo.commit("bad")
    assert blocked.returncode == 1
    assert f"{path}:{line}:" in _output(blocked)
    assert marker.read_text() == "ran\n"
    assert repo.cli("hook", "uninstall").returncode == 0
    assert (hooks / "pre-commit").read_bytes() == original


def test_hook_runs_without_venv_activation(hooked: Repo) -> None:
    """The hook calls this interpreter by absolute path, so PATH does not matter."""
    script = (hooked.root / ".git" / "hooks" / "pre-commit").read_text()
    assert os.path.abspath(sys.executable) in script
    hooked.env["PATH"] = os.pathsep.join(
        p for p in hooked.env["PATH"].split(os.pathsep) if ".venv" not in p)
    path, _ = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", path)
    assert hooked.commit("bad").returncode == 1


def test_hook_run_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    repo = Repo(tmp_path, {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    proc = repo.cli("hook", "run")
    assert proc.returncode == 2
    assert proc.stderr.startswith("blue-index:") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------- the store sync


def _config(repo: Repo, text: str) -> None:
    repo.write(".blue/config.yaml", text)


def test_sync_with_unreachable_store_warns_and_commits(hooked: Repo, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _config(hooked, f"storage:\n  sqlite:\n    path: {blocker}/blue.db\nhook:\n  sync: true\n")
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    before = hooked.head()
    proc = hooked.commit("sync fails")
    assert proc.returncode == 0, _output(proc)
    assert hooked.head() != before
    warnings = [ln for ln in _output(proc).splitlines() if ln.startswith("blue-index: warning")]
    assert len(warnings) == 1
    assert "No module named" not in warnings[0]  # the store failed, not a missing module


def test_sync_with_dead_dynamodb_endpoint_warns_and_commits(hooked: Repo) -> None:
    _config(hooked, "storage:\n  backend: dynamodb\n  dynamodb:\n"
                    "    endpoint_url: http://127.0.0.1:9\n    region: us-east-1\n"
                    "hook:\n  sync: true\n")
    hooked.env.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    proc = hooked.commit("dynamodb down")
    assert proc.returncode == 0, _output(proc)
    assert "blue-index: warning" in _output(proc)


def test_sync_writes_the_staged_dialogue(hooked: Repo) -> None:
    db = hooked.root / ".blue" / "blue.db"
    _config(hooked, "hook:\n  sync: true\n")
    path = hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    proc = hooked.commit("sync")
    assert proc.returncode == 0, _output(proc)
    assert "warning" not in _output(proc)
    from indexer.store.factory import open_store

    store = open_store(load_config(root=hooked.root), create=False)
    try:
        items = store.load(D)
    finally:
        store.close()
    assert db.exists()
    assert "file#round-0/muffin.md" in items


def test_no_sync_when_blocked_or_not_configured(hooked: Repo) -> None:
    _config(hooked, "hook:\n  sync: true\n")
    path, _ = _unclosed(hooked, f"{D}/round-0/muffin.md")
    hooked.git("add", path)
    assert hooked.commit("bad").returncode == 1
    assert not (hooked.root / ".blue" / "blue.db").exists()
    _config(hooked, "hook:\n  sync: false\n")
    hooked.dlg(f"{D}/round-0/muffin.md", GOOD)
    hooked.git("add", path)
    assert hooked.commit("good").returncode == 0
    assert not (hooked.root / ".blue" / "blue.db").exists()


# ---------------------------------------------------------------- what the hook imports


def _imported(repo: Repo) -> set[str]:
    proc = repo.run(sys.executable, "-X", "importtime", "-m", "indexer.cli", "hook", "run")
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mods.add(line.rsplit("|", 1)[1].strip())
    assert "indexer.githook" in mods  # the measurement works
    return mods


HEAVY = {"boto3", "botocore", "rich", "sqlite_utils", "watchdog", "cryptography", "pygls",
         "lsprotocol"}


def test_no_dialogue_files_imports_no_parser(repo: Repo) -> None:
    repo.write("src/app.py", "x = 1\n")
    repo.git("add", "src/app.py")
    mods = _imported(repo)
    assert not mods & (HEAVY | {"indexer.parse", "indexer.lint", "markdown_it"})


def test_check_without_sync_imports_no_store(repo: Repo) -> None:
    path = repo.dlg(f"{D}/round-0/muffin.md", GOOD)
    repo.git("add", path)
    mods = _imported(repo)
    assert "indexer.lint" in mods  # it did check the file
    assert not mods & HEAVY


# ------------------------------------------------------------------ the project's data


def _agrees_with_lint(repo: Repo, source: Path) -> set[tuple]:
    """Stage a whole dialogues tree: the index-based check reports exactly what ``lint``
    reports from the working tree, and the hook blocks exactly when that has errors."""
    shutil.copytree(source, repo.root / DIALOGUES, dirs_exist_ok=True)
    repo.git("add", "-A")

    def keys(proc) -> set[tuple]:
        assert proc.returncode in (0, 1), proc.stderr
        return {(d["file"], d["line"], d["code"], d["severity"]) for d in json.loads(proc.stdout)}

    disk = keys(repo.cli("lint", "--json"))
    index = keys(repo.cli("lint", "--staged", "--json"))
    assert index == disk
    errors = any(k[3] == "error" for k in disk)
    assert repo.cli("hook", "run").returncode == (1 if errors else 0)
    assert repo.cli("hook", "run", "--strict").returncode == (1 if disk else 0)
    return disk


def test_sample_dialogues_agree_with_lint(repo: Repo, samples_dir: Path) -> None:
    assert _agrees_with_lint(repo, samples_dir), "the samples have warnings to compare"


def test_real_corpus_agrees_with_lint(repo: Repo, corpus_dir: Path) -> None:
    _agrees_with_lint(repo, corpus_dir)


def test_planted_error_blocks(hooked: Repo, repo_root: Path) -> None:
    planted = repo_root / "tests" / "data" / "planted-error"
    files = [p for p in sorted(planted.rglob("*")) if p.is_file() and p.suffix == ".md"]
    assert files, "tests/data/planted-error has no Markdown file"
    shutil.copytree(planted, hooked.root / DIALOGUES)  # it holds dialogue folders
    hooked.git("add", "-A")
    proc = hooked.commit("planted")
    assert proc.returncode == 1
    out = _output(proc)
    broken = [p for p in files if any(
        ln.lstrip().startswith(("[", "**[", "- [")) and "]" not in ln
        for ln in p.read_text(encoding="utf-8", errors="replace").splitlines())]
    assert broken, "no unclosed marker found in the planted files"
    for p in broken:
        rel = f"{DIALOGUES}/{p.relative_to(planted).as_posix()}"
        assert f"{rel}:" in out


# ------------------------------------------------------------------- plumbing, direct


def test_staged_set_reads_index_with_context(repo: Repo) -> None:
    t = repo.dlg(f"{D}/round-0/muffin.md", TENSION)
    repo.dlg(f"{D}/round-0/muffin.prompt.md", "[TENSION T01: template]\n")
    repo.write(f"{DIALOGUES}/{D}/figure.png", b"\x89PNG")
    repo.git("add", "-A")
    repo.commit("base", "--no-verify")
    r = repo.dlg(f"{D}/round-1/strudel.md", RESOLVES)
    repo.git("add", r)
    repo.dlg(f"{D}/round-1/strudel.md", "not staged\n")
    other = repo.dlg("2026-other/round-0/eclair.md", GOOD)  # untracked: not in the index
    staged = githook.staged_set(load_config(root=repo.root))
    assert staged is not None
    assert staged.only == [f"{D}/round-1/strudel.md"]
    assert staged.dialogues == [D]
    assert staged.sources == {
        f"{D}/round-0/muffin.md": TENSION.encode(),
        f"{D}/round-0/muffin.prompt.md": b"[TENSION T01: template]\n",
        f"{D}/round-1/strudel.md": RESOLVES.encode(),
    }
    assert t.endswith("muffin.md") and other.endswith("eclair.md")


def test_dialogues_folder_from_config(repo: Repo) -> None:
    repo.write(".blue/config.yaml", "dialogues: docs/dialogues\n")
    path, line = _unclosed(repo, "d/round-0/muffin.md")  # default folder: not dialogues here
    repo.write("docs/dialogues/d/round-0/muffin.md", UNCLOSED)
    repo.git("add", "-A")
    proc = repo.cli("hook", "run")
    assert proc.returncode == 1
    assert f"docs/dialogues/d/round-0/muffin.md:{line}:" in proc.stderr
    assert path not in proc.stderr


# ------------------------------------------------------------------------ lint --staged


def test_lint_staged_reads_the_index(repo: Repo) -> None:
    path, line = _unclosed(repo, f"{D}/round-0/muffin.md")
    repo.git("add", path)
    repo.dlg(f"{D}/round-0/muffin.md", GOOD)  # the working tree is fine
    staged = repo.cli("lint", "--staged")
    assert staged.returncode == 1
    assert f"{path}:{line}:" in staged.stdout
    assert repo.cli("lint").returncode == 0  # plain lint reads the working tree
    # And the other way round.
    repo.git("add", path)
    repo.dlg(f"{D}/round-0/muffin.md", UNCLOSED)
    assert repo.cli("lint", "--staged").returncode == 0
    assert repo.cli("lint").returncode == 1


def test_lint_staged_paths_check_index_versions(repo: Repo) -> None:
    """With paths (what the pre-commit framework passes): the index version of those files,
    staged in this commit or not (``pre-commit run --all-files`` in CI)."""
    bad, line = _unclosed(repo, f"{D}/round-0/muffin.md")
    good = repo.dlg(f"{D}/round-0/eclair.md", GOOD)
    repo.git("add", "-A")
    assert repo.commit("both", "--no-verify").returncode == 0
    assert repo.cli("lint", "--staged").returncode == 0  # nothing staged
    one = repo.cli("lint", "--staged", good)
    assert one.returncode == 0 and bad not in one.stdout
    both = repo.cli("lint", "--staged", DIALOGUES)
    assert both.returncode == 1 and f"{bad}:{line}:" in both.stdout
    run = repo.cli("hook", "run", bad)
    assert run.returncode == 1 and f"{bad}:{line}:" in run.stderr


def test_unusual_paths(hooked: Repo) -> None:
    """Non-ASCII and spaces in dialogue folder names survive git's path quoting."""
    dlg = "2026-06-01T0000Z-café au lait"
    path, line = _unclosed(hooked, f"{dlg}/round-0/muffin.md")
    hooked.git("add", path)
    proc = hooked.commit("unusual")
    assert proc.returncode == 1
    assert f"{path}:{line}:" in _output(proc)


def test_rename_across_dialogues_touches_both(repo: Repo) -> None:
    old = repo.dlg("d-one/round-0/muffin.md", GOOD)
    repo.git("add", "-A")
    repo.commit("one", "--no-verify")
    new = f"{DIALOGUES}/d-two/round-0/muffin.md"
    (repo.root / new).parent.mkdir(parents=True)
    repo.git("mv", old, new)
    staged = githook.staged_set(load_config(root=repo.root))
    assert staged is not None
    assert staged.dialogues == ["d-one", "d-two"]
    assert staged.only == ["d-two/round-0/muffin.md"]


def test_missing_interpreter_blocks_with_a_clear_message(repo: Repo) -> None:
    """If the venv the hook was installed from is gone, the commit stops with what to do."""
    githook.install(repo.root, python=str(repo.root / "gone" / "python"))
    path = repo.dlg(f"{D}/round-0/muffin.md", GOOD)
    repo.git("add", path)
    before = repo.head()
    proc = repo.commit("no python")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "not found" in lines[0] and "hook install" in lines[0]
    assert lines[-1] == githook.NO_VERIFY  # printed literally, nothing executed
    assert repo.head() == before
