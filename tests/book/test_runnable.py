"""Blocks marked `<!-- runnable -->` run as shown against a fresh sandbox server, one page at a time."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.sandbox.server import start_server, stop_server
from tests.book.blocks import CodeBlock, book_pages, code_blocks
from tests.conftest import REPO, run_labkit

pytestmark = pytest.mark.slow


def runnable_blocks(page: Path) -> list[CodeBlock]:
    """The page's ```bash blocks marked `<!-- runnable -->`, in order."""
    return [b for b in code_blocks(page) if b.language == "bash" and b.marker == "runnable"]


def script_for(blocks: list[CodeBlock]) -> tuple[str, dict[int, str]]:
    """A bash script of the blocks' text as shown, and its line numbers mapped to `file:line`.

    The blocks run verbatim (here-documents and `\\` continuations intact); `aws` and `labkit` are the
    AWS CLI and labkit of the Python running the tests; the first command that exits non-zero stops the
    script, and an ERR trap prints `labkit-book-line=N` (the script's line) on stderr.
    """
    python = shlex.quote(sys.executable)
    lines = [
        f'aws() {{ {python} -m awscli "$@"; }}',
        f'labkit() {{ {python} -m labkit "$@"; }}',
        "export -f aws labkit",
        "set -e -E -o pipefail",
        "trap 'echo labkit-book-line=$LINENO >&2' ERR",
    ]
    where: dict[int, str] = {}
    for block in blocks:
        first = None  # a command continued with `\\` is named by its first line, as bash runs it
        for number, text in block.lines():
            first = first or number
            lines.append(text)
            where[len(lines)] = f"{block.path.relative_to(REPO)}:{first}"
            if not text.rstrip().endswith("\\"):
                first = None
    return "\n".join(lines) + "\n", where


def _pages_with_runnable_blocks() -> list[Path]:
    return [page for page in book_pages() if runnable_blocks(page)]


@pytest.mark.parametrize("page", _pages_with_runnable_blocks(), ids=lambda p: p.name)
def test_runnable_blocks_exit_zero(page: Path, tmp_path: Path) -> None:
    """Every command of the page's runnable blocks exits 0, in order, in one shell, on a fresh sandbox."""
    start_server(clock="manual")
    try:
        exported = json.loads(run_labkit("sandbox", "env", "--json").stdout)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({k: v for k, v in exported.items() if v is not None})
        script, where = script_for(runnable_blocks(page))
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
    finally:
        stop_server()
    if done.returncode != 0:
        pytest.fail(f"{_failed_step(done.stderr, where)}: exit {done.returncode}\n{done.stderr[-2000:]}")


def _failed_step(stderr: str, where: dict[int, str]) -> str:
    """The `file:line` of the command that failed first, from the script's stderr."""
    steps = [line for line in stderr.splitlines() if line.startswith("labkit-book-line=")]
    return where.get(int(steps[0].split("=")[1]), "?") if steps else "?"


def test_a_failing_line_is_named(tmp_path: Path) -> None:
    """The script stops at the first command that fails and maps it back to its page and line."""
    page = tmp_path / "page.md"
    page.write_text("<!-- runnable -->\n```bash\ntrue\nfalse \\\n  --flag\ntrue\n```\n", encoding="utf-8")
    blocks = [
        CodeBlock(REPO / "book" / "x.md", b.language, b.line, b.text, b.marker) for b in code_blocks(page)
    ]
    script, where = script_for(blocks)
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0
    assert _failed_step(done.stderr, where) == "book/x.md:4"
