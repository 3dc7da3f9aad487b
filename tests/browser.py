"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

Playwright (from PyPI) drives the browser the machine already has (`executable_path`), so nothing is
downloaded. Every page load collects the console's messages and the requests that failed, so a test can
assert that a page shows what it should with no error and nothing fetched from outside loopback.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
#: The flags the project always starts Chromium with (no background traffic on a closed network).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is absent (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


def require_chromium() -> None:
    """Skip the calling test, with the reason, when Chromium or Playwright is absent."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)


@dataclass
class PageVisit:
    """What one page load showed: console messages, page errors, failed and external requests."""

    url: str
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and failed requests, as one list."""
        return (
            [text for kind, text in self.console if kind == "error"]
            + self.page_errors
            + [f"request failed: {u}" for u in self.failed_requests]
        )


class Browser:
    """One headless Chromium with a fresh profile; `visit` opens a page and records what happened."""

    def __init__(self, browser: Any, screenshots: Path) -> None:
        self._browser = browser
        self.screenshots = screenshots

    @contextmanager
    def visit(self, url: str, *, screenshot: str | None = None) -> Iterator[tuple[Any, PageVisit]]:
        """Open `url` in a new page (waits for the load event); yields the Playwright page and the record."""
        page = self._browser.new_page()
        record = PageVisit(url)
        page.on("console", lambda m: record.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: record.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: record.failed_requests.append(r.url))

        def _request(request: Any) -> None:
            parsed = urlparse(request.url)
            if parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in _LOCAL_HOSTS:
                record.external_requests.append(request.url)

        page.on("request", _request)
        try:
            page.goto(url, wait_until="load")
            page.wait_for_load_state("networkidle")
            yield page, record
            if screenshot:
                self.screenshots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(self.screenshots / screenshot), full_page=True)
        finally:
            page.close()


@contextmanager
def chromium(screenshots: Path) -> Iterator[Browser]:
    """Start headless Chromium with the project's flags and a fresh user-data dir; close it after."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="labkit-chromium-")
    # Playwright's sync API refuses to start while this thread has a running event loop; a notebook
    # test in the same process can leave nbclient's (nest-asyncio patched) loop marked as running.
    left_running = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield Browser(context, screenshots)
            finally:
                context.close()
    finally:
        asyncio._set_running_loop(left_running)
        shutil.rmtree(profile, ignore_errors=True)
