"""Run lab notebooks headlessly and grade them from outside the kernel: `labkit run|grade|validate`.

A notebook runs in a fresh kernel against a fresh `server` sandbox that the grader starts (in a
state folder of its own, so runs never share an account); when the kernel is done, the grader's own
process attaches to that sandbox and runs the checkpoints. Nothing the notebook redefines (labkit's
functions, `check`, boto3) exists in the grader's process, so it cannot change the score.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from labkit.confinement import Confinement
from labkit.execute import ExecutionError, run_notebook
from labkit.grading import CAUGHT_UP_NOTE, CheckpointResult, GradeReport, grade
from labkit.labs import GRADED_VARIABLE, LabInfo, course_order, load_lab
from labkit.notebooks import make_learner_version, make_solution_version, read_notebook, write_notebook

__all__ = [
    "GradeTarget",
    "LabRun",
    "ValidationResult",
    "grade_notebook",
    "grade_target",
    "lab_of_notebook",
    "run_lab",
    "validate_labs",
]

Version = Literal["solution", "learner"]


@dataclass
class LabRun:
    """One executed notebook and the report the grader wrote for it."""

    lab: str
    notebook: Path
    report: GradeReport
    duration: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report's stable JSON form, plus the executed notebook's path, any execution error and
        the run's wall seconds (kernel, notebook and grading)."""
        return {
            **self.report.to_dict(),
            "notebook": str(self.notebook),
            "error": self.error,
            "seconds": round(self.duration, 2),
        }


def grade_notebook(
    notebook: Path,
    lab: LabInfo,
    output: Path,
    *,
    cell_timeout: float = 300,
    parameters: dict[str, Any] | None = None,
    confinement: Confinement | None = None,
) -> LabRun:
    """Execute `notebook` against a fresh server sandbox and grade that sandbox from this process.

    `lab` is loaded (its checks imported) before the kernel starts. The kernel runs under
    `confinement` (default `Confinement.choose()`: see `labkit.confinement`); it finds its sandbox
    through a private state file holding the learner token, while this process keeps the server's
    description (and its control token) in memory and never reads a file the kernel could write.
    Raises `NotebookError` for a notebook that cannot be read, `KernelNotFoundError` and
    `ConfinementError`; a cell that fails, hangs or kills its kernel is reported in `LabRun.error`
    and the checkpoints still run.
    """
    from labkit.sandbox.base import exports_for
    from labkit.sandbox.process import server_identity_problem, stop_process
    from labkit.sandbox.server import ServerSandbox, start_server

    confinement = confinement or Confinement.choose()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labkit-grade-") as home:
        state = Path(home) / "server.json"
        info = start_server(clock="realtime", path=state)
        # The grader keeps the server's description here, in memory: never a file the kernel can write.
        state.unlink(missing_ok=True)
        jail = None
        try:
            jail = confinement.prepare(
                lab_id=lab.id,
                lab_path=lab.path,
                notebook=notebook,
                sandbox_env=exports_for(info.endpoint_url, info.region),
                kernel_state=json.dumps(dataclasses.asdict(info.for_kernel()), indent=2),
                log_path=output.with_name(output.name + ".kernel.log"),
            )
            # The kernel knows it is graded: catch-up is refused and the reference steps are never
            # imported there (its copy of the lab has no reference.py anyway).
            jail.env[GRADED_VARIABLE] = "1"
            result = run_notebook(
                notebook,
                output,
                parameters={"sandbox_mode": "server", "clean_up": False, **(parameters or {})},
                cell_timeout=cell_timeout,
                jail=jail,
            )
            problem = server_identity_problem(info)
            if problem is not None:
                report = _not_graded(lab, f"the run's sandbox is not the one the grader started: {problem}")
            else:
                sandbox = ServerSandbox(region=info.region, info=info, lab=lab.id)
                report = grade(lab.id, lab.checkpoints, sandbox, wait_seconds=10.0)
                # A catch-up that got round the refusal and said so in the kernel's progress file is
                # scored as a catch-up: that file is the kernel's, so it can only lower the score.
                report = report.with_caught_up(_caught_up_in(jail.state, lab.id), CAUGHT_UP_NOTE)
        finally:
            if jail is not None:
                jail.close()
            stop_process(
                info, state_path=state, read=lambda _: None, shutdown=info.control().shutdown, timeout=10
            )
    error = str(result.error) if result.error is not None else None
    return LabRun(lab.id, output, report, time.monotonic() - started, error)


def _not_graded(lab: LabInfo, why: str) -> GradeReport:
    """A report with every checkpoint `not-graded` (0 points), saying why."""
    return GradeReport(
        lab.id,
        [CheckpointResult(cp.id, cp.title, "not-graded", 0, cp.points, why) for cp in lab.checkpoints],
    )


def _caught_up_in(state_dir: Path, lab_id: str) -> set[str]:
    """The checkpoints a kernel's progress file (in its state folder) records as caught up.

    The file is the kernel's, so it is read defensively (at most 1 MiB; anything unreadable is
    nothing) and only ever used to lower a score, never to raise one.
    """
    path = state_dir / "progress" / f"{lab_id}.json"
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            return set()
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["checkpoints"]
        return {
            str(cid) for cid, entry in entries.items() if isinstance(entry, dict) and entry.get("caught_up")
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def prepare_version(lab: LabInfo, version: Version, folder: Path) -> Path:
    """Write the lab's solution or learner version into `folder`; return its path."""
    source = read_notebook(lab.notebook)
    notebook = (
        make_solution_version(source, path=str(lab.notebook))
        if version == "solution"
        else make_learner_version(source, path=str(lab.notebook))
    )
    notebook.metadata.setdefault("labkit", {})["lab"] = lab.id
    path = folder / f"{lab.id}-{version}.ipynb"
    write_notebook(notebook, path)
    return path


def run_lab(
    lab_id: str, *, solution: bool = False, results: Path = Path("results"), cell_timeout: float = 300
) -> LabRun:
    """`labkit run`: execute a lab's learner (or solution) version headlessly and grade it."""
    lab = load_lab(lab_id)
    version: Version = "solution" if solution else "learner"
    folder = results / lab.id
    folder.mkdir(parents=True, exist_ok=True)
    source = prepare_version(lab, version, folder)
    return grade_notebook(
        source,
        lab,
        folder / f"{lab.id}-{version}.executed.ipynb",
        cell_timeout=cell_timeout,
        parameters={"solution": solution},
        # Self-paced: the lab's own notebook, run for its learner, needs no confinement.
        confinement=Confinement("none"),
    )


def lab_of_notebook(notebook: Path) -> str | None:
    """The lab a notebook says it belongs to: its `labkit.lab` metadata, else the first
    `open_lab("...")` call in it; None when it names none. Raises `NotebookError` for a file that is
    not a notebook."""
    import re

    nb = read_notebook(notebook)
    meta = nb.metadata.get("labkit")
    lab = meta.get("lab") if isinstance(meta, dict) else None
    if isinstance(lab, str) and lab.strip():
        return lab
    for cell in nb.cells:
        found = re.search(r"open_lab\(\s*['\"]([\w-]+)['\"]", "".join(cell.get("source", "")))
        if found:
            return found.group(1)
    return None


@dataclass(frozen=True)
class GradeTarget:
    """The lab a notebook is graded as (`labkit grade`): `--lab` when given, else the notebook's own."""

    lab_id: str
    named: str | None
    warning: str | None = None


def grade_target(notebook: Path, lab_id: str | None) -> GradeTarget:
    """Which lab to grade `notebook` as. `lab_id` (the grader's `--lab`) wins over the lab the notebook
    names itself: the notebook is the learner's and does not choose its grader; when they disagree,
    `warning` names both. Raises `NotebookError` (exit code 2) for a path that is not a notebook (no
    file, a folder, an empty file, not JSON, JSON that is not a notebook, an invalid notebook) and for
    a notebook that names no lab when no `lab_id` is given."""
    from labkit.labs import course_order
    from labkit.notebooks import NotebookError

    if notebook.is_dir():
        inside = sorted(path.name for path in notebook.glob("*.ipynb"))[:5]
        hint = f"; the notebooks in it: {', '.join(inside)}" if inside else ""
        raise NotebookError(str(notebook), None, f"is a folder, not a notebook file{hint}")
    named = lab_of_notebook(notebook)
    if lab_id is None:
        if named is None:
            raise NotebookError(
                str(notebook),
                None,
                'names no lab (it has no `labkit.open_lab("...")` call and no lab in its metadata); '
                f"say which lab it is with --lab LAB (the labs: {', '.join(course_order().ids)})",
            )
        return GradeTarget(named, named)
    if named is not None and named != lab_id:
        return GradeTarget(
            lab_id,
            named,
            f"{notebook} is a notebook of the lab {named!r} (it says so itself), but --lab says "
            f"{lab_id!r}: it is graded as {lab_id!r}, as --lab says",
        )
    return GradeTarget(lab_id, named)


# -- validate -------------------------------------------------------------------------------


@dataclass
class ValidationResult:
    """Whether a lab's grader can both pass (solution) and fail (learner version)."""

    lab: str
    runs: dict[str, LabRun] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    expectations: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "ok": self.ok,
            "problems": self.problems,
            "runs": {version: run.to_dict() for version, run in self.runs.items()},
        }


def _validate_one(lab_id: str, results: str, cell_timeout: float, labs_dir: str | None) -> ValidationResult:
    """Run both versions of one lab (in a worker process) and compare them with what they must give."""
    if labs_dir:
        os.environ["LABKIT_LABS_DIR"] = labs_dir
    lab = load_lab(lab_id)
    outcome = ValidationResult(lab_id)
    folder = Path(results) / lab_id
    folder.mkdir(parents=True, exist_ok=True)
    for version, expected in (("solution", "passed"), ("learner", "failed")):
        try:
            source = prepare_version(lab, version, folder)  # type: ignore[arg-type]
            run = grade_notebook(
                source,
                lab,
                folder / f"{lab_id}-{version}.executed.ipynb",
                cell_timeout=cell_timeout,
                parameters={"solution": version == "solution"},
            )
        except ExecutionError as exc:
            outcome.problems.append(f"{version} version could not run: {exc}")
            continue
        outcome.runs[version] = run
        if version == "solution" and run.error:
            outcome.problems.append(f"solution version stopped: {run.error}")
        for result in run.report.checkpoints:
            outcome.expectations += 1
            if result.status != expected:
                outcome.problems.append(
                    f"{version} version: checkpoint {result.id} is {result.status}, expected {expected}"
                    + (f" ({result.message})" if result.message else "")
                )
    return outcome


def validate_labs(
    lab_ids: list[str] | None = None,
    *,
    jobs: int = 2,
    results: Path = Path("results") / "validate",
    cell_timeout: float = 300,
) -> list[ValidationResult]:
    """`labkit validate`: every lab's solution passes every checkpoint and its learner version fails them."""
    ids = lab_ids or course_order().ids
    for lab_id in ids:
        load_lab(lab_id)  # an unknown or broken lab is an error before anything runs
    Confinement.choose()  # so is a confinement this machine cannot give
    labs_dir = os.environ.get("LABKIT_LABS_DIR")
    # Spawned workers: a forked process that inherited running kernels can hang
    # (ARCHITECTURE.md, "Running notebooks").
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context) as pool:
        futures = [pool.submit(_validate_one, lab_id, str(results), cell_timeout, labs_dir) for lab_id in ids]
        return [f.result() for f in futures]


def validation_matrix(lab_ids: list[str] | None = None) -> dict[str, list[str]]:
    """`labkit validate --list`: the labs `validate_labs` would run, as a CI matrix (`{"lab": [...]}`).

    Every lab in the course's order (`course_order`), or the ids given, in their order. Each is
    loaded, so an unknown or broken lab is the same error `validate_labs` gives, before any CI job
    is planned; nothing runs.
    """
    ids = lab_ids or course_order().ids
    for lab_id in ids:
        load_lab(lab_id)
    return {"lab": list(ids)}


def validation_junit(results: list[ValidationResult]) -> str:
    """JUnit XML with one suite per lab version (each checkpoint a test case)."""
    from xml.etree import ElementTree as ET

    root = ET.Element("testsuites", name="labkit validate")
    for outcome in results:
        for version, run in outcome.runs.items():
            suite = ET.fromstring(run.report.to_junit_xml())
            suite.set("name", f"labkit.{outcome.lab}.{version}")
            if version == "learner":
                # In the learner version a failed checkpoint is the expected result.
                for case in suite.iter("testcase"):
                    failure = case.find("failure")
                    if failure is not None:
                        case.remove(failure)
                    else:
                        ET.SubElement(
                            case, "failure", message="this checkpoint should fail in the learner version"
                        )
            root.append(suite)
    return ET.tostring(root, encoding="unicode")


def validation_json(results: list[ValidationResult]) -> str:
    """The validation results as JSON."""
    return json.dumps([r.to_dict() for r in results], indent=2)
