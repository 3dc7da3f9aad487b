"""The ECS steps of AWS's own CLI tutorials (the developer guide's Fargate walkthrough, CodeDeploy's
blue/green tutorial, capacity providers), command by command with the AWS CLI against a server sandbox,
answer as the tutorials and the API references show.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.demo import TASK_DEFINITION
from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow


def _refused(aws: AwsCli, *args: str, limit: bool = False) -> str:
    """Run `aws ARGS`, assert the CLI failed with an AWS error (not a crash), and return its stderr.

    `limit`: the error is the sandbox's stated limit (501 NotImplemented) rather than AWS's own refusal.
    """
    done = subprocess.run(
        [sys.executable, "-m", "awscli", *args, "--output", "json"],
        capture_output=True, text=True, env=aws.env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0, done.stdout
    assert "An error occurred (" in done.stderr, done.stderr
    assert "ServerException" not in done.stderr, done.stderr
    assert ("NotImplemented" in done.stderr) == limit, done.stderr
    return done.stderr


def _setup(aws: AwsCli, tmp_path: Path) -> str:
    """The tutorial's cluster and Fargate task definition; return the network configuration argument."""
    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    aws("ecs", "create-cluster", "--cluster-name", "tutorial")
    definition = tmp_path / "taskdef.json"
    definition.write_text(json.dumps(TASK_DEFINITION))
    aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    return f"awsvpcConfiguration={{subnets=[{','.join(subnets)}],assignPublicIp=ENABLED}}"


def _counters(aws: AwsCli) -> tuple[int, int, int]:
    cluster = aws("ecs", "describe-clusters", "--clusters", "tutorial")["clusters"][0]
    return cluster["runningTasksCount"], cluster["pendingTasksCount"], cluster["activeServicesCount"]


def test_the_fargate_tutorials_service_lifecycle(tmp_path: Path, aws_cli: AwsCli) -> None:
    """create-service, describe-clusters, scale to 0, delete-service, delete-cluster, as the tutorial shows them."""
    aws = aws_cli
    network = _setup(aws, tmp_path)
    service = aws(
        "ecs", "create-service", "--cluster", "tutorial", "--service-name", "fargate-service",
        "--task-definition", "nginx-demo-hello", "--desired-count", "1", "--launch-type", "FARGATE",
        "--network-configuration", network,
    )["service"]  # fmt: skip
    # AWS's create-service example: nothing has started yet when it answers.
    assert (service["runningCount"], service["pendingCount"], service["events"]) == (0, 0, [])
    assert _counters(aws) == (0, 1, 1)
    aws.advance(120)
    assert _counters(aws) == (1, 0, 1)

    scaled = aws(
        "ecs", "update-service", "--cluster", "tutorial", "--service", "fargate-service", "--desired-count", "0"
    )["service"]  # fmt: skip
    assert (scaled["desiredCount"], scaled["runningCount"]) == (0, 1)
    aws.advance(120)
    assert _counters(aws) == (0, 0, 1)

    deleted = aws("ecs", "delete-service", "--cluster", "tutorial", "--service", "fargate-service")["service"]
    assert deleted["status"] == "DRAINING"
    assert aws("ecs", "list-services", "--cluster", "tutorial")["serviceArns"] == []
    aws.advance(60)
    described = aws("ecs", "describe-services", "--cluster", "tutorial", "--services", "fargate-service")
    assert described["services"][0]["status"] == "INACTIVE"
    cluster = aws("ecs", "delete-cluster", "--cluster", "tutorial")["cluster"]
    assert (cluster["runningTasksCount"], cluster["pendingTasksCount"], cluster["activeServicesCount"]) == (
        0,
        0,
        0,
    )


def test_list_task_definitions_is_sorted_by_family_and_revision(tmp_path: Path, aws_cli: AwsCli) -> None:
    """ListTaskDefinitions reference: family then revision ascending; --sort DESC reverses."""
    aws = aws_cli
    _setup(aws, tmp_path)
    for family in ("zeta", "alpha", "zeta"):
        definition = tmp_path / f"{family}.json"
        definition.write_text(json.dumps({**TASK_DEFINITION, "family": family}))
        aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    names = [a.split("/")[-1] for a in aws("ecs", "list-task-definitions")["taskDefinitionArns"]]
    assert names == ["alpha:1", "nginx-demo-hello:1", "zeta:1", "zeta:2"]
    names = [
        a.split("/")[-1] for a in aws("ecs", "list-task-definitions", "--sort", "DESC")["taskDefinitionArns"]
    ]
    assert names == ["zeta:2", "zeta:1", "nginx-demo-hello:1", "alpha:1"]


def test_launch_choices_and_code_deploy_services(tmp_path: Path, aws_cli: AwsCli) -> None:
    """FARGATE_SPOT runs; a launch type with a strategy, a bogus launch type, no network configuration and
    update-service --task-definition on a CODE_DEPLOY service are AWS's 400s."""
    aws = aws_cli
    network = _setup(aws, tmp_path)
    aws(
        "ecs", "put-cluster-capacity-providers", "--cluster", "tutorial",
        "--capacity-providers", "FARGATE", "FARGATE_SPOT", "--default-capacity-provider-strategy",
        "capacityProvider=FARGATE_SPOT,weight=1",
    )  # fmt: skip
    task = aws(
        "ecs", "run-task", "--cluster", "tutorial", "--task-definition", "nginx-demo-hello",
        "--network-configuration", network,
    )["tasks"][0]  # fmt: skip
    assert task["capacityProviderName"] == "FARGATE_SPOT"

    both = _refused(
        aws, "ecs", "run-task", "--cluster", "tutorial", "--task-definition", "nginx-demo-hello",
        "--launch-type", "FARGATE", "--capacity-provider-strategy", "capacityProvider=FARGATE,weight=1",
        "--network-configuration", network,
    )  # fmt: skip
    assert "InvalidParameterException" in both
    assert "capacity provider strategy is not supported" in both
    bogus = _refused(
        aws, "ecs", "run-task", "--cluster", "tutorial", "--task-definition", "nginx-demo-hello",
        "--launch-type", "BOGUS", "--network-configuration", network,
    )  # fmt: skip
    assert "InvalidParameterException" in bogus
    no_network = _refused(
        aws, "ecs", "run-task", "--cluster", "tutorial", "--task-definition", "nginx-demo-hello",
        "--launch-type", "FARGATE",
    )  # fmt: skip
    assert "Network Configuration must be provided" in no_network

    aws(
        "ecs", "create-service", "--cluster", "tutorial", "--service-name", "blue-green",
        "--task-definition", "nginx-demo-hello", "--desired-count", "1", "--launch-type", "FARGATE",
        "--deployment-controller", "type=CODE_DEPLOY", "--network-configuration", network,
    )  # fmt: skip
    refused = _refused(
        aws, "ecs", "update-service", "--cluster", "tutorial", "--service", "blue-green",
        "--task-definition", "nginx-demo-hello:1",
    )  # fmt: skip
    assert "Use AWS CodeDeploy to trigger a new deployment" in refused

    # CodeDeploy's ECS blue/green deployment is not emulated: refused clearly, never "Created" for ever.
    aws("deploy", "create-application", "--application-name", "app", "--compute-platform", "ECS")
    aws(
        "deploy", "create-deployment-group", "--application-name", "app", "--deployment-group-name", "dg",
        "--service-role-arn", "arn:aws:iam::123456789012:role/codedeploy",
        "--deployment-style", "deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL",
        "--ecs-services", "serviceName=blue-green,clusterName=tutorial",
    )  # fmt: skip
    appspec = tmp_path / "appspec.json"
    appspec.write_text(
        json.dumps({"revisionType": "AppSpecContent", "appSpecContent": {"content": "version: 0.0"}})
    )
    deployment = _refused(
        aws, "deploy", "create-deployment", "--application-name", "app", "--deployment-group-name", "dg",
        "--revision", f"file://{appspec}", limit=True,
    )  # fmt: skip
    assert "blue/green deployments of ECS services are not emulated" in deployment
