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

from ..config import ConfigError
from .context import Context

# Command groups, in the order ``--help`` shows them.
COMMANDS = ("parse_lint", "index", "query", "watch", "hook", "admin", "key")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="blue-index",
        description="Index alignment-dialogue Markdown files into SQLite or DynamoDB.",
    )
    p.add_argument("--root", type=Path, help="repository root (default: git top-level or cwd)")
    p.add_argument("--dialogues", type=Path, help="dialogues folder (default ROOT/.blue/dialogues)")
    p.add_argument("--config", type=Path, help="config file (default: ROOT/.blue/config.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks and detail")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    _accept_global_options_after_command(p, _global_options())
    return p


def _global_options() -> argparse.ArgumentParser:
    """The global options once more, for after the command (``blue-index reindex -q``).

    Their defaults are suppressed so that an option given before the command is kept.
    """
    g = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    g.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    g.add_argument("--dialogues", type=Path, help=argparse.SUPPRESS)
    g.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    g.add_argument("-v", "--verbose", action="store_true", help=argparse.SUPPRESS)
    g.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    return g


def _accept_global_options_after_command(parser: argparse.ArgumentParser,
                                         options: argparse.ArgumentParser) -> None:
    """Add ``options`` to every leaf subcommand under ``parser``."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs and parser.prog != "blue-index":
        for action in options._actions:
            parser._add_action(action)
        return
    for sub in subs:
        for child in set(sub.choices.values()):
            _accept_global_options_after_command(child, options)


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
