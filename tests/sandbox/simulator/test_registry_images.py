"""An ECS service runs an image pushed to the sandbox's ECR repository (served by the default stand-in)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from labkit.demo import TASK_DEFINITION
from labkit.images import build_oci_image, placeholder_image
from labkit.registry.client import client_for
from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack


def _execution_role(stack: Stack) -> str:
    """The ecsTaskExecutionRole AWS's guides create: Fargate pulls from ECR with it (a role that does not exist cannot)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam = stack.sandbox.client("iam")
    arn = str(
        iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    )
    policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=policy)
    return arn


def test_a_task_definition_can_use_the_repository_uri(stack: Stack, tmp_path: Path) -> None:
    """Push to ECR, register the repositoryUri:tag, and the service's task answers through the load balancer."""
    ecr = stack.sandbox.client("ecr")
    uri = ecr.create_repository(repositoryName="web-app")["repository"]["repositoryUri"]
    image = build_oci_image(
        tmp_path / "l", files={"app.py": "x"}, cmd=["python", "app.py"], exposed_ports=[80]
    )
    client_for(stack.sandbox).push_layout(image.path, "web-app", "v1", source_tag="latest")
    stack.ecs.register_task_definition(
        family="web-app",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        # Fargate pulls from ECR with the task execution role.
        executionRoleArn=_execution_role(stack),
        containerDefinitions=[
            {
                "name": "hello",
                "image": f"{uri}:v1",
                "essential": True,
                "portMappings": [{"containerPort": 80}],
            }
        ],
    )
    stack.create_service(desired=1, taskDefinition="web-app")
    advance_until(
        stack.sandbox,
        lambda: stack.target_states() == ["healthy"],
        step=5,
        limit=600,
        what="a healthy target",
    )
    with urllib.request.urlopen(stack.url, timeout=10) as response:
        assert response.read().decode().startswith(f"labkit stand-in for {uri}:v1")


def test_a_pushed_placeholder_of_nginxdemos_hello_answers_like_it(stack: Stack, tmp_path: Path) -> None:
    """An image whose config names nginxdemos/hello, pushed to ECR and run by its URI, gets that stand-in."""
    ecr = stack.sandbox.client("ecr")
    uri = ecr.create_repository(repositoryName="hello")["repository"]["repositoryUri"]
    image = placeholder_image(tmp_path / "l", "nginxdemos/hello")
    client_for(stack.sandbox).push_layout(image.path, "hello", "v1", source_tag="latest")
    definition = dict(TASK_DEFINITION)
    definition["executionRoleArn"] = _execution_role(stack)
    definition["containerDefinitions"] = [
        {**TASK_DEFINITION["containerDefinitions"][0], "image": f"{uri}:v1"}
    ]
    revision = stack.ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    stack.create_service(desired=1, taskDefinition=revision)
    task = stack.ecs.describe_tasks(
        cluster=stack.cluster, tasks=stack.ecs.list_tasks(cluster=stack.cluster)["taskArns"]
    )
    assert task["tasks"][0]["containers"][0]["image"] == f"{uri}:v1"
    advance_until(
        stack.sandbox,
        lambda: stack.target_states() == ["healthy"],
        step=5,
        limit=600,
        what="a healthy target",
    )
    with urllib.request.urlopen(stack.url, timeout=10) as response:
        page = response.read().decode()
    assert "<title>Hello World</title>" in page
    assert "Server&nbsp;address" in page
