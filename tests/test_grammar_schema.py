"""One schema (grammars/schema.yaml) checks every grammar file: a broken copy of any of them
is a GrammarError naming the file and the key, raised by the loader that reads it. A file
that passed is remembered by digest, so an unchanged grammar never imports jsonschema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from indexer import grammar
from indexer.grammar import DEFAULT_DIR, ENV_VAR, FILE_KINDS, GrammarError


def _judge(folder: Path) -> Any:
    from indexer.judge.rules import grammar as judge_grammar

    return judge_grammar(str(folder / "judge.yaml"))


def _single(folder: Path) -> Any:
    from indexer.single_file import single_grammar

    return single_grammar(str(folder / "single-file.yaml"))


def _resolution(folder: Path) -> Any:
    from indexer.resolve import rules

    return rules()


def _lifecycle(folder: Path) -> Any:
    from indexer.lifecycle import transitions

    return transitions()


LOADERS: dict[str, Callable[[Path], Any]] = {
    "keywords.yaml": grammar.load, "typed-ids.yaml": grammar.load, "judge.yaml": _judge,
    "single-file.yaml": _single, "resolution.yaml": _resolution, "lifecycle.yaml": _lifecycle,
}

BROKEN = [  # (file, text written, text that replaces it, the key the error names)
    ("keywords.yaml", "    event: resolved\n", "    event: done\n", "keywords.RESOLVED.event"),
    ("keywords.yaml", "  pad: 2\n", "  pad: 9\n", "ids.pad"),
    ("keywords.yaml", '["on", "to", "for", "about", "re"]', '[on, to]',
     "tolerated_prepositions.0"),
    ("typed-ids.yaml", "typed_id_digits: 4", "typed_id_digits: four", "typed_id_digits"),
    ("typed-ids.yaml", "  T: {kind: tension, event: raised}",
     "  T: {kind: tension, event: raised, colour: blue}", "entity_types.T.colour"),
    ("judge.yaml", "id_pad: 2", "id_pad: two", "id_pad"),
    ("judge.yaml", "  restatement_event: restated\n",
     "  restatement_event: restated\n  colour: blue\n", "identity.colour"),
    ("judge.yaml", "  consolidated_status: consolidated\n",
     "  consolidated_status: consolidated\n  section_heading: '^(?P<id>T\\d+'\n",
     "identity.section_heading"),
    ("judge.yaml", "    - rule: summary\n", "    - rule: hunch\n", "identity.links.3.rule"),
    ("single-file.yaml", 'judge_mark: "💙"', "judge_mark: 7", "judge_mark"),
    ("single-file.yaml", "    known: true\n", "    known: yes please\n", "experts.2.known"),
    ("single-file.yaml", "status_cell:", "status_cells:", "status_cells"),
    ("resolution.yaml", "  - rule: own\n", "  - rule: guess\n", "resolution.3.rule"),
    ("resolution.yaml", "    applies_to: [addressee, bare]\n",
     "    applies_to: [addressee, everyone]\n", "resolution.0.applies_to.1"),
    ("lifecycle.yaml", "initial: open\n", "", "initial"),
    ("lifecycle.yaml", "  - rule: defer\n", "  - rule: resolve\n", "transitions.3.rule"),
    ("lifecycle.yaml", "    events: [reopened]\n", "    events: []\n", "transitions.0.events"),
]


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "grammars"
    shutil.copytree(DEFAULT_DIR, folder)
    monkeypatch.setenv(ENV_VAR, str(folder))
    return folder


def test_every_grammar_file_has_a_schema_definition() -> None:
    schema = yaml.safe_load((DEFAULT_DIR / "schema.yaml").read_text(encoding="utf-8"))
    kinds = set(FILE_KINDS.values()) | {grammar.MARKER}
    assert kinds <= set(schema["$defs"])
    shipped = {p.name for p in DEFAULT_DIR.glob("*.yaml")} - {"schema.yaml"}
    assert shipped == set(LOADERS)
    for name in sorted(shipped):  # the shipped files pass
        doc = yaml.safe_load((DEFAULT_DIR / name).read_text(encoding="utf-8"))
        kind = FILE_KINDS.get(name, grammar.MARKER if "dialect" in doc else None)
        assert kind is not None and grammar.schema_problem(kind, doc) is None, name
    assert {c[0] for c in BROKEN} == shipped  # each file has broken copies below


@pytest.mark.parametrize(("name", "old", "new", "key"), BROKEN,
                         ids=[f"{c[0]}:{c[3]}" for c in BROKEN])
def test_broken_copy_names_file_and_key(copy: Path, name: str, old: str, new: str,
                                        key: str) -> None:
    path = copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(GrammarError) as e:
        LOADERS[name](copy)
    msg = str(e.value)
    assert str(path) in msg and f"'{key}'" in msg, msg
    assert "\n" not in msg  # one line: what, where, what to do


def test_invalid_yaml_of_a_non_marker_file_names_the_line(copy: Path) -> None:
    (copy / "lifecycle.yaml").write_text("initial: open\ntransitions: [unclosed\n")
    with pytest.raises(GrammarError, match=r"lifecycle\.yaml:\d+: invalid YAML"):
        _lifecycle(copy)


def _probe(env: dict[str, str]) -> tuple[bool, str]:
    """Load every grammar in a fresh interpreter: (was jsonschema imported, stderr)."""
    code = ("import sys\n"
            "from indexer.grammar import load; load()\n"
            "from indexer.judge.rules import grammar; grammar()\n"
            "from indexer.single_file import single_grammar; single_grammar()\n"
            "from indexer.resolve import rules; rules()\n"
            "from indexer.lifecycle import transitions; transitions()\n"
            "print('jsonschema' in sys.modules)\n")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120, check=False)
    return p.stdout.strip() == "True", p.stderr


def test_unchanged_grammars_never_import_jsonschema(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV_VAR}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    assert _probe(env) == (True, "")  # first run: checked against the schema
    assert _probe(env) == (False, "")  # unchanged: remembered
    folder = tmp_path / "grammars"
    shutil.copytree(DEFAULT_DIR, folder)
    (folder / "lifecycle.yaml").write_text(
        (folder / "lifecycle.yaml").read_text(encoding="utf-8") + "\n# edited\n",
        encoding="utf-8")
    env[ENV_VAR] = str(folder)
    assert _probe(env) == (True, "")  # one file changed: checked again
    assert _probe(env) == (False, "")
    (folder / "lifecycle.yaml").write_text("initial: 7\ntransitions: []\n", encoding="utf-8")
    used, err = _probe(env)
    assert "lifecycle.yaml" in err and "'initial'" in err
    # an unwritable cache only means checking every time
    env["XDG_CACHE_HOME"] = "/proc/blue-index-nowhere"
    env.pop(ENV_VAR)
    assert _probe(env) == (True, "") and _probe(env) == (True, "")


@pytest.mark.parametrize(("name", "rel", "text"), [
    ("judge.yaml", "d/tensions.md",
     "| ID | Tension | Status |\n|---|---|---|\n| T01 | a | Open |\n"),
    ("judge.yaml", "d/round-1/muffin.md", "### T01\n\n[REFINEMENT]: more\n"),
    ("single-file.yaml", "x.dialogue.md", "# Alignment Dialogue: x\n\n## Round 0\n"),
])
def test_a_broken_grammar_is_loud_not_a_diagnostic_per_file(copy: Path, name: str, rel: str,
                                                             text: str) -> None:
    """Parsing a file whose reader needs a broken grammar raises GrammarError (the CLI's
    configuration exit), never an internal-error diagnostic on each file."""
    from indexer.judge.rules import grammar as judge_grammar
    from indexer.parse import parse_file
    from indexer.single_file import single_grammar

    path = copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\ncolour: blue\n", encoding="utf-8")
    judge_grammar.cache_clear()
    single_grammar.cache_clear()
    try:
        with pytest.raises(GrammarError, match=rf"{name}: key 'colour'"):
            parse_file(rel, text.encode())
    finally:
        judge_grammar.cache_clear()
        single_grammar.cache_clear()


@pytest.mark.parametrize("name", ["resolution.yaml", "lifecycle.yaml"])
def test_lint_stops_on_a_broken_assembly_grammar(copy: Path, name: str, tmp_path: Path) -> None:
    """The rule files read at assembly are configuration: `lint` exits 2 with one line naming
    the file, instead of an internal-error diagnostic on every dialogue."""
    path = copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\ncolour: blue\n", encoding="utf-8")
    root = tmp_path / "repo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "sample_dialogues",
                    root / ".blue" / "dialogues")
    r = subprocess.run([sys.executable, "-m", "indexer.cli", "--root", str(root), "lint"],
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, ENV_VAR: str(copy)})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "colour" in lines[0], r.stderr
