"""The store factory: the single active backend named by the configuration, wrapped in the
encryption envelope when encryption is on. Backends and key sources are imported here,
lazily, so importing the store interfaces (``store/base.py``) costs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from .base import Store


def open_store(config: Config, create: bool = True) -> Store:
    """The configured backend (``create``: make the SQLite file when missing); errors are
    one line (StoreUnavailable, ConfigError), and nothing is left open after one."""
    store: Store
    if config.backend == "dynamodb":
        from .dynamodb import DynamoDBStore

        store = DynamoDBStore.from_config(config)
    else:
        from .sqlite import SQLiteStore

        if config.sqlite_path is None:  # config.load always sets it; a hand-made Config may not
            from ..config import ConfigError

            raise ConfigError("storage.sqlite.path is not set; set it in .blue/config.yaml")
        store = SQLiteStore(config.sqlite_path, create=create,
                            busy_timeout=config.sqlite_busy_timeout,
                            daemon_pid=lambda: _daemon_pid(config))
    if config.encryption:
        store = encrypted(store, config)
    return store


def encrypted(store: Store, config: Config) -> Store:
    """``store`` behind the configured key source (an error here closes ``store``)."""
    from ..keys import source_from_config
    from .envelope import EncryptedStore

    try:
        source = source_from_config(config)
    except BaseException:
        store.close()
        raise
    return EncryptedStore(store, source)


def _daemon_pid(config: Config) -> int | None:
    from ..daemon_state import daemon_status

    pid = (daemon_status(config) or {}).get("pid")
    return pid if isinstance(pid, int) else None
