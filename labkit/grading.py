"""Grading: run checkpoints against a sandbox and report the results as plain data.

`CheckpointResult` and `GradeReport` are dataclasses with a stable JSON form, JUnit XML (for CI)
and HTML (for notebooks and instructors). A check that raises is "not-graded", never "passed"; a
checkpoint reached by catch-up (the lab's reference steps) is "caught-up", 0 points, never "passed"
(`GradeReport.with_caught_up`; JUnit shows it as skipped).
"""

from __future__ import annotations

import html
import json
import time
import traceback
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from xml.etree import ElementTree as ET

from labkit.checkpoints import CheckContext, Checkpoint
from labkit.sandbox import Sandbox

__all__ = ["CAUGHT_UP_NOTE", "CheckpointResult", "GradeReport", "Status", "grade", "run_checkpoint"]

Status = Literal["passed", "failed", "not-graded", "caught-up"]
_ICON = {"passed": "✔", "failed": "✘", "not-graded": "?", "caught-up": "↷"}
#: What a caught-up checkpoint's result says.
CAUGHT_UP_NOTE = "caught up with the reference solution (0 points)"
_COLOUR = {"passed": "#1a7f37", "failed": "#cf222e", "not-graded": "#9a6700", "caught-up": "#0969da"}


@dataclass
class CheckpointResult:
    """The result of one checkpoint."""

    id: str
    title: str
    status: Status
    points: int
    possible: int
    message: str
    hints: tuple[str, ...] = ()
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        """True only for a check that ran and passed."""
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form: id, status, points, message."""
        return {"id": self.id, "status": self.status, "points": self.points, "message": self.message}

    def as_caught_up(self, note: str) -> CheckpointResult:
        """This checkpoint as reached by catch-up: `caught-up`, 0 points, `note` as its message."""
        return replace(self, status="caught-up", points=0, message=note)

    def summary(self) -> str:
        """One line: icon, id, points, message."""
        tail = f": {self.message}" if self.message else ""
        return f"{_ICON[self.status]} {self.id} ({self.points}/{self.possible}) {self.status}{tail}"

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 8px">'
            f"<b>{html.escape(self.title)}</b> ({html.escape(self.id)}): "
            f'<span style="color:{colour}">{self.status}</span> {self.points}/{self.possible}'
            f"<br>{html.escape(self.message)}</div>"
        )


@dataclass
class GradeReport:
    """All checkpoint results of one lab."""

    lab: str
    checkpoints: list[CheckpointResult] = field(default_factory=list)

    @property
    def score(self) -> int:
        return sum(r.points for r in self.checkpoints)

    @property
    def possible(self) -> int:
        return sum(r.possible for r in self.checkpoints)

    def count(self, status: Status) -> int:
        """How many checkpoints have `status`."""
        return sum(1 for r in self.checkpoints if r.status == status)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form: {"lab", "score", "possible", "checkpoints": [{"id", "status", "points", "message"}]}."""
        return {
            "lab": self.lab,
            "score": self.score,
            "possible": self.possible,
            "checkpoints": [r.to_dict() for r in self.checkpoints],
        }

    def with_caught_up(self, ids: Collection[str], note: str) -> GradeReport:
        """This report with every passed checkpoint of `ids` `caught-up` (0 points, `note` as message)."""
        return GradeReport(
            self.lab,
            [r.as_caught_up(note) if r.id in ids and r.status == "passed" else r for r in self.checkpoints],
        )

    def to_json(self) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def to_junit_xml(self) -> str:
        """The report as a JUnit XML test suite (one test case per checkpoint)."""
        suite = ET.Element(
            "testsuite",
            name=f"labkit.{self.lab}",
            tests=str(len(self.checkpoints)),
            failures=str(self.count("failed")),
            errors=str(self.count("not-graded")),
            skipped=str(self.count("caught-up")),
            time=f"{sum(r.duration for r in self.checkpoints):.3f}",
        )
        for result in self.checkpoints:
            case = ET.SubElement(
                suite, "testcase", classname=self.lab, name=result.id, time=f"{result.duration:.3f}"
            )
            if result.status == "failed":
                ET.SubElement(case, "failure", message=result.message).text = result.message
            elif result.status == "not-graded":
                ET.SubElement(case, "error", message=result.message).text = result.message
            elif result.status == "caught-up":
                # Neither passed nor failed: the lab's reference steps built it, so it scores nothing.
                ET.SubElement(case, "skipped", message=f"caught-up: {result.message}")
        return ET.tostring(suite, encoding="unicode")

    def summary(self) -> str:
        """A plain-text table of the checkpoints and the score."""
        width = max((len(r.id) for r in self.checkpoints), default=10)
        lines = [f"{self.lab}: {self.score}/{self.possible} points"]
        for r in self.checkpoints:
            lines.append(
                f"  {_ICON[r.status]} {r.id:<{width}}  {r.points:>2}/{r.possible:<2} {r.status:<10} {r.message}"
            )
        return "\n".join(lines)

    def to_html(self) -> str:
        """The report as an HTML table."""
        rows = "".join(
            f"<tr><td>{_ICON[r.status]}</td><td>{html.escape(r.id)}</td><td>{html.escape(r.title)}</td>"
            f"<td>{r.points}/{r.possible}</td><td>{r.status}</td><td>{html.escape(r.message)}</td></tr>"
            for r in self.checkpoints
        )
        return (
            f"<h3>{html.escape(self.lab)}: {self.score}/{self.possible} points</h3>"
            "<table><tr><th></th><th>checkpoint</th><th>title</th><th>points</th><th>status</th><th>message</th></tr>"
            f"{rows}</table>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def run_checkpoint(checkpoint: Checkpoint, context: CheckContext) -> CheckpointResult:
    """Run one check; a learner's mistake is `failed`, an exception in the check is `not-graded`."""
    started = time.perf_counter()
    try:
        outcome = checkpoint.check(context)
        # A settling outcome is a failure, whatever else it says (ARCHITECTURE.md, "Labs, checkpoints and grading").
        status: Status = "passed" if outcome.passed and not outcome.settling else "failed"
        message = outcome.message
    except Exception as exc:  # noqa: BLE001 - a broken check or sandbox is reported, never a pass
        status = "not-graded"
        last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        where = f" (at {last[0].name}, line {last[0].lineno})" if last else ""
        message = f"the check could not run: {type(exc).__name__}: {exc}{where}"
    return CheckpointResult(
        id=checkpoint.id,
        title=checkpoint.title,
        status=status,
        points=checkpoint.points if status == "passed" else 0,
        possible=checkpoint.points,
        message=message,
        hints=checkpoint.hints,
        duration=time.perf_counter() - started,
    )


def grade(
    lab: str, checkpoints: Iterable[Checkpoint], sandbox: Sandbox, *, wait_seconds: float = 5.0
) -> GradeReport:
    """Run every checkpoint against `sandbox` and return the report."""
    context = CheckContext(sandbox, wait_seconds=wait_seconds)
    return GradeReport(lab, [run_checkpoint(c, context) for c in checkpoints])
