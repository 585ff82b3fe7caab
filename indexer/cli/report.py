"""``report`` and ``serve``: the browsable view of the index (indexer/report/)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StoreUnavailable, UsageError

if TYPE_CHECKING:
    from .context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from .query import fresh_options

    p = sub.add_parser("report", help="write a static site of the indexed dialogues")
    p.add_argument("dialogues_", nargs="*", metavar="DIALOGUE",
                   help="dialogue ids (default: every dialogue in the store)")
    p.add_argument("--out", type=Path, help="output folder (default ROOT/.blue/report)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    fresh_options(p)
    p.set_defaults(func=_report)
    s = sub.add_parser("serve", help="serve the report live from the store (loopback)")
    s.add_argument("dialogues_", nargs="*", metavar="DIALOGUE",
                   help="dialogue ids (default: every dialogue in the store)")
    s.add_argument("--port", type=int, default=None,
                   help="port (default 8765; 0 picks a free one)")
    s.add_argument("--host", default=None,
                   help="address to bind (default 127.0.0.1; anything else exposes the text)")
    s.set_defaults(func=_serve)


def _no_index(ctx: Context) -> StoreUnavailable:
    return StoreUnavailable(f"no index at {ctx.config.sqlite_path}; run `blue-index reindex` "
                            "first")


def _report(args: argparse.Namespace, ctx: Context) -> int:
    from ..report.site import build
    from .index import _Progress
    from .query import fresh

    if ctx.index_missing:
        raise _no_index(ctx)
    _, clock = fresh(ctx, args, args.dialogues_ or None, clock=args.json)
    out = args.out or ctx.config.root / ".blue" / "report"
    progress = _Progress(sys.stderr.isatty() and not ctx.quiet, "rendering")
    try:
        rep = build(ctx.store(create=False), out, args.dialogues_ or None, progress=progress)
    finally:
        progress.close()
    if args.json:
        ctx.json({**rep.as_json(), "clock": clock})
    else:
        ctx.out(f"{rep.dialogues} dialogues, {rep.files} files, {rep.bytes / 1e6:.1f} MB "
                f"in {rep.seconds:.2f} s; open {out / 'index.html'}")
    return 0


def _serve(args: argparse.Namespace, ctx: Context) -> int:
    from ..report.serve import DEFAULT_PORT, LOOPBACK, LiveSite, make_server
    from ..report.site import selected_ids

    if ctx.index_missing:
        raise _no_index(ctx)
    store = ctx.store(create=False)
    ids = selected_ids(store, args.dialogues_) if args.dialogues_ else None
    host = args.host or LOOPBACK
    port = DEFAULT_PORT if args.port is None else args.port
    try:
        server = make_server(LiveSite(store, ids), host, port,
                             log=ctx.err if ctx.verbose else None)
    except OSError as e:
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror}); choose another "
                         "--port") from e
    bound_host, bound_port = server.server_address[:2]
    if host not in (LOOPBACK, "localhost", "::1"):
        ctx.err(f"blue-index: serving on {host}: anyone who can reach this address can read "
                "the dialogues")

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if isinstance(bound_host, bytes):  # typeshed allows bytes; an IP server gives str
        bound_host = bound_host.decode()
    print(f"serving http://{bound_host}:{bound_port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
