"""Reference steps of the task-definitions lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from labkit import steps
from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import (
    ALB_SG,
    ASG,
    CLUSTER,
    ECS_AMI_PARAMETER,
    EFS_SG,
    EFS_TOKEN,
    ENV_FILE_KEY,
    EPHEMERAL_FIRST,
    EPHEMERAL_LAST,
    EXECUTION_ROLE,
    INSTANCE_ROLE,
    INSTANCES_SG,
    LAUNCH_TEMPLATE,
    LOAD_BALANCER,
    TARGET_GROUP,
    TASK_ROLE,
    TASKS_SG,
    report_bucket,
)

reference = ReferenceSteps("task-definitions")


PARAMETER = "/td-lab/colour"


SECRET = "td-lab/api-key"


ENV_IMAGE = "public.ecr.aws/labkit/env-report"


WRITER_IMAGE = "public.ecr.aws/labkit/file-writer"


REPORTER_IMAGE = "public.ecr.aws/labkit/dir-report"


ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _two_subnets(ec2: Any) -> list[str]:
    """Two subnets of the default VPC in different zones (zones in name order)."""
    return steps.zone_subnets(ec2, steps.default_vpc(ec2))[:2]


def _ensure_group(ec2: Any, name: str, description: str) -> str:
    return steps.security_group(ec2, name, description, steps.default_vpc(ec2))


def _ensure_role(iam: Any, name: str, trust: dict[str, Any]) -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError:
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


def setup(sandbox: Sandbox) -> dict[str, str]:
    """What the lab's setup cell makes (idempotent): cluster, groups, bucket, the instance and task roles."""
    ec2, ecs, iam, s3 = (sandbox.client(s) for s in ("ec2", "ecs", "iam", "s3"))
    if not [c for c in ecs.describe_clusters(clusters=[CLUSTER])["clusters"] if c["status"] == "ACTIVE"]:
        ecs.create_cluster(clusterName=CLUSTER)
    ids = {
        "alb_sg": _ensure_group(ec2, ALB_SG, "td-lab: HTTP from anywhere to the load balancer"),
        "instances_sg": _ensure_group(ec2, INSTANCES_SG, "td-lab: the container instances"),
        "tasks_sg": _ensure_group(ec2, TASKS_SG, "td-lab: awsvpc tasks"),
        "efs_sg": _ensure_group(ec2, EFS_SG, "td-lab: NFS from the tasks to the file system"),
    }
    steps.allow_ingress(
        ec2,
        ids["alb_sg"],
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    )
    steps.allow_ingress(
        ec2,
        ids["efs_sg"],
        {
            "IpProtocol": "tcp",
            "FromPort": 2049,
            "ToPort": 2049,
            "UserIdGroupPairs": [{"GroupId": ids["tasks_sg"]}],
        },
    )
    bucket = report_bucket(sandbox)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        if sandbox.region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": sandbox.region})
    # The container instances' role: what the ECS agent needs to register and pull images.
    _ensure_role(iam, INSTANCE_ROLE, EC2_TRUST)
    iam.attach_role_policy(
        RoleName=INSTANCE_ROLE,
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    )
    try:
        iam.get_instance_profile(InstanceProfileName=INSTANCE_ROLE)
    except ClientError:
        iam.create_instance_profile(InstanceProfileName=INSTANCE_ROLE)
        iam.add_role_to_instance_profile(InstanceProfileName=INSTANCE_ROLE, RoleName=INSTANCE_ROLE)
    # The probe containers' task role: they may write their reports, nothing else.
    ids["task_role"] = _ensure_role(iam, TASK_ROLE, ECS_TASKS_TRUST)
    iam.put_role_policy(
        RoleName=TASK_ROLE,
        PolicyName="write-reports",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/reports/*",
                    }
                ],
            }
        ),
    )
    ids["bucket"] = bucket
    return ids


def _fargate_run(sandbox: Sandbox, family: str, count: int = 1) -> list[str]:
    ids = setup(sandbox)
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    started = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=family,
        launchType="FARGATE",
        count=count,
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": _two_subnets(ec2),
                "securityGroups": [ids["tasks_sg"]],
                "assignPublicIp": "ENABLED",
            }
        },
    )
    return [str(t["taskArn"]) for t in started["tasks"]]


def _s3_has(sandbox: Sandbox, key: str, test: Callable[[dict[str, Any]], bool] = lambda _: True) -> bool:
    try:
        body = sandbox.client("s3").get_object(Bucket=report_bucket(sandbox), Key=key)["Body"].read()
    except ClientError:
        return False
    return test(json.loads(body))


@reference.step("capacity-registered")
def make_capacity(sandbox: Sandbox) -> None:
    ids = setup(sandbox)
    ec2, ssm, autoscaling = sandbox.client("ec2"), sandbox.client("ssm"), sandbox.client("autoscaling")
    ami = ssm.get_parameter(Name=ECS_AMI_PARAMETER)["Parameter"]["Value"]
    user_data = base64.b64encode(
        f"#!/bin/bash\necho ECS_CLUSTER={CLUSTER} >> /etc/ecs/ecs.config\n".encode()
    ).decode()
    ec2.create_launch_template(
        LaunchTemplateName=LAUNCH_TEMPLATE,
        LaunchTemplateData={
            "ImageId": ami,
            "InstanceType": "t3.medium",
            "SecurityGroupIds": [ids["instances_sg"]],
            "IamInstanceProfile": {"Name": INSTANCE_ROLE},
            "UserData": user_data,
        },
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG,
        LaunchTemplate={"LaunchTemplateName": LAUNCH_TEMPLATE, "Version": "$Latest"},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(_two_subnets(ec2)),
    )
    ecs = sandbox.client("ecs")
    sandbox.wait_until(
        lambda: (
            len(ecs.list_container_instances(cluster=CLUSTER, status="ACTIVE")["containerInstanceArns"]) >= 2
        ),
        "two container instances registering",
        limit=1800,
        step=5,
    )


def _register_bridge(sandbox: Sandbox, family: str, host_port: int) -> None:
    sandbox.client("ecs").register_task_definition(
        family=family,
        networkMode="bridge",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {
                "name": "web",
                "image": "nginxdemos/hello",
                "cpu": 128,
                "memory": 128,
                "essential": True,
                "portMappings": [{"containerPort": 80, "hostPort": host_port, "protocol": "tcp"}],
            }
        ],
    )


def _wait_service(sandbox: Sandbox, name: str, count: int) -> None:
    ecs = sandbox.client("ecs")

    def steady() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
        return bool(service["runningCount"] == count and len(service["deployments"]) == 1)

    sandbox.wait_until(steady, f"{name} running {count} tasks", limit=1800, step=5)


@reference.step("bridge-fixed-port")
def make_fixed_service(sandbox: Sandbox) -> None:
    _register_bridge(sandbox, "td-lab-fixed", 8080)
    sandbox.client("ecs").create_service(
        cluster=CLUSTER,
        serviceName="web-fixed",
        taskDefinition="td-lab-fixed",
        desiredCount=2,
        launchType="EC2",
    )
    _wait_service(sandbox, "web-fixed", 2)


@reference.step("dynamic-ports-behind-alb")
def make_dynamic_service(sandbox: Sandbox) -> None:
    ids = setup(sandbox)
    ec2, ecs, elbv2 = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    _register_bridge(sandbox, "td-lab-dynamic", 0)
    steps.allow_ingress(
        ec2,
        ids["instances_sg"],
        {
            "IpProtocol": "tcp",
            "FromPort": EPHEMERAL_FIRST,
            "ToPort": EPHEMERAL_LAST,
            "UserIdGroupPairs": [{"GroupId": ids["alb_sg"]}],
        },
    )
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER, Subnets=_two_subnets(ec2), SecurityGroups=[ids["alb_sg"]], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elbv2.create_target_group(
        Name=TARGET_GROUP,
        Protocol="HTTP",
        Port=80,
        VpcId=steps.default_vpc(ec2),
        TargetType="instance",
        HealthCheckPath="/",
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="web-dynamic",
        taskDefinition="td-lab-dynamic",
        desiredCount=3,
        launchType="EC2",
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 80}],
    )

    def healthy() -> bool:
        health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return sum(1 for h in health if h["TargetHealth"]["State"] == "healthy") >= 3

    sandbox.wait_until(healthy, "three healthy targets", limit=1800, step=5)


@reference.step("awsvpc-task-running")
def run_awsvpc_task(sandbox: Sandbox) -> None:
    sandbox.client("ecs").register_task_definition(
        family="td-lab-awsvpc",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "web",
                "image": "nginxdemos/hello",
                "essential": True,
                "portMappings": [{"containerPort": 80}],
            }
        ],
    )
    arns = _fargate_run(sandbox, "td-lab-awsvpc")
    ecs = sandbox.client("ecs")
    sandbox.wait_until(
        lambda: ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"][0]["lastStatus"] == "RUNNING",
        "the awsvpc task running",
        limit=1800,
        step=5,
    )


@reference.step("environment-from-four-sources")
def run_env_task(sandbox: Sandbox) -> None:
    import secrets as random

    ids = setup(sandbox)
    ssm, secretsmanager, s3, iam = (sandbox.client(s) for s in ("ssm", "secretsmanager", "s3", "iam"))
    ssm.put_parameter(Name=PARAMETER, Value="teal", Type="String")
    parameter_arn = ssm.get_parameter(Name=PARAMETER)["Parameter"]["ARN"]
    secret_arn = secretsmanager.create_secret(Name=SECRET, SecretString=random.token_urlsafe(24))["ARN"]
    s3.put_object(
        Bucket=ids["bucket"], Key=ENV_FILE_KEY, Body=b"# settings of the app\nMODE=production\nWORKERS=4\n"
    )
    file_arn = f"arn:aws:s3:::{ids['bucket']}/{ENV_FILE_KEY}"
    role = _ensure_role(iam, EXECUTION_ROLE, ECS_TASKS_TRUST)
    iam.attach_role_policy(
        RoleName=EXECUTION_ROLE,
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    iam.put_role_policy(
        RoleName=EXECUTION_ROLE,
        PolicyName="read-configuration",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": parameter_arn},
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn},
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": file_arn},
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetBucketLocation",
                        "Resource": f"arn:aws:s3:::{ids['bucket']}",
                    },
                ],
            }
        ),
    )
    sandbox.client("ecs").register_task_definition(
        family="td-lab-env",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=role,
        taskRoleArn=ids["task_role"],
        containerDefinitions=[
            {
                "name": "app",
                "image": ENV_IMAGE,
                "essential": True,
                "environment": [
                    {"name": "GREETING", "value": "hello"},
                    {"name": "REPORT_BUCKET", "value": ids["bucket"]},
                ],
                "secrets": [
                    {"name": "COLOUR", "valueFrom": parameter_arn},
                    {"name": "API_KEY", "valueFrom": secret_arn},
                ],
                "environmentFiles": [{"value": file_arn, "type": "s3"}],
            }
        ],
    )
    task = _fargate_run(sandbox, "td-lab-env")[0]
    sandbox.wait_until(
        lambda: _s3_has(sandbox, f"reports/{task.rsplit('/', 1)[-1]}/app.json"),
        "the env report",
        limit=1800,
        step=5,
    )


def _writer_and_reporter(
    bucket: str, volume: str, writer_path: str, reporter_path: str
) -> list[dict[str, Any]]:
    return [
        {
            "name": "app",
            "image": WRITER_IMAGE,
            "essential": True,
            "environment": [{"name": "WRITE_DIR", "value": writer_path}],
            "mountPoints": [{"sourceVolume": volume, "containerPath": writer_path}],
        },
        {
            "name": "sidecar",
            "image": REPORTER_IMAGE,
            "essential": False,
            "environment": [
                {"name": "WATCH_DIR", "value": reporter_path},
                {"name": "REPORT_BUCKET", "value": bucket},
            ],
            "mountPoints": [{"sourceVolume": volume, "containerPath": reporter_path, "readOnly": True}],
        },
    ]


@reference.step("sidecar-reads-shared-volume")
def run_sidecar_task(sandbox: Sandbox) -> None:
    ids = setup(sandbox)
    sandbox.client("ecs").register_task_definition(
        family="td-lab-sidecar",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        taskRoleArn=ids["task_role"],
        volumes=[{"name": "shared"}],
        containerDefinitions=_writer_and_reporter(ids["bucket"], "shared", "/data", "/shared"),
    )
    task = _fargate_run(sandbox, "td-lab-sidecar")[0].rsplit("/", 1)[-1]
    sandbox.wait_until(
        lambda: _s3_has(
            sandbox, f"reports/{task}/sidecar.json", lambda r: f"{task}.txt" in r.get("files", {})
        ),
        "the sidecar's report",
        limit=1800,
        step=5,
    )


@reference.step("efs-shared-across-zones")
def make_efs_service(sandbox: Sandbox) -> None:
    ids = setup(sandbox)
    ec2, efs, ecs = sandbox.client("ec2"), sandbox.client("efs"), sandbox.client("ecs")
    fs = efs.create_file_system(CreationToken=EFS_TOKEN, Tags=[{"Key": "Name", "Value": EFS_TOKEN}])[
        "FileSystemId"
    ]
    sandbox.wait_until(
        lambda: efs.describe_file_systems(FileSystemId=fs)["FileSystems"][0]["LifeCycleState"] == "available",
        "the file system",
        limit=1800,
        step=5,
    )
    for subnet in _two_subnets(ec2):
        efs.create_mount_target(FileSystemId=fs, SubnetId=subnet, SecurityGroups=[ids["efs_sg"]])
    ecs.register_task_definition(
        family="td-lab-efs",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        taskRoleArn=ids["task_role"],
        volumes=[
            {
                "name": "shared-efs",
                "efsVolumeConfiguration": {
                    "fileSystemId": fs,
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                },
            }
        ],
        containerDefinitions=_writer_and_reporter(ids["bucket"], "shared-efs", "/mnt/efs", "/mnt/efs"),
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="efs-writers",
        taskDefinition="td-lab-efs",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": _two_subnets(ec2),
                "securityGroups": [ids["tasks_sg"]],
                "assignPublicIp": "ENABLED",
            }
        },
    )

    def both_seen() -> bool:
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName="efs-writers")["taskArns"]
        tasks = [a.rsplit("/", 1)[-1] for a in arns]
        if len(tasks) < 2:
            return False
        names = {f"{t}.txt" for t in tasks}
        return all(
            _s3_has(sandbox, f"reports/{t}/sidecar.json", lambda r: names <= set(r.get("files", {})))
            for t in tasks
        )

    sandbox.wait_until(both_seen, "both EFS tasks seeing each other's files", limit=1800, step=5)


@reference.step("ephemeral-storage-sized")
def register_storage(sandbox: Sandbox) -> None:
    sandbox.client("ecs").register_task_definition(
        family="td-lab-storage",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        ephemeralStorage={"sizeInGiB": 50},
        containerDefinitions=[{"name": "web", "image": "nginxdemos/hello", "essential": True}],
    )


@reference.step("ten-containers")
def register_ten(sandbox: Sandbox) -> None:
    sandbox.client("ecs").register_task_definition(
        family="td-lab-ten",
        requiresCompatibilities=["EC2"],
        containerDefinitions=[
            {"name": f"c{i}", "image": "public.ecr.aws/labkit/job", "memory": 64, "essential": i == 1}
            for i in range(1, 11)
        ],
    )
