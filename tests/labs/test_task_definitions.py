"""The task-definitions lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import labkit
from labkit.grading import grade
from labkit.sandbox.embedded import EmbeddedSandbox


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    session = labkit.open_lab("task-definitions", sandbox=sandbox)
    before = grade("task-definitions", session.lab.checkpoints, sandbox)
    assert before.count("failed") == len(session.lab.checkpoints), before.summary()
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade("task-definitions", session.lab.checkpoints, sandbox)
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert "host port 8080" in messages["bridge-fixed-port"]
    assert "see each other's files" in messages["efs-shared-across-zones"]
    assert "API_KEY" in messages["environment-from-four-sources"]
