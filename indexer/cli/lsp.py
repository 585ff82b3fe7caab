"""``blue-index lsp``: the language server on stdin/stdout (indexer/lsp)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from .context import Context


def register(sub: Any) -> None:
    p = sub.add_parser("lsp", help="language server for dialogue files (stdio)")
    p.add_argument("--stdio", action="store_true",
                   help="talk over stdin/stdout (the default and only transport)")
    p.set_defaults(func=cmd_lsp)


def cmd_lsp(args: argparse.Namespace, ctx: Context) -> int:
    # stdout carries the protocol: logs go to stderr only
    logging.basicConfig(level=logging.DEBUG if ctx.verbose else logging.WARNING,
                        format="blue-index lsp: %(levelname)s %(message)s")
    if not ctx.verbose:  # pygls logs routine events (shutdown) as warnings
        logging.getLogger("pygls").setLevel(logging.ERROR)
    from ..lsp.server import serve  # pygls only here

    serve(root=args.root, dialogues=args.dialogues, config_file=args.config)
    return 0
