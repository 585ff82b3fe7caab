"""The one sync engine: dialogue files on disk -> the active store (watch, reindex, hook).

Per run: scan the dialogues root (a stat per file), decide per file whether it changed
(size+mtime against the machine-local hash cache, then sha256 against the store's file
items), and for each dialogue with a changed, new or deleted file: load its partition,
re-parse only the changed files (the others are rebuilt from the stored items), re-assemble
the dialogue in memory, diff against the loaded items and write only the puts/deletes.

The store's file items are the record of what is synced: a file is skipped only when its
sha256 equals the stored one, so a run killed at any point is finished by the next run.
A file whose content has errors is indexed from its clean version at git HEAD, else from
what parses (FORMAT.md 5: the store depends on the files and HEAD alone); other files are
never affected by it. Entries that cannot be read are diagnostics (fsread).

Many writers: each dialogue is written as one revision against the revision it was loaded
at (``store.write(expect=...)``); when another writer committed first the write is refused
(Conflict) and this engine re-detects, reloads, re-diffs and retries, ``CONFLICT_RETRIES``
times at most. On a shared store (DynamoDB) the provenance rules of ``provenance.py`` decide
whether this checkout may overwrite or delete a dialogue (``force`` lifts them), and an item
the store cannot hold is reported against its file while the rest of the tree syncs.

Big runs (``PARALLEL_MIN`` files to parse, e.g. a first or ``--full`` reindex) parse and
assemble dialogues in forked worker processes while this process hashes, diffs and writes;
never from a threaded process (the watch daemon), where forking is unsafe.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import fsread, layout
from ..fsutil import FileLock, atomic_write
from ..grammar import fingerprint
from ..hashcache import RACY_NS, HashCache, sha256_bytes
from ..headrev import Head, head_of
from ..items import Item, Items, diff
from ..localstate import make_dir
from ..store.base import Conflict as WriteConflict
from ..store.base import ItemRejected, Revision, files_marker
from .build import build_items, in_dialogue
from .disk import Disk, scan_roots
from .summary import Summary, stat_print

if TYPE_CHECKING:
    from ..config import Config
    from ..provenance import Checkout
    from ..store.base import Store

Progress = Callable[[int, int, str], None]
# Worker processes for parsing (0 = parse in this process); used when a run has at least
# PARALLEL_MIN files to parse.
WORKERS_ENV = "BLUE_INDEX_WORKERS"
PARALLEL_MIN = 256
CONFLICT_RETRIES = 6  # reload + re-diff + retry when another writer committed first
# Dialogues to compare whose stored hashes are listed one by one; more: one whole listing.
LIST_EACH_MAX = 8


@dataclass(slots=True)
class SyncReport:
    """What one run saw and did. ``diagnostics`` counts the diagnostics of the dialogues
    (re)assembled in this run, by severity; ``drift`` lists differences (``check=True``).
    Shared stores: ``refused`` (one line per dialogue this checkout may not overwrite),
    ``kept`` (dialogues absent here that this checkout's history does not show deleted),
    ``rejected`` (files whose items the store cannot hold), ``retries`` (writes retried
    because another writer committed first). ``clock``: the store's index clock once the
    run is done."""

    files_seen: int = 0
    parsed: int = 0
    unchanged: int = 0
    hashed: int = 0
    deleted: int = 0
    dialogues_written: int = 0
    items_written: int = 0
    items_deleted: int = 0
    diagnostics: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0})
    seconds: float = 0.0
    dialogues: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    # dialogue ids met twice across the roots (an error each; the first root is indexed)
    conflicts: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    retries: int = 0
    clock: int = 0  # the store's index clock after the run (set by `reindex --json`)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["seconds"] = round(self.seconds, 3)
        return d



def _follow_parent(parent: int) -> None:
    """In a parse worker: exit when the sync process is gone (killed with SIGKILL, nothing
    tells the pool's workers), instead of idling forever as an orphan."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


@dataclass(slots=True)
class _Job:
    """One dialogue whose files differ from the store: what the finishing step needs."""

    did: str
    stored: dict[str, str]
    differs: set[str]
    gone: list[str]
    old_items: Items
    pending: Any  # a Future, or the (items, parsed) result when built in this process
    args: tuple[Any, ...]  # build_items' arguments (to rebuild without a rejected file)
    rev: Revision = field(default_factory=Revision)  # what the load saw
    lock: FileLock | None = None  # the dialogue's lock, held from load to write


def _workers() -> int:
    """Parse processes: one per core (the main process hashes, diffs and writes meanwhile;
    measured faster than leaving it a core of its own); none on a single core."""
    env = os.environ.get(WORKERS_ENV, "")
    if env.isdigit():
        return int(env)
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    return 0 if n < 2 else min(n, 8)


class Syncer:
    """Brings the store in line with the files under the dialogue roots of ``config``."""

    def __init__(self, config: Config, store: Store, workers: int | None = None) -> None:
        self.config = config
        self.store = store
        self.workers = workers if workers is not None else _workers()
        self.force = False
        self._checkout: Checkout | None = None
        self._cache: HashCache | None = None
        self._head: Head | None = None
        self._grammar = ""
        self._touched: dict[str, set[str] | None] = {}
        self._found: dict[str, tuple[str, str]] = {}
        self._unsettled: set[str] = set()

    @property
    def checkout(self) -> Checkout:
        """The git state of this checkout (read once per Syncer, only when needed)."""
        if self._checkout is None:
            from ..provenance import Checkout

            roots = list(self.config.existing_roots) or [self.config.dialogues]
            self._checkout = Checkout.of(roots[0], roots)
        return self._checkout

    @property
    def shared(self) -> bool:
        return bool(getattr(self.store, "shared", False))

    @property
    def cache_dir(self) -> Path:
        return self.config.state_dir / "cache" / "hashes"

    def run(self, full: bool = False, check: bool = False,
            dialogues: Collection[str] | None = None,
            progress: Progress | None = None, repair: bool = False,
            force: bool = False) -> SyncReport:
        """Sync every dialogue (or only ``dialogues``). ``full`` re-reads and re-parses every
        file (and re-seals an encrypted store). ``check`` writes nothing: it rebuilds every
        dialogue from the files in memory and lists each difference from the stored items in
        ``drift``. ``repair`` rebuilds every dialogue the same way and writes exactly the
        dialogues whose items differ. ``force`` overwrites and deletes on a shared store
        whatever its provenance says."""
        self.force = force
        self._checkout = None
        rekey = full
        full = full or check or repair
        missing = self.config.missing_roots()
        if missing:
            # A mistyped or unmounted folder must not read as "every dialogue deleted".
            from ..config import ConfigError

            raise ConfigError(f"{missing[0]}: dialogues folder not found; check "
                              "--dialogues or 'dialogues:' in the config (create the folder "
                              "if it is new)")
        t0 = time.perf_counter()
        rep = SyncReport()
        only = {fsread.escape_name(d) for d in dialogues} if dialogues is not None else None
        roots = self.config.existing_roots
        on_disk, conflicts = scan_roots(roots, only, self.config.root, self.config.max_file_size)
        rep.conflicts = [c.message for c in conflicts]
        rep.diagnostics["error"] += len(conflicts)
        cache = self._cache = HashCache(self.cache_dir, os.pathsep.join(map(str, roots)))
        self._head = head_of(roots)
        self._grammar = fingerprint()
        self._touched = {}
        self._found = {}  # did -> (stat print, marker) of a dialogue found or put in step
        self._unsettled = set()  # refused or rejected: not recorded as in step
        summary = Summary(self.cache_dir, cache.root)
        if full:
            stored = self._stored(only, None)
            skip: set[str] = set()
        else:
            # Dialogues unchanged since their last sync here cost their stats only.
            markers = self.store.markers(only)
            head = self._head.commit if self._head else None
            skip = {d for d, files in on_disk.items()
                    if summary.fresh(d, files, markers.get(d), head, self._grammar)}
            for d in skip:
                rep.files_seen += len(on_disk[d])
                rep.unchanged += len(on_disk[d])
            stored = self._stored(only, {d for d in markers if d not in skip})
        ids = sorted((set(on_disk) - skip) | set(stored))
        regrammar = set() if full else self._other_grammar(
            {d: h for d, h in stored.items() if d in on_disk}, cache)
        pool: Any = None
        window: deque[_Job] = deque()
        to_parse = 0
        try:
            # Files the store has no hash for must be parsed: a first or --full run starts
            # its workers at once instead of parsing the first dialogues here, alone.
            certain = (sum(map(len, on_disk.values())) if full else
                       sum(len(f.keys() - stored.get(d, {}).keys())
                           for d, f in on_disk.items() if d not in skip))
            if self._parallel(certain, len(ids)):
                pool = self._pool()
            for n, did in enumerate(ids, 1):
                found = self._detect(did, on_disk.get(did, {}), stored.get(did, {}), cache,
                                   full or did in regrammar, check, rep)
                if found is not None:
                    disk, changed, differs, review = found
                    to_parse += len(changed)
                    if pool is None and self._parallel(to_parse, len(ids) - n):
                        pool = self._pool()
                    window.append(self._start(did, disk, changed, differs,
                                              stored.get(did, {}), pool, check, review))
                    while window and (pool is None or len(window) > 2 * self.workers + 1):
                        self._finish(window.popleft(), rekey, check, rep)
                if progress:
                    progress(n, len(ids), did)
            while window:
                self._finish(window.popleft(), rekey, check, rep)
        finally:
            for job in window:  # an error left these unfinished
                _unlock(job.lock)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        rep.dialogues.sort()
        if not check:
            head = self._head.commit if self._head else None
            for did in on_disk:
                if did in skip:
                    continue
                cache.retain(did, set(on_disk[did]))
                cache.set_note(did, "head", head)
                cache.set_note(did, "grammar", self._grammar)
                fact = self._found.get(did)
                if fact is not None and did not in self._unsettled:
                    summary.record(did, *fact, head, self._grammar)
                else:
                    summary.forget(did)
            for did in cache.known() if only is None else only:
                if did not in on_disk:
                    cache.forget(did)
                    summary.forget(did)
            cache.save()
            summary.save()
        rep.seconds = time.perf_counter() - t0
        if not check:
            self._record(rep)
        return rep

    def _stored(self, only: set[str] | None, listed: set[str] | None
                ) -> dict[str, dict[str, str]]:
        """The stored file hashes of the dialogues to compare: every dialogue (``listed``
        None), else those of ``listed`` (from ``Store.markers``), one listing each when they
        are few, one listing of the whole store when many."""
        if listed is None:
            if only is None:
                return self.store.all_file_hashes()
            return {d: h for d in sorted(only) if (h := self.store.file_hashes(d))}
        if len(listed) > LIST_EACH_MAX:
            return {d: h for d, h in self.store.all_file_hashes().items() if d in listed}
        return {d: h for d in sorted(listed) if (h := self.store.file_hashes(d))}

    def _other_grammar(self, stored: dict[str, dict[str, str]], cache: HashCache) -> set[str]:
        """Stored dialogues indexed with another grammar (or parser version): their files
        are all re-parsed. The hash cache remembers each dialogue's grammar at its last
        sync here; only when it does not know are the store's meta items read. Only
        dialogues on disk here count: one this checkout lacks (kept on a shared store)
        cannot be re-parsed, and asking about it would cost a Query on every run."""
        fp = fingerprint()
        known = {d: cache.note(d, "grammar") for d in stored}
        out = {d for d, g in known.items() if g is not None and g != fp}
        if None in known.values():
            out |= {d for m in self.store.dialogues()
                    if m.get("grammar") != fp and (d := m.get("id") or m.get("dialogue_id"))
                    and d in known and known[d] is None}
        return out

    # --- parallel parsing (big runs only) ----------------------------------------------

    def _parallel(self, to_parse: int, dialogues_left: int) -> bool:
        """Worth a process pool: many files to parse, more dialogues to come, and no other
        threads (forking a threaded process, e.g. the watch daemon, is not safe)."""
        return (self.workers > 0 and to_parse >= PARALLEL_MIN and dialogues_left >= 2
                and threading.active_count() == 1)

    def _pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from .. import assemble, codec, parse  # noqa: F401 - loaded once, shared by the forks

        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_follow_parent, initargs=(os.getpid(),))

    # --- one dialogue ------------------------------------------------------------------

    def _detect(self, did: str, disk: dict[str, Disk], stored: dict[str, str],
                cache: HashCache, full: bool, check: bool,
                rep: SyncReport) -> tuple[dict[str, Disk], dict[str, bytes | fsread.Problem],
                                          set[str], bool] | None:
        """Change detection for one dialogue. Returns (files on disk, bytes to parse, files
        whose content differs from the store) when the dialogue must be rebuilt; deletes a
        dialogue gone from disk itself."""
        rep.files_seen += len(disk)
        changed: dict[str, bytes | fsread.Problem] = {}  # to parse (all with ``full``)
        limit = self.config.max_file_size
        differs: set[str] = set()  # content not what the store recorded
        known = {} if full else cache.shard(did)
        printed = None if check else stat_print(disk)  # before files that vanish are dropped
        racy = cache.started_ns - RACY_NS
        shas: dict[str, str] = {}  # every file's content hash, for the summary's marker
        for rel in sorted(disk):
            st = disk[rel]
            if st.mtime_ns >= racy:
                printed = None  # modified within a tick of now: not a fact to record yet
            e = known.get(rel)  # cache.get inlined: this loop runs for every file of the tree
            if e is not None and e[0] == st.size and e[1] == st.mtime_ns and \
                    stored.get(rel) == e[2]:
                rep.unchanged += 1
                shas[rel] = e[2]
                continue
            data: bytes | fsread.Problem
            if st.problem is not None:
                data, sha = st.problem, st.problem.sha256
            else:
                try:
                    data = fsread.read(st.path, limit)
                except (FileNotFoundError, IsADirectoryError):
                    disk.pop(rel)  # gone since the scan: handled as deleted
                    continue
                except fsread.Unreadable as u:  # changed since the scan
                    data = u.problem
                    sha = data.sha256
                else:
                    rep.hashed += 1
                    sha = sha256_bytes(data)
                    if len(data) == st.size:
                        cache.put(did, rel, st.size, st.mtime_ns, sha)
            shas[rel] = sha
            if stored.get(rel) == sha:
                rep.unchanged += 1
            else:
                differs.add(rel)
            if full or rel in differs:
                changed[rel] = data
        if printed is not None and len(shas) == len(disk):
            self._found[did] = (printed, files_marker(shas))
        gone = sorted(p for p in stored if p not in disk)
        rep.deleted += len(gone)
        review = bool(stored) and self._head_moved(did, cache)
        if not changed and not gone and not review:
            return None
        if not disk:  # folder gone or emptied: the whole partition goes
            self._delete(did, check, rep)
            return None
        return disk, changed, differs, review

    def _head_moved(self, did: str, cache: HashCache) -> bool:
        """True when git HEAD may have changed this dialogue's files since its last sync
        here (then its files with errors are settled again: FORMAT.md 5)."""
        head = self._head
        last = cache.note(did, "head")
        if head is None or last == head.commit:
            return False
        if last is None:
            return True
        if last not in self._touched:
            self._touched[last] = head.touched(last)
        touched = self._touched[last]
        return touched is None or did in touched

    def _delete(self, did: str, check: bool, rep: SyncReport) -> None:
        """A dialogue gone from disk: delete its partition (on a shared store only if this
        checkout's history shows it deleted, see provenance.py)."""
        from ..provenance import may_delete

        for attempt in range(CONFLICT_RETRIES + 1):
            rev = self.store.revision(did)
            if self.shared and not self.force and \
                    not may_delete(rev.provenance, self.checkout, did):
                rep.kept.append(did)
                return
            if check:
                rep.drift.append(f"{did}: dialogue no longer on disk, still in the store")
                return
            lock = self._lock(did)
            try:
                n = self.store.delete_dialogue(
                    did, rev, self.checkout.record(did) if self.shared else None)
            except WriteConflict:
                if attempt == CONFLICT_RETRIES:
                    raise self._gave_up(did, attempt) from None
                rep.retries += 1
                continue
            finally:
                _unlock(lock)
            rep.items_deleted += n
            rep.dialogues_written += 1
            rep.dialogues.append(did)
            return

    @staticmethod
    def _gave_up(did: str, attempt: int) -> WriteConflict:
        return WriteConflict(f"dialogue {did}: other writers kept changing it; gave up after "
                        f"{attempt + 1} attempts; run the sync again")

    def _start(self, did: str, disk: dict[str, Disk],
               changed: dict[str, bytes | fsread.Problem], differs: set[str],
               stored: dict[str, str], pool: Any, check: bool, review: bool = False,
               lock: bool = True) -> _Job:
        fd = None if check or not lock else self._lock(did)
        try:  # a failure here (store, or a broken grammar when building inline) unlocks
            old_items, rev = self.store.load_for_update(did)
            args = (did, sorted(disk), changed, old_items, disk, self._head, review,
                    self.config.max_file_size)
            pending = pool.submit(build_items, *args) if pool is not None else build_items(*args)
        except BaseException:
            _unlock(fd)
            raise
        gone = sorted(p for p in stored if p not in disk)
        return _Job(did, stored, differs, gone, old_items, pending, args, rev, fd)

    def _again(self, did: str, full: bool, rep: SyncReport) -> _Job | None:
        """After a Conflict: detect, load and build one dialogue afresh (None: nothing left
        to write, another writer stored exactly these files). The caller holds the lock."""
        stored = self.store.file_hashes(did)
        disk = scan_roots(self.config.existing_roots, {did}, self.config.root,
                          self.config.max_file_size)[0].get(did, {})
        if not disk:
            return None
        assert self._cache is not None
        found = self._detect(did, disk, stored, self._cache, full, False, SyncReport())
        if found is None:
            return None
        disk, changed, differs, review = found
        job = self._start(did, disk, changed, differs, stored, None, False, review, lock=False)
        return job

    def _finish(self, job: _Job, full: bool, check: bool, rep: SyncReport) -> None:
        try:
            self._apply(job, full, check, rep)
        finally:
            _unlock(job.lock)
            job.lock = None

    def _apply(self, job: _Job, full: bool, check: bool, rep: SyncReport) -> None:
        """Write (or report) one dialogue's diff; on Conflict start that dialogue again."""
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self._apply_once(job, full, check, rep)
                return
            except WriteConflict:
                if check or attempt == CONFLICT_RETRIES:
                    raise self._gave_up(job.did, attempt) from None
                rep.retries += 1
                time.sleep(random.uniform(0, 0.02 * 2**attempt))  # let the winner finish
                again = self._again(job.did, full, rep)
                if again is None:
                    return
                job = again

    def _built(self, job: _Job, rep: SyncReport) -> Items:
        pending = job.pending
        new_items, parsed = pending.result() if hasattr(pending, "result") else pending
        job.pending = (new_items, 0)  # counted once, even when the write is retried
        rep.parsed += parsed
        out: Items = new_items
        return out

    def _apply_once(self, job: _Job, full: bool, check: bool, rep: SyncReport) -> None:
        """Diff the rebuilt items against the loaded partition; write (or report) the diff."""
        did = job.did
        new_items = self._built(job, rep)
        puts, deletes = diff(job.old_items, new_items)
        rejected: list[tuple[str, str]] = []  # (file, reason) the store could not hold
        while not check and (puts or deletes or job.rev.repair):
            if self.shared and not self.force:
                from ..provenance import refuse_overwrite

                reason = refuse_overwrite(job.rev.provenance, self.checkout)
                if reason is not None:
                    rep.refused.append(f"{did}: {reason}")
                    self._unsettled.add(did)
                    return
            try:
                self.store.write(did, puts, deletes, job.rev,
                                 self.checkout.record(did) if self.shared else None)
            except ItemRejected as e:
                self._unsettled.add(did)
                rel = _file_of(did, new_items.get(e.sk))
                if rel is None or rel not in job.args[1]:  # not one file's: skip the dialogue
                    rep.rejected.append(f"{did}: {e}")
                    return
                safe = _printable(rel)
                rep.rejected.append(f"{did}/{safe}: {e.reason}; rename it")
                rejected.append((safe, e.reason))
                args = list(job.args)
                args[1] = [r for r in args[1] if r != rel]
                job.args = tuple(args)
                new_items = build_items(*job.args)[0]
                new_items.update(_rejection_items(did, rejected))
                puts, deletes = diff(job.old_items, new_items)
                continue
            rep.items_written += len(puts)
            rep.items_deleted += len(deletes)
            rep.dialogues_written += 1
            rep.dialogues.append(did)
            break
        for it in new_items.values():
            if it.get("kind") == "diagnostic" and it.get("severity") in rep.diagnostics:
                rep.diagnostics[it["severity"]] += 1
        if check:
            where = functools.partial(layout.parse_path, did)  # as users see the path
            drift = [f"{where(rel)}: " + ("changed since the last sync" if rel in job.stored
                                          else "not in the store")
                     for rel in sorted(job.differs)]
            drift += [f"{where(rel)}: deleted, still in the store" for rel in job.gone]
            if (puts or deletes) and not drift:
                drift = item_drift(did, job.old_items, puts, deletes)
            rep.drift += drift
            return
        if full:  # encrypted: re-seal under a fresh data key (plain stores: nothing to do)
            self.store.rekey(did)

    def _lock(self, did: str) -> FileLock | None:
        """Wait for and take the dialogue's machine-local lock, so that two syncs (daemon,
        reindex, hook) never interleave one dialogue's load and write: a diff is always
        against what the store holds. None where locks are unavailable.

        The wait is visible and bounded: after LOCK_NOTICE_S one line says who holds the
        lock (the watch daemon by its pid, else pid and command line), and after
        ``storage.sqlite.busy_timeout`` seconds the run stops (StoreUnavailable, exit 3)."""
        path = self.config.state_dir / "cache" / "locks" / f"{did}.lock"
        lock = FileLock(path)
        limit = self.config.sqlite_busy_timeout
        told = False

        def waiting(waited: float) -> None:
            nonlocal told
            if waited >= limit or not told and waited >= LOCK_NOTICE_S:
                who = _holder(self.config, path)
                if waited >= limit:
                    from ..store.base import StoreUnavailable

                    raise StoreUnavailable(
                        f"{did}: another sync of this dialogue ({who}) held its lock for "
                        f"{waited:.0f}s; stop it, or raise storage.sqlite.busy_timeout")
                told = True
                notice = getattr(getattr(self.store, "inner", self.store), "notice", None)
                (notice or _stderr)(f"blue-index: {did} is being synced by {who}; "
                                    f"waiting up to {limit:g}s")

        try:
            make_dir(path.parent)
            lock.acquire(timeout=float("inf"), on_wait=waiting)  # ``waiting`` bounds it
        except OSError:  # no locks here, or the lock file cannot be made: run without
            lock.release()
            return None
        return lock

    def _record(self, rep: SyncReport) -> None:
        """Last sync time and counts, in machine-local state (never in the store)."""
        state = {
            "last_sync": datetime.now(UTC).isoformat(timespec="seconds"),
            "dialogues_root": str(self.config.dialogues),
            "dialogue_roots": [str(r) for r in self.config.dialogue_roots],
            "report": rep.to_dict(),
        }
        path = state_file(self.config)
        with contextlib.suppress(OSError):
            make_dir(path.parent)
            atomic_write(path, json.dumps(state, indent=1))


LOCK_NOTICE_S = 0.5  # a wait for another sync's dialogue lock this long is announced


def _holder(config: Config, path: Path) -> str:
    """Who holds a lock file: the watch daemon by its pid, else pid and command line."""
    from ..daemon_state import daemon_status
    from ..store.sqlite import describe_holders, lock_holders

    return describe_holders(lock_holders(path), (daemon_status(config) or {}).get("pid"))


def _stderr(text: str) -> None:
    import sys

    print(text, file=sys.stderr, flush=True)


DRIFT_LINES = 20  # item differences listed per dialogue (then a count of the rest)


def item_drift(did: str, old: Items, puts: list[Item], deletes: list[str]) -> list[str]:
    """One line per item the store holds wrongly (``reindex --check`` on content)."""
    lines = []
    meta = next((p for p in puts if p.get("sk") == "meta"), None)
    if meta is not None and old.get("meta", {}).get("grammar") != meta.get("grammar"):
        lines.append(f"{did}: indexed with another grammar or parser version "
                     "(grammars/*.yaml changed)")
    for item in sorted(puts, key=lambda i: i["sk"]):
        sk = item["sk"]
        was = old.get(sk)
        if was is None:
            lines.append(f"{did}: {sk}: missing from the store")
        else:
            fields = sorted(k for k in item.keys() | was.keys() if item.get(k) != was.get(k))
            lines.append(f"{did}: {sk}: differs ({', '.join(fields)})")
    lines += [f"{did}: {sk}: in the store, not in the files" for sk in sorted(deletes)]
    if len(lines) > DRIFT_LINES:
        lines[DRIFT_LINES:] = [f"{did}: ... and {len(lines) - DRIFT_LINES} more differences"]
    return lines


def _printable(name: str) -> str:
    """A file name as text, the bytes that are not UTF-8 as ``\\xNN`` escapes."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "backslashreplace").decode()
    return raw.decode("utf-8", "backslashreplace")


def _rejection_items(did: str, rejected: list[tuple[str, str]]) -> Items:
    """``store-rejected`` diagnostics (dialogue level, so their keys never hold the name
    that could not be stored) for the files left out of a dialogue."""
    from ..codec import DIALOGUE_DIAG, diagnostic_item
    from ..diagnostics import make

    out: Items = {}
    for n, (rel, reason) in enumerate(rejected, 1):
        sk = f"diag#{DIALOGUE_DIAG}#r{n:04d}"
        out[sk] = diagnostic_item(sk, make("store-rejected", file=f"{did}/{rel}",
                                           reason=reason))
    return out


def _file_of(did: str, item: dict[str, Any] | None) -> str | None:
    """The file (path in the dialogue folder) an item came from."""
    if item is None:
        return None
    path = item.get("path") if item.get("kind") == "file" else item.get("file")
    return in_dialogue(did, path) if isinstance(path, str) else None


def _unlock(lock: FileLock | None) -> None:
    if lock is not None:
        lock.release()


def state_file(config: Config) -> Path:
    return config.state_dir / "cache" / "last-sync.json"


def last_sync(config: Config) -> dict[str, Any] | None:
    """The state the last successful (non-check) run left, or None."""
    try:
        state = json.loads(state_file(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None
