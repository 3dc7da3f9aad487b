"""A learner's lab session in a notebook: `lab = labkit.open_lab("nginx-alb")`.

`lab.check(id)` grades one checkpoint and shows the result (an ipywidgets panel with a button that
reveals hints one at a time where widgets are available, plain text elsewhere). Progress is kept
in labkit's state folder, outside the notebook, so it survives a kernel restart.
`lab.catch_up(to=id)` runs the reference steps up to that checkpoint (the lab's reference.py,
imported only then), recorded as a catch-up: such a checkpoint is `caught-up`, 0 points, never
`passed`, in `lab.progress()` and `labkit check`. In a graded run (the grader sets `LABKIT_GRADED`
for the kernel) catch-up is refused (`CatchUpRefusedError`) and the reference steps are never
imported: a graded notebook scores only what it built.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from labkit.checkpoints import CheckContext, ReferenceSteps
from labkit.config import state_dir
from labkit.errors import LabkitError
from labkit.grading import CAUGHT_UP_NOTE, CheckpointResult, GradeReport, run_checkpoint
from labkit.labs import LabInfo, graded_run, load_lab, load_reference
from labkit.sandbox import Sandbox, open_sandbox
from labkit.workshop.progress import ProgressReporter

__all__ = ["CatchUpRefusedError", "LabSession", "Progress", "check_sandbox", "open_lab"]


class CatchUpRefusedError(LabkitError):
    """`lab.catch_up` in a notebook that is being graded: the grader builds nothing for the learner."""

    def __init__(self, lab_id: str, to: str, skipped: list[str]) -> None:
        super().__init__(
            f"catch-up is not available while your notebook is graded (lab {lab_id}): checkpoints up to "
            f"{to} ({', '.join(skipped)}) would be recorded as caught-up, 0 points. Build them in the "
            "notebook, or catch up in a self-paced session (outside `labkit grade`)."
        )
        self.lab_id = lab_id
        self.to = to
        self.skipped = skipped


@dataclass
class Progress:
    """What a learner has done in a lab: per checkpoint, status, attempts, hints shown, catch-ups."""

    lab: str
    path: Path
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    aws_session: str | None = None
    #: Where progress events go in a workshop (None outside one).
    reporter: ProgressReporter | None = field(default=None, compare=False, repr=False)

    @classmethod
    def load(cls, lab: str, folder: Path | None = None) -> Progress:
        """Read the progress file (a missing or unreadable file starts afresh)."""
        folder = folder or state_dir() / "progress"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{lab}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            checkpoints = dict(data.get("checkpoints", {}))
            aws_session = data.get("aws_session")
        except (OSError, ValueError, AttributeError):
            checkpoints, aws_session = {}, None
        return cls(lab, path, checkpoints, aws_session if isinstance(aws_session, str) else None)

    def entry(self, checkpoint_id: str) -> dict[str, Any]:
        """The record of one checkpoint (created empty on first use)."""
        return self.checkpoints.setdefault(
            checkpoint_id, {"status": "not-attempted", "attempts": 0, "hints_shown": 0, "caught_up": False}
        )

    def record(self, result: CheckpointResult) -> None:
        """Record a check's result; a caught-up checkpoint that passes stays `caught-up`."""
        entry = self.entry(result.id)
        entry["attempts"] += 1
        entry["status"] = "caught-up" if entry.get("caught_up") and result.passed else result.status
        entry["last_checked_at"] = dt.datetime.now(dt.UTC).isoformat()
        if entry["status"] == "passed" and "first_passed_at" not in entry:
            entry["first_passed_at"] = entry["last_checked_at"]
        self.save()
        # The workshop takes the check's own status; its report keeps a catch-up a catch-up.
        self.report("check", result.id, result.status)

    def hint_shown(self, checkpoint_id: str, shown: int) -> None:
        """Record that `shown` hints of a checkpoint are now visible."""
        self.entry(checkpoint_id)["hints_shown"] = shown
        self.save()
        self.report("hint", checkpoint_id)

    def report(self, kind: str, checkpoint_id: str | None = None, status: str | None = None) -> None:
        """Tell the workshop server (if any) what just happened; never raises."""
        if self.reporter is not None:
            self.reporter.send(kind, self.lab, checkpoint_id, status)

    def save(self) -> None:
        """Write the progress file atomically."""
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        data = {"lab": self.lab, "checkpoints": self.checkpoints, "aws_session": self.aws_session}
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)


class LabSession:
    """A lab opened in a notebook: its sandbox, its checkpoints and the learner's progress."""

    def __init__(self, lab: LabInfo, sandbox: Sandbox, progress: Progress, *, owns_sandbox: bool) -> None:
        self.lab = lab
        self.sandbox = sandbox
        self.progress_record = progress
        self._owns_sandbox = owns_sandbox
        self._context = CheckContext(sandbox)
        self._reference: ReferenceSteps | None = None

    def check(self, checkpoint_id: str, *, display: bool = True) -> CheckpointResult:
        """Grade one checkpoint now, record it, show it (`caught-up`, 0 points, where catch-up built
        it); raises `LabkitError` for an unknown id."""
        checkpoint = self.lab.checkpoints.get(checkpoint_id)
        result = run_checkpoint(checkpoint, self._context)
        self.progress_record.record(result)
        if self.progress_record.entry(checkpoint_id)["status"] == "caught-up":
            result = result.as_caught_up(CAUGHT_UP_NOTE)
        if display and _show(result, self.progress_record):
            return _shown(result)
        return result

    def hint(self, checkpoint_id: str) -> str:
        """Reveal the next hint of a checkpoint (and remember how many were shown)."""
        checkpoint = self.lab.checkpoints.get(checkpoint_id)
        entry = self.progress_record.entry(checkpoint_id)
        if not checkpoint.hints:
            return "This checkpoint has no hints."
        shown = min(entry["hints_shown"] + 1, len(checkpoint.hints))
        self.progress_record.hint_shown(checkpoint_id, shown)
        return f"Hint {shown} of {len(checkpoint.hints)}: {checkpoint.hints[shown - 1]}"

    def progress(self, *, display: bool = True) -> GradeReport:
        """Every checkpoint's recorded status: `caught-up` (0 points) for one reached by catch-up,
        never `passed`; checkpoints not yet checked are failed with no message."""
        results = []
        for checkpoint in self.lab.checkpoints:
            entry = self.progress_record.entry(checkpoint.id)
            status = entry["status"] if entry["status"] in ("passed", "failed", "not-graded") else "failed"
            note = "not checked yet" if entry["status"] == "not-attempted" else ""
            if entry.get("caught_up"):
                status, note = "caught-up", CAUGHT_UP_NOTE
            results.append(
                CheckpointResult(
                    checkpoint.id,
                    checkpoint.title,
                    status,  # type: ignore[arg-type]
                    checkpoint.points if status == "passed" else 0,
                    checkpoint.points,
                    note,
                )
            )
        report = GradeReport(self.lab.id, results)
        if display and _display(report, report.summary()):
            return _shown(report)
        return report

    def catch_up(self, to: str) -> None:
        """Bring the sandbox to checkpoint `to` with the reference steps; each checkpoint they build (or
        that passes once they have run) is recorded as `caught-up` (0 points), never as a pass.
        Checkpoints that pass before any reference step runs are the learner's and stay as they are.

        Raises `CatchUpRefusedError` in a graded run (before anything is imported or built),
        `ReferenceNotAvailableError` where the lab has no reference.py, and `LabkitError` for an
        unknown checkpoint or one without reference steps.
        """
        ids = self.lab.checkpoints.ids()
        if to not in ids:
            self.lab.checkpoints.get(to)  # raises with the list of ids
        wanted = ids[: ids.index(to) + 1]
        if graded_run():
            raise CatchUpRefusedError(self.lab.id, to, wanted)
        if self._reference is None:
            self._reference = load_reference(self.lab)
        built = False
        for checkpoint_id in wanted:
            checkpoint = self.lab.checkpoints.get(checkpoint_id)
            if run_checkpoint(checkpoint, self._context).passed:
                if not built:
                    continue  # the learner's own work, from before any reference step ran
            else:
                steps = self._reference.get(checkpoint_id)
                if steps is None:
                    raise LabkitError(
                        f"checkpoint {checkpoint_id} of lab {self.lab.id} has no reference steps to catch up with"
                    )
                steps(self.sandbox)
                built = True
            # Built by the reference steps, or resting on what they built: a catch-up either way.
            entry = self.progress_record.entry(checkpoint_id)
            entry["caught_up"] = True
            entry["status"] = "caught-up"
            self.progress_record.save()
            self.progress_record.report("catch-up", checkpoint_id)
        self.progress_record.save()

    def close(self) -> None:
        """Close the sandbox if the session opened it."""
        if self._owns_sandbox:
            self.sandbox.close()

    def __enter__(self) -> LabSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_lab(
    lab_id: str, mode: str = "embedded", *, sandbox: Sandbox | None = None, **options: Any
) -> LabSession:
    """Open a lab with a sandbox of `mode` (or the one given); raises `UnknownLabError` for a wrong id.

    In a workshop (`LABKIT_WORKSHOP` names the learner's connection file) progress events are posted
    to the workshop server as the learner works. Where `LABKIT_SANDBOX_MODE=server` (JupyterLab
    started by `labkit start --mode server`), `embedded` means the shared sandbox server. In `aws`
    mode the cost preflight runs first (after the account guards, before anything is created):
    `confirm_cost=True` accepts it, and without a terminal or that flag it raises
    `CostNotConfirmedError`.
    """
    from labkit.workshop.progress import reporter_from_env

    lab = load_lab(lab_id)
    mode = _mode_of_workspace(mode)
    progress = Progress.load(lab_id)
    progress.reporter = reporter_from_env()
    owns = sandbox is None
    confirm_cost = options.pop("confirm_cost", None)
    if sandbox is None:
        if mode == "aws":
            # Reopening the lab in a real account continues its session: same tag, same resources.
            options.setdefault("session_id", progress.aws_session)
        sandbox = open_sandbox(mode, lab=lab_id, **options)
        if mode == "aws":
            _cost_preflight(lab, sandbox, confirm_cost)
            progress.aws_session = sandbox.session_id
            progress.save()
    if progress.reporter is None and hasattr(sandbox, "reporter"):
        # A workshop sandbox opened from an explicit connection file reports with its own token.
        progress.reporter = sandbox.reporter()
    progress.report("open")
    return LabSession(lab, sandbox, progress, owns_sandbox=owns)


def _mode_of_workspace(mode: str) -> str:
    """`embedded` (the notebooks' default) becomes the mode `labkit start --mode server` chose for its
    JupyterLab (`LABKIT_SANDBOX_MODE`); any other mode asked for is kept."""
    chosen = os.environ.get("LABKIT_SANDBOX_MODE", "")
    if mode != "embedded" or not chosen:
        return mode
    if chosen not in ("embedded", "server"):
        raise LabkitError(f"LABKIT_SANDBOX_MODE is {chosen!r}; it can be 'embedded' or 'server'")
    return chosen


def _cost_preflight(lab: LabInfo, sandbox: Sandbox, confirm: bool | None) -> None:
    """Print what the lab will create and its hourly cost; close the sandbox and raise unless confirmed."""
    from labkit.config import load_config
    from labkit.cost import plan_from_lab, preflight

    try:
        preflight(
            lab.id,
            plan_from_lab(lab.extra, lab.id),
            region=sandbox.region,
            confirm=confirm,
            configured=load_config().aws.confirm_cost,
        )
    except LabkitError:
        sandbox.close()
        raise


class _ShownInThisCell:
    """A result `check` or `progress` has displayed already: the cell's own output (`Out[n]`, when
    the call is the cell's last line) does not show it a second time; in a later cell it shows."""

    _shown_in: int | None = None

    def _ipython_display_(self) -> None:
        from IPython.core.getipython import get_ipython
        from IPython.display import HTML, display

        shell = get_ipython()
        if shell is not None and shell.execution_count == self._shown_in:
            return
        display(HTML(self._repr_html_()))  # type: ignore[attr-defined]


class _ShownCheckpointResult(_ShownInThisCell, CheckpointResult):
    """A `CheckpointResult` already displayed in this cell."""


class _ShownGradeReport(_ShownInThisCell, GradeReport):
    """A `GradeReport` already displayed in this cell."""


_Result = TypeVar("_Result", CheckpointResult, GradeReport)


def _shown(obj: _Result) -> _Result:
    """The same result (same fields, a subclass of its type), marked as displayed in this cell."""
    from IPython.core.getipython import get_ipython

    kind: type = _ShownCheckpointResult if isinstance(obj, CheckpointResult) else _ShownGradeReport
    marked = copy.copy(obj)
    marked.__class__ = kind
    shell = get_ipython()
    vars(marked)["_shown_in"] = shell.execution_count if shell is not None else None
    return marked


def _display(obj: Any, text: str) -> bool:
    """Display `obj` in IPython (True), else print `text` (False)."""
    try:
        from IPython.core.getipython import get_ipython
        from IPython.display import display
    except ImportError:
        print(text)
        return False
    if get_ipython() is None:
        print(text)
        return False
    display(obj)
    return True


def _show(result: CheckpointResult, progress: Progress) -> bool:
    """An ipywidgets panel with a hint button in a kernel with widgets (True); plain text elsewhere."""
    try:
        from IPython.core.getipython import get_ipython
        from IPython.display import display

        if get_ipython() is None or get_ipython().__class__.__name__ != "ZMQInteractiveShell":
            raise ImportError("not in a Jupyter kernel")
        import ipywidgets as widgets
    except ImportError:
        print(result.summary())
        if not result.passed and result.hints:
            print("  (lab.hint(...) shows a hint)")
        return False
    panel = widgets.HTML(result._repr_html_())
    if result.passed or not result.hints:
        display(panel)
        return True
    button = widgets.Button(description="Show a hint", icon="lightbulb-o")
    hint_box = widgets.HTML("")
    entry = progress.entry(result.id)

    def reveal(_: Any) -> None:
        shown = min(entry["hints_shown"] + 1, len(result.hints))
        progress.hint_shown(result.id, shown)
        hint_box.value = "<br>".join(f"Hint {i + 1}: {h}" for i, h in enumerate(result.hints[:shown]))
        if shown >= len(result.hints):
            button.disabled = True

    button.on_click(reveal)
    display(widgets.VBox([panel, button, hint_box]))
    return True


def check_sandbox(lab_id: str, mode: str = "server") -> GradeReport:
    """Grade the current state of an existing sandbox (the running server, or the AWS account)."""
    from labkit.grading import grade

    lab = load_lab(lab_id)
    options: dict[str, Any] = {}
    if mode == "aws":
        # Only what the learner's lab session made (its tag) counts in a real account.
        session = Progress.load(lab_id).aws_session
        if session is None:
            raise LabkitError(
                f"no aws session of lab {lab_id} is recorded here; open the lab with mode='aws' first"
            )
        options["session_id"] = session
    if mode == "server":
        from labkit.sandbox.server import running_server

        if running_server() is None:
            from labkit.errors import SandboxNotRunningError

            raise SandboxNotRunningError("`labkit check` grades the running sandbox server")
    with open_sandbox(mode, lab=lab_id, **options) as sandbox:
        report = grade(lab.id, lab.checkpoints, sandbox)
    # What this learner reached by catch-up is theirs as a catch-up, never as a pass.
    caught = {cid for cid, entry in Progress.load(lab_id).checkpoints.items() if entry.get("caught_up")}
    return report.with_caught_up(caught, CAUGHT_UP_NOTE)
