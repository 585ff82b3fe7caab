"""``blue-index key init [--path P]`` and ``key rotate``: the encryption master key."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("key", help="encryption master key: create, rotate")
    ks = p.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    i = ks.add_parser("init", help="create a new local master key file (mode 0600)")
    i.add_argument("--path", type=Path,
                   help="where (default: encryption.key_file, else ~/.blue/keys/umk.key)")
    i.set_defaults(func=_init)
    r = ks.add_parser("rotate", help="re-wrap every dialogue's data key under a new master key")
    r.add_argument("--kms-key-id", help="KMS: the new key (then set encryption.kms_key_id)")
    r.add_argument("--keep-old", action="store_true",
                   help="key file: keep the old key as KEYFILE.old instead of deleting it")
    r.add_argument("--json", action="store_true", help="print the counts as JSON")
    r.set_defaults(func=_rotate)


def _init(args: argparse.Namespace, ctx: Context) -> int:
    from .. import keys

    path = args.path or keys.default_key_path(ctx.config)
    created = keys.create_key_file(path, ctx.config.root)  # KeyPlacementError: exit 2
    ctx.out(str(created))
    return 0


def _rotate(args: argparse.Namespace, ctx: Context) -> int:
    from ..keys.rotate import rotate

    result = rotate(ctx.config, kms_key_id=args.kms_key_id, keep_old=args.keep_old)
    if args.json:
        ctx.json(result)
    else:
        ctx.out(f"re-wrapped {result['rewrapped']} data keys ({result['already']} already "
                f"under the new key); content unchanged; new key {result['key_id']}")
        if result.get("note"):
            ctx.out(result["note"])
    return 0
