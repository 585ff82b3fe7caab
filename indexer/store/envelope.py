"""The portable encryption envelope (RFC 0058 and its amendment), over any backend.

``EncryptedStore`` wraps a backend and implements the same Store protocols. On write, the
CONTENT fields of each item (``items.CONTENT[kind]``, the ones the item has) are serialised
as canonical JSON and sealed with AES-256-GCM into ``enc``; they are stored as None.
Identifiers, kinds, statuses, rounds and numbers stay in clear, so queries that read no
content work unchanged. On load the content comes back exactly as written, so callers
(sync diff, export) only ever see plaintext.

``enc`` = ``"v1:{data key version}:" + base64(nonce[12] || ciphertext || tag[16])``.
Associated data = ``sha256("dialogue:{id}/entity:{kind}/{sk}")``, the canonical entity
address (the same whatever the backend's physical keys), so a ciphertext altered, swapped
with another item's or moved to another dialogue fails loudly (IntegrityError naming the
entity), never decrypts to wrong text.

Each dialogue has its own random 32-byte data key, stored wrapped by the master key in
the partition's ``datakey`` item (see ``indexer/keys/``); the item is written before any
content sealed with it and never shown to callers. Unwrapped keys are cached per process.
A data key is created with ``put_if_absent`` (a conditional put): when two writers create
one for the same new dialogue, the loser gets the winner's key back and seals with it, so
a dialogue never holds content under two keys. A writer's cached key is refreshed by every
load, and a write computed against an older revision is refused (Conflict), so content is
never sealed under a key that a concurrent ``reindex --full`` replaced.

Search: the backend only sees ciphertext, so ``search`` decrypts the blocks of the
dialogue asked for (every dialogue when none is given: cost grows with the store) into an
in-memory SQLite FTS5 table built like the plain store's (porter tokenizer, every word
required, ``word*`` prefix, bm25 rank), so it matches and orders as plain search does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..items import CONTENT, Item, Items
from ..keys import KeyError_
from .base import Conflict, IntegrityError, Revision, StoreUnavailable

if TYPE_CHECKING:
    from ..keys import KeySource
    from .base import Store

FORMAT = "v1"
NONCE_BYTES = 12
DATAKEY_SK = "datakey"


def entity_address(dialogue_id: str, kind: str, sk: str) -> str:
    """The canonical, backend-independent address of an entity (hashed into the AAD)."""
    return f"dialogue:{dialogue_id}/entity:{kind}/{sk}"


def aad(dialogue_id: str, kind: str, sk: str) -> bytes:
    return hashlib.sha256(entity_address(dialogue_id, kind, sk).encode()).digest()


def canonical_json(value: Any) -> bytes:
    """Compact JSON that keeps key order: what is decrypted is the item as written (its
    ``json`` fields included, as the plain stores keep them), so views and exports from an
    encrypted store equal the plain store's byte for byte."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _where(dialogue_id: str, item: Item) -> str:
    return f"dialogue {dialogue_id}, {item.get('kind')} {item.get('sk')}"


def seal(cipher: AESGCM, version: int, dialogue_id: str, item: Item) -> Item:
    """A copy of ``item`` with its content fields sealed into ``enc`` (and set to None)."""
    kind = item["kind"]
    fields = [f for f in CONTENT.get(kind, ()) if f in item]
    if not fields:
        return item
    content = {f: item[f] for f in fields}
    if "enc" in item:  # the caller's item had an (empty) enc field: give it back as is
        content["enc"] = None
    nonce = os.urandom(NONCE_BYTES)
    ct = cipher.encrypt(nonce, canonical_json(content), aad(dialogue_id, kind, item["sk"]))
    out = dict(item)
    for f in fields:
        out[f] = None
    out["enc"] = f"{FORMAT}:{version}:{base64.b64encode(nonce + ct).decode()}"
    return out


def open_sealed(ciphers: dict[int, AESGCM], dialogue_id: str, item: Item) -> Item:
    """The plaintext item: ``enc`` verified, decrypted and spread back over the fields.
    ``ciphers``: the dialogue's data keys by version (two only during a re-key)."""
    where = _where(dialogue_id, item)
    try:
        fmt, ver, b64 = item["enc"].split(":", 2)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error, AttributeError):
        raise IntegrityError(f"{where}: sealed content is malformed; run "
                             "'blue-index reindex --full' to rebuild it") from None
    if fmt != FORMAT:
        raise IntegrityError(f"{where}: sealed with envelope format {fmt!r}, this blue-index "
                             f"reads {FORMAT}; upgrade blue-index or reindex --full")
    cipher = ciphers.get(int(ver)) if ver.isdigit() else None
    if cipher is None:
        raise IntegrityError(f"{where}: sealed under data key version {ver}, the dialogue's "
                             f"key is version {max(ciphers)}; run 'blue-index reindex --full'")
    try:
        plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                               aad(dialogue_id, item["kind"], item["sk"]))
    except (InvalidTag, ValueError):
        raise IntegrityError(f"{where}: sealed content fails its integrity check (altered, "
                             "swapped with another item or moved from another dialogue); "
                             "run 'blue-index reindex --full' to rebuild it") from None
    out = dict(item)
    del out["enc"]
    out.update(json.loads(plain))
    return out


class EncryptedStore:
    """Store protocols over ``inner``, sealing content with per-dialogue data keys."""

    def __init__(self, inner: Store, source: KeySource) -> None:
        self.inner = inner
        self.shared = bool(getattr(inner, "shared", False))
        self.source = source
        self._lock = threading.RLock()
        # dialogue id -> the stored datakey item, and (key_id, version, wrapped) -> cipher
        self._datakeys: dict[str, Item] = {}
        self._ciphers: dict[tuple[str, str, int, str], AESGCM] = {}
        self._checked = False

    # --- data keys ---------------------------------------------------------------------

    def _keyring(self, dialogue_id: str, dk: Item) -> dict[int, AESGCM]:
        """Every data key a datakey item holds, by version: the current one, and the
        previous one while a re-key (``reindex --full``) is under way."""
        ring = {}
        prev = dk.get("previous")
        if isinstance(prev, dict):
            cipher, version = self._cipher(dialogue_id, prev)
            ring[version] = cipher
        cipher, version = self._cipher(dialogue_id, dk)
        ring[version] = cipher
        return ring

    def _cipher(self, dialogue_id: str, dk: Item) -> tuple[AESGCM, int]:
        """The data key of a stored datakey item, unwrapped (once per process)."""
        version = int(dk.get("version") or 0)
        key_id = str(dk.get("key_id"))
        cache_key = (dialogue_id, key_id, version, str(dk.get("wrapped")))
        with self._lock:
            cipher = self._ciphers.get(cache_key)
        if cipher is not None:
            return cipher, version
        if key_id != self.source.key_id:
            raise _wrong_key(dialogue_id, key_id, self.source)
        key = self.source.unwrap(dialogue_id, version, str(dk.get("wrapped")))
        cipher = AESGCM(key)
        with self._lock:
            self._ciphers[cache_key] = cipher
        return cipher, version

    def _datakey(self, dialogue_id: str) -> Item | None:
        with self._lock:
            dk = self._datakeys.get(dialogue_id)
        if dk is None:
            dk = self.inner.load(dialogue_id).get(DATAKEY_SK)
            if dk is not None:
                with self._lock:
                    self._datakeys[dialogue_id] = dk
        return dk

    def _new_datakey(self, dialogue_id: str) -> Item:
        """Make, wrap and store a data key for a dialogue that has none (before any content
        sealed with it, so a crash never leaves content without its key)."""
        version = 1
        key, wrapped = self.source.new_data_key(dialogue_id, version)
        dk: Item = {"sk": DATAKEY_SK, "kind": "datakey", "key_id": self.source.key_id,
                    "version": version, "wrapped": wrapped, "algorithm": self.source.algorithm}
        # Another writer may win a race for the same new dialogue: then use its key.
        stored = self.inner.put_if_absent(dialogue_id, dk)
        with self._lock:
            self._datakeys[dialogue_id] = stored
            if stored.get("wrapped") == wrapped:
                self._ciphers[(dialogue_id, self.source.key_id, version, wrapped)] = AESGCM(key)
        return stored

    def _check_key_once(self, writing: str | None = None) -> None:
        """Before the first write: the configured key must be the one this store uses, so
        a wrong key fails before anything is written (not after the first new dialogue);
        then every dialogue still in plaintext is sealed (``_seal``), so that a sync
        limited to some dialogues never leaves the others' content in clear. ``writing``:
        the dialogue this write is for, left to it (its diff against a plaintext partition
        puts every content item again, sealed)."""
        if self._checked:
            return
        plain: list[str] = []
        checked = False
        for meta in self.inner.dialogues():
            did = str(meta.get("dialogue_id") or meta.get("id") or "")
            if not did:
                continue
            if meta.get("enc") is None:
                plain.append(did)
            elif not checked:
                dk = self._datakey(did)
                if dk is not None:
                    self._cipher(did, dk)
                    checked = True
        self._checked = True
        for did in sorted(set(plain) - {writing}):
            self._seal(did)

    def _seal(self, dialogue_id: str) -> int:
        """Seal, in place, a dialogue written before encryption was turned on: its stored
        items (not the files: the content is the same) under a new data key, as one revision.
        Nothing when it has a data key by now (another writer sealed it). Returns the items
        sealed."""
        return self._reseal(dialogue_id, plaintext=True)

    def _fresh_datakey(self, dialogue_id: str, version: int) -> tuple[Item, AESGCM]:
        """A new data key of ``version``: its datakey item and its cipher (remembered)."""
        key, wrapped = self.source.new_data_key(dialogue_id, version)
        dk: Item = {"sk": DATAKEY_SK, "kind": "datakey", "key_id": self.source.key_id,
                    "version": version, "wrapped": wrapped,
                    "algorithm": self.source.algorithm}
        cipher = AESGCM(key)
        with self._lock:
            self._ciphers[(dialogue_id, self.source.key_id, version, wrapped)] = cipher
        return dk, cipher

    # --- DialogueStore -----------------------------------------------------------------

    def load(self, dialogue_id: str) -> Items:
        return self._open_partition(dialogue_id, self.inner.load(dialogue_id))

    def load_for_update(self, dialogue_id: str) -> tuple[Items, Revision]:
        raw, rev = self.inner.load_for_update(dialogue_id)
        return self._open_partition(dialogue_id, raw), rev

    def revision(self, dialogue_id: str) -> Revision:
        return self.inner.revision(dialogue_id)

    def put_if_absent(self, dialogue_id: str, item: Item) -> Item:
        return self.inner.put_if_absent(dialogue_id, item)

    def _open_partition(self, dialogue_id: str, raw: Items) -> Items:
        """Decrypt a loaded partition (and remember its data key)."""
        dk = raw.pop(DATAKEY_SK, None)
        with self._lock:
            if dk is None:
                self._datakeys.pop(dialogue_id, None)
            else:
                self._datakeys[dialogue_id] = dk
        if dk is None:
            return _without_key(dialogue_id, raw)
        ring = self._keyring(dialogue_id, dk)
        out: Items = {}
        for sk, item in raw.items():
            if item.get("enc") is not None:
                out[sk] = open_sealed(ring, dialogue_id, item)
            elif any(f in item for f in CONTENT.get(item.get("kind", ""), ())):
                raise IntegrityError(f"{_where(dialogue_id, item)}: content is not sealed in "
                                     "an encrypted dialogue (ciphertext removed or written "
                                     "without the envelope); run 'blue-index reindex --full'")
            else:
                out[sk] = item
        return out

    def _plaintext_dialogues(self) -> set[str]:
        """Dialogues written before encryption was turned on (their meta item has no
        ``enc``). One analytics read; their files are reported unsynced so the next sync
        rewrites them sealed instead of trusting their plaintext items."""
        return {str(m.get("dialogue_id")) for m in self.inner.dialogues()
                if m.get("enc") is None}

    def file_hashes(self, dialogue_id: str) -> dict[str, str]:
        if dialogue_id in self._plaintext_dialogues():
            return {}
        return self.inner.file_hashes(dialogue_id)

    def write(self, dialogue_id: str, puts: list[Item], deletes: list[str],
              expect: Revision | None = None,
              provenance: dict[str, Any] | None = None) -> int:
        deletes = [sk for sk in deletes if sk != DATAKEY_SK]
        self._check_key_once(dialogue_id)
        if not puts:
            return self.inner.write(dialogue_id, [], deletes, expect, provenance)
        dk = self._datakey(dialogue_id) or self._new_datakey(dialogue_id)
        cipher, version = self._cipher(dialogue_id, dk)
        sealed = [seal(cipher, version, dialogue_id, it) for it in puts
                  if it.get("sk") != DATAKEY_SK]
        return self.inner.write(dialogue_id, sealed, deletes, expect, provenance)

    def rekey(self, dialogue_id: str, attempts: int = 5) -> int:
        """A fresh data key (next version) and every item sealed again under it: what
        ``reindex --full`` does, so content ends up under the current master key and new
        data keys. One revision (the new datakey item, which keeps the old key as
        ``previous``, is written first and alone, so an interrupted re-key still reads and
        can be rerun), then ``previous`` is dropped. Retried on Conflict. Returns the items
        re-sealed."""
        self._check_key_once()
        return self._reseal(dialogue_id, attempts)

    def _reseal(self, dialogue_id: str, attempts: int = 5, plaintext: bool = False) -> int:
        """``rekey``, or with ``plaintext`` ``_seal``: every item of the partition sealed
        under a fresh data key in one revision, retried on Conflict."""
        for attempt in range(attempts):
            if plaintext:
                items, rev = self.inner.load_for_update(dialogue_id)
                if DATAKEY_SK in items:
                    return 0
                _without_key(dialogue_id, items)  # sealed items without a key: loud error
                old = None
            else:
                items, rev = self.load_for_update(dialogue_id)
                old = self._datakey(dialogue_id)
            if not items:
                return 0
            version = int(old["version"]) + 1 if old else 1
            dk, cipher = self._fresh_datakey(dialogue_id, version)
            keep = ("key_id", "version", "wrapped", "algorithm")
            first = dict(dk, previous={k: old.get(k) for k in keep}) if old else dk
            sealed = [seal(cipher, version, dialogue_id, it) for it in items.values()]
            try:
                self.inner.write(dialogue_id, [first, *sealed], [], rev)
            except Conflict:
                if attempt == attempts - 1:
                    raise
                continue
            if old is not None:
                self.inner.write(dialogue_id, [dk], [])
            with self._lock:
                self._datakeys[dialogue_id] = dk
            return len(sealed)
        return 0

    def delete_dialogue(self, dialogue_id: str, expect: Revision | None = None,
                        provenance: dict[str, Any] | None = None) -> int:
        self._check_key_once(dialogue_id)
        with self._lock:
            self._datakeys.pop(dialogue_id, None)
        return self.inner.delete_dialogue(dialogue_id, expect, provenance)

    # --- AnalyticsStore ----------------------------------------------------------------

    def _open_many(self, items: list[Item]) -> list[Item]:
        """Decrypt analytics results (each carries ``dialogue_id``)."""
        out = []
        for item in items:
            did = str(item.get("dialogue_id"))
            if item.get("enc") is None:
                if any(item.get(f) is not None for f in CONTENT.get(item.get("kind", ""), ())):
                    continue  # plaintext left from before encryption: not shown
                out.append(item)
                continue
            dk = self._datakey(did)
            if dk is None:
                raise IntegrityError(f"{_where(did, item)}: sealed content but the dialogue "
                                     "has no data key; run 'blue-index reindex --full'")
            out.append(open_sealed(self._keyring(did, dk), did, item))
        return out

    def dialogues(self) -> list[Item]:
        return self._open_many(self.inner.dialogues())

    def open_tensions(self) -> list[Item]:
        return self._open_many(self.inner.open_tensions())

    def counts(self) -> dict[str, int]:
        return self.inner.counts()

    def all_file_hashes(self) -> dict[str, dict[str, str]]:
        plain = self._plaintext_dialogues()
        return {d: h for d, h in self.inner.all_file_hashes().items() if d not in plain}

    def markers(self, dialogues: Collection[str] | None = None) -> dict[str, str | None]:
        """The inner store's, without dialogues still in plaintext (as ``file_hashes``)."""
        plain = self._plaintext_dialogues()
        return {d: m for d, m in self.inner.markers(dialogues).items() if d not in plain}

    def clock(self, dialogue: str | None = None) -> int:
        return int(self.inner.clock(dialogue))

    def search(self, query: str, dialogue_id: str | None = None, kind: str | None = None,
               limit: int = 50) -> list[Item]:
        """Decrypt, then match in memory like the plain SQLite search (module docstring)."""
        from .memsearch import search_partitions

        if dialogue_id is not None:
            ids = [dialogue_id]
        else:
            ids = sorted({str(m.get("dialogue_id")) for m in self.inner.dialogues()}
                         | set(self.inner.all_file_hashes()))
        return search_partitions(self.load, ids, query, kind, limit)

    # --- the rest ----------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        out = dict(self.inner.describe())
        out["encryption"] = {"envelope": f"{FORMAT} AES-256-GCM",
                             "key_id": self.source.key_id, "wrapping": self.source.algorithm}
        return out

    def close(self) -> None:
        self.inner.close()


def _without_key(dialogue_id: str, raw: Items) -> Items:
    """A partition with no data key. Sealed items there cannot be opened (their key is
    gone): loud error. Plaintext items (written before encryption was turned on) are left
    out, so the next sync of the dialogue writes them again, sealed."""
    out: Items = {}
    for sk, item in raw.items():
        if item.get("enc") is not None:
            raise IntegrityError(f"{_where(dialogue_id, item)}: sealed content but the "
                                 "dialogue has no data key (deleted or never written); run "
                                 "'blue-index reindex --full'")
        if not any(f in item for f in CONTENT.get(item.get("kind", ""), ())):
            out[sk] = item
    return out


def _wrong_key(dialogue_id: str, key_id: str, source: KeySource) -> StoreUnavailable:
    hint = "point the encryption config at the key this store was written with"
    path = getattr(source, "path", None)
    if path is not None and os.path.exists(f"{path}.new"):
        hint = "a 'blue-index key rotate' was interrupted: run it again to finish"
    return KeyError_(f"dialogue {dialogue_id}: data key is wrapped by master key {key_id}, but "
                     f"the configured key is {source.key_id} ({hint}); nothing written")


def rewrap(store: Store, old: KeySource, new: KeySource) -> tuple[int, int]:
    """Re-wrap every data key of ``store`` (the backend itself, not an EncryptedStore) from
    master key ``old`` to ``new``; content is not touched. Every data key is checked before
    the first write, so a wrong key or an interrupted ``reindex --full`` changes nothing.
    Returns (data keys re-wrapped, data keys already under ``new``)."""
    ids = sorted({str(m["dialogue_id"]) for m in store.dialogues()}
                 | set(store.all_file_hashes()))
    todo: list[tuple[str, Item, bytes]] = []
    already = 0
    for did in ids:
        dk = store.load(did).get(DATAKEY_SK)
        if dk is None:
            continue
        if dk.get("previous"):
            raise StoreUnavailable(f"dialogue {did}: a 'reindex --full' was interrupted; "
                                   "run it again, then rotate; nothing written")
        if dk.get("key_id") == new.key_id:
            already += 1
            continue
        if dk.get("key_id") != old.key_id:
            raise _wrong_key(did, str(dk.get("key_id")), old)
        todo.append((did, dk, old.unwrap(did, int(dk["version"]), str(dk["wrapped"]))))
    for did, dk, data_key in todo:
        fresh = dict(dk, key_id=new.key_id, algorithm=new.algorithm,
                     wrapped=new.wrap(did, int(dk["version"]), data_key))
        store.write(did, [fresh], [])
    return len(todo), already
