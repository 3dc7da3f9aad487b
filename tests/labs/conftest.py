"""Helpers for the per-lab tests: grade a lab's checkpoints before and after its reference steps."""

from __future__ import annotations

import labkit
from labkit.grading import GradeReport, grade
from labkit.sandbox.embedded import EmbeddedSandbox


def grade_fresh_and_caught_up(lab_id: str, sandbox: EmbeddedSandbox) -> tuple[GradeReport, GradeReport]:
    """Grade the lab on the empty sandbox, run every reference step (catch-up), grade again."""
    session = labkit.open_lab(lab_id, sandbox=sandbox)
    before = grade(lab_id, session.lab.checkpoints, sandbox)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade(lab_id, session.lab.checkpoints, sandbox)
    return before, after
