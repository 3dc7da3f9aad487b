"""Rolling deployments within minimumHealthyPercent/maximumPercent, stalls, and the circuit breaker."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.demo import TASK_DEFINITION
from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack


def _running(stack: Stack) -> tuple[int, int]:
    tasks = [t for t in stack.tasks() if t["lastStatus"] == "RUNNING"]
    old = sum(1 for t in tasks if t["taskDefinitionArn"].endswith(":1"))
    new = sum(1 for t in tasks if t["taskDefinitionArn"].endswith(":2"))
    return old, new


def _deploy_v2_and_watch(stack: Stack, minimum: int, maximum: int) -> list[tuple[int, int]]:
    stack.create_service(
        desired=4, deploymentConfiguration={"minimumHealthyPercent": minimum, "maximumPercent": maximum}
    )
    advance_until(
        stack.sandbox,
        lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED",
        what="v1 rollout",
    )
    stack.ecs.register_task_definition(**TASK_DEFINITION)
    seen = [_running(stack)]
    stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
    seen.append(_running(stack))
    for _ in range(600):
        stack.sandbox.advance(1)
        now = _running(stack)
        if now != seen[-1]:
            seen.append(now)
        if (
            stack.service()["deployments"][0]["rolloutState"] == "COMPLETED"
            and len(stack.service()["deployments"]) == 1
        ):
            break
    # Collapse repeats: the sequence of distinct (v1 running, v2 running) states.
    return [state for i, state in enumerate(seen) if i == 0 or state != seen[i - 1]]


def test_example_one_min_50_max_100(stack: Stack) -> None:
    """4 tasks, 50/100: stop 2 v1, start 2 v2, stop 2 v1, start 2 v2 (the course notes' example 1)."""
    assert _deploy_v2_and_watch(stack, 50, 100) == [(4, 0), (2, 0), (2, 2), (0, 2), (0, 4)]


def test_example_two_min_100_max_150(stack: Stack) -> None:
    """4 tasks, 100/150: start 2 v2 (6), stop 2 v1 (4), start 2 v2 (6), stop 2 v1 (4) (example 2)."""
    assert _deploy_v2_and_watch(stack, 100, 150) == [(4, 0), (4, 2), (2, 2), (2, 4), (0, 4)]


def test_the_deployments_list_and_events_tell_the_story(stack: Stack) -> None:
    """During the update there is a PRIMARY and an ACTIVE deployment; afterwards one COMPLETED PRIMARY."""
    stack.create_service(desired=2)
    advance_until(
        stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v1"
    )
    stack.ecs.register_task_definition(**TASK_DEFINITION)
    stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
    during = stack.service()["deployments"]
    assert [(d["status"], d["taskDefinition"].split("/")[-1]) for d in during] == [
        ("PRIMARY", "nginx-demo-hello:2"),
        ("ACTIVE", "nginx-demo-hello:1"),
    ]
    assert during[0]["rolloutState"] == "IN_PROGRESS"
    advance_until(
        stack.sandbox, lambda: len(stack.service()["deployments"]) == 1, what="the old deployment ending"
    )
    advance_until(
        stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v2"
    )
    service = stack.service()
    assert service["taskDefinition"].endswith(":2")
    messages = [e["message"] for e in reversed(service["events"])]
    assert any("has stopped 2 running tasks" in m or "has stopped 1 running tasks" in m for m in messages)
    assert messages[-1] == "(service web) has reached a steady state."


def test_bounds_that_allow_no_progress_stall_and_say_why(stack: Stack) -> None:
    """One task at 100/150: nothing may stop and nothing may start; the events say so and v1 keeps serving."""
    stack.create_service(
        desired=1, deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 150}
    )
    advance_until(
        stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v1"
    )
    stack.ecs.register_task_definition(**TASK_DEFINITION)
    stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
    stack.sandbox.advance(300)
    service = stack.service()
    assert _running(stack) == (1, 0)
    assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    assert any("cannot progress" in e["message"] for e in service["events"])


def test_the_circuit_breaker_rolls_back_a_revision_whose_tasks_never_become_healthy(stack: Stack) -> None:
    """v2's essential container exits; after 3 failed tasks the deployment FAILS and v1 is deployed again."""
    stack.create_service(
        desired=2,
        deploymentConfiguration={
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
    )
    advance_until(
        stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v1"
    )
    broken: dict[str, Any] = {
        **TASK_DEFINITION,
        "containerDefinitions": [
            {**TASK_DEFINITION["containerDefinitions"][0], "command": ["sh", "-c", "exit 1"]},
        ],
    }
    stack.ecs.register_task_definition(**broken)
    stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
    advance_until(
        stack.sandbox,
        lambda: any(d["rolloutState"] == "FAILED" for d in stack.service()["deployments"]),
        step=2,
        what="the circuit breaker tripping",
    )
    advance_until(
        stack.sandbox,
        lambda: (
            len(stack.service()["deployments"]) == 1
            and stack.service()["deployments"][0]["rolloutState"] == "COMPLETED"
        ),
        what="the rollback completing",
    )
    service = stack.service()
    assert service["deployments"][0]["taskDefinition"].endswith(":1")
    assert _running(stack) == (2, 0)
    messages = " ".join(e["message"] for e in service["events"])
    assert "deployment failed: tasks failed to start" in messages
    assert "rolling back" in messages


@pytest.mark.parametrize("desired", [1, 3])
def test_scaling_in_during_a_deployment_converges(stack: Stack, desired: int) -> None:
    """Lowering the desired count mid-deployment still ends with exactly that many v2 tasks."""
    stack.create_service(desired=4)
    advance_until(
        stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v1"
    )
    stack.ecs.register_task_definition(**TASK_DEFINITION)
    stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
    stack.sandbox.advance(20)
    stack.ecs.update_service(cluster="course", service="web", desiredCount=desired)
    advance_until(
        stack.sandbox,
        lambda: len(stack.service()["deployments"]) == 1 and _running(stack) == (0, desired),
        what="convergence",
    )
