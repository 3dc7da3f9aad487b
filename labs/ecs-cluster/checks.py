"""Checkpoints of the ecs-cluster lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `ecs-lab`; the ECS agent's role `ecs-lab-instance-role` in the instance
profile `ecs-lab-instance-profile`; the launch template `ecs-lab-template` (the ECS-optimized Amazon
Linux 2023 AMI named through its public SSM parameter, the instance profile, user data that sets
`ECS_CLUSTER=ecs-lab`); the Auto Scaling group `ecs-lab-asg` (two t3.small instances in two zones);
the capacity provider `ecs-lab-asg-cp` for that group, beside FARGATE and FARGATE_SPOT.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling

checkpoints = CheckpointSet("ecs-cluster")


CLUSTER = "ecs-lab"


ROLE = "ecs-lab-instance-role"


PROFILE = "ecs-lab-instance-profile"


TEMPLATE = "ecs-lab-template"


GROUP = "ecs-lab-asg"


PROVIDER = "ecs-lab-asg-cp"


INSTANCE_TYPE = "t3.small"


DESIRED = 2


ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def _ours_iam(ctx: CheckContext, kind: str, name: str) -> bool:
    """In a real account, the role or instance profile carries this session's tag."""
    if ctx.session_tag is None:
        return True
    iam = ctx.client("iam")
    if kind == "role":
        tags = iam.list_role_tags(RoleName=name).get("Tags", [])
    else:
        tags = iam.list_instance_profile_tags(InstanceProfileName=name).get("Tags", [])
    return ctx.ours(tags)


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(urllib.parse.unquote(str(value)))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _trusts_ec2(document: dict[str, Any]) -> bool:
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = [services] if isinstance(services, str) else services
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        if (
            statement.get("Effect") == "Allow"
            and "ec2.amazonaws.com" in services
            and "sts:AssumeRole" in actions
        ):
            return True
    return False


@checkpoints.checkpoint(
    "agent-role-ready",
    "An instance profile gives the ECS agent a role with AmazonEC2ContainerServiceforEC2Role",
    points=2,
    hints=[
        f"iam.create_role(RoleName='{ROLE}', AssumeRolePolicyDocument=...) with a trust policy that lets the "
        "service ec2.amazonaws.com call sts:AssumeRole.",
        f"iam.attach_role_policy(RoleName='{ROLE}', PolicyArn='{ECS_INSTANCE_POLICY}').",
        f"iam.create_instance_profile(InstanceProfileName='{PROFILE}'), then "
        f"iam.add_role_to_instance_profile(InstanceProfileName='{PROFILE}', RoleName='{ROLE}').",
    ],
)
def agent_role_ready(ctx: CheckContext) -> Outcome:
    iam = ctx.client("iam")
    try:
        role = iam.get_role(RoleName=ROLE)["Role"]
    except ClientError:
        return failed(f"There is no IAM role named {ROLE}.")
    if not _ours_iam(ctx, "role", ROLE):
        return failed(f"The role {ROLE} was not made in this lab session.")
    if not _trusts_ec2(_document(role.get("AssumeRolePolicyDocument"))):
        return failed(
            f"{ROLE}'s trust policy does not let EC2 (ec2.amazonaws.com) assume it: an instance could not use it. "
            "(ecs-tasks.amazonaws.com is for task roles and task execution roles, not for instances.)"
        )
    attached = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    if ECS_INSTANCE_POLICY not in {p["PolicyArn"] for p in attached}:
        return failed(
            f"{ROLE} does not have the managed policy AmazonEC2ContainerServiceforEC2Role: the agent could not "
            "register the instance."
        )
    try:
        profile = iam.get_instance_profile(InstanceProfileName=PROFILE)["InstanceProfile"]
    except ClientError:
        return failed(f"There is no instance profile named {PROFILE}.")
    if not _ours_iam(ctx, "profile", PROFILE):
        return failed(f"The instance profile {PROFILE} was not made in this lab session.")
    if ROLE not in {r["RoleName"] for r in profile.get("Roles", [])}:
        return failed(f"The instance profile {PROFILE} does not hold the role {ROLE}.")
    return passed(
        f"{PROFILE} holds {ROLE}, which EC2 may assume and which has AmazonEC2ContainerServiceforEC2Role."
    )


def _decoded(user_data: str) -> str:
    try:
        return base64.b64decode(user_data, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return user_data


def _template(ctx: CheckContext) -> dict[str, Any] | None:
    ec2 = ctx.client("ec2")
    try:
        templates = ec2.describe_launch_templates(LaunchTemplateNames=[TEMPLATE])["LaunchTemplates"]
    except ClientError:
        return None
    templates = [t for t in templates if ctx.ours(t.get("Tags"))]
    if not templates:
        return None
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateId=templates[0]["LaunchTemplateId"], Versions=["$Latest"]
    )["LaunchTemplateVersions"]
    return versions[0] if versions else None


def _current_ami(ctx: CheckContext) -> str | None:
    try:
        return str(ctx.client("ssm").get_parameter(Name=AMI_PARAMETER)["Parameter"]["Value"])
    except ClientError:
        return None


@checkpoints.checkpoint(
    "launch-template-ready",
    "A launch template starts the ECS-optimized AMI with the agent's profile, joining the cluster",
    points=3,
    hints=[
        f"ec2.create_launch_template(LaunchTemplateName='{TEMPLATE}', LaunchTemplateData={{...}}).",
        f"ImageId: 'resolve:ssm:{AMI_PARAMETER}' (EC2 looks the AMI up at each launch), or the value of that "
        "public SSM parameter; InstanceType 't3.small'; IamInstanceProfile={'Name': '" + PROFILE + "'}.",
        "UserData must be base64: base64.b64encode(b'#!/bin/bash\\necho ECS_CLUSTER=ecs-lab >> "
        "/etc/ecs/ecs.config\\n').decode().",
    ],
)
def launch_template_ready(ctx: CheckContext) -> Outcome:
    version = _template(ctx)
    if version is None:
        return failed(f"There is no launch template named {TEMPLATE} made in this lab.")
    data = version.get("LaunchTemplateData", {})
    image = data.get("ImageId")
    ami = _current_ami(ctx)
    if image not in (f"resolve:ssm:{AMI_PARAMETER}", ami):
        return failed(
            f"The template's ImageId is {image!r}; use the ECS-optimized AMI: resolve:ssm:{AMI_PARAMETER} "
            "(or that parameter's current value)."
        )
    profile = data.get("IamInstanceProfile") or {}
    if profile.get("Name") != PROFILE and not str(profile.get("Arn", "")).endswith(f"/{PROFILE}"):
        return failed(
            f"The template gives its instances no instance profile {PROFILE}: their agents could not call ECS."
        )
    script = _decoded(str(data.get("UserData", "")))
    if f"ECS_CLUSTER={CLUSTER}" not in script:
        return failed(
            f"The template's user data does not set ECS_CLUSTER={CLUSTER}; the agent would join the cluster "
            "named 'default'. (User data in a launch template is base64.)"
        )
    if not data.get("InstanceType"):
        return failed(f"The template names no InstanceType; this lab uses {INSTANCE_TYPE}.")
    return passed(
        f"{TEMPLATE} v{version.get('VersionNumber')}: {image}, {data['InstanceType']}, profile {PROFILE}."
    )


def _cluster(ctx: CheckContext) -> dict[str, Any] | None:
    clusters = ctx.client("ecs").describe_clusters(clusters=[CLUSTER], include=["TAGS"])["clusters"]
    clusters = [c for c in clusters if c.get("status") == "ACTIVE" and ctx.ours(c.get("tags"))]
    return clusters[0] if clusters else None


@checkpoints.checkpoint(
    "instances-registered",
    "An Auto Scaling group's two instances are container instances of the cluster",
    points=3,
    hints=[
        f"ecs.create_cluster(clusterName='{CLUSTER}') first: an agent only joins a cluster that exists.",
        f"autoscaling.create_auto_scaling_group(AutoScalingGroupName='{GROUP}', MinSize=2, MaxSize=4, "
        f"DesiredCapacity=2, VPCZoneIdentifier='subnet-a,subnet-b', LaunchTemplate={{'LaunchTemplateName': "
        f"'{TEMPLATE}', 'Version': '$Latest'}}).",
        "Each agent registers its instance about 30 seconds (emulated) after launch; "
        "ecs.list_container_instances(cluster=...) lists them.",
    ],
)
def instances_registered(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        if _cluster(ctx) is None:
            return failed(f"There is no ACTIVE cluster named {CLUSTER} made in this lab.")
        group = ctx.auto_scaling_group(GROUP)
        if group is None:
            return failed(f"There is no Auto Scaling group named {GROUP} made in this lab.")
        template = (group.get("LaunchTemplate") or {}).get("LaunchTemplateName")
        if template != TEMPLATE:
            return failed(f"{GROUP} does not launch from the template {TEMPLATE}.")
        if group.get("DesiredCapacity") != DESIRED:
            return failed(
                f"{GROUP} wants {counted(group.get('DesiredCapacity') or 0, 'instance')}; this lab uses {DESIRED}."
            )
        if len(group.get("AvailabilityZones", [])) < 2:
            return failed(f"{GROUP} uses one availability zone; give it subnets in two (VPCZoneIdentifier).")
        members = {i["InstanceId"] for i in group.get("Instances", [])}
        ecs = ctx.client("ecs")
        arns = ecs.list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"]
        described = (
            ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
            if arns
            else []
        )
        joined = [c for c in described if c["ec2InstanceId"] in members and c.get("agentConnected")]
        if len(joined) < DESIRED:
            message = (
                f"{len(joined)} of {GROUP}'s instances are container instances of {CLUSTER} so far; an agent "
                "registers its instance once it has started (and only if the user data names the cluster)."
            )
            # Worth waiting for only while the group is launching, or an instance is young enough
            # for its agent still to register; an older one whose agent never came will not.
            waiting = members - {c["ec2InstanceId"] for c in joined}
            young = ctx.agent_may_register(waiting)
            return settling(message) if len(members) < DESIRED or young else failed(message)
        images = {
            i["ImageId"]
            for r in ctx.client("ec2").describe_instances(InstanceIds=[c["ec2InstanceId"] for c in joined])[
                "Reservations"
            ]
            for i in r["Instances"]
        }
        ami = _current_ami(ctx)
        if ami is not None and images != {ami}:
            return failed(f"The instances run {sorted(images)}, not the ECS-optimized AMI {ami}.")
        zones = sorted(
            {
                str(a.get("value"))
                for c in joined
                for a in c.get("attributes", [])
                if a["name"] == "ecs.availability-zone"
            }
        )
        return passed(
            f"{counted(len(joined), 'instance')} of {GROUP} ({ami}) joined {CLUSTER} in {', '.join(zones)}."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "capacity-providers-set",
    "The cluster has FARGATE, FARGATE_SPOT and the group's capacity provider, with a default strategy",
    points=3,
    hints=[
        f"ecs.create_capacity_provider(name='{PROVIDER}', autoScalingGroupProvider={{'autoScalingGroupArn': ..., "
        "'managedScaling': {'status': 'ENABLED', 'targetCapacity': 100}, 'managedTerminationProtection': 'DISABLED'}).",
        f"ecs.put_cluster_capacity_providers(cluster='{CLUSTER}', capacityProviders=['FARGATE', 'FARGATE_SPOT', "
        f"'{PROVIDER}'], defaultCapacityProviderStrategy=[...]).",
        "The default strategy: [{'capacityProvider': 'FARGATE', 'base': 1, 'weight': 1}, "
        "{'capacityProvider': 'FARGATE_SPOT', 'weight': 3}].",
    ],
)
def capacity_providers_set(ctx: CheckContext) -> Outcome:
    cluster = _cluster(ctx)
    if cluster is None:
        return failed(f"There is no ACTIVE cluster named {CLUSTER} made in this lab.")
    providers = set(cluster.get("capacityProviders", []))
    missing = [p for p in ("FARGATE", "FARGATE_SPOT", PROVIDER) if p not in providers]
    if missing:
        return failed(f"{CLUSTER}'s capacity providers lack {', '.join(missing)}.")
    described = ctx.client("ecs").describe_capacity_providers(capacityProviders=[PROVIDER], include=["TAGS"])
    found = [p for p in described.get("capacityProviders", []) if ctx.ours(p.get("tags"))]
    if not found or found[0].get("status") != "ACTIVE":
        return failed(f"There is no ACTIVE capacity provider {PROVIDER} made in this lab.")
    group = ctx.auto_scaling_group(GROUP)
    arn = (found[0].get("autoScalingGroupProvider") or {}).get("autoScalingGroupArn")
    if group is None or arn != group.get("AutoScalingGroupARN"):
        return failed(f"{PROVIDER} does not manage the Auto Scaling group {GROUP}.")
    strategy = {s["capacityProvider"]: s for s in cluster.get("defaultCapacityProviderStrategy", [])}
    fargate, spot = strategy.get("FARGATE"), strategy.get("FARGATE_SPOT")
    if fargate is None or spot is None:
        return failed(
            "The cluster's default capacity provider strategy does not use both FARGATE and FARGATE_SPOT."
        )
    if (
        int(fargate.get("base", 0)) != 1
        or int(fargate.get("weight", 0)) != 1
        or int(spot.get("weight", 0)) != 3
    ):
        return failed(
            "The default strategy should run the first task on FARGATE (base 1) and split the rest 1:3 between "
            f"FARGATE (weight 1) and FARGATE_SPOT (weight 3); it is {cluster.get('defaultCapacityProviderStrategy')}."
        )
    if int(spot.get("base", 0)) != 0:
        return failed("Only one provider of a strategy may have a base; FARGATE_SPOT has one too.")
    return passed(
        f"{CLUSTER}: FARGATE (base 1, weight 1), FARGATE_SPOT (weight 3) by default, and {PROVIDER} for {GROUP}."
    )
