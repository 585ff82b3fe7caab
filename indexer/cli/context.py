"""What every command handler gets: parsed global options, config, output helpers."""

from __future__ import annotations

import json
import os
import sys
import traceback
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .. import config as config_mod

if TYPE_CHECKING:
    import argparse

    from ..config import Config
    from ..store.base import Store


class Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.verbose: bool = bool(args.verbose)
        self.quiet: bool = bool(args.quiet)
        self._store: Store | None = None

    @cached_property
    def config(self) -> Config:
        a = self.args
        return config_mod.load(root=a.root, dialogues=a.dialogues, config_file=a.config)

    def store(self, create: bool = True) -> Store:
        """The active store; read-only commands pass ``create=False`` (no empty index)."""
        if self._store is None:
            from ..api import open_store

            self._store = open_store(self.config, create=create)
        return self._store

    @property
    def index_missing(self) -> bool:
        """True when the SQLite index has not been built yet (nothing to read or compare)."""
        cfg = self.config
        return cfg.backend == "sqlite" and cfg.sqlite_path is not None \
            and not cfg.sqlite_path.exists()

    @property
    def color(self) -> bool:
        """Colour for stdout: only on a terminal, never with NO_COLOR set."""
        return sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    @property
    def color_err(self) -> bool:
        """The same for stderr (a terminal stdout says nothing about a redirected stderr)."""
        return sys.stderr.isatty() and not os.environ.get("NO_COLOR")

    def out(self, text: str = "") -> None:
        if not self.quiet:
            print(text)

    def json(self, value: Any) -> None:
        print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))

    def err(self, text: str) -> None:
        print(text, file=sys.stderr)

    def fail(self, exc: BaseException, code: int, unexpected: bool = False) -> int:
        if self.verbose:
            traceback.print_exc()
        msg = str(exc) or exc.__class__.__name__
        if unexpected and not self.verbose:
            msg = f"{exc.__class__.__name__}: {msg} (rerun with -v for the traceback)"
        self.err(f"blue-index: {msg}")
        return code
