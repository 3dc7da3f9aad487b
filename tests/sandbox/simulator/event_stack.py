"""Helpers for the event-driven tests: a task role, a Fargate task definition, an ECS target."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.testing import advance_until

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass
class EventStack:
    sandbox: EmbeddedSandbox
    subnets: list[str]
    cluster: str = "jobs"

    def client(self, service: str) -> Any:
        return self.sandbox.client(service)

    @property
    def cluster_arn(self) -> str:
        return f"arn:aws:ecs:{self.sandbox.region}:{self.sandbox.account_id}:cluster/{self.cluster}"

    def role(self, name: str, statements: list[dict[str, Any]]) -> str:
        """A task role whose inline policy holds `statements`."""
        iam = self.client("iam")
        arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        if statements:
            document = {"Version": "2012-10-17", "Statement": statements}
            iam.put_role_policy(
                RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(document)
            )
        return arn

    def task_definition(self, family: str, image: str, *, role: str | None = None, **container: Any) -> str:
        """A Fargate task definition of one essential container `app`."""
        params: dict[str, Any] = {
            "family": family,
            "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc",
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "app", "image": image, "essential": True, **container}],
        }
        if role:
            params["taskRoleArn"] = role
        arn: str = self.client("ecs").register_task_definition(**params)["taskDefinition"][
            "taskDefinitionArn"
        ]
        return arn

    def ecs_target(self, definition_arn: str, **extra: Any) -> dict[str, Any]:
        """A PutTargets entry that runs one Fargate task of `definition_arn` in the cluster."""
        return {
            "Id": "run-task",
            "Arn": self.cluster_arn,
            "RoleArn": f"arn:aws:iam::{self.sandbox.account_id}:role/ecsEventsRole",
            "EcsParameters": {
                "TaskDefinitionArn": definition_arn,
                "TaskCount": 1,
                "LaunchType": "FARGATE",
                "NetworkConfiguration": {
                    "awsvpcConfiguration": {"Subnets": self.subnets, "AssignPublicIp": "ENABLED"}
                },
            },
            **extra,
        }

    def run_task(self, definition_arn: str, **extra: Any) -> str:
        """RunTask one Fargate task; return its ARN."""
        task = self.client("ecs").run_task(
            cluster=self.cluster,
            taskDefinition=definition_arn,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": self.subnets}},
            **extra,
        )["tasks"][0]
        return str(task["taskArn"])

    def tasks(self, desired: str = "STOPPED") -> list[dict[str, Any]]:
        ecs = self.client("ecs")
        arns = ecs.list_tasks(cluster=self.cluster, desiredStatus=desired)["taskArns"]
        if not arns:
            return []
        described: list[dict[str, Any]] = ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"]
        return described

    def task(self, arn: str) -> dict[str, Any]:
        described: dict[str, Any] = self.client("ecs").describe_tasks(cluster=self.cluster, tasks=[arn])[
            "tasks"
        ][0]
        return described

    def wait_stopped(self, count: int = 1, limit: float = 600) -> list[dict[str, Any]]:
        """Advance until `count` tasks of the cluster are STOPPED; return them."""
        advance_until(
            self.sandbox,
            lambda: len([t for t in self.tasks() if t["lastStatus"] == "STOPPED"]) >= count,
            step=5,
            limit=limit,
            what=f"{count} stopped tasks",
        )
        return [t for t in self.tasks() if t["lastStatus"] == "STOPPED"]

    def logs(self, task_arn: str) -> list[str]:
        simulator = self.sandbox.emulator.simulator
        assert simulator is not None
        return simulator.workloads.logs(task_arn)


def event_stack(sandbox: EmbeddedSandbox) -> EventStack:
    """A cluster `jobs` and the default VPC's subnets."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    sandbox.client("ecs").create_cluster(clusterName="jobs")
    return EventStack(sandbox, subnets[:2])
