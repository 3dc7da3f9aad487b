"""The autoscaling lab: its reference steps pass every checkpoint, an empty account fails every one."""

from __future__ import annotations

import labkit
from labkit.grading import grade
from labkit.sandbox.embedded import EmbeddedSandbox


def test_an_empty_account_fails_every_autoscaling_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """With nothing made yet, each checkpoint fails (none is passed or not graded)."""
    session = labkit.open_lab("autoscaling", sandbox=sandbox)
    report = grade("autoscaling", session.lab.checkpoints, sandbox)
    assert report.count("failed") == len(session.lab.checkpoints) >= 4, report.summary()


def test_the_reference_steps_pass_every_autoscaling_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """Catching up to the last checkpoint on a manual clock scales out and in, fires the alarm and the schedule."""
    session = labkit.open_lab("autoscaling", sandbox=sandbox)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    report = grade("autoscaling", session.lab.checkpoints, sandbox)
    assert report.score == report.possible, report.summary()
    aas = sandbox.client("application-autoscaling")
    target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 6)  # the scheduled action's
