"""Where things are: repository root, dialogues folder, ``.blue/config.yaml`` and env overrides.

Environment overrides (for CI and servers): ``BLUE_INDEX_BACKEND``, ``BLUE_INDEX_SQLITE_PATH``,
``BLUE_INDEX_DYNAMODB_TABLE``, ``BLUE_INDEX_DYNAMODB_REGION``, ``BLUE_INDEX_DYNAMODB_ENDPOINT``,
``BLUE_INDEX_DYNAMODB_NAMESPACE``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A configuration problem the user must fix (exit code 2)."""


@dataclass(slots=True)
class Config:
    root: Path
    dialogues: Path
    backend: str = "sqlite"
    sqlite_path: Path | None = None
    dynamodb: dict[str, Any] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None
    hook: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # the config file read, if any

    @property
    def state_dir(self) -> Path:
        """Machine-local state (hash cache, daemon lock): never shared, never committed."""
        return self.root / ".blue"


def find_root(start: Path | None = None) -> Path:
    """The git top-level of ``start`` (default: cwd), else ``start`` itself."""
    start = (start or Path.cwd()).resolve()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=start, capture_output=True, text=True, check=False,
        )
    except OSError:
        return start
    top = out.stdout.strip()
    return Path(top) if out.returncode == 0 and top else start


def _section(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' must be a mapping; fix the YAML")
    return value


def load(
    root: Path | None = None,
    dialogues: Path | None = None,
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Config:
    """Read the configuration; a missing config file means SQLite at ``.blue/blue.db``."""
    env = os.environ if env is None else env
    root = (root or find_root()).resolve()
    path = config_file or root / ".blue" / "config.yaml"
    data: dict[str, Any] = {}
    if config_file is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found; check --config")
    if path.exists():
        import yaml  # only when there is a file to read: the hook starts on every commit

        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"{path}{line}: invalid YAML; fix the config file") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping")
        data = loaded or {}
    storage = _section(data, "storage", path)
    backend = str(env.get("BLUE_INDEX_BACKEND") or storage.get("backend") or "sqlite")
    if backend not in ("sqlite", "dynamodb"):
        raise ConfigError(f"{path}: storage.backend '{backend}' unknown; use sqlite or dynamodb")
    sqlite = _section(storage, "sqlite", path)
    sqlite_path = Path(env.get("BLUE_INDEX_SQLITE_PATH") or sqlite.get("path") or ".blue/blue.db")
    if not sqlite_path.is_absolute():
        sqlite_path = root / sqlite_path
    ddb = dict(_section(storage, "dynamodb", path))
    ddb.setdefault("table", "blue_dialogues")
    ddb.setdefault("region", None)
    ddb.setdefault("endpoint_url", None)
    for key, var in (("table", "BLUE_INDEX_DYNAMODB_TABLE"),
                     ("region", "BLUE_INDEX_DYNAMODB_REGION"),
                     ("endpoint_url", "BLUE_INDEX_DYNAMODB_ENDPOINT"),
                     ("namespace", "BLUE_INDEX_DYNAMODB_NAMESPACE")):
        if env.get(var):
            ddb[key] = env[var]
    dlg = dialogues or (Path(data["dialogues"]) if data.get("dialogues") else None)
    dlg = dlg or Path(".blue/dialogues")
    if not dlg.is_absolute():
        dlg = (root / dlg) if dialogues is None else dlg.resolve()
    enc = data.get("encryption")
    if enc is not None and not isinstance(enc, dict):
        raise ConfigError(f"{path}: 'encryption' must be a mapping")
    return Config(
        root=root,
        dialogues=dlg,
        backend=backend,
        sqlite_path=sqlite_path,
        dynamodb=ddb,
        encryption=enc or None,
        hook=_section(data, "hook", path),
        source=path if path.exists() else None,
    )
