"""Reference steps of the ecs-cluster lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import base64
import json

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import default_vpc, zone_subnets

from .checks import (
    AMI_PARAMETER,
    CLUSTER,
    DESIRED,
    ECS_INSTANCE_POLICY,
    GROUP,
    INSTANCE_TYPE,
    PROFILE,
    PROVIDER,
    ROLE,
    TEMPLATE,
)

reference = ReferenceSteps("ecs-cluster")


USER_DATA = f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n"


#: The cluster's default capacity provider strategy in this lab.
DEFAULT_STRATEGY = [
    {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
    {"capacityProvider": "FARGATE_SPOT", "weight": 3},
]


TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@reference.step("agent-role-ready")
def make_agent_role(sandbox: Sandbox) -> None:
    iam = sandbox.client("iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=ECS_INSTANCE_POLICY)
    iam.create_instance_profile(InstanceProfileName=PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=PROFILE, RoleName=ROLE)


@reference.step("launch-template-ready")
def make_launch_template(sandbox: Sandbox) -> None:
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName=TEMPLATE,
        LaunchTemplateData={
            "ImageId": f"resolve:ssm:{AMI_PARAMETER}",
            "InstanceType": INSTANCE_TYPE,
            "IamInstanceProfile": {"Name": PROFILE},
            "UserData": base64.b64encode(USER_DATA.encode()).decode(),
        },
    )


@reference.step("instances-registered")
def make_group(sandbox: Sandbox) -> None:
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    ecs.create_cluster(clusterName=CLUSTER)
    sandbox.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=GROUP,
        MinSize=DESIRED,
        MaxSize=4,
        DesiredCapacity=DESIRED,
        VPCZoneIdentifier=",".join(zone_subnets(ec2, default_vpc(ec2))[:2]),
        LaunchTemplate={"LaunchTemplateName": TEMPLATE, "Version": "$Latest"},
    )

    def registered() -> bool:
        return len(ecs.list_container_instances(cluster=CLUSTER)["containerInstanceArns"]) >= DESIRED

    sandbox.wait_until(registered, "the group's instances registering", limit=1800, step=5)


@reference.step("capacity-providers-set")
def set_capacity_providers(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    group = sandbox.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])[
        "AutoScalingGroups"
    ][0]
    ecs.create_capacity_provider(
        name=PROVIDER,
        autoScalingGroupProvider={
            "autoScalingGroupArn": group["AutoScalingGroupARN"],
            "managedScaling": {"status": "ENABLED", "targetCapacity": 100},
            "managedTerminationProtection": "DISABLED",
        },
    )
    ecs.put_cluster_capacity_providers(
        cluster=CLUSTER,
        capacityProviders=["FARGATE", "FARGATE_SPOT", PROVIDER],
        defaultCapacityProviderStrategy=DEFAULT_STRATEGY,
    )
