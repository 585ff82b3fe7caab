"""Where things are: repository root, dialogue roots, ``.blue/config.yaml`` and env overrides.

Dialogue roots: ``--dialogues`` (repeatable), else ``dialogues:`` in the config (a list, or
one string), else both defaults, ``.blue/dialogues`` (round folders) and
``.blue/docs/dialogues`` (single-file dialogues and folders). A default root that does not
exist is skipped; one given explicitly must exist.

Environment overrides (for CI and servers): ``BLUE_INDEX_BACKEND``, ``BLUE_INDEX_SQLITE_PATH``,
``BLUE_INDEX_DYNAMODB_TABLE``, ``BLUE_INDEX_DYNAMODB_REGION``, ``BLUE_INDEX_DYNAMODB_ENDPOINT``,
``BLUE_INDEX_DYNAMODB_NAMESPACE``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError as ConfigError  # the class lives in indexer.errors
from .git import NO_REPOSITORY, git_text, top_and_head

MAX_FILE_SIZE = 10 * 1024 * 1024  # default size limit of a dialogue file (fsread)


DEFAULT_ROOTS = (Path(".blue/dialogues"), Path(".blue/docs/dialogues"))
DEFAULT_SQLITE_PATH = Path(".blue/blue.db")  # relative to the root


@dataclass(slots=True)
class Config:
    root: Path
    dialogues: Path  # the first dialogue root (where new dialogues go; status shows it)
    backend: str = "sqlite"
    sqlite_path: Path | None = None
    dynamodb: dict[str, Any] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None
    hook: dict[str, Any] = field(default_factory=dict)
    # queries: {sync: bool (default true), daemon_wait: seconds} (indexer/fresh.py)
    query: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None  # the config file read, if any
    max_file_size: int = MAX_FILE_SIZE  # bytes; bigger files are reported, not read
    sqlite_busy_timeout: float = 30.0  # seconds a write waits for a locked SQLite store
    # every dialogue root in order (the first wins when an id is found in two); [dialogues]
    # when not given
    dialogue_roots: list[Path] = field(default_factory=list)
    roots_explicit: bool = True  # given by --dialogues or the config: must exist

    def __post_init__(self) -> None:
        if not self.dialogue_roots:
            self.dialogue_roots = [self.dialogues]

    @property
    def existing_roots(self) -> list[Path]:
        """The dialogue roots to read: those that are folders."""
        return [r for r in self.dialogue_roots if r.is_dir()]

    def missing_roots(self) -> list[Path]:
        """Roots that must exist and do not: any explicit one; the first default one when
        no default root exists (nothing to read is a mistake worth saying)."""
        if self.roots_explicit:
            return [r for r in self.dialogue_roots if not r.is_dir()]
        return [] if self.existing_roots else self.dialogue_roots[:1]

    @property
    def state_dir(self) -> Path:
        """Machine-local state (hash cache, daemon lock): never shared, never committed."""
        return self.root / ".blue"


def find_root(start: Path | None = None) -> Path:
    """The git top-level of ``start`` (default: cwd), else ``start`` itself."""
    start = (start or Path.cwd()).resolve()
    found = top_and_head(str(start))  # no process in the common case
    if found is NO_REPOSITORY:
        return start
    top = found[0] if isinstance(found, tuple) else git_text(start, "rev-parse",
                                                             "--show-toplevel")
    return Path(top) if top else start


def _section(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: '{key}' must be a mapping; fix the YAML")
    return value


def _roots(root: Path, given: Any, data: dict[str, Any], where: Path) -> tuple[list[Path], bool]:
    """The dialogue roots, absolute, without repeats; and whether they were given."""
    if isinstance(given, str | Path):
        given = [given]
    if given:
        paths = [Path(p).resolve() for p in given]
    else:
        conf = data.get("dialogues")
        if isinstance(conf, str):
            conf = [conf]
        if conf is not None and (not isinstance(conf, list) or not conf
                                 or not all(isinstance(p, str) and p for p in conf)):
            raise ConfigError(f"{where}: 'dialogues' must be a folder or a list of folders")
        paths = [p if p.is_absolute() else root / p for p in map(Path, conf or [])]
    explicit = bool(paths)
    paths = paths or [root / p for p in DEFAULT_ROOTS]
    return list(dict.fromkeys(paths)), explicit


def load(
    root: Path | None = None,
    dialogues: Path | list[Path] | None = None,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read the configuration; a missing config file means SQLite at ``.blue/blue.db``."""
    env = os.environ if env is None else env
    root = (root or find_root()).resolve()
    path = config_file or root / ".blue" / "config.yaml"
    data: dict[str, Any] = {}
    if config_file is not None and not path.exists():
        raise ConfigError(f"{path}: config file not found; check --config")
    if path.exists():
        from .yamlfile import YamlError, parse_yaml

        raw = path.read_bytes()
        try:
            loaded = parse_yaml(raw.decode("utf-8"))
        except (YamlError, UnicodeDecodeError) as e:
            where = e.at(path) if isinstance(e, YamlError) else path
            raise ConfigError(f"{where}: invalid YAML; fix the config file") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping")
        data = loaded or {}
        from .configschema import check

        wrong = check(path, raw, data, root / ".blue" / "cache")
        if wrong:
            raise ConfigError(f"{path}: {wrong}; fix the config file")
    storage = _section(data, "storage", path)
    backend = str(env.get("BLUE_INDEX_BACKEND") or storage.get("backend") or "sqlite")
    if backend not in ("sqlite", "dynamodb"):
        raise ConfigError(f"{path}: storage.backend '{backend}' unknown; use sqlite or dynamodb")
    sqlite = _section(storage, "sqlite", path)
    sqlite_path = Path(env.get("BLUE_INDEX_SQLITE_PATH") or sqlite.get("path")
                       or DEFAULT_SQLITE_PATH)
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
    roots, explicit = _roots(root, dialogues, data, path)
    enc = data.get("encryption")
    if enc is not None and not isinstance(enc, dict):
        raise ConfigError(f"{path}: 'encryption' must be a mapping")
    limits = _section(data, "limits", path)
    return Config(
        max_file_size=int(limits.get("max_file_size") or MAX_FILE_SIZE),
        sqlite_busy_timeout=float(sqlite.get("busy_timeout") or 30.0),
        root=root,
        dialogues=roots[0],
        dialogue_roots=roots,
        roots_explicit=explicit,
        backend=backend,
        sqlite_path=sqlite_path,
        dynamodb=ddb,
        encryption=enc or None,
        hook=_section(data, "hook", path),
        query=_section(data, "query", path),
        source=path if path.exists() else None,
    )
