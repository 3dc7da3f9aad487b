"""An image ECS cannot pull, or an execution role that may not pull it or open its log stream, stops the task.

AWS's words: `CannotPullContainerError: pull image manifest has been retried N time(s): failed to resolve
ref ...` (the ECS troubleshooting guide, "Cannot pull container image errors"); `ResourceInitializationError:
unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr
registry auth: ...` (aws/aws-app-mesh-examples#413); `ResourceInitializationError: failed to validate logger
args: create stream has been retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException:
...` (doctorray117/minecraft-ondemand#12).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from labkit.images import build_oci_image
from labkit.registry.client import push_layout_via_api
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.simulator.conftest import AwsCli
from tests.sandbox.simulator.test_execution_role import TRUST

PULL = ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOGS = ["logs:CreateLogStream", "logs:PutLogEvents"]
MANAGED = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def _awslogs(group: str, **options: str) -> dict[str, Any]:
    base = {"awslogs-group": group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ecs"}
    return {"logDriver": "awslogs", "options": {**base, **options}}


def _policy(actions: list[str]) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    )


def _role(sandbox: EmbeddedSandbox, policy: str | None = None, managed: str | None = None) -> str:
    """An execution role named `execution` with an inline `policy` and/or an attached `managed` policy."""
    iam = sandbox.client("iam")
    arn = str(iam.create_role(RoleName="execution", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"])
    if policy is not None:
        iam.put_role_policy(RoleName="execution", PolicyName="p", PolicyDocument=policy)
    if managed is not None:
        iam.attach_role_policy(RoleName="execution", PolicyArn=managed)
    return arn


def _start(sandbox: EmbeddedSandbox, container: dict[str, Any], role: str | None) -> dict[str, Any]:
    """Run a Fargate task of one container, advance 120 s and describe it."""
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[container], **({"executionRoleArn": role} if role else {}),
    )  # fmt: skip
    subnet = sandbox.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    arn = ecs.run_task(
        cluster="c", taskDefinition="web", launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )["tasks"][0]["taskArn"]  # fmt: skip
    sandbox.advance(120)
    return dict(ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0])


def _run(
    sandbox: EmbeddedSandbox, image: str, actions: list[str] | None, *, log_group: str | None = None
) -> dict[str, Any]:
    """Run a Fargate task of `image`; `actions` the execution role may do (None: no execution role)."""
    container: dict[str, Any] = {"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}
    if log_group is not None:
        sandbox.client("logs").create_log_group(logGroupName=log_group)
        container["logConfiguration"] = _awslogs(log_group)
    role = None if actions is None else _role(sandbox, _policy(actions) if actions else None)
    return _start(sandbox, container, role)


def _cli_start(aws: AwsCli, container: dict[str, Any], actions: list[str] | None) -> dict[str, Any]:
    """The same through the AWS CLI; `actions` as in `_run` ([] is a role with no policy)."""
    role: list[str] = []
    if actions is not None:
        arn = aws("iam", "create-role", "--role-name", "execution", "--assume-role-policy-document", TRUST)[
            "Role"
        ]["Arn"]
        if actions:
            aws("iam", "put-role-policy", "--role-name", "execution", "--policy-name", "p", "--policy-document", _policy(actions))  # fmt: skip
        role = ["--execution-role-arn", arn]
    subnet = aws("ec2", "describe-subnets")["Subnets"][0]["SubnetId"]
    aws("ecs", "create-cluster", "--cluster-name", "c")
    aws("ecs", "register-task-definition", "--family", "web", "--requires-compatibilities", "FARGATE", "--network-mode", "awsvpc", "--cpu", "256", "--memory", "512", *role, "--container-definitions", json.dumps([container]))  # fmt: skip
    arn = aws("ecs", "run-task", "--cluster", "c", "--task-definition", "web", "--launch-type", "FARGATE", "--network-configuration", f"awsvpcConfiguration={{subnets=[{subnet}]}}")["tasks"][0]["taskArn"]  # fmt: skip
    aws.advance(120)
    return dict(aws("ecs", "describe-tasks", "--cluster", "c", "--tasks", arn)["tasks"][0])


@pytest.fixture
def layout(tmp_path: Any) -> str:
    return str(build_oci_image(tmp_path / "image", files={"index.html": "hi"}, tag="1").path)


def _pushed(sandbox: EmbeddedSandbox, layout: str, repository: str = "web", tag: str = "1") -> str:
    ecr = sandbox.client("ecr")
    uri = str(ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"])
    push_layout_via_api(ecr, layout, repository, tag, source_tag="1")
    return uri


def test_a_pushed_ecr_image_runs(sandbox: EmbeddedSandbox, layout: str) -> None:
    uri = _pushed(sandbox, layout)
    task = _run(sandbox, f"{uri}:1", PULL + LOGS, log_group="/ecs/web")
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")


def test_a_tag_never_pushed_stops_with_cannot_pull(sandbox: EmbeddedSandbox, layout: str) -> None:
    uri = _pushed(sandbox, layout)
    task = _run(sandbox, f"{uri}:2", PULL)
    reason = (
        f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        f"{uri}:2: {uri}:2: not found"
    )
    assert (task["lastStatus"], task["stopCode"], task["stoppedReason"]) == (
        "STOPPED",
        "TaskFailedToStart",
        reason,
    )
    assert task["containers"][0]["reason"] == reason


def test_a_repository_that_does_not_exist_and_a_wrong_digest_stop_the_task(sandbox: EmbeddedSandbox) -> None:
    account = sandbox.client("sts").get_caller_identity()["Account"]
    image = f"{account}.dkr.ecr.us-east-1.amazonaws.com/nothing-here:latest"
    task = _run(sandbox, image, PULL)
    assert task["stoppedReason"].startswith(f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {image}")  # fmt: skip


def test_a_wrong_digest_stops_the_task(sandbox: EmbeddedSandbox, layout: str) -> None:
    uri = _pushed(sandbox, layout)
    image = f"{uri}@sha256:{'0' * 64}"
    task = _run(sandbox, image, PULL)
    assert task["stoppedReason"].endswith(f"{image}: not found")


def test_an_execution_role_without_ecr_auth_stops_the_task(sandbox: EmbeddedSandbox, layout: str) -> None:
    uri = _pushed(sandbox, layout)
    task = _run(sandbox, f"{uri}:1", ["ecr:BatchGetImage"])
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): "
        "AccessDeniedException: User: arn:aws:sts::"
    )
    assert "is not authorized to perform: ecr:GetAuthorizationToken on resource: *" in task["stoppedReason"]


def test_an_execution_role_without_batch_get_image_is_forbidden_the_manifest(
    sandbox: EmbeddedSandbox, layout: str
) -> None:
    uri = _pushed(sandbox, layout)
    task = _run(sandbox, f"{uri}:1", ["ecr:GetAuthorizationToken"])
    host = uri.split("/", 1)[0]
    assert task["stoppedReason"] == (
        f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        f"{uri}:1: pulling from host {host} failed with status code [manifests 1]: 403 Forbidden"
    )


def test_an_execution_role_without_log_stream_rights_stops_the_task(sandbox: EmbeddedSandbox) -> None:
    task = _run(sandbox, "nginx", PULL, log_group="/ecs/web")
    assert task["stopCode"] == "TaskFailedToStart"
    reason = task["stoppedReason"]
    assert reason.startswith(
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: AccessDeniedException: User: arn:aws:sts::"
    )
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    assert "logs:CreateLogStream on resource: arn:aws:logs:us-east-1:" in reason
    assert f":log-group:/ecs/web:log-stream:ecs/web/{task_id}" in reason


def test_the_managed_execution_policy_pulls_and_logs(sandbox: EmbeddedSandbox, layout: str) -> None:
    """AmazonECSTaskExecutionRolePolicy, as the labs attach it, is enough for a pushed image with awslogs."""
    uri = _pushed(sandbox, layout)
    sandbox.client("logs").create_log_group(logGroupName="/ecs/web")
    container = {"name": "web", "image": f"{uri}:1", "logConfiguration": _awslogs("/ecs/web")}
    task = _start(sandbox, container, _role(sandbox, managed=MANAGED))
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")


def test_an_explicit_deny_wins_over_the_managed_allow(sandbox: EmbeddedSandbox, layout: str) -> None:
    """A learner cannot pull by attaching the managed policy and hoping a Deny is ignored."""
    uri = _pushed(sandbox, layout)
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "ecr:BatchGetImage", "Resource": "*"}],
    }
    role = _role(sandbox, json.dumps(deny), managed=MANAGED)
    task = _start(sandbox, {"name": "web", "image": f"{uri}:1"}, role)
    assert task["stoppedReason"].endswith("403 Forbidden")


def test_public_images_still_run_without_an_execution_role(sandbox: EmbeddedSandbox) -> None:
    task = _run(sandbox, "nginxdemos/hello", None)
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")


def test_an_unpushed_tag_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """The AWS CLI shows the stopped task as AWS does: TaskFailedToStart, CannotPullContainerError."""
    uri = aws_cli("ecr", "create-repository", "--repository-name", "web")["repository"]["repositoryUri"]
    task = _cli_start(aws_cli, {"name": "web", "image": f"{uri}:v1"}, PULL)
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"] == (
        f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        f"{uri}:v1: {uri}:v1: not found"
    )


def test_an_execution_role_without_ecr_auth_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """An execution role with no policy: GetAuthorizationToken is refused before the manifest is asked for."""
    uri = aws_cli("ecr", "create-repository", "--repository-name", "web")["repository"]["repositoryUri"]
    task = _cli_start(aws_cli, {"name": "web", "image": f"{uri}:v1"}, [])
    assert task["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth")  # fmt: skip


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (
            "nginxx",
            "failed to resolve ref docker.io/library/nginxx:latest: pull access denied, repository does not exist "
            "or may require authorization: server message: insufficient_scope: authorization failed",
        ),
        (
            "my-team/private-app:2.0",
            "failed to resolve ref docker.io/my-team/private-app:2.0: pull access denied, repository does not "
            "exist or may require authorization: server message: insufficient_scope: authorization failed",
        ),
        (
            "public.ecr.aws/nobody/nothing:1",
            "failed to resolve ref public.ecr.aws/nobody/nothing:1: public.ecr.aws/nobody/nothing:1: not found",
        ),
        ("ghcr.io/someone/app", "failed to resolve ref ghcr.io/someone/app: ghcr.io/someone/app: not found"),
    ],
)
def test_a_public_image_the_sandbox_does_not_know_stops_the_task(
    sandbox: EmbeddedSandbox, image: str, reason: str
) -> None:
    task = _run(sandbox, image, None)
    assert task["stopCode"] == "TaskFailedToStart"
    assert (
        task["stoppedReason"]
        == f"CannotPullContainerError: pull image manifest has been retried 1 time(s): {reason}"
    )
    assert task["containers"][0]["reason"] == task["stoppedReason"]


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "httpd:2.4",
        "public.ecr.aws/docker/library/httpd:latest",
        "busybox",
        "docker.io/library/alpine:3.20",
        "public.ecr.aws/labkit/job:1",
        "amazon/amazon-ecs-sample",
    ],
)
def test_known_public_images_start(sandbox: EmbeddedSandbox, image: str) -> None:
    """They reach RUNNING (the job workload then exits by itself, as its image does)."""
    task = _run(sandbox, image, None)
    assert "startedAt" in task, task.get("stoppedReason")
    assert task.get("stopCode") != "TaskFailedToStart"


def test_a_stand_in_registered_by_the_learner_makes_its_image_known(sandbox: EmbeddedSandbox) -> None:
    from labkit.dataplane.images import default_stand_in, register_image, unregister_image

    register_image("my-team/*", default_stand_in)
    try:
        task = _run(sandbox, "my-team/private-app:2.0", None)
    finally:
        unregister_image("my-team/*")
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")


def test_an_unknown_public_image_through_the_aws_cli(aws_cli: AwsCli) -> None:
    task = _cli_start(aws_cli, {"name": "web", "image": "nginx-typo:latest"}, None)
    assert task["stopCode"] == "TaskFailedToStart"
    assert (
        "failed to resolve ref docker.io/library/nginx-typo:latest: pull access denied"
        in task["stoppedReason"]
    )
    assert task["containers"][0]["reason"] == task["stoppedReason"]


def _run_logging(sandbox: EmbeddedSandbox, actions: list[str], group: str, **options: str) -> dict[str, Any]:
    container = {"name": "web", "image": "nginx", "logConfiguration": _awslogs(group, **options)}
    return _start(sandbox, container, _role(sandbox, _policy(actions)))


def test_a_log_group_that_does_not_exist_stops_the_task(sandbox: EmbeddedSandbox) -> None:
    task = _run_logging(sandbox, LOGS, "/ecs/missing")
    assert task["stoppedReason"] == (
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not "
        "exist. : exit status 1"
    )


def test_awslogs_create_group_needs_create_log_group(sandbox: EmbeddedSandbox) -> None:
    task = _run_logging(sandbox, LOGS, "/ecs/new", **{"awslogs-create-group": "true"})
    assert "failed to create Cloudwatch log group: AccessDeniedException" in task["stoppedReason"]
    assert "logs:CreateLogGroup on resource: arn:aws:logs:us-east-1:" in task["stoppedReason"]
    assert sandbox.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/new")["logGroups"] == []


def test_a_running_task_has_its_log_stream_and_group(sandbox: EmbeddedSandbox) -> None:
    """With logs:CreateLogGroup the group is created; the stream is prefix/container/task-id, as on AWS."""
    actions = [*LOGS, "logs:CreateLogGroup"]
    task = _run_logging(sandbox, actions, "/ecs/new", **{"awslogs-create-group": "true"})
    assert task["lastStatus"] == "RUNNING", task.get("stoppedReason")
    streams = sandbox.client("logs").describe_log_streams(logGroupName="/ecs/new")["logStreams"]
    assert [s["logStreamName"] for s in streams] == [f"ecs/web/{task['taskArn'].rsplit('/', 1)[-1]}"]


def test_a_missing_log_group_through_the_aws_cli(aws_cli: AwsCli) -> None:
    container = {"name": "web", "image": "nginx", "logConfiguration": _awslogs("/ecs/web")}
    task = _cli_start(aws_cli, container, LOGS)
    assert task["stopCode"] == "TaskFailedToStart"
    assert "ResourceNotFoundException: The specified log group does not exist." in task["stoppedReason"]
