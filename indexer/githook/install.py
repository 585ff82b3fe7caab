"""Installing and removing the pre-commit hook script, keeping a hook that was there."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import HookError as HookError  # the class lives in indexer.errors (exit 2)
from ..fsutil import atomic_write
from .plumbing import hooks_dir, require_work_tree

HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.blue-index-chained"  # where an existing hook is kept while ours runs
MARK = "# installed by blue-index"  # how install/uninstall recognise our script
NO_VERIFY = "blue-index: `git commit --no-verify` skips this check"


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
