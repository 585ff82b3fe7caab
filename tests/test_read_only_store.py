"""A store this user may not write (issue 17): it is read as it is, a sync with nothing to
write succeeds, a sync that would write raises ``ReadOnlyStore`` (with the one-line note a
query prints) and writes nothing; ``reindex`` says so in one line, exit 3.

Real permissions: the SQLite index is built by root and used as user ``nobody`` (setpriv),
like the permission tests of tests/test_hostile.py; DynamoDB through a moto server of its
own that enforces IAM policies, with a user allowed only GetItem/Query/DescribeTable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hostile import NOBODY
from tests.support.sync import cli, copy_tree, dialogue_ids

SCRIPT = r"""
import json, sys
from pathlib import Path
from indexer import config as config_mod
from indexer.store.base import ReadOnlyStore
from indexer.store.factory import open_store
from indexer.sync import Syncer

cfg = config_mod.load(root=Path(sys.argv[1]), env={})
store = open_store(cfg)
out = {"read_only": store.read_only, "clock": store.clock(),
       "items": {d: len(store.load(d)) for d in sys.argv[2:]}}
try:
    rep = Syncer(cfg, store).run()
    out["parsed"] = rep.parsed
except ReadOnlyStore as e:
    out["error"] = str(e)
    out["note"] = e.note
print(json.dumps(out))
"""


def _as_nobody(root: Path, ids: list[str]) -> dict:
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLUE_INDEX")}
    env["PYTHONPATH"] = str(repo)
    p = subprocess.run([*NOBODY, sys.executable, "-c", SCRIPT, str(root), *ids],
                       capture_output=True, text=True, env=env, timeout=120, cwd="/")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_read_only_sqlite_answers_and_refuses_writes(samples_dir, public_tmp):
    cfg = copy_tree(samples_dir, public_tmp / "repo")
    assert cli(cfg.root, "reindex").returncode == 0
    for p in cfg.root.rglob("*"):  # readable by all, writable by root only
        p.chmod(0o755 if p.is_dir() else 0o644)
    ids = dialogue_ids(cfg.dialogues)
    before = cfg.sqlite_path.read_bytes()
    from indexer.store.sqlite import SQLiteStore

    s = SQLiteStore(cfg.sqlite_path)
    counts = {d: len(s.load(d)) for d in ids}
    clock = s.clock()
    s.close()

    got = _as_nobody(cfg.root, ids)  # nothing changed: nothing to write, no error
    assert got == {"read_only": True, "clock": clock, "items": counts, "parsed": 0}

    target = sorted((cfg.dialogues / ids[0]).glob("round-1/*.md"))[0]
    target.write_text(target.read_text(encoding="utf-8") + "\n[PERSPECTIVE P91: Late]\nX.\n",
                      encoding="utf-8")
    got = _as_nobody(cfg.root, ids)
    assert got["items"] == counts and got["clock"] == clock  # still answers, as it was
    assert str(cfg.sqlite_path) in got["error"] and "permission" in got["error"]
    assert got["note"].startswith("blue-index: ") and "may be stale" in got["note"]
    assert "\n" not in got["note"]
    assert cfg.sqlite_path.read_bytes() == before  # nothing written

    p = subprocess.run([*NOBODY, str(Path(sys.executable).parent / "blue-index"), "--root",
                        str(cfg.root), "reindex"], capture_output=True, text=True,
                       timeout=120, cwd="/")
    assert p.returncode == 3 and p.stderr.count("\n") == 1, p.stderr
    assert "cannot be written" in p.stderr


# --- DynamoDB: credentials that may read the table but not write it ----------------------

READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"]


@pytest.fixture
def iam_moto(monkeypatch, tmp_path):
    """A moto server of its own that enforces IAM after its first 6 requests (moto's
    INITIAL_NO_AUTH_ACTION_COUNT): those create a user allowed dynamodb:* and one allowed
    only to read. Yields (endpoint, {user: (key id, secret)})."""
    import boto3

    from tests.support.dynamo import FAKE_CREDENTIALS, MotoServer

    monkeypatch.setenv("INITIAL_NO_AUTH_ACTION_COUNT", "6")
    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    server = MotoServer(log=tmp_path / "moto.log").start()
    try:
        iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1")
        keys = {}
        for user, actions in (("writer", ["dynamodb:*"]), ("reader", READ_ACTIONS)):
            iam.create_user(UserName=user)
            k = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        monkeypatch.delenv("AWS_SESSION_TOKEN")  # user keys, not a session
        yield server.endpoint, keys
    finally:
        server.stop()


def test_read_only_dynamodb_credentials(iam_moto, samples_dir, tmp_path, monkeypatch):
    from indexer.store.base import ReadOnlyStore
    from indexer.store.dynamodb import DynamoDBStore
    from indexer.sync import Syncer
    from tests.support.dynamo import table_name

    endpoint, keys = iam_moto
    cfg = copy_tree(samples_dir, tmp_path / "repo")
    table = table_name()

    def store_as(user: str) -> DynamoDBStore:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys[user][0])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys[user][1])
        return DynamoDBStore(table=table, endpoint_url=endpoint, region="us-east-1")

    writer = store_as("writer")
    writer.create_table()
    Syncer(cfg, writer).run()
    ids = dialogue_ids(cfg.dialogues)
    before = {d: writer.load(d) for d in ids}
    clock = writer.clock()
    assert clock >= len(ids)

    reader = store_as("reader")
    assert Syncer(cfg, reader).run().dialogues == []  # nothing to write: no error
    target = sorted((cfg.dialogues / ids[0]).glob("round-1/*.md"))[0]
    target.write_text(target.read_text(encoding="utf-8") + "\n[PERSPECTIVE P92: Late]\nX.\n",
                      encoding="utf-8")
    with pytest.raises(ReadOnlyStore) as caught:
        Syncer(cfg, reader).run()
    assert "denied" in str(caught.value) and table in str(caught.value)
    assert "may be stale" in caught.value.note and "\n" not in caught.value.note
    assert {d: reader.load(d) for d in ids} == before  # reads still answer, as they were
    assert reader.clock() == clock
    assert writer.load(ids[0]) == before[ids[0]]
    reader.close()
    writer.close()
