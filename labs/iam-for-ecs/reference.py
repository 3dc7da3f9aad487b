"""Reference steps of the iam-for-ecs lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from botocore.exceptions import ClientError

from labkit import steps
from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import (
    ASG,
    CLUSTER,
    DYNAMODB_ROLE,
    EXECUTION_POLICY,
    EXECUTION_ROLE,
    INSTANCE_POLICY,
    INSTANCE_PROFILE,
    INSTANCE_ROLE,
    LAUNCH_TEMPLATE,
    PROBE_IMAGE,
    S3_ROLE,
    SECRET,
    TABLE,
    lab_bucket,
    targets,
)

reference = ReferenceSteps("iam-for-ecs")


ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def trust(service: str) -> dict[str, Any]:
    """A trust policy that lets `service` assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _two_subnets(ec2: Any) -> list[str]:
    """Two subnets of the default VPC in different zones (zones in name order)."""
    return steps.zone_subnets(ec2, steps.default_vpc(ec2))[:2]


def _ensure_role(iam: Any, name: str, service: str) -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError:
        document = json.dumps(trust(service))
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"])


def setup(sandbox: Sandbox) -> None:
    """What the lab's setup cell makes (idempotent): the cluster, the bucket, the table, the secret."""
    import secrets as random

    ecs, s3, dynamodb, secretsmanager = (
        sandbox.client(s) for s in ("ecs", "s3", "dynamodb", "secretsmanager")
    )
    if not [c for c in ecs.describe_clusters(clusters=[CLUSTER])["clusters"] if c["status"] == "ACTIVE"]:
        ecs.create_cluster(clusterName=CLUSTER)
    bucket = lab_bucket(sandbox)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        if sandbox.region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": sandbox.region})
    try:
        dynamodb.describe_table(TableName=TABLE)
    except ClientError:
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    try:
        secretsmanager.describe_secret(SecretId=SECRET)
    except ClientError:
        secretsmanager.create_secret(Name=SECRET, SecretString=random.token_urlsafe(24))


@reference.step("instance-role-and-profile")
def make_instance_role(sandbox: Sandbox) -> None:
    iam = sandbox.client("iam")
    _ensure_role(iam, INSTANCE_ROLE, "ec2.amazonaws.com")
    iam.attach_role_policy(RoleName=INSTANCE_ROLE, PolicyArn=INSTANCE_POLICY)
    iam.create_instance_profile(InstanceProfileName=INSTANCE_PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=INSTANCE_PROFILE, RoleName=INSTANCE_ROLE)


@reference.step("instances-carry-the-profile")
def make_instances(sandbox: Sandbox) -> None:
    setup(sandbox)
    ec2, ssm, autoscaling, ecs = (sandbox.client(s) for s in ("ec2", "ssm", "autoscaling", "ecs"))
    ami = ssm.get_parameter(Name=ECS_AMI_PARAMETER)["Parameter"]["Value"]
    user_data = base64.b64encode(
        f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n".encode()
    ).decode()
    ec2.create_launch_template(
        LaunchTemplateName=LAUNCH_TEMPLATE,
        LaunchTemplateData={
            "ImageId": ami,
            "InstanceType": "t3.small",
            "IamInstanceProfile": {"Name": INSTANCE_PROFILE},
            "UserData": user_data,
        },
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG,
        LaunchTemplate={"LaunchTemplateName": LAUNCH_TEMPLATE, "Version": "$Latest"},
        MinSize=1,
        MaxSize=1,
        DesiredCapacity=1,
        VPCZoneIdentifier=",".join(_two_subnets(ec2)),
    )
    sandbox.wait_until(
        lambda: bool(ecs.list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"]),
        "the instance joining",
        limit=1800,
        step=5,
    )


@reference.step("execution-role-ready")
def make_execution_role(sandbox: Sandbox) -> None:
    setup(sandbox)
    iam = sandbox.client("iam")
    secret = sandbox.client("secretsmanager").describe_secret(SecretId=SECRET)["ARN"]
    _ensure_role(iam, EXECUTION_ROLE, "ecs-tasks.amazonaws.com")
    iam.attach_role_policy(RoleName=EXECUTION_ROLE, PolicyArn=EXECUTION_POLICY)
    iam.put_role_policy(
        RoleName=EXECUTION_ROLE,
        PolicyName="read-db-password",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
                ],
            }
        ),
    )


def _register_probe(sandbox: Sandbox, family: str, role: str, own: str, other: str, secret: bool) -> None:
    iam = sandbox.client("iam")
    container: dict[str, Any] = {
        "name": "probe",
        "image": PROBE_IMAGE,
        "memory": 128,
        "essential": True,
        "environment": [{"name": "RESULTS_TO", "value": own}, {"name": "ALSO_TRY", "value": other}],
    }
    if secret:
        arn = sandbox.client("secretsmanager").describe_secret(SecretId=SECRET)["ARN"]
        container["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": arn}]
    sandbox.client("ecs").register_task_definition(
        family=family,
        requiresCompatibilities=["EC2"],
        taskRoleArn=iam.get_role(RoleName=role)["Role"]["Arn"],
        executionRoleArn=iam.get_role(RoleName=EXECUTION_ROLE)["Role"]["Arn"],
        containerDefinitions=[container],
    )


@reference.step("one-task-role-per-service")
def make_task_roles(sandbox: Sandbox) -> None:
    setup(sandbox)
    iam = sandbox.client("iam")
    bucket = lab_bucket(sandbox)
    table = f"arn:aws:dynamodb:{sandbox.region}:{sandbox.account_id}:table/{TABLE}"
    for name, statement in (
        (
            S3_ROLE,
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/results/*"},
        ),
        (DYNAMODB_ROLE, {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}),
    ):
        _ensure_role(iam, name, "ecs-tasks.amazonaws.com")
        iam.put_role_policy(
            RoleName=name,
            PolicyName="its-own-job",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
    s3_target, dynamodb_target = targets(sandbox)
    _register_probe(sandbox, "s3-writer", S3_ROLE, s3_target, dynamodb_target, secret=True)
    _register_probe(sandbox, "dynamodb-writer", DYNAMODB_ROLE, dynamodb_target, s3_target, secret=False)


@reference.step("least-privilege-proved")
def make_services(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    for name in ("s3-writer", "dynamodb-writer"):
        ecs.create_service(
            cluster=CLUSTER, serviceName=name, taskDefinition=name, desiredCount=1, launchType="EC2"
        )
    bucket, s3 = lab_bucket(sandbox), sandbox.client("s3")
    dynamodb = sandbox.client("dynamodb")

    def done() -> bool:
        objects = s3.list_objects_v2(Bucket=bucket, Prefix="results/").get("KeyCount", 0)
        items = dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"]
        return bool(objects and items)

    sandbox.wait_until(done, "both services' results", limit=1800, step=5)
