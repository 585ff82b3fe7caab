"""Git pre-commit integration: staged dialogue content from the git index, the check the
hook runs on it, and installing/uninstalling the hook script.

The check reads the *index*, never the working tree, with a fixed number of git processes
whatever the commit size: one ``git diff --cached`` (which files), one ``git ls-files -s``
(the other files of the dialogues they belong to, for dialogue-level checks) and one
``git cat-file --batch`` (every blob). The parser and the store are imported only when
there is a dialogue file to check or sync, so commits without dialogue files cost nothing.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import layout
from .errors import GitError as GitError  # these live in indexer.errors
from .errors import HookError as HookError
from .fsutil import atomic_write
from .layout import IGNORED, classify
from .model import ERROR, WARNING, Diagnostic
from .roots import Conflict, Found, entry, merge

if TYPE_CHECKING:
    from .config import Config
    from .fsread import Problem

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.blue-index-chained"  # where an existing hook is kept while ours runs
MARK = "# installed by blue-index"  # how install/uninstall recognise our script
NO_VERIFY = "blue-index: `git commit --no-verify` skips this check"
HOOK_ATTEMPTS = 2  # DynamoDB attempts per call during a commit, unless the config sets them
_GITLINK = "160000"  # submodule entry: no blob to read
_LINK = "120000"  # symbolic link: the blob is the target's path
_CHECKED = frozenset("AMRCT")  # statuses whose staged content is checked (D: nothing to check)


# --------------------------------------------------------------------------- git plumbing


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run one git command at ``root``; pathspecs are literal (dialogue ids may hold ``*``).

    The environment is inherited on purpose: during ``git commit`` git points
    ``GIT_INDEX_FILE`` at the index being committed (``commit -a``, ``commit FILE``).
    """
    try:
        proc = subprocess.run(
            ["git", "--literal-pathspecs", *args],
            cwd=root, input=input, capture_output=True, check=False,
        )
    except OSError as e:
        raise GitError(f"cannot run git ({e.strerror}); install git or put it on PATH") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = msg[0] if msg else f"exit code {proc.returncode}"
        raise GitError(f"git {args[0]} failed in {root}: {first}")
    return proc.stdout


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
    out = _git(root, "diff", "--cached", "--raw", "-z", "-M", "--no-abbrev",
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
    for rec in _git(root, "ls-files", "-s", "-z", "--", *spec).split(b"\0"):
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
    out = _git(root, "cat-file", "--batch", input="".join(f"{b}\n" for b in ids).encode())
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
    out = _git(root, "rev-parse", "--git-path", "hooks").decode("utf-8").strip()
    path = Path(out)
    return path if path.is_absolute() else (root / path)


def is_work_tree(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        return False


def require_work_tree(root: Path) -> None:
    if not is_work_tree(root):
        raise GitError(f"{root} is not inside a git work tree; run `git init` first")


# --------------------------------------------------------------------- staged dialogue files


@dataclass(slots=True)
class StagedSet:
    """What the hook checks: the staged files and the index versions of their dialogues.

    Paths in ``sources``/``only`` are relative to the dialogue root each file lies in (what
    the parser and lint take); ``paths`` maps them to repository paths; ``folder`` is the
    first dialogues folder relative to the repository root.
    """

    folder: str
    changes: list[Change] = field(default_factory=list)
    sources: dict[str, bytes | Problem] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)
    dialogues: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)

    def repo_path(self, rel: str) -> str:
        if rel in self.paths:
            return self.paths[rel]
        return f"{self.folder}/{rel}" if self.folder else rel


def dialogues_folders(config: Config) -> list[str]:
    """The dialogue roots relative to the repository root, POSIX, in order (those outside
    the repository are left out: git knows nothing of them)."""
    out = []
    top = config.root.resolve()
    for r in config.dialogue_roots:
        try:
            rel = r.resolve().relative_to(top)
        except ValueError:
            continue
        out.append("" if str(rel) == "." else rel.as_posix())
    return list(dict.fromkeys(out))


def dialogues_folder(config: Config) -> str | None:
    """The first dialogues folder relative to the repository root; None if outside it."""
    folders = dialogues_folders(config)
    return folders[0] if folders else None


def _split(path: str, folders: list[str]) -> tuple[str, str] | None:
    """(folder, path in it) of a repository path under one of the folders (the first)."""
    for f in folders:
        if not f:
            return f, path
        if path.startswith(f + "/"):
            return f, path[len(f) + 1:]
    return None


def staged_set(config: Config, paths: Sequence[str] | None = None) -> StagedSet | None:
    """The staged dialogue files and their dialogues' index content; None when there is no
    dialogue file to check (then nothing else is read).

    Without ``paths``: the files the commit adds, modifies or renames. With ``paths`` (files
    or folders, relative to the current folder, as the pre-commit framework passes them):
    the index version of those files, staged or not (``pre-commit run --all-files`` in CI).
    Every dialogue root is covered; a dialogue's files are looked up in all of them.
    """
    folders = dialogues_folders(config)
    if not folders:
        return None
    root = config.root
    changes = (staged_changes(root, folders) if paths is None
               else indexed_paths(root, folders, paths))
    if not changes:
        return None
    dialogues: set[str] = set()
    singles: dict[str, str] = {}  # files outside any dialogue (pools): rel -> blob
    only: dict[str, str] = {}  # rel -> repository path
    for ch in changes:
        where = _split(ch.path, folders)
        if where is None:
            continue
        folder, rel = where
        place = classify(rel)
        if place.dialogue is not None:
            dialogues.add(place.dialogue)
        old = _split(ch.old_path, folders) if ch.old_path else None
        if old is not None:  # a rename changes both dialogues
            old_did = classify(old[1]).dialogue
            if old_did is not None:
                dialogues.add(old_did)
        if ch.status not in _CHECKED or ch.mode == _GITLINK or place.role == IGNORED:
            continue
        if place.dialogue is None:
            singles[rel] = ch.blob
            only[rel] = ch.path
        else:
            only[layout.parse_path(place.dialogue, _in_dialogue(place.dialogue, rel))] = ch.path
    specs = [f"{f}/{d}/" if f else f"{d}/" for f in folders for d in sorted(dialogues)]
    specs += [f"{f}/{d}{suffix}" if f else f"{d}{suffix}" for f in folders
              for d in sorted(dialogues) for suffix in layout.SINGLE_FILE_SUFFIXES]
    entries = index_entries(root, specs, prefixes=False) if specs else {}
    found = []
    links: dict[str, str] = {}  # staged symbolic links: rel -> repository path
    for f in folders:
        dirs: dict[str, dict[str, tuple[str, str]]] = {}
        files: dict[str, dict[str, tuple[str, str]]] = {}
        for path, (mode, blob) in entries.items():
            where = _split(path, [f])
            if where is None or mode == _GITLINK or _split(path, folders) != where:
                continue
            rel = where[1]
            head, _, rest = rel.partition("/")
            what = entry(head, bool(rest))
            if what is None or what[0] not in dialogues:
                continue
            if mode == _LINK:  # a symbolic link: followed in the work tree, as reindex does
                if rest:
                    links[layout.parse_path(what[0], rest)] = path
                continue
            if classify(rel).role == IGNORED:
                continue
            if rest:
                dirs.setdefault(head, {})[rest] = (path, blob)
            else:
                files.setdefault(what[0], {})[rel] = (path, blob)
        found.append(Found(f or ".", dirs, files))
    merged, conflicts = merge(found)
    blobs: dict[str, str] = dict(singles)
    from .fsread import Problem, bad_name, escape_name

    repo_paths: dict[str, str] = {rel: only[rel] for rel in singles}
    for did, files_of in merged.items():
        for rel, (path, blob) in files_of.items():
            key = layout.parse_path(did, rel)
            blobs[key] = blob
            repo_paths[key] = path
    content = read_blobs(root, blobs.values())
    sources: dict[str, bytes | Problem] = {
        rel: content[b] for rel, b in sorted(blobs.items()) if b in content}
    if links:
        for (key, repo_path), value in linked_sources(config, links).items():
            sources[key] = value
            repo_paths[key] = repo_path
        staged = {c.path for c in changes}
        for key in sorted(repo_paths):
            link = next((k for k, p in links.items() if p in staged and (
                key == k or key.startswith(k + "/"))), None)
            if link is not None and key not in only:
                only[key] = repo_paths[key]
    for rel in [r for r in sources if bad_name(r)]:  # not UTF-8: reported, not read
        shown = escape_name(rel)
        sources[shown] = Problem("name-not-utf8", {"name": shown})
        del sources[rel]
        repo_paths[shown] = escape_name(repo_paths.pop(rel, rel))
        if rel in only:
            only[shown] = repo_paths[shown]
            del only[rel]
    checked = sorted(k for k, p in only.items() if repo_paths.get(k, p) == p)
    repo_paths.update({k: p for k, p in only.items() if k not in repo_paths})
    return StagedSet(folders[0], changes, dict(sorted(sources.items())), checked,
                     sorted(dialogues), repo_paths, conflicts)


def _in_dialogue(did: str, rel: str) -> str:
    return rel[len(did) + 1:] if rel.startswith(did + "/") else rel


def linked_sources(config: Config, links: dict[str, str]
                   ) -> dict[tuple[str, str], bytes | Problem]:
    """What staged symbolic links stand for (``links``: key -> repository path), read from
    the work tree by the rules of the sync scan (fsread): a link is followed only inside
    the repository, a loop or a dangling link is a problem on that entry, a linked folder
    gives its files. Keys of the result: (key, repository path) of each file."""
    from . import fsread
    from .sync import walk_files

    repo = os.path.realpath(config.root)
    limit = config.max_file_size
    out: dict[tuple[str, str], bytes | Problem] = {}
    for key, repo_path in links.items():
        path = config.root / repo_path
        ancestors = {os.path.realpath(p) for p in path.parents
                     if os.path.realpath(p).startswith(repo)}
        e = fsread.inspect(str(path), path.name, repo, limit, ancestors)
        if e is None:
            continue
        if e.kind == "problem" and e.problem is not None:
            out[(key, repo_path)] = e.problem
        elif e.kind == "dir":
            for sub, d in walk_files(e.path, repo, limit, ancestors).items():
                out[(f"{key}/{sub}", f"{repo_path}/{sub}")] = d.problem or _read(d.path, repo,
                                                                                 limit)
        else:
            out[(key, repo_path)] = _read(e.path, repo, limit)
    return out


def _read(path: str, repo: str, limit: int) -> bytes | Problem:
    from . import fsread

    try:
        return fsread.read_entry(path, repo, limit)
    except fsread.Unreadable as u:
        return u.problem
    except FileNotFoundError:
        return fsread.Problem("symlink-broken")


# ------------------------------------------------------------------------------ the check


@dataclass(slots=True)
class CheckResult:
    """Diagnostics of the staged files (``file`` relative to the repository root)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # repository-relative paths
    dialogues: list[str] = field(default_factory=list)  # dialogue ids touched by the commit
    strict: bool = False

    @property
    def errors(self) -> int:
        return sum(d.severity == ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity == WARNING for d in self.diagnostics)

    @property
    def blocked(self) -> bool:
        return self.errors > 0 or (self.strict and self.warnings > 0)

    def lines(self) -> list[str]:
        """What the hook prints: one line per diagnostic, then why it blocks or passes."""
        out = [d.format() for d in self.diagnostics]
        e, w = self.errors, self.warnings
        if self.blocked:
            what = _count(e, "error") if e else _count(w, "warning") + " (--strict)"
            out.append(f"blue-index: commit blocked: {what} in staged dialogue files; "
                       "fix them, `git add` them and commit again")
            out.append(NO_VERIFY)
        elif w:
            out.append(f"blue-index: {_count(w, 'warning')} in staged dialogue files "
                       "(not blocking; `hook run --strict` blocks on warnings)")
        return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def check_staged(config: Config, strict: bool = False,
                 paths: Sequence[str] | None = None) -> CheckResult:
    """Lint the staged version of every added/modified/renamed dialogue file.

    Dialogue-level checks (unresolved targets, ...) see the staged files together with the
    index versions of the other files of the same dialogues; only the staged files are
    reported on. ``paths``: check the index version of those files instead (see staged_set).
    """
    try:
        staged = staged_set(config, paths)
    except GitError:
        require_work_tree(config.root)  # git's own message is obscure outside a repository
        raise
    if staged is None:
        return CheckResult(strict=strict)
    result = CheckResult(checked=[staged.repo_path(r) for r in staged.only],
                         dialogues=staged.dialogues, strict=strict)
    if staged.only:
        from .lint import lint_sources  # the parser is imported only when there is work

        diags = lint_sources(staged.sources, only=staged.only)
        result.diagnostics = [replace(d, file=staged.repo_path(d.file)) if d.file else d
                              for d in diags]
    result.diagnostics += [c.diagnostic() for c in staged.conflicts]
    return result


def sync_staged(config: Config, dialogues: Sequence[str]) -> str | None:
    """Sync the given dialogues into the store; a warning line on any failure, never raise.

    The hook must never block a commit because the index store is down.
    """
    if not dialogues:
        return None
    store = None
    if config.backend == "dynamodb" and not config.dynamodb.get("max_attempts"):
        # A commit should not wait through ten backed-off retries of a dead endpoint.
        config = replace(config, dynamodb={**config.dynamodb, "max_attempts": HOOK_ATTEMPTS})
    try:
        from .store.factory import open_store
        from .sync import Syncer

        store = open_store(config)
        Syncer(config, store).run(dialogues=list(dialogues))
    except Exception as e:  # any store failure is a warning here
        msg = (str(e) or e.__class__.__name__).splitlines()[0]
        return f"blue-index: warning: store not updated ({msg}); the commit goes on"
    finally:
        if store is not None:
            with contextlib.suppress(Exception):  # closing a broken store must not block
                store.close()
    return None


@dataclass(slots=True)
class HookOutcome:
    code: int  # 0 pass, 1 blocked
    lines: list[str]


def run(config: Config, strict: bool = False,
        paths: Sequence[str] | None = None) -> HookOutcome:
    """What ``blue-index hook run`` does: check the staged files, then sync if configured.

    ``hook.strict: true`` in the config has the effect of ``--strict``.
    """
    strict = strict or _truthy(config.hook.get("strict"))
    result = check_staged(config, strict, paths)
    lines = result.lines()
    if result.blocked:
        return HookOutcome(1, lines)
    if result.dialogues and _truthy(config.hook.get("sync")):
        warning = sync_staged(config, result.dialogues)
        if warning:
            lines.append(warning)
    return HookOutcome(0, lines)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# ----------------------------------------------------------------- install / uninstall


def hook_script(python: str, options: Sequence[str] = (), strict: bool = False) -> str:
    """The POSIX shell script git runs: the kept hook first, then ours with this Python."""
    run_args = ("hook", "run", "--strict") if strict else ("hook", "run")
    cmd = " ".join(shlex.quote(a) for a in (*options, *run_args))
    return f"""#!/bin/sh
{MARK}: checks the staged dialogue files (`blue-index hook uninstall` removes it).
# A pre-commit hook that was here before is kept beside this one and runs first.
chained="$(dirname "$0")/{CHAINED_NAME}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
python={shlex.quote(python)}
if [ ! -x "$python" ]; then
    echo "blue-index: $python not found; run 'blue-index hook install' again" >&2
    echo {shlex.quote(NO_VERIFY)} >&2
    exit 1
fi
exec "$python" -m indexer.cli {cmd}
"""


def is_ours(path: Path) -> bool:
    try:
        return MARK.encode() in path.read_bytes()
    except OSError:
        return False


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def install(root: Path, python: str | None = None, options: Sequence[str] = (),
            strict: bool = False) -> str:
    """Write the pre-commit hook; keep a foreign hook as ``pre-commit.blue-index-chained``.

    Running it again rewrites our script and leaves the kept hook alone (no double chain).
    Returns a one-line summary.
    """
    require_work_tree(root)
    hdir = hooks_dir(root)
    hook, chained = hdir / HOOK_NAME, hdir / CHAINED_NAME
    hdir.mkdir(parents=True, exist_ok=True)
    note = ""
    if _exists(hook) and not is_ours(hook):
        if _exists(chained):
            raise HookError(f"{hook} is not blue-index's and {chained} already exists; "
                            "move one of them away, then run `blue-index hook install` again")
        os.rename(hook, chained)
        note = f"; the existing hook is kept as {chained.name} and runs first"
    elif _exists(chained):
        note = f"; {chained.name} still runs first"
    script = hook_script(os.path.abspath(python or sys.executable), options, strict)
    atomic_write(hook, script, mode=0o755)
    return f"installed {hook}{note}"


def uninstall(root: Path) -> str:
    """Remove our hook and put back the one that was there before, byte for byte."""
    require_work_tree(root)
    hdir = hooks_dir(root)
    hook, chained = hdir / HOOK_NAME, hdir / CHAINED_NAME
    if not _exists(hook) or not is_ours(hook):
        return f"no blue-index hook at {hook}; nothing to do"
    hook.unlink()
    if _exists(chained):
        os.rename(chained, hook)
        return f"removed the blue-index hook; restored the previous {hook}"
    return f"removed {hook}"
