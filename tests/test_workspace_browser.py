"""The learner's path in a real browser: `labkit start`, JupyterLab in Debian's Chromium, a checkpoint
passed, a hint shown, progress kept across a kernel restart.

JupyterLab is started by the command a learner runs (`labkit start nginx-alb --no-browser`) with a fresh
HOME and Jupyter folders, so the machine's own Jupyter settings are never read. Every wait is on what
JupyterLab shows (a cell's prompt, the kernel status in the status bar), never a sleep. Screenshots go
to results/screenshots/ (git-ignored) for CI to keep. About 40 s on two cores.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from labkit.labs import labs_root, load_lab
from labkit.notebooks import CODE_MARKERS, make_solution_version, read_notebook
from tests.browser import chromium
from tests.conftest import REPO
from tests.jupyterlab import started_workspace

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = REPO / "results" / "screenshots"
#: A cell's prompt once the kernel has run it: `[3]:`.
RAN = re.compile(r"^\[\d+\]:$")


def _first_solution() -> tuple[str, str]:
    """The first solution of the nginx-alb lab (what a learner who got it right types) and the
    checkpoint its check cell grades."""
    source = read_notebook(labs_root() / "nginx-alb" / "lab.ipynb")
    solution = make_solution_version(source)
    for index, cell in enumerate(source.cells):
        if cell.cell_type == "code" and CODE_MARKERS[0] in cell.source:
            following = source.cells[index + 1].source
            checkpoint = re.search(r"lab\.check\(\"([\w-]+)\"\)", following)
            assert checkpoint, following
            return solution.cells[index].source, checkpoint.group(1)
    raise AssertionError("nginx-alb has no solution cell")


class Notebook:
    """The open notebook in JupyterLab: its cells by index, run one at a time."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")

    def wait_idle(self, timeout: float = 60_000) -> None:
        """Wait until the status bar says the kernel is idle."""
        self.page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=timeout)

    def index_of(self, text: str, start: int = 0) -> int:
        """The index of the first cell (from `start`) whose input holds `text`."""
        for index in range(start, self.cells.count()):
            if text in (self.cells.nth(index).locator(".jp-InputArea-editor").text_content() or ""):
                return index
        raise AssertionError(f"no cell holds {text!r}")

    def run(self, index: int, timeout: float = 90_000) -> Any:
        """Select cell `index`, run it in place (Ctrl-Enter), wait for its prompt to show a number."""
        cell = self.cells.nth(index)
        prompt = cell.locator(".jp-InputArea-prompt")
        cell.scroll_into_view_if_needed()
        prompt.click()
        self.page.keyboard.press("Escape")
        before = prompt.inner_text()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            """([cell, before]) => {
                const text = cell.querySelector('.jp-InputArea-prompt').textContent.trim();
                return /^\\[\\d+\\]:$/.test(text) && text !== before;
            }""",
            arg=[cell.element_handle(), before.strip()],
            timeout=timeout,
        )
        return cell

    def type_into(self, index: int, code: str) -> None:
        """Replace a cell's code with `code`, as pasted (no auto-indent or auto-closed brackets)."""
        editor = self.cells.nth(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Escape")


def test_a_learner_passes_a_checkpoint_sees_a_hint_and_keeps_progress_across_a_restart(
    tmp_path: Path,
) -> None:
    """Type the first solution, run it and its check (the widget says passed); show the first hint of a
    failing checkpoint; restart the kernel and see `lab.progress()` still count the pass."""
    solution, passing = _first_solution()
    lab = load_lab("nginx-alb")
    failing = "cluster-created"
    first_hint = lab.checkpoints.get(failing).hints[0]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (
        started_workspace(tmp_path, "nginx-alb") as started,
        chromium(tmp_path / "shots") as browser,
        browser.visit(started.url) as (page, record),
    ):
        notebook = Notebook(page)
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 10", timeout=60_000
        )
        notebook.wait_idle()
        notebook.run(notebook.index_of("sandbox_mode ="))
        notebook.run(notebook.index_of("open_lab("))
        stub = notebook.index_of("# YOUR CODE HERE")
        notebook.type_into(stub, solution)
        notebook.run(stub)
        check = notebook.run(notebook.index_of(f'lab.check("{passing}")', stub))
        widget = check.locator(".jp-OutputArea-output .widget-html")
        widget.wait_for(timeout=30_000)
        assert "passed" in widget.inner_text()
        assert f"({passing})" in widget.inner_text()
        # Shown once: the widget, not the widget and the cell's Out[] again.
        assert check.locator(".jp-OutputArea-output").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "workspace-1-passed.png"))

        cell = notebook.run(notebook.index_of(f'lab.check("{failing}")'))
        assert "failed" in cell.locator(".widget-html").first.inner_text()
        cell.get_by_role("button", name="Show a hint").click()
        shown = cell.locator(".widget-html", has_text="Hint 1:")
        shown.wait_for(timeout=30_000)
        assert first_hint.split("'")[0] in shown.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "workspace-2-hint.png"))

        page.get_by_role("menuitem", name="Kernel").click()
        # Clearing the outputs also clears the prompts, so each cell's next run is seen by its number.
        page.get_by_role(
            "menuitem", name=re.compile(r"^Restart Kernel and Clear Outputs of All Cells")
        ).click()
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
        page.locator(".jp-StatusBar-Widget", has_text="| Restarting").first.wait_for(
            state="detached", timeout=60_000
        )
        notebook.wait_idle()
        notebook.run(notebook.index_of("sandbox_mode ="))
        notebook.run(notebook.index_of("open_lab("))
        progress = notebook.run(notebook.index_of("lab.progress()"))
        rows = progress.locator(".jp-OutputArea-output tr")
        assert "passed" in rows.filter(has_text=passing).inner_text()
        assert "failed" in rows.filter(has_text=failing).inner_text()
        rows.last.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "workspace-3-progress-after-restart.png"))
        assert not record.page_errors
        assert not record.external_requests
    # Ctrl-C stopped JupyterLab cleanly: it shut its kernel down (and removed its connection file).
    assert started.process.returncode == 0
    assert not list(Path(started.env["JUPYTER_RUNTIME_DIR"]).glob("kernel-*.json"))
