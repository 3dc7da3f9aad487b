"""ECS Managed Instances in a sandbox: the MANAGED_INSTANCES compatibility and launch type, and a
capacity provider of type MANAGED_INSTANCES whose tasks run."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.demo import TASK_DEFINITION
from labkit.sandbox.embedded import EmbeddedSandbox


def _subnets(sandbox: EmbeddedSandbox) -> list[str]:
    return [s["SubnetId"] for s in sandbox.client("ec2").describe_subnets()["Subnets"]][:2]


def _definition(**changes: Any) -> dict[str, Any]:
    definition = {**TASK_DEFINITION, "requiresCompatibilities": ["MANAGED_INSTANCES"], **changes}
    return {k: v for k, v in definition.items() if v is not None}


def _code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call(**params)
    return str(refused.value.response["Error"]["Code"])


def test_a_managed_instances_task_definition(sandbox: EmbeddedSandbox) -> None:
    ecs = sandbox.client("ecs")
    registered = ecs.register_task_definition(**_definition())["taskDefinition"]
    assert registered["requiresCompatibilities"] == ["MANAGED_INSTANCES"]
    assert "MANAGED_INSTANCES" in registered["compatibilities"]
    assert "FARGATE" not in registered["compatibilities"]
    host = ecs.register_task_definition(**_definition(family="on-host", networkMode="host"))["taskDefinition"]
    assert host["networkMode"] == "host"
    # Developer guide: a network mode must be given, awsvpc or host (bridge is not one of them).
    assert _code(ecs.register_task_definition, **_definition(family="bridged", networkMode="bridge")) == (
        "ClientException"
    )
    assert _code(ecs.register_task_definition, **_definition(family="unnamed", networkMode=None)) == (
        "ClientException"
    )


def test_run_task_with_the_managed_instances_launch_type(sandbox: EmbeddedSandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="mi")
    ecs.register_task_definition(**_definition())
    network = {"awsvpcConfiguration": {"subnets": _subnets(sandbox)}}
    task = ecs.run_task(
        cluster="mi", taskDefinition="nginx-demo-hello", launchType="MANAGED_INSTANCES",
        networkConfiguration=network,
    )["tasks"][0]  # fmt: skip
    assert task["launchType"] == "MANAGED_INSTANCES"
    sandbox.advance(60)
    described = ecs.describe_tasks(cluster="mi", tasks=[task["taskArn"]])["tasks"][0]
    assert described["lastStatus"] == "RUNNING"
    # A Fargate-only task definition does not run as MANAGED_INSTANCES.
    ecs.register_task_definition(**{**TASK_DEFINITION, "family": "fargate-only"})
    assert _code(
        ecs.run_task, cluster="mi", taskDefinition="fargate-only", launchType="MANAGED_INSTANCES",
        networkConfiguration=network,
    ) == "InvalidParameterException"  # fmt: skip


def test_a_managed_instances_capacity_provider_runs_a_service(sandbox: EmbeddedSandbox) -> None:
    ecs, iam = sandbox.client("ecs"), sandbox.client("iam")
    role = iam.create_role(
        RoleName="ecsInfrastructureRole",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    ecs.create_cluster(clusterName="mi")
    subnets = _subnets(sandbox)
    settings = {
        "infrastructureRoleArn": role,
        "instanceLaunchTemplate": {
            "ec2InstanceProfileArn": f"arn:aws:iam::{sandbox.account_id}:instance-profile/ecsInstanceRole",
            "networkConfiguration": {"subnets": subnets},
        },
    }
    provider = ecs.create_capacity_provider(
        name="mi-provider", cluster="mi", managedInstancesProvider=settings
    )["capacityProvider"]
    assert provider["type"] == "MANAGED_INSTANCES"
    assert provider["cluster"] == "mi"
    assert provider["managedInstancesProvider"]["infrastructureRoleArn"] == role
    assert "autoScalingGroupProvider" not in provider
    described = ecs.describe_capacity_providers(capacityProviders=["mi-provider"])["capacityProviders"][0]
    assert described["type"] == "MANAGED_INSTANCES"

    ecs.put_cluster_capacity_providers(
        cluster="mi",
        capacityProviders=["mi-provider"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "mi-provider", "weight": 1}],
    )
    ecs.register_task_definition(**_definition())
    ecs.create_service(
        cluster="mi", serviceName="web", taskDefinition="nginx-demo-hello", desiredCount=2,
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
    )  # fmt: skip
    sandbox.advance(60)
    arns = ecs.list_tasks(cluster="mi", serviceName="web")["taskArns"]
    tasks = ecs.describe_tasks(cluster="mi", tasks=arns)["tasks"]
    assert [(t["lastStatus"], t["launchType"], t["capacityProviderName"]) for t in tasks] == [
        ("RUNNING", "MANAGED_INSTANCES", "mi-provider")
    ] * 2

    # Errors: no cluster, a missing role, a missing subnet.
    assert _code(ecs.create_capacity_provider, name="x", managedInstancesProvider=settings) == (
        "InvalidParameterException"
    )
    missing_role = {**settings, "infrastructureRoleArn": f"arn:aws:iam::{sandbox.account_id}:role/nobody"}
    assert _code(
        ecs.create_capacity_provider, name="x", cluster="mi", managedInstancesProvider=missing_role
    ) == ("InvalidParameterException")
    no_subnet = {
        **settings,
        "instanceLaunchTemplate": {
            **settings["instanceLaunchTemplate"],
            "networkConfiguration": {"subnets": ["subnet-00000000000000000"]},
        },
    }
    assert _code(
        ecs.create_capacity_provider, name="x", cluster="mi", managedInstancesProvider=no_subnet
    ) == ("InvalidParameterException")
    assert _code(
        ecs.create_capacity_provider, name="x", cluster="nowhere", managedInstancesProvider=settings
    ) == ("ClusterNotFoundException")
