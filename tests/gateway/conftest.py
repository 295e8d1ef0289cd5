"""The gateway's fixtures: a whole system as real processes (``system``, one per module),
and a real browser (``browser``: Debian's chromium driven by Playwright through its
executable path; Playwright's own browser download is never used)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from ._system import System, running_system

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """NATS, purchase, notify, a recovery replica and the gateway, shared by the module's
    tests (each test makes its own users and campaigns)."""
    with running_system(tmp_path_factory.mktemp("system")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A headless chromium; each test opens its own contexts (one per person)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is absent (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()
