"""A load-balanced nginx stack in an embedded sandbox, as the course's first hands-on builds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest

from labkit.demo import TASK_DEFINITION
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.moto_seam.elbv2 import PROVISIONING_SECONDS
from labkit.sandbox.server import start_server
from tests.conftest import run_labkit


@dataclass
class Stack:
    sandbox: EmbeddedSandbox
    ecs: Any
    elb: Any
    ec2: Any
    vpc_id: str
    subnets: list[str]
    load_balancer_arn: str
    target_group_arn: str
    cluster: str = "course"
    services: list[str] = field(default_factory=list)

    def create_service(
        self, name: str = "web", desired: int = 1, *, load_balanced: bool = True, **extra: Any
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "cluster": self.cluster,
            "serviceName": name,
            "taskDefinition": extra.pop("taskDefinition", "nginx-demo-hello:1"),
            "desiredCount": desired,
            "launchType": "FARGATE",
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": self.subnets, "assignPublicIp": "ENABLED"}
            },
        }
        if load_balanced:
            params["loadBalancers"] = [
                {"targetGroupArn": self.target_group_arn, "containerName": "hello", "containerPort": 80}
            ]
        params.update(extra)
        service: dict[str, Any] = self.ecs.create_service(**params)["service"]
        return service

    def service(self, name: str = "web") -> dict[str, Any]:
        described: dict[str, Any] = self.ecs.describe_services(cluster=self.cluster, services=[name])[
            "services"
        ][0]
        return described

    def tasks(self, name: str | None = "web", desired_status: str = "RUNNING") -> list[dict[str, Any]]:
        query: dict[str, Any] = {"cluster": self.cluster, "desiredStatus": desired_status}
        if name:
            query["serviceName"] = name
        arns = self.ecs.list_tasks(**query)["taskArns"]
        if not arns:
            return []
        tasks: list[dict[str, Any]] = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
        return tasks

    def target_states(self) -> list[str]:
        described = self.elb.describe_target_health(TargetGroupArn=self.target_group_arn)
        return sorted(d["TargetHealth"]["State"] for d in described["TargetHealthDescriptions"])

    @property
    def url(self) -> str:
        return self.sandbox.listener_url(self.load_balancer_arn, 80)


@pytest.fixture
def stack(sandbox: EmbeddedSandbox) -> Stack:
    """VPC subnets, an internet-facing ALB with an HTTP:80 listener to an ip target group, a cluster and the hello task definition."""
    ec2, ecs, elb = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    ][:2]
    lb = elb.create_load_balancer(Name="web", Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elb.create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip", HealthCheckPath="/",
        HealthCheckIntervalSeconds=10, HealthyThresholdCount=3,
    )["TargetGroups"][0]  # fmt: skip
    elb.modify_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"],
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
    )
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )  # fmt: skip
    ecs.create_cluster(clusterName="course")
    ecs.register_task_definition(**TASK_DEFINITION)
    # A new load balancer provisions for a few minutes before it is active and health-checks targets.
    sandbox.advance(PROVISIONING_SECONDS)
    assert elb.describe_load_balancers(LoadBalancerArns=[lb["LoadBalancerArn"]])["LoadBalancers"][0][
        "State"
    ] == {"Code": "active"}
    return Stack(sandbox, ecs, elb, ec2, vpc_id, subnets, lb["LoadBalancerArn"], tg["TargetGroupArn"])


class AwsCli:
    """The AWS CLI (`python -m awscli`) pointed at the server sandbox by `labkit sandbox env --json`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str) -> Any:
        """Run `aws ARGS --output json`, assert it succeeded and return its parsed output ({} if none)."""
        done = subprocess.run(
            [sys.executable, "-m", "awscli", *args, "--output", "json"],
            capture_output=True, text=True, env=self.env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def advance(self, seconds: int) -> None:
        """Advance the server's clock with `labkit sandbox advance`."""
        assert run_labkit("sandbox", "advance", str(seconds)).returncode == 0


@pytest.fixture
def aws_cli() -> AwsCli:
    """A server sandbox on a manual clock and the AWS CLI pointed at it (no AWS_ variable of ours leaks in)."""
    start_server(clock="manual")
    exported = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({k: v for k, v in exported.items() if v is not None})
    return AwsCli(env)
