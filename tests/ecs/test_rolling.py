"""Rolling-update rules: bounds, one scheduler step, whole plans (course examples and properties)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.ecs.rolling import (
    RollingState,
    RollingStep,
    plan_rolling_update,
    rolling_action,
    rolling_bounds,
)

desired_counts = st.integers(min_value=0, max_value=50)
minimum_percents = st.integers(min_value=0, max_value=100)
maximum_percents = st.integers(min_value=100, max_value=200)


class TestBounds:
    def test_lower_rounds_up_and_upper_rounds_down(self) -> None:
        """The lower bound is rounded up and the upper bound down, as the AWS guide says."""
        assert rolling_bounds(4, 50, 200) == (2, 8)
        assert rolling_bounds(2, 75, 100) == (2, 2)
        assert rolling_bounds(3, 100, 125) == (3, 3)
        assert rolling_bounds(3, 34, 166) == (2, 4)

    def test_zero_desired(self) -> None:
        """A service scaled to zero has both bounds at zero."""
        assert rolling_bounds(0, 100, 200) == (0, 0)

    @pytest.mark.parametrize(
        ("desired", "minimum", "maximum", "message"),
        [
            (-1, 50, 200, "desiredCount must be 0 or more"),
            (4, -1, 200, "minimumHealthyPercent must be between 0 and 100"),
            (4, 101, 200, "minimumHealthyPercent must be between 0 and 100"),
            (4, 50, 99, "maximumPercent must be 100 or more"),
            (4, True, 200, "minimumHealthyPercent must be an integer"),
        ],
    )
    def test_invalid_configuration(self, desired: int, minimum: int, maximum: int, message: str) -> None:
        """An invalid deployment configuration is a ValueError naming the parameter."""
        with pytest.raises(ValueError, match=message):
            rolling_bounds(desired, minimum, maximum)


class TestRollingAction:
    def test_first_step_of_min_50_max_100(self) -> None:
        """With min 50 and max 100 the scheduler first stops half of the old tasks, then fills up."""
        action = rolling_action(RollingState(desired=4, old_running=4), 50, 100)
        assert (action.stop_old, action.start_new, action.stop_new) == (2, 2, 0)
        assert not action.stalled
        assert not action.complete

    def test_waits_for_unhealthy_new_tasks(self) -> None:
        """Started tasks that are not healthy yet make the scheduler wait, not stall."""
        state = RollingState(desired=4, old_running=4, new_running=1, new_healthy=0, new_pending=1)
        action = rolling_action(state, 100, 150)
        assert (action.stop_old, action.start_new) == (0, 0)
        assert not action.stalled
        assert action.reason == "waiting for 2 new tasks to become healthy"

    def test_only_healthy_new_tasks_count_toward_the_lower_bound(self) -> None:
        """An old task is stopped only for a new task that is already healthy."""
        state = RollingState(desired=4, old_running=4, new_running=2, new_healthy=1)
        action = rolling_action(state, 100, 150)
        assert action.stop_old == 1
        # 3 old + 2 new leaves room for one more under the upper bound of 6.
        assert action.start_new == 1

    def test_stall_names_the_numbers(self) -> None:
        """min 100 / max 100 can neither stop nor start a task, and the reason says so with numbers."""
        action = rolling_action(RollingState(desired=4, old_running=4), 100, 100)
        assert action.stalled
        assert (action.stop_old, action.start_new) == (0, 0)
        assert action.reason == (
            "minimumHealthyPercent 100 keeps 4 of 4 tasks running and maximumPercent 100 allows no "
            "more than 4: no task can be replaced"
        )

    def test_initial_deployment_starts_everything(self) -> None:
        """With no old tasks, the first deployment starts the desired count at once."""
        action = rolling_action(RollingState(desired=3, old_running=0), 100, 100)
        assert (action.stop_old, action.start_new) == (0, 3)

    def test_desired_count_lowered_stops_surplus_new_tasks(self) -> None:
        """New tasks above a lowered desired count are stopped, then old ones as the lower bound allows."""
        state = RollingState(desired=2, old_running=1, new_running=4, new_healthy=4)
        action = rolling_action(state, 50, 200)
        assert action.stop_new == 2
        assert action.stop_old == 1
        assert action.start_new == 0

    def test_complete_when_all_new_are_healthy(self) -> None:
        """A deployment with only healthy new tasks at the desired count is complete."""
        action = rolling_action(
            RollingState(desired=2, old_running=0, new_running=2, new_healthy=2), 100, 200
        )
        assert action.complete
        assert action.reason == "deployment complete: 2 of 2 new tasks healthy"

    def test_state_rejects_more_healthy_than_running(self) -> None:
        """A state with more healthy than running new tasks is refused."""
        with pytest.raises(ValueError, match="new_healthy"):
            RollingState(desired=2, old_running=0, new_running=1, new_healthy=2)


class TestPlanExamples:
    def test_course_example_min_50_max_100(self) -> None:
        """Course example 1 (d=4, min 50, max 100) comes out step by step as the notes describe it."""
        plan = plan_rolling_update(4, 50, 100)
        assert plan.converged
        assert plan.steps == (
            RollingStep("stop", 2, old=2, new=0),
            RollingStep("start", 2, old=2, new=2),
            RollingStep("stop", 2, old=0, new=2),
            RollingStep("start", 2, old=0, new=4),
        )
        assert plan.describe() == [
            "stop 2 v1 tasks -> 2 v1, 0 v2",
            "start 2 v2 tasks -> 2 v1, 2 v2",
            "stop 2 v1 tasks -> 0 v1, 2 v2",
            "start 2 v2 tasks -> 0 v1, 4 v2",
        ]

    def test_course_example_min_100_max_150(self) -> None:
        """Course example 2 (d=4, min 100, max 150) starts first, then stops, twice."""
        plan = plan_rolling_update(4, 100, 150)
        assert plan.converged
        assert plan.steps == (
            RollingStep("start", 2, old=4, new=2),
            RollingStep("stop", 2, old=2, new=2),
            RollingStep("start", 2, old=2, new=4),
            RollingStep("stop", 2, old=0, new=4),
        )

    def test_stalled_plan(self) -> None:
        """min 100 / max 100 stalls before the first step and says why."""
        plan = plan_rolling_update(4, 100, 100)
        assert not plan.converged
        assert plan.steps == ()
        assert plan.stalled_reason is not None
        assert "no task can be replaced" in plan.stalled_reason
        assert plan.describe()[-1].startswith("stalled: minimumHealthyPercent 100 keeps 4 of 4")

    def test_single_task_with_max_200(self) -> None:
        """One task with min 100 / max 200 is replaced by starting the new one before stopping the old."""
        assert plan_rolling_update(1, 100, 200).describe() == [
            "start 1 v2 task -> 1 v1, 1 v2",
            "stop 1 v1 task -> 0 v1, 1 v2",
        ]

    def test_initial_deployment_plan(self) -> None:
        """A first deployment (no old tasks) starts the desired count in one step."""
        plan = plan_rolling_update(3, 100, 100, old_running=0)
        assert plan.converged
        assert plan.describe() == ["start 3 v2 tasks -> 0 v1, 3 v2"]

    def test_negative_old_running(self) -> None:
        """A negative old task count is refused."""
        with pytest.raises(ValueError, match="old_running"):
            plan_rolling_update(3, 100, 200, old_running=-1)


class TestPlanProperties:
    @given(desired_counts, minimum_percents, maximum_percents)
    def test_steps_stay_within_bounds(self, desired: int, minimum: int, maximum: int) -> None:
        """No step leaves fewer healthy tasks than the lower bound or more tasks than the upper bound."""
        lower, upper = rolling_bounds(desired, minimum, maximum)
        for step in plan_rolling_update(desired, minimum, maximum).steps:
            assert step.old + step.new >= lower
            assert step.old + step.new <= upper
            assert step.new <= desired

    @given(desired_counts, minimum_percents, maximum_percents)
    def test_converges_exactly_when_progress_is_possible(
        self, desired: int, minimum: int, maximum: int
    ) -> None:
        """A redeployment converges iff desired is 0 or lower < upper (some task can stop or start)."""
        lower, upper = rolling_bounds(desired, minimum, maximum)
        plan = plan_rolling_update(desired, minimum, maximum)
        assert plan.converged == (desired == 0 or lower < upper)
        assert (plan.stalled_reason is None) == plan.converged
        if plan.converged:
            last_old, last_new = (plan.steps[-1].old, plan.steps[-1].new) if plan.steps else (0, 0)
            assert (last_old, last_new) == (0, desired)

    @given(desired_counts, minimum_percents, maximum_percents, st.integers(min_value=0, max_value=60))
    def test_any_old_count_converges_iff_progress_possible(
        self, desired: int, minimum: int, maximum: int, old: int
    ) -> None:
        """From any old task count the plan converges iff old is 0, desired is 0 or lower < upper."""
        lower, upper = rolling_bounds(desired, minimum, maximum)
        plan = plan_rolling_update(desired, minimum, maximum, old_running=old)
        assert plan.converged == (old == 0 or desired == 0 or lower < upper)

    @given(desired_counts, minimum_percents, maximum_percents)
    def test_each_step_changes_the_counts(self, desired: int, minimum: int, maximum: int) -> None:
        """Every step moves at least one task, and stops only remove old tasks, starts only add new ones."""
        old, new = desired, 0
        for step in plan_rolling_update(desired, minimum, maximum).steps:
            assert step.count > 0
            if step.action == "stop":
                assert (step.old, step.new) == (old - step.count, new)
            else:
                assert (step.old, step.new) == (old, new + step.count)
            old, new = step.old, step.new
