"""Container instances as ECS shows them: ListContainerInstances' filter, PutAttributes, remaining ports."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.simulator.conftest import AwsCli

CLUSTER = "fleet"


@pytest.fixture
def fleet(sandbox: EmbeddedSandbox) -> dict[str, str]:
    """A cluster with a t3.medium and a t3.large instance that joined it; returns instance type -> ARN."""
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    user_data = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"  # boto3 encodes it
    for instance_type in ("t3.medium", "t3.large"):
        ec2.run_instances(
            ImageId="ami-12c6146b", InstanceType=instance_type, MinCount=1, MaxCount=1,
            UserData=user_data,
        )  # fmt: skip
    sandbox.advance(40)
    arns = ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)[
        "containerInstances"
    ]
    return {
        next(a["value"] for a in ci["attributes"] if a["name"] == "ecs.instance-type"): ci[
            "containerInstanceArn"
        ]
        for ci in described
    }


def test_the_filter_selects_instances_by_the_cluster_query_language(
    sandbox: EmbeddedSandbox, fleet: dict[str, str]
) -> None:
    """`filter` keeps only the instances the expression matches (it was ignored: every instance came back)."""
    ecs = sandbox.client("ecs")
    large = ecs.list_container_instances(cluster=CLUSTER, filter="attribute:ecs.instance-type == t3.large")
    assert large["containerInstanceArns"] == [fleet["t3.large"]]
    both = ecs.list_container_instances(cluster=CLUSTER, filter="attribute:ecs.instance-type =~ t3.*")
    assert sorted(both["containerInstanceArns"]) == sorted(fleet.values())
    none = ecs.list_container_instances(cluster=CLUSTER, filter="runningTasksCount > 0")
    assert none["containerInstanceArns"] == []


@pytest.mark.parametrize(
    "expression",
    ["attribute:ecs.instance-type ==", "attribute:ecs.instance-type == t3.large and", "((", "bogus == 1"],
)
def test_a_filter_that_does_not_parse_is_an_invalid_parameter(
    sandbox: EmbeddedSandbox, fleet: dict[str, str], expression: str
) -> None:
    """A syntax error is InvalidParameterException, as AWS answers, never the unfiltered list."""
    with pytest.raises(ClientError) as caught:
        sandbox.client("ecs").list_container_instances(cluster=CLUSTER, filter=expression)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"].startswith("Invalid filter expression")


def test_a_filter_on_a_custom_attribute_set_with_the_full_arn(
    sandbox: EmbeddedSandbox, fleet: dict[str, str]
) -> None:
    """PutAttributes takes the container instance's full ARN as targetId; the filter then finds it."""
    ecs = sandbox.client("ecs")
    ecs.put_attributes(
        cluster=CLUSTER,
        attributes=[{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": fleet["t3.medium"]}],
    )  # fmt: skip
    listed = ecs.list_attributes(
        cluster=CLUSTER, targetType="container-instance", attributeName="stack", attributeValue="prod"
    )
    assert [a["targetId"] for a in listed["attributes"]] in (
        [fleet["t3.medium"]],
        [fleet["t3.medium"].rsplit("/", 1)[-1]],
    )
    found = ecs.list_container_instances(cluster=CLUSTER, filter="attribute:stack == prod")
    assert found["containerInstanceArns"] == [fleet["t3.medium"]]


def test_put_attributes_on_a_missing_instance_is_target_not_found(
    sandbox: EmbeddedSandbox, fleet: dict[str, str]
) -> None:
    """A well-formed ARN of an instance that is not in the cluster is still TargetNotFoundException."""
    missing = fleet["t3.medium"].rsplit("/", 1)[0] + "/00000000000000000000000000000000"
    with pytest.raises(ClientError) as caught:
        sandbox.client("ecs").put_attributes(
            cluster=CLUSTER,
            attributes=[{"name": "stack", "value": "prod", "targetType": "container-instance", "targetId": missing}],
        )  # fmt: skip
    assert caught.value.response["Error"]["Code"] == "TargetNotFoundException"


def _ports(instance: dict[str, Any], kind: str) -> list[str]:
    return next(r["stringSetValue"] for r in instance[kind] if r["name"] == "PORTS")


def test_remaining_ports_are_the_registered_ones_plus_what_tasks_take(sandbox: EmbeddedSandbox) -> None:
    """An instance registered through the API: remaining PORTS are its registered ports and fixed host ports.

    No reserved port it did not register, and no dynamic host port (AWS lists reserved ports only).
    """
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    instance = ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.medium", MinCount=1, MaxCount=1)
    instance_id = instance["Instances"][0]["InstanceId"]
    document = json.dumps({"instanceId": instance_id, "instanceType": "t3.medium", "region": "us-east-1"})
    arn = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)[
        "containerInstance"
    ]["containerInstanceArn"]
    for family, host_port in (("fixed", 8080), ("dynamic", 0)):
        ecs.register_task_definition(
            family=family,
            networkMode="bridge",
            containerDefinitions=[
                {"name": "web", "image": "nginxdemos/hello", "cpu": 256, "memory": 256,
                 "portMappings": [{"containerPort": 80, "hostPort": host_port}]},
            ],
        )  # fmt: skip
        assert ecs.run_task(cluster=CLUSTER, taskDefinition=family, count=1)["tasks"]
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=[arn])[
        "containerInstances"
    ][0]
    registered = _ports(described, "registeredResources")
    assert _ports(described, "remainingResources") == [*registered, "8080"]


def test_list_container_instances_filter_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """`aws ecs list-container-instances --filter` selects; a bad expression fails with InvalidParameterException."""
    aws = aws_cli
    aws("ecs", "create-cluster", "--cluster-name", CLUSTER)
    user_data = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"
    for instance_type in ("t3.medium", "t3.large"):
        aws("ec2", "run-instances", "--image-id", "ami-12c6146b", "--instance-type", instance_type,
            "--user-data", user_data)  # fmt: skip
    aws.advance(40)
    every = aws("ecs", "list-container-instances", "--cluster", CLUSTER)["containerInstanceArns"]
    large = aws(
        "ecs", "list-container-instances", "--cluster", CLUSTER,
        "--filter", "attribute:ecs.instance-type == t3.large",
    )["containerInstanceArns"]  # fmt: skip
    assert len(every) == 2
    assert len(large) == 1
    assert large[0] in every
    failed = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", "list-container-instances", "--cluster", CLUSTER, "--filter", "(("],
        capture_output=True, text=True, env=aws.env, timeout=120, check=False,
    )  # fmt: skip
    assert failed.returncode != 0
    assert "InvalidParameterException" in failed.stderr
