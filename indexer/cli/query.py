"""``show``, ``tensions`` and ``export``: one dialogue, read as items; and the options every
query shares (``--no-sync``, ``--min-clock``, ``--clock``) with ``fresh``, which applies them.

Handlers stay thin: the views and the export live in the library (indexer/views.py,
indexer/export.py), freshness in indexer/fresh.py; ``_items`` is the one place that
decides where the items come from.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..fresh import Freshness
    from ..items import Items
    from .context import Context

_STATUS_COLOURS = {"resolved": "32", "acknowledged": "36", "deferred": "36", "superseded": "36",
                   "open": "31", "reopened": "31", "addressed": "33", "converged": "32"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("show", help="one dialogue: rounds, experts, counts, verdict")
    p.add_argument("dialogue", metavar="DIALOGUE", help="dialogue id (its folder name)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    fresh_options(p)
    p.set_defaults(func=_show)
    t = sub.add_parser("tensions", help="tensions with their lifecycle")
    t.add_argument("dialogue", metavar="DIALOGUE", help="dialogue id (its folder name)")
    t.add_argument("--open", action="store_true", help="only tensions not closed")
    t.add_argument("--why", action="store_true",
                   help="each merged name with the rule and file:line that linked it")
    t.add_argument("--json", action="store_true", help="machine-readable output")
    fresh_options(t)
    t.set_defaults(func=_tensions)
    e = sub.add_parser("export", help="the whole dialogue as JSON")
    e.add_argument("dialogue", metavar="DIALOGUE", help="dialogue id (its folder name)")
    fresh_options(e)
    e.set_defaults(func=_export)


def fresh_options(p: argparse.ArgumentParser) -> None:
    """The options of every query: sync first or not, wait for a clock, print the clock."""
    g = p.add_argument_group("freshness (default: sync what the answer reads first)")
    g.add_argument("--no-sync", dest="sync", action="store_false", default=None,
                   help="answer from the store as it is (config: query: {sync: false})")
    g.add_argument("--sync", dest="sync", action="store_true",
                   help="sync first even when the config says query: {sync: false}")
    g.add_argument("--min-clock", type=_clock, metavar="C",
                   help="wait until the store's clock is at least C (a value an earlier "
                   "answer's \"clock\" gave), at most --clock-timeout seconds")
    g.add_argument("--clock-timeout", type=float, metavar="S", default=None,
                   help="bound of the --min-clock wait (default 5)")
    g.add_argument("--clock", dest="print_clock", action="store_true",
                   help="print 'clock N' on stderr (the store's clock the answer reflects)")


def _clock(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a clock value (0 or more)")
    return int(text)


def fresh(ctx: Context, args: argparse.Namespace, dialogues: list[str] | None,
          clock: bool = False) -> tuple[Freshness, int | None]:
    """Apply the freshness options before a query reads ``dialogues`` (None: every one):
    sync (or settle the daemon), then ``--min-clock``; returns what was done and the
    store's clock when ``clock`` or an option asks for it (indexer/fresh.py)."""
    from ..fresh import answer_clock, ensure_fresh

    store = None if ctx.index_missing else ctx.store(create=False)
    notice = None if ctx.quiet else ctx.err
    done = ensure_fresh(ctx.config, store, dialogues, sync=args.sync, notice=notice)
    if done.note and not ctx.quiet:
        ctx.err(f"blue-index: {done.note}")
    if ctx.verbose and done.fallback and done.fallback != "no daemon":
        ctx.err(f"blue-index: synced here: {done.fallback}")
    now = answer_clock(ctx.config, store, clock or args.print_clock, args.min_clock,
                       args.clock_timeout, notice)
    if args.print_clock:
        ctx.err(f"clock {now or 0}")
    return done, now


def _items(ctx: Context, dialogue_id: str) -> Items:
    """The dialogue's items: from the active store when it holds the dialogue (what was
    indexed), else read from the files (e.g. before the first reindex)."""
    from ..views import items_from_files

    if not ctx.index_missing:
        items = ctx.store(create=False).load(dialogue_id)
        if items:
            return items
    return items_from_files(ctx.config.existing_roots, dialogue_id)


def _load(ctx: Context, dialogue_id: str) -> Items | None:
    from ..views import UnknownDialogue

    try:
        return _items(ctx, dialogue_id)
    except UnknownDialogue as e:
        ctx.fail(e, 2)
        return None


def _paint(ctx: Context, text: str, status: str | None) -> str:
    code = _STATUS_COLOURS.get(status or "")
    return f"\033[{code}m{text}\033[0m" if ctx.color and code else text


def table(rows: list[list[str]], header: list[str]) -> list[str]:
    """Plain aligned columns (the last column is not padded)."""
    cells = [header, *rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1]
            if len(r) > 1 else r[0] for r in cells]


def _s(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from ..views import show

    _, clock = fresh(ctx, args, [args.dialogue], clock=args.json)
    items = _load(ctx, args.dialogue)
    if items is None:
        return 2
    v = show(items)
    if args.json:
        ctx.json({**v, "clock": clock})
        return 0
    c = v["counts"]
    ctx.out(v["title"] or v["id"])
    ctx.out(f"  id        {v['id']}")
    for name in ("question", "domain"):
        if v[name]:
            ctx.out(f"  {name:<9} {v[name]}")
    ctx.out(f"  status    {_paint(ctx, _s(v['status']), v['status'])}   rounds {len(v['rounds'])}"
            f"   experts {len(v['experts'])}   tensions {sum(c['tensions'].values())}"
            f" ({c['open_tensions']} open)   diagnostics {c['diagnostics']['error']} errors,"
            f" {c['diagnostics']['warning']} warnings")
    if v["verdict"]:
        ctx.out(f"  verdict   {_s(v['verdict']['title'])}"
                + (f" -- {v['verdict']['decision']}" if v["verdict"]["decision"] else ""))
    ctx.out()
    for line in table([[str(r["number"]), str(len(r["experts"])), _s(r["summary_title"])]
                       for r in v["rounds"]], ["ROUND", "EXPERTS", "SUMMARY"]):
        ctx.out(line)
    ctx.out()
    for line in table([[e["name"] or e["slug"], _s(e["tier"]),
                        ",".join(str(r) for r in e["rounds"]) or "-", _s(e["total"]),
                        _s(e["role"])] for e in v["experts"]],
                      ["EXPERT", "TIER", "ROUNDS", "TOTAL", "ROLE"]):
        ctx.out(line)
    ctx.out()
    ctx.out("blocks    " + ", ".join(f"{k} {n}" for k, n in c["blocks"].items()))
    ctx.out("tensions  " + ", ".join(f"{_paint(ctx, k, k)} {n}" for k, n in c["tensions"].items()))
    return 0


def _tensions(args: argparse.Namespace, ctx: Context) -> int:
    from ..views import tensions

    fresh(ctx, args, [args.dialogue])
    items = _load(ctx, args.dialogue)
    if items is None:
        return 2
    rows = tensions(items, open_only=args.open)
    if args.json:
        ctx.json(rows)
        return 0
    if not rows:
        ctx.out("no open tensions" if args.open else "no tensions")
        return 0
    for t in rows:
        status = t["ledger_status"] or t["status"] or "open"
        experts = f" (experts: {t['status']})" if t["ledger_status"] and t["status"] \
            and t["status"] != t["ledger_status"] else ""
        head = t["ledger_id"] or (f"{t['expert']} R{t['round']}-{t['id']}" if t["expert"]
                                  else _s(t["id"]))
        ctx.out(_paint(ctx, f"{head}  {status}{experts}  {t['label'] or ''}", status))
        if t["names"]:
            ctx.out("  names   " + ", ".join(_name(n) for n in t["names"]))
        if args.why:
            for n in t["names"]:
                where = f"{n['evidence']['file']}:{n['evidence']['line']}" \
                    if n["evidence"]["file"] else "-"
                ctx.out(f"  why     {_name(n)} <- {n['rule']} {where}")
        ctx.out("  events  " + (", ".join(f"R{_s(ev['round'])} {ev['actor']} {ev['kind']}"
                                          for ev in t["events"]) or "-"))
    return 0


def _name(n: dict[str, Any]) -> str:
    return f"{n['expert']} R{_s(n['round'])}-{n['id']}"


def _export(args: argparse.Namespace, ctx: Context) -> int:
    from ..export import dumps, export

    fresh(ctx, args, [args.dialogue])
    items = _load(ctx, args.dialogue)
    if items is None:
        return 2
    sys.stdout.write(dumps(export(items)))
    return 0
