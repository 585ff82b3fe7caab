"""The quick fix for irregular markers, checked against the parser for every keyword of the
grammar that takes targets and every tolerated word: the fixed marker parses with the same
targets and without the warning."""

from __future__ import annotations

import pytest

from indexer.grammar import load
from indexer.lsp.actions import fix_for, regular_form
from indexer.parse import parse_markers

G = load()
CASES = [(kw, word) for kw, rule in sorted(G.keywords.items()) if rule.targets
         for word in sorted(G.tolerated_prepositions - rule.prepositions)]


def _one(line: str):
    blocks, diags = parse_markers(line + "\n", G)
    assert len(blocks) == 1, line
    return blocks[0], {d.code for d in diags}


@pytest.mark.parametrize(("kw", "word"), CASES)
def test_fix_drops_the_tolerated_word(kw: str, word: str) -> None:
    line = f"[{kw} {word} MUFFIN R1-T01, T02]"
    before, codes = _one(line)
    assert "marker-irregular" in codes
    fix = fix_for("marker-irregular", line, 0, 1)
    assert fix is not None and (fix.start, fix.end) == (0, len(line))
    after, codes = _one(fix.new)
    assert "marker-irregular" not in codes
    assert [(t.expert, t.id, t.round) for t in after.targets] == [
        (t.expert, t.id, t.round) for t in before.targets]


def test_regular_forms_are_left_alone() -> None:
    assert CASES  # the grammar has tolerated words
    for marker in ("[CONCESSION to Strudel on T01]", "[REFINEMENT on T03]", "[RESOLVED T01]",
                   "[PERSPECTIVE P01: on the roadmap]"):
        _, codes = _one(marker)
        assert "marker-irregular" not in codes
        assert regular_form(marker) is None


def test_unclosed_marker_is_closed_at_the_end_of_the_line() -> None:
    line = "- [RESOLVED T01 the rollback tag  "
    fix = fix_for("marker-unclosed", line, 3, 3)
    assert fix is not None
    fixed = line[:fix.start] + fix.new + line[fix.end:]
    block, codes = _one(fixed)
    assert "marker-unclosed" not in codes and [t.id for t in block.targets] == ["T01"]
