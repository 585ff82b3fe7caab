"""CLI surface details (CLI.md) through the real entry point on a copy of sample_dialogues/:
global options after the command, what ``status`` imports, aligned search output, wording."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.sync import REPO, cli, copy_tree, dialogue_ids


@pytest.fixture
def repo(samples_dir, tmp_path):
    return copy_tree(samples_dir, tmp_path)


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True,
                          text=True, cwd=cwd, check=False,
                          env={"NO_COLOR": "1", "PATH": os.environ["PATH"]})


def test_global_options_after_the_command(repo, tmp_path):
    # `--root` after the command, from a folder that is not the repository
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    p = _run("reindex", "--json", "--root", str(repo.root), cwd=elsewhere)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["files_seen"] > 0
    assert (repo.root / ".blue" / "blue.db").exists()
    assert not (elsewhere / ".blue").exists()
    # -q after the command silences the human report; before the command it still works
    assert _run("reindex", "-q", cwd=repo.root).stdout == ""
    assert _run("-q", "reindex", cwd=repo.root).stdout == ""
    assert "files seen" in _run("reindex", cwd=repo.root).stdout
    # an option given before the command is not reset by the command's own defaults
    p = _run("--root", str(repo.root), "status", "--json", cwd=elsewhere)
    assert json.loads(p.stdout)["root"] == str(repo.root)


def test_check_reports_one_difference_in_the_singular(repo):
    cli(repo.root, "reindex", check=True)
    did = dialogue_ids(repo.dialogues)[0]
    f = sorted((repo.dialogues / did).glob("round-0/*.md"))[0]
    f.write_text(f.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    p = cli(repo.root, "reindex", "--check")
    assert p.returncode == 1
    assert "(1 difference)" in p.stderr


def test_status_does_not_import_the_watcher(repo):
    code = ("import sys\nfrom indexer.cli import main\nrc = main(['--root', sys.argv[1], "
            "'status', '--json'])\nprint(rc, 'watchdog' in sys.modules, "
            "'indexer.watch' in sys.modules, file=sys.stderr)")
    p = subprocess.run([sys.executable, "-c", code, str(repo.root)], capture_output=True,
                       text=True, cwd=REPO, check=False)
    assert p.stderr.split() == ["0", "False", "False"], p.stderr
    assert json.loads(p.stdout)["daemon"] == {"running": False}


def test_search_output_is_an_aligned_table(repo):
    cli(repo.root, "reindex", check=True)
    p = cli(repo.root, "search", "the", check=True)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["WHERE", "BLOCK", "LABEL"]
    assert len(lines) > 2
    block_col = lines[0].index("BLOCK")
    for line in lines[1:]:
        where, rest = line[:block_col], line[block_col:]
        assert where.rstrip().rsplit(":", 1)[1].isdigit()  # path:line, then padding
        assert where.endswith("  ") and not rest.startswith(" ")


# FORMAT.md section 5, written out here (not read from indexer/diagnostics.py)
SPEC_SEVERITY = {
    "marker-unclosed": "error", "duplicate-id": "error", "marker-bad-id": "error",
    "invalid-utf8": "error", "json-invalid": "error",
    "unknown-keyword": "warning", "unresolved-target": "warning", "reference-rule": "warning",
    "marker-irregular": "warning",
}


def test_lint_severities_follow_the_spec_and_the_registry(repo):
    from indexer.diagnostics import CODES

    bad = repo.dialogues / "2026-01-01T0000Z-broken" / "round-0"
    bad.mkdir(parents=True)
    (bad / "muffin.md").write_bytes(b"[PERSPECTIVE P01: a]\n[PERSPECTIVE P01: b]\n"
                                    b"[TENSION T0x1: c]\n[TENSION T02 open\n"
                                    b"[PERSPECTIVE P02: caf\xff]\n")
    (bad / "panel.json").write_text('{"a": ', encoding="utf-8")
    p = cli(repo.root, "lint", "--json")
    assert p.returncode == 1, p.stderr
    seen = {(d["code"], d["severity"]) for d in json.loads(p.stdout)}
    assert {c for c, _ in seen} >= set(SPEC_SEVERITY)  # the samples + this file cover them
    for code, severity in seen:
        assert SPEC_SEVERITY.get(code, severity) == severity, code
        # every code a user can see is registered, with the severity it is reported with
        assert code in CODES and CODES[code].severity == severity, code


def test_reindex_with_a_missing_dialogues_folder_keeps_the_index(repo, tmp_path):
    cli(repo.root, "reindex", check=True)
    before = json.loads(cli(repo.root, "list", "--json", check=True).stdout)
    assert before
    p = cli(repo.root, "--dialogues", str(tmp_path / "typo"), "reindex")
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "dialogues folder not found" in p.stderr
    assert json.loads(cli(repo.root, "list", "--json", check=True).stdout) == before


@pytest.mark.parametrize("args", [("hook", "run"), ("hook", "uninstall"), ("lint", "--staged")])
def test_git_commands_outside_a_repository_say_so_in_one_line(tmp_path, args):
    p = _run("--root", str(tmp_path), *args, cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr == f"blue-index: {tmp_path} is not inside a git work tree; run `git init` " \
                       "first\n"


def test_parse_of_a_folder_says_it_is_a_folder(tmp_path):
    p = _run("parse", str(tmp_path), cwd=tmp_path)
    assert p.returncode == 2 and "a folder, not a file" in p.stderr


def _on_a_terminal(args: list[str], cwd, stream: str, no_color: bool) -> tuple[str, str]:
    """Run with ``stream`` ("stdout" or "stderr") on a pseudo-terminal, the other piped."""
    import pty

    leader, follower = pty.openpty()
    env = {"PATH": os.environ["PATH"], **({"NO_COLOR": "1"} if no_color else {})}
    kw = {"stdout": follower, "stderr": subprocess.PIPE} if stream == "stdout" else \
        {"stdout": subprocess.PIPE, "stderr": follower}
    p = subprocess.Popen([sys.executable, "-m", "indexer.cli", *args], cwd=cwd, env=env, **kw)
    os.close(follower)
    tty = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        tty += chunk
    piped = (p.stdout or p.stderr).read()
    p.wait()
    os.close(leader)
    return tty.decode(), piped.decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(repo):
    lint = ["lint"]
    tty, _ = _on_a_terminal(lint, repo.root, "stdout", no_color=False)
    assert "\x1b[" in tty and "warning" in tty
    tty, _ = _on_a_terminal(lint, repo.root, "stdout", no_color=True)
    assert "\x1b[" not in tty and "warning" in tty
    # parse prints its diagnostics on stderr: a terminal stdout must not colour a piped stderr
    f = next(p for p in sorted(repo.dialogues.rglob("*.md"))
             if "warning" in cli(repo.root, "parse", str(p)).stderr)
    _, err = _on_a_terminal(["parse", str(f)], repo.root, "stdout", no_color=False)
    assert "warning" in err and "\x1b[" not in err
    tty, _ = _on_a_terminal(["parse", str(f)], repo.root, "stderr", no_color=False)
    assert "\x1b[" in tty
