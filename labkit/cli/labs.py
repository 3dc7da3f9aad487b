"""`labkit labs` and `labkit check`: the course's labs, and grading a sandbox's current state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import click

from labkit.cli.output import echo


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the labs as JSON.")
def labs(as_json: bool) -> None:
    """List the labs in the course's order, with minutes, points and checkpoints.

    The course's order is the order of the lab pages in the book's table of contents (`_toc.yml`
    beside the labs folder); a lab it does not list comes last, with a warning on stderr. Without a
    `_toc.yml` the labs are listed by id. A lab that cannot be loaded (a wrong lab.toml field, a
    checks.py that fails) is reported in one line on stderr; the others are listed, and the exit code
    stays 0. With --json: a list of {id, title, minutes, points, prerequisites (when the lab has any),
    checkpoints: [{id, title, points}]}.
    """
    from labkit.labs import course_order, scan_labs

    order = course_order()
    for warning in order.warnings():
        echo(f"labkit: warning: {warning}", err=True)
    scan = scan_labs(ids=order.ids)
    for problem in scan.broken:
        echo(f"labkit: {problem}", err=True)
    if as_json:
        echo(json.dumps([_lab_json(lab) for lab in scan.labs], indent=2))
        return
    for number, lab in enumerate(scan.labs, start=1):
        if number > 1:
            echo()
        echo(f"{number:>2}. {lab.id}: {lab.title}")
        echo(f"    {lab.minutes} min, {lab.points} points, {len(lab.checkpoints)} checkpoints")
        if lab.prerequisites:
            echo(f"    needs: {'; '.join(lab.prerequisites)}")
        width = max((len(checkpoint.id) for checkpoint in lab.checkpoints), default=0)
        for checkpoint in lab.checkpoints:
            echo(f"      {checkpoint.id:<{width}}  {checkpoint.points:>2} pt  {checkpoint.title}")


def _lab_json(lab: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": lab.id, "title": lab.title, "minutes": lab.minutes, "points": lab.points}
    if lab.prerequisites:
        row["prerequisites"] = list(lab.prerequisites)
    row["checkpoints"] = [{"id": c.id, "title": c.title, "points": c.points} for c in lab.checkpoints]
    return row


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option(
    "--mode",
    type=click.Choice(["server", "aws"]),
    default="server",
    show_default=True,
    help="Which sandbox to grade: the running `labkit sandbox` server, or the allow-listed AWS account.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(lab_id: str, mode: str, as_json: bool) -> None:
    """Grade the current state of a sandbox against LAB's checkpoints (exit 1 unless all pass)."""
    from labkit.lab import check_sandbox

    report = check_sandbox(lab_id, mode)
    echo(report.to_json() if as_json else report.summary())
    if report.score < report.possible:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option(
    "--solution",
    is_flag=True,
    help="Run the lab's solution version (the reference solution) instead of its learner version (the stubs).",
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Where the executed notebook is saved.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def run(lab_id: str, solution: bool, results: Path, as_json: bool) -> None:
    """Run LAB's own notebook headlessly, as the course hands it out, and grade it (exit 1 unless
    every checkpoint passes).

    It runs the learner version (the solutions replaced by stubs: every checkpoint fails), or with
    --solution the solution version (every checkpoint passes). It never runs your work: to grade
    your own copy of a lab, run `labkit grade NOTEBOOK`.
    """
    from labkit.labs import load_lab
    from labkit.runner import run_lab

    load_lab(lab_id)  # an unknown or broken lab is said before anything else
    version = "solution" if solution else "learner"
    what = "the reference solution" if solution else "solutions replaced by stubs"
    # On stderr, so that --json prints JSON alone.
    echo(f"labkit: running the {version} version of {lab_id} ({what}), not your own work", err=True)
    outcome = run_lab(lab_id, solution=solution, results=results)
    if not as_json:
        echo(f"the {version} version of {lab_id} ({what}):")
    _print_run(outcome, as_json, version=version)


@click.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option(
    "--lab",
    "lab_id",
    default=None,
    help="The lab to grade the notebook as (default: the lab the notebook names). When the notebook names "
    "another lab, --lab wins and a warning on stderr names both.",
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results") / "graded",
    show_default=True,
    help="Where the executed notebook is saved.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def grade(notebook: Path, lab_id: str | None, results: Path, as_json: bool) -> None:
    """Grade NOTEBOOK, your own copy of a lab or a learner's: run it in a fresh kernel against a fresh
    sandbox, and grade that sandbox from outside (exit 1 unless every checkpoint passes).

    The notebook itself is never changed; the executed copy is saved under --results. A file that is
    not a lab notebook (not found, a folder, empty, not JSON, not a notebook, no lab named) is exit
    code 2, with what is wrong. The kernel runs confined: bubblewrap where it runs, else an
    unprivileged user and a private folder; LABKIT_CONFINEMENT=bwrap|user|none overrides the choice.
    A notebook naming a lab outside the labs folder is not graded.
    """
    from labkit.errors import LabkitError
    from labkit.labs import LabRefusedError, UnknownLabError, load_lab
    from labkit.notebooks import NotebookError
    from labkit.runner import grade_notebook, grade_target

    target = grade_target(notebook, lab_id)
    if target.warning:
        echo(f"labkit: warning: {target.warning}", err=True)
    try:
        # The lab (its checks) is loaded here, from the labs folder only, before any kernel starts.
        lab = load_lab(target.lab_id)
    except UnknownLabError as exc:
        if lab_id is not None:
            raise
        raise NotebookError(str(notebook), None, f"cannot be graded: it names a lab, but {exc}") from None
    except LabRefusedError as exc:
        message = (
            f"{notebook}: not graded: its lab {exc.lab_id!r} is not a lab of the labs folder "
            f"{exc.root} ({exc.why}); nothing of it was loaded"
        )
        if as_json:
            echo(json.dumps({"notebook": str(notebook), "lab": None, "status": "not-graded", "score": 0,
                             "possible": 0, "checkpoints": [], "error": message}, indent=2))  # fmt: skip
        raise LabkitError(message) from None
    outcome = grade_notebook(notebook, lab, results / f"{notebook.stem}.graded.ipynb")
    _print_run(outcome, as_json)


def _print_run(outcome: Any, as_json: bool, *, version: str | None = None) -> None:
    """Print a run's report (with the lab version `labkit run` ran, if given); exit 1 unless all passed."""
    if as_json:
        data = outcome.to_dict()
        if version is not None:
            data["version"] = version
        echo(json.dumps(data, indent=2))
    else:
        echo(outcome.report.summary())
        if outcome.error:
            echo(f"the notebook stopped: {outcome.error}")
        echo(f"executed notebook: {outcome.notebook}")
        if version is not None:
            echo("to grade your own copy of the lab: labkit grade NOTEBOOK")
    if outcome.report.score < outcome.report.possible:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("lab_ids", metavar="[LAB]...", nargs=-1)
@click.option(
    "--jobs", type=click.IntRange(min=1), default=2, show_default=True, help="Labs run in parallel."
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a JUnit XML report here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--list",
    "list_only",
    is_flag=True,
    help="Run nothing: print the labs that would be validated, in the course's order "
    '(with --json, as a CI matrix: {"lab": [...]}).',
)
def validate(lab_ids: tuple[str, ...], jobs: int, junit: Path | None, as_json: bool, list_only: bool) -> None:
    """Prove every lab: its solution passes every checkpoint, its learner version fails every one.

    Each notebook's kernel runs confined, as under `labkit grade` (LABKIT_CONFINEMENT overrides).
    """
    from labkit.runner import validate_labs, validation_json, validation_junit, validation_matrix

    if list_only:
        matrix = validation_matrix(list(lab_ids) or None)
        echo(json.dumps(matrix) if as_json else "\n".join(matrix["lab"]))
        return
    results = validate_labs(list(lab_ids) or None, jobs=jobs)
    if junit:
        junit.write_text(validation_junit(results), encoding="utf-8")
    if as_json:
        echo(validation_json(results))
    else:
        for outcome in results:
            echo(f"{'ok  ' if outcome.ok else 'FAIL'} {outcome.lab}")
            for problem in outcome.problems:
                echo(f"     {problem}")
    passed = sum(r.expectations for r in results) - sum(len(r.problems) for r in results)
    failed = sum(len(r.problems) for r in results)
    # With --json, standard output is the JSON alone; the count line goes to standard error.
    echo(f"{max(passed, 0)} passed, {failed} failed", err=as_json)
    if failed:
        raise click.exceptions.Exit(1)


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build") / "labs",
    show_default=True,
    help="Where the two versions are written.",
)
def assign(lab_id: str, out: Path) -> None:
    """Write LAB's learner version (solutions replaced by stubs) and solution version."""
    from labkit.labs import load_lab
    from labkit.runner import prepare_version

    lab = load_lab(lab_id)
    versions: tuple[Literal["learner"], Literal["solution"]] = ("learner", "solution")
    for version in versions:
        path = prepare_version(lab, version, out)
        echo(f"{version:<9} {path}")
