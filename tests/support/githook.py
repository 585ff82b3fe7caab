"""Real git repositories in temp folders, for the pre-commit hook tests and benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DIALOGUES = ".blue/dialogues"

# Dialogue file contents. Expected line numbers are computed from these texts by the tests.
GOOD = "# Muffin, round 0\n\n[PERSPECTIVE P01: Staged content is what counts]\nThe index wins.\n"
TENSION = "# Muffin, round 0\n\n[TENSION T01: Nothing is checked before commit]\nA gap.\n"
RESOLVES = "# Strudel, round 1\n\n[RESOLVED MUFFIN-T01: the hook checks it]\nClosed.\n"
UNCLOSED = "# Muffin, round 0\n\nSome text.\n\n[PERSPECTIVE P01: the bracket never closes\nBody.\n"


def marker_line(text: str) -> int:
    """1-based line of the first line that opens a marker bracket without closing it."""
    for n, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("[") and "]" not in line:
            return n
    raise AssertionError("no unclosed marker in text")


def git_env(home: Path) -> dict[str, str]:
    """An environment that isolates git from the user's and the machine's configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    # Each commit starts the CLI afresh: let it cache bytecode as it does for users.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
        NO_COLOR="1",
    )
    return env


@dataclass
class Repo:
    """A real git work tree; ``git()`` and ``cli()`` run real processes in it."""

    root: Path
    env: dict[str, str]

    @classmethod
    def create(cls, path: Path, home: Path) -> Repo:
        path.mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        repo = cls(path, git_env(home))
        repo.git("init", "-q", "-b", "main")
        return repo

    def run(self, *cmd: str, check: bool = False,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(cmd, cwd=cwd or self.root, env=self.env, capture_output=True,
                              text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("git", *args, check=check)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``blue-index ARGS`` through this interpreter, as the installed hook calls it."""
        return self.run(sys.executable, "-m", "indexer.cli", *args)

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def dlg(self, rel: str, text: str | bytes) -> str:
        """Write a file under the dialogues folder; return its repository-relative path."""
        self.write(f"{DIALOGUES}/{rel}", text)
        return f"{DIALOGUES}/{rel}"

    def commit(self, message: str = "c", *extra: str) -> subprocess.CompletedProcess[str]:
        """A real ``git commit`` (runs the installed hook); never raises."""
        return self.git("commit", "-m", message, *extra, check=False)

    def head(self) -> str | None:
        proc = self.git("rev-parse", "-q", "--verify", "HEAD", check=False)
        return proc.stdout.strip() or None

    def committed(self, path: str) -> str:
        return self.git("show", f"HEAD:{path}").stdout
