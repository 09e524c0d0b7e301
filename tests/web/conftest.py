"""A running ``uchet api`` on a seeded store and a headless Chromium (Debian's, not downloaded)
driven by Playwright; screenshots go to ``artifacts/screenshots``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.api.server import Server, api_server
from tests.web.seed import Seeded, seed

CHROMIUM = Path(os.environ.get("UCHET_TEST_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _need_browser() -> ModuleType:
    """Playwright's sync API; skips (with the reason) where Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or UCHET_TEST_CHROMIUM)")
    return pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@dataclass(frozen=True)
class Site:
    server: Server
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    _need_browser()
    with api_server(UCHET_WEB_SECURE_COOKIE="auto") as server:
        seeded = asyncio.run(seed(server.db_url))
        yield Site(server, seeded)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[object]:
    """Started after the server: Playwright's sync API keeps an event loop running, and the
    server fixture needs ``asyncio.run`` for its database."""
    with _need_browser().sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: object, site: Site) -> Iterator[object]:
    """A fresh browser context (no cookies) with a phone-sized or desktop viewport; fails the
    test on any console error (a CSP violation, a script error)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=site.url, viewport={"width": 1200, "height": 900}, locale="ru-RU"
    )
    context.set_default_timeout(5000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    try:
        yield page
    finally:
        context.close()


def shot(page: object, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
