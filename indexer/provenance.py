"""Where a writer's files come from (git), and the rules for writing a shared store.

A shared store (DynamoDB: several machines write one table) records with each dialogue's
revision the ``repository``, ``branch``, ``commit`` and ``dirty`` flag (uncommitted changes in
that dialogue's folder) of the checkout that wrote it. Two rules follow (``reindex --force``
lifts both):

- **Stale writers.** A checkout may overwrite a dialogue only if its ``HEAD`` contains the
  stored commit (``git merge-base --is-ancestor stored HEAD``): an older clone or another
  branch does not undo newer content; it is told to pull.
- **Deleted elsewhere.** A dialogue the table holds but this checkout lacks is deleted only
  when this checkout's history shows it deleted: the stored commit is in ``HEAD``'s history
  and had the dialogue's folder. A dialogue that exists only on another branch (or was never
  committed) stays.

Content written without provenance (outside git, or by an earlier blue-index) carries no
commit, so nothing restricts overwriting it. Git runs only for shared stores, and only when
a dialogue is to be written or deleted (never on a no-op run).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .git import git_or_none, git_text


def current_branch(path: Path) -> str | None:
    """The checked-out branch of the repository holding ``path`` (None: detached/no git)."""
    folder = path if path.is_dir() else path.parent
    return git_text(folder, "symbolic-ref", "--short", "-q", "HEAD")


def expand_namespace(template: str, dialogues: Path) -> str:
    """``storage.dynamodb.namespace`` with ``{branch}`` replaced (``detached`` outside one)."""
    if "{branch}" not in template:
        return template
    return template.replace("{branch}", current_branch(dialogues) or "detached")


@dataclass(slots=True)
class Checkout:
    """The git state of the checkout holding a dialogues folder (all None outside git)."""

    dialogues: Path  # the first dialogue root (git is asked from there)
    top: Path | None = None
    repository: str | None = None
    branch: str | None = None
    commit: str | None = None
    dirty: set[str] = field(default_factory=set)  # dialogue ids with uncommitted changes
    roots: list[Path] = field(default_factory=list)  # every dialogue root
    _contains: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, dialogues: Path, roots: list[Path] | None = None) -> Checkout:
        co = cls(dialogues, roots=list(roots or [dialogues]))
        if not dialogues.is_dir():
            return co
        top = git_text(dialogues, "rev-parse", "--show-toplevel")
        if top is None:
            return co
        co.top = Path(top)
        co.commit = git_text(dialogues, "rev-parse", "-q", "--verify", "HEAD")
        co.branch = current_branch(dialogues)
        co.repository = git_text(dialogues, "config", "--get", "remote.origin.url") or top
        status = git_or_none(co.top, "status", "--porcelain", "-z", "--untracked-files=all",
                             "--", *(str(r) for r in co.roots if r.is_dir()))
        if status is not None:
            prefixes = [co.rel("", r) for r in co.roots]
            entries = iter(status.decode("utf-8", "surrogateescape").split("\0"))
            for entry in entries:  # "XY path" (renames and copies: then the old path)
                paths = [entry[3:]]
                if entry[:1] in ("R", "C"):
                    paths.append(next(entries, ""))
                for path in paths:
                    for prefix in prefixes:
                        if path.startswith(prefix):
                            name = path[len(prefix):].split("/", 1)[0]
                            co.dirty.update({name, name.removesuffix(".md")})
        return co

    def rel(self, dialogue_id: str, root: Path | None = None) -> str:
        """A dialogue's path in the repository (``<root>/<id>``; the root itself with a
        trailing slash for an empty id)."""
        assert self.top is not None
        base = os.path.relpath((root or self.dialogues).resolve(), self.top.resolve())
        base = "" if base == "." else base.replace(os.sep, "/") + "/"
        return base + dialogue_id

    def record(self, dialogue_id: str) -> dict[str, Any] | None:
        """The provenance stored with a revision this checkout writes (None outside git)."""
        if self.top is None:
            return None
        return {"repository": self.repository, "branch": self.branch, "commit": self.commit,
                "dirty": dialogue_id in self.dirty}

    def contains(self, commit: str) -> bool:
        """``commit`` is in HEAD's history (False if it is unknown here: not fetched)."""
        if self.top is None or self.commit is None:
            return False
        if commit == self.commit:
            return True
        if commit not in self._contains:
            self._contains[commit] = git_or_none(
                self.top, "merge-base", "--is-ancestor", commit, self.commit) is not None
        return self._contains[commit]

    def had(self, commit: str, dialogue_id: str) -> bool:
        """The dialogue (a folder, or a single file) existed in ``commit`` in some root."""
        if self.top is None:
            return False
        for root in self.roots:
            for name in (dialogue_id, f"{dialogue_id}.md"):
                if git_or_none(self.top, "cat-file", "-e",
                               f"{commit}:{self.rel(name, root)}") is not None:
                    return True
        return False


def stored_commit(provenance: dict[str, Any] | None) -> str | None:
    commit = (provenance or {}).get("commit")
    return commit if isinstance(commit, str) and commit else None


def refuse_overwrite(provenance: dict[str, Any] | None, co: Checkout) -> str | None:
    """Why this checkout must not overwrite content with this provenance (None: it may)."""
    commit = stored_commit(provenance)
    if commit is None or co.contains(commit):
        return None
    return f"table holds newer content from {commit[:12]}; pull, or --force"


def may_delete(provenance: dict[str, Any] | None, co: Checkout, dialogue_id: str) -> bool:
    """A dialogue absent from this checkout may be deleted from the store."""
    commit = stored_commit(provenance)
    if commit is None:
        return True
    return co.contains(commit) and co.had(commit, dialogue_id)
