"""Provenance on a shared table, with real git repositories (a bare origin and clones in
temp folders) and two machines' stores on one table, on moto and on dynalite: a stale
checkout does not overwrite newer content; a dialogue missing from a checkout is deleted
only when that checkout's history shows it deleted; namespaces separate views."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from indexer import config as config_mod
from indexer.sync import Syncer
from tests.support.dynamo import *  # noqa: F403 - the server fixtures
from tests.support.dynamo import count_requests
from tests.support.sync import cli, expected_items
from tests.support.writers import *  # noqa: F403 - the table_factory fixture

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                       env={**os.environ, **GIT_ENV})
    return r.stdout.strip()


def dialogue(root: Path, did: str, text: str) -> None:
    folder = root / ".blue" / "dialogues" / did / "round-0"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "muffin.md").write_text(f"[PERSPECTIVE P01: {text}]\nBody: {text}.\n",
                                      encoding="utf-8")


def commit(root: Path, message: str) -> str:
    git(root, "add", "-A", ".blue/dialogues")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def origin_and_clones(tmp_path: Path, *names: str) -> tuple[Path, list[Path]]:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(origin), str(seed))
    dialogue(seed, "d0", "a dialogue nobody touches")
    dialogue(seed, "d1", "first version")
    commit(seed, "d0 and d1")
    git(seed, "push", "-q", "origin", "HEAD:main")
    clones = []
    for name in names:
        git(tmp_path, "clone", "-q", str(origin), str(tmp_path / name))
        clones.append(tmp_path / name)
    return origin, clones


def cfg(root: Path) -> config_mod.Config:
    return config_mod.Config(root=root, dialogues=root / ".blue" / "dialogues")


def test_stale_checkout_does_not_overwrite_both_ways(tmp_path, table_factory):
    origin, (a, b) = origin_and_clones(tmp_path, "a", "b")
    sa, sb = table_factory(), table_factory()
    dialogue(a, "d1", "second version by A")
    c2 = commit(a, "A edits d1")
    git(a, "push", "-q", "origin", "HEAD:main")
    Syncer(cfg(a), sa, workers=0).run()
    assert sa.revision("d1").provenance == {"repository": str(origin), "branch": "main",
                                            "commit": c2, "dirty": False}
    # B is behind (its HEAD lacks c2): it does not overwrite, and says so in one line
    rep = Syncer(cfg(b), sb, workers=0).run()
    assert rep.refused == [f"d1: table holds newer content from {c2[:12]}; pull, or --force"]
    assert sb.load("d1") == expected_items(cfg(a).dialogues, "d1")
    # B pulls, edits, commits: now B is ahead and A is the stale one
    git(b, "pull", "-q", "origin", "main")
    dialogue(b, "d1", "third version by B")
    c3 = commit(b, "B edits d1")
    rep = Syncer(cfg(b), sb, workers=0).run()
    assert rep.refused == [] and rep.dialogues == ["d1"]
    dialogue(a, "d1", "A edits again without pulling")
    rep = Syncer(cfg(a), sa, workers=0).run()
    assert rep.refused == [f"d1: table holds newer content from {c3[:12]}; pull, or --force"]
    assert sa.load("d1") == expected_items(cfg(b).dialogues, "d1")
    # --force: A's checkout wins anyway
    rep = Syncer(cfg(a), sa, workers=0).run(force=True)
    assert rep.refused == [] and sa.load("d1") == expected_items(cfg(a).dialogues, "d1")
    assert sa.revision("d1").provenance["dirty"] is True  # A's edit is not committed


def test_refusal_is_one_line_on_the_cli_exit_1(tmp_path, dynamo_endpoint,
                                               dynamo_store_factory):
    if dynamo_endpoint is None:
        import pytest

        pytest.skip("needs a local endpoint")
    _, (a, b) = origin_and_clones(tmp_path, "a", "b")
    table = dynamo_store_factory().table
    for root in (a, b):
        (root / ".blue" / "config.yaml").write_text(
            f"storage:\n  backend: dynamodb\n  dynamodb:\n    table: {table}\n"
            f"    region: us-east-1\n    endpoint_url: {dynamo_endpoint}\n")
        (root / ".git" / "info" / "exclude").write_text(".blue/config.yaml\n.blue/cache/\n")
    dialogue(a, "d1", "newer")
    c2 = commit(a, "newer")
    assert cli(a, "reindex").returncode == 0
    r = cli(b, "reindex")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"blue-index: d1: table holds newer content from {c2[:12]}; pull, or --force"]
    assert cli(b, "reindex", "--force").returncode == 0


def test_deleted_elsewhere_both_ways(tmp_path, table_factory):
    _, (a, b) = origin_and_clones(tmp_path, "a", "b")
    sa, sb = table_factory(), table_factory()
    c1 = git(b, "rev-parse", "HEAD")
    Syncer(cfg(b), sb, workers=0).run()  # d0 and d1, from main
    assert sb.revision("d1").provenance["commit"] == c1
    # A works on a branch that adds d2 (and has an uncommitted d3): the table holds both
    git(a, "checkout", "-q", "-b", "feature")
    dialogue(a, "d2", "only on the feature branch")
    f1 = commit(a, "add d2")
    dialogue(a, "d3", "not committed anywhere")
    Syncer(cfg(a), sa, workers=0).run()
    assert sa.revision("d3").provenance == {
        "repository": str(tmp_path / "origin.git"), "branch": "feature", "commit": f1,
        "dirty": True}
    # B (main) lacks d2 and d3, but its history does not show them deleted: kept
    rep = Syncer(cfg(b), sb, workers=0).run()
    assert sorted(rep.kept) == ["d2", "d3"] and rep.items_deleted == 0
    assert sb.load("d2") == expected_items(cfg(a).dialogues, "d2")
    assert Syncer(cfg(b), sb, workers=0).run(check=True).drift == []
    calls = count_requests(sb)  # keeping costs nothing: a no-op run is one Query
    assert Syncer(cfg(b), sb, workers=0).run().kept == ["d2", "d3"]
    assert calls == {"items": 0, "Query": 1}
    # the other way: A deletes d2 in a commit; its history shows that, so it is deleted
    git(a, "rm", "-q", "-r", ".blue/dialogues/d2")
    git(a, "commit", "-q", "-m", "drop d2")
    rep = Syncer(cfg(a), sa, workers=0).run()
    assert rep.kept == [] and "d2" in rep.dialogues
    assert sa.load("d2") == {} and "d2" not in sa.all_file_hashes()
    assert sa.load("d3") != {}  # still on A's disk
    # and B deletes what its own history deleted: d1, stored from a commit B has
    git(b, "rm", "-q", "-r", ".blue/dialogues/d1")
    git(b, "commit", "-q", "-m", "drop d1")
    rep = Syncer(cfg(b), sb, workers=0).run()
    assert "d1" in rep.dialogues and sb.load("d1") == {}
    assert sorted(rep.kept) == ["d3"]


def test_namespaces_are_separate_views(tmp_path, table_factory):
    _, (a,) = origin_and_clones(tmp_path, "a")
    main_ns = table_factory(namespace="main")
    feature_ns = table_factory(namespace="feature")
    Syncer(cfg(a), main_ns, workers=0).run()
    assert feature_ns.all_file_hashes() == {} and feature_ns.load("d1") == {}
    dialogue(a, "d1", "changed for the feature view")
    Syncer(cfg(a), feature_ns, workers=0).run()
    assert main_ns.load("d1") != feature_ns.load("d1")
    assert feature_ns.load("d1") == expected_items(cfg(a).dialogues, "d1")
    assert [d["dialogue_id"] for d in main_ns.dialogues()] == ["d0", "d1"]
    assert main_ns.counts()["dialogues"] == feature_ns.counts()["dialogues"] == 2
    default = table_factory()
    assert default.counts()["dialogues"] == 0 and default.dialogues() == []


def test_branch_namespace_from_config(tmp_path, dynamo_endpoint):
    """`namespace: "{branch}"` names the view after the checked-out branch."""
    from indexer.store.dynamodb import DynamoDBStore

    _, (a,) = origin_and_clones(tmp_path, "a")
    git(a, "checkout", "-q", "-b", "topic/x")
    c = config_mod.Config(root=a, dialogues=a / ".blue" / "dialogues", backend="dynamodb",
                          dynamodb={"table": "t", "region": "us-east-1",
                                    "endpoint_url": dynamo_endpoint,
                                    "namespace": "team-{branch}"})
    store = DynamoDBStore.from_config(c)
    assert store.namespace == "team-topic/x"
    assert store.keys.pk("d1") == "ns#team-topic/x#dialogue#d1"
    assert "(namespace 'team-topic/x')" in store.where
    store.close()
