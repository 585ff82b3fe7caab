"""``table create`` (the DynamoDB table) and ``store copy --to sqlite|dynamodb``."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import argparse

    from .context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("table", help="DynamoDB table administration")
    ts = p.add_subparsers(dest="table_command", metavar="ACTION", required=True)
    c = ts.add_parser("create", help="create the configured DynamoDB table and its indexes "
                      "(idempotent; waits until it is ACTIVE)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_table_create)

    p = sub.add_parser("store", help="move the index between backends")
    ss = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    c = ss.add_parser("copy", help="copy every dialogue from the active backend to another "
                      "(its settings come from the same config)")
    c.add_argument("--to", required=True, choices=("sqlite", "dynamodb"))
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_store_copy)


def cmd_table_create(args: argparse.Namespace, ctx: Context) -> int:
    from ..store.dynamodb import DynamoDBStore

    store = DynamoDBStore.from_config(ctx.config)
    try:
        created = store.create_table()
        info = store.describe()
    finally:
        store.close()
    if args.json:
        ctx.json({"created": created, **info})
    else:
        ctx.out(f"{store.where}: {'created' if created else 'already exists'}, "
                f"status {info['status']}, indexes {', '.join(info['indexes'])}")
    return 0


def cmd_store_copy(args: argparse.Namespace, ctx: Context) -> int:
    from ..store.copy import copy_store
    from ..store.factory import open_store

    cfg = ctx.config
    if args.to == cfg.backend:
        raise ConfigError(f"store copy: {args.to} is already the active backend; set "
                          "storage.backend to the source backend and copy --to the other")
    dst_cfg = dataclasses.replace(cfg, backend=args.to)
    if args.to == "dynamodb":  # one command to switch: the table is created if missing
        from ..store.dynamodb import DynamoDBStore

        admin = DynamoDBStore.from_config(dst_cfg)
        try:
            admin.create_table()
        finally:
            admin.close()
    src = ctx.store()
    dst = open_store(dst_cfg)
    try:
        rep = copy_store(src, dst)
        where = dst.describe()
    finally:
        dst.close()
    if args.json:
        ctx.json({"from": cfg.backend, "to": args.to, **dataclasses.asdict(rep)})
    else:
        target = where.get("location") or where.get("table")
        ctx.out(f"copied {rep.dialogues} dialogues from {cfg.backend} to {args.to} "
                f"({target}): {rep.written} items written, {rep.removed} stale dialogues "
                f"removed; now set storage.backend: {args.to} in the config")
    return 0
