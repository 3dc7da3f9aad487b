"""Checkpoints of the iam-for-ecs lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `iam-lab` with EC2 capacity from the Auto Scaling group `iam-lab-asg`
(launch template `iam-lab-instances`, instance profile `iam-lab-instance-profile` holding the role
`iam-lab-instance-role`), the task execution role `iam-lab-execution-role`, the task roles
`iam-lab-s3-role` and `iam-lab-dynamodb-role`, the services `s3-writer` and `dynamodb-writer`
(families of the same names), the secret `iam-lab/db-password`, the table `iam-lab-orders` and the
bucket `labkit-iam-<session id>`.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.sandbox import Sandbox

checkpoints = CheckpointSet("iam-for-ecs")


CLUSTER = "iam-lab"


ASG = "iam-lab-asg"


LAUNCH_TEMPLATE = "iam-lab-instances"


INSTANCE_ROLE = "iam-lab-instance-role"


INSTANCE_PROFILE = "iam-lab-instance-profile"


EXECUTION_ROLE = "iam-lab-execution-role"


S3_ROLE = "iam-lab-s3-role"


DYNAMODB_ROLE = "iam-lab-dynamodb-role"


SECRET = "iam-lab/db-password"


TABLE = "iam-lab-orders"


PROBE_IMAGE = "public.ecr.aws/labkit/access-probe"


INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"


EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def lab_bucket(sandbox: Sandbox) -> str:
    """The lab's bucket: named after the sandbox session, so it is this session's in any account."""
    return f"labkit-iam-{sandbox.session_id}".lower()


def targets(sandbox: Sandbox) -> tuple[str, str]:
    """Where each service's probe writes: (the S3 target, the DynamoDB target)."""
    return f"s3://{lab_bucket(sandbox)}/results/", f"dynamodb://{TABLE}"


def _role(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    try:
        role = dict(ctx.client("iam").get_role(RoleName=name)["Role"])
    except ClientError:
        return None
    return role if ctx.ours(role.get("Tags")) else None


def _trusted_by(role: dict[str, Any], service: str) -> bool:
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        document = json.loads(document)
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        services = (statement.get("Principal") or {}).get("Service", [])
        services = services if isinstance(services, list) else [services]
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") == "Allow" and service in services and "sts:AssumeRole" in actions:
            return True
    return False


def _attached(ctx: CheckContext, name: str) -> set[str]:
    policies = ctx.client("iam").list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    return {str(p["PolicyArn"]) for p in policies}


def _documents(ctx: CheckContext, name: str) -> list[dict[str, Any]]:
    """The identity policies (inline and attached) of a role, read through IAM."""
    iam = ctx.client("iam")
    documents: list[dict[str, Any]] = []
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        documents.append(json.loads(document) if isinstance(document, str) else dict(document))
    for arn in _attached(ctx, name):
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        document = version["PolicyVersion"]["Document"]
        documents.append(json.loads(document) if isinstance(document, str) else dict(document))
    return documents


def _allows(ctx: CheckContext, name: str, action: str, resource: str) -> bool:
    from labkit.sandbox.simulator.workloads import policy_allows

    return policy_allows(_documents(ctx, name), action, resource) is True


def _task_definition(ctx: CheckContext, family: str) -> dict[str, Any] | None:
    try:
        described = ctx.client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"])
    except ClientError:
        return None
    return dict(described["taskDefinition"]) if ctx.ours(described.get("tags")) else None


def _service_tasks(ctx: CheckContext, service: str) -> list[dict[str, Any]]:
    ecs = ctx.client("ecs")
    try:
        found = ecs.describe_services(cluster=CLUSTER, services=[service], include=["TAGS"])["services"]
    except ClientError:
        return []
    if not [s for s in found if s.get("status") == "ACTIVE" and ctx.ours(s.get("tags"))]:
        return []
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return []
    return [
        t
        for t in ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
        if t.get("lastStatus") == "RUNNING"
    ]


def _secret_arn(ctx: CheckContext) -> str | None:
    try:
        return str(ctx.client("secretsmanager").describe_secret(SecretId=SECRET)["ARN"])
    except ClientError:
        return None


@checkpoints.checkpoint(
    "instance-role-and-profile",
    "The container instances' role is trusted by EC2 and sits in an instance profile",
    points=2,
    hints=[
        f"iam.create_role(RoleName='{INSTANCE_ROLE}', AssumeRolePolicyDocument=...) with a trust policy whose "
        "Principal is {'Service': 'ec2.amazonaws.com'} and Action 'sts:AssumeRole'.",
        f"Attach the managed policy {INSTANCE_POLICY}: it lets the ECS agent register the instance, poll for "
        "tasks and pull images.",
        f"An EC2 instance cannot take a role directly: create the instance profile {INSTANCE_PROFILE} and "
        "add the role to it (iam.add_role_to_instance_profile).",
    ],
)
def instance_role_and_profile(ctx: CheckContext) -> Outcome:
    role = _role(ctx, INSTANCE_ROLE)
    if role is None:
        return failed(f"There is no role {INSTANCE_ROLE}.")
    if not _trusted_by(role, "ec2.amazonaws.com"):
        return failed(f"{INSTANCE_ROLE}'s trust policy does not let ec2.amazonaws.com assume it.")
    if INSTANCE_POLICY not in _attached(ctx, INSTANCE_ROLE):
        return failed(f"{INSTANCE_ROLE} does not have AmazonEC2ContainerServiceforEC2Role attached.")
    try:
        profile = ctx.client("iam").get_instance_profile(InstanceProfileName=INSTANCE_PROFILE)[
            "InstanceProfile"
        ]
    except ClientError:
        return failed(f"There is no instance profile {INSTANCE_PROFILE}.")
    if INSTANCE_ROLE not in {r["RoleName"] for r in profile.get("Roles", [])}:
        return failed(f"The instance profile {INSTANCE_PROFILE} does not hold the role {INSTANCE_ROLE}.")
    return passed(f"{INSTANCE_PROFILE} holds {INSTANCE_ROLE}, which EC2 may assume.")


@checkpoints.checkpoint(
    "instances-carry-the-profile",
    "The launch template gives its instances the instance profile, and they joined the cluster",
    points=2,
    hints=[
        f"In the launch template {LAUNCH_TEMPLATE}: IamInstanceProfile={{'Name': '{INSTANCE_PROFILE}'}} (the "
        "profile's name, not the role's), the ECS-optimized AMI and the user data that sets ECS_CLUSTER.",
        f"Create the Auto Scaling group {ASG} from it (one instance is enough) and wait until the instance "
        f"is a container instance of {CLUSTER}.",
    ],
)
def instances_carry_the_profile(ctx: CheckContext) -> Outcome:
    ec2 = ctx.client("ec2")
    try:
        versions = ec2.describe_launch_template_versions(
            LaunchTemplateName=LAUNCH_TEMPLATE, Versions=["$Latest"]
        )
    except ClientError:
        return failed(f"There is no launch template {LAUNCH_TEMPLATE}.")
    data = versions["LaunchTemplateVersions"][0].get("LaunchTemplateData", {})
    profile = data.get("IamInstanceProfile") or {}
    if profile.get("Name") != INSTANCE_PROFILE and not str(profile.get("Arn", "")).endswith(
        f"instance-profile/{INSTANCE_PROFILE}"
    ):
        return failed(
            f"{LAUNCH_TEMPLATE} does not give its instances the instance profile {INSTANCE_PROFILE}."
        )
    group = ctx.auto_scaling_group(ASG)
    if group is None:
        return failed(f"There is no Auto Scaling group {ASG}.")
    members = {i["InstanceId"] for i in group.get("Instances", [])}

    def look() -> Outcome:
        ecs = ctx.client("ecs")
        try:
            arns = ecs.list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"]
        except ClientError:
            arns = []
        joined = (
            [
                c
                for c in ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)[
                    "containerInstances"
                ]
                if c.get("ec2InstanceId") in members
            ]
            if arns
            else []
        )
        if not joined:
            message = f"No instance of {ASG} has joined {CLUSTER} yet."
            # Worth waiting for only while the group launches, or an instance is young enough for its
            # agent still to register it.
            launching = len(members) < int(group.get("DesiredCapacity") or 0)
            return settling(message) if launching or ctx.agent_may_register(members) else failed(message)
        return passed(f"{counted(len(joined), 'instance')} with {INSTANCE_PROFILE} joined {CLUSTER}.")

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "execution-role-ready",
    "The task execution role may pull images, write logs and read the service's secret",
    points=2,
    hints=[
        f"{EXECUTION_ROLE} is trusted by ecs-tasks.amazonaws.com (not ecs.amazonaws.com, not ec2.amazonaws.com).",
        f"Attach {EXECUTION_POLICY}: ecr:GetAuthorizationToken, ecr:BatchGetImage, logs:CreateLogStream, "
        "logs:PutLogEvents and a few more.",
        f"Reading a secret is not in the managed policy: add an inline policy allowing secretsmanager:GetSecretValue "
        f"on the ARN of {SECRET} (only that secret).",
    ],
)
def execution_role_ready(ctx: CheckContext) -> Outcome:
    role = _role(ctx, EXECUTION_ROLE)
    if role is None:
        return failed(f"There is no role {EXECUTION_ROLE}.")
    if not _trusted_by(role, "ecs-tasks.amazonaws.com"):
        return failed(f"{EXECUTION_ROLE}'s trust policy does not let ecs-tasks.amazonaws.com assume it.")
    if EXECUTION_POLICY not in _attached(ctx, EXECUTION_ROLE):
        return failed(f"{EXECUTION_ROLE} does not have AmazonECSTaskExecutionRolePolicy attached.")
    for action in ("ecr:GetAuthorizationToken", "ecr:BatchGetImage", "logs:PutLogEvents"):
        if not _allows(ctx, EXECUTION_ROLE, action, "*"):
            return failed(f"{EXECUTION_ROLE} may not {action}.")
    secret = _secret_arn(ctx)
    if secret is None:
        return failed(f"The secret {SECRET} is missing (the setup cell makes it).")
    if not _allows(ctx, EXECUTION_ROLE, "secretsmanager:GetSecretValue", secret):
        return failed(
            f"{EXECUTION_ROLE} may not read the secret {SECRET} (secretsmanager:GetSecretValue on its ARN)."
        )
    if _allows(
        ctx,
        EXECUTION_ROLE,
        "secretsmanager:GetSecretValue",
        secret.rsplit(":", 1)[0] + ":someone-else-AbCdEf",
    ):
        return failed(f"{EXECUTION_ROLE} may read every secret; allow only {SECRET}'s ARN.")
    return passed(f"{EXECUTION_ROLE} pulls images, writes logs and reads {SECRET}, and no other secret.")


def _table_arn(ctx: CheckContext) -> str:
    return f"arn:aws:dynamodb:{ctx.sandbox.region}:{ctx.sandbox.account_id}:table/{TABLE}"


@checkpoints.checkpoint(
    "one-task-role-per-service",
    "Each service's task definition has a task role of its own, for its own job only",
    points=2,
    hints=[
        f"{S3_ROLE} and {DYNAMODB_ROLE} are trusted by ecs-tasks.amazonaws.com. {S3_ROLE} allows s3:PutObject on "
        f"arn:aws:s3:::<bucket>/results/*; {DYNAMODB_ROLE} allows dynamodb:PutItem on the table {TABLE}'s ARN.",
        f"Task definitions s3-writer and dynamodb-writer (EC2, memory 128, image {PROBE_IMAGE}) name their own "
        f"taskRoleArn, and both executionRoleArn={EXECUTION_ROLE}'s ARN.",
        "The probe's environment: RESULTS_TO is the service's own target, ALSO_TRY the other service's "
        "(s3://<bucket>/results/ and dynamodb://iam-lab-orders); s3-writer also gets DB_PASSWORD from the secret.",
    ],
)
def one_task_role_per_service(ctx: CheckContext) -> Outcome:
    bucket = lab_bucket(ctx.sandbox)
    object_arn = f"arn:aws:s3:::{bucket}/results/probe.json"
    for name in (S3_ROLE, DYNAMODB_ROLE):
        role = _role(ctx, name)
        if role is None:
            return failed(f"There is no role {name}.")
        if not _trusted_by(role, "ecs-tasks.amazonaws.com"):
            return failed(f"{name}'s trust policy does not let ecs-tasks.amazonaws.com assume it.")
    if not _allows(ctx, S3_ROLE, "s3:PutObject", object_arn):
        return failed(f"{S3_ROLE} may not write to s3://{bucket}/results/.")
    if _allows(ctx, S3_ROLE, "dynamodb:PutItem", _table_arn(ctx)):
        return failed(f"{S3_ROLE} may also write to {TABLE}: a task role is for its service's job only.")
    if not _allows(ctx, DYNAMODB_ROLE, "dynamodb:PutItem", _table_arn(ctx)):
        return failed(f"{DYNAMODB_ROLE} may not write to {TABLE}.")
    if _allows(ctx, DYNAMODB_ROLE, "s3:PutObject", object_arn):
        return failed(
            f"{DYNAMODB_ROLE} may also write to the bucket: a task role is for its service's job only."
        )
    execution = _role(ctx, EXECUTION_ROLE)
    for family, role_name in (("s3-writer", S3_ROLE), ("dynamodb-writer", DYNAMODB_ROLE)):
        definition = _task_definition(ctx, family)
        if definition is None:
            return failed(f"There is no task definition {family}.")
        if str(definition.get("taskRoleArn", "")).rsplit("/", 1)[-1] != role_name:
            return failed(f"{family}'s taskRoleArn is not {role_name}.")
        if execution is None or definition.get("executionRoleArn") != execution["Arn"]:
            return failed(f"{family}'s executionRoleArn is not {EXECUTION_ROLE}.")
    return passed(
        f"s3-writer runs as {S3_ROLE}, dynamodb-writer as {DYNAMODB_ROLE}; each may do only its own job."
    )


@checkpoints.checkpoint(
    "least-privilege-proved",
    "Each service's task did its own job and was denied the other service's",
    points=3,
    hints=[
        f"Create the services s3-writer and dynamodb-writer in {CLUSTER} (launchType EC2, desiredCount 1) and "
        "wait until both are stable.",
        "s3-writer's task writes results/<task id>.json to the bucket, recording the DynamoDB attempt as "
        f"AccessDeniedException; dynamodb-writer's task writes an item <task id> to {TABLE}, recording S3's AccessDenied.",
        "A task that cannot write its own results stops: read its stoppedReason and the container's reason with describe_tasks.",
    ],
)
def least_privilege_proved(ctx: CheckContext) -> Outcome:
    s3_target, dynamodb_target = targets(ctx.sandbox)

    def look() -> Outcome:
        s3_tasks, dynamodb_tasks = _service_tasks(ctx, "s3-writer"), _service_tasks(ctx, "dynamodb-writer")
        if not s3_tasks or not dynamodb_tasks:
            missing = [n for n, t in (("s3-writer", s3_tasks), ("dynamodb-writer", dynamodb_tasks)) if not t]
            message = f"No task of {' or '.join(missing)} is RUNNING."
            # A service that exists and wants a task is still starting one; no service, no task.
            services = [ctx.service(CLUSTER, name) for name in missing]
            starting = all(s is not None and int(s.get("desiredCount", 0)) > 0 for s in services)
            return settling(message) if starting else failed(message)
        s3_results = None
        for task in s3_tasks:
            key = f"results/{str(task['taskArn']).rsplit('/', 1)[-1]}.json"
            try:
                body = ctx.client("s3").get_object(Bucket=lab_bucket(ctx.sandbox), Key=key)["Body"].read()
                s3_results = json.loads(body).get("results", {})
                break
            except (ClientError, ValueError):
                continue
        if s3_results is None:
            return settling("s3-writer's task has not written its results to the bucket yet.")
        if s3_results.get(dynamodb_target) in (None, "ok"):
            return failed(f"s3-writer's task was not denied {TABLE}: its role may do more than its job.")
        dynamodb_results = None
        for task in dynamodb_tasks:
            item = (
                ctx.client("dynamodb")
                .get_item(TableName=TABLE, Key={"id": {"S": str(task["taskArn"]).rsplit("/", 1)[-1]}})
                .get("Item")
            )
            if item:
                dynamodb_results = json.loads(item["results"]["S"])
                break
        if dynamodb_results is None:
            return settling(f"dynamodb-writer's task has not written its item to {TABLE} yet.")
        if dynamodb_results.get(s3_target) in (None, "ok"):
            return failed(
                "dynamodb-writer's task was not denied the bucket: its role may do more than its job."
            )
        return passed(
            f"s3-writer: S3 ok, DynamoDB {s3_results[dynamodb_target]}; "
            f"dynamodb-writer: DynamoDB ok, S3 {dynamodb_results[s3_target]}."
        )

    return ctx.eventually(look)
