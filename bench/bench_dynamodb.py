"""Reindex the same generated corpus into SQLite and into DynamoDB (a local moto server).

    python bench/bench_dynamodb.py [--dialogues 20] [--rounds 4] [--experts 8] [--edits 5]
                                   [--endpoint URL]

Without ``--endpoint`` a moto server is started on a free port (fake credentials). Prints,
per backend and phase (full reindex, no-op reindex, one file edited in each of ``--edits``
dialogues): files, items written, DynamoDB requests by operation (counted with a boto3
event hook), seconds. Then checks, per edited dialogue, the requests against the model of
the revision protocol, "1 partition Query + ceil(changes / 25) BatchWriteItem + 3
UpdateItem (begin, the index clock's tick, commit)", plus 1 registry Query per run, and
prints beside it what the
model before revisions was ("1 partition Query + ceil(non-file changes / 25) + ceil(file
changes / 25) batch writes", file items in their own final batches, + 1 index Query per
run). moto is an in-process Python emulator: its seconds say nothing about AWS latency,
only the request and item counts carry over.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_corpus import generate  # noqa: E402

from indexer import config as config_mod  # noqa: E402
from indexer.items import diff  # noqa: E402
from indexer.store.sqlite import SQLiteStore  # noqa: E402
from indexer.sync import Syncer  # noqa: E402


def hook_counts(store) -> dict[str, int]:
    counts: dict[str, int] = {}

    def hook(model, params, **_):
        counts[model.name] = counts.get(model.name, 0) + 1
        if model.name == "BatchWriteItem":
            counts["items"] = counts.get("items", 0) + sum(
                len(v) for v in params["RequestItems"].values())

    store.client.meta.events.register("before-parameter-build.dynamodb.*", hook)
    return counts


def edit(root: Path, did: str, n: int) -> Path:
    f = sorted((root / did / "round-1").glob("*.md"))[0]
    text = f.read_text(encoding="utf-8")
    f.write_text(text.replace(" the ", f" the ({n}) ", 1), encoding="utf-8")
    return f


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dialogues", type=int, default=20)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--edits", type=int, default=5)
    p.add_argument("--endpoint", help="a running DynamoDB-compatible endpoint")
    a = p.parse_args(argv)

    server = None
    if a.endpoint is None:
        from tests.support.dynamo import FAKE_CREDENTIALS, MotoServer

        os.environ.update(FAKE_CREDENTIALS)
        server = MotoServer().start()
        a.endpoint = server.endpoint
    from indexer.store.dynamodb import DynamoDBStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-ddb-"))
    try:
        src = tmp / "src"
        generate(src, dialogues=a.dialogues, rounds=a.rounds, experts=a.experts, seed=0)
        cfgs = {}
        past = time.time_ns() - 3600 * 10**9  # files written before the run, as in real use:
        for name in ("sqlite", "dynamodb"):  # older than the 2 s racy window, so summarised
            shutil.copytree(src, tmp / name / "dialogues")
            for f in (tmp / name / "dialogues").rglob("*"):
                if f.is_file():
                    os.utime(f, ns=(past, past))
            cfgs[name] = config_mod.Config(root=tmp / name, dialogues=tmp / name / "dialogues")
        files = sum(1 for f in src.rglob("*") if f.is_file())
        sq = SQLiteStore(tmp / "bench.db")
        dd = DynamoDBStore(f"bench_{int(time.time())}", region="us-east-1",
                           endpoint_url=a.endpoint)
        dd.create_table()
        counts = hook_counts(dd)
        rows = []

        def run(phase: str, name: str, store) -> None:
            before = dict(counts)
            t0 = time.perf_counter()
            rep = Syncer(cfgs[name], store).run()
            secs = time.perf_counter() - t0
            req = {k: counts.get(k, 0) - before.get(k, 0) for k in counts if k != "items"}
            req = {k: v for k, v in req.items() if v} if name == "dynamodb" else {}
            rows.append((phase, name, rep.files_seen, rep.items_written + rep.items_deleted,
                         counts.get("items", 0) - before.get("items", 0)
                         if name == "dynamodb" else "-", req, secs))

        for name, store in (("sqlite", sq), ("dynamodb", dd)):
            run("full", name, store)
        for name, store in (("sqlite", sq), ("dynamodb", dd)):
            run("no-op", name, store)
        ids = [d["dialogue_id"] for d in sq.dialogues()][: a.edits]
        before = {did: sq.load(did) for did in ids}
        for n, did in enumerate(ids):
            for name in cfgs:
                edit(cfgs[name].dialogues, did, n)
        run("edit", "sqlite", sq)
        changes = {did: diff(before[did], sq.load(did)) for did in ids}
        per_dialogue: list[tuple[str, int, int, int]] = []
        pre = dict(counts)
        run("edit", "dynamodb", dd)
        got = {k: counts.get(k, 0) - pre.get(k, 0) for k in counts}
        expected_batches = old_batches = 0
        for did, (puts, deletes) in changes.items():
            sks = [i["sk"] for i in puts] + deletes
            nf = sum(1 for s in sks if not s.startswith("file#"))
            fi = len(sks) - nf
            b = math.ceil(len(sks) / 25)
            expected_batches += b
            old_batches += math.ceil(nf / 25) + math.ceil(fi / 25)
            per_dialogue.append((did, nf, fi, b))

        print(f"corpus: {a.dialogues} dialogues x {a.rounds} rounds x {a.experts} experts = "
              f"{files} files (bench/gen_corpus.py, seed 0); DynamoDB = moto at {a.endpoint}")
        print(f"{'phase':<6} {'backend':<9} {'files':>6} {'items':>7} {'sent':>6} "
              f"{'seconds':>8}  requests")
        for phase, name, f, items, sent, req, secs in rows:
            reqs = ", ".join(f"{k} {v}" for k, v in sorted(req.items())) or "-"
            print(f"{phase:<6} {name:<9} {f:>6} {items:>7} {sent!s:>6} {secs:>8.2f}  {reqs}")
        print("edited dialogues (non-file changes, file changes -> requests now):")
        for did, nf, fi, b in per_dialogue:
            print(f"  {did}: {nf} + {fi} -> 1 Query + {b} BatchWriteItem + 3 UpdateItem")
        n = len(ids)
        want = {"Query": n + 1, "BatchWriteItem": expected_batches, "UpdateItem": 3 * n}
        measured = {k: got.get(k, 0) for k in want}
        ok = measured == want and not got.get("GetItem") and not got.get("Scan")
        print(f"{'':<8}{'model before revisions':>24} {'model now':>12} {'measured now':>14}")
        for k, old in (("Query", n + 1), ("BatchWriteItem", old_batches), ("UpdateItem", 0)):
            print(f"{k:<16}{old:>16} {want[k]:>12} {measured[k]:>14}")
        total_old = n + 1 + old_batches
        print(f"{'requests':<16}{total_old:>16} {sum(want.values()):>12} "
              f"{sum(measured.values()):>14}  -> {'OK' if ok else 'MISMATCH'}")
        noop = next(r for r in rows if r[0] == "no-op" and r[1] == "dynamodb")[5]
        print(f"no-op run: {noop} (model: 1 Query, before and now)")
        sq.close()
        dd.delete_table()
        dd.close()
        return 0 if ok and noop == {"Query": 1} else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
