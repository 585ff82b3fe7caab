"""``reindex``, ``status``, ``list``, ``search``: the sync engine and the analytics reads."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from ..sync import SyncReport
    from .context import Context

PROGRESS_AFTER_S = 1.0  # show a progress bar only for runs that take longer than this


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reindex", help="sync the dialogue files into the active store")
    p.add_argument("--full", action="store_true", help="re-read and re-parse every file")
    p.add_argument("--check", action="store_true",
                   help="write nothing; rebuild every dialogue in memory, list each item that "
                        "differs from the store, exit 1 if any does")
    p.add_argument("--repair", action="store_true",
                   help="rebuild every dialogue in memory and rewrite those that differ "
                        "(a damaged SQLite file is moved aside and rebuilt)")
    p.add_argument("--force", action="store_true",
                   help="shared store: overwrite and delete whatever checkout wrote it")
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(func=cmd_reindex)

    from .query import fresh_options

    p = sub.add_parser("list", help="dialogues in the store")
    p.add_argument("--json", action="store_true")
    fresh_options(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("search", help="full-text search over block labels and bodies")
    p.add_argument("query")
    p.add_argument("--dialogue", help="only this dialogue")
    p.add_argument("--kind", help="only blocks of this kind (perspective, tension, ...)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    fresh_options(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("status", help="backend, store location, counts, last sync, daemon")
    p.add_argument("--json", action="store_true")
    fresh_options(p)
    p.set_defaults(func=cmd_status)


class _Progress:  # also used by `report` (cli/report.py)
    """A rich progress bar on stderr, started only once a run proves long (terminal only)."""

    def __init__(self, enabled: bool, label: str = "syncing") -> None:
        self.enabled, self.label = enabled, label
        self.t0 = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int, dialogue: str) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.t0 < PROGRESS_AFTER_S or done >= total:
                return
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, description=dialogue[:40].ljust(40))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def cmd_reindex(args: argparse.Namespace, ctx: Context) -> int:
    from ..api import sync_folder

    cfg = ctx.config
    if args.check and ctx.index_missing:  # --check writes nothing, not even an empty index
        ctx.err(f"blue-index: {cfg.sqlite_path}: no index yet, so it differs from the files; "
                "run 'blue-index reindex'")
        return 1
    if cfg.backend == "sqlite" and cfg.sqlite_path is not None and (args.check or args.repair):
        from ..store.sqlite import quarantine, verify_file

        damage = verify_file(cfg.sqlite_path)
        if damage and args.check:
            for line in damage:
                print(line)
            ctx.err(f"blue-index: {cfg.sqlite_path}: the index file is damaged; run "
                    "'blue-index reindex --repair'")
            return 1
        if damage:
            moved = quarantine(cfg.sqlite_path)
            ctx.err(f"blue-index: {cfg.sqlite_path}: the index file was damaged "
                    f"({damage[0].split(': ', 1)[-1]}); moved to {moved.name}, rebuilding")
    progress = _Progress(sys.stderr.isatty() and not ctx.quiet)
    try:
        rep = sync_folder(config=cfg, store=ctx.store(), full=args.full, check=args.check,
                          progress=progress, repair=args.repair, force=args.force)
    finally:
        progress.close()
    if args.json:
        rep.clock = ctx.store().clock()  # one read: library runs do not pay for it
        ctx.json(rep.to_dict())
    else:
        _print_report(ctx, rep, args.check)
    for line in rep.conflicts:  # an id in two roots: one line each, naming both
        ctx.err(line)
    for line in rep.refused + rep.rejected:  # shared stores: one line each, also with --json
        ctx.err(f"blue-index: {line}")
    problems = rep.conflicts or rep.refused or rep.rejected or (args.check and rep.drift)
    return 1 if problems else 0


def _print_report(ctx: Context, rep: SyncReport, check: bool) -> None:
    rows = [
        ("files seen", rep.files_seen), ("parsed", rep.parsed), ("unchanged", rep.unchanged),
        ("deleted", rep.deleted), ("dialogues written", rep.dialogues_written),
        ("items written", rep.items_written), ("items deleted", rep.items_deleted),
        ("kept (elsewhere)", len(rep.kept)), ("write retries", rep.retries),
        ("errors", rep.diagnostics.get("error", 0)),
        ("warnings", rep.diagnostics.get("warning", 0)),
    ]
    for name, value in rows:
        ctx.out(f"{name:<18} {value:>8}")
    ctx.out(f"{'seconds':<18} {rep.seconds:>8.2f}")
    if check:
        for line in rep.drift:
            print(line)
        if rep.drift:
            n = len(rep.drift)
            ctx.err(f"blue-index: the store differs from the files ({n} "
                    f"difference{'s' * (n != 1)}); run 'blue-index reindex'")
        else:
            ctx.out("the store matches the files")


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    from ..api import list_dialogues
    from .query import fresh

    fresh(ctx, args, None)
    rows = list_dialogues(ctx.store(create=False))
    if args.json:
        ctx.json(rows)
        return 0
    if not rows:
        ctx.out("no dialogues in the store; run 'blue-index reindex'")
        return 0
    width = max(len(d["id"]) for d in rows)
    ctx.out(f"{'DIALOGUE':<{width}}  {'STATUS':<10} {'ROUNDS':>6} {'EXPERTS':>7} "
            f"{'OPEN':>4}/{'TENSIONS':<8} {'BLOCKS':>6}")
    for d in rows:
        ctx.out(f"{d['id']:<{width}}  {d.get('status') or '-':<10} "
                f"{d.get('rounds') or 0:>6} {d.get('experts') or 0:>7} "
                f"{d.get('open_tensions') or 0:>4}/{d.get('tensions') or 0:<8} "
                f"{d.get('blocks') or 0:>6}")
    return 0


def cmd_search(args: argparse.Namespace, ctx: Context) -> int:
    from ..api import search_blocks
    from .query import fresh

    fresh(ctx, args, [args.dialogue] if args.dialogue else None)
    out = search_blocks(ctx.store(create=False), args.query, dialogue=args.dialogue,
                        kind=args.kind, limit=args.limit)
    if args.json:
        ctx.json(out)
        return 0
    if not out:
        ctx.out(f"no blocks match {args.query!r}")
        return 0
    from .query import table

    rows = [[f"{h['dialogue']}/{h['file']}:{h['line']}",
             f"{h['kind']}{' ' + h['id'] if h['id'] else ''}",
             (h["label"] or (h["body"] or "").split("\n", 1)[0])[:80]] for h in out]
    for line in table(rows, ["WHERE", "BLOCK", "LABEL"]):
        ctx.out(line)
    return 0


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    from ..store.base import StoreUnavailable
    from ..sync import last_sync

    cfg = ctx.config
    doc: dict[str, Any] = {
        "root": str(cfg.root), "dialogues": str(cfg.dialogues),
        "dialogue_roots": [str(r) for r in cfg.dialogue_roots], "backend": cfg.backend,
        "encrypted": bool(cfg.encryption), "store": None, "counts": None,
        "last_sync": None, "daemon": _daemon(cfg), "error": None, "clock": None,
    }
    code = 0
    try:
        if ctx.index_missing:  # not built yet: a state to report, not an error
            doc["store"] = {"backend": "sqlite", "location": str(cfg.sqlite_path),
                            "exists": False}
        else:
            from .query import fresh

            _, doc["clock"] = fresh(ctx, args, None, clock=True)
            store = ctx.store(create=False)
            doc["store"] = store.describe()
            doc["counts"] = store.counts()
    except StoreUnavailable as e:
        doc["error"] = str(e)
        code = 3
    state = last_sync(cfg)
    if state:
        doc["last_sync"] = state.get("last_sync")
    if args.json:
        ctx.json(doc)
    else:
        where = (doc["store"] or {}).get("location") or "-"
        if doc["store"] and doc["store"].get("exists") is False:
            where += " (not built yet: run 'blue-index reindex')"
        ctx.out(f"{'backend':<10} {cfg.backend}{' (encrypted)' if doc['encrypted'] else ''}")
        ctx.out(f"{'store':<10} {where}")
        for n, r in enumerate(cfg.dialogue_roots):
            note = "" if r.is_dir() else " (not there)"
            ctx.out(f"{'dialogues' if n == 0 else '':<10} {r}{note}")
        if doc["counts"] is not None:
            c = doc["counts"]
            ctx.out(f"{'counts':<10} {c.get('dialogues', 0)} dialogues, {c.get('file', 0)} "
                    f"files, {c.get('block', 0)} blocks, {c.get('tension', 0)} tensions, "
                    f"{c.get('diagnostic', 0)} diagnostics")
        ctx.out(f"{'last sync':<10} {doc['last_sync'] or 'never'}")
        if doc["clock"] is not None:
            ctx.out(f"{'clock':<10} {doc['clock']}")
        d = doc["daemon"]
        ctx.out(f"{'daemon':<10} " + (f"running (pid {d.get('pid')})" if d.get("running")
                                      else "not running"))
    if doc["error"]:
        ctx.err(f"blue-index: {doc['error']}")
    return code


def _daemon(cfg: Any) -> dict[str, Any]:
    from ..daemon_state import daemon_status  # not ..watch: no watchdog import for a status

    return daemon_status(cfg) or {"running": False}
