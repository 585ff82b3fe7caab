"""Crash a real ``blue-index`` subprocess right after its n-th committed dialogue write.

``crash_env(n)``: the environment that does it (``crashpoint/sitecustomize.py`` first on
PYTHONPATH, and the count); production code holds no switch for it.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.crashpoint.sitecustomize import KILL_ENV

CRASHPOINT = Path(__file__).resolve().with_name("crashpoint")
KILLED = 137  # the exit status of a crashed process

__all__ = ["KILL_ENV", "KILLED", "crash_env"]


def crash_env(after_writes: int) -> dict[str, str]:
    """Extra environment for a subprocess that must crash after ``after_writes`` writes."""
    path = [str(CRASHPOINT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {"PYTHONPATH": os.pathsep.join(path), KILL_ENV: str(after_writes)}
