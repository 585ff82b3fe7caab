"""README.md cannot rot: its Python example runs, every ``blue-index`` command in its shell
blocks and in its GitHub Actions example parses with the real CLI parser, and its shell
blocks work in a fresh shell (``blue-index`` is not on PATH after the install command)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.cli import build_parser
from tests.support.sync import REPO, dialogue_ids

README = (REPO / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(lang: str, section: str | None = None) -> list[str]:
    text = README
    if section is not None:
        start = README.index(f"\n## {section}\n")
        end = README.find("\n## ", start + 1)
        text = README[start:end if end > 0 else None]
    return [body for kind, body in FENCE.findall(text) if kind == lang]


def invocations(command_line: str) -> list[tuple[str, list[str]]]:
    """``(program, args)`` of each blue-index call in a shell line (``&&``, ``;`` split)."""
    out = []
    for part in re.split(r"&&|;|\|\|", command_line):
        words = shlex.split(part, comments=True)
        for i, w in enumerate(words):
            if w == "blue-index" or w.endswith("/blue-index"):
                out.append((w, words[i + 1:]))
                break
    return out


def assert_parses(args: list[str]) -> None:
    ns, extra = build_parser().parse_known_args(args)
    assert not extra and getattr(ns, "func", None), args


def test_the_python_example_runs_on_a_copy_of_the_samples(samples_dir: Path,
                                                          tmp_path: Path) -> None:
    [code] = blocks("python", "Use it from Python")
    shutil.copytree(samples_dir, tmp_path / "sample_dialogues")
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    ids = dialogue_ids(samples_dir)
    assert lines[0] == f"{len(ids)} dialogues written"
    assert [line.split()[0] for line in lines[1:1 + len(ids)]] == ids
    assert lines[-1].startswith("2 ") and "no-such-dialogue" in lines[-1]
    assert (tmp_path / "index.db").is_file()


def test_every_shell_command_parses_and_works_in_a_fresh_shell() -> None:
    seen = 0
    for body in blocks("sh"):
        activated = False
        for line in body.splitlines():
            if re.match(r"\s*(\.|source) \.venv/bin/activate\b", line):
                activated = True
            for program, args in invocations(line):
                seen += 1
                # not on PATH after the install: the venv's path, or activate first
                assert program == ".venv/bin/blue-index" or activated, line
                assert_parses(args)
    assert seen >= 5


def test_the_two_commands_are_install_run_and_test() -> None:
    first = blocks("sh", "Two commands")[0]
    commands = [line for line in first.splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    install, tests = commands
    assert install.startswith("python3 -m venv .venv && .venv/bin/pip install")
    calls = [args for _, args in invocations(install)]
    assert calls[0][-1] == "reindex" and calls[1][-2] == "tensions"  # index, then ask
    assert tests == ".venv/bin/python -m pytest -n 2"
    assert tests in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_github_actions_example_parses_and_runs_real_commands() -> None:
    yaml = pytest.importorskip("yaml")
    [text] = blocks("yaml", "Use it in CI (GitHub Actions)")
    doc = yaml.safe_load(text)
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in on
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    runs = [s["run"] for s in steps if "run" in s]
    assert any("pip install" in r for r in runs)
    calls = [args for r in runs for line in r.splitlines() for _, args in invocations(line)]
    for args in calls:
        assert_parses(args)
    assert ["lint", "--format", "github"] in calls
    assert ["reindex", "--check"] in calls
