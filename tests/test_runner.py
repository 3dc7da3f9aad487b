"""Headless runs graded from outside the kernel: `labkit run`, `labkit grade`, `labkit validate`."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from labkit.labs import load_lab
from labkit.runner import grade_notebook, validate_labs
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).parent / "fixtures" / "labs"


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell('sandbox_mode = "embedded"\nclean_up = True')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


SETUP = 'import labkit\nlab = labkit.open_lab("tiny", mode=sandbox_mode)\necs = lab.sandbox.client("ecs")'


@pytest.fixture
def tiny_labs(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LABKIT_LABS_DIR", str(FIXTURES))
    return FIXTURES


def test_the_course_labs_validate(tmp_path: Path) -> None:
    """Every lab's solution passes every checkpoint and its learner version fails every one."""
    results = validate_labs(jobs=2, results=tmp_path)
    assert results
    for outcome in results:
        assert outcome.ok, outcome.problems
        assert outcome.runs["solution"].report.score == outcome.runs["solution"].report.possible
        assert outcome.runs["learner"].report.score == 0


def test_validate_catches_a_checkpoint_that_cannot_fail(tiny_labs: Path, tmp_path: Path) -> None:
    """A check that passes in the learner version, or cannot run, makes validate fail and say which."""
    [outcome] = validate_labs(["tiny"], jobs=1, results=tmp_path)
    assert not outcome.ok
    problems = "\n".join(outcome.problems)
    assert "learner version: checkpoint always-passes is passed, expected failed" in problems
    assert "solution version: checkpoint writes is not-graded, expected passed" in problems


def test_validate_cli_ends_with_a_count_line(tiny_labs: Path, tmp_path: Path) -> None:
    """`labkit validate tiny --junit F` exits 1, writes JUnit XML and ends with `N passed, M failed`."""
    junit = tmp_path / "validate.xml"
    done = run_labkit(
        "validate",
        "tiny",
        "--jobs",
        "1",
        "--junit",
        str(junit),
        env={"LABKIT_LABS_DIR": str(tiny_labs)},
        timeout=300,
    )
    assert done.returncode == 1
    assert done.stdout.strip().splitlines()[-1] == "3 passed, 5 failed"
    assert junit.read_text().startswith("<testsuites")


def test_validate_json_is_json_alone_with_each_run_timed(tiny_labs: Path) -> None:
    """`labkit validate --json` prints only JSON on stdout (each run with its wall seconds); the
    count line goes to stderr."""
    done = run_labkit(
        "validate", "tiny", "--jobs", "1", "--json", env={"LABKIT_LABS_DIR": str(tiny_labs)}, timeout=300
    )
    assert done.returncode == 1
    [outcome] = json.loads(done.stdout)
    assert outcome["lab"] == "tiny"
    assert {version: run["seconds"] > 0 for version, run in outcome["runs"].items()} == {
        "solution": True,
        "learner": True,
    }
    assert done.stderr.strip().splitlines()[-1] == "3 passed, 5 failed"


def test_grade_reports_what_the_notebook_built(tiny_labs: Path, tmp_path: Path) -> None:
    """A notebook that creates the cluster gets that checkpoint's points, graded in the grader's process."""
    notebook = _notebook(tmp_path / "done.ipynb", SETUP, 'ecs.create_cluster(clusterName="tiny")')
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    statuses = {r.id: r.status for r in run.report.checkpoints}
    assert statuses["cluster-created"] == "passed"
    assert run.error is None


TAMPERING = {
    "redefines-labkit": "import labkit.grading, labkit.checkpoints\n"
    "labkit.checkpoints.failed = labkit.checkpoints.passed\n"
    "labkit.grading.run_checkpoint = lambda *a, **k: None",
    "monkeypatches-check": "lab.check = lambda *a, **k: 'passed'\nprint(lab.check('cluster-created'))",
    "look-alike-in-another-sandbox": "other = labkit.open_sandbox()\n"
    "other.client('ecs').create_cluster(clusterName='tiny')\n"
    "print(other.client('ecs').list_clusters())",
    "patches-boto3": "import botocore.client\n"
    "botocore.client.BaseClient._make_api_call = lambda self, op, params: {'clusters': [{'status': 'ACTIVE'}]}\n"
    "print(lab.check('cluster-created'))",
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_in_the_notebook_cannot_raise_the_score(tiny_labs: Path, tmp_path: Path, kind: str) -> None:
    """What a notebook redefines in its kernel (labkit, lab.check, boto3) or builds in a sandbox of its own
    does not reach the grader, which reads only the sandbox it started for this run."""
    notebook = _notebook(tmp_path / f"{kind}.ipynb", SETUP, TAMPERING[kind])
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    statuses = {r.id: r.status for r in run.report.checkpoints}
    assert statuses["cluster-created"] == "failed", (run.report.summary(), run.error)


def _printed(executed: Path) -> str:
    """Everything the cells of an executed notebook printed."""
    nb = nbformat.read(executed, as_version=4)
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
        if cell.cell_type == "code"
    )


def test_a_catch_up_notebook_scores_nothing_when_graded(tmp_path: Path) -> None:
    """The four-line attack (open nginx-alb, catch up to its last checkpoint) scores 0, not 17/17:
    in a graded run catch-up is refused, and the notebook's error says so."""
    notebook = _notebook(
        tmp_path / "catch-up.ipynb",
        'import labkit\nlab = labkit.open_lab("nginx-alb", mode=sandbox_mode)\nlab.catch_up(to="three-servers-answer")',
    )
    run = grade_notebook(notebook, load_lab("nginx-alb"), tmp_path / "out.ipynb", cell_timeout=120)
    assert run.report.score == 0, run.report.summary()
    assert {r.status for r in run.report.checkpoints} == {"failed"}, run.report.summary()
    assert run.error is not None
    assert "CatchUpRefusedError" in run.error
    assert "catch-up is not available while your notebook is graded" in run.error


def test_a_graded_kernel_never_gets_the_reference_steps_from_labkit(tiny_labs: Path, tmp_path: Path) -> None:
    """open_lab in a graded kernel imports no reference.py, and asking labkit for the reference steps
    (load_reference) is refused: the notebook scores only what it built."""
    notebook = _notebook(
        tmp_path / "reference.ipynb",
        SETUP,
        'import sys\nprint("reference modules:", sorted(m for m in sys.modules if m.endswith(".reference")))',
        "from labkit.labs import load_reference\nload_reference(lab.lab).get('cluster-created')(lab.sandbox)",
    )
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    assert {r.id: r.status for r in run.report.checkpoints}["cluster-created"] == "failed"
    assert "reference modules: []" in _printed(tmp_path / "out.ipynb")
    assert run.error is not None
    assert "ReferenceNotAvailableError" in run.error
    assert "being graded" in run.error


def test_a_catch_up_that_gets_round_the_refusal_still_scores_nothing(tiny_labs: Path, tmp_path: Path) -> None:
    """A notebook that unsets LABKIT_GRADED and catches up: where it can still reach the reference
    steps (no confinement) the grader reads the catch-up in the kernel's progress and scores it
    `caught-up`, 0 points; under confinement the reference steps are not there at all."""
    notebook = _notebook(
        tmp_path / "sneaky.ipynb",
        SETUP,
        'import os\nos.environ.pop("LABKIT_GRADED", None)\nlab.catch_up(to="cluster-created")',
    )
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    result = next(r for r in run.report.checkpoints if r.id == "cluster-created")
    assert result.points == 0, (run.report.summary(), run.error)
    assert result.status in ("caught-up", "failed"), run.report.summary()
    if BWRAP_PROBLEM is not None:  # unconfined: the kernel could read reference.py and build it
        assert result.status == "caught-up"
        assert json.loads(run.report.to_json())["checkpoints"][0]["status"] == "caught-up"


def _bwrap_confinement_problem() -> str | None:
    """None when graded kernels run under bubblewrap here, else why not."""
    import importlib
    import shutil

    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        confinement = importlib.import_module("labkit.confinement")
    except ImportError:
        return "graded kernels are not confined in this build (no labkit.confinement)"
    try:
        mode = str(confinement.Confinement.choose().mode)
    except Exception as exc:  # noqa: BLE001 - any reason bwrap is not used is a reason to skip
        return f"no confinement here: {exc}"
    return None if mode == "bwrap" else f"graded kernels run under {mode!r}, not bwrap (LABKIT_CONFINEMENT)"


BWRAP_PROBLEM = _bwrap_confinement_problem()

STEAL_REFERENCE = f"""
import importlib.util, os, pathlib, sys, types
stolen = []
folders = [pathlib.Path({str(FIXTURES / "tiny")!r}), pathlib.Path(os.environ.get("LABKIT_LABS_DIR", ".")) / "tiny"]
for number, folder in enumerate(folders):
    try:  # as labkit would import it: a package whose folder is the lab's
        package = types.ModuleType(f"stolen{{number}}")
        package.__path__ = [str(folder)]
        sys.modules[package.__name__] = package
        spec = importlib.util.spec_from_file_location(f"stolen{{number}}.reference", folder / "reference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        module.reference.get("cluster-created")(lab.sandbox)
        stolen.append(str(folder))
    except Exception as exc:
        print("refused:", type(exc).__name__, exc)
    try:  # by sys.path
        sys.path.insert(0, str(folder))
        from reference import reference
        reference.get("cluster-created")(lab.sandbox)
        stolen.append(str(folder))
    except Exception as exc:
        print("refused:", type(exc).__name__, exc)
    try:  # by reading the file
        print(len((folder / "reference.py").read_text()))
        stolen.append(str(folder))
    except Exception as exc:
        print("refused:", type(exc).__name__, exc)
print("stolen:", stolen)
"""


@pytest.mark.skipif(BWRAP_PROBLEM is not None, reason=f"needs bubblewrap confinement: {BWRAP_PROBLEM}")
def test_under_bwrap_a_graded_notebook_cannot_import_the_reference_steps_directly(
    tiny_labs: Path, tmp_path: Path
) -> None:
    """Under bubblewrap the graded kernel cannot read the lab's reference.py at all (by importlib from
    the labs folder's path, by sys.path, by open()): the labs folder is not in its view and its own
    copy of the lab holds only the checks, so the notebook scores only what it built."""
    notebook = _notebook(tmp_path / "steal.ipynb", SETUP, STEAL_REFERENCE)
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    assert {r.id: r.status for r in run.report.checkpoints}["cluster-created"] == "failed", run.error
    assert "stolen: []" in _printed(tmp_path / "out.ipynb")


def test_a_failing_cell_is_reported_and_the_checkpoints_still_run(tiny_labs: Path, tmp_path: Path) -> None:
    """A cell that raises stops the notebook; the report names the cell and still grades the sandbox."""
    notebook = _notebook(tmp_path / "broken.ipynb", SETUP, 'ecs.create_cluster(clusterName="tiny")', "1 / 0")
    run = grade_notebook(notebook, load_lab("tiny"), tmp_path / "out.ipynb")
    assert run.error is not None
    assert "cell 3" in run.error
    assert "ZeroDivisionError" in run.error
    assert {r.id: r.status for r in run.report.checkpoints}["cluster-created"] == "passed"


def test_grade_cli_json_has_the_stable_schema(tiny_labs: Path, tmp_path: Path) -> None:
    """`labkit grade NOTEBOOK --json` prints lab, score, possible and the checkpoints."""
    notebook = _notebook(tmp_path / "empty.ipynb", SETUP)
    done = run_labkit(
        "grade",
        str(notebook),
        "--json",
        "--results",
        str(tmp_path),
        env={"LABKIT_LABS_DIR": str(tiny_labs)},
        timeout=300,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert report["lab"] == "tiny"
    assert {"lab", "score", "possible", "checkpoints"} <= set(report)
    assert report["checkpoints"][0] == {
        "id": "cluster-created",
        "status": "failed",
        "points": 0,
        "message": "There is no cluster named tiny.",
    }


def test_run_saves_the_executed_notebook(tiny_labs: Path, tmp_path: Path) -> None:
    """`labkit run tiny --solution` prints the checkpoint table and saves the executed notebook."""
    done = run_labkit(
        "run",
        "tiny",
        "--solution",
        "--results",
        str(tmp_path),
        env={"LABKIT_LABS_DIR": str(tiny_labs)},
        timeout=300,
    )
    assert "cluster-created" in done.stdout
    # It says which version it ran, and where one's own work is graded; no kernel warning reaches stderr.
    assert "the solution version of tiny (the reference solution):" in done.stdout
    assert "labkit grade NOTEBOOK" in done.stdout
    assert done.stderr.splitlines() == [
        "labkit: running the solution version of tiny (the reference solution), not your own work"
    ]
    executed = tmp_path / "tiny" / "tiny-solution.executed.ipynb"
    assert executed.exists()
    assert done.returncode == 1  # the fixture lab's broken checks never all pass
    # In the kernel, lab.check shows an ipywidgets panel.
    outputs = [o for c in nbformat.read(executed, as_version=4).cells for o in c.get("outputs", [])]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
