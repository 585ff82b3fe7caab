"""CLI.md's exit codes hold for every command: each command of the real parser is run into
each failure class that applies to it, through ``main(argv)`` (and a real subprocess for the
entry point and the commands that would otherwise keep running).

0 success; 1 worked and found problems; 2 usage or configuration error; 3 the store cannot
be reached. Each failure is one line on stderr, no traceback, unless ``-v``.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from indexer import errors
from indexer.cli import build_parser, main
from tests.support.githook import UNCLOSED, Repo
from tests.support.sync import REPO, copy_tree, dialogue_ids


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
                  ) -> list[tuple[str, ...]]:
    """Every runnable command of the parser (``("hook", "run")``, ...), read from argparse."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [prefix]
    return [leaf for name, child in subs[0].choices.items()
            for leaf in leaf_commands(child, (*prefix, name))]


# What each command needs to get past argparse ({id}, {file}, {tmp}: filled per test).
ARGS: dict[tuple[str, ...], list[str]] = {
    ("parse",): ["{file}"], ("lint",): [], ("reindex",): [], ("list",): [],
    ("search",): ["the"], ("status",): [], ("show",): ["{id}"], ("tensions",): ["{id}"],
    ("export",): ["{id}"], ("report",): ["--out", "{tmp}/site"],
    ("serve",): ["{id}", "--port", "0"],
    ("watch",): [], ("hook", "install"): [], ("hook", "uninstall"): [], ("hook", "run"): [],
    ("table", "create"): [], ("store", "copy"): ["--to", "dynamodb"], ("sync",): [],
    ("key", "init"): ["--path", "{tmp}/keys/umk.key"], ("key", "rotate"): [], ("lsp",): [],
}
# Commands that keep running when nothing fails: run as subprocesses with a time limit.
LONG_RUNNING = {("watch",), ("serve",), ("lsp",)}


def test_every_command_of_the_parser_is_covered() -> None:
    assert sorted(leaf_commands(build_parser())) == sorted(ARGS)


@pytest.fixture
def repo(samples_dir: Path, tmp_path: Path):
    cfg = copy_tree(samples_dir, tmp_path / "repo")
    return cfg


def _argv(repo, cmd: tuple[str, ...], tmp: Path, *extra: str) -> list[str]:
    did = dialogue_ids(repo.dialogues)[0]
    file = next(p for p in sorted((repo.dialogues / did).glob("round-*/*.md"))
                if not p.name.endswith(".prompt.md"))
    fill = {"{id}": did, "{file}": str(file), "{tmp}": str(tmp)}
    args = []
    for a in ARGS[cmd]:
        for k, v in fill.items():
            a = a.replace(k, v)
        args.append(a)
    return ["--root", str(repo.root), *cmd, *args, *extra]


def invoke(argv: list[str], capsys, cmd: tuple[str, ...] = (), env: dict[str, str] | None = None
           ) -> tuple[int, str]:
    """Exit code and stderr: in-process through main(), or a subprocess for commands that
    would keep running (bounded by a timeout: a hang fails the test)."""
    if cmd in LONG_RUNNING:
        import os

        p = subprocess.run([sys.executable, "-m", "indexer.cli", *argv], capture_output=True,
                           text=True, cwd=REPO, timeout=60, check=False,
                           env={**os.environ, "NO_COLOR": "1", **(env or {})})
        return p.returncode, p.stderr
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


def assert_one_line(code: int, err: str, expected: int, *words: str) -> None:
    assert code == expected, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith("blue-index: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)


def check(argv: list[str], capsys, cmd: tuple[str, ...], expected: int, *words: str,
          env: dict[str, str] | None = None) -> None:
    """One line without -v; the same code and a traceback with -v."""
    code, err = invoke(argv, capsys, cmd, env)
    assert_one_line(code, err, expected, *words)
    code, err = invoke(["-v", *argv], capsys, cmd, env)
    assert code == expected and "Traceback" in err, err


# -- 2: usage --------------------------------------------------------------------------------
@pytest.mark.parametrize("cmd", sorted(ARGS), ids="-".join)
def test_usage_error_exits_2_in_one_line(cmd, repo, tmp_path, capsys) -> None:
    argv = _argv(repo, cmd, tmp_path, "--no-such-option")
    check(argv, capsys, (), 2, "unrecognized arguments: --no-such-option",
          f"'blue-index {' '.join(cmd)} --help'")


def test_usage_error_of_the_entry_point_is_one_line() -> None:
    p = subprocess.run([sys.executable, "-m", "indexer.cli", "tensions"], capture_output=True,
                       text=True, cwd=REPO, check=False)
    assert_one_line(p.returncode, p.stderr, 2, "DIALOGUE")


# -- 2: configuration ------------------------------------------------------------------------
def _bad_config(root: Path) -> Path:
    path = root / ".blue" / "config.yaml"
    path.write_text("storage:\n  sqlite:\n    busy_timeout: soon\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("cmd", sorted(set(ARGS) - {("lsp",)}), ids="-".join)
def test_wrong_typed_config_value_exits_2_naming_key_and_file(cmd, repo, tmp_path,
                                                             capsys) -> None:
    path = _bad_config(repo.root)
    check(_argv(repo, cmd, tmp_path), capsys, cmd, 2, str(path), "storage.sqlite.busy_timeout")


def _leaves(schema: dict, where: tuple[str, ...] = ()):
    """Every key of the schema (sections too), with its sub-schema."""
    for key, sub in schema.get("properties", {}).items():
        yield (*where, key), sub
        if "properties" in sub:
            yield from _leaves(sub, (*where, key))


def test_every_config_key_with_a_wrong_type_is_a_config_error(tmp_path) -> None:
    """A value of the wrong type anywhere is ConfigError naming key and file, never a raw
    TypeError (a mapping where a scalar goes, a number where a mapping goes)."""
    import yaml

    from indexer import config as config_mod
    from indexer.configschema import SCHEMA

    for n, (key, sub) in enumerate(_leaves(SCHEMA)):
        root = tmp_path / str(n)
        (root / ".blue").mkdir(parents=True)
        doc: dict = {}
        node = doc
        for part in key[:-1]:
            node = node.setdefault(part, {})
        node[key[-1]] = 42 if "properties" in sub else {"not": ["a", "scalar"]}
        (root / ".blue" / "config.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        with pytest.raises(errors.ConfigError) as e:
            config_mod.load(root=root, env={})
        assert ".".join(key) in str(e.value) and "config.yaml" in str(e.value)
        assert e.value.exit_code == 2


# -- 2: a broken grammar file ----------------------------------------------------------------
PARSING = [("reindex",), ("lint",), ("parse",), ("show",), ("tensions",), ("export",),
           ("sync",)]


@pytest.mark.parametrize("cmd", PARSING, ids="-".join)
def test_broken_grammar_exits_2(cmd, repo, tmp_path, capsys, monkeypatch) -> None:
    grammars = tmp_path / "grammars"
    shutil.copytree(REPO / "grammars", grammars)
    (grammars / "keywords.yaml").write_text("keywords: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("BLUE_INDEX_GRAMMARS", str(grammars))
    check(_argv(repo, cmd, tmp_path), capsys, cmd, 2, "keywords.yaml")


def test_broken_grammar_in_the_hook_exits_2(tmp_path, capsys, monkeypatch) -> None:
    git = Repo.create(tmp_path / "repo", tmp_path / "home")
    git.dlg("2026-01-01T0000Z-x/round-0/muffin.md", "[PERSPECTIVE P01: a]\nb\n")
    git.git("add", "-A")
    grammars = tmp_path / "grammars"
    shutil.copytree(REPO / "grammars", grammars)
    (grammars / "keywords.yaml").write_text("keywords: [unclosed\n", encoding="utf-8")
    for k, v in {**git.env, "BLUE_INDEX_GRAMMARS": str(grammars)}.items():
        monkeypatch.setenv(k, v)
    check(["--root", str(git.root), "hook", "run"], capsys, (), 2, "keywords.yaml")


# -- 3: the store cannot be reached ----------------------------------------------------------
def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


DYNAMO_CMDS = [("reindex",), ("list",), ("search",), ("status",), ("show",), ("tensions",),
               ("export",), ("table", "create"), ("store", "copy"), ("report",), ("serve",),
               ("sync",)]


@pytest.mark.parametrize("cmd", DYNAMO_CMDS, ids="-".join)
def test_unreachable_dynamodb_exits_3(cmd, repo, tmp_path, capsys, monkeypatch) -> None:
    (repo.root / ".blue" / "config.yaml").write_text(
        "storage:\n  backend: dynamodb\n  dynamodb:\n"
        f"    endpoint_url: http://127.0.0.1:{_closed_port()}\n    region: us-east-1\n"
        "    max_attempts: 1\n    connect_timeout: 1\n    read_timeout: 1\n", encoding="utf-8")
    env = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_EC2_METADATA_DISABLED":
           "true"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    argv = _argv(repo, cmd, tmp_path)
    if cmd == ("store", "copy"):  # from the unreachable store to SQLite
        argv[argv.index("dynamodb")] = "sqlite"
    if cmd == ("status",):  # status reports the error in its output too: still one line
        code, err = invoke(argv, capsys, cmd, env)
        assert_one_line(code, err, 3, "127.0.0.1")
        return
    check(argv, capsys, cmd, 3, env=env)


SQLITE_CMDS = [("reindex",), ("list",), ("search",), ("report",), ("serve",), ("sync",)]


@pytest.mark.parametrize("cmd", SQLITE_CMDS, ids="-".join)
def test_sqlite_store_that_cannot_be_opened_exits_3(cmd, repo, tmp_path, capsys) -> None:
    blocker = repo.root / ".blue" / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    (repo.root / ".blue" / "config.yaml").write_text(
        "storage:\n  sqlite:\n    path: .blue/not-a-folder/blue.db\n", encoding="utf-8")
    check(_argv(repo, cmd, tmp_path), capsys, cmd, 3, "blue.db")


# -- 2: an unknown dialogue ------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [("show",), ("tensions",), ("export",), ("report",),
                                 ("serve",)], ids="-".join)
def test_unknown_dialogue_exits_2(cmd, repo, tmp_path, capsys) -> None:
    assert main(["--root", str(repo.root), "-q", "reindex"]) == 0
    argv = _argv(repo, cmd, tmp_path)
    if cmd == ("report",):
        argv.append("no-such-dialogue")
    else:
        argv[argv.index(dialogue_ids(repo.dialogues)[0])] = "no-such-dialogue"
    check(argv, capsys, cmd, 2, "no-such-dialogue")


# -- 1: found problems -----------------------------------------------------------------------
def test_found_problems_exit_1(repo, tmp_path, capsys) -> None:
    did = dialogue_ids(repo.dialogues)[0]
    assert main(["--root", str(repo.root), "-q", "reindex"]) == 0
    bad = repo.dialogues / did / "round-0" / "zz-broken.md"
    shutil.copy(next((repo.dialogues / did).glob("round-0/*.md")), bad)
    bad.write_text(UNCLOSED, encoding="utf-8")
    root = ["--root", str(repo.root)]
    assert main([*root, "lint"]) == 1
    assert "marker-unclosed" in capsys.readouterr().out
    assert main([*root, "parse", str(bad)]) == 1
    assert main([*root, "reindex", "--check"]) == 1  # drift: the new file
    assert "differs" in capsys.readouterr().err


def test_found_problems_in_the_hook_exit_1(tmp_path, capsys, monkeypatch) -> None:
    git = Repo.create(tmp_path / "repo", tmp_path / "home")
    git.dlg("2026-01-01T0000Z-x/round-0/muffin.md", UNCLOSED)
    git.git("add", "-A")
    for k, v in git.env.items():
        monkeypatch.setenv(k, v)
    assert main(["--root", str(git.root), "hook", "run"]) == 1
    assert "marker-unclosed" in capsys.readouterr().err


# -- 1: anything unexpected ------------------------------------------------------------------
def test_an_unexpected_error_is_one_line_and_exit_1(repo, tmp_path, capsys, monkeypatch) -> None:
    import indexer.views

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(indexer.views, "show", broken)
    check(_argv(repo, ("show",), tmp_path), capsys, (), 1, "RuntimeError: boom", "-v")


def test_every_error_class_has_a_cli_md_exit_code() -> None:
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.BlueIndexError)]
    assert len(classes) > 8
    for c in classes:
        assert c.exit_code in (1, 2, 3), c
    # the old names are the same hierarchy, importable where they were
    from indexer.config import ConfigError
    from indexer.fsread import Unreadable
    from indexer.githook import GitError, HookError
    from indexer.grammar import GrammarError
    from indexer.keys import KeyError_
    from indexer.report.site import ReportError
    from indexer.store.base import Conflict, IntegrityError, ItemRejected, StoreUnavailable
    from indexer.views import UnknownDialogue

    expected = {ConfigError: 2, GrammarError: 2, GitError: 2, HookError: 2, ReportError: 2,
                UnknownDialogue: 2, StoreUnavailable: 3, IntegrityError: 3, Conflict: 3,
                ItemRejected: 3, KeyError_: 3, Unreadable: 1}
    for cls, code in expected.items():
        assert issubclass(cls, errors.BlueIndexError) and cls.exit_code == code, cls


def test_errors_is_a_leaf_module() -> None:
    import ast

    tree = ast.parse((REPO / "indexer" / "errors.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("indexer"), node.module
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("indexer") for a in node.names)
