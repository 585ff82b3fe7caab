"""grammars/*.yaml -> compiled Grammar: rules as data, clear errors, new aliases without code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer import grammar
from indexer.grammar import GrammarError
from indexer.model import Ref
from indexer.parse import parse_markers

REPO_GRAMMARS = Path(__file__).resolve().parent.parent / "grammars"


@pytest.fixture()
def grammar_copy(tmp_path: Path) -> Path:
    d = tmp_path / "grammars"
    shutil.copytree(REPO_GRAMMARS, d)
    return d


def test_default_grammar_loads_and_is_cached() -> None:
    g = grammar.load()
    assert g is grammar.load()
    assert {p.name for p in g.sources} >= {"keywords.yaml", "typed-ids.yaml"}


def test_env_var_selects_folder(grammar_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(grammar.ENV_VAR, str(grammar_copy))
    assert grammar.grammar_dir() == grammar_copy
    assert grammar.load().sources[0].parent == grammar_copy.resolve()


def test_lookups_the_assembler_uses() -> None:
    g = grammar.load()
    assert g.rule("perspective").kind == "perspective"
    assert g.rule("move : bridge").keyword == "MOVE:BRIDGE"
    assert g.rule("minority   verdict").kind == "verdict"
    assert g.rule("RE:SUPPORT").ref == "support" and g.rule("RE:SUPPORT").attach == "entity"
    assert g.rule("NOPE") is None and g.kind_of("NOPE") == "unknown"
    assert g.raises_tension("tension") and not g.raises_tension("resolved")
    assert g.is_entity("recommendation") and not g.is_entity("move")
    assert g.event_of("RESOLVED") == "resolved"
    assert g.event_of("RESOLUTION") == "resolved"
    assert g.event_of("CONCESSION") == "addressed"
    assert g.event_of("ACKNOWLEDGED") == "acknowledged"
    assert g.event_of("RE:REOPEN") == "reopened"
    assert g.event_of("TENSION", "tension") == "raised"
    assert g.event_of("CLAIM", "claim") is None
    assert g.takes_targets("RESOLVED") and not g.takes_targets("MOVE:CONVERGE")


def test_reference_rules() -> None:
    g = grammar.load()
    t = Ref("T0001", "T0001")
    p = Ref("BRIOCHE-P0001", "P0001", "brioche", 0)
    assert g.reference_violation("RE:RESOLVE", t, "perspective") is None
    assert "RE:RESOLVE" in g.reference_violation("RE:RESOLVE", p, "perspective")
    assert g.reference_violation("RE:REOPEN", p, None)
    assert g.reference_violation("RE:ADDRESS", p, None)
    assert g.reference_violation("RE:REFINE", p, "perspective") is None
    assert g.reference_violation("RE:REFINE", t, "perspective")
    assert g.reference_violation("RE:SUPPORT", t, "perspective") is None


def test_id_normalisation() -> None:
    g = grammar.load()
    assert g.normalize_id("P1") == g.normalize_id("p01") == "P01"
    assert g.normalize_id("T4-R1") == "T04-R1"
    assert g.normalize_id("t-new") == "T-NEW"
    assert g.normalize_id("T0101") == "T0101"
    assert g.normalize_id("nope") is None


def test_new_alias_is_a_grammar_edit(grammar_copy: Path) -> None:
    text = "[SETTLED T01: we agree]\nbody\n"
    before, _ = parse_markers(text, grammar.load(grammar_copy))
    assert before[0].kind == "unknown"
    kw = grammar_copy / "keywords.yaml"
    kw.write_text(kw.read_text().replace("aliases:\n", "aliases:\n  SETTLED: RESOLVED\n"))
    g = grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))
    blocks, diags = parse_markers(text, g)
    assert (blocks[0].kind, blocks[0].keyword) == ("resolved", "RESOLVED")
    assert [t.id for t in blocks[0].targets] == ["T01"] and diags == []


def test_new_keyword_is_a_grammar_edit(grammar_copy: Path) -> None:
    kw = grammar_copy / "keywords.yaml"
    kw.write_text(kw.read_text().replace(
        "keywords:\n", "keywords:\n  HUNCH:\n    kind: hunch\n    targets: true\n", 1))
    g = grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))
    blocks, diags = parse_markers("[hunch on T02: maybe]\n", g)
    assert blocks[0].kind == "hunch" and blocks[0].label == "maybe"
    assert [t.id for t in blocks[0].targets] == ["T02"]
    assert [d.code for d in diags] == ["marker-irregular"]  # 'on' not listed for HUNCH


@pytest.mark.parametrize(("edit", "key"), [
    (("kind: perspective", "kind: [x]"), "keywords.PERSPECTIVE.kind"),
    (("    event: resolved\n", "    event: done\n"), "keywords.RESOLVED.event"),
    (("    id: P\n", "    id: PP\n"), "keywords.PERSPECTIVE.id"),
    (("  REFINED: REFINEMENT", "  REFINED: NOSUCH"), "aliases.REFINED"),
    (("    entity: true\n", "    entity: yes please\n"), "keywords.PERSPECTIVE.entity"),
    (("  PERSPECTIVE:\n", "  PERSPECTIVE:\n    colour: blue\n"), "keywords.PERSPECTIVE.colour"),
    (('prepositions: ["on"]', "prepositions: [on]"), "keywords.REFINEMENT.prepositions"),
])
def test_malformed_grammar_names_file_and_key(grammar_copy: Path, edit: tuple[str, str],
                                              key: str) -> None:
    kw = grammar_copy / "keywords.yaml"
    text = kw.read_text()
    assert edit[0] in text
    kw.write_text(text.replace(edit[0], edit[1], 1))
    with pytest.raises(GrammarError) as e:
        grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))
    assert "keywords.yaml" in str(e.value) and key in str(e.value)


def test_invalid_yaml_names_file_and_line(grammar_copy: Path) -> None:
    (grammar_copy / "typed-ids.yaml").write_text("dialect: typed-ids\nkeywords: [unclosed\n")
    with pytest.raises(GrammarError, match=r"typed-ids\.yaml:\d+: invalid YAML"):
        grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))


def test_reference_rule_must_name_known_type(grammar_copy: Path) -> None:
    f = grammar_copy / "typed-ids.yaml"
    f.write_text(f.read_text().replace("RE:REOPEN: {target_types: [T]}",
                                       "RE:REOPEN: {target_types: [Q]}"))
    with pytest.raises(GrammarError, match=r"typed-ids\.yaml.*reference_rules\.RE:REOPEN"):
        grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))


def test_files_without_dialect_are_skipped(grammar_copy: Path) -> None:
    (grammar_copy / "judge.yaml").write_text("tables: {scores: [a, b]}\n")
    g = grammar.compile_files(sorted(grammar_copy.glob("*.yaml")))
    assert "judge.yaml" not in {p.name for p in g.sources}


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GrammarError, match="grammar folder not found"):
        grammar.load(tmp_path / "nowhere")
