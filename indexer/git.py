"""The one way blue-index runs git (the hook, HEAD reads, provenance, the key-file guard,
finding the repository root).

Every call is bounded (``GIT_TIMEOUT``), takes pathspecs literally (dialogue ids may hold
``*``) and never takes git's optional locks: blue-index only reads, and a ``git status``
that refreshed the index behind the user's back could collide with their own git command.
The environment is otherwise inherited on purpose: during ``git commit`` git points
``GIT_INDEX_FILE`` at the index being committed (``commit -a``, ``commit FILE``).

Stdlib only: the pre-commit hook imports this on every commit.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .errors import GitError as GitError  # the class lives in indexer.errors (exit 2)

GIT_TIMEOUT = 60.0  # seconds for one git command; the largest (a cat-file batch) takes ~1 s


def git(cwd: str | Path, *args: str, input: bytes | None = None, literal: bool = True) -> bytes:
    """Run ``git ARGS`` in ``cwd``; its stdout, or GitError saying what failed.

    ``literal=False`` for the few commands that refuse literal pathspecs (``check-ignore``).
    """
    try:
        proc = subprocess.run(
            ["git", *(["--literal-pathspecs"] if literal else []), *args], cwd=cwd, input=input,
            capture_output=True, check=False, timeout=GIT_TIMEOUT,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except OSError as e:
        raise GitError(f"cannot run git ({e.strerror}); install git or put it on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} in {cwd} did not finish within {GIT_TIMEOUT:.0f} s; "
                       "check the repository (a lock, a slow disk) and try again") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = msg[0] if msg else f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]} failed in {cwd}: {first}")
    return proc.stdout


def git_or_none(cwd: str | Path, *args: str, literal: bool = True) -> bytes | None:
    """``git()`` for questions whose "no" is a failing exit (``merge-base --is-ancestor``,
    ``cat-file -e``) or where no git simply means no answer: None instead of GitError."""
    try:
        return git(cwd, *args, literal=literal)
    except GitError:
        return None


def git_text(cwd: str | Path, *args: str) -> str | None:
    """The stripped text git prints (paths kept byte-exact); None on failure or no output."""
    out = git_or_none(cwd, *args)
    text = out.decode("utf-8", "surrogateescape").strip() if out is not None else ""
    return text or None
