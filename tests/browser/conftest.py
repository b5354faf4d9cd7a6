"""Browser tests: Debian's Chromium, headless, driven by Playwright against pytest-django's
live server (and, for the connect flow, the emulator on loopback).

Every run saves its screenshots to tests/browser/screenshots/tmp/ (git-ignored); the PNGs one
level up are reduced copies of the key pages, committed so reviewers can see them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.db import connections

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots" / "tmp"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(monkeypatch):
    """A fresh headless Chromium page; skipped where no Chromium is installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # around it are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1100, "height": 820})
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # ORM calls made while Playwright runs use a connection of their own (its greenlet
            # has its own context); close it here, or PostgreSQL refuses to drop the test
            # database at the end of the run.
            connections.close_all()


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot of the page under tests/browser/screenshots/tmp/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
