"""Files at git ``HEAD``: where a file with errors is indexed from (FORMAT.md 5).

A file whose current content has errors is indexed from its version at ``HEAD`` when that
one has none, else from what parses. The result depends on the files and ``HEAD`` alone, so
a long-lived store and a fresh rebuild agree. :class:`Head` is small and picklable: parse
workers read blobs through it (one ``git cat-file`` per file with errors, which is rare).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .git import NO_REPOSITORY, git_or_none, top_and_head


@dataclass(frozen=True, slots=True)
class Head:
    """``HEAD`` of the work tree holding the dialogue roots."""

    top: str  # the work tree's top level (git runs there), a real path
    prefixes: tuple[str, ...]  # each dialogue root relative to ``top``, '' or ending in '/'
    commit: str

    def blob(self, path: str) -> bytes | None:
        """The content at HEAD of the file at ``path`` (absolute), or None."""
        rel = os.path.relpath(os.path.realpath(path), self.top)
        if rel == ".." or rel.startswith("../"):
            return None
        return git_or_none(self.top, "cat-file", "blob", f"{self.commit}:{rel}")

    def touched(self, since: str) -> set[str] | None:
        """Dialogue ids with a file changed between ``since`` and HEAD (None: unknown)."""
        specs = [p or "." for p in self.prefixes]
        out = git_or_none(self.top, "diff", "--name-only", "-z", "--no-renames", since,
                          self.commit, "--", *specs)
        if out is None:
            return None
        from .roots import entry

        ids = set()
        for raw in out.split(b"\0"):
            path = raw.decode("utf-8", "surrogateescape")
            for prefix in self.prefixes:
                if path and path.startswith(prefix):
                    head, sep, _ = path[len(prefix):].partition("/")
                    what = entry(head, bool(sep))
                    if what is not None:
                        ids.add(what[0])
        return ids


def head_of(roots: list[Path]) -> Head | None:
    """HEAD for dialogue roots inside one git work tree with at least one commit."""
    roots = [r for r in roots if r.is_dir()]
    if not roots:
        return None
    found = top_and_head(str(roots[0]))  # no process in the common case
    if found is NO_REPOSITORY:
        return None
    if not isinstance(found, tuple):
        out = git_or_none(str(roots[0]), "rev-parse", "--show-toplevel", "HEAD")
        if out is None:
            return None
        lines = out.decode("utf-8", "surrogateescape").split("\n")
        if len(lines) < 2 or len(lines[1]) < 40:
            return None
        found = (lines[0], lines[1])
    top, commit = os.path.realpath(found[0]), found[1]
    prefixes = []
    for r in roots:
        rel = os.path.relpath(os.path.realpath(r), top)
        if rel == ".." or rel.startswith("../"):
            continue
        prefixes.append("" if rel == "." else rel + "/")
    return Head(top, tuple(prefixes), commit)
