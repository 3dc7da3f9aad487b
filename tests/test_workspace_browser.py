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

import pytest

from labkit.labs import load_lab
from tests.browser import chromium
from tests.conftest import REPO
from tests.jupyterlab import Notebook, first_solution, started_workspace

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.e2e]

SCREENSHOTS = REPO / "results" / "screenshots"
#: A cell's prompt once the kernel has run it: `[3]:`.
RAN = re.compile(r"^\[\d+\]:$")


def test_a_learner_passes_a_checkpoint_sees_a_hint_and_keeps_progress_across_a_restart(
    tmp_path: Path,
) -> None:
    """Type the first solution, run it and its check (the widget says passed); show the first hint of a
    failing checkpoint; restart the kernel and see `lab.progress()` still count the pass."""
    solution, passing = first_solution()
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
