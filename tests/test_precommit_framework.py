"""The project as a pre-commit framework hook (``.pre-commit-hooks.yaml``, id
``blue-index-lint``): the real framework installs the project into its own virtualenv
(dependencies from PyPI, so this takes a minute) and runs it on real repositories."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.githook import GOOD, UNCLOSED, Repo, marker_line

pytestmark = pytest.mark.slow
D = "2026-01-01T0000Z-framework"


def _pre_commit(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return repo.run(sys.executable, "-m", "pre_commit", *args)


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Repo:
    """A git repository holding the project as it is in the working tree now (tracked and
    new files, minus ignored ones), committed: what the framework clones and installs."""
    base = tmp_path_factory.mktemp("framework")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo_root, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    dest = base / "project"
    for rel in filter(None, listed):
        src = repo_root / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    project = Repo.create(dest, base / "home")
    project.git("add", "-A")
    project.git("commit", "-q", "-m", "snapshot")
    return project


@pytest.fixture(scope="module")
def pc_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _user_repo(tmp_path: Path, pc_home: Path) -> Repo:
    repo = Repo.create(tmp_path / "user", tmp_path / "home")
    repo.env["PRE_COMMIT_HOME"] = str(pc_home)
    repo.write("README.md", "x\n")
    repo.git("add", "README.md")
    repo.git("commit", "-q", "-m", "init")
    return repo


def test_try_repo_fails_on_broken_staged_file(project_repo: Repo, tmp_path: Path,
                                              pc_home: Path) -> None:
    repo = _user_repo(tmp_path, pc_home)
    path = repo.dlg(f"{D}/round-0/muffin.md", UNCLOSED)
    repo.git("add", path)
    proc = _pre_commit(repo, "try-repo", str(project_repo.root), "blue-index-lint",
                       "--files", path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"{path}:{marker_line(UNCLOSED)}:" in out


def test_configured_hook_passes_good_and_blocks_broken_commit(
    project_repo: Repo, tmp_path: Path, pc_home: Path
) -> None:
    repo = _user_repo(tmp_path, pc_home)
    rev = project_repo.head()
    repo.write(".pre-commit-config.yaml",
               f"repos:\n- repo: {project_repo.root}\n  rev: {rev}\n"
               "  hooks:\n  - id: blue-index-lint\n")
    good = repo.dlg(f"{D}/round-0/muffin.md", GOOD)
    repo.git("add", "-A")
    proc = _pre_commit(repo, "run", "--files", good)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout
    # Through git itself: `pre-commit install`, then real commits.
    assert _pre_commit(repo, "install").returncode == 0
    assert repo.commit("good").returncode == 0
    assert repo.committed(good) == GOOD
    bad = repo.dlg(f"{D}/round-0/eclair.md", UNCLOSED)
    repo.git("add", bad)
    before = repo.head()
    blocked = repo.commit("bad")
    assert blocked.returncode == 1
    assert f"{bad}:{marker_line(UNCLOSED)}:" in blocked.stdout + blocked.stderr
    assert repo.head() == before
    # CI: every tracked dialogue file, nothing staged; the broken one is committed anyway.
    assert repo.commit("bad anyway", "--no-verify").returncode == 0
    ci = _pre_commit(repo, "run", "--all-files")
    assert ci.returncode == 1
    assert f"{bad}:" in ci.stdout and f"{good}:" not in ci.stdout
