"""What ``blue-index hook run`` does at commit time: check the staged dialogue files and,
when the config asks (``hook: {sync: true}``), sync that staged content into the store.

The parser and the store are imported only when there is a dialogue file to check or
sync, so commits without dialogue files cost nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..git import GitError
from ..model import ERROR, WARNING, Diagnostic
from .install import NO_VERIFY
from .plumbing import require_work_tree
from .staged import staged_set

if TYPE_CHECKING:
    from ..config import Config

HOOK_ATTEMPTS = 2  # DynamoDB attempts per call during a commit, unless the config sets them


@dataclass(slots=True)
class CheckResult:
    """Diagnostics of the staged files (``file`` relative to the repository root)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # repository-relative paths
    dialogues: list[str] = field(default_factory=list)  # dialogue ids touched by the commit
    strict: bool = False
    # The index content of the touched dialogues' files (paths relative to the dialogue
    # root): what a sync after the check writes, not the working tree.
    staged: dict[str, bytes] = field(default_factory=dict, repr=False)

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
                         dialogues=staged.dialogues, strict=strict,
                         staged={k: v for k, v in staged.sources.items()
                                 if isinstance(v, bytes)})
    if staged.only:
        from ..lint import lint_sources  # the parser is imported only when there is work

        diags = lint_sources(staged.sources, only=staged.only)
        result.diagnostics = [replace(d, file=staged.repo_path(d.file)) if d.file else d
                              for d in diags]
    result.diagnostics += [c.diagnostic() for c in staged.conflicts]
    return result


def sync_staged(config: Config, dialogues: Sequence[str],
                staged: Mapping[str, bytes] | None = None) -> str | None:
    """Sync the given dialogues into the store; a warning line on any failure, never raise.

    ``staged``: content to index instead of the working tree's, by path relative to the
    dialogue root (the index content the check read). The hook must never block a commit
    because the index store is down.
    """
    if not dialogues:
        return None
    store = None
    if config.backend == "dynamodb" and not config.dynamodb.get("max_attempts"):
        # A commit should not wait through ten backed-off retries of a dead endpoint.
        config = replace(config, dynamodb={**config.dynamodb, "max_attempts": HOOK_ATTEMPTS})
    try:
        from ..store.factory import open_store
        from ..sync import Syncer

        store = open_store(config)
        Syncer(config, store).run(dialogues=list(dialogues), sources=staged)
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
        warning = sync_staged(config, result.dialogues, result.staged)
        if warning:
            lines.append(warning)
    return HookOutcome(0, lines)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
