"""The GitHub Actions workflows under `.github/workflows/`, read as data, so that tests run their commands.

`step_run(workflow, job, step)` is the shell script of one step, as the workflow file says it;
tests run it locally (`tests/test_workflows.py`, and `tests/test_book.py` builds the book with the book
workflow's own command), so a workflow cannot drift from what the suite has run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    """The parsed workflow file `.github/workflows/<name>.yml`."""
    data = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), name
    return data


def step(name: str, job: str, step_name: str) -> dict[str, Any]:
    """The step named `step_name` of `job` in workflow `name`."""
    for entry in workflow(name)["jobs"][job]["steps"]:
        if entry.get("name") == step_name:
            assert isinstance(entry, dict)
            return entry
    raise AssertionError(f"{name}.yml: job {job} has no step {step_name!r}")


def step_run(name: str, job: str, step_name: str) -> str:
    """The `run:` script of that step."""
    script = step(name, job, step_name).get("run")
    assert isinstance(script, str), f"{name}.yml: {job} / {step_name} has no run script"
    return script


def workflow_files() -> list[Path]:
    """Every workflow file."""
    return sorted(WORKFLOWS.glob("*.yml"))
