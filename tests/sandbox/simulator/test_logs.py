"""Containers with the awslogs driver write real lines to CloudWatch Logs, on the sandbox clock.

Read back through boto3 and the AWS CLI (`get-log-events`, `filter-log-events`,
`describe-log-streams`): the stand-ins' start-up lines and nginx access lines (health checks and
requests through the load balancer), a command's `echo` output at the second it printed it, a
workload's lines; an execution role without `logs:PutLogEvents` leaves the stream empty.
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.request
from typing import Any

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.simulator import reasons
from tests.sandbox.simulator.conftest import AwsCli, Stack
from tests.sandbox.simulator.test_execution_role import TRUST

MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
#: The official nginx image's `main` log format: combined, then "$http_x_forwarded_for".
ACCESS = re.compile(
    r'^(?P<addr>\S+) - - \[(?P<time>\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] "(?P<request>[^"]*)" '
    r'(?P<status>\d{3}) (?P<bytes>\d+) "(?P<referer>[^"]*)" "(?P<agent>[^"]*)" "(?P<xff>[^"]*)"$'
)


def _awslogs(group: str, prefix: str = "ecs", **options: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": group,
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": prefix,
            **options,
        },
    }


def _role(sandbox: EmbeddedSandbox, actions: list[str] | None = None) -> str:
    """An execution role: the managed policy, or an inline policy of exactly `actions`."""
    iam = sandbox.client("iam")
    arn = str(iam.create_role(RoleName="execution", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])
    if actions is None:
        iam.attach_role_policy(RoleName="execution", PolicyArn=MANAGED)
    else:
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_role_policy(RoleName="execution", PolicyName="p", PolicyDocument=json.dumps(policy))
    return arn


def _run(
    sandbox: EmbeddedSandbox, container: dict[str, Any], role: str, seconds: float = 60
) -> dict[str, Any]:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="job", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=role, containerDefinitions=[container],
    )  # fmt: skip
    subnet = sandbox.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    arn = ecs.run_task(
        cluster="c", taskDefinition="job", launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )["tasks"][0]["taskArn"]  # fmt: skip
    sandbox.advance(seconds)
    return dict(ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0])


def _events(sandbox: EmbeddedSandbox, group: str, stream: str) -> list[dict[str, Any]]:
    answer = sandbox.client("logs").get_log_events(
        logGroupName=group, logStreamName=stream, startFromHead=True
    )
    return list(answer["events"])


def _hello_service(stack: Stack) -> str:
    """The hello task definition with awslogs and an execution role, as a load-balanced service; its log group."""
    sandbox = stack.sandbox
    sandbox.client("logs").create_log_group(logGroupName="/ecs/hello")
    stack.ecs.register_task_definition(
        family="hello-logged", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=_role(sandbox),
        containerDefinitions=[{
            "name": "hello", "image": "nginxdemos/hello", "portMappings": [{"containerPort": 80}],
            "logConfiguration": _awslogs("/ecs/hello"),
        }],
    )  # fmt: skip
    stack.create_service(taskDefinition="hello-logged")
    sandbox.advance(120)
    return "/ecs/hello"


def test_a_load_balanced_nginx_logs_start_up_health_checks_and_requests(stack: Stack) -> None:
    group = _hello_service(stack)
    task = stack.tasks()[0]
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    streams = stack.sandbox.client("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"ecs/hello/{task_id}"]
    events = _events(stack.sandbox, group, f"ecs/hello/{task_id}")
    messages = [e["message"] for e in events]
    assert (
        messages[0]
        == "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
    )
    assert any(m.endswith("[notice] 1#1: nginx/1.27.4") for m in messages)
    # The start-up lines carry the instant the container started, on the sandbox clock.
    assert events[0]["timestamp"] == int(task["startedAt"].timestamp() * 1000)
    checks = [ACCESS.match(m) for m in messages if "ELB-HealthChecker/2.0" in m]
    assert checks
    assert all(c is not None for c in checks)
    # One line per check, every HealthCheckIntervalSeconds (10 s here), however far the clock jumped.
    stamps = [e["timestamp"] for e in events if "ELB-HealthChecker/2.0" in e["message"]]
    assert len(stamps) >= 8
    assert {b - a for a, b in itertools.pairwise(stamps)} == {10_000}
    first = checks[0]
    assert first is not None
    assert (first["request"], first["status"], first["xff"]) == ("GET / HTTP/1.1", "200", "-")
    # A request through the load balancer: its line carries X-Forwarded-For, once the sandbox is asked.
    with urllib.request.urlopen(
        urllib.request.Request(stack.url + "/from-the-test", headers={"User-Agent": "test/1"})
    ) as page:
        assert page.status == 200
    served = [
        m
        for m in (e["message"] for e in _events(stack.sandbox, group, f"ecs/hello/{task_id}"))
        if "test/1" in m
    ]
    assert len(served) == 1
    line = ACCESS.match(served[0])
    assert line is not None
    assert line["request"] == "GET /from-the-test HTTP/1.1"
    assert line["status"] == "200"
    assert line["xff"] == "127.0.0.1"


def test_a_health_check_path_nginx_does_not_have_logs_a_404_and_an_error(stack: Stack) -> None:
    """The official nginx image: the access line says 404, the error log says which file was missing."""
    sandbox = stack.sandbox
    stack.elb.modify_target_group(TargetGroupArn=stack.target_group_arn, HealthCheckPath="/health")
    sandbox.client("logs").create_log_group(logGroupName="/ecs/nginx")
    stack.ecs.register_task_definition(
        family="nginx", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=_role(sandbox),
        containerDefinitions=[{
            "name": "hello", "image": "nginx:1.27", "portMappings": [{"containerPort": 80}],
            "logConfiguration": _awslogs("/ecs/nginx"),
        }],
    )  # fmt: skip
    stack.create_service(taskDefinition="nginx")
    sandbox.advance(90)
    logs = sandbox.client("logs")
    found = logs.filter_log_events(logGroupName="/ecs/nginx", filterPattern="ELB-HealthChecker")["events"]
    assert found
    assert all('"GET /health HTTP/1.1" 404 ' in e["message"] for e in found)
    errors = logs.filter_log_events(logGroupName="/ecs/nginx", filterPattern="error")["events"]
    missing = [
        e for e in errors if 'open() "/usr/share/nginx/html/health" failed (2: No such file' in e["message"]
    ]
    # One error line per check, as one access line, however far the clock jumped.
    assert len(missing) == len(found)
    assert len(found) >= 3


def test_a_crashing_command_leaves_its_last_lines_at_the_seconds_it_printed_them(
    sandbox: EmbeddedSandbox,
) -> None:
    sandbox.client("logs").create_log_group(logGroupName="/ecs/job")
    container = {
        "name": "app", "image": "busybox", "logConfiguration": _awslogs("/ecs/job"),
        "command": ["sh", "-c", "echo starting; sleep 5; echo cannot reach the database; exit 3"],
    }  # fmt: skip
    task = _run(sandbox, container, _role(sandbox))
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 3
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    events = _events(sandbox, "/ecs/job", f"ecs/app/{task_id}")
    assert [e["message"] for e in events] == ["starting", "cannot reach the database"]
    started = int(task["startedAt"].timestamp() * 1000)
    assert [e["timestamp"] - started for e in events] == [0, 5000]


def test_a_workload_logs_what_it_prints(sandbox: EmbeddedSandbox) -> None:
    sandbox.client("logs").create_log_group(logGroupName="/ecs/job")
    container = {
        "name": "job", "image": "public.ecr.aws/labkit/job", "logConfiguration": _awslogs("/ecs/job", "batch"),
        "environment": [{"name": "JOB_SECONDS", "value": "10"}, {"name": "EXIT_CODE", "value": "0"}],
    }  # fmt: skip
    task = _run(sandbox, container, _role(sandbox), seconds=120)
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    messages = [e["message"] for e in _events(sandbox, "/ecs/job", f"batch/job/{task_id}")]
    assert "job done, exit code 0" in messages


def test_awslogs_create_group_makes_the_group(sandbox: EmbeddedSandbox) -> None:
    container = {
        "name": "app", "image": "busybox", "command": ["sh", "-c", "echo hi; sleep 600"],
        "logConfiguration": _awslogs("/ecs/new", **{"awslogs-create-group": "true"}),
    }  # fmt: skip
    role = _role(sandbox, ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"])
    task = _run(sandbox, container, role)
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert [e["message"] for e in _events(sandbox, "/ecs/new", f"ecs/app/{task_id}")] == ["hi"]


def test_a_missing_group_stops_the_task_as_aws_does(sandbox: EmbeddedSandbox) -> None:
    container = {"name": "app", "image": "busybox", "logConfiguration": _awslogs("/ecs/none")}
    task = _run(sandbox, container, _role(sandbox))
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == reasons.log_group_missing()
    assert task["stoppedReason"] == (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
        "exist. : exit status 1"
    )


def test_without_put_log_events_the_task_runs_and_its_lines_are_lost(sandbox: EmbeddedSandbox) -> None:
    """The driver opens the stream (CreateLogStream) but every upload is refused: the stream stays empty."""
    sandbox.client("logs").create_log_group(logGroupName="/ecs/job")
    container = {
        "name": "app", "image": "busybox", "command": ["sh", "-c", "echo hi; sleep 600"],
        "logConfiguration": _awslogs("/ecs/job"),
    }  # fmt: skip
    task = _run(sandbox, container, _role(sandbox, ["logs:CreateLogStream"]))
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert _events(sandbox, "/ecs/job", f"ecs/app/{task_id}") == []


def test_a_container_without_awslogs_writes_nothing(sandbox: EmbeddedSandbox) -> None:
    container = {"name": "app", "image": "busybox", "command": ["sh", "-c", "echo hi; sleep 600"]}
    task = _run(sandbox, container, _role(sandbox))
    assert task["lastStatus"] == "RUNNING"
    assert sandbox.client("logs").describe_log_groups()["logGroups"] == []


def test_logs_through_the_aws_cli(aws_cli: AwsCli) -> None:
    arn = aws_cli("iam", "create-role", "--role-name", "execution", "--assume-role-policy-document", TRUST)[
        "Role"
    ]["Arn"]
    aws_cli("iam", "attach-role-policy", "--role-name", "execution", "--policy-arn", MANAGED)
    aws_cli("logs", "create-log-group", "--log-group-name", "/ecs/cli")
    container = {
        "name": "app", "image": "busybox", "command": ["sh", "-c", "echo hello from the sandbox; sleep 600"],
        "logConfiguration": _awslogs("/ecs/cli"),
    }  # fmt: skip
    subnet = aws_cli("ec2", "describe-subnets")["Subnets"][0]["SubnetId"]
    aws_cli("ecs", "create-cluster", "--cluster-name", "c")
    aws_cli("ecs", "register-task-definition", "--family", "cli", "--requires-compatibilities", "FARGATE", "--network-mode", "awsvpc", "--cpu", "256", "--memory", "512", "--execution-role-arn", arn, "--container-definitions", json.dumps([container]))  # fmt: skip
    task_arn = aws_cli("ecs", "run-task", "--cluster", "c", "--task-definition", "cli", "--launch-type", "FARGATE", "--network-configuration", f"awsvpcConfiguration={{subnets=[{subnet}]}}")["tasks"][0]["taskArn"]  # fmt: skip
    aws_cli.advance(60)
    stream = f"ecs/app/{task_arn.rsplit('/', 1)[-1]}"
    streams = aws_cli("logs", "describe-log-streams", "--log-group-name", "/ecs/cli")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [stream]
    got = aws_cli("logs", "get-log-events", "--log-group-name", "/ecs/cli", "--log-stream-name", stream)
    assert [e["message"] for e in got["events"]] == ["hello from the sandbox"]
    found = aws_cli(
        "logs", "filter-log-events", "--log-group-name", "/ecs/cli", "--filter-pattern", "sandbox"
    )
    assert [(e["logStreamName"], e["message"]) for e in found["events"]] == [
        (stream, "hello from the sandbox")
    ]
