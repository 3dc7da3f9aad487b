"""`labkit grade`, `run`, `validate`, `assign` and `check` given bad input, as a learner types it: a
message in the learner's words naming what is wrong, exit code 2, never a traceback, nothing lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from labkit.runner import GradeTarget, grade_target
from tests.conftest import run_labkit
from tests.test_labs import make_lab

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "labs"


def _valid(*sources: str, metadata: dict[str, object] | None = None) -> str:
    nb = new_notebook(
        cells=[new_code_cell(source) for source in sources],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nb.metadata.update(metadata or {})
    return nbformat.writes(nb)


def _invalid_cell() -> str:
    document = json.loads(_valid("print(1)"))
    document["cells"][0]["outputs"] = "oops"
    return json.dumps(document)


# name: (file content, words the message must hold)
BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "a-list": ("[1,2]", "is JSON, but not a notebook: it holds a list"),
    "a-number": ("42", "is JSON, but not a notebook: it holds a number"),
    "not-json": ("print('hello')\n", "is not valid JSON (line 1, column 1"),
    "empty": ("", "is empty: it is not a notebook"),
    "blank": ("  \n", "is empty: it is not a notebook"),
    "not-text": (b"\xff\xfe\x00binary", "is not a notebook: it is not text"),
    "an-object": ('{"cells": []}', "is JSON, but not a notebook: it has no `nbformat`"),
    "no-cells": ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "it has no `cells`"),
    "format-text": ('{"nbformat": "4", "cells": [], "metadata": {}}', '`nbformat` is "4"'),
    "invalid-cell": (_invalid_cell(), "cell 0: is not a valid notebook: 'oops' is not of type 'array'"),
    "no-lab": (_valid("print(1)"), "names no lab"),
    "lab-not-a-table": (_valid("print(1)", metadata={"labkit": [1]}), "names no lab"),
    "lab-not-a-string": (_valid("print(1)", metadata={"labkit": {"lab": ["x"]}}), "names no lab"),
    "unknown-lab": (
        _valid("print(1)", metadata={"labkit": {"lab": "nginx"}}),
        "cannot be graded: it names a lab, but there is no lab 'nginx' (did you mean 'nginx-alb'?)",
    ),
}


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert "object has no attribute" not in stderr
    assert "Error:" not in stderr  # click's usage error
    assert len(stderr.strip().splitlines()) == 1, stderr


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_grade_says_what_is_wrong_with_a_file_that_is_not_a_lab_notebook(tmp_path: Path, name: str) -> None:
    """Each bad file: one line naming the file and what is wrong, exit code 2, the file unchanged and
    nothing written under --results."""
    content, words = BAD_FILES[name]
    path = tmp_path / f"{name}.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    results = tmp_path / "results"
    for extra in ((), ("--json",)):
        done = run_labkit("grade", str(path), "--results", str(results), *extra)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        _clean(done.stderr)
        assert done.stderr.startswith(f"labkit: {path}"), done.stderr
        assert words in done.stderr, done.stderr
    assert path.read_bytes() == before
    assert not results.exists()


def test_grade_a_folder_or_a_missing_file(tmp_path: Path) -> None:
    """A folder names the notebooks in it; a missing file says so; both exit code 2, in labkit's words."""
    folder = tmp_path / "workspace"
    folder.mkdir()
    (folder / "nginx-alb.ipynb").write_text(_valid("print(1)"), encoding="utf-8")
    done = run_labkit("grade", str(folder))
    assert done.returncode == 2
    _clean(done.stderr)
    assert (
        f"labkit: {folder}: is a folder, not a notebook file; the notebooks in it: nginx-alb.ipynb"
        in done.stderr
    )
    missing = run_labkit("grade", str(tmp_path / "nope.ipynb"))
    assert missing.returncode == 2
    _clean(missing.stderr)
    assert f"labkit: {tmp_path / 'nope.ipynb'}: no such notebook file" in missing.stderr
    device = run_labkit("grade", "/dev/zero", timeout=30)  # read, it would never end
    assert device.returncode == 2
    _clean(device.stderr)
    assert "labkit: /dev/zero: is not a file, so not a notebook" in device.stderr


def test_a_lab_option_that_disagrees_with_the_notebook_wins_and_warns(tmp_path: Path) -> None:
    """A notebook that says it is lab `tiny`, graded with `--lab other`: one warning on stderr naming both,
    and the report is `other`'s (the grader chooses the lab, never the learner's notebook); stdout is
    the JSON alone."""
    labs = tmp_path / "labs"
    shutil.copytree(FIXTURES / "tiny", labs / "tiny")
    make_lab(labs, "other", 'title = "Other"\nminutes = 5\n')
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text(
        _valid(
            'import labkit\nlab = labkit.open_lab("tiny", mode=sandbox_mode)',
            metadata={"labkit": {"lab": "tiny"}},
        ),
        encoding="utf-8",
    )
    before = notebook.read_bytes()
    done = run_labkit(
        "grade", str(notebook), "--lab", "other", "--json", "--results", str(tmp_path / "out"),
        env={"LABKIT_LABS_DIR": str(labs)}, timeout=300,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["lab"] == "other"
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, done.stderr
    assert "'tiny'" in warnings[0]
    assert "'other'" in warnings[0]
    assert "as --lab says" in warnings[0]
    assert notebook.read_bytes() == before  # the learner's file is as it was
    assert grade_target(notebook, "tiny") == GradeTarget("tiny", "tiny", None)  # agreeing: no warning
    assert grade_target(notebook, None) == GradeTarget("tiny", "tiny", None)


@pytest.mark.parametrize("command", ["run", "validate", "assign", "check"])
def test_an_unknown_lab_is_exit_2_with_the_labs_and_a_guess(command: str, tmp_path: Path) -> None:
    """A mistyped lab: exit code 2, the closest lab, every lab in the course's order; a path instead of
    an id is refused, in one line."""
    done = run_labkit(command, "ngnix-alb", *(("--out", str(tmp_path)) if command == "assign" else ()))
    assert done.returncode == 2
    _clean(done.stderr)
    assert "there is no lab 'ngnix-alb' (did you mean 'nginx-alb'?)" in done.stderr
    assert "containers-101, ecr-push, ecs-cluster, nginx-alb" in done.stderr
    assert not (tmp_path / "ngnix-alb-learner.ipynb").exists()
    refused = run_labkit(command, "../labs/nginx-alb")
    assert refused.returncode == 2
    _clean(refused.stderr)
    assert refused.stderr.startswith("labkit: '../labs/nginx-alb' is not a lab of")
    assert "/?" not in refused.stderr


def test_grade_with_an_unknown_lab_option(tmp_path: Path) -> None:
    """`labkit grade --lab nginx` is exit 2 with the guess, before anything runs."""
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text(_valid("print(1)"), encoding="utf-8")
    done = run_labkit("grade", str(notebook), "--lab", "nginx", "--results", str(tmp_path / "out"))
    assert done.returncode == 2
    _clean(done.stderr)
    assert "(did you mean 'nginx-alb'?)" in done.stderr
    assert not (tmp_path / "out").exists()


def test_run_and_grade_say_what_they_grade() -> None:
    """`labkit run --help` says it runs the lab's learner version (stubs) or --solution, never your
    work, and points to `labkit grade NOTEBOOK`; `labkit grade --help` says --lab wins."""
    run = " ".join(run_labkit("run", "--help").stdout.split())
    assert "learner version (the solutions replaced by stubs" in run
    assert "--solution the solution version" in run
    assert "never runs your work" in run
    assert "labkit grade NOTEBOOK" in run
    grade = " ".join(run_labkit("grade", "--help").stdout.split())
    assert "--lab wins and a warning on stderr names both" in grade
    assert "exit code 2" in grade
