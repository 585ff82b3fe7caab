"""Report fixtures: a store built from a dialogues folder and the site written from it, both
through the real CLI (``reindex`` then ``report``), once per session."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.sync import REPO, cli


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
    """Dialogue ids of a dialogues folder, read here: its sub-folders (FORMAT.md 1) and its
    single-file dialogues ``<id>.dialogue[.recorded].md`` (FORMAT.md 8)."""
    ids = {p.name for p in dialogues.iterdir() if p.is_dir() and not p.name.startswith(".")}
    ids |= {m.group(1) for p in dialogues.iterdir() if p.is_file()
            and (m := re.fullmatch(r"([^.].*?)\.dialogue(?:\.recorded)?\.md", p.name))}
    return sorted(ids)


@pytest.fixture(scope="session")
def sample_site(samples_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("report-samples"), samples_dir)


@pytest.fixture(scope="session")
def corpus_site(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    return build_site(tmp_path_factory.mktemp("report-corpus"), corpus_dir)


def jira_id(corpus_dir: Path) -> str:
    return next(d for d in folder_ids(corpus_dir) if re.search(r"jira", d))


class Served:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as r:
                return r.status, r.read().decode("utf-8"), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace"), dict(e.headers)


def start_serve(root: Path, *args: str) -> Served:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("BLUE_INDEX_SQLITE_PATH", None)
    proc = subprocess.Popen([sys.executable, "-m", "indexer.cli", "--root", str(root),
                             "serve", "--port", "0", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    # bounded wait for the one line that says where it listens
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if not ready:
        proc.kill()
        raise AssertionError("serve did not say where it listens within 60 s")
    line = proc.stdout.readline()
    m = re.match(r"serving (http://[^/]+/) ", line)
    assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
    return Served(proc, m.group(1))


@pytest.fixture
def serve_repo(tmp_path: Path, samples_dir: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(samples_dir, root / ".blue" / "dialogues")
    assert cli(root, "reindex").returncode == 0
    return root


@pytest.fixture
def served(serve_repo: Path) -> Iterator[Served]:
    s = start_serve(serve_repo)
    yield s
    s.proc.terminate()
    assert s.proc.wait(timeout=30) == 0  # SIGTERM: a clean exit
