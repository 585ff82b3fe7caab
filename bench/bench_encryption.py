"""Cost of the encryption envelope: a full reindex of a generated corpus into SQLite, plain
and encrypted (local key file), measured in the same run (goal: encrypted <= 1.3x plain).

    python bench/bench_encryption.py [--dialogues 100] [--rounds 4] [--experts 8] [--runs 3]

Each run indexes into a fresh database (fresh process state: no cached parse, new data
keys). Also timed: a second (no-op) reindex, and loading every dialogue (what show/export
do). Prints a table and the ratios; ``--json`` for machines.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_corpus import generate  # noqa: E402

from indexer import config as config_mod  # noqa: E402
from indexer.keys import create_key_file  # noqa: E402
from indexer.store.factory import open_store  # noqa: E402
from indexer.sync import Syncer  # noqa: E402


def _config(repo: Path, db: Path, key: Path | None) -> config_mod.Config:
    text = f"storage:\n  backend: sqlite\n  sqlite:\n    path: {db}\n"
    if key is not None:
        text += f"encryption:\n  key_source: file\n  key_file: {key}\n"
    (repo / ".blue" / "config.yaml").write_text(text)
    return config_mod.load(root=repo)


def _once(repo: Path, key: Path | None, tag: str) -> dict[str, float]:
    db = repo / ".blue" / f"bench-{tag}.db"
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.unlink(missing_ok=True)
    shutil.rmtree(repo / ".blue" / "cache", ignore_errors=True)
    cfg = _config(repo, db, key)
    out: dict[str, float] = {}
    store = open_store(cfg)
    t = time.perf_counter()
    rep = Syncer(cfg, store).run()
    out["reindex"] = time.perf_counter() - t
    out["items"] = rep.items_written
    store.close()
    store = open_store(cfg)  # a new process would start with no unwrapped keys
    t = time.perf_counter()
    again = Syncer(cfg, store).run()
    out["noop"] = time.perf_counter() - t
    assert again.items_written == 0, "second reindex wrote items"
    t = time.perf_counter()
    for did in sorted(store.all_file_hashes()):
        store.load(did)
    out["load_all"] = time.perf_counter() - t
    store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dialogues", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-enc-") as tmp:
        repo = Path(tmp) / "repo"
        (repo / ".blue").mkdir(parents=True)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        generate(repo / ".blue" / "dialogues", a.dialogues, a.rounds, a.experts, 0)
        key = create_key_file(Path(tmp) / "keys" / "umk.key")
        files = sum(1 for p in (repo / ".blue" / "dialogues").rglob("*") if p.is_file())
        runs: dict[str, list[dict[str, float]]] = {"plain": [], "encrypted": []}
        for _ in range(a.runs):  # interleaved, so drift in machine speed hits both alike
            runs["plain"].append(_once(repo, None, "plain"))
            runs["encrypted"].append(_once(repo, key, "enc"))
    med = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
           for mode, rs in runs.items()}
    ratio = {k: med["encrypted"][k] / med["plain"][k] for k in ("reindex", "noop", "load_all")}
    doc = {"dialogues": a.dialogues, "files": files, "items": med["plain"]["items"],
           "runs": a.runs, "median_seconds": med, "ratio": ratio, "goal": 1.3,
           "ok": ratio["reindex"] <= 1.3}
    if a.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"corpus: {a.dialogues} dialogues, {files} files, {int(doc['items'])} items; "
          f"median of {a.runs} runs")
    print(f"{'':<12}{'plain s':>10}{'encrypted s':>13}{'ratio':>8}")
    for k in ("reindex", "noop", "load_all"):
        print(f"{k:<12}{med['plain'][k]:>10.3f}{med['encrypted'][k]:>13.3f}{ratio[k]:>8.2f}")
    print(f"goal: reindex ratio <= 1.3 -> {'met' if doc['ok'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
