"""The ``blue-index`` command: global options, then one module per command group.

Each module in ``COMMANDS`` exposes ``register(subparsers)``, which adds its subcommands
and sets ``func`` (``func(args, ctx) -> int``) on each. Handlers stay a few lines over
library calls; all logic lives in the library.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

from ..config import ConfigError
from .context import Context

# Command groups, in the order ``--help`` shows them.
COMMANDS = ("parse_lint", "index", "query", "report", "watch", "hook", "admin", "key")


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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
        for flags, kw in GLOBAL_OPTIONS:
            parser.add_argument(*flags, **{**kw, "default": argparse.SUPPRESS,
                                           "help": argparse.SUPPRESS})
    for sub in subs:
        for child in set(sub.choices.values()):
            _global_options_after_command(child)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    ctx = Context(args)
    try:
        return int(args.func(args, ctx) or 0)
    except ConfigError as e:
        return ctx.fail(e, 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - one line for users, traceback with -v
        from ..store.base import StoreUnavailable

        if isinstance(e, StoreUnavailable):
            return ctx.fail(e, 3)
        return ctx.fail(e, 1, unexpected=True)
