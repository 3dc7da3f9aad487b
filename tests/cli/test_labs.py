"""`labkit labs` and `labkit check` as a user types them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import labkit
from labkit.sandbox.server import start_server
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_labs_lists_the_labs_in_the_courses_order() -> None:
    """`labkit labs` lists the labs in the book's order, numbered, with minutes, points and each
    checkpoint's id, points and title; `--json` gives the same, with prerequisites."""
    from labkit.labs import course_order, load_lab

    order = course_order().ids
    done = run_labkit("labs")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    numbered = [
        line.split()[1].rstrip(":")
        for line in done.stdout.splitlines()
        if line[:3].strip().rstrip(".").isdigit()
    ]
    assert numbered == order
    assert " 4. nginx-alb: nginx on Fargate behind an application load balancer" in done.stdout
    lab = load_lab("nginx-alb")
    assert f"45 min, {lab.points} points, {len(lab.checkpoints)} checkpoints" in done.stdout
    scaled = lab.checkpoints.get("service-scaled")
    assert re.search(rf"service-scaled +{scaled.points} pt  {re.escape(scaled.title)}", done.stdout)

    listed = json.loads(run_labkit("labs", "--json").stdout)
    assert [row["id"] for row in listed] == order
    row = next(row for row in listed if row["id"] == "nginx-alb")
    assert row["title"] == lab.title
    assert row["minutes"] == 45
    assert row["points"] == lab.points == sum(c["points"] for c in row["checkpoints"])
    assert row["prerequisites"] == list(lab.prerequisites)
    assert {"id": "service-scaled", "title": scaled.title, "points": scaled.points} in row["checkpoints"]


def test_labs_lists_a_lab_missing_from_the_toc_last_with_a_warning(tmp_path: Path) -> None:
    """A labs folder whose _toc.yml lists two of three labs: those two in its order, the third last,
    and one warning line naming it and the file; a lab the toc names that does not exist is warned
    about; the exit code stays 0."""
    from tests.test_labs import make_lab

    labs = tmp_path / "labs"
    for lab_id in ("alpha", "beta", "zulu"):
        make_lab(labs, lab_id, f'title = "{lab_id.title()}"\nminutes = 5\n')
    (tmp_path / "_toc.yml").write_text(
        "root: intro\nchapters:\n  - file: labs/zulu/lab\n  - file: labs/gone/lab\n  - file: labs/alpha/lab\n"
    )
    env = {"LABKIT_LABS_DIR": str(labs)}
    done = run_labkit("labs", env=env)
    assert done.returncode == 0, done.stderr
    assert [line.split()[1] for line in done.stdout.splitlines() if line[:3].strip()[:1].isdigit()] == [
        "zulu:",
        "alpha:",
        "beta:",
    ]
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 2, done.stderr
    assert warnings[0].startswith("labkit: warning: lab 'beta' is not in")
    assert str(tmp_path / "_toc.yml") in warnings[0]
    assert "listed last" in warnings[0]
    assert "'gone'" in warnings[1]
    listed = json.loads(run_labkit("labs", "--json", env=env).stdout)
    assert [lab["id"] for lab in listed] == ["zulu", "alpha", "beta"]
    assert "prerequisites" not in listed[0]


def test_check_without_a_server_says_so() -> None:
    """`labkit check` needs the sandbox server and says so in one line."""
    done = run_labkit("check", "nginx-alb")
    assert done.returncode == 1
    assert done.stderr.startswith("labkit: no sandbox server is running")


def test_check_grades_the_server_sandbox() -> None:
    """After building the lab in the server sandbox, `labkit check --json` reports every checkpoint passed."""
    from labkit.labs import load_lab, load_reference

    start_server(clock="manual")
    empty = run_labkit("check", "nginx-alb", "--json")
    assert empty.returncode == 1
    assert json.loads(empty.stdout)["score"] == 0
    lab = load_lab("nginx-alb")
    reference = load_reference(lab)
    with labkit.open_sandbox("server") as sb:
        for checkpoint_id in lab.checkpoints.ids():  # built, as a learner would, without catch-up
            steps = reference.get(checkpoint_id)
            assert steps is not None
            steps(sb)
    done = run_labkit("check", "nginx-alb", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0, done.stdout
    assert report["score"] == report["possible"]
    assert {c["status"] for c in report["checkpoints"]} == {"passed"}


def test_check_shows_a_self_paced_catch_up_as_caught_up_never_passed() -> None:
    """After `lab.catch_up` to the end, `labkit check --json` shows every checkpoint `caught-up`,
    0 points (exit 1: nothing was passed), as `lab.progress()` does."""
    start_server(clock="manual")
    with labkit.open_sandbox("server") as sb:
        session = labkit.open_lab("nginx-alb", sandbox=sb)
        session.catch_up(to="three-servers-answer")
        progress = session.progress(display=False)
    assert {c.status for c in progress.checkpoints} == {"caught-up"}
    assert progress.score == 0
    done = run_labkit("check", "nginx-alb", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 1, done.stdout
    assert report["score"] == 0
    assert {c["status"] for c in report["checkpoints"]} == {"caught-up"}
    assert all(c["points"] == 0 for c in report["checkpoints"])
    text = run_labkit("check", "nginx-alb")
    assert "caught-up" in text.stdout
    assert "passed" not in text.stdout.replace("0/17", "")


def test_check_an_unknown_lab_is_a_usage_error() -> None:
    """A mistyped lab is exit code 2 with the list of labs."""
    done = run_labkit("check", "nginx")
    assert done.returncode == 2
    assert "nginx-alb" in done.stderr


def test_assign_writes_the_learner_and_solution_versions(tmp_path: Path) -> None:
    """`labkit assign nginx-alb` writes both versions; the learner one has no solution left in it."""
    done = run_labkit("assign", "nginx-alb", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    learner = (tmp_path / "nginx-alb-learner.ipynb").read_text()
    solution = (tmp_path / "nginx-alb-solution.ipynb").read_text()
    assert "YOUR CODE HERE" in learner
    assert 'create_cluster(clusterName=\\"nginx-lab\\")' not in learner
    assert 'create_cluster(clusterName=\\"nginx-lab\\")' in solution
    assert "BEGIN SOLUTION" not in solution


def test_labs_lists_the_good_labs_and_reports_a_bad_one(tmp_path: Path) -> None:
    """One lab with `minutes = "abc"` among good ones: the good ones are listed, the bad one is one line on stderr."""
    from tests.test_labs import make_lab

    make_lab(tmp_path, "alpha", 'title = "Alpha"\nminutes = 5\n')
    make_lab(tmp_path, "bad", 'title = "Bad"\nminutes = "abc"\n')
    make_lab(tmp_path, "zulu", 'title = "Zulu"\nminutes = 7\n')
    env = {"LABKIT_LABS_DIR": str(tmp_path)}
    done = run_labkit("labs", env=env)
    assert done.returncode == 0, done.stderr
    assert "alpha" in done.stdout
    assert "zulu" in done.stdout
    assert "bad" not in done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(tmp_path / "bad" / "lab.toml") in lines[0]
    assert "`minutes`" in lines[0]
    listed = json.loads(run_labkit("labs", "--json", env=env).stdout)
    assert [lab["id"] for lab in listed] == ["alpha", "zulu"]

    asked = run_labkit("check", "bad", env=env)
    assert asked.returncode != 0
    assert "`minutes`" in asked.stderr
    assert "Traceback" not in asked.stderr
