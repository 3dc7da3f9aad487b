"""Every emulated account has the AWS managed policies the course attaches."""

from __future__ import annotations

import json

from labkit.sandbox.embedded import EmbeddedSandbox

EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def test_the_task_execution_role_policy_can_be_attached_and_read(sandbox: EmbeddedSandbox) -> None:
    """AmazonECSTaskExecutionRolePolicy exists, attaches, and its document allows ECR pulls and logs."""
    iam = sandbox.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}  # fmt: skip
    iam.create_role(RoleName="execution", AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName="execution", PolicyArn=EXECUTION_POLICY)
    version = iam.get_policy(PolicyArn=EXECUTION_POLICY)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=EXECUTION_POLICY, VersionId=version)["PolicyVersion"][
        "Document"
    ]
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert {"ecr:BatchGetImage", "ecr:GetAuthorizationToken", "logs:PutLogEvents"} <= actions
    attached = iam.list_attached_role_policies(RoleName="execution")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonECSTaskExecutionRolePolicy"]


def test_the_instance_role_policy_exists_but_not_every_managed_policy(sandbox: EmbeddedSandbox) -> None:
    """AmazonEC2ContainerServiceforEC2Role is there; unrelated managed policies are not loaded."""
    iam = sandbox.client("iam")
    names = {p["PolicyName"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    assert "AmazonEC2ContainerServiceforEC2Role" in names
    assert "AmazonS3ReadOnlyAccess" in names
    assert "AWSLambda_FullAccess" not in names
