"""``python -m moto.server``, handling one request at a time.

moto's server is threaded and its DynamoDB backend has no locks, so two concurrent
conditional writes to one item can both pass their condition, which DynamoDB (and dynalite)
never allows: each item write is atomic there. Serialising requests restores that
guarantee without changing anything else; the writer-race tests depend on it.

Usage: ``python tests/support/moto_serial.py -H 127.0.0.1 -p PORT`` (moto.server's options).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import moto.server as moto_server

_run_simple = moto_server.run_simple


def _serial_run_simple(host: str, port: int, app: Callable[..., Iterable[bytes]],
                       **kw: Any) -> None:
    lock = threading.Lock()

    def serial(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with lock:  # the whole response is produced inside the lock
            return list(app(environ, start_response))

    _run_simple(host, port, serial, **kw)


if __name__ == "__main__":
    moto_server.run_simple = _serial_run_simple
    moto_server.main(sys.argv[1:])
