"""Each link rule of grammars/judge.yaml (``identity.links``) does its part: with the rule,
the sample's case is linked by it; with the rule removed from a copy of the grammar (and
nothing else changed), that case is linked otherwise or not at all. The rules are data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from indexer.assemble import assemble
from indexer.dialogue import Dialogue
from indexer.grammar import DEFAULT_DIR
from indexer.judge.rules import grammar as judge_grammar
from indexer.parse import parse_file
from indexer.views import dialogue_files

FLAGS = "feature-flag-service"
TRUNK = "2026-03-02T1015Z-trunk-based-development"
CDN = "2026-03-09T1400Z-cdn-cache-invalidation"


@pytest.fixture
def without(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """``without(rule)``: use a copy of grammars/ whose identity.links lacks ``rule``."""
    def use(rule: str | None) -> None:
        folder = tmp_path / f"grammars-{rule}"
        shutil.copytree(DEFAULT_DIR, folder)
        if rule is not None:
            path = folder / "judge.yaml"
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            links = doc["identity"]["links"]
            assert any(r["rule"] == rule for r in links), rule
            doc["identity"]["links"] = [r for r in links if r["rule"] != rule]
            path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("BLUE_INDEX_GRAMMARS", str(folder))
        judge_grammar.cache_clear()

    yield use
    monkeypatch.delenv("BLUE_INDEX_GRAMMARS", raising=False)
    judge_grammar.cache_clear()


def load(folder: Path) -> Dialogue:
    files = [parse_file(rel, p.read_bytes())
             for rel, p in dialogue_files(folder.parent, folder.name)]
    return assemble(folder.name, files)


def taken(d: Dialogue, rel: str, local: str) -> tuple[str | None, str | None]:
    """``(ledger id, rule)`` of the row that took in the tension raised in ``rel``."""
    for t in d.tensions:
        for n in t.names:
            if n["file"] == rel and n["id"] == local:
                return t.ledger_id, n["rule"]
    return None, None


CASES = [  # (rule, sample, file, local id, the Judge's id it becomes with the rule)
    ("ledger-id", TRUNK, "round-0/macaron.md", "T01", "MACARON-T01"),
    ("ledger-column", CDN, "round-0/cupcake.md", "T0001", "T02"),
    ("own-words", FLAGS, "round-0/scone.md", "T02", "T03"),
    ("summary", FLAGS, "round-1/tartlet.md", "T06", "T05"),
    ("prompt-table", FLAGS, "round-0/muffin.md", "T01", "T01"),
    ("label", FLAGS, "round-1/scone.md", "T-NEW", "T04"),
]


@pytest.mark.parametrize(("rule", "name", "rel", "local", "ledger_id"), CASES,
                         ids=[c[0] for c in CASES])
def test_rule_links_its_case(without, samples_dir: Path, rule: str, name: str, rel: str,
                             local: str, ledger_id: str) -> None:
    without(None)
    assert taken(load(samples_dir / name), rel, local) == (ledger_id, rule)
    without(rule)
    assert taken(load(samples_dir / name), rel, local)[1] != rule


def test_section_rule(without, samples_dir: Path) -> None:
    """A targetless lifecycle marker inside a ``### T01`` section is about T01."""
    folder = samples_dir / FLAGS
    rel = "round-1/muffin.md"
    line = next(i for i, ln in enumerate((folder / rel).read_text(encoding="utf-8")
                                         .splitlines(), 1) if ln.startswith("[RESOLVED --"))
    without(None)
    d = load(folder)
    assert [(r.target, r.rule) for r in d.references if r.file == rel and r.line == line] == [
        ("ledger#T01", "section")]
    without("section")
    d = load(folder)
    assert not [r for r in d.references if r.file == rel and r.line == line and r.target]


def test_rule_order_is_the_grammar_order(without, samples_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Strongest first: own-words before prompt-table. Swapped, prompt-table takes the case
    both rules can link."""
    folder = tmp_path / "swapped"
    shutil.copytree(DEFAULT_DIR, folder)
    path = folder / "judge.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    links = doc["identity"]["links"]
    i = next(n for n, r in enumerate(links) if r["rule"] == "own-words")
    j = next(n for n, r in enumerate(links) if r["rule"] == "prompt-table")
    links[i], links[j] = links[j], links[i]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BLUE_INDEX_GRAMMARS", str(folder))
    judge_grammar.cache_clear()
    try:
        got = taken(load(samples_dir / FLAGS), "round-0/scone.md", "T02")
    finally:
        monkeypatch.delenv("BLUE_INDEX_GRAMMARS")
        judge_grammar.cache_clear()
    assert got == ("T03", "prompt-table")


def test_convergence_phrases_are_data(without, samples_dir: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The scoreboard's "Convergence Achieved" heading and the summary's "3/3 CONVERGE"
    count through the grammar's patterns; with none, only the panel's moves remain."""
    without(None)
    assert "scoreboard" in {r["source"] for r in load(samples_dir / FLAGS).status_reasons}
    folder = tmp_path / "no-phrases"
    shutil.copytree(DEFAULT_DIR, folder)
    path = folder / "judge.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["dialogue_status"]["converged_patterns"] = [r"\bnever-matches-anything\b"]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("BLUE_INDEX_GRAMMARS", str(folder))
    judge_grammar.cache_clear()
    d = load(samples_dir / FLAGS)
    assert {r["source"] for r in d.status_reasons} == {"moves"}
