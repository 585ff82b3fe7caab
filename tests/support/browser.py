"""A real headless Chromium (Debian's package, driven by playwright) for the report's tests.

One browser per test session (``browser`` fixture); each test opens fresh pages through
``open_page``, which records console errors and uncaught page errors so a test can assert
there were none. Playwright's own browser downloads are never used: the executable is the
system's ``chromium`` (``.ci/run`` installs it). Without it the fixture skips with the
reason.

Screenshots go to ``tests/out/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "tests" / "out"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    for name in (os.environ.get("BLUE_INDEX_TEST_CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        pytest.skip("no system chromium (install it with `apt-get install chromium`, as "
                    ".ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        # playwright gives every launch a fresh temporary user-data dir
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watched:
    page: Any
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, url: str) -> None:
        self.page.goto(url, wait_until="load", timeout=30_000)

    def shot(self, name: str, full_page: bool = False) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """``open_page(width=1200)`` -> Watched; every page is closed after the test."""
    made: list[Any] = []

    def make(width: int = 1200, height: int = 900) -> Watched:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        page = ctx.new_page()
        w = Watched(page)
        page.on("console", lambda m: w.errors.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: w.errors.append(f"page error: {e}"))

        def on_dialog(d: Any) -> None:
            w.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        made.append(ctx)
        return w

    yield make
    for ctx in made:
        ctx.close()
