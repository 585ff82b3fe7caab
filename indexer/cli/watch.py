"""``blue-index watch`` (stay running; keep the store in sync) and ``blue-index sync`` (bring
dialogues up to date now, through the daemon when one runs)."""

from __future__ import annotations

import argparse
from typing import Any

SYNC_WAIT_S = 10.0  # default bound of ``sync --wait``


def register(sub: Any) -> None:
    p = sub.add_parser(
        "watch", help="stay running; keep the store in sync",
        description="Watch the dialogues folder and sync each changed dialogue once its "
        "files have been quiet for --debounce ms. SIGINT/SIGTERM finish the sync in "
        "flight and exit 0. Only one daemon per root (lock: .blue/watch.lock; status: "
        ".blue/watch.json, shown by `blue-index status`; log: .blue/watch.log).")
    p.add_argument("--debounce", type=_ms, default=100, metavar="MS",
                   help="quiet time before a changed dialogue is synced (default 100)")
    p.add_argument("--json-log", action="store_true",
                   help="log one JSON object per line on stderr instead of text")
    p.add_argument("--polling", action="store_true",
                   help="poll file stats every second instead of inotify (network file "
                   "systems); used automatically when inotify is unavailable")
    p.set_defaults(func=run)
    s = sub.add_parser(
        "sync", help="bring dialogues up to date with the files now",
        description="What every query does before it answers, on its own: when a watch "
        "daemon runs, ask it to settle (it syncs every change made before this command "
        "started) and wait a bounded time, else (or then) sync here.")
    s.add_argument("dialogues_", nargs="*", metavar="DIALOGUE",
                   help="dialogue ids (default: the whole tree)")
    s.add_argument("--wait", action="store_true",
                   help=f"wait for a running daemon up to --timeout (default {SYNC_WAIT_S:g}s) "
                   "instead of the query bound (query.daemon_wait)")
    s.add_argument("--timeout", type=float, metavar="S", default=None,
                   help="bound of the wait for the daemon, in seconds")
    s.add_argument("--json", action="store_true", help="print what was done as JSON")
    s.set_defaults(func=sync)


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


def sync(args: argparse.Namespace, ctx: Any) -> int:
    from ..fresh import clock_of, ensure_fresh

    wait = args.timeout if args.timeout is not None else SYNC_WAIT_S if args.wait else None
    store = ctx.store()
    done = ensure_fresh(ctx.config, store, args.dialogues_ or None, sync=True,
                        daemon_wait=wait, notice=None if ctx.quiet else ctx.err)
    doc = {"how": done.how, "dialogues": done.dialogues, "seconds": round(done.seconds, 4),
           "daemon_seconds": round(done.daemon_seconds, 4), "fallback": done.fallback,
           "note": done.note, "clock": clock_of(store),
           "report": done.report.to_dict() if done.report is not None else None}
    if args.json:
        ctx.json(doc)
    elif done.how == "daemon":
        ctx.out(f"settled by the watch daemon in {done.seconds * 1000:.0f} ms")
    elif done.report is not None:
        why = f" ({done.fallback})" if done.fallback and done.fallback != "no daemon" else ""
        ctx.out(f"synced here{why}: {done.report.dialogues_written} dialogues written, "
                f"{done.report.parsed} files parsed in {done.seconds * 1000:.0f} ms")
    else:
        ctx.out(f"nothing synced ({done.how})")
    if done.note:
        ctx.err(f"blue-index: {done.note}")
    return 0
