"""The code is linted, formatted and type-checked as part of the tests (ruff, mypy strict)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_check() -> None:
    """ruff finds no lint problem in the package, the tests or the benchmarks."""
    done = _run("ruff", "check", "labkit", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format() -> None:
    """The code is formatted as ruff formats it."""
    done = _run("ruff", "format", "--check", "labkit", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict() -> None:
    """mypy in strict mode finds no type error in the package."""
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
