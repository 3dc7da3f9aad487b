"""Each failure the sandbox produces is told in AWS's words (`labkit.sandbox.simulator.reasons`).

Stopped tasks (`stoppedReason`, `stopCode`, the container's `reason` and `exitCode`), service
events and target health, read through boto3 (and the AWS CLI for one of each kind).
"""

from __future__ import annotations

import json
from typing import Any

from labkit.dataplane import health
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.simulator import reasons
from tests.sandbox.simulator.conftest import AwsCli, Stack
from tests.sandbox.simulator.test_execution_role import TRUST


def _stopped(stack: Stack, name: str = "web") -> list[dict[str, Any]]:
    return stack.tasks(name, desired_status="STOPPED")


def _events(stack: Stack, name: str = "web") -> list[str]:
    return [e["message"] for e in stack.service(name)["events"]]


def _register(stack: Stack, family: str, container: dict[str, Any], **task: Any) -> None:
    stack.ecs.register_task_definition(
        family=family, requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        containerDefinitions=[{"name": "hello", "portMappings": [{"containerPort": 80}], **container}], **task,
    )  # fmt: skip


def test_health_descriptions_are_one_set_of_words() -> None:
    """The data plane's health check results use the descriptions reasons.py lists."""
    assert health.TIMEOUT in reasons.HEALTH_DESCRIPTIONS
    assert reasons.HEALTH_DESCRIPTIONS[health.TIMEOUT] == "Request timed out"
    assert reasons.HEALTH_DESCRIPTIONS[health.FAILED_HEALTH_CHECKS] == "Health checks failed"
    assert reasons.response_code_mismatch(404) == "Health checks failed with these codes: [404]"


def test_a_steady_service_says_so(stack: Stack) -> None:
    stack.create_service()
    stack.sandbox.advance(180)
    assert _events(stack)[0] == "(service web) has reached a steady state."
    assert _events(stack)[0] == reasons.service_steady("web")


def test_a_health_check_path_that_answers_404(stack: Stack) -> None:
    """Target health, the two service events and the stopped task, each worded as AWS words it."""
    stack.elb.modify_target_group(TargetGroupArn=stack.target_group_arn, HealthCheckPath="/health")
    _register(stack, "nginx", {"image": "nginx:1.27"})
    stack.create_service(taskDefinition="nginx")
    first: dict[str, Any] = {}
    for _ in range(60):  # one second at a time until the first health check has answered
        stack.sandbox.advance(1)
        described = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)
        if described["TargetHealthDescriptions"]:
            first = described["TargetHealthDescriptions"][0]["TargetHealth"]
            if first.get("Reason") != "Elb.RegistrationInProgress":
                break
    # After one failed check (of the two the unhealthy threshold needs) the target is still initial.
    assert first == {
        "State": "initial",
        "Reason": "Elb.InitialHealthChecking",
        "Description": "Initial health checks in progress",
    }
    stack.sandbox.advance(15)
    target = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)[
        "TargetHealthDescriptions"
    ][0]
    assert target["TargetHealth"] == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [404]",
    }
    stack.sandbox.advance(30)
    stopped = _stopped(stack)
    assert stopped, _events(stack)
    task_id = stopped[0]["taskArn"].rsplit("/", 1)[-1]
    tg = stack.target_group_arn
    assert stopped[0]["stoppedReason"] == f"Task failed ELB health checks in (target-group {tg})"
    assert stopped[0]["stopCode"] == "ServiceSchedulerInitiated"
    events = _events(stack)
    failed = f"(service web) (task {task_id}) failed ELB health checks in (target-group {tg})"
    unhealthy = (
        f"(service web) (task {task_id}) (port 80) is unhealthy in (target-group {tg}) due to "
        "(reason Health checks failed with these codes: [404])."
    )
    assert failed in events
    assert unhealthy in events
    # Newest first: the unhealthy notice came before the scheduler stopped the task.
    assert events.index(failed) < events.index(unhealthy)


def test_a_target_on_a_port_nothing_listens_on_refuses_the_health_check(stack: Stack) -> None:
    """The load balancer's packets reach the task (nothing filters them) but nothing listens on 8080:
    the connection is refused, an error establishing the connection, so `Target.FailedHealthChecks`
    (ELB API reference, TargetHealth); `Target.Timeout` is for checks that get no answer at all."""
    stack.create_service()
    stack.sandbox.advance(120)
    address = stack.tasks()[0]["attachments"][0]["details"]
    ip = next(d["value"] for d in address if d["name"] == "privateIPv4Address")
    stack.elb.register_targets(TargetGroupArn=stack.target_group_arn, Targets=[{"Id": ip, "Port": 8080}])
    stack.sandbox.advance(60)
    described = stack.elb.describe_target_health(
        TargetGroupArn=stack.target_group_arn, Targets=[{"Id": ip, "Port": 8080}]
    )["TargetHealthDescriptions"][0]["TargetHealth"]
    assert described == {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
        "Description": "Health checks failed",
    }


def test_a_draining_target(stack: Stack) -> None:
    stack.create_service()
    stack.sandbox.advance(120)
    stack.ecs.update_service(cluster="course", service="web", desiredCount=0)
    stack.sandbox.advance(5)
    described = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)[
        "TargetHealthDescriptions"
    ]
    assert described[0]["TargetHealth"] == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }


def test_an_image_that_does_not_exist(stack: Stack) -> None:
    _register(stack, "missing", {"image": "labkit-nobody/not-there:1"})
    stack.create_service(taskDefinition="missing", load_balanced=False)
    stack.sandbox.advance(60)
    task = _stopped(stack)[0]
    expected = reasons.unknown_public_image("docker.io/labkit-nobody/not-there:1")
    assert task["stoppedReason"] == expected
    assert expected.startswith(
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        "docker.io/labkit-nobody/not-there:1: pull access denied, repository does not exist or may require "
        "authorization"
    )
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["containers"][0]["reason"] == expected


def test_an_essential_container_that_exits(stack: Stack) -> None:
    _register(stack, "crash", {"image": "busybox", "command": ["sh", "-c", "sleep 5; exit 2"]})
    stack.create_service(taskDefinition="crash", load_balanced=False)
    stack.sandbox.advance(60)
    task = _stopped(stack)[0]
    assert task["stoppedReason"] == "Essential container in task exited" == reasons.ESSENTIAL_CONTAINER_EXITED
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 2


def test_a_container_over_its_hard_memory_limit_is_killed(stack: Stack) -> None:
    """400 MiB of demand on a container limited to 256 MiB: exit 137, OutOfMemoryError."""
    _register(stack, "small", {"image": "nginxdemos/hello", "memory": 256})
    stack.create_service(taskDefinition="small", load_balanced=False)
    stack.sandbox.advance(60)
    assert stack.tasks()[0]["lastStatus"] == "RUNNING"
    stack.sandbox.set_load(cluster="course", service="web", memory=400)
    stack.sandbox.advance(70)
    task = _stopped(stack)[0]
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stopCode"] == "EssentialContainerExited"
    container = task["containers"][0]
    assert container["exitCode"] == 137 == reasons.OOM_EXIT_CODE
    assert (
        container["reason"]
        == "OutOfMemoryError: Container killed due to memory usage"
        == reasons.OUT_OF_MEMORY
    )


def test_a_load_under_the_hard_limit_kills_nothing(stack: Stack) -> None:
    _register(stack, "small", {"image": "nginxdemos/hello", "memory": 256})
    stack.create_service(taskDefinition="small", desired=2, load_balanced=False)
    stack.sandbox.advance(60)
    # 400 MiB shared by two tasks: 200 each, under 256.
    stack.sandbox.set_load(cluster="course", service="web", memory=400)
    stack.sandbox.advance(180)
    assert _stopped(stack) == []


def test_an_ec2_service_with_no_container_instance(stack: Stack) -> None:
    stack.ecs.register_task_definition(
        family="ec2", containerDefinitions=[{"name": "hello", "image": "nginxdemos/hello", "memory": 128}]
    )
    stack.ecs.create_service(
        cluster="course", serviceName="onec2", taskDefinition="ec2", desiredCount=1, launchType="EC2"
    )
    stack.sandbox.advance(30)
    assert _events(stack, "onec2")[0] == (
        "(service onec2) was unable to place a task because no container instance met all of its requirements. "
        "Reason: No Container Instances were found in your cluster."
    )


def test_placement_wordings() -> None:
    """The closest-matching form, for each resource AWS names (the service event messages page)."""
    arn = "arn:aws:ecs:us-east-1:123456789012:container-instance/course/0123abcd"
    assert reasons.placement_problem([{"reason": "RESOURCE:CPU", "arn": arn}]) == (
        "no container instance met all of its requirements. The closest matching (container-instance 0123abcd) "
        "has insufficient CPU units available. For more information, see the Troubleshooting section."
    )
    memory = reasons.placement_problem([{"reason": "RESOURCE:MEMORY", "arn": arn}])
    assert memory is not None
    assert "(container-instance 0123abcd) has insufficient memory available." in memory
    assert reasons.placement_problem([]) is None


def test_secrets_that_cannot_be_fetched(sandbox: EmbeddedSandbox) -> None:
    iam = sandbox.client("iam")
    role = iam.create_role(RoleName="execution", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="execution", PolicyName="p", PolicyDocument=json.dumps(policy))
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="app", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=role,
        containerDefinitions=[{
            "name": "app", "image": "public.ecr.aws/labkit/job",
            "secrets": [{"name": "PASSWORD", "valueFrom": "/missing/password"}],
        }],
    )  # fmt: skip
    subnet = sandbox.client("ec2").describe_subnets()["Subnets"][0]["SubnetId"]
    arn = ecs.run_task(
        cluster="c", taskDefinition="app", launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )["tasks"][0]["taskArn"]  # fmt: skip
    sandbox.advance(60)
    task = ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith(
        "ResourceInitializationError: unable to pull secrets or registry auth: "
    )
    assert task["stoppedReason"] == reasons.secrets_failed(
        task["stoppedReason"].split("registry auth: ", 1)[1]
    )


def test_the_words_through_the_aws_cli(aws_cli: AwsCli) -> None:
    """An essential container's exit and a steady state, as `aws ecs describe-tasks`/`describe-services` print them."""
    subnet = aws_cli("ec2", "describe-subnets")["Subnets"][0]["SubnetId"]
    aws_cli("ecs", "create-cluster", "--cluster-name", "c")
    container = {"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 5; exit 1"]}
    aws_cli("ecs", "register-task-definition", "--family", "crash", "--requires-compatibilities", "FARGATE", "--network-mode", "awsvpc", "--cpu", "256", "--memory", "512", "--container-definitions", json.dumps([container]))  # fmt: skip
    arn = aws_cli("ecs", "run-task", "--cluster", "c", "--task-definition", "crash", "--launch-type", "FARGATE", "--network-configuration", f"awsvpcConfiguration={{subnets=[{subnet}]}}")["tasks"][0]["taskArn"]  # fmt: skip
    aws_cli.advance(60)
    task = aws_cli("ecs", "describe-tasks", "--cluster", "c", "--tasks", arn)["tasks"][0]
    assert (task["stoppedReason"], task["stopCode"]) == (
        reasons.ESSENTIAL_CONTAINER_EXITED,
        "EssentialContainerExited",
    )
    assert task["containers"][0]["exitCode"] == 1
