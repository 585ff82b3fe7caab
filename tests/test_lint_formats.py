"""``lint --format text|gnu|json|github`` on real files, through the real entry point.

Expected lines are rebuilt here from ``--format json`` (the documented shape) and from the
files themselves (a marker's line and column), not from the formatter under test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.diagformat import GITHUB_MAX_PER_KIND, github_annotation
from indexer.model import Diagnostic

REPO = Path(__file__).resolve().parent.parent
DID = "2026-01-01T0000Z-many"
EXPERTS = ["muffin", "scone", "eclair", "strudel", "cupcake", "macaron", "croissant",
           "brioche", "donut", "bagel", "waffle", "crumpet", "pretzel"]  # 13 > 10


def run(cwd: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    full.update(NO_COLOR="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(cwd), *args],
                          cwd=cwd, env=full, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """13 responses, each with one unclosed marker (an error) and one unknown keyword (a
    warning): more than GitHub shows of either kind."""
    folder = tmp_path / ".blue" / "dialogues" / DID / "round-0"
    folder.mkdir(parents=True)
    for name in EXPERTS:
        (folder / f"{name}.md").write_text(
            f"# {name}\n\n[PERSPECTIVE P01: fine]\nText.\n\n[WIBBLE: odd, 50% sure]\nMore.\n\n"
            "[TENSION T01: never closed\nBody.\n", encoding="utf-8")
    return tmp_path


def _json(tree: Path) -> list[dict]:
    p = run(tree, "lint", "--format", "json")
    assert p.returncode == 1, p.stderr
    return json.loads(p.stdout)


def test_json_format_is_the_json_alias(tree: Path) -> None:
    assert run(tree, "lint", "--format", "json").stdout == run(tree, "lint", "--json").stdout
    diags = _json(tree)
    assert sum(d["severity"] == "error" for d in diags) == len(EXPERTS)


def test_gnu_format_one_line_per_diagnostic(tree: Path) -> None:
    diags = _json(tree)
    p = run(tree, "lint", "--format", "gnu")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines == [f"{d['file']}:{d['line']}:{d['column']}: {d['severity']}: {d['code']} "
                     f"{d['message']}" for d in diags]
    # the position is the marker's, read from the file
    for line in lines:
        m = re.fullmatch(r"([^:]+):(\d+):(\d+): (error|warning|info): (\S+) .+", line)
        assert m, line
        text = (tree / m[1]).read_text(encoding="utf-8").splitlines()[int(m[2]) - 1]
        assert text[int(m[3]) - 1] == "[", line


def _decode(value: str) -> str:
    return value.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n") \
        .replace("%0D", "\r").replace("%25", "%")


ANNOTATION = re.compile(r"::(error|warning|notice) ((?:[a-z]+=[^,:]*,?)+)::(.*)")


def _annotations(out: str) -> list[tuple[str, dict[str, str], str]]:
    found = []
    for line in out.splitlines():
        m = ANNOTATION.fullmatch(line)
        if m:
            props = dict(p.split("=", 1) for p in m[2].split(","))
            found.append((m[1], {k: _decode(v) for k, v in props.items()}, _decode(m[3])))
    return found


def test_github_format_caps_each_kind_and_puts_the_rest_in_the_step_summary(tree: Path
                                                                            ) -> None:
    diags = _json(tree)
    summary = tree / "step-summary.md"
    summary.write_text("# earlier step output\n", encoding="utf-8")
    p = run(tree, "lint", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert p.returncode == 1
    notes = _annotations(p.stdout)
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    for sev, kind in kinds.items():
        total = sum(d["severity"] == sev for d in diags)
        assert sum(k == kind for k, _, _ in notes) == min(total, GITHUB_MAX_PER_KIND)
    # each annotation is one diagnostic: file, line, col, title = code, message (+ hint)
    annotated = set()
    for kind, props, message in notes:
        d = next(d for d in diags if d["file"] == props["file"]
                 and str(d["line"]) == props["line"] and d["code"] == props["title"])
        assert kinds[d["severity"]] == kind and props["col"] == str(d["column"])
        assert message.split("\nhint: ")[0] == d["message"]
        assert (tree / props["file"]).is_file()
        annotated.add((d["file"], d["line"], d["code"]))
    # the rest: rows of a Markdown table appended to the summary (earlier content kept)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step output\n")
    rows = [r for r in text.splitlines() if r.startswith("| ") and not r.startswith("| File")]
    rest = [(d["file"], d["line"], d["code"]) for d in diags
            if (d["file"], d["line"], d["code"]) not in annotated]
    assert len(rest) == len(diags) - len(notes) > 0
    assert [tuple(c.strip() for c in r.strip("|").split(" | ")[:4]) for r in rows] == [
        (f, str(line), next(d["severity"] for d in diags if (d["file"], d["line"], d["code"])
                            == (f, line, c)), c) for f, line, c in rest]
    assert f"{len(rest)} more diagnostics" in p.stdout


def test_github_format_without_a_step_summary_prints_the_rest(tree: Path) -> None:
    diags = _json(tree)
    p = run(tree, "lint", "--format", "github")
    notes = _annotations(p.stdout)
    plain = [line for line in p.stdout.splitlines() if not line.startswith("::")]
    assert len(notes) + len(plain) == len(diags)
    assert all(re.match(r"[^:]+:\d+:\d+: (error|warning|info): ", line) for line in plain)


def test_github_annotation_escapes_what_github_reads_as_syntax() -> None:
    d = Diagnostic("some-code", "warning", "50% sure\nsecond: line", hint="do, this",
                   file="odd,name:x.md", line=3, column=7)
    kind, props, message = _annotations(github_annotation(d))[0]
    assert kind == "warning"
    assert props == {"file": "odd,name:x.md", "line": "3", "col": "7", "title": "some-code"}
    assert message == "50% sure\nsecond: line\nhint: do, this"
    no_line = Diagnostic("c", "info", "m", file="f.md")
    assert github_annotation(no_line) == "::notice file=f.md,title=c::m"
