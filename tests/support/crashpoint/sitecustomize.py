"""Test-only crash point, never shipped: Python imports ``sitecustomize`` at start-up from
the first folder of ``sys.path`` that has one, so a subprocess started with
``tests/support/crash.py``'s ``crash_env(n)`` (this folder first on PYTHONPATH) loads it.

It wraps the stores that ``indexer.store.factory.open_store`` returns: right after the
``n``-th committed dialogue write (``write`` or ``delete_dialogue`` returning) the process
exits at once with status 137, as if killed there, with no cleanup, no flush, no atexit.
"""

from __future__ import annotations

import os

KILL_ENV = "BLUE_INDEX_TEST_KILL_AFTER_WRITES"
_after = os.environ.get(KILL_ENV, "")

if _after.isdigit():
    import functools
    from typing import Any

    import indexer.store.factory as _factory

    _open_store = _factory.open_store
    _writes = [0]

    def _counted(method: Any) -> Any:
        @functools.wraps(method)
        def call(*args: Any, **kw: Any) -> Any:
            result = method(*args, **kw)
            _writes[0] += 1
            if _writes[0] >= int(_after):
                os._exit(137)  # a crash right after a committed write
            return result

        return call

    @functools.wraps(_open_store)
    def open_store(*args: Any, **kw: Any) -> Any:
        store = _open_store(*args, **kw)
        store.write = _counted(store.write)
        store.delete_dialogue = _counted(store.delete_dialogue)
        return store

    _factory.open_store = open_store  # type: ignore[assignment]
