"""Shared fixtures. Fixtures that belong to one area live in tests/support/<area>.py."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_dialogues"
SHARED = Path(os.environ.get("BLUE_INDEX_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "blue-dialogues"
LEGACY = SHARED / "corpus" / "blue-legacy"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The project's own example dialogues (always present)."""
    return SAMPLES


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real corpus (``../shared``): present in development and CI, not for users."""
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not available at {CORPUS} (../shared is not shipped)")
    return CORPUS


def _corpus_folder(corpus_dir: Path, what: str, wants: Callable[[Path], bool]) -> Path:
    """The real dialogue folder whose files show ``what`` (chosen by content, not name)."""
    for p in sorted(corpus_dir.iterdir()):
        if p.is_dir() and wants(p):
            return p
    pytest.skip(f"no real dialogue under {corpus_dir} has {what}")


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8") if p.is_file() else ""


@pytest.fixture(scope="session")
def corpus_dialogue(corpus_dir: Path) -> Path:
    """The real dialogue with a verdict and a heading-shaped ledger of expert-qualified ids
    (``### MACARON-T01 (R0): ...``): the worked cases of FORMAT.md 3."""
    return _corpus_folder(corpus_dir, "a verdict and a qualified-id ledger", lambda p: (
        (p / "verdict.md").is_file()
        and re.search(r"^#{3,4} [A-Z]+(?:-| R\d+-)T\d+", _read(p / "tensions.md"), re.M)
        is not None))


@pytest.fixture(scope="session")
def judge_numbered_dialogue(corpus_dir: Path) -> Path:
    """The real dialogue in the Judge's own numbering: a ``| T01 |`` table ledger and round
    prompts with a Key Tensions table (FORMAT.md 6)."""
    return _corpus_folder(corpus_dir, "a Judge-numbered ledger and Key Tensions prompts",
                          lambda p: re.search(r"^\| T\d+ \|", _read(p / "tensions.md"), re.M)
                          is not None and any("Key Tensions" in _read(q)
                                              for q in p.glob("round-*/*.prompt.md")))


@pytest.fixture(scope="session")
def legacy_dir() -> Path:
    """The real single-file dialogues (``../shared/corpus/blue-legacy``), when present."""
    if not LEGACY.is_dir():
        pytest.skip(f"single-file corpus not available at {LEGACY} (../shared is not shipped)")
    return LEGACY


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A folder another user can reach (the permission tests run commands as user
    ``nobody``): pytest's own tmp folders are private to root (and pytest resets their mode
    whenever a session starts), so this one lives beside them. Skips, saying why, where the
    tests cannot switch users."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv not found: cannot run a command as another user")
    if os.geteuid() != 0:
        pytest.skip("not root: cannot switch to user nobody (permission tests need it)")
    base = Path(tempfile.mkdtemp(prefix="blue-index-nobody-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        subprocess.run(["chmod", "-R", "u+rwx", str(base)], check=False)
        shutil.rmtree(base, ignore_errors=True)
