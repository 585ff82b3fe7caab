"""``blue-index hook install | uninstall | run [--strict]``: git pre-commit integration."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ..errors import HookError

if TYPE_CHECKING:
    from .context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("hook", help="git pre-commit integration")
    hs = p.add_subparsers(dest="hook_command", metavar="ACTION", required=True)
    i = hs.add_parser("install", help="install the pre-commit hook (keeps an existing one)")
    i.add_argument("--strict", action="store_true", help="the hook blocks on warnings too")
    i.set_defaults(func=_install)
    u = hs.add_parser("uninstall", help="remove the hook and restore the previous one")
    u.set_defaults(func=_uninstall)
    r = hs.add_parser("run", help="check the staged dialogue files (what the hook calls)")
    r.add_argument("--strict", action="store_true", help="warnings block the commit too")
    r.add_argument("files", nargs="*", metavar="FILE",
                   help="check the index version of these files instead of the staged "
                        "changes (what the pre-commit framework passes)")
    r.set_defaults(func=_run)


@contextmanager
def _os_errors_as_hook_errors() -> Iterator[None]:
    """A hook file that cannot be written or removed is the user's to fix (exit 2)."""
    try:
        yield
    except OSError as e:
        where = e.filename or "the git hooks folder"
        raise HookError(f"{where}: {e.strerror or e}; check its permissions") from e


def _install(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    # Global options given at install time are baked into the hook (as absolute paths).
    options: list[str] = []
    for folder in getattr(args, "dialogues", None) or []:
        options += ["--dialogues", str(folder.resolve())]
    if args.config is not None:
        options += ["--config", str(args.config.resolve())]
    with _os_errors_as_hook_errors():
        ctx.out(githook.install(ctx.config.root, options=options, strict=args.strict))
    return 0


def _uninstall(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    with _os_errors_as_hook_errors():
        ctx.out(githook.uninstall(ctx.config.root))
    return 0


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    outcome = githook.run(ctx.config, strict=args.strict, paths=args.files or None)
    for line in outcome.lines:
        ctx.err(line)  # git shows a hook's stderr; stdout stays free for tools
    return outcome.code
