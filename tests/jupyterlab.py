"""`labkit start --no-browser` as a learner runs it, for tests: a private HOME and Jupyter folders.

`started_workspace` runs the command in a subprocess with a fresh HOME, Jupyter config, data and runtime
folders (so the user's own Jupyter settings and kernels are never read), waits for the URL it prints,
and stops it with SIGINT (the terminal's Ctrl-C) afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.labs import labs_root
from labkit.notebooks import CODE_MARKERS, make_solution_version, read_notebook

URL = re.compile(r"(http://127\.0\.0\.1:(\d+)/\S*\?token=(\w+))")


@dataclass
class Started:
    """A running `labkit start`: its process, workspace, printed URL, port, token and output so far."""

    process: subprocess.Popen[str]
    workspace: Path
    url: str
    port: int
    token: str
    output: list[str]
    env: dict[str, str]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def private_env(root: Path, **extra: str) -> dict[str, str]:
    """An environment with a fresh HOME, Jupyter folders and labkit state under `root`."""
    env = dict(os.environ)
    for name in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE", "JUPYTER_PATH", "LABKIT_SANDBOX_MODE"):
        env.pop(name, None)
    folders = {
        "HOME": root / "home",
        "JUPYTER_CONFIG_DIR": root / "jupyter-config",
        "JUPYTER_DATA_DIR": root / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": root / "jupyter-runtime",
        "IPYTHONDIR": root / "ipython",
        "LABKIT_STATE_DIR": root / "state",
        "XDG_CONFIG_HOME": root / "home" / ".config",
    }
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    env.update({name: str(path) for name, path in folders.items()})
    env["LABKIT_CONFIG"] = str(root / "config.toml")
    env.update(extra)
    return env


@contextmanager
def started_workspace(root: Path, *args: str, timeout: float = 120) -> Iterator[Started]:
    """Run `labkit start --no-browser --workspace ROOT/workspace ARGS...`; stop it with SIGINT after."""
    env = private_env(root)
    workspace = root / "workspace"
    process = subprocess.Popen(
        [sys.executable, "-m", "labkit", "start", "--no-browser", "--workspace", str(workspace), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=root,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + timeout
    found = None
    try:
        while found is None:
            line = process.stdout.readline()
            if not line:
                raise AssertionError(f"labkit start ended before printing a URL:\n{''.join(output)}")
            output.append(line)
            found = URL.search(line)
            if time.monotonic() > deadline:
                raise AssertionError(f"no URL within {timeout} s:\n{''.join(output)}")
        yield Started(process, workspace, found.group(1), int(found.group(2)), found.group(3), output, env)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                rest, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                rest, _ = process.communicate()
            output.append(rest)


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


def first_solution() -> tuple[str, str]:
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
