"""Service deployments through the AWS CLI against a server sandbox: a blue/green deployment paused at a
PAUSE hook, listed, described, continued, as AWS's "view service history" and lifecycle hook pages show."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.demo import TASK_DEFINITION
from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow


def test_list_describe_and_continue_with_the_cli(tmp_path: Path, aws_cli: AwsCli) -> None:
    aws = aws_cli
    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    aws("ecs", "create-cluster", "--cluster-name", "bg")
    definition = tmp_path / "taskdef.json"
    definition.write_text(json.dumps(TASK_DEFINITION))
    aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    configuration = {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 1,
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}],
    }
    aws(
        "ecs", "create-service", "--cluster", "bg", "--service-name", "web",
        "--task-definition", "nginx-demo-hello", "--desired-count", "1", "--launch-type", "FARGATE",
        "--network-configuration", f"awsvpcConfiguration={{subnets=[{','.join(subnets)}]}}",
        "--deployment-configuration", json.dumps(configuration),
    )  # fmt: skip
    aws.advance(120)
    first = aws("ecs", "list-service-deployments", "--cluster", "bg", "--service", "web")[
        "serviceDeployments"
    ]
    assert [d["status"] for d in first] == ["SUCCESSFUL"]

    aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    aws(
        "ecs",
        "update-service",
        "--cluster",
        "bg",
        "--service",
        "web",
        "--task-definition",
        "nginx-demo-hello:2",
    )
    aws.advance(120)
    listed = aws(
        "ecs", "list-service-deployments", "--cluster", "bg", "--service", "web", "--status", "IN_PROGRESS"
    )
    arn = listed["serviceDeployments"][0]["serviceDeploymentArn"]
    described = aws("ecs", "describe-service-deployments", "--service-deployment-arns", arn)[
        "serviceDeployments"
    ][0]
    assert described["lifecycleStage"] == "POST_SCALE_UP"
    hook = described["lifecycleHookDetails"][0]
    assert (hook["targetType"], hook["status"]) == ("PAUSE", "AWAITING_ACTION")
    assert described["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    revision = described["targetServiceRevision"]["arn"]
    revisions = aws("ecs", "describe-service-revisions", "--service-revision-arns", revision)[
        "serviceRevisions"
    ]
    assert revisions[0]["taskDefinition"].endswith("nginx-demo-hello:2")

    aws(
        "ecs", "continue-service-deployment", "--service-deployment-arn", arn, "--hook-id", hook["hookId"],
        "--action", "CONTINUE",
    )  # fmt: skip
    aws.advance(90)
    done = aws("ecs", "describe-service-deployments", "--service-deployment-arns", arn)["serviceDeployments"][
        0
    ]
    assert done["status"] == "SUCCESSFUL"
    assert done["lifecycleStage"] == "CLEAN_UP"
