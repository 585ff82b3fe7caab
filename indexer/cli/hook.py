"""``blue-index hook install | uninstall | run [--strict]``: git pre-commit integration."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

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


def _install(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    # Global options given at install time are baked into the hook (as absolute paths).
    options: list[str] = []
    for folder in getattr(args, "dialogues", None) or []:
        options += ["--dialogues", str(folder.resolve())]
    if args.config is not None:
        options += ["--config", str(args.config.resolve())]
    try:
        ctx.out(githook.install(ctx.config.root, options=options, strict=args.strict))
    except (githook.GitError, githook.HookError, OSError) as e:
        return ctx.fail(e, 2)
    return 0


def _uninstall(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    try:
        ctx.out(githook.uninstall(ctx.config.root))
    except (githook.GitError, OSError) as e:
        return ctx.fail(e, 2)
    return 0


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from .. import githook

    try:
        outcome = githook.run(ctx.config, strict=args.strict, paths=args.files or None)
    except githook.GitError as e:
        return ctx.fail(e, 2)
    for line in outcome.lines:
        ctx.err(line)  # git shows a hook's stderr; stdout stays free for tools
    return outcome.code
