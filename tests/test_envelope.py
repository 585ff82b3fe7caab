"""The envelope itself, over a tiny dict-backed store written here (the thing under test is
the envelope; the real backends are exercised in test_encrypted_store.py).

Expected plaintext is what the test wrote; the format is checked by an independent
decryption written here from the documented layout (HKDF info, AAD, byte layout).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.keys import FileKeySource, KeyError_
from indexer.store.base import Conflict, IntegrityError, Revision, StoreUnavailable
from indexer.store.envelope import EncryptedStore


class DictStore:
    """Items kept as JSON text (as a backend serialises them); analytics add dialogue_id."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[str, str]] = {}
        self.revs: dict[str, int] = {}
        self.writes = 0

    def load(self, did):
        return {sk: json.loads(v) for sk, v in self.parts.get(did, {}).items()}

    def file_hashes(self, did):
        return {it["path"]: it["sha256"] for it in self.load(did).values()
                if it["kind"] == "file"}

    def load_for_update(self, did):
        return self.load(did), Revision(self.revs.get(did, 0))

    def revision(self, did):
        return Revision(self.revs.get(did, 0))

    def write(self, did, puts, deletes, expect=None, provenance=None):
        if expect is not None and expect.number != self.revs.get(did, 0):
            raise Conflict(f"{did} changed")
        self.writes += 1
        self.revs[did] = self.revs.get(did, 0) + 1
        part = self.parts.setdefault(did, {})
        for sk in deletes:
            part.pop(sk, None)
        for it in puts:
            part[it["sk"]] = json.dumps(it)
        return len(puts) + len(deletes)

    def put_if_absent(self, did, item):
        part = self.parts.setdefault(did, {})
        part.setdefault(item["sk"], json.dumps(item))
        return json.loads(part[item["sk"]])

    def delete_dialogue(self, did, expect=None, provenance=None):
        self.revs[did] = self.revs.get(did, 0) + 1
        return len(self.parts.pop(did, {}))

    def _all(self, pred):
        return [dict(it, dialogue_id=did) for did in sorted(self.parts)
                for sk, it in sorted(self.load(did).items()) if pred(it)]

    def dialogues(self):
        return self._all(lambda it: it["sk"] == "meta")

    def open_tensions(self):
        return self._all(lambda it: it["kind"] == "tension" and it.get("status") != "resolved")

    def search(self, query, dialogue_id=None, kind=None, limit=50):
        raise AssertionError("the envelope must not delegate search to the backend")

    def counts(self):
        return {"items": sum(len(p) for p in self.parts.values())}

    def all_file_hashes(self):
        return {did: self.file_hashes(did) for did in self.parts}

    def describe(self):
        return {"backend": "dict"}

    def close(self):
        pass


SECRET_LABEL = "Rollback windows need owners"
SECRET_BODY = "Every deploy keeps a documented manual escape hatch for the on-call team."


def items_of(did: str) -> dict[str, dict]:
    its = [
        {"sk": "meta", "kind": "dialogue", "id": did, "title": f"Title of {did}",
         "question": "Should we ship on Fridays?", "domain": "ops", "status": "converged",
         "rounds": 2, "experts": 3, "tensions": 1, "open_tensions": 1, "blocks": 2,
         "decision": "yes"},
        {"sk": "block#00#muffin#perspective#P01", "kind": "block",
         "key": "00#muffin#perspective#P01", "round": 0, "expert": "muffin",
         "block_kind": "perspective", "id": "P01", "label": SECRET_LABEL, "body": SECRET_BODY,
         "targets": [], "mentions": [{"raw": "T01", "id": "T01"}], "line": 7},
        {"sk": "block#01#scone#tension#T01", "kind": "block", "key": "01#scone#tension#T01",
         "round": 1, "expert": "scone", "block_kind": "tension", "id": "T01",
         "label": "Ünïcödé — 東京 🧁 \"quoted\"", "body": None},
        {"sk": "tension#00#scone#T01", "kind": "tension", "key": "00#scone#T01", "id": "T01",
         "expert": "scone", "round": 0, "label": "Friday freeze vs flow", "status": "open"},
        {"sk": "event#00#scone#T01#01#0001", "kind": "event", "tension": "00#scone#T01",
         "round": 1, "actor": "muffin", "event": "raised", "line": 3},
        {"sk": "file#round-0/muffin.md", "kind": "file", "path": "round-0/muffin.md",
         "role": "response", "round": 0, "expert": "muffin", "sha256": "ab" * 32,
         "size": 120, "data": {"pool": ["muffin", "scone"]}},
    ]
    return {it["sk"]: it for it in its}


@pytest.fixture
def master() -> bytes:
    return os.urandom(32)


@pytest.fixture
def inner() -> DictStore:
    return DictStore()


def enc_store(inner: DictStore, master: bytes) -> EncryptedStore:
    return EncryptedStore(inner, FileKeySource(path=None, master=master))  # type: ignore[arg-type]


def fill(inner: DictStore, master: bytes, *dids: str) -> EncryptedStore:
    s = enc_store(inner, master)
    for did in dids:
        s.write(did, list(items_of(did).values()), [])
    return s


def test_round_trip_and_nothing_in_clear(inner, master):
    s = fill(inner, master, "d1", "d2")
    assert s.load("d1") == items_of("d1")
    assert s.load("d2") == items_of("d2")
    raw = json.dumps(inner.parts, ensure_ascii=False)
    for text in (SECRET_LABEL, SECRET_BODY, "Friday freeze", "Ship on Fridays", "東京",
                 "Title of d1", "pool"):
        assert text.lower() not in raw.lower()
    stored = inner.load("d1")
    assert stored["block#00#muffin#perspective#P01"]["label"] is None
    assert stored["block#00#muffin#perspective#P01"]["enc"].startswith("v1:1:")
    # Structure stays in clear: queries that read no content still work on the backend.
    assert stored["tension#00#scone#T01"]["status"] == "open"
    assert stored["event#00#scone#T01#01#0001"] == items_of("d1")["event#00#scone#T01#01#0001"]


def test_a_fresh_process_reads_what_another_wrote(inner, master):
    fill(inner, master, "d1")
    assert enc_store(inner, master).load("d1") == items_of("d1")


def test_second_write_of_the_same_items_is_a_no_op_for_the_diff(inner, master):
    from indexer.items import diff

    s = fill(inner, master, "d1")
    puts, deletes = diff(s.load("d1"), items_of("d1"))
    assert (puts, deletes) == ([], [])


def test_same_item_sealed_twice_differs_but_opens_the_same(inner, master):
    s = fill(inner, master, "d1")
    sk = "block#00#muffin#perspective#P01"
    first = inner.load("d1")[sk]["enc"]
    s.write("d1", [items_of("d1")[sk]], [])
    second = inner.load("d1")[sk]["enc"]
    assert first != second
    nonce = lambda e: base64.b64decode(e.split(":", 2)[2])[:12]  # noqa: E731
    assert nonce(first) != nonce(second)
    assert enc_store(inner, master).load("d1")[sk] == items_of("d1")[sk]


def test_format_matches_the_documented_layout(inner, master):
    """Decrypt one item by hand: HKDF info, wrapped key layout, AAD, nonce||ct||tag."""
    fill(inner, master, "d1")
    stored = inner.load("d1")
    dk = stored["datakey"]
    assert dk["version"] == 1 and dk["key_id"].startswith("file:")
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"blue-index/v1/kek|dialogue:d1|version:1").derive(master)
    wrapped = base64.b64decode(dk["wrapped"])
    data_key = AESGCM(kek).decrypt(
        wrapped[:12], wrapped[12:],
        hashlib.sha256(b"dialogue:d1/entity:datakey/datakey").digest())
    assert len(data_key) == 32
    sk = "block#00#muffin#perspective#P01"
    fmt, version, b64 = stored[sk]["enc"].split(":", 2)
    assert (fmt, version) == ("v1", "1")
    raw = base64.b64decode(b64)
    aad = hashlib.sha256(f"dialogue:d1/entity:block/{sk}".encode()).digest()
    plain = AESGCM(data_key).decrypt(raw[:12], raw[12:], aad)
    original = items_of("d1")[sk]
    assert json.loads(plain) == {f: original[f] for f in ("label", "body", "targets",
                                                          "mentions")}
    assert len(raw) == 12 + len(plain) + 16


def _where(did: str, sk: str, kind: str) -> str:
    return f"dialogue {did}, {kind} {sk}"


def test_flipped_byte_fails_naming_the_entity(inner, master):
    fill(inner, master, "d1")
    sk = "block#00#muffin#perspective#P01"
    item = inner.load("d1")[sk]
    fmt, ver, b64 = item["enc"].split(":", 2)
    raw = bytearray(base64.b64decode(b64))
    raw[20] ^= 0x01
    item["enc"] = f"{fmt}:{ver}:{base64.b64encode(bytes(raw)).decode()}"
    inner.write("d1", [item], [])
    with pytest.raises(IntegrityError, match=_where("d1", sk, "block")):
        enc_store(inner, master).load("d1")


def test_swapped_ciphertexts_fail(inner, master):
    fill(inner, master, "d1")
    a, b = "block#00#muffin#perspective#P01", "block#01#scone#tension#T01"
    stored = inner.load("d1")
    stored[a]["enc"], stored[b]["enc"] = stored[b]["enc"], stored[a]["enc"]
    inner.write("d1", [stored[a], stored[b]], [])
    with pytest.raises(IntegrityError, match=r"dialogue d1, block block#0"):
        enc_store(inner, master).load("d1")


def test_item_moved_to_another_dialogue_fails(inner, master):
    fill(inner, master, "d1", "d2")
    sk = "tension#00#scone#T01"
    moved = inner.load("d1")[sk]
    inner.write("d2", [moved], [])
    s = enc_store(inner, master)
    assert s.load("d1") == items_of("d1")
    with pytest.raises(IntegrityError, match=_where("d2", sk, "tension")):
        s.load("d2")


def test_whole_partition_with_its_data_key_moved_fails(inner, master):
    fill(inner, master, "d1")
    inner.parts["d3"] = copy.deepcopy(inner.parts["d1"])
    with pytest.raises(IntegrityError, match="dialogue d3, datakey datakey"):
        enc_store(inner, master).load("d3")


def test_stripped_ciphertext_fails(inner, master):
    fill(inner, master, "d1")
    sk = "meta"
    item = inner.load("d1")[sk]
    item["enc"] = None
    inner.write("d1", [item], [])
    with pytest.raises(IntegrityError, match=_where("d1", sk, "dialogue")):
        enc_store(inner, master).load("d1")


def test_deleted_data_key_fails_loudly(inner, master):
    fill(inner, master, "d1")
    inner.write("d1", [], ["datakey"])
    with pytest.raises(IntegrityError, match="no data key"):
        enc_store(inner, master).load("d1")


def test_wrong_key_reads_nothing_and_writes_nothing(inner, master):
    fill(inner, master, "d1")
    before = copy.deepcopy(inner.parts)
    wrong = enc_store(inner, os.urandom(32))
    with pytest.raises(KeyError_, match="wrapped by master key file:") as e:
        wrong.load("d1")
    assert isinstance(e.value, StoreUnavailable) and "\n" not in str(e.value)
    # A write of a NEW dialogue must fail too, before anything is written.
    with pytest.raises(StoreUnavailable):
        wrong.write("d9", list(items_of("d9").values()), [])
    assert inner.parts == before


def test_data_key_is_hidden_and_kept_across_diffs(inner, master):
    s = fill(inner, master, "d1")
    assert "datakey" not in s.load("d1")
    # The sync engine deletes what is not in the new set: never the data key.
    s.write("d1", [], ["datakey", "event#00#scone#T01#01#0001"])
    assert "datakey" in inner.load("d1")
    assert enc_store(inner, master).load("d1") == {
        k: v for k, v in items_of("d1").items() if k != "event#00#scone#T01#01#0001"}


def test_data_key_unwrapped_once_per_process(inner, master):
    calls = []
    src = FileKeySource(path=None, master=master)  # type: ignore[arg-type]
    orig = src.unwrap
    src.unwrap = lambda *a: calls.append(a) or orig(*a)  # type: ignore[method-assign]
    s = EncryptedStore(inner, src)
    for did in ("d1", "d2"):
        s.write(did, list(items_of(did).values()), [])
    for _ in range(3):
        s.load("d1")
        s.load("d2")
    assert calls == []  # keys made here are cached as made
    enc2 = EncryptedStore(inner, src)
    for _ in range(3):
        enc2.load("d1")
        enc2.load("d2")
    assert [c[0] for c in calls] == ["d1", "d2"]


def test_delete_dialogue_then_rewrite_makes_a_new_data_key(inner, master):
    s = fill(inner, master, "d1")
    old = inner.load("d1")["datakey"]["wrapped"]
    s.delete_dialogue("d1")
    assert inner.load("d1") == {}
    s.write("d1", list(items_of("d1").values()), [])
    assert inner.load("d1")["datakey"]["wrapped"] != old
    assert enc_store(inner, master).load("d1") == items_of("d1")


def test_plaintext_items_from_before_encryption_are_rewritten(inner, master):
    """Turning encryption on over a plain store: plain items are not shown, so the diff
    puts them again, sealed."""
    from indexer.items import diff

    inner.write("d1", list(items_of("d1").values()), [])
    s = enc_store(inner, master)
    loaded = s.load("d1")
    assert set(loaded) == {"event#00#scone#T01#01#0001"}
    puts, deletes = diff(loaded, items_of("d1"))
    s.write("d1", puts, deletes)
    assert SECRET_LABEL not in json.dumps(inner.parts)
    assert enc_store(inner, master).load("d1") == items_of("d1")


def test_analytics_decrypt(inner, master):
    s = fill(inner, master, "d1", "d2")
    metas = s.dialogues()
    assert [m["title"] for m in metas] == ["Title of d1", "Title of d2"]
    assert [m["dialogue_id"] for m in metas] == ["d1", "d2"]
    assert [t["label"] for t in s.open_tensions()] == ["Friday freeze vs flow"] * 2
    assert s.all_file_hashes() == {"d1": {"round-0/muffin.md": "ab" * 32},
                                   "d2": {"round-0/muffin.md": "ab" * 32}}
    assert s.describe()["encryption"]["key_id"].startswith("file:")


def test_search_matches_decrypted_text(inner, master):
    s = fill(inner, master, "d1", "d2")
    hits = s.search("escape hatch")
    assert [(h["dialogue_id"], h["sk"]) for h in hits] == [
        ("d1", "block#00#muffin#perspective#P01"), ("d2", "block#00#muffin#perspective#P01")]
    assert hits[0]["body"] == SECRET_BODY
    assert [h["dialogue_id"] for h in s.search("hatch", dialogue_id="d2")] == ["d2"]
    assert s.search("escape", kind="tension") == []
    assert [h["sk"] for h in s.search("東京", dialogue_id="d1")] == [
        "block#01#scone#tension#T01"]
    assert s.search("owner*", limit=1)[0]["label"] == SECRET_LABEL
    assert s.search("nothing-like-this") == []


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53), st.text())
json_value = st.recursive(json_leaf, lambda c: st.one_of(
    st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)),
    max_leaves=12)


@settings(max_examples=60, deadline=None)
@given(label=st.one_of(st.none(), st.text()), body=st.one_of(st.none(), st.text()),
       targets=json_value, did=st.text(min_size=1, max_size=20),
       sk_tail=st.text(min_size=1, max_size=20))
def test_round_trip_property(label, body, targets, did, sk_tail):
    inner = DictStore()
    master = b"k" * 32
    item = {"sk": "block#" + sk_tail, "kind": "block", "label": label, "body": body,
            "targets": targets, "round": 3, "enc": None}
    enc_store(inner, master).write(did, [item], [])
    assert enc_store(inner, master).load(did) == {item["sk"]: item}
