"""Git pre-commit integration, in four parts:

- :mod:`.plumbing`: which files are staged, index entries and blobs, where hooks live;
- :mod:`.staged`: the staged set (staged dialogue files and their dialogues' index content);
- :mod:`.check`: what ``hook run`` does (check the staged set, optionally sync it);
- :mod:`.install`: installing and removing the hook script.

Everything stays importable from ``indexer.githook``. Only light modules load here: the hook
starts on every commit (the parser and stores load when there is work).
"""

from __future__ import annotations

from ..git import GitError
from .check import HOOK_ATTEMPTS, CheckResult, HookOutcome, check_staged, run, sync_staged
from .install import (
    CHAINED_NAME,
    HOOK_NAME,
    MARK,
    NO_VERIFY,
    HookError,
    hook_script,
    install,
    is_ours,
    uninstall,
)
from .plumbing import (
    Change,
    hooks_dir,
    index_entries,
    indexed_paths,
    is_work_tree,
    parse_raw_diff,
    read_blobs,
    require_work_tree,
    staged_changes,
)
from .staged import StagedSet, dialogues_folder, dialogues_folders, linked_sources, staged_set

__all__ = [
    "CHAINED_NAME", "HOOK_ATTEMPTS", "HOOK_NAME", "MARK", "NO_VERIFY", "Change", "CheckResult",
    "GitError", "HookError", "HookOutcome", "StagedSet", "check_staged", "dialogues_folder",
    "dialogues_folders", "hook_script", "hooks_dir", "index_entries", "indexed_paths",
    "install", "is_ours", "is_work_tree", "linked_sources", "parse_raw_diff", "read_blobs",
    "require_work_tree", "run", "staged_changes", "staged_set", "sync_staged", "uninstall",
]
