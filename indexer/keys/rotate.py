"""``blue-index key rotate``: a new master key, every data key re-wrapped under it.

Key file: the new key is made at ``KEYFILE.new`` (reused if a previous rotation was
interrupted), every data key is re-wrapped (``store/envelope.rewrap``), and only then does
it replace ``KEYFILE`` (the old key deleted, or kept as ``KEYFILE.old``). An interrupted
rotation is finished by running it again: data keys already under the new key are counted,
not rewritten. KMS: data keys are re-wrapped under the new key id; the config must then
name it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError
from ..fsutil import atomic_write
from ..store.envelope import rewrap
from ..store.factory import open_store
from . import (
    FileKeySource,
    KeySource,
    KmsKeySource,
    create_key_file,
    default_key_path,
    source_from_config,
)

if TYPE_CHECKING:
    from ..config import Config


def rotate(config: Config, kms_key_id: str | None = None, keep_old: bool = False
           ) -> dict[str, Any]:
    """Re-wrap every dialogue's data key under a new master key; content is not touched.
    Returns what ``key rotate --json`` prints."""
    enc = config.encryption or {}
    if not config.encryption:
        raise ConfigError("encryption is not configured (no 'encryption' section in the "
                          "config); nothing to rotate")
    old = source_from_config(config)
    new_path: Path | None = None
    new: KeySource
    if (enc.get("key_source") or "file") == "file":
        if kms_key_id:
            raise ConfigError("--kms-key-id is for encryption.key_source kms; this store "
                              "uses a key file")
        new_path = Path(f"{default_key_path(config)}.new")
        if not new_path.exists():
            create_key_file(new_path, config.root)
        new = FileKeySource(new_path, config.root)
    else:
        if not kms_key_id:
            raise ConfigError("key rotate: give the new KMS key with --kms-key-id")
        new = KmsKeySource(kms_key_id, enc.get("region"), enc.get("endpoint_url"))
    store = open_store(dataclasses.replace(config, encryption=None), create=False)
    try:
        rewrapped, already = rewrap(store, old, new)
    finally:
        store.close()
    result: dict[str, Any] = {"rewrapped": rewrapped, "already": already,
                              "key_id": new.key_id, "old_key_id": old.key_id}
    if new_path is None:
        result["note"] = (f"now set encryption.kms_key_id: {kms_key_id} in "
                          f"{config.source or '.blue/config.yaml'}")
        return result
    path = default_key_path(config)
    if keep_old:
        old_copy = Path(f"{path}.old")
        atomic_write(old_copy, path.read_bytes(), mode=0o600, durable=True)
        result["note"] = f"old key kept at {old_copy}; delete it when no backup needs it"
    else:
        result["note"] = f"old key deleted; {path} now holds the new key"
    os.replace(new_path, path)  # the new key, complete since key init, takes the name
    result["key_file"] = str(path)
    return result
