"""Several writers on one DynamoDB table: small dialogue trees that differ per writer, and a
runner that syncs them concurrently (threads, one store each) with the store's test seam
(``DynamoDBStore.hook``) pausing writers between load and commit.

Expected values come from parse + assemble of each writer's files (tests/support/sync.py),
never from the store under test.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from indexer import config as config_mod
from indexer.hashcache import sha256_bytes
from indexer.sync import Syncer, SyncReport
from tests.support.sync import expected_items

__all__ = ["DIALOGUES", "Race", "Writer", "file_shas", "table_factory", "write_tree"]

DIALOGUES = ("2026-01-05T0900Z-alpha", "2026-01-06T0900Z-beta")
JOIN_S = 120.0  # every thread of a race test must end within this


@pytest.fixture(params=["moto", "dynalite"])
def table_factory(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``make(**kw) -> DynamoDBStore``: stores (one per machine) on one fresh table, on a
    moto server and on a dynalite server (two independent DynamoDB implementations)."""
    factory = request.getfixturevalue(
        "dynamo_store_factory" if request.param == "moto" else "dynalite_store_factory")
    first = factory()

    def make(**kw: Any) -> Any:
        return factory(table=first.table, create=False, **kw)

    return make


def write_tree(root: Path, writer: int, dialogues: tuple[str, ...] = DIALOGUES
               ) -> config_mod.Config:
    """A tree whose files differ per writer in content *and* in which files exist, so a
    partition mixing two writers' items matches neither tree."""
    base = root / "dialogues"
    for did in dialogues:
        r0 = base / did / "round-0"
        r0.mkdir(parents=True, exist_ok=True)
        (r0 / "muffin.md").write_text(
            f"[PERSPECTIVE P01: Muffin's view, as writer {writer} has it]\n"
            f"Writer {writer} wrote this body.\n\n"
            f"[TENSION T01: Tension seen by writer {writer}]\nWhy it matters ({writer}).\n",
            encoding="utf-8")
        (r0 / "eclair.md").write_text(
            f"[PERSPECTIVE P01: Eclair agrees with writer {writer}]\nShort.\n",
            encoding="utf-8")
        if writer % 2 == 1:
            r1 = base / did / "round-1"
            r1.mkdir(exist_ok=True)
            (r1 / "muffin.md").write_text(
                f"[REFINEMENT: Muffin refines in round 1 for writer {writer}]\nMore.\n",
                encoding="utf-8")
        if writer >= 2:
            (base / did / f"notes-{writer}.md").write_text(f"Notes of writer {writer}.\n",
                                                            encoding="utf-8")
    return config_mod.Config(root=root, dialogues=base)


def file_shas(cfg: config_mod.Config, did: str) -> dict[str, str]:
    folder = cfg.dialogues / did
    return {p.relative_to(folder).as_posix(): sha256_bytes(p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Writer:
    """One machine: its tree, its store (own client, own caches), its sync engine."""

    name: str
    cfg: config_mod.Config
    store: Any  # DynamoDBStore or an EncryptedStore over one
    report: SyncReport | None = None
    error: BaseException | None = None
    loads: int = 0

    @property
    def dynamo(self) -> Any:
        return getattr(self.store, "inner", self.store)

    def expected(self, did: str) -> dict[str, Any]:
        return expected_items(self.cfg.dialogues, did)


@dataclass
class Race:
    """Runs writers at once. ``seed`` drives random pauses at every hook point; all writers
    meet after their first load (so they all start from the same revision and race to
    commit, and, encrypted, to create the same data keys)."""

    writers: list[Writer]
    seed: int
    max_pause_s: float = 0.03
    readers: list[Callable[[], None]] = field(default_factory=list)

    def run(self) -> None:
        meet = threading.Barrier(len(self.writers), timeout=JOIN_S)
        for i, w in enumerate(self.writers):
            rng = random.Random(self.seed * 100 + i)
            w.dynamo.hook = self._hook(w, rng, meet)
        threads = [threading.Thread(target=self._sync, args=(w,), name=w.name)
                   for w in self.writers]
        stop = threading.Event()
        reader_threads = [threading.Thread(target=self._read, args=(r, stop))
                          for r in self.readers]
        for t in reader_threads + threads:
            t.start()
        for t in threads:
            t.join(JOIN_S)
        stop.set()
        for t in reader_threads:
            t.join(JOIN_S)
        stuck = [t.name for t in threads + reader_threads if t.is_alive()]
        assert not stuck, f"threads still running after {JOIN_S:g} s: {stuck}"
        for w in self.writers:
            w.dynamo.hook = None
            if w.error is not None:
                raise AssertionError(f"{w.name} failed: {w.error!r}") from w.error

    def _hook(self, w: Writer, rng: random.Random, meet: threading.Barrier
              ) -> Callable[[str, str], None]:
        import time

        def hook(point: str, did: str) -> None:
            if point == "loaded":
                w.loads += 1
                if w.loads == 1:
                    meet.wait()
            time.sleep(rng.uniform(0, self.max_pause_s))

        return hook

    @staticmethod
    def _sync(w: Writer) -> None:
        try:
            w.report = Syncer(w.cfg, w.store, workers=0).run()
        except BaseException as e:  # noqa: BLE001 - reported by run()
            w.error = e

    @staticmethod
    def _read(reader: Callable[[], None], stop: threading.Event) -> None:
        while not stop.is_set():
            reader()
