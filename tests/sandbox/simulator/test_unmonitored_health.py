"""Without a load balancer or a container health check, a new task counts as healthy 40 s after RUNNING.

botocore's ECS model, DeploymentConfiguration.minimumHealthyPercent: "If a task has no essential
containers with a health check defined, the service scheduler will wait for 40 seconds after a task
reaches a RUNNING state before the task is counted towards the minimum healthy percent total." So a
rolling update with minimumHealthyPercent 100 keeps every old task until the new ones have run 40 s.
"""

from __future__ import annotations

from typing import Any

import pytest

from labkit.sandbox.simulator.ecs import UNMONITORED_HEALTHY_SECONDS
from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import AwsCli, Stack


def _running_since(stack: Stack, family_revision: str) -> list[Any]:
    return [
        t["startedAt"]
        for t in stack.tasks()
        if t["lastStatus"] == "RUNNING" and t["taskDefinitionArn"].endswith(family_revision)
    ]


def test_old_tasks_stop_only_40_s_after_the_new_ones_run(stack: Stack) -> None:
    """min 100 / max 200, 2 tasks, no load balancer: the old tasks outlive the new ones' first 40 s."""
    stack.create_service(
        desired=2, load_balanced=False,
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
    )  # fmt: skip
    advance_until(stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="first deployment", limit=600)  # fmt: skip
    definition = stack.ecs.describe_task_definition(taskDefinition="nginx-demo-hello:1")["taskDefinition"]
    keys = ("family", "containerDefinitions", "networkMode", "requiresCompatibilities", "cpu", "memory")
    stack.ecs.register_task_definition(**{k: definition[k] for k in keys if k in definition})
    stack.ecs.update_service(cluster=stack.cluster, service="web", taskDefinition="nginx-demo-hello:2")
    advance_until(stack.sandbox, lambda: len(_running_since(stack, ":2")) == 2, what="new tasks running", step=1, limit=600)  # fmt: skip
    # Running, not yet counted: the old tasks stay.
    stack.sandbox.advance(UNMONITORED_HEALTHY_SECONDS - 5)
    assert len([t for t in stack.tasks() if t["taskDefinitionArn"].endswith(":1")]) == 2
    assert len(stack.service()["deployments"]) == 2
    # Counted now: the old ones stop and the deployment completes.
    stack.sandbox.advance(10)
    assert [t for t in stack.tasks() if t["taskDefinitionArn"].endswith(":1")] == []
    advance_until(stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="second deployment", limit=600)  # fmt: skip


def test_a_task_behind_a_load_balancer_counts_when_its_target_is_healthy(stack: Stack) -> None:
    """Behind a load balancer the 40 s do not apply: the target's health decides."""
    stack.create_service(desired=1)
    advance_until(stack.sandbox, lambda: stack.target_states() == ["healthy"], what="target healthy", step=1, limit=600)  # fmt: skip
    task = stack.tasks()[0]
    healthy_after = (stack.sandbox.clock.now() - task["startedAt"]).total_seconds()
    assert healthy_after < 40  # interval 10 s: a new target passes its first check within seconds
    advance_until(stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="deployment", step=1, limit=60)  # fmt: skip


@pytest.mark.slow
def test_a_rolling_update_without_a_load_balancer_waits_40_s_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """`aws ecs update-service` on a service with no load balancer: two deployments until the new task has run 40 s."""
    aws = aws_cli
    subnet = aws("ec2", "describe-subnets")["Subnets"][0]["SubnetId"]
    aws("ecs", "create-cluster", "--cluster-name", "course")
    register = (
        "ecs", "register-task-definition", "--family", "web", "--requires-compatibilities", "FARGATE",
        "--network-mode", "awsvpc", "--cpu", "256", "--memory", "512",
        "--container-definitions", '[{"name":"web","image":"nginxdemos/hello","portMappings":[{"containerPort":80}]}]',
    )  # fmt: skip
    aws(*register)
    aws(*register)
    aws(
        "ecs", "create-service", "--cluster", "course", "--service-name", "web", "--task-definition", "web:1",
        "--desired-count", "1", "--launch-type", "FARGATE",
        "--deployment-configuration", "minimumHealthyPercent=100,maximumPercent=200",
        "--network-configuration", f"awsvpcConfiguration={{subnets=[{subnet}],assignPublicIp=ENABLED}}",
    )  # fmt: skip
    aws.advance(300)
    aws("ecs", "update-service", "--cluster", "course", "--service", "web", "--task-definition", "web:2")

    def tasks() -> list[dict[str, Any]]:
        arns = aws("ecs", "list-tasks", "--cluster", "course")["taskArns"]
        return aws("ecs", "describe-tasks", "--cluster", "course", "--tasks", *arns)["tasks"] if arns else []

    for _ in range(60):
        if any(t["lastStatus"] == "RUNNING" and t["taskDefinitionArn"].endswith(":2") for t in tasks()):
            break
        aws.advance(5)
    # The new task is RUNNING, not yet for 40 s: the old one keeps running, two deployments.
    aws.advance(int(UNMONITORED_HEALTHY_SECONDS) - 10)
    assert [t["lastStatus"] for t in tasks() if t["taskDefinitionArn"].endswith(":1")] == ["RUNNING"]
    service = aws("ecs", "describe-services", "--cluster", "course", "--services", "web")["services"][0]
    assert len(service["deployments"]) == 2
    for _ in range(20):  # polling as a learner does (`aws ecs wait services-stable` polls every 15 s)
        aws.advance(15)
        service = aws("ecs", "describe-services", "--cluster", "course", "--services", "web")["services"][0]
        if len(service["deployments"]) == 1:
            break
    assert [d["taskDefinition"].rsplit("/", 1)[-1] for d in service["deployments"]] == ["web:2"]
