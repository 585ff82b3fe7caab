"""``blue-index watch``: stay running and keep the store in sync with the dialogue files."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "watch", help="stay running; keep the store in sync",
        description="Watch the dialogues folder and sync each changed dialogue once its "
        "files have been quiet for --debounce ms. SIGINT/SIGTERM finish the sync in "
        "flight and exit 0. Only one daemon per root (lock: .blue/watch.lock; status: "
        ".blue/watch.json, shown by `blue-index status`).")
    p.add_argument("--debounce", type=_ms, default=100, metavar="MS",
                   help="quiet time before a changed dialogue is synced (default 100)")
    p.add_argument("--json-log", action="store_true",
                   help="log one JSON object per line on stderr instead of text")
    p.add_argument("--polling", action="store_true",
                   help="poll file stats every second instead of inotify (network file "
                   "systems); used automatically when inotify is unavailable")
    p.set_defaults(func=run)


def _ms(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of milliseconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("--debounce must be 0 or more milliseconds")
    return value


def run(args: argparse.Namespace, ctx: Any) -> int:
    from ..watch import watch

    return watch(ctx.config, debounce_ms=args.debounce, json_log=args.json_log,
                 quiet=ctx.quiet, polling=args.polling)
