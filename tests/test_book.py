"""The book builds offline with Jupyter Book 1.x, warnings as errors, and shows in a browser offline.

The book is built once per test session (`built_book`); the browser tests open the built pages in
headless Chromium over a loopback HTTP server and record console errors and external requests.
"""

from __future__ import annotations

import functools
import http.server
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import Browser, chromium
from tests.conftest import REPO
from tests.workflows import step, step_run


def _jupyter_book() -> str:
    """The jupyter-book script of the Python running the tests (installed by the project)."""
    beside = Path(sys.executable).parent / "jupyter-book"
    return str(beside) if beside.exists() else "jupyter-book"


def _workflow_build() -> tuple[list[str], str]:
    """The book workflow's build command (`.github/workflows/book.yml`) and the folder it uploads."""
    argv = shlex.split(step_run("book", "build", "Build the book"))
    uploaded = step("book", "build", "Upload the HTML")["with"]["path"]
    return argv, uploaded


def test_the_workflow_builds_what_it_uploads() -> None:
    """The book workflow builds the repository with warnings as errors and uploads that build's HTML."""
    argv, uploaded = _workflow_build()
    assert argv[:3] == ["jupyter-book", "build", "."]
    assert "-W" in argv
    out = argv[argv.index("--path-output") + 1]
    assert uploaded.rstrip("/") == f"{out}/_build/html"


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The book workflow's own `jupyter-book build . ... -W`, run in the repository with its output in a
    fresh folder, once per session: (the run, the html folder)."""
    out = tmp_path_factory.mktemp("book")
    argv, _ = _workflow_build()
    argv = [_jupyter_book(), *argv[1:]]
    argv[argv.index("--path-output") + 1] = str(out)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
    return done, out / "_build" / "html"


def _toc_files() -> list[str]:
    """Every `file:` entry of _toc.yml, with the root."""
    text = (REPO / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"^\s*(?:root|- file):\s*(\S+)\s*$", text, flags=re.MULTILINE)


@pytest.mark.slow
def test_the_book_builds_with_warnings_as_errors(
    built_book: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """`jupyter-book build . -W` succeeds and writes every page listed in _toc.yml."""
    done, html = built_book
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    missing = [name for name in _toc_files() if not (html / f"{name}.html").exists()]
    assert not missing
    sandboxes = (html / "book" / "sandboxes.html").read_text(encoding="utf-8")
    assert "nothing reaches AWS unless you ask" in sandboxes


_EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//[^\"']+", re.IGNORECASE
)


@pytest.mark.slow
def test_built_pages_load_no_asset_from_the_internet(
    built_book: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    """No built page has a script, stylesheet, font, image or frame from an http(s) URL (links are fine)."""
    done, html = built_book
    assert done.returncode == 0, done.stdout[-3000:]
    found = [
        f"{page.relative_to(html)}: {match.group(0)[:160]}"
        for page in sorted(html.rglob("*.html"))
        for match in _EXTERNAL_ASSET.finditer(page.read_text(encoding="utf-8"))
    ]
    assert not found, "\n".join(found)


@pytest.fixture(scope="session")
def served_book(built_book: tuple[subprocess.CompletedProcess[str], Path]) -> Iterator[str]:
    """The built book served over HTTP on 127.0.0.1 (a free port): its base URL."""
    done, html = built_book
    if done.returncode != 0:
        pytest.fail("the book did not build:\n" + done.stdout[-3000:])
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for the session; screenshots go to a temporary folder and results/."""
    with chromium(tmp_path_factory.mktemp("screenshots")) as opened:
        yield opened


def _keep_screenshot(browser: Browser, name: str) -> None:
    """Copy a screenshot to results/screenshots/ (gitignored) so CI can keep it as an artifact."""
    target = REPO / "results" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(browser.screenshots / name, target / name)


@pytest.mark.slow
@pytest.mark.browser
def test_index_redirects_to_the_intro_with_navigation(served_book: str, browser: Browser) -> None:
    """The index opens the introduction; the sidebar lists the parts, and following a link works."""
    with browser.visit(f"{served_book}/index.html", screenshot="index.png") as (page, record):
        page.wait_for_url("**/book/intro.html")
        captions = [c.strip() for c in page.locator("nav.bd-links p.caption").all_inner_texts()]
        assert "Start here" in captions
        links = page.locator("nav.bd-links a.reference.internal")
        assert links.count() >= 3
        target = links.nth(1)
        href = target.get_attribute("href")
        assert href
        target.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(href.split("#")[0].lstrip("./").split("/")[-1])
        assert page.locator("article h1").count() == 1
    _keep_screenshot(browser, "index.png")
    assert not record.errors, record.errors
    assert not record.external_requests, record.external_requests


def _figure_sizes(page: object) -> list[tuple[str, int, int]]:
    from typing import Any

    handle: Any = page
    return list(
        handle.evaluate(
            """() => Array.from(document.querySelectorAll('article img, article svg')).map(
                e => [e.getAttribute('src') || e.tagName, e.naturalWidth ?? e.getBoundingClientRect().width,
                      e.getBoundingClientRect().height])"""
        )
    )


@pytest.mark.slow
@pytest.mark.browser
def test_a_chapter_shows_highlighted_code_and_a_figure(served_book: str, browser: Browser) -> None:
    """The rolling-updates chapter has Pygments-highlighted code and an SVG figure that loaded."""
    with browser.visit(f"{served_book}/book/rolling-updates.html", screenshot="rolling-updates.png") as (
        page,
        record,
    ):
        assert (
            page.locator(
                "div.highlight pre span.nt, div.highlight pre span.s2, div.highlight pre span.nb"
            ).count()
            > 0
        )
        figures = [f for f in _figure_sizes(page) if f[0].endswith(".svg")]
        assert figures, "no SVG figure on the page"
        assert all(width > 0 and height > 0 for _, width, height in figures), figures
        assert page.locator("nav.bd-links a.reference.internal").count() >= 3
    _keep_screenshot(browser, "rolling-updates.png")
    assert not record.errors, record.errors
    assert not record.external_requests, record.external_requests


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("chapter", ["deployment-strategies", "express-mode", "operating", "copilot"])
def test_the_newer_chapters_show_their_code_and_figures(
    served_book: str, browser: Browser, chapter: str
) -> None:
    """The chapters added for ECS in 2026 and for operating a service load offline with their figures
    and highlighted code, and without a console error."""
    with browser.visit(f"{served_book}/book/{chapter}.html", screenshot=f"{chapter}.png") as (page, record):
        assert page.locator("article h1").count() == 1
        assert page.locator("div.highlight pre").count() > 0
        figures = [f for f in _figure_sizes(page) if f[0].endswith(".svg")]
        assert all(width > 0 and height > 0 for _, width, height in figures), figures
        if chapter == "deployment-strategies":
            assert len(figures) >= 3, figures
    _keep_screenshot(browser, f"{chapter}.png")
    assert not record.errors, record.errors
    assert not record.external_requests, record.external_requests


@pytest.mark.slow
@pytest.mark.browser
def test_the_lab_page_shows_offline(served_book: str, browser: Browser) -> None:
    """The nginx-alb lab page renders its notebook's code cells, with no error and nothing external."""
    with browser.visit(f"{served_book}/labs/nginx-alb/lab.html", screenshot="lab-nginx-alb.png") as (
        page,
        record,
    ):
        assert "nginx" in page.locator("article h1").first.inner_text()
        assert page.locator("div.cell div.highlight pre").count() > 0
        assert page.locator("div.highlight pre span").count() > 0
    _keep_screenshot(browser, "lab-nginx-alb.png")
    assert not record.errors, record.errors
    assert not record.external_requests, record.external_requests


def test_the_readme_quick_start_is_what_ci_runs() -> None:
    """The README gives the two set-up commands, both from the lock, and .ci/run runs the test one."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    venv = "python3 -m venv .venv && . .venv/bin/activate && "
    main_job = (
        venv
        + "pip install --require-hashes -r requirements/labkit.txt && pip install --no-deps -e . && labkit demo"
    )
    test_command = (
        venv
        + "pip install --require-hashes -r requirements/test.txt && pip install --no-deps -e . && python -m pytest"
    )
    assert main_job in readme
    assert test_command in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci
    for lock in ("requirements/labkit.txt", "requirements/test.txt"):
        text = (REPO / lock).read_text(encoding="utf-8")
        pins = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9][\w.-]*==", line)]
        assert pins, lock
        assert all("--hash=sha256:" in text.split(pin, 1)[1].split("\n", 3)[1] for pin in pins), lock
