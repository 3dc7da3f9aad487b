"""Reference steps of the rolling-updates lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import allow_ingress, default_vpc, security_group, two_subnets, write_parameter

from .checks import CLUSTER, CONTAINER, DESIRED, FAMILY, PREDICTIONS, SERVICE, TARGET_GROUP, plan_states

reference = ReferenceSteps("rolling-updates")


ALB_SG = "rolling-alb-sg"


TASKS_SG = "rolling-tasks-sg"


LOAD_BALANCER = "rolling-alb"


def container_definition(version: str, command: list[str] | None = None) -> dict[str, Any]:
    """The `web` container of revision `version` (a broken revision passes a failing `command`)."""
    definition: dict[str, Any] = {
        "name": CONTAINER,
        "image": "nginxdemos/hello",
        "essential": True,
        "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        "environment": [{"name": "APP_VERSION", "value": version}],
    }
    if command is not None:
        definition["command"] = command
    return definition


def task_definition(version: str, command: list[str] | None = None) -> dict[str, Any]:
    """The arguments of `register_task_definition` for one revision of the lab's family."""
    return {
        "family": FAMILY,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [container_definition(version, command)],
    }


BROKEN_COMMAND = ["sh", "-c", "echo 'v4 forgot its configuration'; exit 1"]


def make_network(sandbox: Sandbox) -> dict[str, Any]:
    """The lab's given setup: chained security groups, the load balancer, its target group and listener."""
    ec2, elbv2 = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = default_vpc(ec2)
    subnets = two_subnets(ec2, vpc)
    alb_sg = security_group(ec2, ALB_SG, "HTTP from anywhere to the rolling-updates load balancer", vpc)
    tasks_sg = security_group(ec2, TASKS_SG, "HTTP from the rolling-updates load balancer to its tasks", vpc)
    allow_ingress(
        ec2,
        alb_sg,
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    )
    allow_ingress(
        ec2,
        tasks_sg,
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]},
    )
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER, Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
    )["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name=TARGET_GROUP,
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/",
        HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2,
    )["TargetGroups"][0]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"],
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
    )
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    return {
        "subnets": subnets,
        "tasks_sg": tasks_sg,
        "load_balancer_arn": lb["LoadBalancerArn"],
        "target_group_arn": tg["TargetGroupArn"],
    }


def _settled(sandbox: Sandbox) -> Callable[[], bool]:
    ecs = sandbox.client("ecs")

    def settled() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        deployments = service["deployments"]
        return (
            len(deployments) == 1
            and deployments[0].get("rolloutState") == "COMPLETED"
            and service["runningCount"] == service["desiredCount"]
        )

    return settled


@reference.step("service-running")
def make_service(sandbox: Sandbox) -> None:
    network = make_network(sandbox)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(**task_definition("v1"))
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=FAMILY,
        desiredCount=DESIRED,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": network["subnets"],
                "securityGroups": [network["tasks_sg"]],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[
            {"targetGroupArn": network["target_group_arn"], "containerName": CONTAINER, "containerPort": 80}
        ],
        deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 100},
    )
    sandbox.wait_until(_settled(sandbox), f"{SERVICE} reaching a steady state", limit=3600, step=2)


def _put_prediction(sandbox: Sandbox, bounds: tuple[int, int]) -> None:
    # Deleted and written afresh rather than overwritten: a new parameter carries this session's tag.
    write_parameter(
        sandbox.client("ssm"), PREDICTIONS[bounds], json.dumps([list(s) for s in plan_states(*bounds)])
    )


@reference.step("predicted-min50-max100")
def predict_min50_max100(sandbox: Sandbox) -> None:
    _put_prediction(sandbox, (50, 100))


def _roll_to(
    sandbox: Sandbox, version: str, configuration: dict[str, Any], command: list[str] | None = None
) -> str:
    ecs = sandbox.client("ecs")
    arn = str(
        ecs.register_task_definition(**task_definition(version, command))["taskDefinition"][
            "taskDefinitionArn"
        ]
    )
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=arn, deploymentConfiguration=configuration
    )
    return arn


@reference.step("rolled-v1-to-v2-at-min50-max100")
def roll_to_v2(sandbox: Sandbox) -> None:
    _roll_to(sandbox, "v2", {"minimumHealthyPercent": 50, "maximumPercent": 100})
    sandbox.wait_until(_settled(sandbox), "the rollout to v2", limit=3600, step=2)


@reference.step("predicted-min100-max150")
def predict_min100_max150(sandbox: Sandbox) -> None:
    _put_prediction(sandbox, (100, 150))


@reference.step("rolled-v2-to-v3-at-min100-max150")
def roll_to_v3(sandbox: Sandbox) -> None:
    _roll_to(sandbox, "v3", {"minimumHealthyPercent": 100, "maximumPercent": 150})
    sandbox.wait_until(_settled(sandbox), "the rollout to v3", limit=3600, step=2)


@reference.step("circuit-breaker-rolled-back")
def deploy_broken_revision(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    broken = _roll_to(
        sandbox,
        "v4",
        {
            "minimumHealthyPercent": 100,
            "maximumPercent": 150,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        },
        BROKEN_COMMAND,
    )
    settled = _settled(sandbox)

    def rolled_back() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        return service["taskDefinition"] != broken and settled()

    sandbox.wait_until(rolled_back, "the circuit breaker rolling back", limit=3600, step=2)
