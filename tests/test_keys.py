"""Key sources: the local key file rules (real files, real git repos, the real CLI) and the
KMS source against a real moto server."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.keys import (
    FileKeySource,
    KeyError_,
    KmsKeySource,
    create_key_file,
    read_key_file,
)
from indexer.store.base import IntegrityError, StoreUnavailable
from tests.support.kms import *  # noqa: F403 - fixtures live there

BIN = Path(sys.executable).parent / "blue-index"


def cli(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BLUE_INDEX_KEY_FILE"}
    env["HOME"] = str(home)
    return subprocess.run([str(BIN), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- key init --------------------------------------------------------------------------


def test_key_init_default_location(tmp_path):
    home, repo = tmp_path / "home", git_repo(tmp_path / "repo")
    home.mkdir()
    r = cli("key", "init", cwd=repo, home=home)
    assert r.returncode == 0, r.stderr
    path = home / ".blue" / "keys" / "umk.key"
    assert r.stdout.strip() == str(path)
    assert mode(path) == 0o600
    data = path.read_bytes()
    assert data.endswith(b"\n") and len(base64.b64decode(data.strip(), validate=True)) == 32
    # Never overwritten: a second init fails and leaves the key as it was.
    r2 = cli("key", "init", cwd=repo, home=home)
    assert r2.returncode == 2 and "already exists" in r2.stderr
    assert r2.stderr.count("\n") == 1 and "Traceback" not in r2.stderr
    assert path.read_bytes() == data


def test_two_keys_are_different(tmp_path):
    a, b = create_key_file(tmp_path / "a.key"), create_key_file(tmp_path / "b.key")
    assert read_key_file(a) != read_key_file(b)


def test_key_init_path_and_config_key_file(tmp_path):
    home, repo = tmp_path / "home", git_repo(tmp_path / "repo")
    r = cli("key", "init", "--path", str(tmp_path / "k" / "mine.key"), cwd=repo, home=home)
    assert r.returncode == 0, r.stderr
    assert mode(tmp_path / "k" / "mine.key") == 0o600
    (repo / ".blue").mkdir()
    (repo / ".blue" / "config.yaml").write_text(
        f"encryption:\n  key_source: file\n  key_file: {tmp_path / 'cfg.key'}\n")
    r = cli("key", "init", cwd=repo, home=home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(tmp_path / "cfg.key")


def test_key_init_refuses_inside_the_repository(tmp_path):
    home, repo = tmp_path / "home", git_repo(tmp_path / "repo")
    r = cli("key", "init", "--path", str(repo / "keys" / "umk.key"), cwd=repo, home=home)
    assert r.returncode == 2
    assert "inside the repository" in r.stderr and "Traceback" not in r.stderr
    assert not (repo / "keys").exists() or not (repo / "keys" / "umk.key").exists()
    # Git-ignored: allowed (it can never be committed by accident).
    (repo / ".gitignore").write_text("secrets/\n")
    r = cli("key", "init", "--path", str(repo / "secrets" / "umk.key"), cwd=repo, home=home)
    assert r.returncode == 0, r.stderr


def test_tracked_key_file_is_refused(tmp_path):
    repo = git_repo(tmp_path / "repo")
    key = repo / "umk.key"
    key.write_bytes(base64.b64encode(os.urandom(32)))
    key.chmod(0o600)
    subprocess.run(["git", "-C", str(repo), "add", "umk.key"], check=True)
    with pytest.raises(KeyError_, match="tracked by git"):
        read_key_file(key, repo)


# --- reading the key file --------------------------------------------------------------


def test_missing_key_file(tmp_path):
    with pytest.raises(KeyError_, match="not found.*key init"):
        read_key_file(tmp_path / "nope.key")


def test_group_or_world_readable_key_is_refused(tmp_path):
    key = create_key_file(tmp_path / "k.key")
    for m in (0o644, 0o640, 0o604):
        key.chmod(m)
        with pytest.raises(KeyError_, match=f"mode {m:04o}.*chmod 600") as e:
            read_key_file(key)
        assert isinstance(e.value, StoreUnavailable)
    key.chmod(0o400)
    assert len(read_key_file(key)) == 32


def test_unreadable_key_file(tmp_path):
    (tmp_path / "k.key").mkdir()
    with pytest.raises(KeyError_, match="cannot read key file"):
        read_key_file(tmp_path / "k.key")


def test_not_a_key(tmp_path):
    key = tmp_path / "k.key"
    key.write_text("hello, this is not a key\n")
    key.chmod(0o600)
    with pytest.raises(KeyError_, match="not a blue-index key"):
        read_key_file(key)
    key.write_bytes(base64.b64encode(os.urandom(16)))
    with pytest.raises(KeyError_, match="not a blue-index key"):
        read_key_file(key)


def test_raw_32_byte_key_is_accepted(tmp_path):
    key = tmp_path / "k.key"
    raw = os.urandom(32)
    key.write_bytes(raw)
    key.chmod(0o600)
    assert read_key_file(key) == raw


# --- file source -----------------------------------------------------------------------


def test_file_source_wrap_binds_dialogue_and_version(tmp_path):
    src = FileKeySource(create_key_file(tmp_path / "k.key"))
    key, wrapped = src.new_data_key("d1", 1)
    assert len(key) == 32 and src.unwrap("d1", 1, wrapped) == key
    assert FileKeySource(tmp_path / "k.key").key_id == src.key_id
    with pytest.raises(IntegrityError, match="dialogue d2"):
        src.unwrap("d2", 1, wrapped)
    with pytest.raises(IntegrityError):
        src.unwrap("d1", 2, wrapped)
    other = FileKeySource(create_key_file(tmp_path / "o.key"))
    assert other.key_id != src.key_id
    with pytest.raises(IntegrityError):
        other.unwrap("d1", 1, wrapped)


# --- KMS source (real moto server) -----------------------------------------------------


def test_kms_source_round_trip_and_binding(kms_endpoint, kms_key):
    src = KmsKeySource(kms_key, "us-east-1", kms_endpoint)
    assert src.key_id.startswith("kms:arn:aws:kms:") and src.key_id.endswith(kms_key)
    key, wrapped = src.new_data_key("d1", 1)
    assert len(key) == 32
    assert KmsKeySource(kms_key, "us-east-1", kms_endpoint).unwrap("d1", 1, wrapped) == key
    with pytest.raises(IntegrityError, match="dialogue d2"):
        src.unwrap("d2", 1, wrapped)
    assert src.unwrap("d1", 1, src.wrap("d1", 1, key)) == key


def test_kms_unknown_key_is_one_clear_line(kms_endpoint, aws_env):
    with pytest.raises(KeyError_, match="KMS describe_key failed.*kms_key_id") as e:
        KmsKeySource("alias/does-not-exist", "us-east-1", kms_endpoint)
    assert "\n" not in str(e.value)


def test_kms_envelope_over_a_dict_store(kms_endpoint, kms_key):
    from indexer.store.envelope import EncryptedStore
    from tests.test_envelope import DictStore, items_of

    inner = DictStore()
    EncryptedStore(inner, KmsKeySource(kms_key, "us-east-1", kms_endpoint)).write(
        "d1", list(items_of("d1").values()), [])
    assert inner.load("d1")["datakey"]["algorithm"] == "AES-256-GCM/KMS"
    fresh = EncryptedStore(inner, KmsKeySource(kms_key, "us-east-1", kms_endpoint))
    assert fresh.load("d1") == items_of("d1")
