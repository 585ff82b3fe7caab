"""Master-key sources for the encryption envelope: a local key file or AWS KMS.

A source never sees content. It only makes, wraps and unwraps the per-dialogue data keys
(``new_data_key`` / ``wrap`` / ``unwrap``); the envelope (``indexer/store/envelope.py``)
seals items with those data keys. Both sources bind a wrapped data key to its dialogue and
data-key version, so a data key copied into another dialogue fails to unwrap.

Key file: one line, the standard base64 of 32 random bytes (raw 32-byte files are accepted
too), mode 0600, default ``~/.blue/keys/umk.key``. The key-encryption key of a dialogue is
``HKDF-SHA256(master, salt=None, info="blue-index/v1/kek|dialogue:{id}|version:{n}")`` and
wraps the data key with AES-256-GCM (``base64(nonce || ciphertext || tag)``).

KMS: ``GenerateDataKey`` / ``Encrypt`` / ``Decrypt`` with the encryption context
``{"app": "blue-index", "dialogue": id, "version": n}`` playing the part of the HKDF info.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import KeyPlacementError, KeyUnusable
from ..fsutil import atomic_write
from ..store.base import IntegrityError

if TYPE_CHECKING:
    from ..config import Config

KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_KEY_FILE = Path("~/.blue/keys/umk.key")
KEY_FILE_ENV = "BLUE_INDEX_KEY_FILE"


# The master key cannot be used (exit 3); creating a key file where it may not go: exit 2.
KeyError_ = KeyUnusable


def datakey_address(dialogue_id: str) -> str:
    """Canonical address of a dialogue's data-key item (same form as every entity's)."""
    return f"dialogue:{dialogue_id}/entity:datakey/datakey"


class KeySource(Protocol):
    """Where the master key lives. ``key_id`` is stored with every wrapped data key."""

    key_id: str
    algorithm: str

    def new_data_key(self, dialogue_id: str, version: int) -> tuple[bytes, str]:
        """A fresh random data key and its wrapped (storable) form."""

    def wrap(self, dialogue_id: str, version: int, data_key: bytes) -> str:
        """Wrap an existing data key (rotation re-wraps under a new master key)."""

    def unwrap(self, dialogue_id: str, version: int, wrapped: str) -> bytes:
        """The data key; IntegrityError if the wrapped form was altered or moved."""


# --------------------------------------------------------------------------- key file


def default_key_path(config: Config | None = None) -> Path:
    """``--path`` aside: env ``BLUE_INDEX_KEY_FILE``, config ``encryption.key_file``, default."""
    raw: str | None = os.environ.get(KEY_FILE_ENV)
    if not raw and config is not None and config.encryption:
        raw = config.encryption.get("key_file")
    path = Path(raw).expanduser() if raw else DEFAULT_KEY_FILE.expanduser()
    if not path.is_absolute() and config is not None:
        path = config.root / path
    return path.absolute()


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=False)
    except OSError:
        return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def check_not_in_repo(path: Path, root: Path | None, creating: bool) -> None:
    """A master key must never be committed: refuse one that git tracks, and refuse to
    create one inside the repository unless git ignores that path."""
    if root is None or not _inside(path, root):
        return
    tracked = _git(root, "ls-files", "--error-unmatch", "--", str(path.resolve()))
    if tracked is not None and tracked.returncode == 0:
        error = KeyPlacementError if creating else KeyUnusable
        raise error(f"{path}: key file is tracked by git in {root}; move it out of the "
                    "repository (git rm --cached it) and rotate the key")
    if creating:
        ignored = _git(root, "check-ignore", "-q", "--", str(path.resolve()))
        if ignored is None or ignored.returncode != 0:
            raise KeyPlacementError(
                f"{path}: refusing to create a key inside the repository {root} where git "
                f"does not ignore it; use a path outside it (default {DEFAULT_KEY_FILE}) or "
                "git-ignore it first")


def create_key_file(path: Path, root: Path | None = None) -> Path:
    """Write a new random master key (base64 line, mode 0600). Never overwrites."""
    path = path.expanduser().absolute()
    check_not_in_repo(path, root, creating=True)
    if path.exists():
        raise KeyPlacementError(f"{path}: a key file already exists; nothing written (use it, "
                                "or 'blue-index key rotate' to replace it)")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = base64.b64encode(os.urandom(KEY_BYTES)) + b"\n"
    try:  # whole or not at all, mode 0600 from the start, never over another key
        atomic_write(path, key, mode=0o600, exclusive=True, durable=True)
    except FileExistsError:  # created meanwhile by another process
        raise KeyPlacementError(f"{path}: a key file already exists; nothing written"
                                ) from None
    except OSError as e:
        raise KeyPlacementError(f"{path}: cannot create key file ({e.strerror}); check the "
                                "folder") from None
    return path


def read_key_file(path: Path, root: Path | None = None) -> bytes:
    """The 32-byte master key, after checking the file is private and not in git."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyError_(f"{path}: encryption key file not found; run 'blue-index key init' "
                        "or set encryption.key_file to the existing key") from None
    except OSError as e:
        raise KeyError_(f"{path}: cannot read key file ({e.strerror}); check the path"
                        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyError_(f"{path}: cannot read key file (not a regular file); point "
                        "encryption.key_file at the key")
    if st.st_mode & 0o077:
        raise KeyError_(f"{path}: key file is accessible to group or others (mode "
                        f"{stat.S_IMODE(st.st_mode):04o}); run 'chmod 600 {path}'")
    check_not_in_repo(path, root, creating=False)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyError_(f"{path}: cannot read key file ({e.strerror}); check its owner "
                        "and mode") from None
    if len(data) == KEY_BYTES:
        return data
    try:
        key = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyError_(f"{path}: not a blue-index key (expected base64 of 32 bytes); "
                        "restore the right file or create one with 'blue-index key init'")
    return key


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=info.encode()).derive(master)


class FileKeySource:
    """Master key in a local file; KEK per dialogue and data-key version via HKDF."""

    algorithm = "AES-256-GCM/HKDF-SHA256"

    def __init__(self, path: Path, root: Path | None = None,
                 master: bytes | None = None) -> None:
        self.path = path
        self._master = master if master is not None else read_key_file(path, root)
        # A fingerprint, not the key: tells "wrong key" apart from "tampered".
        self.key_id = "file:" + _hkdf(self._master, "blue-index/v1/key-id").hex()[:16]

    def _kek(self, dialogue_id: str, version: int) -> AESGCM:
        return AESGCM(_hkdf(self._master,
                            f"blue-index/v1/kek|dialogue:{dialogue_id}|version:{version}"))

    def new_data_key(self, dialogue_id: str, version: int) -> tuple[bytes, str]:
        key = os.urandom(KEY_BYTES)
        return key, self.wrap(dialogue_id, version, key)

    def wrap(self, dialogue_id: str, version: int, data_key: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        aad = hashlib.sha256(datakey_address(dialogue_id).encode()).digest()
        sealed = self._kek(dialogue_id, version).encrypt(nonce, data_key, aad)
        return base64.b64encode(nonce + sealed).decode()

    def unwrap(self, dialogue_id: str, version: int, wrapped: str) -> bytes:
        try:
            raw = base64.b64decode(wrapped, validate=True)
            aad = hashlib.sha256(datakey_address(dialogue_id).encode()).digest()
            key = self._kek(dialogue_id, version).decrypt(raw[:NONCE_BYTES],
                                                          raw[NONCE_BYTES:], aad)
        except (InvalidTag, binascii.Error, ValueError):
            raise IntegrityError(f"dialogue {dialogue_id}, datakey datakey: the wrapped data "
                                 "key fails its integrity check (altered or moved from "
                                 "another dialogue); run 'blue-index reindex --full'") from None
        return key


# --------------------------------------------------------------------------- KMS


class KmsKeySource:
    """Master key in AWS KMS (boto3 imported lazily); data keys from GenerateDataKey."""

    algorithm = "AES-256-GCM/KMS"

    def __init__(self, kms_key_id: str, region: str | None = None,
                 endpoint_url: str | None = None) -> None:
        import boto3
        import botocore.config

        self._errors = _boto_errors()
        # bounded like the DynamoDB client: a KMS endpoint that never answers fails in ~20 s
        cfg = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3},
                                     connect_timeout=3, read_timeout=6)
        self._client: Any = boto3.client(
            "kms", region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            endpoint_url=endpoint_url, config=cfg)
        # Canonical ARN, so an alias and the ARN of the same key count as one key.
        arn = self._call("describe_key", kms_key_id, KeyId=kms_key_id)["KeyMetadata"]["Arn"]
        self.kms_key_id = arn
        self.key_id = "kms:" + arn

    def _call(self, op: str, what: str, **kw: Any) -> dict[str, Any]:
        """One KMS operation (``op`` is the boto3 method name); errors become one line."""
        fn = getattr(self._client, op)
        try:
            result: dict[str, Any] = fn(**kw)
            return result
        except self._errors as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            if code == "InvalidCiphertextException":
                raise IntegrityError(f"{what}: KMS refused to decrypt the wrapped data key "
                                     "(altered, moved from another dialogue, or wrapped "
                                     "by another key)") from None
            raise KeyError_(f"KMS {op} failed for {what}: {code or type(e).__name__} "
                            f"({e}); check encryption.kms_key_id, region and "
                            "credentials") from None

    @staticmethod
    def _context(dialogue_id: str, version: int) -> dict[str, str]:
        return {"app": "blue-index", "dialogue": dialogue_id, "version": str(version)}

    def new_data_key(self, dialogue_id: str, version: int) -> tuple[bytes, str]:
        r = self._call("generate_data_key", f"dialogue {dialogue_id}", KeyId=self.kms_key_id,
                       KeySpec="AES_256", EncryptionContext=self._context(dialogue_id, version))
        return r["Plaintext"], base64.b64encode(r["CiphertextBlob"]).decode()

    def wrap(self, dialogue_id: str, version: int, data_key: bytes) -> str:
        r = self._call("encrypt", f"dialogue {dialogue_id}", KeyId=self.kms_key_id,
                       Plaintext=data_key, EncryptionContext=self._context(dialogue_id, version))
        return base64.b64encode(r["CiphertextBlob"]).decode()

    def unwrap(self, dialogue_id: str, version: int, wrapped: str) -> bytes:
        what = f"dialogue {dialogue_id}, datakey datakey"
        try:
            blob = base64.b64decode(wrapped, validate=True)
        except (binascii.Error, ValueError):
            raise IntegrityError(f"{what}: the wrapped data key is not valid base64"
                                 ) from None
        r = self._call("decrypt", what, CiphertextBlob=blob, KeyId=self.kms_key_id,
                       EncryptionContext=self._context(dialogue_id, version))
        if len(r["Plaintext"]) != KEY_BYTES:
            raise IntegrityError(f"{what}: KMS returned a data key of the wrong size")
        return bytes(r["Plaintext"])


def _boto_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


# --------------------------------------------------------------------------- factory


def source_from_config(config: Config, key_file: Path | None = None) -> KeySource:
    """The key source named by ``encryption.key_source`` (``file``, the default, or ``kms``)."""
    enc = config.encryption or {}
    kind = str(enc.get("key_source") or "file")
    if kind == "file":
        path = key_file or default_key_path(config)
        return FileKeySource(path, config.root)
    if kind == "kms":
        key_id = enc.get("kms_key_id")
        if not key_id:
            from ..config import ConfigError

            raise ConfigError(f"{config.source or 'config'}: encryption.key_source is kms "
                              "but encryption.kms_key_id is not set")
        return KmsKeySource(str(key_id), enc.get("region"), enc.get("endpoint_url"))
    from ..config import ConfigError

    raise ConfigError(f"{config.source or 'config'}: encryption.key_source '{kind}' unknown; "
                      "use file or kms")
