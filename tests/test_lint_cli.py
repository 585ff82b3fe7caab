"""``blue-index lint`` / ``blue-index parse`` as users run them (real processes, real files),
and the library calls behind them (lint_sources, lint_paths)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.lint import find_dialogues_root, lint_paths, lint_sources

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _lines(p: Path) -> list[str]:
    return p.read_bytes().decode("utf-8", "replace").lstrip("\ufeff").replace("\r", "").split("\n")


def test_lint_samples_exits_0_warnings_only_where_irregular(samples_dir: Path) -> None:
    r = run("lint", "sample_dialogues", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    diags = json.loads(r.stdout)
    # notes (info) only for the single files without markers: the stub and the narrative
    notes = [d for d in diags if d["severity"] == "info"]
    assert {d["code"] for d in notes} <= {"single-file-no-markers"}
    for d in notes:
        assert not re.search(r"^\s*[-*]?\s*\**\[[A-Z]{2,}", (REPO / d["file"]).read_text(), re.M)
    diags = [d for d in diags if d["severity"] != "info"]
    assert diags and all(d["severity"] == "warning" for d in diags)
    # each parse-level warning points at something irregular in the file itself
    for d in diags:
        path = REPO / d["file"]
        raw = path.read_bytes()
        line = _lines(path)[d["line"] - 1] if d["line"] else ""
        if d["code"] == "bom":
            assert raw.startswith(b"\xef\xbb\xbf")
        elif d["code"] == "crlf":
            assert b"\r" in raw
        elif d["code"] == "unknown-keyword":
            # at the line start, or inside a sentence at the diagnostic's column
            at = line[d["column"] - 1:] if d["column"] and not line.startswith("[") else line
            word = at.lstrip("[").split(":")[0].split("]")[0].split()[0]
            assert at.startswith("[") and word not in ("PERSPECTIVE", "TENSION", "RESOLVED")
        elif d["code"] == "marker-irregular":
            assert " on " in line and line.lstrip("-* ").startswith("[RESOLVED")


def test_lint_planted_error_exits_1_with_file_and_line() -> None:
    folder = DATA / "planted-error"
    if not folder.is_dir():  # written by the samples engineer; fall back on our own tree
        pytest.fail("tests/data/planted-error is missing")
    r = run("lint", str(folder.relative_to(REPO)))
    assert r.returncode == 1
    bad = []  # independently: a line starting with '[' whose bracket never closes
    for p in sorted(folder.rglob("round-*/*.md")):
        for i, ln in enumerate(_lines(p), 1):
            if ln.startswith("[") and "]" not in ln and not p.name.endswith(".prompt.md"):
                bad.append(f"{p.relative_to(REPO).as_posix()}:{i}:")
    assert bad
    for where in bad:
        assert any(line.startswith(where) and " error " in line and "marker-unclosed" in line
                   for line in r.stdout.splitlines()), r.stdout


def test_lint_duplicate_id_sample() -> None:
    folder = DATA / "duplicate-id"
    r = run("lint", str(folder.relative_to(REPO)), "--json")
    assert r.returncode == 1
    got = {(d["file"], d["line"]) for d in json.loads(r.stdout) if d["code"] == "duplicate-id"}
    want = set()
    for p in folder.rglob("round-*/*.md"):
        seen = set()
        for i, ln in enumerate(_lines(p), 1):
            if ln.startswith("[PERSPECTIVE ") or ln.startswith("[TENSION "):
                ident = ln.split()[1].rstrip(":]")
                if ident in seen:
                    want.add((p.relative_to(REPO).as_posix(), i))
                seen.add(ident)
    assert want and got == want


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "dialogues"
    d = root / "2026-01-01T0000Z-t"
    (d / "round-0").mkdir(parents=True)
    (d / "round-1").mkdir()
    (d / "round-0" / "muffin.md").write_text("[TENSION T01: origin]\nwhy\n")
    (d / "round-1" / "cupcake.md").write_text(
        "[PERSPECTIVE P01: a]\nx\n\n[RESOLVED MUFFIN R0-T01]\ndone\n")
    (d / "round-1" / "eclair.md").write_text("[PERSPECTIVE P01: a]\n[TENSION T01: broken\n")
    return root


def test_lint_temp_tree_error_and_json_shape(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    r = run("lint", str(root), "--json", cwd=tmp_path)
    assert r.returncode == 1
    diags = json.loads(r.stdout)
    assert [list(d) for d in diags][:1] == [["file", "code", "severity", "line", "column",
                                             "message", "hint"]]
    errs = [(d["file"], d["line"], d["code"]) for d in diags if d["severity"] == "error"]
    assert errs == [("dialogues/2026-01-01T0000Z-t/round-1/eclair.md", 2, "marker-unclosed")]
    human = run("lint", str(root), cwd=tmp_path)
    assert human.returncode == 1
    assert human.stdout.startswith("dialogues/2026-01-01T0000Z-t/round-1/eclair.md:2:1: error")
    assert "hint: close the marker" in human.stdout and "1 error" in human.stderr


def test_lint_one_file_uses_its_dialogue_as_context(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    f = root / "2026-01-01T0000Z-t" / "round-1" / "cupcake.md"
    with_context = lint_paths([f], root)
    assert {d.file for d in with_context} <= {str(f.resolve())} | {
        os.path.relpath(f, Path.cwd())}
    assert not [d for d in with_context if "target" in d.code]
    alone = lint_sources({"2026-01-01T0000Z-t/round-1/cupcake.md": f.read_bytes()})
    assert [d.code for d in alone if "target" in d.code]  # R0-T01 cannot resolve alone


def test_lint_sources_only_and_sorting(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    sources = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.md")}
    everything = lint_sources(sources)
    keys = [(d.file, d.line or 0, d.column or 0, d.code) for d in everything]
    assert keys == sorted(keys)
    only = "2026-01-01T0000Z-t/round-1/eclair.md"
    assert {d.file for d in lint_sources(sources, only=[only])} == {only}
    assert lint_sources(sources, only=["2026-01-01T0000Z-t/round-0/muffin.md"]) == []


def test_parse_json_shape_and_role_from_nearest_root(samples_dir: Path) -> None:
    f = next(p for p in sorted(samples_dir.rglob("round-0/muffin.md")))
    r = run("parse", str(f.relative_to(REPO)), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == ["file", "role", "dialogue", "round", "expert", "blocks", "diagnostics"]
    assert (out["role"], out["dialogue"], out["round"], out["expert"]) == (
        "response", f.parent.parent.name, 0, "muffin")
    first = _lines(f)[0]
    b = out["blocks"][0]
    assert list(b)[:7] == ["kind", "id", "label", "body", "line", "targets", "mentions"]
    assert b["line"] == 1 and first.startswith("[")
    assert b["label"] == first.split(":", 1)[1][:-1].strip()
    human = run("parse", str(f.relative_to(REPO)))
    assert human.returncode == 0 and "response" in human.stdout.splitlines()[0]


def test_parse_targets_json(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    f = root / "2026-01-01T0000Z-t" / "round-1" / "cupcake.md"
    out = json.loads(run("parse", str(f), "--json").stdout)
    assert out["blocks"][1]["targets"] == [
        {"raw": "MUFFIN R0-T01", "id": "T01", "expert": "muffin", "round": 0}]
    bad = run("parse", str(root / "2026-01-01T0000Z-t" / "round-1" / "eclair.md"), "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["diagnostics"][0]["code"] == "marker-unclosed"


def test_lint_without_path_uses_configured_dialogues(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    r = run("--root", str(tmp_path), "--dialogues", str(root), "lint", cwd=tmp_path)
    assert r.returncode == 1 and "eclair.md:2:1: error" in r.stdout
    r = run("--root", str(tmp_path), "lint", cwd=tmp_path)  # no .blue/dialogues there
    assert r.returncode == 2 and "not found" in r.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    r = run("lint", str(tmp_path / "missing"))
    assert r.returncode == 2 and "no such file" in r.stderr and "Traceback" not in r.stderr
    r = run("parse", str(tmp_path / "missing.md"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_find_dialogues_root(tmp_path: Path, samples_dir: Path) -> None:
    root = _tree(tmp_path)
    d = root / "2026-01-01T0000Z-t"
    assert find_dialogues_root(d / "round-0" / "muffin.md") == root.resolve()
    assert find_dialogues_root(d) == root.resolve()
    assert find_dialogues_root(root) == root.resolve()
    assert find_dialogues_root(samples_dir) == samples_dir.resolve()
    lone = tmp_path / "lone.md"
    lone.write_text("[PERSPECTIVE P01: x]\n")
    assert find_dialogues_root(lone) == tmp_path.resolve()
