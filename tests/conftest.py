"""Shared fixtures: every test gets its own labkit state folder and configuration file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.server import running_server, stop_server

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "tests" / "contract"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave the contract run (moto's own tests, tests/contract/) out unless `-m` names `contract`."""
    if collection_path == CONTRACT and "contract" not in (config.option.markexpr or ""):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave the end-to-end runs (`@pytest.mark.e2e`: a real JupyterHub, JupyterLab in Chromium) out
    unless `-m` names `e2e`, so the README's test command stays well under 20 minutes; `.ci/run`
    runs them as a step of their own (`python -m pytest -m e2e`)."""
    if "e2e" in (config.option.markexpr or ""):
        return
    kept = [item for item in items if item.get_closest_marker("e2e") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("e2e")])
        items[:] = kept


@pytest.fixture(autouse=True)
def labkit_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point labkit's state folder and configuration at a fresh folder; stop any server left there."""
    home = tmp_path / "labkit-home"
    home.mkdir()
    monkeypatch.setenv("LABKIT_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("LABKIT_CONFIG", str(home / "config.toml"))
    yield home
    if running_server() is not None:
        stop_server()


@pytest.fixture
def sandbox() -> Iterator[EmbeddedSandbox]:
    """An embedded sandbox on a manual clock, closed after the test."""
    with EmbeddedSandbox(region="us-east-1", clock="manual") as sb:
        yield sb


def run_labkit(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the `labkit` command in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "labkit", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
