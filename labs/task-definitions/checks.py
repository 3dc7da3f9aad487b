"""Checkpoints of the task-definitions lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `td-lab` with EC2 capacity from the Auto Scaling group `td-lab-asg`
(launch template `td-lab-instances`), security groups `td-lab-alb-sg`, `td-lab-instances-sg`,
`td-lab-tasks-sg` and `td-lab-efs-sg`, the load balancer `td-lab-alb` and target group
`td-lab-dynamic-tg`, services `web-fixed`, `web-dynamic` and `efs-writers`, task definition families
`td-lab-fixed`, `td-lab-dynamic`, `td-lab-awsvpc`, `td-lab-env`, `td-lab-sidecar`, `td-lab-efs`,
`td-lab-storage` and `td-lab-ten`, the file system with creation token `td-lab-efs`, and the bucket
`labkit-td-<session id>` where the probe containers write what they saw.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.sandbox import Sandbox

checkpoints = CheckpointSet("task-definitions")


CLUSTER = "td-lab"


ASG = "td-lab-asg"


LAUNCH_TEMPLATE = "td-lab-instances"


ALB_SG, INSTANCES_SG, TASKS_SG, EFS_SG = (
    "td-lab-alb-sg",
    "td-lab-instances-sg",
    "td-lab-tasks-sg",
    "td-lab-efs-sg",
)


LOAD_BALANCER, TARGET_GROUP = "td-lab-alb", "td-lab-dynamic-tg"


INSTANCE_ROLE = "td-lab-instance-role"


TASK_ROLE = "td-lab-task-role"


EXECUTION_ROLE = "td-lab-execution-role"


ENV_FILE_KEY = "td-lab/app.env"


EFS_TOKEN = "td-lab-efs"


EPHEMERAL_FIRST, EPHEMERAL_LAST = 49153, 65535


ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def report_bucket(sandbox: Sandbox) -> str:
    """The lab's bucket: named after the sandbox session, so it is this session's in any account."""
    return f"labkit-td-{sandbox.session_id}".lower()


def _group(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    groups = ctx.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    found = [g for g in groups["SecurityGroups"] if ctx.ours(g.get("Tags"))]
    return found[0] if found else None


def _task_definition(ctx: CheckContext, family: str) -> dict[str, Any] | None:
    try:
        described = ctx.client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"])
    except ClientError:
        return None
    if not ctx.ours(described.get("tags")):
        return None
    return dict(described["taskDefinition"])


def _service(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    try:
        services = ctx.client("ecs").describe_services(cluster=CLUSTER, services=[name], include=["TAGS"])[
            "services"
        ]
    except ClientError:
        return None
    active = [s for s in services if s.get("status") == "ACTIVE" and ctx.ours(s.get("tags"))]
    return active[0] if active else None


def _tasks(ctx: CheckContext, **filters: Any) -> list[dict[str, Any]]:
    """The RUNNING tasks of the lab's cluster that match `filters` (family=..., serviceName=...)."""
    ecs = ctx.client("ecs")
    try:
        arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING", **filters)["taskArns"]
    except ClientError:
        return []
    if not arns:
        return []
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[:100], include=["TAGS"])["tasks"]
    # A service's tasks carry no tags unless it propagates them: the service itself was checked as ours.
    return [
        t
        for t in described
        if t.get("lastStatus") == "RUNNING" and ("serviceName" in filters or ctx.ours(t.get("tags")))
    ]


def _report(ctx: CheckContext, key: str) -> dict[str, Any] | None:
    """A probe container's JSON report in the lab's bucket, or None."""
    try:
        body = ctx.client("s3").get_object(Bucket=report_bucket(ctx.sandbox), Key=key)["Body"].read()
        return dict(json.loads(body))
    except (ClientError, ValueError):
        return None


#: Emulated seconds after a task reaches RUNNING in which its containers may still be writing
#: their reports.
REPORT_GRACE = 120.0


def _reporting(ctx: CheckContext, tasks: list[dict[str, Any]]) -> bool:
    """True while one of these RUNNING tasks started recently enough still to write its report."""
    return any(ctx.recent(t.get("startedAt") or t.get("createdAt"), REPORT_GRACE) for t in tasks)


def _task_id(task: dict[str, Any]) -> str:
    return str(task["taskArn"]).rsplit("/", 1)[-1]


def _container(definition: dict[str, Any], name: str) -> dict[str, Any] | None:
    for container in definition.get("containerDefinitions", []):
        if container.get("name") == name:
            return dict(container)
    return None


def _allows_from_group(group: dict[str, Any], source: str, first: int, last: int) -> bool:
    """The group lets TCP first..last in from the group `source`."""
    for permission in group.get("IpPermissions", []):
        protocol = permission.get("IpProtocol")
        if protocol not in ("tcp", "-1"):
            continue
        if protocol == "tcp" and not (
            permission.get("FromPort", 0) <= first and last <= permission.get("ToPort", -1)
        ):
            continue
        if any(pair.get("GroupId") == source for pair in permission.get("UserIdGroupPairs", [])):
            return True
    return False


def _role_documents(ctx: CheckContext, role_arn: str) -> list[dict[str, Any]]:
    """The identity policies (inline and attached) of a role, read through IAM."""
    iam = ctx.client("iam")
    name = role_arn.rsplit("/", 1)[-1]
    documents: list[dict[str, Any]] = []
    for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        documents.append(json.loads(document) if isinstance(document, str) else dict(document))
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )
        document = version["PolicyVersion"]["Document"]
        documents.append(json.loads(document) if isinstance(document, str) else dict(document))
    return documents


def _parameter_arn(ctx: CheckContext, value_from: str) -> str:
    """The ARN of an SSM parameter named by ARN or by name (as `valueFrom` may)."""
    if value_from.startswith("arn:"):
        return value_from
    name = value_from if value_from.startswith("/") else f"/{value_from}"
    return f"arn:aws:ssm:{ctx.sandbox.region}:{ctx.sandbox.account_id}:parameter{name}"


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _container_instances(ctx: CheckContext) -> list[dict[str, Any]]:
    ecs = ctx.client("ecs")
    try:
        arns = ecs.list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"]
    except ClientError:
        return []
    if not arns:
        return []
    return list(
        ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)["containerInstances"]
    )


@checkpoints.checkpoint(
    "capacity-registered",
    "Two EC2 instances of an Auto Scaling group joined the cluster",
    points=2,
    hints=[
        f"Create a launch template {LAUNCH_TEMPLATE}: the ECS-optimized AMI (SSM parameter {ECS_AMI_PARAMETER}), "
        f"t3.medium, the security group {INSTANCES_SG}, IamInstanceProfile={{'Name': '{INSTANCE_ROLE}'}}.",
        f"Its UserData (base64) writes ECS_CLUSTER={CLUSTER} to /etc/ecs/ecs.config: that is how the ECS agent knows its cluster.",
        f"Create the Auto Scaling group {ASG} from the template with MinSize=MaxSize=DesiredCapacity=2 over two subnets, "
        "then wait until list_container_instances shows two.",
    ],
)
def capacity_registered(ctx: CheckContext) -> Outcome:
    group = ctx.auto_scaling_group(ASG)
    if group is None:
        return failed(f"There is no Auto Scaling group named {ASG}.")
    members = {i["InstanceId"] for i in group.get("Instances", [])}

    def look() -> Outcome:
        joined = [c for c in _container_instances(ctx) if c.get("ec2InstanceId") in members]
        if len(joined) < 2:
            message = (
                f"{counted(len(joined), 'instance')} of {ASG} joined the cluster {CLUSTER}; it needs two. "
                f"Does the user data set ECS_CLUSTER={CLUSTER}?"
            )
            launching = len(members) < int(group.get("DesiredCapacity") or 0)
            waiting = members - {str(c.get("ec2InstanceId")) for c in joined}
            return settling(message) if launching or ctx.agent_may_register(waiting) else failed(message)
        return passed(
            f"{counted(len(joined), 'instance')} of {ASG} are ACTIVE container instances of {CLUSTER}."
        )

    return ctx.eventually(look)


def _bindings(task: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for c in task.get("containers", []) for b in c.get("networkBindings", [])]


@checkpoints.checkpoint(
    "bridge-fixed-port",
    "A bridge-mode service publishes container port 80 on host port 8080 of each instance",
    points=2,
    hints=[
        "Register td-lab-fixed with networkMode='bridge', requiresCompatibilities=['EC2'] and one container 'web' "
        "(nginxdemos/hello, cpu 128, memory 128) mapping containerPort 80 to hostPort 8080.",
        "Create the service web-fixed in td-lab with launchType='EC2' and desiredCount=2.",
        "A fixed host port can be used once per instance: two tasks need two instances (a third would fail with RESOURCE:PORTS).",
    ],
)
def bridge_fixed_port(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-fixed")
    if definition is None:
        return failed("There is no task definition td-lab-fixed.")
    if definition.get("networkMode") != "bridge":
        return failed(
            f"td-lab-fixed uses networkMode {definition.get('networkMode')!r}; this step is about 'bridge'."
        )
    web = _container(definition, "web") or {}
    if not any(
        p.get("containerPort") == 80 and p.get("hostPort") == 8080 for p in web.get("portMappings", [])
    ):
        return failed("The container 'web' of td-lab-fixed does not map containerPort 80 to hostPort 8080.")

    def look() -> Outcome:
        service = _service(ctx, "web-fixed")
        if service is None:
            return failed(f"There is no ACTIVE service web-fixed in {CLUSTER}.")
        tasks = _tasks(ctx, serviceName="web-fixed")
        if len(tasks) < 2:
            message = f"{counted(len(tasks), 'task')} of web-fixed RUNNING; the step asks for two."
            starting = ctx.tasks_starting(CLUSTER, serviceName="web-fixed")
            return settling(message) if starting else failed(message)
        if not all(any(b.get("hostPort") == 8080 for b in _bindings(t)) for t in tasks):
            return failed("Not every task of web-fixed is bound to host port 8080.")
        instances = {t.get("containerInstanceArn") for t in tasks}
        if len(instances) < len(tasks):
            return failed("Two tasks share an instance: with a fixed host port that cannot happen.")
        return passed(
            f"{counted(len(tasks), 'task')} of web-fixed each hold host port 8080 of their own instance."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "dynamic-ports-behind-alb",
    "Three tasks on dynamic host ports are healthy instance targets of the load balancer",
    points=3,
    hints=[
        "Register td-lab-dynamic like td-lab-fixed but with hostPort 0: Docker then picks a free port of the "
        f"ephemeral range {EPHEMERAL_FIRST}-{EPHEMERAL_LAST} for each task.",
        f"{INSTANCES_SG} must let the load balancer in on that whole range: TCP {EPHEMERAL_FIRST}-{EPHEMERAL_LAST} "
        f"from the group {ALB_SG} (UserIdGroupPairs), not from 0.0.0.0/0.",
        f"Create {LOAD_BALANCER} (subnets in two zones, group {ALB_SG}), the target group {TARGET_GROUP} with "
        "TargetType='instance', a listener on port 80, and the service web-dynamic (desiredCount=3) with "
        "loadBalancers=[{'targetGroupArn': ..., 'containerName': 'web', 'containerPort': 80}].",
    ],
)
def dynamic_ports_behind_alb(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-dynamic")
    if definition is None:
        return failed("There is no task definition td-lab-dynamic.")
    web = _container(definition, "web") or {}
    if not any(p.get("containerPort") == 80 and not p.get("hostPort") for p in web.get("portMappings", [])):
        return failed(
            "The container 'web' of td-lab-dynamic does not map containerPort 80 to hostPort 0 (dynamic)."
        )
    instances_sg, alb_sg = _group(ctx, INSTANCES_SG), _group(ctx, ALB_SG)
    if instances_sg is None or alb_sg is None:
        return failed(f"The security groups {INSTANCES_SG} and {ALB_SG} are missing.")
    if not _allows_from_group(instances_sg, alb_sg["GroupId"], EPHEMERAL_FIRST, EPHEMERAL_LAST):
        return failed(
            f"{INSTANCES_SG} does not let {ALB_SG} in on TCP {EPHEMERAL_FIRST}-{EPHEMERAL_LAST}: the load balancer "
            "could not reach the dynamic ports."
        )
    elbv2 = ctx.client("elbv2")
    try:
        group = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]
    except ClientError:
        return failed(f"There is no target group {TARGET_GROUP}.")
    if group.get("TargetType") != "instance":
        return failed(
            f"{TARGET_GROUP} has TargetType {group.get('TargetType')!r}; bridge-mode tasks register as 'instance'."
        )

    def look() -> Outcome:
        service = _service(ctx, "web-dynamic")
        if service is None:
            return failed(f"There is no ACTIVE service web-dynamic in {CLUSTER}.")
        if not any(
            lb.get("targetGroupArn") == group["TargetGroupArn"] for lb in service.get("loadBalancers", [])
        ):
            return failed(f"web-dynamic is not attached to {TARGET_GROUP}.")
        health = elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
            "TargetHealthDescriptions"
        ]
        healthy = [h["Target"] for h in health if h["TargetHealth"]["State"] == "healthy"]
        if len(healthy) < 3:
            message = f"{len(healthy)} of 3 targets of {TARGET_GROUP} are healthy so far."
            # Targets in `initial`, or tasks still starting, may yet make three.
            initial = any(h["TargetHealth"]["State"] == "initial" for h in health)
            starting = initial or ctx.tasks_starting(CLUSTER, serviceName="web-dynamic")
            return settling(message) if starting else failed(message)
        ports = sorted(int(t["Port"]) for t in healthy)
        if not all(EPHEMERAL_FIRST <= p <= EPHEMERAL_LAST for p in ports):
            return failed(f"The targets' ports {ports} are not all in the ephemeral range.")
        if len({t["Id"] for t in healthy}) == len(healthy):
            return failed("Each instance holds one task; with three tasks on two instances one holds two.")
        return passed(f"Three healthy targets on {len({t['Id'] for t in healthy})} instances, ports {ports}.")

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "awsvpc-task-running",
    "A Fargate task in awsvpc mode runs with its own network interface and no host port",
    points=2,
    hints=[
        "Register td-lab-awsvpc with requiresCompatibilities=['FARGATE'], networkMode='awsvpc', cpu '256', memory '512' "
        "and a container 'web' (nginxdemos/hello) with portMappings=[{'containerPort': 80}]: no hostPort at all.",
        f"Run it: ecs.run_task(cluster='{CLUSTER}', taskDefinition='td-lab-awsvpc', launchType='FARGATE', "
        f"networkConfiguration={{'awsvpcConfiguration': {{'subnets': [...], 'securityGroups': [{TASKS_SG}'s id]}}}}).",
    ],
)
def awsvpc_task_running(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-awsvpc")
    if definition is None:
        return failed("There is no task definition td-lab-awsvpc.")
    if definition.get("networkMode") != "awsvpc":
        return failed(f"td-lab-awsvpc uses networkMode {definition.get('networkMode')!r}, not 'awsvpc'.")
    web = _container(definition, "web") or {}
    mappings = web.get("portMappings", [])
    if not any(p.get("containerPort") == 80 for p in mappings):
        return failed("The container 'web' of td-lab-awsvpc does not map containerPort 80.")

    def look() -> Outcome:
        tasks = [t for t in _tasks(ctx, family="td-lab-awsvpc") if t.get("launchType") == "FARGATE"]
        if not tasks:
            message = "No Fargate task of td-lab-awsvpc is RUNNING."
            starting = ctx.tasks_starting(CLUSTER, family="td-lab-awsvpc")
            return settling(message) if starting else failed(message)
        details = {
            d["name"]: d["value"]
            for a in tasks[0].get("attachments", [])
            if a.get("type") == "ElasticNetworkInterface"
            for d in a.get("details", [])
        }
        if not details.get("privateIPv4Address"):
            return failed("The task has no network interface of its own.")
        return passed(
            f"Task {_task_id(tasks[0])} listens on {details['privateIPv4Address']}:80, its own address."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "environment-from-four-sources",
    "A container received a plain variable, an SSM parameter, a Secrets Manager secret and an S3 environment file",
    points=3,
    hints=[
        "In td-lab-env's container 'app' (image public.ecr.aws/labkit/env-report): environment GREETING=hello and "
        "REPORT_BUCKET=<the lab's bucket>; secrets=[{'name': 'COLOUR', 'valueFrom': <the parameter's ARN>}, "
        "{'name': 'API_KEY', 'valueFrom': <the secret's ARN>}]; environmentFiles=[{'value': "
        f"'arn:aws:s3:::<bucket>/{ENV_FILE_KEY}', 'type': 's3'}}].",
        f"secrets and environmentFiles are fetched by ECS before the container starts, with the task *execution* role: "
        f"{EXECUTION_ROLE} (trusted by ecs-tasks.amazonaws.com) needs ssm:GetParameters, secretsmanager:GetSecretValue "
        "and s3:GetObject on exactly those resources, besides AmazonECSTaskExecutionRolePolicy.",
        f"The container writes its report with the task role {TASK_ROLE} (taskRoleArn); run the task on Fargate and "
        "wait for reports/<task id>/app.json in the bucket.",
    ],
)
def environment_from_four_sources(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-env")
    if definition is None:
        return failed("There is no task definition td-lab-env.")
    app = _container(definition, "app")
    if app is None:
        return failed("td-lab-env has no container named 'app'.")
    plain = {e["name"]: e.get("value", "") for e in app.get("environment", [])}
    secrets = {s["name"]: s.get("valueFrom", "") for s in app.get("secrets", [])}
    files = [f.get("value", "") for f in app.get("environmentFiles", [])]
    if "GREETING" not in plain:
        return failed("The container has no plain environment variable GREETING.")
    from_ssm = {n: v for n, v in secrets.items() if ":secretsmanager:" not in v}
    from_secrets_manager = {n: v for n, v in secrets.items() if ":secretsmanager:" in v}
    if not from_ssm or not from_secrets_manager:
        return failed(
            "secrets needs one entry from SSM Parameter Store and one from Secrets Manager (valueFrom ARNs)."
        )
    if not files:
        return failed("The container has no environmentFiles entry (an S3 object ARN, type 's3').")
    role = definition.get("executionRoleArn")
    if not role:
        return failed("td-lab-env has no executionRoleArn: ECS could not fetch the secrets or the file.")
    from labkit.sandbox.simulator.workloads import policy_allows

    try:
        documents = _role_documents(ctx, str(role))
    except ClientError:
        return failed(f"The execution role {role} does not exist.")
    for action, resource in [
        *[("ssm:GetParameters", _parameter_arn(ctx, v)) for v in from_ssm.values()],
        *[
            ("secretsmanager:GetSecretValue", ":".join(v.split(":")[:7]))
            for v in from_secrets_manager.values()
        ],
        *[("s3:GetObject", v) for v in files],
    ]:
        if policy_allows(documents, action, resource) is not True:
            return failed(f"The execution role is not allowed {action} on {resource}.")
    expected: dict[str, str] = {"GREETING": plain["GREETING"]}
    for name, value_from in from_ssm.items():
        parameter = value_from.split(":parameter", 1)[1] if value_from.startswith("arn:") else value_from
        try:
            expected[name] = ctx.client("ssm").get_parameter(Name=parameter, WithDecryption=True)[
                "Parameter"
            ]["Value"]
        except ClientError:
            return failed(f"The parameter {parameter} does not exist.")
    for name, value_from in from_secrets_manager.items():
        try:
            expected[name] = ctx.client("secretsmanager").get_secret_value(
                SecretId=":".join(value_from.split(":")[:7])
            )["SecretString"]
        except ClientError:
            return failed(f"The secret {value_from} does not exist.")
    from labkit.sandbox.simulator.workloads import parse_env_file

    for arn in files:
        bucket, _, key = arn.removeprefix("arn:aws:s3:::").partition("/")
        try:
            text = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except ClientError:
            return failed(f"The environment file {arn} does not exist.")
        from_file = parse_env_file(text)
        if not from_file:
            return failed(f"The environment file {arn} sets no VARIABLE=VALUE line.")
        expected.update({k: v for k, v in from_file.items() if k not in plain and k not in secrets})

    def look() -> Outcome:
        tasks = _tasks(ctx, family="td-lab-env")
        if not tasks:
            message = "No task of td-lab-env is RUNNING."
            return settling(message) if ctx.tasks_starting(CLUSTER, family="td-lab-env") else failed(message)
        for task in tasks:
            report = _report(ctx, f"reports/{_task_id(task)}/app.json")
            if report is None:
                continue
            seen = report.get("variables", {})
            wrong = [n for n, v in expected.items() if seen.get(n, {}).get("sha256") != _sha(v)]
            if wrong:
                return failed(f"The container did not receive the right value of {', '.join(sorted(wrong))}.")
            return passed(
                f"Task {_task_id(task)} received {', '.join(sorted(expected))} from the four sources."
            )
        return (settling if _reporting(ctx, tasks) else failed)(
            "No running task of td-lab-env has written its report yet (does it have the task role?)."
        )

    return ctx.eventually(look)


def _files_seen(report: dict[str, Any] | None) -> dict[str, str]:
    return dict((report or {}).get("files", {}))


@checkpoints.checkpoint(
    "sidecar-reads-shared-volume",
    "A sidecar container reads the file the app container writes to a shared volume",
    points=2,
    hints=[
        "td-lab-sidecar has volumes=[{'name': 'shared'}] (a bind mount that lives as long as the task) and two "
        "containers that mount it with mountPoints=[{'sourceVolume': 'shared', 'containerPath': ...}].",
        "Container 'app': public.ecr.aws/labkit/file-writer with WRITE_DIR=/data, mounted at /data. Container "
        "'sidecar': public.ecr.aws/labkit/dir-report with WATCH_DIR=/shared and REPORT_BUCKET, mounted at /shared "
        "(readOnly=True: it only reads) and essential=False.",
        f"The sidecar writes what it reads with the task role {TASK_ROLE}: run one task and wait for "
        "reports/<task id>/sidecar.json.",
    ],
)
def sidecar_reads_shared_volume(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-sidecar")
    if definition is None:
        return failed("There is no task definition td-lab-sidecar.")
    app, sidecar = _container(definition, "app"), _container(definition, "sidecar")
    if app is None or sidecar is None:
        return failed("td-lab-sidecar needs two containers named 'app' and 'sidecar'.")
    volumes = {v.get("name") for v in definition.get("volumes", [])}
    shared = {m.get("sourceVolume") for m in app.get("mountPoints", [])} & {
        m.get("sourceVolume") for m in sidecar.get("mountPoints", [])
    }
    if not shared & volumes:
        return failed("No volume of td-lab-sidecar is mounted by both containers.")

    def look() -> Outcome:
        tasks = _tasks(ctx, family="td-lab-sidecar")
        if not tasks:
            message = "No task of td-lab-sidecar is RUNNING."
            return (
                settling(message) if ctx.tasks_starting(CLUSTER, family="td-lab-sidecar") else failed(message)
            )
        for task in tasks:
            files = _files_seen(_report(ctx, f"reports/{_task_id(task)}/sidecar.json"))
            written = files.get(f"{_task_id(task)}.txt", "")
            if "container app" in written:
                return passed(f"The sidecar of task {_task_id(task)} read: {written.splitlines()[0]!r}.")
        return (settling if _reporting(ctx, tasks) else failed)(
            "No sidecar has reported the app container's file yet (reports/<task id>/sidecar.json)."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "efs-shared-across-zones",
    "Tasks in two Availability Zones share one EFS file system",
    points=3,
    hints=[
        f"efs.create_file_system(CreationToken='{EFS_TOKEN}'), then a mount target in each of your two subnets with "
        f"the group {EFS_SG} (it lets NFS, TCP 2049, in from {TASKS_SG}).",
        "td-lab-efs: like td-lab-sidecar, but the volume is {'name': 'shared-efs', 'efsVolumeConfiguration': "
        "{'fileSystemId': ..., 'rootDirectory': '/', 'transitEncryption': 'ENABLED'}}, mounted at /mnt/efs in both containers.",
        "Create the service efs-writers (FARGATE, desiredCount=2, both subnets, the group "
        f"{TASKS_SG}): its two tasks land in two zones, and each one's report lists both tasks' files.",
    ],
)
def efs_shared_across_zones(ctx: CheckContext) -> Outcome:
    efs = ctx.client("efs")
    systems = [
        f
        for f in efs.describe_file_systems(CreationToken=EFS_TOKEN)["FileSystems"]
        if ctx.ours(f.get("Tags"))
    ]
    if not systems:
        return failed(f"There is no EFS file system with the creation token {EFS_TOKEN}.")
    fs = systems[0]["FileSystemId"]
    zones = {
        m.get("AvailabilityZoneName") for m in efs.describe_mount_targets(FileSystemId=fs)["MountTargets"]
    }
    if len(zones) < 2:
        return failed(
            f"{fs} has mount targets in {counted(len(zones), 'Availability Zone')}; tasks in two zones need two."
        )
    definition = _task_definition(ctx, "td-lab-efs")
    if definition is None:
        return failed("There is no task definition td-lab-efs.")
    if not any(
        (v.get("efsVolumeConfiguration") or {}).get("fileSystemId") == fs
        for v in definition.get("volumes", [])
    ):
        return failed(f"td-lab-efs has no volume with efsVolumeConfiguration for {fs}.")

    def look() -> Outcome:
        if _service(ctx, "efs-writers") is None:
            return failed(f"There is no ACTIVE service efs-writers in {CLUSTER}.")
        tasks = _tasks(ctx, serviceName="efs-writers")
        task_zones = {t.get("availabilityZone") for t in tasks}
        if len(tasks) < 2 or len(task_zones) < 2:
            message = (
                f"efs-writers runs {counted(len(tasks), 'task')} in {counted(len(task_zones), 'zone')}; "
                "the step needs two in two."
            )
            starting = ctx.tasks_starting(CLUSTER, serviceName="efs-writers")
            return settling(message) if starting else failed(message)
        names = {f"{_task_id(t)}.txt" for t in tasks}
        for task in tasks:
            seen = set(_files_seen(_report(ctx, f"reports/{_task_id(task)}/sidecar.json")))
            if not names <= seen:
                return (settling if _reporting(ctx, tasks) else failed)(
                    f"Task {_task_id(task)} does not see every task's file on the file system yet."
                )
        return passed(
            f"{counted(len(tasks), 'task')} in {', '.join(sorted(str(z) for z in task_zones))} see each other's files on {fs}."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "ephemeral-storage-sized",
    "A Fargate task definition asks for more ephemeral storage than the 20 GiB default",
    points=1,
    hints=[
        "Register td-lab-storage (FARGATE, awsvpc, cpu '256', memory '512', one container) with "
        "ephemeralStorage={'sizeInGiB': 50}.",
        "sizeInGiB goes from 21 to 200: 20 is what a Fargate task gets anyway, and ECS refuses values outside the range.",
    ],
)
def ephemeral_storage_sized(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-storage")
    if definition is None:
        return failed("There is no task definition td-lab-storage.")
    size = (definition.get("ephemeralStorage") or {}).get("sizeInGiB")
    if size is None:
        return failed("td-lab-storage has no ephemeralStorage: its tasks get the default 20 GiB.")
    if not 21 <= int(size) <= 200:
        return failed(f"td-lab-storage asks for {size} GiB; Fargate offers 21 to 200.")
    return passed(f"Tasks of td-lab-storage get {size} GiB of ephemeral storage.")


@checkpoints.checkpoint(
    "ten-containers",
    "A task definition holds ten containers, the most ECS allows",
    points=1,
    hints=[
        "Register td-lab-ten with ten container definitions (names c1 to c10, any image, memory 64 each); "
        "bridge mode on EC2 is fine.",
        "An eleventh container makes RegisterTaskDefinition fail with ClientException 'Too many containers.'.",
    ],
)
def ten_containers(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx, "td-lab-ten")
    if definition is None:
        return failed("There is no task definition td-lab-ten.")
    count = len(definition.get("containerDefinitions", []))
    if count != 10:
        return failed(f"td-lab-ten holds {counted(count, 'container')}; the step asks for the maximum, ten.")
    return passed("td-lab-ten holds ten containers.")
