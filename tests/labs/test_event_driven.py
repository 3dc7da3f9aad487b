"""The event-driven lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import labkit
from labkit.grading import grade
from labkit.sandbox.embedded import EmbeddedSandbox


def test_an_empty_sandbox_fails_every_event_driven_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """With nothing built, each of the lab's checkpoints fails (none errors, none passes)."""
    session = labkit.open_lab("event-driven", sandbox=sandbox)
    report = grade("event-driven", session.lab.checkpoints, sandbox)
    assert report.count("failed") == len(session.lab.checkpoints) >= 4, report.summary()


def test_the_reference_steps_pass_every_event_driven_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """Catching up to the last checkpoint builds the four architectures, and each is proved by what it made."""
    session = labkit.open_lab("event-driven", sandbox=sandbox)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    report = grade("event-driven", session.lab.checkpoints, sandbox)
    assert report.score == report.possible, report.summary()
    [mail] = sandbox.outbox(endpoint="admin@example.com")
    assert "exit code 3" in mail["message"]
    assert "event-lab-nightly" in mail["message"]
