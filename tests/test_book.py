"""The book builds offline with Jupyter Book 1.x, warnings as errors; the README's commands are CI's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def _jupyter_book() -> str:
    """The jupyter-book script of the Python running the tests (installed by the project)."""
    beside = Path(sys.executable).parent / "jupyter-book"
    return str(beside) if beside.exists() else "jupyter-book"


@pytest.mark.slow
def test_the_book_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    """`jupyter-book build . -W` succeeds and writes the chapters listed in _toc.yml."""
    done = subprocess.run(
        [_jupyter_book(), "build", str(REPO), "--path-output", str(tmp_path), "-W"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = tmp_path / "_build" / "html"
    assert (html / "book" / "intro.html").exists()
    sandboxes = (html / "book" / "sandboxes.html").read_text(encoding="utf-8")
    assert "nothing reaches AWS unless you ask" in sandboxes


def test_the_readme_quick_start_is_what_ci_runs() -> None:
    """The README gives the two set-up commands, and .ci/run runs the test one."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    main_job = "pip install -e . && labkit demo"
    test_command = 'pip install -e ".[test]" && pytest'
    assert main_job in readme
    assert test_command in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -e ".[test]"' in ci
    assert "pytest" in ci
