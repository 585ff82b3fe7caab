"""The daemon's log through stdlib ``logging``: one line per event.

``Log(event, message, error=..., **fields)`` is what the daemon calls; it emits one
``logging`` record (level INFO, or WARNING for ``error=True``) on a logger of its own with
two handlers: stderr (human text, or one JSON object per line with ``--json-log``; with
``-q`` only warnings) and, for ``blue-index watch``, the daemon log file
``.blue/watch.log`` (always JSON lines, every event, rotated at 1 MB with one backup).
A closed stderr or a full disk never stops the daemon (``handleError`` is silent).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

LOGGER_NAME = "blue_index.watch"
LOG_FILE_BYTES = 1_000_000
LOG_FILE_BACKUPS = 1


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """``{"time", "event", ...fields, "message"}`` per record."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        doc = {"time": stamp.replace("+00:00", "Z"), "event": getattr(record, "event", "log"),
               **getattr(record, "fields", {}), "message": record.getMessage()}
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS blue-index watch: message`` (local time, as a person reads it)."""

    def format(self, record: logging.LogRecord) -> str:
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        return f"{clock} blue-index watch: {record.getMessage()}"


class _Quiet:
    """Handler mixin: a failing stream (closed stderr, full disk) must not kill the daemon."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging API
        pass


class _Stream(_Quiet, logging.StreamHandler):  # type: ignore[type-arg]
    pass


class _File(_Quiet, logging.handlers.RotatingFileHandler):
    pass


class Log:
    """One line per event: stderr (text or ``json_lines``) and optionally ``file``."""

    def __init__(self, json_lines: bool = False, quiet: bool = False,
                 stream: TextIO | None = None, file: Path | None = None) -> None:
        self.json_lines = json_lines
        self.quiet = quiet
        # A logger of its own (not registered globally): two daemons in one process (tests)
        # never share handlers, and nothing propagates to the root logger.
        self.logger = logging.Logger(LOGGER_NAME, logging.INFO)
        self.logger.propagate = False
        self.file: Path | None = None
        if file is not None:
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                handler = _File(file, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS,
                                encoding="utf-8")
            except OSError:
                pass  # no log file is no reason not to watch
            else:
                handler.setFormatter(JsonFormatter())
                self.logger.addHandler(handler)  # first: a line on stderr is in the file
                self.file = file
        err = _Stream(stream or sys.stderr)
        err.setFormatter(JsonFormatter() if json_lines else TextFormatter())
        err.setLevel(logging.WARNING if quiet else logging.INFO)
        self.logger.addHandler(err)

    def __call__(self, event: str, message: str, *, error: bool = False, **fields: Any) -> None:
        self.logger.log(logging.WARNING if error else logging.INFO, "%s", message,
                        extra={"event": event, "fields": fields})

    def close(self) -> None:
        for handler in list(self.logger.handlers):
            handler.flush()
            if isinstance(handler, _File):
                handler.close()
            self.logger.removeHandler(handler)
