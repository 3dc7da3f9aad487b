"""awsvpc tasks and services name subnets: a missing one is ECS's error, a VPC with default attributes works."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.demo import TASK_DEFINITION
from labkit.sandbox.embedded import EmbeddedSandbox

MISSING = "subnet-0123456789abcdef0"


def _awsvpc(subnets: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"subnets": subnets}
    if groups is not None:
        config["securityGroups"] = groups
    return {"awsvpcConfiguration": config}


@pytest.fixture
def ecs(sandbox: EmbeddedSandbox) -> Any:
    client = sandbox.client("ecs")
    client.create_cluster(clusterName="course")
    client.register_task_definition(**TASK_DEFINITION)
    return client


@pytest.mark.parametrize("groups", [None, "default"], ids=["no-security-groups", "with-security-groups"])
@pytest.mark.parametrize("action", ["run_task", "create_service"])
def test_a_missing_subnet_is_an_ecs_invalid_parameter(
    sandbox: EmbeddedSandbox, ecs: Any, action: str, groups: str | None
) -> None:
    """ECS answers InvalidParameterException quoting EC2's code, not EC2's InvalidSubnetID.NotFound."""
    ec2 = sandbox.client("ec2")
    real = ec2.describe_subnets()["Subnets"][0]
    group_ids = None
    if groups:
        group_ids = [
            ec2.describe_security_groups(
                Filters=[
                    {"Name": "vpc-id", "Values": [real["VpcId"]]},
                    {"Name": "group-name", "Values": ["default"]},
                ]
            )["SecurityGroups"][0]["GroupId"]
        ]
    params: dict[str, Any] = {
        "cluster": "course",
        "taskDefinition": "nginx-demo-hello",
        "launchType": "FARGATE",
        "networkConfiguration": _awsvpc([real["SubnetId"], MISSING], group_ids),
    }
    if action == "create_service":
        params.update(serviceName="web", desiredCount=1)
    with pytest.raises(ClientError) as caught:
        getattr(ecs, action)(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == (
        f"Error retrieving subnet information for [{MISSING}]: The subnet ID '{MISSING}' does not exist "
        "(ErrorCode: InvalidSubnetID.NotFound)"
    )
    assert ecs.list_tasks(cluster="course")["taskArns"] == []


def test_an_awsvpc_task_in_a_vpc_with_default_attributes_runs(sandbox: EmbeddedSandbox, ecs: Any) -> None:
    """A VPC made by CreateVpc (DNS hostnames off) gives its tasks a private DNS name; nothing crashes."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    task = ecs.run_task(
        cluster="course", taskDefinition="nginx-demo-hello", launchType="FARGATE",
        networkConfiguration=_awsvpc([subnet]),
    )["tasks"][0]  # fmt: skip
    sandbox.advance(120)
    described = ecs.describe_tasks(cluster="course", tasks=[task["taskArn"]])["tasks"][0]
    assert described["lastStatus"] == "RUNNING"
    details = {d["name"]: d["value"] for d in described["attachments"][0]["details"]}
    assert details["privateIPv4Address"].startswith("10.1.1.")
    assert details["privateDnsName"].startswith("ip-10-1-1-")


@pytest.mark.parametrize("action", ["run_task", "create_service"])
def test_a_missing_security_group_is_an_ecs_invalid_parameter(
    sandbox: EmbeddedSandbox, ecs: Any, action: str
) -> None:
    """ECS names the missing group in its words (CreateService was a 500, RunTask accepted it)."""
    subnet = sandbox.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    params: dict[str, Any] = {
        "cluster": "course",
        "taskDefinition": "nginx-demo-hello",
        "launchType": "FARGATE",
        "networkConfiguration": _awsvpc([subnet], ["sg-123456"]),
    }
    if action == "create_service":
        params.update(serviceName="web", desiredCount=1)
    with pytest.raises(ClientError) as caught:
        getattr(ecs, action)(**params)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterException"
    assert error["Message"] == (
        "Error retrieving security group information for [sg-123456]: "
        "The security group 'sg-123456' does not exist (ErrorCode: InvalidGroup.NotFound)"
    )
    assert ecs.list_services(cluster="course")["serviceArns"] == []
    assert ecs.list_tasks(cluster="course")["taskArns"] == []


def test_an_instance_in_a_subnet_written_with_host_bits_starts(sandbox: EmbeddedSandbox) -> None:
    """A subnet whose CIDR has host bits set (10.0.1.1/24, as moto accepts it) does not crash RunInstances."""
    ec2 = sandbox.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.1/24")["Subnet"]["SubnetId"]
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet)["Instances"][0]
    assert instance["PrivateIpAddress"].startswith("10.0.1.")
