"""Machine-local files under ``.blue/``, and the ``.gitignore`` that keeps them out of git.

The index database, the hash cache (``.blue/cache/``), the daemon's lock and status files,
the default report folder and the daemon's settle cookies belong to one machine; the
dialogues and ``config.yaml`` next to them are shared. Every place that creates one of
those machine-local paths goes through ``make_dir`` or ``make_file_dir`` here: the first time
something is created inside a ``.blue`` folder, ``.blue/.gitignore`` is written for them,
unless the user already has one (it is never overwritten or edited afterwards).

Cheap on the hot path (the git hook): an existing folder costs one ``stat``.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR_NAME = ".blue"
GITIGNORE = """\
# Written by blue-index for its machine-local files; never rewritten (edit freely).
# The dialogues and config.yaml in this folder are shared: they stay tracked.
/cache/
/*.db
/*.db-*
/*.db.damaged-*
/*.sqlite
/*.sqlite-*
/*.sqlite3
/*.sqlite3-*
/watch.*
/.*.tmp
/report/
.blue-index-cookie-*
"""


def _state_dir(path: Path) -> Path | None:
    """The ``.blue`` folder ``path`` is (or lies in), if any."""
    return next((p for p in (path, *path.parents) if p.name == STATE_DIR_NAME), None)


def write_gitignore(state_dir: Path) -> bool:
    """Write ``state_dir/.gitignore`` unless one exists; True when written. Best effort: a
    read-only folder only means git may list the files."""
    from .fsutil import atomic_write

    try:  # whole or not at all, never over the user's own
        atomic_write(state_dir / ".gitignore", GITIGNORE, mode=0o644, exclusive=True)
    except OSError:  # exists (the user's, or ours), or cannot be written
        return False
    return True


def make_dir(path: Path) -> Path:
    """``mkdir -p path``; when this creates something inside a ``.blue`` folder, write its
    ``.gitignore`` (unless there is one). Raises OSError like ``mkdir``."""
    if path.is_dir():
        return path
    path.mkdir(parents=True, exist_ok=True)
    state = _state_dir(path)
    if state is not None:
        write_gitignore(state)
    return path


def make_file_dir(path: Path) -> Path:
    """Before creating the machine-local file ``path``: its folder exists, and when the file
    lies in a ``.blue`` folder, that folder's ``.gitignore`` too. Returns ``path``."""
    make_dir(path.parent)
    state = _state_dir(path.parent)
    if state is not None:
        write_gitignore(state)
    return path
