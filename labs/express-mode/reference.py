"""Reference steps of the express-mode lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import write_parameter

from .checks import (
    CLUSTER,
    EXECUTION_POLICY,
    EXECUTION_ROLE,
    IMAGE,
    INFRASTRUCTURE_POLICY,
    INFRASTRUCTURE_ROLE,
    MAPPING_PARAMETER,
    PARTS,
    SECOND,
    SERVICE,
    UPDATED_IMAGE,
    ecs_service,
    express_service,
    made_for,
)

reference = ReferenceSteps("express-mode")


def _trust(principal: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _role(iam: Any, name: str, principal: str, policy: str) -> str:
    try:
        arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(principal))["Role"]["Arn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
        arn = str(iam.get_role(RoleName=name)["Role"]["Arn"])
    iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


@reference.step("roles-ready")
def make_roles(sandbox: Sandbox) -> None:
    iam = sandbox.client("iam")
    _role(iam, EXECUTION_ROLE, "ecs-tasks.amazonaws.com", EXECUTION_POLICY)
    _role(iam, INFRASTRUCTURE_ROLE, "ecs.amazonaws.com", INFRASTRUCTURE_POLICY)


def _create(sandbox: Sandbox, name: str) -> str:
    """Create the Express service `name` as the lab does; return its ARN."""
    iam, ecs = sandbox.client("iam"), sandbox.client("ecs")
    created = ecs.create_express_gateway_service(
        serviceName=name,
        cluster=CLUSTER,
        executionRoleArn=iam.get_role(RoleName=EXECUTION_ROLE)["Role"]["Arn"],
        infrastructureRoleArn=iam.get_role(RoleName=INFRASTRUCTURE_ROLE)["Role"]["Arn"],
        primaryContainer={"image": IMAGE, "containerPort": 80},
        healthCheckPath="/",
        cpu="256",
        memory="512",
        scalingTarget={"minTaskCount": 1, "maxTaskCount": 3},
    )
    return str(created["service"]["serviceArn"])


def _wait_serving(sandbox: Sandbox, name: str, plain_text: bool = False) -> None:
    """Wait until `name` is steady and its URL answers (in plain text when `plain_text`)."""
    ecs = sandbox.client("ecs")

    def serving() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
        if len(service["deployments"]) != 1 or service["runningCount"] < max(1, service["desiredCount"]):
            return False
        try:
            url = sandbox.express_url(str(service["serviceArn"]))  # type: ignore[attr-defined]
            status, body = _get(url)
        except Exception:  # noqa: BLE001 - not serving yet
            return False
        return status == 200 and ("<html" not in body.lower()) == plain_text

    sandbox.wait_until(serving, f"{name} serving its URL", limit=1800, step=5)


def _get(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as response:
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), ""


@reference.step("service-created")
def create_service(sandbox: Sandbox) -> None:
    _create(sandbox, SERVICE)


@reference.step("url-answers")
def wait_for_url(sandbox: Sandbox) -> None:
    _wait_serving(sandbox, SERVICE)


@reference.step("resources-mapped")
def write_mapping(sandbox: Sandbox) -> None:
    service = ecs_service(sandbox.client, SERVICE)
    assert service is not None, f"{SERVICE} is missing"
    made = made_for(sandbox.client, service)
    mapping = {}
    for part in PARTS:
        choices = sorted(made[part])
        if part == "task_definition":
            choices = [str(service["taskDefinition"])]
        mapping[part] = choices[0]
    write_parameter(sandbox.client("ssm"), MAPPING_PARAMETER, json.dumps(mapping))


@reference.step("update-rolled-out")
def update_service(sandbox: Sandbox) -> None:
    service = ecs_service(sandbox.client, SERVICE)
    assert service is not None, f"{SERVICE} is missing"
    sandbox.client("ecs").update_express_gateway_service(
        serviceArn=str(service["serviceArn"]),
        primaryContainer={"image": UPDATED_IMAGE, "containerPort": 80},
    )
    _wait_serving(sandbox, SERVICE, plain_text=True)


@reference.step("second-service-deleted")
def second_service(sandbox: Sandbox) -> None:
    arn = _create(sandbox, SECOND)
    _wait_serving(sandbox, SECOND)
    sandbox.client("ecs").delete_express_gateway_service(serviceArn=arn)

    def inactive() -> bool:
        # The ECS service turns INACTIVE first; the Express service once what it made is removed.
        described = express_service(sandbox.client, arn)
        return described is None or described["status"]["statusCode"] == "INACTIVE"

    sandbox.wait_until(inactive, f"{SECOND} deleted", limit=1800, step=5)
