"""The staged set: which dialogue files a commit stages and the index content of their
dialogues (read from git's index, never the working tree, except where a staged symbolic
link points: that is followed in the work tree as the sync scan does)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import layout
from ..layout import IGNORED, classify
from ..roots import Conflict, Found, entry, merge
from .plumbing import (
    GITLINK,
    LINK,
    Change,
    index_entries,
    indexed_paths,
    read_blobs,
    staged_changes,
)

if TYPE_CHECKING:
    from ..config import Config
    from ..fsread import Problem

_CHECKED = frozenset("AMRCT")  # statuses whose staged content is checked (D: nothing to check)


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
        if ch.status not in _CHECKED or ch.mode == GITLINK or place.role == IGNORED:
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
            if where is None or mode == GITLINK or _split(path, folders) != where:
                continue
            rel = where[1]
            head, _, rest = rel.partition("/")
            what = entry(head, bool(rest))
            if what is None or what[0] not in dialogues:
                continue
            if mode == LINK:  # a symbolic link: followed in the work tree, as reindex does
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
    from ..fsread import Problem, bad_name, escape_name

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
    from .. import fsread
    from ..sync import walk_files

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
    from .. import fsread

    try:
        return fsread.read_entry(path, repo, limit)
    except fsread.Unreadable as u:
        return u.problem
    except FileNotFoundError:
        return fsread.Problem("symlink-broken")
