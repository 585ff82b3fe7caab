"""HEAD read from .git's files (indexer.git.top_and_head) agrees with git itself, and says
"ask git" (None) for every shape it does not read; head_of and find_root answer as git does
in each case."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from indexer.config import find_root
from indexer.git import NO_REPOSITORY, top_and_head
from indexer.headrev import head_of

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]


def run(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def git_says(cwd: Path) -> tuple[str, str] | None:
    """What git itself answers (the independent computation)."""
    p = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=cwd,
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None
    top, head = p.stdout.split("\n")[:2]
    return os.path.realpath(top), head


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    (r / ".blue" / "dialogues" / "d" / "round-0").mkdir(parents=True)
    run(r, "init", "-q")
    (r / ".blue" / "dialogues" / "d" / "round-0" / "muffin.md").write_text("one\n")
    run(r, "add", "-A")
    run(r, "commit", "-qm", "one")
    (r / "README").write_text("two\n")
    run(r, "add", "-A")
    run(r, "commit", "-qm", "two")
    return r


def check_agrees(where: Path) -> None:
    """The file reader, when it answers, answers as git; head_of and find_root always do."""
    expected = git_says(where)
    got = top_and_head(str(where))
    assert got is None or got == expected
    head = head_of([where])
    assert (head.top, head.commit) == expected if head else expected is None
    assert str(find_root(where)) == (expected[0] if expected else str(where.resolve()))


def test_loose_ref_from_a_nested_folder(repo: Path) -> None:
    nested = repo / ".blue" / "dialogues" / "d"
    assert top_and_head(str(nested)) is not None
    check_agrees(nested)
    assert top_and_head(str(nested)) == git_says(nested)


def test_packed_refs(repo: Path) -> None:
    run(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert top_and_head(str(repo)) is not None
    check_agrees(repo)
    assert top_and_head(str(repo)) == git_says(repo)
    # a newer loose ref beside the packed one wins, as in git
    (repo / "x").write_text("three\n")
    run(repo, "add", "-A")
    run(repo, "commit", "-qm", "three")
    assert top_and_head(str(repo)) == git_says(repo)
    check_agrees(repo)


def test_detached_head(repo: Path) -> None:
    run(repo, "checkout", "-q", "HEAD~1")
    check_agrees(repo)
    assert top_and_head(str(repo)) == git_says(repo)
    assert top_and_head(str(repo))[1] == run(repo, "rev-parse", "main~1")


def test_unborn_branch_is_left_to_git(tmp_path: Path) -> None:
    r = tmp_path / "empty"
    r.mkdir()
    run(r, "init", "-q")
    assert top_and_head(str(r)) is None
    assert head_of([r]) is None
    assert find_root(r) == r.resolve()  # git's top level, asked of git


def test_linked_worktree_is_left_to_git(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    run(repo, "worktree", "add", "-q", str(wt), "HEAD~1")
    assert top_and_head(str(wt)) is None  # a .git file: git decides
    check_agrees(wt)
    assert head_of([wt]) is not None


def test_git_environment_is_left_to_git(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", str(repo / ".git"))
    assert top_and_head(str(repo)) is None


def test_extensions_and_outside_a_repository(repo: Path, tmp_path: Path) -> None:
    run(repo, "config", "extensions.worktreeConfig", "true")
    assert top_and_head(str(repo)) is None
    check_agrees(repo)
    plain = tmp_path / "plain"
    plain.mkdir()
    if git_says(plain) is None:  # tmp is not inside some other repository
        assert top_and_head(str(plain)) is NO_REPOSITORY  # known without asking git
        assert head_of([plain]) is None
        assert find_root(plain) == plain.resolve()
