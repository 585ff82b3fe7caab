"""Diagnostics of files and of the dialogues they belong to (what ``lint`` and the hook report).

``lint_sources`` works on content in memory (the hook passes staged blobs); ``lint_paths``
reads files and folders from disk and adds each file's sibling dialogue files as context, so
dialogue-level checks (unresolved targets, reference rules, ...) see the whole dialogue.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from . import diagnostics as diag
from . import layout
from .assemble import assemble
from .config import find_root
from .errors import GrammarError
from .fsread import (
    DEFAULT_MAX_BYTES,
    Problem,
    Unreadable,
    boundary,
    read_entry,
    unreadable_file,
)
from .model import Diagnostic, ParsedFile
from .parse import parse_file

_ROUND_DIR = re.compile(r"^round-\d+$")

def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.file or "", d.line or 0, d.column or 0, d.code)


def lint_parsed(files: Iterable[ParsedFile], only: Collection[str] | None = None
                ) -> list[Diagnostic]:
    """File diagnostics plus each dialogue's assembled diagnostics, sorted."""
    files = list(files)
    out = [d for pf in files for d in pf.diagnostics]
    groups: dict[str, list[ParsedFile]] = defaultdict(list)
    for pf in files:
        if pf.dialogue:
            groups[pf.dialogue].append(pf)
    for dialogue_id, members in sorted(groups.items()):
        try:
            out += assemble(dialogue_id, members).diagnostics
        except GrammarError:
            raise  # a broken rule file is the user's configuration, not this dialogue's
        except Exception as e:  # noqa: BLE001 - one bad dialogue must not hide the rest
            out.append(diag.make("internal-error", dialogue_id, what=f"dialogue {dialogue_id}",
                                 error=f"{type(e).__name__}: {e}"))
    if only is not None:
        keep = set(only)
        out = [d for d in out if d.file in keep]
    return sorted(out, key=sort_key)


def lint_sources(sources: Mapping[str, bytes | Problem], only: Collection[str] | None = None
                 ) -> list[Diagnostic]:
    """Diagnostics of in-memory files. Keys are paths relative to the dialogues root; a
    value may be the Problem of an entry that could not be read (its diagnostic).

    Every source is parsed and assembled per dialogue (context); the result keeps the
    diagnostics of ``only`` (default: all), sorted by file, line, column, code.
    """
    return lint_parsed((unreadable_file(p, data) if isinstance(data, Problem)
                        else parse_file(p, data) for p, data in sources.items()), only)


def looks_like_dialogues_root(folder: Path) -> bool:
    """A folder with a child that has round-N folders, or a single-file dialogue."""
    try:
        return any((c.is_dir() and any(_ROUND_DIR.match(g.name) and g.is_dir()
                                       for g in c.iterdir()))
                   or (c.is_file() and layout.single_file_id(c.name) is not None)
                   for c in folder.iterdir() if not c.name.startswith("."))
    except OSError:
        return False


def _roots(configured: Path | Sequence[Path] | None) -> list[Path]:
    if configured is None:
        return []
    return [configured] if isinstance(configured, Path) else list(configured)


def find_dialogues_root(path: Path, configured: Path | Sequence[Path] | None = None) -> Path:
    """The dialogues root a file or folder belongs to.

    A configured root when ``path`` is under it (or is it); else the nearest folder
    (``path`` itself included) that looks like a dialogues root; else a folder with round-N
    children is a dialogue whose parent is the root; else the folder itself (or a file's
    folder).
    """
    path = path.resolve()
    for conf in (c.resolve() for c in _roots(configured)):
        if path == conf or conf in path.parents:
            return conf
    start = path if path.is_dir() else path.parent
    for folder in (start, *start.parents):
        if looks_like_dialogues_root(folder):
            return folder
    if path.is_dir() and any(_ROUND_DIR.match(c.name) for c in path.iterdir() if c.is_dir()):
        return path.parent
    return start


def _walk(folder: Path, repo: str, limit: int) -> dict[str, Path | Problem]:
    """Every entry under ``folder`` as the sync scan sees it (links followed inside the
    repository only, odd entries as problems), keyed by path relative to ``folder``."""
    from .sync import walk_files

    return {rel: d.problem or Path(d.path) for rel, d in walk_files(folder, repo, limit).items()}


def collect(paths: Sequence[Path], dialogues_root: Path | Sequence[Path] | None = None,
            repo: Path | None = None, limit: int = DEFAULT_MAX_BYTES
            ) -> dict[Path, tuple[set[str], dict[str, Path | Problem]]]:
    """Per dialogues root: the relative paths asked for, and every entry to read (context):
    every file of each dialogue touched, in every configured root (roots.py). Entries are
    walked as the sync scan walks them (fsread): odd ones come back as their Problem."""
    from .sync import scan_roots

    configured = [c.resolve() for c in _roots(dialogues_root)]
    roots: dict[Path, tuple[set[str], dict[str, Path | Problem]]] = {}
    for p in paths:
        p = Path(os.path.abspath(p))
        if not p.exists() and not p.is_symlink():
            raise FileNotFoundError(f"{p}: no such file or folder")
        root = find_dialogues_root(p, configured)
        top = boundary(root, repo or find_root(root))
        asked, files = roots.setdefault(root, (set(), {}))
        if p.is_dir():
            real = p.resolve()
            base = real.relative_to(root) if real.is_relative_to(root) else Path(".")
            targets = {(base / rel).as_posix(): f for rel, f in _walk(real, top, limit).items()}
        else:
            targets = {p.resolve().relative_to(root).as_posix() if p.resolve().is_relative_to(
                root) else p.name: p}
        for rel, f in targets.items():
            asked.add(rel)
            files[rel] = f
        # context: every file of each dialogue touched, from each root that holds it
        touched = {d for r in asked if (d := layout.classify(r).dialogue) is not None}
        context = [root, *(c for c in configured if c != root)] if root in configured \
            else [root]
        if touched:
            found, _ = scan_roots(context, touched, Path(top), limit)
            for did, entries in found.items():
                for rel, st in entries.items():
                    files.setdefault(layout.parse_path(did, rel), st.problem or Path(st.path))
    return roots


def conflicts_of(paths: Sequence[Path], dialogues_root: Path | Sequence[Path]
                 ) -> list[Diagnostic]:
    """dialogue-duplicate errors for the dialogues of the configured roots that ``paths``
    cover (a whole root, or a dialogue met twice)."""
    from .sync import scan_roots

    configured = [c.resolve() for c in _roots(dialogues_root)]
    if len(configured) < 2:
        return []
    asked = [Path(p).resolve() for p in paths]
    _, conflicts = scan_roots([c for c in configured if c.is_dir()])
    out = []
    for c in conflicts:
        d = c.diagnostic()
        both = (Path(c.kept.rstrip("/")), Path(c.dropped.rstrip("/")))
        if any(a == b or a in b.parents or b in a.parents for a in asked for b in both):
            out.append(d)
    return out


def lint_paths(paths: Sequence[Path], dialogues_root: Path | Sequence[Path],
               repo: Path | None = None, limit: int = DEFAULT_MAX_BYTES) -> list[Diagnostic]:
    """Diagnostics of files and folders on disk, with their dialogues as context.

    Paths outside the dialogue roots are read against the nearest folder that looks like a
    dialogues root (else their own folder). ``file`` in the result is the path relative to
    the current folder when it lies below it, else absolute, so users can open it. Entries
    that cannot be read (fsread: FIFOs, devices, links leaving ``repo``, too large, ...)
    are a diagnostic each; everything else is linted.
    """
    out: list[Diagnostic] = []
    cwd = Path.cwd().resolve()

    def shown(full: Path) -> str:
        return full.relative_to(cwd).as_posix() if cwd in full.parents else full.as_posix()

    for root, (asked, files) in collect(paths, dialogues_root, repo, limit).items():
        sources = {}
        top = boundary(root, repo or find_root(root))
        unreadable: list[Diagnostic] = []
        for rel, f in files.items():
            try:
                if isinstance(f, Problem):
                    raise Unreadable(f)
                sources[rel] = read_entry(str(f), top, limit)
            except FileNotFoundError:
                continue
            except Unreadable as u:
                if rel in asked:
                    unreadable += unreadable_file(rel, u.problem).diagnostics
        for d in [*lint_sources(sources, asked), *unreadable]:
            where = files.get(d.file)
            d.file = shown(where if isinstance(where, Path) else
                           (root / d.file if d.file else root))
            out.append(d)
    for d in conflicts_of(paths, dialogues_root):
        d.file = shown(Path(d.file.rstrip("/")))
        out.append(d)
    return sorted(out, key=sort_key)
