"""Workloads: the task's process, its environment, its task role, its exit, on the sandbox clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from labkit.dataplane.workloads import (
    WorkloadContext,
    available_workloads,
    register_workload,
    unregister_workload,
    workload_for,
)
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.simulator.workloads import parse_env_file, policy_allows
from tests.sandbox.simulator.event_stack import EventStack, event_stack

SEEN: dict[str, Any] = {}


def _record(ctx: WorkloadContext) -> int:
    SEEN["environment"] = dict(ctx.environment)
    SEEN["command"] = list(ctx.command)
    return 0


def _call_aws(ctx: WorkloadContext) -> int:
    calls = json.loads(ctx.require("CALLS"))
    results = []
    for service, operation, params in calls:
        try:
            getattr(ctx.client(service), operation)(**params)
            results.append("ok")
        except Exception as exc:  # noqa: BLE001 - the test reads what the workload saw
            code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
            results.append(code)
    SEEN["results"] = results
    return 0


def _crash(ctx: WorkloadContext) -> int:
    raise RuntimeError("the input is corrupt")


@pytest.fixture
def stack(sandbox: EmbeddedSandbox) -> Iterator[EventStack]:
    register_workload("example.com/test/record", _record)
    register_workload("example.com/test/call-aws", _call_aws)
    register_workload("example.com/test/crash", _crash)
    SEEN.clear()
    yield event_stack(sandbox)
    for name in ("example.com/test/record", "example.com/test/call-aws", "example.com/test/crash"):
        unregister_workload(name)


def test_the_registry_finds_workloads_by_image_name_without_the_tag() -> None:
    """Tags and digests do not matter; an image without a workload has none; labkit's four are there."""
    assert {
        "public.ecr.aws/labkit/s3-to-dynamodb",
        "public.ecr.aws/labkit/s3-summary",
        "public.ecr.aws/labkit/sqs-worker",
        "public.ecr.aws/labkit/job",
    } <= set(available_workloads())
    assert workload_for("public.ecr.aws/labkit/job:1") is workload_for(
        "public.ecr.aws/labkit/job@sha256:" + "a" * 64
    )
    assert workload_for("nginx:latest") is None
    with pytest.raises(ValueError, match="without tag"):
        register_workload("public.ecr.aws/labkit/job:1", _record)


def test_parse_env_file_reads_docker_env_file_lines() -> None:
    """VARIABLE=VALUE lines; comments and blank lines ignored; quotes kept; the first = splits."""
    assert parse_env_file('# comment\n\nA=1\nB=x=y\nC="q"\n  D = 2\nNOVALUE\n') == {
        "A": "1",
        "B": "x=y",
        "C": '"q"',
        "D": " 2",
    }


def test_policy_evaluation_denies_explicitly_then_allows_then_denies_by_default() -> None:
    """Explicit Deny beats Allow; wildcards match actions (any case) and resources; nothing applying is None."""
    documents = [
        {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"}]},
        {"Statement": {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"}},
    ]
    assert policy_allows(documents, "s3:getobject", "arn:aws:s3:::b/public/x") is True
    assert policy_allows(documents, "s3:GetObject", "arn:aws:s3:::b/secret/x") is False
    assert policy_allows(documents, "s3:PutObject", "arn:aws:s3:::b/x") is None


def test_secrets_environment_files_and_overrides_reach_the_environment(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """Files (later wins), then environment, then secrets (SSM and Secrets Manager, JSON keys), then overrides."""
    s3, ssm, secrets = sandbox.client("s3"), sandbox.client("ssm"), sandbox.client("secretsmanager")
    s3.create_bucket(Bucket="config")
    s3.put_object(Bucket="config", Key="base.env", Body=b"# base\nFROM_FILE=base\nSHARED=file\nLEVEL=base\n")
    s3.put_object(Bucket="config", Key="more.env", Body=b"LEVEL=more\n")
    ssm.put_parameter(Name="/app/db-host", Value="db.internal", Type="String")
    ssm.put_parameter(Name="api-key", Value="k-123", Type="SecureString")
    secret = secrets.create_secret(
        Name="db-creds", SecretString=json.dumps({"username": "app", "password": "pw"})
    )["ARN"]
    region, account = sandbox.region, sandbox.account_id
    definition = stack.task_definition(
        "record",
        "example.com/test/record:1",
        command=["run", "--once"],
        environment=[{"name": "SHARED", "value": "environment"}, {"name": "MODE", "value": "definition"}],
        environmentFiles=[
            {"type": "s3", "value": "arn:aws:s3:::config/base.env"},
            {"type": "s3", "value": "arn:aws:s3:::config/more.env"},
        ],
        secrets=[
            {"name": "DB_HOST", "valueFrom": f"arn:aws:ssm:{region}:{account}:parameter/app/db-host"},
            {"name": "API_KEY", "valueFrom": "api-key"},
            {"name": "DB_CREDS", "valueFrom": secret},
            {"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"},
        ],
    )
    stack.run_task(
        definition,
        overrides={
            "containerOverrides": [
                {
                    "name": "app",
                    "environment": [{"name": "MODE", "value": "override"}],
                    "command": ["run", "--all"],
                }
            ]
        },
    )
    [task] = stack.wait_stopped()
    assert task["containers"][0]["exitCode"] == 0
    assert SEEN["environment"] == {
        "FROM_FILE": "base",
        "SHARED": "environment",
        "LEVEL": "more",
        "MODE": "override",
        "DB_HOST": "db.internal",
        "API_KEY": "k-123",
        "DB_CREDS": json.dumps({"username": "app", "password": "pw"}),
        "DB_PASSWORD": "pw",
    }
    assert SEEN["command"] == ["run", "--all"]


def test_a_missing_secret_stops_the_task_before_it_runs(sandbox: EmbeddedSandbox, stack: EventStack) -> None:
    """A secret that does not resolve is TaskFailedToStart with ResourceInitializationError, as on AWS."""
    definition = stack.task_definition(
        "record", "example.com/test/record:1", secrets=[{"name": "X", "valueFrom": "no-such-parameter"}]
    )
    stack.run_task(definition)
    [task] = stack.wait_stopped()
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets")
    assert "startedAt" not in task  # it never ran
    assert "environment" not in SEEN


def test_the_task_role_decides_what_the_workload_may_call(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """Allowed calls succeed; others get each service's AccessDenied error; the resource counts."""
    s3, ddb = sandbox.client("s3"), sandbox.client("dynamodb")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="public/a", Body=b"a")
    s3.put_object(Bucket="data", Key="private/b", Body=b"b")
    ddb.create_table(
        TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    sqs_url = sandbox.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    topic = sandbox.client("sns").create_topic(Name="n")["TopicArn"]
    role = stack.role(
        "reader", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/public/*"}]
    )
    calls = [
        ["s3", "get_object", {"Bucket": "data", "Key": "public/a"}],
        ["s3", "get_object", {"Bucket": "data", "Key": "private/b"}],
        ["dynamodb", "put_item", {"TableName": "t", "Item": {"id": {"S": "1"}}}],
        ["sqs", "send_message", {"QueueUrl": sqs_url, "MessageBody": "x"}],
        ["sns", "publish", {"TopicArn": topic, "Message": "x"}],
    ]
    definition = stack.task_definition(
        "caller",
        "example.com/test/call-aws:1",
        role=role,
        environment=[{"name": "CALLS", "value": json.dumps(calls)}],
    )
    stack.run_task(definition)
    stack.wait_stopped()
    assert SEEN["results"] == [
        "ok",
        "AccessDenied",
        "AccessDeniedException",
        "AccessDenied",
        "AuthorizationError",
    ]
    assert ddb.scan(TableName="t")["Items"] == []


def test_s3_requests_are_authorized_as_the_iam_actions_aws_names(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """ListObjectsV2 needs s3:ListBucket and HeadObject s3:GetObject; a policy naming the API operation
    (`s3:ListObjectsV2`, not an IAM action) allows nothing, as on AWS."""
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="data")
    s3.put_object(Bucket="data", Key="a", Body=b"a")
    calls = [
        ["s3", "list_objects_v2", {"Bucket": "data"}],
        ["s3", "head_object", {"Bucket": "data", "Key": "a"}],
    ]
    environment = [{"name": "CALLS", "value": json.dumps(calls)}]
    allowed = stack.role(
        "lister",
        [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::data"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"},
        ],
    )
    stack.run_task(
        stack.task_definition("ok", "example.com/test/call-aws:1", role=allowed, environment=environment)
    )
    stack.wait_stopped()
    assert SEEN["results"] == ["ok", "ok"]
    misnamed = stack.role(
        "misnamed",
        [
            {
                "Effect": "Allow",
                "Action": ["s3:ListObjectsV2", "s3:HeadObject"],
                "Resource": "arn:aws:s3:::data*",
            }
        ],
    )
    stack.run_task(
        stack.task_definition("denied", "example.com/test/call-aws:1", role=misnamed, environment=environment)
    )
    stack.wait_stopped(count=2)
    assert SEEN["results"] == ["AccessDenied", "403"]


def test_without_a_task_role_the_workload_has_no_credentials(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """No task role: the SDK in the container finds no credentials at all."""
    sandbox.client("s3").create_bucket(Bucket="data")
    calls = [["s3", "list_objects_v2", {"Bucket": "data"}]]
    definition = stack.task_definition(
        "caller", "example.com/test/call-aws:1", environment=[{"name": "CALLS", "value": json.dumps(calls)}]
    )
    stack.run_task(definition)
    stack.wait_stopped()
    assert SEEN["results"] == ["NoCredentialsError"]


def test_an_exception_is_exit_code_1_with_the_reason(sandbox: EmbeddedSandbox, stack: EventStack) -> None:
    """The essential container exits 1, its reason names the error, and the task stops."""
    definition = stack.task_definition("crash", "example.com/test/crash:1")
    task_arn = stack.run_task(definition)
    [task] = stack.wait_stopped()
    container = task["containers"][0]
    assert (task["stopCode"], container["exitCode"]) == ("EssentialContainerExited", 1)
    assert container["reason"] == "RuntimeError: the input is corrupt"
    assert any("the input is corrupt" in line for line in stack.logs(task_arn))


def test_a_long_running_worker_stops_when_its_task_is_stopped(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """A worker polls until StopTask; it gets the stop signal, returns, and exits 0 (UserInitiated)."""
    url = sandbox.client("sqs").create_queue(QueueName="idle")["QueueUrl"]
    role = stack.role("worker", [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])
    definition = stack.task_definition(
        "worker",
        "public.ecr.aws/labkit/sqs-worker:1",
        role=role,
        environment=[{"name": "QUEUE_URL", "value": url}],
    )
    task_arn = stack.run_task(definition)
    sandbox.advance(3600)
    assert stack.task(task_arn)["lastStatus"] == "RUNNING"
    sandbox.client("ecs").stop_task(cluster="jobs", task=task_arn, reason="done for today")
    [task] = stack.wait_stopped()
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "done for today")
    assert task["containers"][0]["exitCode"] == 0
    assert stack.logs(task_arn)[-1].endswith("processed 0 messages")


def test_a_long_poll_returns_as_soon_as_a_message_is_sent(
    sandbox: EmbeddedSandbox, stack: EventStack
) -> None:
    """A worker waiting in a 20 s long poll gets a new message at once, in sandbox time."""
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName="quiet")["QueueUrl"]
    role = stack.role("poller", [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}])
    environment = [{"name": "QUEUE_URL", "value": url}, {"name": "WORK_SECONDS", "value": "5"}]
    definition = stack.task_definition(
        "poller", "public.ecr.aws/labkit/sqs-worker:1", role=role, environment=environment
    )
    task_arn = stack.run_task(definition)
    sandbox.advance(30)
    assert stack.task(task_arn)["lastStatus"] == "RUNNING"
    sandbox.advance(3)  # mid-way through a long poll
    sqs.send_message(QueueUrl=url, MessageBody="now")
    sandbox.advance(4)
    in_flight = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
    )
    assert in_flight["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"
    sandbox.advance(1)  # 5 s of work after the send: deleted
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == ("0", "0")
