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
import re
import stat
import subprocess
from pathlib import Path
from typing import Literal

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


# ---- HEAD from the repository's files, without starting git --------------------------------
# A fresh query syncs one dialogue in a few milliseconds; starting ``git rev-parse`` cost as
# much again (3-40 ms by load, bench/bench_query.py). For the common case, a plain ``.git``
# folder owned by this user with loose or packed refs, the answer is two or three small file
# reads. Anything else (GIT_DIR and friends, the ``.git`` file of a linked work tree or a
# submodule, another owner (safe.directory), reftable or other extensions, core.worktree, a
# symbolic ref chain, an unborn branch) gives None and the caller asks git, so the answer
# is always git's.

# Environment that changes how git finds the repository: then only git can say.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_COMMON_DIR", "GIT_CEILING_DIRECTORIES",
            "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")
_SHA1 = re.compile(r"[0-9a-f]{40}")
# config lines that change where the work tree is or how refs are stored
_CONFIG_ODD = re.compile(r"^\s*(\[extensions|worktree\s*=|bare\s*=\s*true)", re.I | re.M)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(65536)
    except (OSError, UnicodeDecodeError):
        return None


def _packed(gitdir: str, ref: str) -> str | None:
    """The commit of ``ref`` in packed-refs (``git pack-refs``, ``git gc``), or None."""
    try:
        with open(os.path.join(gitdir, "packed-refs"), encoding="utf-8") as f:
            for line in f:
                sha, _, name = line.rstrip("\n").partition(" ")
                if name == ref:
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


# top_and_head: no .git anywhere above, so git finds none either
NO_REPOSITORY: Literal[False] = False


def top_and_head(start: str) -> tuple[str, str] | Literal[False] | None:
    """(work tree top level, HEAD commit) of the repository holding ``start``, read from
    its files; ``NO_REPOSITORY`` when there is none; None when this reader cannot be sure
    (the caller then runs git)."""
    if any(k in os.environ for k in _GIT_ENV):
        return None
    uid = os.getuid()
    top = os.path.realpath(start)
    try:
        dev = os.stat(top).st_dev
    except OSError:
        return None
    crossed = False  # git stops its search at a filesystem boundary
    while True:
        gitdir = os.path.join(top, ".git")
        try:
            st = os.lstat(gitdir)
            break
        except FileNotFoundError:
            parent = os.path.dirname(top)
            if parent == top:
                return NO_REPOSITORY
            top = parent
            try:
                crossed = crossed or os.stat(top).st_dev != dev
            except OSError:
                return None
        except OSError:
            return None
    if crossed:
        return None
    try:
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or os.stat(top).st_uid != uid:
            return None
    except OSError:
        return None
    config = _read(os.path.join(gitdir, "config"))
    head = _read(os.path.join(gitdir, "HEAD"))
    if config is None or head is None or _CONFIG_ODD.search(config):
        return None
    head = head.strip()
    if head.startswith("ref: "):
        ref = head[5:].strip()
        if not ref.startswith("refs/") or ".." in ref:
            return None
        loose = _read(os.path.join(gitdir, ref))
        sha = loose.strip() if loose is not None else _packed(gitdir, ref)
    else:
        sha = head
    if sha is None or not _SHA1.fullmatch(sha):
        return None
    return top, sha
