"""Report fixtures: a store built from a dialogues folder and the site written from it, both
through the real CLI (``reindex`` then ``report``), once per session."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.sync import cli


@dataclass
class BuiltSite:
    root: Path  # --root of the CLI runs (holds .blue/blue.db)
    dialogues: Path  # the dialogues folder indexed
    out: Path  # the report folder

    def run(self, *args: str) -> Any:
        return cli(self.root, "--dialogues", str(self.dialogues), *args)

    def json(self, *args: str) -> Any:
        p = self.run(*args, "--json") if args[0] != "export" else self.run(*args)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def page(self, dialogue_id: str) -> Path:
        return self.out / "dialogue" / f"{dialogue_id}.html"

    def url(self, rel: str = "index.html") -> str:
        return (self.out / rel).as_uri()


def build_site(root: Path, dialogues: Path) -> BuiltSite:
    site = BuiltSite(root, dialogues, root / "site")
    root.mkdir(parents=True, exist_ok=True)
    for args in (("reindex",), ("report", "--out", str(site.out))):
        p = site.run(*args)
        assert p.returncode == 0, p.stderr
    return site


def folder_ids(dialogues: Path) -> list[str]:
    """Dialogue ids of a dialogues folder, read here: its sub-folders (FORMAT.md 1)."""
    return sorted(p.name for p in dialogues.iterdir() if p.is_dir()
                  and not p.name.startswith("."))


@pytest.fixture(scope="session")
def sample_site(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("report-samples"), samples_dir)


@pytest.fixture(scope="session")
def corpus_site(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("report-corpus"), corpus_dir)


def jira_id(corpus_dir: Path) -> str:
    return next(d for d in folder_ids(corpus_dir) if re.search(r"jira", d))
