"""The rolling-updates lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    before, after = grade_fresh_and_caught_up("rolling-updates", sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert "(4,0) (2,0) (2,2) (0,2) (0,4)" in messages["rolled-v1-to-v2-at-min50-max100"]
    assert "(4,0) (4,2) (2,2) (2,4) (0,4)" in messages["rolled-v2-to-v3-at-min100-max150"]
    assert "back to v3" in messages["circuit-breaker-rolled-back"]


def test_the_predicted_sequences_are_the_course_notes_examples() -> None:
    """The plan the checks compare with is (4,0) (2,0) (2,2) (0,2) (0,4) and (4,0) (4,2) (2,2) (2,4) (0,4)."""
    module = load_lab("rolling-updates")
    assert module.checkpoints.lab == "rolling-updates"
    from labkit_labs.rolling_updates.checks import plan_states  # type: ignore[import-not-found]

    assert plan_states(50, 100) == [(4, 0), (2, 0), (2, 2), (0, 2), (0, 4)]
    assert plan_states(100, 150) == [(4, 0), (4, 2), (2, 2), (2, 4), (0, 4)]


def test_a_rollout_is_replayed_from_task_timestamps_with_near_events_as_one_step() -> None:
    """Tasks that start or stop within a few seconds of each other (as on AWS) make one step, not two."""
    load_lab("rolling-updates")
    from labkit_labs.rolling_updates.checks import observed_states  # type: ignore[import-not-found]

    def task(
        revision: str, created: float, started: float, stopping: float | None = None
    ) -> dict[str, object]:
        return {
            "taskDefinitionArn": revision,
            "createdAt": created,
            "startedAt": started,
            "stoppingAt": stopping,
        }

    tasks = [
        task("v1", 0, 10, 101),
        task("v1", 0, 10, 102.5),
        task("v1", 0, 10, 200),
        task("v1", 0, 10, 201),
        task("v2", 100, 130),
        task("v2", 100, 131.5),
        task("v2", 199, 230),
        task("v2", 199, 232),
    ]
    assert observed_states(tasks, {"v1"}, {"v2"}) == [(4, 0), (2, 0), (2, 2), (0, 2), (0, 4)]
    assert observed_states(tasks, {"v1"}, {"v3"}) == []
