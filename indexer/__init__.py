"""blue-index: parse alignment-dialogue Markdown files and keep a queryable index of them.

The public API (README "Use it from Python")::

    import indexer

    report = indexer.sync_folder("sample_dialogues", store="index.db")
    for d in indexer.list_dialogues("index.db"):
        print(d["id"], d["status"], d["open_tensions"])

Read: ``parse_file``, ``parse_bytes``, ``assemble_dialogue``. Store: ``open_store``,
``sync_folder``. Queries (the ``--json`` shapes of the CLI): ``list_dialogues``,
``show_dialogue``, ``list_tensions``, ``search_blocks``, ``export_dialogue``. Errors:
``BlueIndexError`` and its subclasses (each with an ``exit_code``).

Names are loaded on first use (PEP 562): ``import indexer`` imports nothing else, so the
git hook (``indexer.githook``, which imports this package first) starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> the module that defines it (imported when the name is first used)
_LAZY = {
    "parse_file": "api", "parse_bytes": "api", "assemble_dialogue": "api",
    "open_store": "api", "sync_folder": "api", "list_dialogues": "api",
    "show_dialogue": "api", "list_tensions": "api", "search_blocks": "api",
    "export_dialogue": "api",
    "load_config": "config", "Config": "config", "ParsedFile": "model",
    "Diagnostic": "model", "Dialogue": "dialogue", "SyncReport": "sync",
    "BlueIndexError": "errors", "UsageError": "errors", "ConfigError": "errors",
    "StoreUnavailable": "errors", "NotFound": "errors",
}
_RENAMED = {"load_config": "load"}

__all__ = [  # the same names as _LAZY (a test checks)
    "__version__", "parse_file", "parse_bytes", "assemble_dialogue", "open_store",
    "sync_folder", "list_dialogues", "show_dialogue", "list_tensions", "search_blocks",
    "export_dialogue", "load_config", "Config", "ParsedFile", "Diagnostic", "Dialogue",
    "SyncReport", "BlueIndexError", "UsageError", "ConfigError", "StoreUnavailable", "NotFound",
]

if TYPE_CHECKING:
    from .api import (
        assemble_dialogue,
        export_dialogue,
        list_dialogues,
        list_tensions,
        open_store,
        parse_bytes,
        parse_file,
        search_blocks,
        show_dialogue,
        sync_folder,
    )
    from .config import Config
    from .config import load as load_config
    from .dialogue import Dialogue
    from .errors import BlueIndexError, ConfigError, NotFound, StoreUnavailable, UsageError
    from .model import Diagnostic, ParsedFile
    from .sync import SyncReport


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'indexer' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
