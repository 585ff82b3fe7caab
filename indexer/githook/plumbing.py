"""Git plumbing for the hook: which files are staged, what the index holds for them, and
their blobs; where git runs hooks.

A fixed number of git processes whatever the commit size: one ``git diff --cached`` (which
files), one ``git ls-files -s`` (the other files of their dialogues) and one
``git cat-file --batch`` (every blob). Git runs through :mod:`indexer.git`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..git import GitError, git

GITLINK = "160000"  # submodule entry: no blob to read
LINK = "120000"  # symbolic link: the blob is the target's path


@dataclass(frozen=True, slots=True)
class Change:
    """One staged change, as ``git diff --cached`` reports it."""

    status: str  # first letter of git's status: A M R C T D
    path: str  # repository-relative POSIX path (the new path of a rename)
    blob: str  # blob id in the index; "" for a deletion
    mode: str = "100644"
    old_path: str | None = None  # renames and copies


def parse_raw_diff(out: bytes) -> list[Change]:
    """``git diff --raw -z --no-abbrev`` output -> changes.

    Records are ``:srcmode dstmode srcsha dstsha STATUS\\0path\\0`` with a second path for
    renames and copies (``R100\\0old\\0new\\0``).
    """
    parts = out.split(b"\0")
    changes: list[Change] = []
    i = 0
    while i < len(parts) and parts[i].startswith(b":"):
        _, dst_mode, _, dst_sha, status = parts[i][1:].decode("ascii").split(" ")
        letter = status[0]
        old: str | None
        if letter in "RC":
            old, new = parts[i + 1].decode("utf-8", "surrogateescape"), parts[i + 2]
            path, i = new.decode("utf-8", "surrogateescape"), i + 3
        else:
            old, path, i = None, parts[i + 1].decode("utf-8", "surrogateescape"), i + 2
        blob = "" if letter == "D" else dst_sha
        changes.append(Change(letter, path, blob, dst_mode, old))
    return changes


def staged_changes(root: Path, folder: str | Sequence[str]) -> list[Change]:
    """Staged changes under ``folder`` (repository-relative, "" = everything; or a list of
    folders, one git process for all), renames found."""
    folders = [folder] if isinstance(folder, str) else list(folder)
    spec = [] if "" in folders else [f"{f}/" for f in folders]
    out = git(root, "diff", "--cached", "--raw", "-z", "-M", "--no-abbrev",
              "--no-ext-diff", "--ignore-submodules", "--", *spec)
    return parse_raw_diff(out)


def index_entries(root: Path, folders: Iterable[str],
                  prefixes: bool = True) -> dict[str, tuple[str, str]]:
    """``{path: (mode, blob)}`` of the index entries under ``folders`` (merged stage only);
    ``prefixes=False`` takes the pathspecs as given (files or folders)."""
    spec = [f"{f}/" if prefixes else f for f in folders]
    if not spec:
        return {}
    entries: dict[str, tuple[str, str]] = {}
    for rec in git(root, "ls-files", "-s", "-z", "--", *spec).split(b"\0"):
        if not rec:
            continue
        meta, _, path = rec.partition(b"\t")
        mode, blob, stage = meta.decode("ascii").split(" ")
        if stage == "0":
            entries[path.decode("utf-8", "surrogateescape")] = (mode, blob)
    return entries


def read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """Content of each blob id, all through one ``git cat-file --batch``."""
    ids = list(dict.fromkeys(b for b in blobs if b))
    if not ids:
        return {}
    out = git(root, "cat-file", "--batch", input="".join(f"{b}\n" for b in ids).encode())
    found: dict[str, bytes] = {}
    pos = 0
    for _ in ids:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].decode("ascii").split(" ")
        pos = nl + 1
        if len(header) != 3:  # "<id> missing": cannot happen for index entries
            continue
        size = int(header[2])
        found[header[0]] = out[pos : pos + size]
        pos += size + 1  # content is followed by a newline
    return found


def indexed_paths(root: Path, folder: str | Sequence[str], paths: Sequence[str]
                  ) -> list[Change]:
    """Index entries of ``paths`` (files or folders, relative to the current folder) that
    lie under ``folder``, as changes to check. One ``ls-files`` of the folder, filtered here
    (thousands of pathspecs from ``pre-commit run --all-files`` would be slow in git)."""
    here, top = Path.cwd(), root.resolve()
    files: set[str] = set()
    dirs: list[str] = []  # "" = the whole repository
    for p in paths:
        full = (here / p).resolve()
        try:
            rel = full.relative_to(top).as_posix()
        except ValueError:
            continue  # outside the repository
        if full.is_dir():
            dirs.append("" if rel == "." else f"{rel}/")
        else:
            files.add(rel)
    folders = [folder] if isinstance(folder, str) else list(folder)
    entries = index_entries(root, [f or "." for f in folders], prefixes=False)
    return [Change("M", path, blob, mode) for path, (mode, blob) in sorted(entries.items())
            if path in files or any(path.startswith(d) for d in dirs)]


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks (``core.hooksPath``, relative or absolute, is honoured)."""
    out = git(root, "rev-parse", "--git-path", "hooks").decode("utf-8").strip()
    path = Path(out)
    return path if path.is_absolute() else (root / path)


def is_work_tree(root: Path) -> bool:
    try:
        return git(root, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        return False


def require_work_tree(root: Path) -> None:
    if not is_work_tree(root):
        raise GitError(f"{root} is not inside a git work tree; run `git init` first")
