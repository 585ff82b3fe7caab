"""layout.classify: every file under .blue/dialogues gets a role (FORMAT.md section 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import layout
from indexer.layout import Place, classify

D = "2026-02-06T1839Z-rfc-0058"


@pytest.mark.parametrize(("rel", "place"), [
    (f"{D}/round-0/muffin.md", Place(layout.RESPONSE, D, 0, "muffin")),
    (f"{D}/round-12/Cupcake.md", Place(layout.RESPONSE, D, 12, "cupcake")),
    (f"{D}/round-1/muffin.prompt.md", Place(layout.PROMPT, D, 1, "muffin")),
    (f"{D}/round-1/panel.json", Place(layout.PANEL, D, 1)),
    (f"{D}/round-2.summary.md", Place(layout.SUMMARY, D, 2)),
    (f"{D}/round-2/summary.md", Place(layout.SUMMARY, D, 2)),
    (f"{D}/round-2/scoreboard.md", Place(layout.SCOREBOARD, D, 2)),
    (f"{D}/round-2/context-brief.md", Place(layout.NOTE, D, 2)),
    (f"{D}/tensions.md", Place(layout.LEDGER, D)),
    (f"{D}/scoreboard.md", Place(layout.SCOREBOARD, D)),
    (f"{D}/verdict.md", Place(layout.VERDICT, D)),
    (f"{D}/expert-pool.json", Place(layout.POOL, D)),
    ("pm-repo-sync-pool.json", Place(layout.POOL)),
    (f"{D}/background.md", Place(layout.NOTE, D)),
    (f"{D}/CONVERGENCE.md", Place(layout.NOTE, D)),
    (f"{D}/notes/deep/x.md", Place(layout.NOTE, D)),
    ("README.md", Place(layout.NOTE)),
])
def test_roles(rel: str, place: Place) -> None:
    assert classify(rel) == place


@pytest.mark.parametrize("name", [".#muffin.md", "muffin.md~", ".muffin.md.swp", "4913",
                                  "muffin.md.tmp", "muffin.png", ".hidden.md", "#muffin.md#"])
def test_editor_leftovers_and_other_files_are_ignored(name: str) -> None:
    assert classify(f"{D}/round-0/{name}").role == layout.IGNORED


def test_hidden_folders_are_ignored() -> None:
    assert classify(f"{D}/.git/round-0/muffin.md").role == layout.IGNORED
    assert classify(f".cache/{D}/round-0/muffin.md").role == layout.IGNORED


def test_every_corpus_file_has_a_role(corpus_dir: Path) -> None:
    roles = {}
    for p in corpus_dir.rglob("*"):
        if p.is_file():
            rel = p.relative_to(corpus_dir).as_posix()
            roles[rel] = classify(rel).role
    assert set(roles.values()) <= set(layout.ROLES)
    # independent expectations from the file names alone
    for rel, role in roles.items():
        name = rel.rsplit("/", 1)[-1]
        if name.endswith(".prompt.md"):
            assert role == layout.PROMPT
        elif (len(rel.split("/")) == 3 and rel.split("/")[1].startswith("round-")
              and name.endswith(".md") and name != "summary.md"):
            assert role == layout.RESPONSE, rel
        elif name == "tensions.md":
            assert role == layout.LEDGER


def test_every_sample_file_has_a_role(samples_dir: Path) -> None:
    files = [p for p in samples_dir.rglob("*") if p.is_file()]
    assert files
    for p in files:
        assert classify(p.relative_to(samples_dir).as_posix()).role in layout.ROLES
