"""assemble() through the real parser: the real corpus and sample_dialogues.

Expected values come from the files themselves (marker lines found by text search, ledger
statuses read with a regex here), never from the code under test.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from indexer.assemble import assemble
from indexer.codec import parsed_files_from_items, to_items
from indexer.dialogue import Dialogue, Entry, Tension
from indexer.model import ParsedFile
from indexer.parse import parse_file
from indexer.views import dialogue_files

TRUNK = "2026-03-02T1015Z-trunk-based-development"
CDN = "2026-03-09T1400Z-cdn-cache-invalidation"


def _parse(folder: Path) -> list[ParsedFile]:
    return [parse_file(rel, p.read_bytes()) for rel, p in dialogue_files(folder.parent,
                                                                         folder.name)]


_cache: dict[Path, tuple[list[ParsedFile], Dialogue]] = {}


def _load(folder: Path) -> tuple[list[ParsedFile], Dialogue]:
    if folder not in _cache:
        files = _parse(folder)
        _cache[folder] = (files, assemble(folder.name, files))
    return _cache[folder]


@pytest.fixture(scope="module")
def corpus(corpus_dialogue: Path) -> Dialogue:
    return _load(corpus_dialogue)[1]


@pytest.fixture(scope="module")
def trunk(samples_dir: Path) -> Dialogue:
    return _load(samples_dir / TRUNK)[1]


@pytest.fixture(scope="module")
def cdn(samples_dir: Path) -> Dialogue:
    return _load(samples_dir / CDN)[1]


def line_of(folder: Path, rel: str, text: str) -> int:
    """1-based line of the first line of a file that contains ``text``."""
    lines = (folder / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def marker(d: Dialogue, folder: Path, rel: str, text: str) -> Entry:
    line = line_of(folder, rel, text)
    return next(e for e in d.blocks if e.file == rel and e.block.line == line)


def raised(d: Dialogue, rel: str, local_id: str) -> Tension:
    """The tension raised in file ``rel`` with that local id (itself, or the ledger row's
    tension it was merged into)."""
    return next(t for t in d.tensions if (t.file == rel and t.id == local_id)
                or any(n["file"] == rel and n["id"] == local_id for n in t.names))


def targets(d: Dialogue, e: Entry) -> set[str | None]:
    return {r.target for r in d.references if r.source == e.key and r.type != "mention"}


def events_from(d: Dialogue, e: Entry) -> list[tuple[str, str]]:
    return [(t.key, ev.kind) for t in d.tensions for ev in t.events if ev.block == e.key]


# --- ledger statuses, read independently -------------------------------------------------
_HEADING = re.compile(r"^#{3,4}\s+([A-Z]+)(?:-| R(\d+)-)(T[-A-Z0-9]+?)(?: \(R(\d+)\))?:")
_EXPLICIT = re.compile(r"\*\*Status:\s*([A-Za-z][A-Za-z -]*?)\*\*")
_LEAD = re.compile(r"^\*\*([A-Za-z]+)\b")
_WORDS = {"resolved": "resolved", "narrowed": "narrowed"}


def ledger_headings(path: Path) -> list[tuple[str, int, str, str]]:
    """``(expert, round, id, final status)`` of every heading-shaped ledger entry."""
    out: list[tuple[str, int, str, str]] = []
    current: list = []
    for line in path.read_text(encoding="utf-8").splitlines() + ["## end"]:
        m = _HEADING.match(line)
        if (m or line.startswith("#")) and current:
            (expert, rnd, tid), body = current[0], current[1:]
            explicit = [x.group(1) for b in body if (x := _EXPLICIT.search(b))]
            if explicit:
                status = explicit[0].strip().lower().replace(" ", "-")
            else:
                lead = next(x.group(1).lower() for b in body if (x := _LEAD.match(b)))
                status = _WORDS[lead]
            out.append((expert, rnd, tid, status))
            current = []
        if m:
            current = [(m.group(1).lower(), int(m.group(2) or m.group(4)), m.group(3))]
        elif current:
            current.append(line)
    return out


def _check_ledger(d: Dialogue, ledger: Path) -> int:
    expected = ledger_headings(ledger)
    assert expected, "the ledger regex found nothing"
    for expert, rnd, tid, status in expected:
        t = next((t for t in d.tensions if t.ledger_id and t.ledger_status is not None
                  and t.expert == expert and t.id == tid and t.round == rnd), None)
        assert t is not None, (expert, rnd, tid)
        assert t.ledger_status == status, (expert, rnd, tid, t.ledger_status, status)
        if t.key.startswith("ledger#"):
            assert any(x.code == "ledger-unmatched" and tid in x.message for x in d.diagnostics)
        else:
            assert t.file == f"round-{rnd}/{expert}.md"
    return len(expected)


# --- the real corpus ---------------------------------------------------------------------
def test_corpus_worked_cases(corpus: Dialogue, corpus_dialogue: Path) -> None:
    f, d = corpus_dialogue, corpus
    e = marker(d, f, "round-1/macaron.md", "[RESOLVED T01: MACARON-T01")
    assert targets(d, e) == {raised(d, "round-0/macaron.md", "T01").key}
    e = marker(d, f, "round-2/cannoli.md", "[RESOLVED MUFFIN R1-T01, MACARON R1-T01, ECLAIR")
    assert targets(d, e) == {raised(d, f"round-1/{x}.md", "T01").key
                             for x in ("muffin", "macaron", "eclair")}
    e = marker(d, f, "round-2/strudel.md", "[RESOLVED: STRUDEL R1-T01")
    assert targets(d, e) == {raised(d, "round-1/strudel.md", "T01").key}
    e = marker(d, f, "round-3/strudel.md", "[RESOLVED T01: Graph assembly")
    assert targets(d, e) == {raised(d, "round-2/strudel.md", "T01").key}
    assert events_from(d, e) == [(raised(d, "round-2/strudel.md", "T01").key, "resolved")]


def test_corpus_ledger_maps_to_raised_tensions(corpus: Dialogue, corpus_dialogue: Path) -> None:
    n = _check_ledger(corpus, corpus_dialogue / "tensions.md")
    assert n == sum(1 for t in corpus.tensions if t.ledger_status is not None)


def test_corpus_metadata(corpus: Dialogue, corpus_dialogue: Path) -> None:
    import json

    pool = json.loads((corpus_dialogue / "expert-pool.json").read_text(encoding="utf-8"))
    assert corpus.question == pool["question"] and corpus.domain == pool["domain"]
    folders = sorted(int(p.name.split("-")[1]) for p in corpus_dialogue.glob("round-*")
                     if p.is_dir())
    assert [r.number for r in corpus.rounds] == folders
    responders = {p.stem for p in corpus_dialogue.glob("round-*/*.md")
                  if not p.name.endswith(".prompt.md")}
    assert {e.slug for e in corpus.experts} == responders
    board = (corpus_dialogue / "scoreboard.md").read_text(encoding="utf-8")
    for e in corpus.experts:
        row = next(r for r in board.splitlines() if r.startswith(f"| {e.name} |"))
        assert e.total == int(row.rstrip(" |").rsplit("|", 1)[1])
    assert "convergence" in board.lower() and corpus.status == "converged"
    assert corpus.verdict is not None
    assert not [x for x in corpus.diagnostics if x.code == "unresolved-target"]


def test_corpus_deterministic_and_round_trips(corpus_dialogue: Path) -> None:
    files, d = _load(corpus_dialogue)
    items = to_items(d)
    rng = random.Random(3)
    for _ in range(3):
        shuffled = files[:]
        rng.shuffle(shuffled)
        assert to_items(assemble(corpus_dialogue.name, shuffled)) == items
    back = parsed_files_from_items(items)
    for pf in files:
        assert back[pf.path].to_dict() == pf.to_dict()


# --- sample_dialogues ---------------------------------------------------------------------
def test_sample_worked_cases(trunk: Dialogue, samples_dir: Path) -> None:
    f, d = samples_dir / TRUNK, trunk
    e = marker(d, f, "round-1/eclair.md", "[RESOLVED T01: MACARON-T01")
    assert targets(d, e) == {raised(d, "round-0/macaron.md", "T01").key}
    e = marker(d, f, "round-2/eclair.md", "[RESOLVED MUFFIN R1-T01, MACARON R1-T01]")
    assert targets(d, e) == {raised(d, f"round-1/{x}.md", "T01").key for x in ("muffin", "macaron")}
    e = marker(d, f, "round-2/muffin.md", "[RESOLVED: STRUDEL R1-T01")
    assert targets(d, e) == {raised(d, "round-1/strudel.md", "T01").key}
    e = marker(d, f, "round-2/strudel.md", "[RESOLVED T01:")
    assert targets(d, e) == {raised(d, "round-1/strudel.md", "T01").key}
    # "to Strudel on T01": Strudel's tension, not the writer's own T01.
    e = marker(d, f, "round-1/muffin.md", "[CONCESSION to Strudel on T01]")
    assert targets(d, e) == {raised(d, "round-0/strudel.md", "T01").key}
    # A note after an em dash carries the qualified mention that names the target.
    e = marker(d, f, "round-1/strudel.md", "[REFINEMENT on T03")
    assert targets(d, e) == {raised(d, "round-0/macaron.md", "T03").key}


def test_sample_ledger_row_id(cdn: Dialogue, samples_dir: Path) -> None:
    f = samples_dir / CDN
    row = next(r for r in (f / "tensions.md").read_text(encoding="utf-8").splitlines()
               if r.startswith("| T02 |"))
    cells = [c.strip() for c in row.split("|")]
    label, raiser = cells[2], cells[4].split()[0].lower()
    expected = next(t for t in cdn.tensions if t.ledger_id == "T02")
    e = marker(cdn, f, "round-2/cupcake.md", "[RESOLVED on T02")
    assert targets(cdn, e) == {expected.key}
    assert next(r.rule for r in cdn.references if r.source == e.key) == "ledger"
    assert expected.ledger_status == "resolved"
    # the row's "Raised by" cell names the expert whose tension the Judge numbered T02
    (name,) = expected.names
    assert (name["expert"], name["label"], name["rule"]) == (raiser, label, "ledger-column")


def test_sample_ledger_table_statuses(cdn: Dialogue, samples_dir: Path) -> None:
    rows = [r.split("|")[1:4] for r in (samples_dir / CDN / "tensions.md")
            .read_text(encoding="utf-8").splitlines() if re.match(r"\| T[-0-9A-Z]+ \|", r)]
    assert len(rows) >= 5
    for rid, label, status in rows:
        words = re.sub(r"\s+by\s+.*$", "", status.strip()).lower().replace(" ", "-")
        t = next(t for t in cdn.tensions if t.ledger_id == rid.strip())
        assert t.ledger_status == words, rid
        assert t.label == label.strip()
        if not t.names:
            assert any(x.code == "ledger-unmatched" and rid.strip() in x.message
                       for x in cdn.diagnostics)


def test_sample_ledger_headings(trunk: Dialogue, samples_dir: Path) -> None:
    assert _check_ledger(trunk, samples_dir / TRUNK / "tensions.md") >= 10


def test_sample_warnings(trunk: Dialogue, cdn: Dialogue, samples_dir: Path) -> None:
    line = line_of(samples_dir / TRUNK, "round-2/strudel.md", "[RESOLVED T07]")
    (w,) = [x for x in trunk.diagnostics if x.code == "unresolved-target" and "T07" in x.message]
    assert (w.file, w.line) == (f"{TRUNK}/round-2/strudel.md", line)
    rule_lines = sorted((x.file, x.line) for x in cdn.diagnostics if x.code == "reference-rule")
    f = samples_dir / CDN
    assert rule_lines == sorted([
        (f"{CDN}/round-1/cupcake.md", line_of(f, "round-1/cupcake.md", "[RE:RESOLVE BRIOCHE-P")),
        (f"{CDN}/round-1/scone.md", line_of(f, "round-1/scone.md", "[RE:REFINE SCONE-T")),
    ])
    # The references that break the rules are still kept.
    assert any(r.type == "resolve" and r.target_raw == "BRIOCHE-P0001" for r in cdn.references)


def test_sample_lifecycle(cdn: Dialogue, samples_dir: Path) -> None:
    t = raised(cdn, "round-1/brioche.md", "T0101")
    assert [(ev.round, ev.actor, ev.kind) for ev in t.events] == [
        (1, "brioche", "raised"), (2, "cupcake", "reopened")]
    assert t.status_by_round == {"1": "open", "2": "reopened"}
    c = raised(cdn, "round-0/cupcake.md", "T0001")
    kinds = [(ev.round, ev.kind) for ev in c.events]
    assert kinds[0] == (0, "raised") and (1, "addressed") in kinds and c.status == "resolved"


@pytest.mark.parametrize("name", [TRUNK, CDN, "feature-flag-service"])
def test_samples_deterministic_and_round_trip(samples_dir: Path, name: str) -> None:
    files, d = _load(samples_dir / name)
    items = to_items(d)
    shuffled = files[::-1]
    assert to_items(assemble(name, shuffled)) == items
    back = parsed_files_from_items(items)
    for pf in d.files:  # as the dialogue holds them (a recording without its blocks)
        assert back[pf.path].to_dict() == pf.to_dict()
    assert {pf.path for pf in files} == set(back)
    assert to_items(assemble(name, back.values())) == items


def test_sample_copy_robustness(samples_dir: Path, tmp_path: Path) -> None:
    """A real sample tree, damaged on disk: every case assembles, each with its warning."""
    import shutil

    root = tmp_path / "dialogues"
    folder = root / TRUNK
    shutil.copytree(samples_dir / TRUNK, folder)
    shutil.rmtree(folder / "round-1")  # a missing round folder
    (folder / "round-0" / "muffin.md").write_text("No markers at all, just prose.\n",
                                                  encoding="utf-8")
    (folder / "round-2" / "scone.md").write_text(
        "[SCONE-P0201: one]\n[RE:DEPEND SCONE-P0202]\n\n"
        "[SCONE-P0202: two]\n[RE:DEPEND SCONE-P0201]\n", encoding="utf-8")
    files = _parse(folder)
    d = assemble(TRUNK, files)
    codes = {x.code for x in d.diagnostics}
    assert {"round-missing", "empty-response", "reference-cycle", "unresolved-target"} <= codes
    # Ledger rows for round-1 tensions now name nothing raised: kept, each with a warning.
    orphans = [t for t in d.tensions if t.key.startswith("ledger#")]
    assert orphans and all(any(x.code == "ledger-unmatched" and t.ledger_id in x.message
                               for x in d.diagnostics) for t in orphans)
    cyc = next(x for x in d.diagnostics if x.code == "reference-cycle")
    assert cyc.file == f"{TRUNK}/round-2/scone.md"
    rng = random.Random(1)
    rng.shuffle(files)
    assert to_items(assemble(TRUNK, files)) == to_items(d)
