"""The rolling-update (`ECS` deployment controller) rules: bounds, one scheduler step, a whole plan.

AWS documents the rules in the ECS developer guide, "Rolling update" (deployment-type-ecs) and in the
`DeploymentConfiguration` shape of the ECS API model botocore ships:

- the lower bound is `ceil(desired * minimumHealthyPercent / 100)` tasks that must stay RUNNING and
  healthy during a deployment ("rounded up");
- the upper bound is `floor(desired * maximumPercent / 100)` tasks that may be RUNNING or PENDING
  ("rounded down");
- "you should ensure that the scheduler can stop or start at least one task when a deployment is
  triggered"; otherwise the service reports that it "was unable to stop or start tasks during a
  deployment because of the service deployment configuration".

`rolling_action` is the one rule: given live counts it says how many old tasks to stop and new tasks
to start now. The emulator calls it at every tick; `plan_rolling_update` calls it in a loop, assuming
each started task becomes healthy before the next step, to show a learner the whole deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "RollingAction",
    "RollingPlan",
    "RollingState",
    "RollingStep",
    "plan_rolling_update",
    "rolling_action",
    "rolling_bounds",
]


def rolling_bounds(desired: int, minimum_healthy_percent: int, maximum_percent: int) -> tuple[int, int]:
    """Return (lower, upper): the healthy tasks that must stay running and the tasks that may run or pend.

    Raises ValueError when desired is negative, minimumHealthyPercent is outside 0..100, or
    maximumPercent is below 100 (it would forbid running the desired count at all).
    """
    for name, value in (
        ("desiredCount", desired),
        ("minimumHealthyPercent", minimum_healthy_percent),
        ("maximumPercent", maximum_percent),
    ):
        # bool is an int subclass; True as a percentage is always a caller's mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if desired < 0:
        raise ValueError(f"desiredCount must be 0 or more, got {desired}")
    if not 0 <= minimum_healthy_percent <= 100:
        raise ValueError(f"minimumHealthyPercent must be between 0 and 100, got {minimum_healthy_percent}")
    if maximum_percent < 100:
        raise ValueError(
            f"maximumPercent must be 100 or more (it caps running plus pending tasks at a percentage "
            f"of desiredCount), got {maximum_percent}"
        )
    # Integer arithmetic: float rounding must not turn 4 * 57 / 100 into an off-by-one bound.
    lower = -((-desired * minimum_healthy_percent) // 100)
    upper = (desired * maximum_percent) // 100
    return lower, upper


@dataclass(frozen=True)
class RollingState:
    """Live task counts of a service during a deployment, as the scheduler sees them at one moment.

    - `desired`: the service's desiredCount.
    - `old_running`: tasks of earlier revisions that are RUNNING and not being stopped; a running old
      task counts as healthy (it passed its checks before the deployment started).
    - `new_running`: tasks of the new revision that are RUNNING, healthy or not.
    - `new_healthy`: the part of `new_running` that is healthy (RUNNING and, behind a load balancer,
      healthy in its target group); only these count toward the lower bound.
    - `new_pending`: tasks of the new revision that were started and are not RUNNING yet; they count
      toward the upper bound.
    """

    desired: int
    old_running: int
    new_running: int = 0
    new_healthy: int = 0
    new_pending: int = 0

    def __post_init__(self) -> None:
        for name in ("desired", "old_running", "new_running", "new_healthy", "new_pending"):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"{name} must be 0 or more, got {value}")
        if self.new_healthy > self.new_running:
            raise ValueError(
                f"new_healthy ({self.new_healthy}) cannot exceed new_running ({self.new_running}): "
                "only running tasks can be healthy"
            )

    @property
    def healthy(self) -> int:
        """Tasks that count toward the lower bound: running old tasks plus healthy new ones."""
        return self.old_running + self.new_healthy

    @property
    def new_total(self) -> int:
        """New-revision tasks that exist: running plus pending."""
        return self.new_running + self.new_pending


@dataclass(frozen=True)
class RollingAction:
    """What the scheduler does now: stop old tasks, start new ones, stop surplus new ones.

    `stop_new` is non-zero only when the desired count fell below the new tasks that exist; the caller
    stops pending tasks first, then unhealthy running ones, then healthy ones (that is the order this
    rule assumes when it keeps the lower bound). `complete` means the deployment reached its steady
    state; `stalled` means nothing can change without a new deployment configuration, and `reason`
    says why (it is a sentence for the service's events either way).
    """

    stop_old: int
    start_new: int
    stop_new: int
    complete: bool
    stalled: bool
    reason: str


def rolling_action(state: RollingState, minimum_healthy_percent: int, maximum_percent: int) -> RollingAction:
    """Decide one scheduler step of a rolling update from live counts.

    Raises ValueError for an invalid deployment configuration (see `rolling_bounds`).
    """
    lower, upper = rolling_bounds(state.desired, minimum_healthy_percent, maximum_percent)
    d = state.desired

    # Scale-in of the new revision (desired count lowered during a deployment): stop the surplus,
    # taking pending, then unhealthy, then healthy tasks, so as few healthy tasks as possible go.
    stop_new = max(0, state.new_total - d)
    not_healthy_new = state.new_pending + (state.new_running - state.new_healthy)
    healthy_new_stopped = max(0, stop_new - not_healthy_new)
    new_healthy = state.new_healthy - healthy_new_stopped
    new_total = state.new_total - stop_new

    # Stop old tasks down to the lower bound, counting healthy tasks of both revisions.
    healthy = state.old_running + new_healthy
    stop_old = max(0, min(state.old_running, healthy - lower))
    old_left = state.old_running - stop_old

    # Start new tasks up to the upper bound (running or pending, both revisions), never past desired.
    start_new = max(0, min(d - new_total, upper - old_left - new_total))

    complete = state.old_running == 0 and state.new_total == d and state.new_healthy == d and stop_new == 0
    if complete:
        return RollingAction(0, 0, 0, True, False, f"deployment complete: {d} of {d} new tasks healthy")
    if stop_old or start_new or stop_new:
        parts = []
        if stop_new:
            parts.append(f"stop {stop_new} new {_tasks(stop_new)} above the desired count of {d}")
        if stop_old:
            parts.append(
                f"stop {stop_old} old {_tasks(stop_old)} (keeps {healthy - stop_old} healthy, "
                f"the minimum is {lower})"
            )
        if start_new:
            total = old_left + new_total + start_new
            parts.append(
                f"start {start_new} new {_tasks(start_new)} ({total} running or pending, the maximum is {upper})"
            )
        return RollingAction(stop_old, start_new, stop_new, False, False, "; ".join(parts))
    waiting = state.new_pending + state.new_running - state.new_healthy
    if waiting:
        # New tasks may still become healthy, which frees room under the lower bound: not a stall.
        return RollingAction(
            0, 0, 0, False, False, f"waiting for {waiting} new {_tasks(waiting)} to become healthy"
        )
    reason = (
        f"minimumHealthyPercent {minimum_healthy_percent} keeps {lower} of {d} {_tasks(d)} running and "
        f"maximumPercent {maximum_percent} allows no more than {upper}: "
    )
    if state.new_total == 0:
        reason += "no task can be replaced"
    else:
        reason += f"the last {state.old_running} old {_tasks(state.old_running)} cannot be replaced"
    return RollingAction(0, 0, 0, False, True, reason)


@dataclass(frozen=True)
class RollingStep:
    """One step of a planned rolling update and the old/new task counts after it."""

    action: Literal["stop", "start"]
    count: int
    old: int
    new: int

    def describe(self) -> str:
        """The step as a line of text, e.g. "stop 2 v1 tasks -> 2 v1, 0 v2"."""
        revision = "v1" if self.action == "stop" else "v2"
        return f"{self.action} {self.count} {revision} {_tasks(self.count)} -> {self.old} v1, {self.new} v2"


@dataclass(frozen=True)
class RollingPlan:
    """A whole rolling update, step by step, and whether it reaches the new revision everywhere."""

    desired: int
    minimum_healthy_percent: int
    maximum_percent: int
    steps: tuple[RollingStep, ...]
    converged: bool
    stalled_reason: str | None

    def describe(self) -> list[str]:
        """The plan as lines of text, one per step, then the stall reason if it stalls."""
        lines = [step.describe() for step in self.steps]
        if self.stalled_reason is not None:
            lines.append(f"stalled: {self.stalled_reason}")
        return lines


def plan_rolling_update(
    desired: int, minimum_healthy_percent: int, maximum_percent: int, old_running: int | None = None
) -> RollingPlan:
    """Simulate a whole rolling update, assuming every started task is healthy before the next step.

    `old_running` defaults to `desired` (a steady service being redeployed). The plan converges
    exactly when `old_running == 0`, `desired == 0` or lower bound < upper bound.
    Raises ValueError for an invalid deployment configuration or a negative `old_running`.
    """
    old = desired if old_running is None else old_running
    if old < 0:
        raise ValueError(f"old_running must be 0 or more, got {old}")
    rolling_bounds(desired, minimum_healthy_percent, maximum_percent)
    new = 0
    steps: list[RollingStep] = []
    # Every non-final round changes the counts (that is what "not stalled" means), and old only falls
    # while new only rises toward desired, so this bound is never reached; it guards against a bug.
    for _ in range(2 * (old + desired) + 2):
        action = rolling_action(
            RollingState(desired=desired, old_running=old, new_running=new, new_healthy=new),
            minimum_healthy_percent,
            maximum_percent,
        )
        if action.complete:
            return RollingPlan(desired, minimum_healthy_percent, maximum_percent, tuple(steps), True, None)
        if action.stalled:
            return RollingPlan(
                desired, minimum_healthy_percent, maximum_percent, tuple(steps), False, action.reason
            )
        # The plan never starts more new tasks than desired, so there is no surplus to stop.
        if action.stop_old:
            old -= action.stop_old
            steps.append(RollingStep("stop", action.stop_old, old, new))
        if action.start_new:
            new += action.start_new
            steps.append(RollingStep("start", action.start_new, old, new))
    raise AssertionError("rolling update plan did not finish; rolling_action made no progress")


def _tasks(count: int) -> str:
    return "task" if count == 1 else "tasks"
