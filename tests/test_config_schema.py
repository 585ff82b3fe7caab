"""The config is validated against a JSON Schema (jsonschema): wrong types and unknown keys
exit 2 with one line naming the key and the file; a config that passed is not validated
again (the hook must start fast)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexer.configschema import problem

from .support.sync import REPO, cli


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / ".blue" / "dialogues").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(("text", "key"), [
    ("storage:\n  sqlite:\n    busy_timeout: soon\n", "storage.sqlite.busy_timeout"),
    ("storage:\n  sqlite:\n    pathh: x.db\n", "storage.sqlite.pathh"),
    ("dialogs: docs\n", "dialogs"),
    ("storage:\n  backend: postgres\n", "storage.backend"),
    ("limits:\n  max_file_size: big\n", "limits.max_file_size"),
    ("hook:\n  sync: 3\n", "hook.sync"),
    ("storage: [not, a, mapping]\n", "storage"),
    ("dialogues: 42\n", "dialogues"),
    ("encryption:\n  key_source: file\n  keyfile: k\n", "encryption.keyfile"),
])
def test_bad_config_is_exit_2_naming_key_and_file(root: Path, text: str, key: str) -> None:
    conf = root / ".blue" / "config.yaml"
    conf.write_text(text, encoding="utf-8")
    for args in (("reindex",), ("status", "--json"), ("hook", "run")):
        p = cli(root, *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in p.stderr, lines
        assert str(conf) in lines[0] and f"'{key}'" in lines[0], lines[0]


def test_good_configs_pass() -> None:
    for data in ({}, {"dialogues": "docs/dialogues"}, {"dialogues": ["a", "b/c"]},
                 {"storage": {"backend": "sqlite", "sqlite": {"path": "x.db",
                                                             "busy_timeout": 2.5}}},
                 {"storage": {"backend": "dynamodb", "dynamodb": {
                     "table": "t", "region": None, "endpoint_url": "http://h:1",
                     "max_attempts": 2}}},
                 {"hook": {"sync": True, "strict": False}, "limits": {"max_file_size": 10}},
                 {"encryption": {"key_source": "kms", "kms_key_id": "k", "region": "r"}}):
        assert problem(data) is None, data
    assert problem({"dialogues": []}) is not None
    assert problem({"dialogues": ["a", 1]}) is not None


def test_a_config_that_passed_is_not_validated_again(root: Path) -> None:
    (root / ".blue" / "config.yaml").write_text("hook:\n  sync: false\n", encoding="utf-8")
    code = ("import sys; from pathlib import Path; from indexer import config; "
            f"config.load(root=Path({str(root)!r}), env={{}}); "
            "print('jsonschema' in sys.modules)")

    def imported() -> str:
        return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()

    assert imported() == "True"  # first time: validated
    assert imported() == "False"  # same bytes: remembered
    (root / ".blue" / "config.yaml").write_text("hook:\n  sync: true\n", encoding="utf-8")
    assert imported() == "True"  # changed: validated again
