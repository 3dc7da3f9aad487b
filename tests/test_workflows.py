"""The CI workflows: they pass actionlint, and their commands do locally what they say.

`.github/workflows/labs.yml` validates each lab in a job of its own, its matrix from
`labkit validate --list --json`; `.github/workflows/book.yml` builds the book (the build itself is
run by `tests/test_book.py`, with the workflow's own command).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from labkit.labs import course_order
from tests.conftest import REPO
from tests.workflows import step, step_run, workflow, workflow_files


def _tool(name: str) -> str | None:
    """A command installed beside the running Python (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def test_the_workflows_pass_actionlint() -> None:
    """actionlint (from the test dependencies) finds nothing in any workflow file."""
    actionlint = _tool("actionlint")
    assert actionlint, "actionlint is a test dependency (requirements/test.txt)"
    files = workflow_files()
    assert {f.name for f in files} >= {"labs.yml", "book.yml"}
    done = subprocess.run(
        [actionlint, "-no-color", *map(str, files)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_actionlint_does_find_a_broken_workflow(tmp_path: Path) -> None:
    """The check above can fail: a matrix key the job never defines is an error."""
    actionlint = _tool("actionlint")
    assert actionlint
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.lab }}\n",
        encoding="utf-8",
    )
    done = subprocess.run([actionlint, "-no-color", str(broken)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "matrix" in done.stdout


def _labkit(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    labkit = _tool("labkit")
    assert labkit
    return subprocess.run([labkit, *args], capture_output=True, text=True, cwd=cwd, check=False, timeout=600)


def test_validate_list_is_the_course_order_and_runs_nothing(tmp_path: Path) -> None:
    """`--list` prints the labs in the course's order; `--json` as a matrix; nothing is executed."""
    ids = course_order().ids
    plain = _labkit("validate", "--list", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.split() == ids
    as_json = _labkit("validate", "--list", "--json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {"lab": ids}
    named = _labkit("validate", "--list", "--json", ids[-1], ids[0], cwd=tmp_path)
    assert json.loads(named.stdout) == {"lab": [ids[-1], ids[0]]}
    assert not (tmp_path / "results").exists()


def test_validate_list_refuses_an_unknown_lab_before_planning_anything() -> None:
    done = _labkit("validate", "--list", "--json", "no-such-lab")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "no-such-lab" in done.stderr


def test_the_labs_matrix_comes_from_the_list_job() -> None:
    """The validate job's matrix is the list job's output, which is its `labs` step's output."""
    jobs = workflow("labs")["jobs"]
    assert jobs["list"]["outputs"]["matrix"] == "${{ steps.labs.outputs.matrix }}"
    assert step("labs", "list", "The labs, as a matrix")["id"] == "labs"
    validate = jobs["validate"]
    assert validate["needs"] == "list"
    assert validate["strategy"]["matrix"] == "${{ fromJSON(needs.list.outputs.matrix) }}"
    assert validate["strategy"]["fail-fast"] is False
    assert validate["env"]["LAB"] == "${{ matrix.lab }}"
    uploads = [s for s in validate["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    notebooks = [s for s in uploads if s.get("if") == "failure()"]
    assert notebooks, "the executed notebooks are uploaded when a lab fails"
    assert notebooks[0]["with"]["path"] == "results/validate/"


@pytest.mark.slow
def test_the_labs_workflow_commands_run_here(tmp_path: Path) -> None:
    """The list step and the validate step, run by bash as the runner runs them, for one lab."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    output = tmp_path / "github_output"
    output.touch()
    listed = subprocess.run(
        ["bash", "-e", "-c", step_run("labs", "list", "The labs, as a matrix")],
        cwd=tmp_path,
        env={**env, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert listed.returncode == 0, listed.stderr
    key, _, value = output.read_text(encoding="utf-8").strip().partition("=")
    assert key == "matrix"
    matrix = json.loads(value)
    assert matrix == {"lab": course_order().ids}

    lab = "containers-101"  # the quickest lab to validate
    assert lab in matrix["lab"]
    validated = subprocess.run(
        ["bash", "-e", "-c", step_run("labs", "validate", "Validate the lab")],
        cwd=tmp_path,
        env={**env, "LAB": lab},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    report = ET.parse(tmp_path / "results" / f"junit-{lab}.xml").getroot()
    suites = {suite.get("name") for suite in report.iter("testsuite")}
    assert suites == {f"labkit.{lab}.solution", f"labkit.{lab}.learner"}
    assert not list(report.iter("failure"))
    assert list((tmp_path / "results" / "validate").rglob("*.ipynb")), "the executed notebooks are kept"
