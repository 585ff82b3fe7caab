"""Shared fixtures. Fixtures that belong to one area live in tests/support/<area>.py."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def corpus_dialogue(corpus_dir: Path) -> Path:
    """The one complete real dialogue folder."""
    return next(p for p in sorted(corpus_dir.iterdir()) if p.is_dir())


@pytest.fixture(scope="session")
def legacy_dir() -> Path:
    """The real single-file dialogues (``../shared/corpus/blue-legacy``), when present."""
    if not LEGACY.is_dir():
        pytest.skip(f"single-file corpus not available at {LEGACY} (../shared is not shipped)")
    return LEGACY
