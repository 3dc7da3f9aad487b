"""AWS managed policies in a sandbox account: attachable and readable by ARN, as in a real account."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox

ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def test_the_ecs_instance_policy_attaches_to_a_role(sandbox: EmbeddedSandbox) -> None:
    """AmazonEC2ContainerServiceforEC2Role attaches to a role and is listed on it with its name."""
    iam = sandbox.client("iam")
    iam.create_role(RoleName="ecsInstanceRole", AssumeRolePolicyDocument=TRUST)
    iam.attach_role_policy(RoleName="ecsInstanceRole", PolicyArn=ECS_INSTANCE_POLICY)
    attached = iam.list_attached_role_policies(RoleName="ecsInstanceRole")["AttachedPolicies"]
    assert attached == [
        {"PolicyName": "AmazonEC2ContainerServiceforEC2Role", "PolicyArn": ECS_INSTANCE_POLICY}
    ]


def test_a_managed_policy_reads_back_with_its_document(sandbox: EmbeddedSandbox) -> None:
    """get_policy and get_policy_version answer for an AWS managed policy; its document allows ecs:RegisterContainerInstance."""
    iam = sandbox.client("iam")
    policy = iam.get_policy(PolicyArn=ECS_INSTANCE_POLICY)["Policy"]
    assert policy["Path"] == "/service-role/"
    version = iam.get_policy_version(PolicyArn=ECS_INSTANCE_POLICY, VersionId=policy["DefaultVersionId"])
    assert "ecs:RegisterContainerInstance" in json.dumps(version["PolicyVersion"]["Document"])


def test_an_aws_policy_that_does_not_exist_is_no_such_entity(sandbox: EmbeddedSandbox) -> None:
    """A made-up AWS managed policy ARN is refused as AWS refuses it."""
    iam = sandbox.client("iam")
    iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    with pytest.raises(ClientError) as caught:
        iam.attach_role_policy(RoleName="r", PolicyArn="arn:aws:iam::aws:policy/service-role/NoSuchPolicy")
    assert caught.value.response["Error"]["Code"] == "NoSuchEntity"
