"""Reference steps of the placement lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import default_vpc, write_parameter, zone_subnets

from .checks import (
    AMI_PARAMETER,
    CLUSTER,
    EXPERIMENTS,
    FAMILY,
    INSTANCES,
    ROLE,
    TASK_CPU,
    TASK_MEMORY,
    container_instances,
    expected_placement,
    prediction_parameter,
)

reference = ReferenceSteps("placement")


ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


USER_DATA = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"


def task_definition() -> dict[str, Any]:
    """The arguments of register_task_definition for the lab's EC2 task."""
    return {
        "family": FAMILY,
        "requiresCompatibilities": ["EC2"],
        "networkMode": "bridge",
        "containerDefinitions": [
            {
                "name": "web",
                "image": "nginxdemos/hello",
                "essential": True,
                "cpu": TASK_CPU,
                "memory": TASK_MEMORY,
                "portMappings": [{"containerPort": 80, "hostPort": 0, "protocol": "tcp"}],
            }
        ],
    }


def make_instance_profile(sandbox: Sandbox) -> None:
    """The role the ECS agent's instances assume, with AWS's managed policy for it, as an instance profile."""
    iam = sandbox.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    try:
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=ECS_INSTANCE_POLICY)
    try:
        iam.create_instance_profile(InstanceProfileName=ROLE)
        iam.add_role_to_instance_profile(InstanceProfileName=ROLE, RoleName=ROLE)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "EntityAlreadyExists":
            raise


@reference.step("capacity-registered")
def make_capacity(sandbox: Sandbox) -> None:
    ec2, ecs, ssm = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("ssm")
    make_instance_profile(sandbox)
    ecs.create_cluster(clusterName=CLUSTER)
    image = ssm.get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"]
    subnets = zone_subnets(ec2, default_vpc(ec2))
    for name, (instance_type, zone) in INSTANCES.items():
        ec2.run_instances(
            ImageId=image,
            InstanceType=instance_type,
            MinCount=1,
            MaxCount=1,
            SubnetId=subnets[zone],
            IamInstanceProfile={"Name": ROLE},
            UserData=USER_DATA,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
        )

    def registered() -> bool:
        return len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) >= len(INSTANCES)

    sandbox.wait_until(registered, "the three instances registering", limit=1800, step=5)


@reference.step("task-definition-registered")
def register_task_definition(sandbox: Sandbox) -> None:
    sandbox.client("ecs").register_task_definition(**task_definition())


def _run_experiment(sandbox: Sandbox, group: str) -> None:
    """Save the right prediction, run the experiment, then stop its tasks (the instances are empty again)."""
    experiment = EXPERIMENTS[group]
    ecs, ssm = sandbox.client("ecs"), sandbox.client("ssm")
    ctx = CheckContext(sandbox)
    expected = expected_placement(container_instances(ctx), experiment)
    record = {"prediction": expected, "placement": experiment.placement()}
    write_parameter(ssm, prediction_parameter(group), json.dumps(record))
    tasks = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=FAMILY,
        count=experiment.count,
        group=group,
        launchType="EC2",
        **experiment.placement(),
    )["tasks"]
    arns = [t["taskArn"] for t in tasks]

    def statuses() -> set[str]:
        return (
            {t["lastStatus"] for t in ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]}
            if arns
            else set()
        )

    sandbox.wait_until(lambda: statuses() <= {"RUNNING"}, f"the tasks of {group} running", limit=1800, step=5)
    for arn in arns:
        ecs.stop_task(cluster=CLUSTER, task=arn, reason=f"experiment {group} done")
    sandbox.wait_until(
        lambda: statuses() <= {"STOPPED"}, f"the tasks of {group} stopping", limit=1800, step=5
    )


def _solver(group: str) -> Callable[[Sandbox], None]:
    def solve(sandbox: Sandbox) -> None:
        _run_experiment(sandbox, group)

    solve.__name__ = f"solve_{group.replace('-', '_')}"
    return solve


for _group in EXPERIMENTS:
    reference.step(_group)(_solver(_group))
