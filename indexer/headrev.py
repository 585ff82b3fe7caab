"""Files at git ``HEAD``: where a file with errors is indexed from (FORMAT.md 5).

A file whose current content has errors is indexed from its version at ``HEAD`` when that
one has none, else from what parses. The result depends on the files and ``HEAD`` alone, so
a long-lived store and a fresh rebuild agree. :class:`Head` is small and picklable: parse
workers read blobs through it (one ``git cat-file`` per file with errors, which is rare).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def _git(cwd: str, *args: str) -> bytes | None:
    try:
        p = subprocess.run(["git", "--literal-pathspecs", *args], cwd=cwd,
                           capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class Head:
    """``HEAD`` of the work tree holding a dialogues folder."""

    top: str  # the work tree's top level (git runs there)
    prefix: str  # the dialogues folder relative to ``top``, '' or ending in '/'
    commit: str

    def blob(self, rel: str) -> bytes | None:
        """The content of ``rel`` (relative to the dialogues folder) at HEAD, or None."""
        return _git(self.top, "cat-file", "blob", f"{self.commit}:{self.prefix}{rel}")

    def touched(self, since: str) -> set[str] | None:
        """Dialogue ids with a file changed between ``since`` and HEAD (None: unknown)."""
        out = _git(self.top, "diff", "--name-only", "-z", "--no-renames", since, self.commit,
                   "--", self.prefix or ".")
        if out is None:
            return None
        cut = len(self.prefix)
        ids = set()
        for raw in out.split(b"\0"):
            rel = raw.decode("utf-8", "surrogateescape")[cut:]
            if "/" in rel:
                ids.add(rel.split("/", 1)[0])
        return ids


def head_of(dialogues: Path) -> Head | None:
    """HEAD for a dialogues folder inside a git work tree with at least one commit."""
    if not dialogues.is_dir():
        return None
    out = _git(str(dialogues), "rev-parse", "--show-toplevel", "--show-prefix", "HEAD")
    if out is None:
        return None
    lines = out.decode("utf-8", "surrogateescape").split("\n")
    if len(lines) < 3 or len(lines[2]) < 40:
        return None
    return Head(lines[0], lines[1], lines[2])
