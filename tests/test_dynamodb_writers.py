"""Many writers, one table: the conformance suite for concurrent writers, run against moto
AND dynalite (two independent DynamoDB implementations, real HTTP servers, the production
boto3 code path).

Writers are threads, each with its own tree, store, boto3 client and sync engine; the
store's documented test seam (``DynamoDBStore.hook``) pauses them at random between load
and commit, after they all loaded the same revision. Afterwards every partition equals a
fresh sync of one writer's tree (computed by parse + assemble of that tree, not by the
store), never a mixture; every dialogue decrypts; readers running meanwhile only ever saw
whole revisions.
"""

from __future__ import annotations

import threading
import time

import pytest

from indexer.store.base import StoreUnavailable
from indexer.store.envelope import EncryptedStore
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.writers import *  # noqa: F403 - the table_factory fixture
from tests.support.writers import DIALOGUES, Race, Writer, file_shas, write_tree


@pytest.fixture
def key_file(tmp_path):
    from indexer.keys import create_key_file

    return create_key_file(tmp_path / "keys" / "umk.key")


def _store(make, key_file, encrypted: bool, **kw):
    store = make(**kw)
    if not encrypted:
        return store
    from indexer.keys import FileKeySource

    return EncryptedStore(store, FileKeySource(key_file))


def _writers(tmp_path, make, key_file, encrypted: bool, n: int) -> list[Writer]:
    return [Writer(f"writer-{i}", write_tree(tmp_path / f"w{i}", i),
                   _store(make, key_file, encrypted, wait_s=30))
            for i in range(n)]


def _winner(store, writers: list[Writer], did: str) -> Writer:
    """The writer whose tree the partition equals (asserting there is one)."""
    got = store.load(did)
    matches = [w for w in writers if got == w.expected(did)]
    assert matches, (f"{did}: the partition matches no writer's tree (a mixture); it has "
                     f"files {sorted(s for s in got if s.startswith('file#'))}")
    return matches[0]


def _while_b_holds_its_first_load(b: Writer, a_run) -> None:
    """Start B's sync; once B has loaded its first dialogue, run ``a_run`` to its end, then
    let B go on: B's write now races a commit that its load did not see."""
    a_done, held = threading.Event(), []

    def pause_b(point: str, did: str) -> None:
        if point == "loaded" and not held:
            held.append(did)
            assert a_done.wait(60), "A never finished"

    b.dynamo.hook = pause_b
    t = threading.Thread(target=Race._sync, args=(b,))
    t.start()
    while not held and t.is_alive():
        t.join(0.01)
    try:
        a_run()
    finally:
        a_done.set()
        t.join(60)
    assert not t.is_alive() and b.error is None, b.error


def _check_converged(make, key_file, encrypted: bool, writers: list[Writer]) -> None:
    fresh = _store(make, key_file, encrypted)  # no caches: what another machine sees
    for did in DIALOGUES:
        winner = _winner(fresh, writers, did)
        assert fresh.file_hashes(did) == file_shas(winner.cfg, did)
        assert Syncer(winner.cfg, fresh, workers=0).run(check=True, dialogues=[did]).drift == []
    fresh.close()


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("n,seed", [(2, 1), (4, 2)], ids=["2-writers", "4-writers"])
def test_concurrent_writers_leave_one_writers_tree(tmp_path, table_factory, key_file,
                                                   encrypted, n, seed):
    writers = _writers(tmp_path, table_factory, key_file, encrypted, n)
    reader = _store(table_factory, key_file, encrypted, wait_s=30)
    candidates = {did: [w.expected(did) for w in writers] + [{}] for did in DIALOGUES}
    seen: list[tuple[str, bool]] = []
    errors: list[BaseException] = []

    def read() -> None:
        for did in DIALOGUES:
            try:
                seen.append((did, reader.load(did) in candidates[did]))
            except BaseException as e:  # noqa: BLE001 - asserted below
                errors.append(e)

    Race(writers, seed, readers=[read]).run()
    assert not errors, errors[:3]
    assert seen and all(ok for _, ok in seen), \
        f"a reader saw a partial partition: {[d for d, ok in seen if not ok]}"
    # every writer finished; all but the last to commit a dialogue had to retry
    assert sum(w.report.retries for w in writers) >= n - 1
    _check_converged(table_factory, key_file, encrypted, writers)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_load_then_other_writer_commits_then_write(tmp_path, table_factory, key_file,
                                                   encrypted):
    """The race of the issue: B loads, A syncs an edit, B writes. B's write is refused,
    B reloads, re-diffs and writes its whole tree: no mixture, and B's next run and
    --check agree with the store; A's --check sees B's content as drift."""
    a, b = _writers(tmp_path, table_factory, key_file, encrypted, 2)
    base = Syncer(a.cfg, a.store, workers=0)
    base.run()
    for w in (a, b):  # each machine edits a different file of both dialogues
        for did in DIALOGUES:
            f = w.cfg.dialogues / did / "round-0" / ("muffin.md" if w is a else "eclair.md")
            f.write_text(f.read_text(encoding="utf-8") + f"\nEdited by {w.name}.\n",
                         encoding="utf-8")
    def run_a() -> None:
        a.report = Syncer(a.cfg, a.store, workers=0).run()

    _while_b_holds_its_first_load(b, run_a)
    assert a.report.dialogues_written == 2 and b.report.retries >= 1
    fresh = _store(table_factory, key_file, encrypted)
    for did in DIALOGUES:
        assert fresh.load(did) == b.expected(did)
    assert Syncer(b.cfg, fresh, workers=0).run(check=True).drift == []
    assert Syncer(b.cfg, fresh, workers=0).run().items_written == 0
    assert Syncer(a.cfg, fresh, workers=0).run(check=True).drift  # A is behind now


def test_unfinished_write_of_a_dead_writer_is_taken_over(tmp_path, table_factory):
    """A writer stops between two batches for good (its lease runs out): readers are told
    the dialogue is incomplete instead of seeing half of it, and the next sync takes the
    write over and completes it."""
    (w,) = _writers(tmp_path, table_factory, None, False, 1)
    w.dynamo.lease_s = 2.0  # a short lease, so that the test need not wait two minutes

    class Died(Exception):
        pass

    def die(point: str, did: str) -> None:
        if point == "batch":
            raise Died

    w.dynamo.hook = die
    with pytest.raises(Died):
        Syncer(w.cfg, w.store, workers=0).run()
    died = time.monotonic()
    reader = table_factory(wait_s=0.1, clock_skew_s=0.0)
    with pytest.raises(StoreUnavailable, match="is being written by|did not finish"):
        reader.load(DIALOGUES[0])  # (which one depends on how slow this machine is)
    time.sleep(max(0.0, died + 2.1 - time.monotonic()))  # the lease runs out
    with pytest.raises(StoreUnavailable, match="did not finish"):
        reader.load(DIALOGUES[0])
    other = table_factory(wait_s=30, clock_skew_s=0.0)
    rep = Syncer(w.cfg, other, workers=0).run()
    assert DIALOGUES[0] in rep.dialogues
    for did in DIALOGUES:
        assert reader.load(did) == w.expected(did)


def test_full_reindex_rekey_races_a_writer(tmp_path, table_factory, key_file):
    """B loads (caching the data key), A runs `reindex --full` (every dialogue re-sealed
    under a new data key), then B writes: B's write is refused, B reloads the new key and
    seals with it. Every dialogue decrypts afterwards, under the new key only."""
    a = Writer("a", write_tree(tmp_path / "a", 0), _store(table_factory, key_file, True))
    b = Writer("b", write_tree(tmp_path / "b", 0), _store(table_factory, key_file, True))
    Syncer(a.cfg, a.store, workers=0).run()
    for did in DIALOGUES:
        f = b.cfg.dialogues / did / "round-0" / "eclair.md"
        f.write_text(f.read_text(encoding="utf-8") + "\nB's edit.\n", encoding="utf-8")
    _while_b_holds_its_first_load(
        b, lambda: Syncer(a.cfg, a.store, workers=0).run(full=True))
    assert b.report.retries >= 1
    fresh = _store(table_factory, key_file, True)
    for did in DIALOGUES:
        assert fresh.load(did) == b.expected(did)
        dk = fresh.inner.load(did)["datakey"]
        assert dk["version"] == 2 and "previous" not in dk


def test_first_full_reindex_encrypted(tmp_path, table_factory, key_file):
    """`reindex --full` into an empty table: each new dialogue is written, then re-keyed,
    in the same run (the re-key reloads what the write just committed)."""
    (w,) = [Writer("w", write_tree(tmp_path / "w", 1), _store(table_factory, key_file, True))]
    rep = Syncer(w.cfg, w.store, workers=0).run(full=True)
    assert sorted(rep.dialogues) == sorted(DIALOGUES) and rep.retries == 0
    fresh = _store(table_factory, key_file, True)
    for did in DIALOGUES:
        assert fresh.load(did) == w.expected(did)
        assert fresh.inner.load(did)["datakey"]["version"] == 2


def test_reader_never_sees_a_write_in_progress(tmp_path, table_factory):
    """A writer paused after its first batch of a multi-batch write: the partition holds
    part of the new revision. Readers wait for the commit (and then get all of it) or, if
    they may not wait that long, are told the dialogue is being written: never the part."""
    (w,) = _writers(tmp_path, table_factory, None, False, 1)
    Syncer(w.cfg, w.store, workers=0).run()
    did = DIALOGUES[0]
    before = w.expected(did)
    many = "".join(f"[PERSPECTIVE P{i:02d}: view number {i}]\nBody {i}.\n\n" for i in range(40))
    (w.cfg.dialogues / did / "round-0" / "strudel.md").write_text(many, encoding="utf-8")
    after = w.expected(did)
    assert len(after) - len(before) > 25  # more than one batch of new items
    reached, release = threading.Event(), threading.Event()

    def pause(point: str, d: str) -> None:
        if point == "batch" and not reached.is_set():
            reached.set()
            assert release.wait(60)

    w.dynamo.hook = pause
    writer = threading.Thread(target=Race._sync, args=(w,))
    writer.start()
    assert reached.wait(60)
    impatient = table_factory(wait_s=0.2)
    with pytest.raises(StoreUnavailable, match="is being written by"):
        impatient.load(did)
    got: list = []
    patient = table_factory(wait_s=60)
    reader = threading.Thread(target=lambda: got.append(patient.load(did)))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive() and not got  # waiting, not returning the half-written state
    release.set()
    writer.join(60)
    reader.join(60)
    assert w.error is None and got == [after]
