"""``.blue/.gitignore``: the first command that creates machine-local files under ``.blue/``
writes it (unless the user has one), so ``git status`` in a real repository shows none of
them after a reindex, a report, a daemon run or a hook run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer import daemon_state
from tests.support.githook import Repo
from tests.support.watch import DaemonProc


@pytest.fixture
def repo(samples_dir: Path, tmp_path: Path) -> Repo:
    """A real git repository whose committed dialogues are the samples; no .blue/ state."""
    git = Repo.create(tmp_path / "repo", tmp_path / "home")
    shutil.copytree(samples_dir, git.root / ".blue" / "dialogues")
    (git.root / ".blue" / "config.yaml").write_text("hook: {sync: true}\n", encoding="utf-8")
    git.git("add", "-A")
    git.git("commit", "-q", "-m", "dialogues")
    return git


def porcelain(git: Repo, *extra: str) -> list[str]:
    return git.git("status", "--porcelain", "--untracked-files=all", *extra).stdout.splitlines()


def test_reindex_report_hook_and_daemon_leave_only_the_gitignore(repo: Repo) -> None:
    blue = repo.root / ".blue"
    assert not (blue / ".gitignore").exists()
    assert repo.cli("reindex").returncode == 0
    assert repo.cli("report").returncode == 0
    assert repo.cli("status").returncode == 0
    assert porcelain(repo) == ["?? .blue/.gitignore"]
    # the machine-local files exist, and git sees them as ignored
    ignored = {line[3:] for line in porcelain(repo, "--ignored") if line.startswith("!! ")}
    for path in (".blue/blue.db", ".blue/report/index.html"):
        assert (repo.root / path).is_file() and path in ignored, (path, ignored)
    assert any(p.startswith(".blue/cache/") for p in ignored)
    # committing the .gitignore, then a hook run with sync and a daemon add nothing
    repo.git("add", ".blue/.gitignore")
    assert repo.commit("ignore").returncode == 0
    assert repo.cli("hook", "install").returncode == 0
    did = sorted(p for p in (blue / "dialogues").iterdir() if p.is_dir())[0]
    f = sorted(did.glob("round-0/*.md"))[0]
    f.write_text(f.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    repo.git("add", str(f))
    assert repo.commit("edit").returncode == 0, repo.git("log").stdout
    daemon = DaemonProc(repo.root, env=repo.env)
    try:
        daemon.wait_ready()
        assert (blue / daemon_state.LOCK_NAME).exists()
        assert (blue / daemon_state.STATUS_NAME).exists()
        left = [line for line in porcelain(repo) if daemon.log_path.name not in line]
    finally:
        daemon.stop()
    assert left == []


def test_the_patterns_ignore_state_and_never_the_shared_files(repo: Repo) -> None:
    assert repo.cli("reindex").returncode == 0
    state = ["cache/hashes/x.json", "cache/locks/x.lock", "cache/last-sync.json", "blue.db-wal",
             "blue.db-shm", "blue.db.damaged-20260101T000000", daemon_state.LOCK_NAME,
             daemon_state.STATUS_NAME, f".{daemon_state.STATUS_NAME}.42.tmp", "report/x.html",
             "dialogues/.blue-index-cookie-host-1-0", "dialogues/.blue-index-cookie-h-1-0.failed"]
    shared = ["config.yaml", "dialogues/d/round-0/muffin.md", "dialogues/d/tensions.md",
              "docs/dialogues/x.dialogue.md", "dialogues/2026-db/round-0/scone.md"]

    def ignored(rel: str) -> bool:
        p = repo.git("check-ignore", "-q", "--no-index", f".blue/{rel}", check=False)
        return p.returncode == 0

    assert [p for p in state if not ignored(p)] == []
    assert [p for p in shared if ignored(p)] == []


def test_a_gitignore_the_user_has_is_never_touched(repo: Repo) -> None:
    mine = repo.root / ".blue" / ".gitignore"
    mine.write_text("# mine\n/blue.db\n", encoding="utf-8")
    assert repo.cli("reindex").returncode == 0
    assert mine.read_text(encoding="utf-8") == "# mine\n/blue.db\n"


def test_a_repository_without_blue_gets_it_with_the_gitignore(samples_dir: Path,
                                                              tmp_path: Path) -> None:
    git = Repo.create(tmp_path / "repo", tmp_path / "home")
    shutil.copytree(samples_dir, git.root / "sample_dialogues")
    git.git("add", "-A")
    git.git("commit", "-q", "-m", "samples")
    assert git.cli("--dialogues", "sample_dialogues", "reindex").returncode == 0
    assert porcelain(git) == ["?? .blue/.gitignore"]
