"""The ``blue-index`` command: global options, then one module per command group.

Each module in ``COMMANDS`` exposes ``register(subparsers)``, which adds its subcommands
and sets ``func`` (``func(args, ctx) -> int``) on each. Handlers stay a few lines over
library calls; all logic lives in the library.

Exit codes (CLI.md) are decided here and only here: a handler returns 0 or 1 (found
problems) or raises; ``main`` turns an ``indexer.errors.BlueIndexError`` into its
``exit_code`` (2 usage or configuration, 3 store unreachable) with one line on stderr,
anything else into 1 with the same one line; ``-v`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from ..errors import BlueIndexError, UsageError
from .context import Context

# Command groups, in the order ``--help`` shows them.
COMMANDS = ("parse_lint", "index", "query", "report", "watch", "hook", "admin", "key",
            "lsp")


# Options of every command, accepted before the command and after it (``reindex -q``).
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict[str, Any]], ...] = (
    (("--root",), {"type": Path, "help": "repository root (default: git top-level or cwd)"}),
    (("--dialogues",), {"type": Path, "action": "append",
                        "help": "a dialogues folder; repeat for several (default "
                                "ROOT/.blue/dialogues and ROOT/.blue/docs/dialogues)"}),
    (("--config",), {"type": Path, "help": "config file (default: ROOT/.blue/config.yaml)"}),
    (("-v", "--verbose"), {"action": "store_true", "help": "show tracebacks and detail"}),
    (("-q", "--quiet"), {"action": "store_true", "help": "print only errors"}),
)


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors: raised, so ``main`` maps them like any other."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}; see '{self.prog} --help'")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="blue-index",
        description="Index alignment-dialogue Markdown files into SQLite or DynamoDB.",
    )
    for flags, kw in GLOBAL_OPTIONS:
        p.add_argument(*flags, **kw)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    _global_options_after_command(p)
    return p


def _global_options_after_command(parser: argparse.ArgumentParser) -> None:
    """Add the global options to every leaf subcommand, hidden from its help and with no
    default, so that one given before the command is not reset."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        parser.set_defaults(usage_prog=parser.prog)  # for usage errors: 'blue-index hook run'
        for flags, kw in GLOBAL_OPTIONS:
            parser.add_argument(*flags, **{**kw, "default": argparse.SUPPRESS,
                                           "help": argparse.SUPPRESS})
    for sub in subs:
        for child in set(sub.choices.values()):
            _global_options_after_command(child)


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code of CLI.md (the one place errors become codes)."""
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # name the command whose help lists what it takes
            raise UsageError(f"unrecognized arguments: {' '.join(extra)}; see "
                             f"'{getattr(args, 'usage_prog', parser.prog)} --help'")
    except UsageError as e:
        if any(a in ("-v", "--verbose") for a in (sys.argv[1:] if argv is None else argv)):
            traceback.print_exc()
        print(f"blue-index: {e}", file=sys.stderr)
        return e.exit_code
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    ctx = Context(args)
    try:
        return int(args.func(args, ctx) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except BlueIndexError as e:
        return ctx.fail(e, e.exit_code)
    except Exception as e:  # noqa: BLE001 - one line for users, traceback with -v
        return ctx.fail(e, 1, unexpected=True)
