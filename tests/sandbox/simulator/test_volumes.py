"""Volumes and probe workloads: sidecars share a task's volume, EFS is shared across AZs, probes report."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from labkit.sandbox.embedded import EmbeddedSandbox

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _bucket(sandbox: EmbeddedSandbox) -> str:
    """The test's bucket (named after the sandbox: bucket names are global across moto's accounts)."""
    return f"probes-{sandbox.session_id}"


def _role(sandbox: EmbeddedSandbox, name: str, actions: list[str], resources: list[str]) -> str:
    iam = sandbox.client("iam")
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    }
    iam.put_role_policy(RoleName=name, PolicyName="work", PolicyDocument=json.dumps(policy))
    return arn


def _subnets_in_two_zones(sandbox: EmbeddedSandbox) -> list[str]:
    by_zone: dict[str, str] = {}
    for subnet in sandbox.client("ec2").describe_subnets()["Subnets"]:
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return list(by_zone.values())[:2]


def _run(sandbox: EmbeddedSandbox, family: str, subnet: str, **definition: Any) -> str:
    ecs = sandbox.client("ecs")
    ecs.register_task_definition(
        family=family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        **definition,
    )
    started = ecs.run_task(
        cluster="probes",
        taskDefinition=family,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )
    assert started["failures"] == []
    return str(started["tasks"][0]["taskArn"])


def _report(sandbox: EmbeddedSandbox, key: str) -> dict[str, Any]:
    body = sandbox.client("s3").get_object(Bucket=_bucket(sandbox), Key=key)["Body"].read()
    return dict(json.loads(body))


def _setup(sandbox: EmbeddedSandbox) -> str:
    sandbox.client("s3").create_bucket(Bucket=_bucket(sandbox))
    sandbox.client("ecs").create_cluster(clusterName="probes")
    return _role(sandbox, "reporter", ["s3:PutObject"], [f"arn:aws:s3:::{_bucket(sandbox)}/*"])


def _writer(volume: str, path: str) -> dict[str, Any]:
    return {
        "name": "app",
        "image": "public.ecr.aws/labkit/file-writer",
        "environment": [{"name": "WRITE_DIR", "value": path}],
        "mountPoints": [{"sourceVolume": volume, "containerPath": path}],
    }


def _reader(bucket: str, volume: str, path: str) -> dict[str, Any]:
    return {
        "name": "sidecar",
        "image": "public.ecr.aws/labkit/dir-report",
        "environment": [{"name": "WATCH_DIR", "value": path}, {"name": "REPORT_BUCKET", "value": bucket}],
        "mountPoints": [{"sourceVolume": volume, "containerPath": path, "readOnly": True}],
    }


def test_a_sidecar_reads_what_the_app_container_writes_to_the_tasks_volume(sandbox: EmbeddedSandbox) -> None:
    """A bind-mount volume is shared by the task's containers; another task does not see it."""
    role = _setup(sandbox)
    subnet = _subnets_in_two_zones(sandbox)[0]
    definition = {
        "taskRoleArn": role,
        "volumes": [{"name": "shared"}],
        "containerDefinitions": [_writer("shared", "/data"), _reader(_bucket(sandbox), "shared", "/in")],
    }
    first = _run(sandbox, "sidecar", subnet, **definition)
    second = _run(sandbox, "sidecar", subnet, **definition)
    sandbox.advance(60)
    first_id, second_id = first.rsplit("/", 1)[-1], second.rsplit("/", 1)[-1]
    files = _report(sandbox, f"reports/{first_id}/sidecar.json")["files"]
    assert list(files) == [f"{first_id}.txt"]
    assert "written by task" in files[f"{first_id}.txt"]
    assert list(_report(sandbox, f"reports/{second_id}/sidecar.json")["files"]) == [f"{second_id}.txt"]


def test_an_efs_volume_is_shared_by_tasks_in_two_availability_zones(sandbox: EmbeddedSandbox) -> None:
    """Two tasks in two AZs mounting one file system each see both tasks' files."""
    role = _setup(sandbox)
    fs = sandbox.client("efs").create_file_system(CreationToken="shared")["FileSystemId"]
    volume = {"name": "efs", "efsVolumeConfiguration": {"fileSystemId": fs, "rootDirectory": "/app"}}
    definition = {
        "taskRoleArn": role,
        "volumes": [volume],
        "containerDefinitions": [_writer("efs", "/mnt/efs"), _reader(_bucket(sandbox), "efs", "/mnt/efs")],
    }
    tasks = [_run(sandbox, "efs", subnet, **definition) for subnet in _subnets_in_two_zones(sandbox)]
    sandbox.advance(60)
    described = sandbox.client("ecs").describe_tasks(cluster="probes", tasks=tasks)["tasks"]
    assert len({t["availabilityZone"] for t in described}) == 2
    ids = sorted(f"{t.rsplit('/', 1)[-1]}.txt" for t in tasks)
    for task in tasks:
        assert sorted(_report(sandbox, f"reports/{task.rsplit('/', 1)[-1]}/sidecar.json")["files"]) == ids


def test_env_report_hashes_plain_ssm_secrets_manager_and_file_values(sandbox: EmbeddedSandbox) -> None:
    """The report lists every variable with its value's SHA-256, never the value itself."""
    role = _setup(sandbox)
    sandbox.client("ssm").put_parameter(Name="/app/colour", Value="blue", Type="String")
    secret = sandbox.client("secretsmanager").create_secret(Name="app/db", SecretString="s3cr3t-pw")["ARN"]
    sandbox.client("s3").put_object(Bucket=_bucket(sandbox), Key="app.env", Body=b"# settings\nMODE=fast\n")
    task = _run(
        sandbox,
        "env",
        _subnets_in_two_zones(sandbox)[0],
        taskRoleArn=role,
        containerDefinitions=[
            {
                "name": "app",
                "image": "public.ecr.aws/labkit/env-report",
                "environment": [
                    {"name": "REPORT_BUCKET", "value": _bucket(sandbox)},
                    {"name": "GREETING", "value": "hi"},
                ],
                "secrets": [
                    {"name": "COLOUR", "valueFrom": "/app/colour"},
                    {"name": "DB_PASSWORD", "valueFrom": secret},
                ],
                "environmentFiles": [{"value": f"arn:aws:s3:::{_bucket(sandbox)}/app.env", "type": "s3"}],
            }
        ],
    )
    sandbox.advance(60)
    report = _report(sandbox, f"reports/{task.rsplit('/', 1)[-1]}/app.json")
    expected = {"GREETING": "hi", "COLOUR": "blue", "DB_PASSWORD": "s3cr3t-pw", "MODE": "fast"}
    for name, value in expected.items():
        assert report["variables"][name] == {
            "sha256": hashlib.sha256(value.encode()).hexdigest(),
            "length": len(value),
        }
    assert "s3cr3t-pw" not in json.dumps(report)


def test_access_probe_records_access_denied_for_what_its_role_may_not_do(sandbox: EmbeddedSandbox) -> None:
    """A task role for S3 only writes its results to S3 and records DynamoDB's AccessDeniedException."""
    role = _setup(sandbox)
    sandbox.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    task = _run(
        sandbox,
        "probe",
        _subnets_in_two_zones(sandbox)[0],
        taskRoleArn=role,
        containerDefinitions=[
            {
                "name": "probe",
                "image": "public.ecr.aws/labkit/access-probe",
                "environment": [
                    {"name": "RESULTS_TO", "value": f"s3://{_bucket(sandbox)}/probe/"},
                    {"name": "ALSO_TRY", "value": "dynamodb://orders"},
                ],
            }
        ],
    )
    sandbox.advance(60)
    report = _report(sandbox, f"probe/{task.rsplit('/', 1)[-1]}.json")
    assert report["results"] == {
        "dynamodb://orders": "AccessDeniedException",
        f"s3://{_bucket(sandbox)}/probe/": "ok",
    }
    assert sandbox.client("dynamodb").scan(TableName="orders")["Items"] == []


def test_writing_to_a_read_only_mount_exits_the_container_with_the_reason(sandbox: EmbeddedSandbox) -> None:
    """file-writer on a readOnly mount point exits 1, and describe_tasks says why."""
    role = _setup(sandbox)
    writer = _writer("shared", "/data")
    writer["mountPoints"][0]["readOnly"] = True
    task = _run(
        sandbox,
        "read-only",
        _subnets_in_two_zones(sandbox)[0],
        taskRoleArn=role,
        volumes=[{"name": "shared"}],
        containerDefinitions=[writer],
    )
    sandbox.advance(60)
    described = sandbox.client("ecs").describe_tasks(cluster="probes", tasks=[task])["tasks"][0]
    container = described["containers"][0]
    assert container["exitCode"] == 1
    assert "read-only file system" in container["reason"]
    assert described["desiredStatus"] == "STOPPED"
