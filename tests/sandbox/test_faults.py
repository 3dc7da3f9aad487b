"""Faults: each one breaks a healthy service as the misconfiguration it stands for would, and shows as AWS shows it.

A load-balanced nginx service (two Fargate tasks, chained security groups, an execution role for its
awslogs, an essential SQS worker beside it with a task role) is healthy; each test injects one fault
and reads the symptoms back through the API only: stopped tasks' reasons, service events, target
health. The learner's token can neither inject nor list faults, and nothing the API answers after an
injection names labkit or a fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from labkit.sandbox.control import ControlClient
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.faults import FAULTS, FaultError, catalogue, typo
from labkit.sandbox.moto_seam.elbv2 import PROVISIONING_SECONDS
from labkit.sandbox.server import ServerSandbox, start_server, stop_server
from labkit.sandbox.simulator.reasons import OUT_OF_MEMORY as OUT_OF_MEMORY_REASON
from tests.conftest import run_labkit

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
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
CLUSTER, SERVICE = "shop", "web"

# What the sandbox answers for each fault, as the tests below observe it; book/operating.md quotes
# these words in its table (test_the_operating_chapter_quotes_what_the_sandbox_says).
CANNOT_PULL = (
    "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref"
)
LOGGER_DENIED = (
    "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
    "failed to create Cloudwatch log stream: AccessDeniedException: "
)
EXITED = "Essential container in task exited"
MISMATCH = "Health checks failed with these codes: [404]"
TIMED_OUT = "Request timed out"
FAILED_ELB = "failed ELB health checks in (target-group "
UNPLACED = "was unable to place a task because no container instance met all of its requirements"
QUOTED = [
    CANNOT_PULL, LOGGER_DENIED, EXITED, OUT_OF_MEMORY_REASON, MISMATCH, TIMED_OUT, FAILED_ELB, UNPLACED,
    "Target.ResponseCodeMismatch", "Target.Timeout", "TaskFailedToStart", "EssentialContainerExited",
]  # fmt: skip


@dataclass
class Shop:
    sandbox: Any
    target_group_arn: str
    load_balancer_arn: str

    def client(self, name: str) -> Any:
        return self.sandbox.client(name)

    def service(self) -> dict[str, Any]:
        found: dict[str, Any] = self.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
            "services"
        ][0]
        return found

    def stopped_tasks(self) -> list[dict[str, Any]]:
        ecs = self.client("ecs")
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
        if not arns:
            return []
        tasks: list[dict[str, Any]] = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"]
        return tasks

    def target_health(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client("elbv2").describe_target_health(
            TargetGroupArn=self.target_group_arn
        )["TargetHealthDescriptions"]
        return found

    def events(self) -> list[str]:
        return [e["message"] for e in self.service()["events"]]

    def healthy(self) -> bool:
        states = [d["TargetHealth"]["State"] for d in self.target_health()]
        service = self.service()
        return (
            service["runningCount"] == 2
            and len(service["deployments"]) == 1
            and states.count("healthy") == 2
            and len(states) == 2
        )


def build_shop(sandbox: Any) -> Shop:
    """The healthy service every fault breaks."""
    ec2, elbv2, ecs, iam = (sandbox.client(n) for n in ("ec2", "elbv2", "ecs", "iam"))
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ][:2]
    alb_sg = ec2.create_security_group(GroupName="shop-alb", Description="HTTP from anywhere", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=alb_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    tasks_sg = ec2.create_security_group(GroupName="shop-tasks", Description="HTTP from the ALB", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=tasks_sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]}
        ],
    )
    lb = elbv2.create_load_balancer(
        Name="shop", Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
    )["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name="shop-web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/",
        HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
    )["TargetGroups"][0]  # fmt: skip
    elbv2.modify_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"],
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
    )
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )  # fmt: skip
    execution = iam.create_role(RoleName="shop-execution", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    iam.attach_role_policy(RoleName="shop-execution", PolicyArn=EXECUTION_POLICY)
    task_role = iam.create_role(RoleName="shop-worker", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    queue_url = sandbox.client("sqs").create_queue(QueueName="orders")["QueueUrl"]
    iam.put_role_policy(
        RoleName="shop-worker",
        PolicyName="orders",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
            }
        ),
    )
    sandbox.client("logs").create_log_group(logGroupName="/ecs/shop")
    logging = {
        "logDriver": "awslogs",
        "options": {
            "awslogs-group": "/ecs/shop",
            "awslogs-region": "us-east-1",
            "awslogs-stream-prefix": "ecs",
        },
    }
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family="shop-web", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
        executionRoleArn=execution, taskRoleArn=task_role,
        containerDefinitions=[
            {"name": "web", "image": "nginx:1.27", "essential": True, "portMappings": [{"containerPort": 80}],
             "logConfiguration": logging},
            {"name": "worker", "image": "public.ecr.aws/labkit/sqs-worker", "essential": True,
             "environment": [{"name": "QUEUE_URL", "value": queue_url}, {"name": "WAIT_SECONDS", "value": "10"}],
             "logConfiguration": logging},
        ],
    )  # fmt: skip
    sandbox.advance(PROVISIONING_SECONDS)
    ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition="shop-web", desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [tasks_sg]}},
        loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web", "containerPort": 80}],
    )  # fmt: skip
    shop = Shop(sandbox, tg["TargetGroupArn"], lb["LoadBalancerArn"])
    sandbox.wait_until(shop.healthy, "the shop to be healthy", limit=600, step=10)
    return shop


@pytest.fixture
def shop(sandbox: EmbeddedSandbox) -> Shop:
    return build_shop(sandbox)


def sees_health(shop: Shop, expected: dict[str, str], limit: float = 180) -> None:
    """Wait until one of the service's targets shows `expected` (the targets are replaced as they fail)."""
    shop.sandbox.wait_until(
        lambda: expected in [d["TargetHealth"] for d in shop.target_health()],
        f"a target {expected}",
        limit=limit,
        step=5,
    )


def settle(shop: Shop, seconds: float = 300) -> None:
    shop.sandbox.advance(seconds)


def stop_reasons(shop: Shop) -> list[str]:
    return [str(t.get("stoppedReason")) for t in shop.stopped_tasks()]


def test_the_catalogue_has_at_least_nine_faults_each_described() -> None:
    assert len(FAULTS) >= 9
    for row in catalogue():
        assert all(row[key] for key in ("name", "changes", "symptoms", "fix")), row


def test_typo_swaps_the_last_two_letters_of_the_repository() -> None:
    assert typo("nginx:1.27") == "ngixn:1.27"
    assert typo("public.ecr.aws/nginx/nginx") == "public.ecr.aws/nginx/ngixn"
    assert typo("123456789012.dkr.ecr.us-east-1.amazonaws.com/shop:v1") == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/shpo:v1"
    )


def test_unpullable_image(shop: Shop) -> None:
    record = shop.sandbox.inject_fault("unpullable-image", cluster=CLUSTER, service=SERVICE)
    assert record["changed"]["image"] == "ngixn:1.27"
    settle(shop)
    reasons = stop_reasons(shop)
    assert any(r.startswith(CANNOT_PULL) for r in reasons), reasons
    assert any("ngixn:1.27" in r for r in reasons)


def test_execution_role_without_permissions(shop: Shop) -> None:
    shop.sandbox.inject_fault("execution-role", cluster=CLUSTER, service=SERVICE)
    assert shop.client("iam").list_attached_role_policies(RoleName="shop-execution")["AttachedPolicies"] == []
    settle(shop)
    reasons = stop_reasons(shop)
    assert any(r.startswith(LOGGER_DENIED) for r in reasons), reasons


def test_task_role_missing_its_permission(shop: Shop) -> None:
    shop.sandbox.inject_fault("task-role", cluster=CLUSTER, service=SERVICE)
    settle(shop, 120)
    stopped = [t for t in shop.stopped_tasks() if t.get("stopCode") == "EssentialContainerExited"]
    assert stopped, stop_reasons(shop)
    task = stopped[0]
    assert task["stoppedReason"] == EXITED
    worker = next(c for c in task["containers"] if c["name"] == "worker")
    assert worker["exitCode"] == 1
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    logs = shop.client("logs")
    lines = logs.get_log_events(logGroupName="/ecs/shop", logStreamName=f"ecs/worker/{task_id}")["events"]
    assert any("AccessDenied" in line["message"] for line in lines), lines


def test_health_check_path_answering_404(shop: Shop) -> None:
    shop.sandbox.inject_fault("health-check-path", cluster=CLUSTER, service=SERVICE)
    sees_health(shop, {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                       "Description": MISMATCH})  # fmt: skip
    settle(shop)
    assert any(
        re.search(r"\(service web\) \(task [\w-]+\) failed ELB health checks in \(target-group ", e)
        for e in shop.events()
    )


def test_health_check_port_where_nothing_listens(shop: Shop) -> None:
    record = shop.sandbox.inject_fault("health-check-port", cluster=CLUSTER, service=SERVICE)
    assert record["changed"]["healthCheckPort"] == "8080"
    sees_health(shop, {"State": "unhealthy", "Reason": "Target.Timeout", "Description": TIMED_OUT})
    described = shop.client("elbv2").describe_target_health(TargetGroupArn=shop.target_group_arn)
    assert described["TargetHealthDescriptions"][0]["HealthCheckPort"] == "8080"


def test_security_group_that_no_longer_lets_the_load_balancer_in(shop: Shop) -> None:
    record = shop.sandbox.inject_fault("security-group", cluster=CLUSTER, service=SERVICE)
    assert record["changed"]["revoked"]
    sees_health(shop, {"State": "unhealthy", "Reason": "Target.Timeout", "Description": TIMED_OUT})
    settle(shop)
    assert any(FAILED_ELB in e for e in shop.events())
    # Letting it in again heals the service: the fault is the rule, nothing else.
    ec2 = shop.client("ec2")
    for revoked in record["changed"]["revoked"]:
        group = revoked.pop("GroupId")
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[revoked])
    shop.sandbox.wait_until(shop.healthy, "the service to heal", limit=900, step=10)


def test_an_essential_sidecar_that_exits(shop: Shop) -> None:
    shop.sandbox.inject_fault("sidecar-exits", cluster=CLUSTER, service=SERVICE)
    settle(shop, 120)
    stopped = [t for t in shop.stopped_tasks() if t.get("stopCode") == "EssentialContainerExited"]
    assert stopped, stop_reasons(shop)
    sidecar = next(c for c in stopped[0]["containers"] if c["name"] == "config-agent")
    assert sidecar["exitCode"] == 1
    assert stopped[0]["stoppedReason"] == EXITED


def test_a_container_over_its_hard_memory_limit_under_load(shop: Shop) -> None:
    record = shop.sandbox.inject_fault("out-of-memory", cluster=CLUSTER, service=SERVICE)
    assert record["changed"]["memoryLimit"] == 128
    settle(shop, 180)
    stopped = [t for t in shop.stopped_tasks() if t.get("stopCode") == "EssentialContainerExited"]
    assert stopped, stop_reasons(shop)
    web = next(c for c in stopped[0]["containers"] if c["name"] == "web")
    assert web["exitCode"] == 137
    assert web["reason"] == OUT_OF_MEMORY_REASON


def test_capacity_too_small_on_ec2(sandbox: EmbeddedSandbox) -> None:
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    ecs.create_cluster(clusterName="small")
    ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.small", MinCount=1, MaxCount=1,
        UserData="#!/bin/bash\necho ECS_CLUSTER=small >> /etc/ecs/ecs.config\n",
    )  # fmt: skip
    sandbox.advance(40)
    ecs.register_task_definition(
        family="batch", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 256}]
    )
    ecs.create_service(
        cluster="small", serviceName="batch", taskDefinition="batch", desiredCount=1, launchType="EC2"
    )
    sandbox.advance(60)
    assert ecs.describe_services(cluster="small", services=["batch"])["services"][0]["runningCount"] == 1
    record = sandbox.inject_fault("capacity", cluster="small", service="batch")
    assert record["changed"]["memory"] > 2048
    sandbox.advance(120)
    service = ecs.describe_services(cluster="small", services=["batch"])["services"][0]
    events = [e["message"] for e in service["events"]]
    placed = (
        "(service batch) was unable to place a task because no container instance met all of its requirements"
    )
    assert any(placed in e for e in events), events


def test_unknown_fault_and_missing_service_are_clear_errors(shop: Shop) -> None:
    with pytest.raises(FaultError, match="no fault 'nope'"):
        shop.sandbox.inject_fault("nope", cluster=CLUSTER, service=SERVICE)
    with pytest.raises(FaultError, match="no active service ghost"):
        shop.sandbox.inject_fault("health-check-path", cluster=CLUSTER, service="ghost")
    with pytest.raises(FaultError, match="Fargate"):
        shop.sandbox.inject_fault("capacity", cluster=CLUSTER, service=SERVICE)


def _all_describes(shop: Shop) -> str:
    ecs, elbv2, ec2 = shop.client("ecs"), shop.client("elbv2"), shop.client("ec2")
    answers: list[Any] = [
        ecs.describe_services(cluster=CLUSTER, services=[SERVICE]),
        shop.stopped_tasks(),
        ecs.describe_tasks(cluster=CLUSTER, tasks=ecs.list_tasks(cluster=CLUSTER)["taskArns"] or ["none"]),
        elbv2.describe_target_groups(TargetGroupArns=[shop.target_group_arn]),
        elbv2.describe_target_health(TargetGroupArn=shop.target_group_arn),
        ec2.describe_security_groups(),
    ]
    for arn in ecs.list_task_definitions(familyPrefix="shop-web")["taskDefinitionArns"]:
        answers.append(ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"]))
    return json.dumps(answers, default=str).lower()


@pytest.mark.parametrize(
    "fault", ["unpullable-image", "health-check-path", "sidecar-exits", "out-of-memory", "security-group"]
)
def test_nothing_the_api_answers_names_labkit_or_a_fault(shop: Shop, fault: str) -> None:
    shop.sandbox.inject_fault(fault, cluster=CLUSTER, service=SERVICE)
    settle(shop, 120)
    text = _all_describes(shop)
    assert not re.search(r"\bfaults?\b", text)  # ("default" is the VPC's own group)
    # The worker's image is the shop's own choice of a labkit workload; nothing else may say labkit.
    mentions = [text[max(0, m.start() - 60) : m.end() + 40] for m in re.finditer("labkit", text)]
    assert [m for m in mentions if "public.ecr.aws/labkit/sqs-worker" not in m] == []


@pytest.fixture
def server() -> Iterator[ServerSandbox]:
    info = start_server(clock="manual")
    try:
        yield ServerSandbox(region="us-east-1", info=info)
    finally:
        stop_server()


def test_a_server_injects_through_the_grader_token_only(server: ServerSandbox) -> None:
    shop = build_shop(server)
    learner = ControlClient(server.info.endpoint_url, server.info.learner_token)
    for method, payload in (
        ("GET", None),
        ("POST", {"fault": "health-check-path", "service": SERVICE, "cluster": CLUSTER}),
    ):
        with pytest.raises(Exception, match="403"):
            learner.request(method, "/faults", payload)
    assert server.injected_faults() == []
    record = server.inject_fault("health-check-path", cluster=CLUSTER, service=SERVICE)
    assert record["fault"] == "health-check-path"
    assert [r["fault"] for r in server.injected_faults()] == ["health-check-path"]
    sees_health(shop, {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                       "Description": MISMATCH})  # fmt: skip
    with pytest.raises(FaultError, match="no fault"):
        server.inject_fault("nope", cluster=CLUSTER, service=SERVICE)


def test_the_cli_lists_and_injects(server: ServerSandbox) -> None:
    listed = run_labkit("sandbox", "fault", "--list")
    assert listed.returncode == 0, listed.stderr
    for name in FAULTS:
        assert name in listed.stdout
    build_shop(server)
    done = run_labkit("sandbox", "fault", "health-check-path", "--cluster", CLUSTER, "--service", SERVICE)
    assert done.returncode == 0, done.stderr
    assert "health-check-path" in done.stdout
    bad = run_labkit("sandbox", "fault", "nope", "--cluster", CLUSTER, "--service", SERVICE)
    assert bad.returncode == 2
    assert "no fault 'nope'" in bad.stderr


def test_in_a_workshop_only_the_instructor_injects(tmp_path: Any) -> None:
    from labkit.sandbox.serving import LoopbackServer
    from labkit.workshop.progress import EventLog
    from labkit.workshop.roster import Learner
    from labkit.workshop.server import WorkshopApp, new_learner_access
    from tests.workshop.test_server import Workshop, control

    ada = new_learner_access(Learner("ada", "Ada"))
    app = WorkshopApp(
        [ada],
        region="us-east-1",
        clock="manual",
        instructor_token="teacher",
        events=EventLog(tmp_path / "e.jsonl"),
    )
    server = LoopbackServer(app)
    try:
        workshop = Workshop(app, server.url, ada, ada)
        ecs = workshop.client(ada, "ecs")
        ecs.create_cluster(clusterName="c")
        ecs.register_task_definition(
            family="f", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 64}]
        )
        ecs.create_service(cluster="c", serviceName="s", taskDefinition="f", desiredCount=1)
        payload = {"fault": "unpullable-image", "service": "s", "cluster": "c"}
        for route in ("/faults", "/workshop/faults"):
            code, answer = control(server.url, "POST", route, ada.token, {**payload, "learner": "ada"})
            assert code == 403, answer
        code, answer = control(
            server.url, "POST", "/workshop/faults", "teacher", {**payload, "learner": "ada"}
        )
        assert code == 200, answer
        definition = ecs.describe_services(cluster="c", services=["s"])["services"][0]["taskDefinition"]
        assert definition.endswith(":2")
        image = ecs.describe_task_definition(taskDefinition=definition)["taskDefinition"][
            "containerDefinitions"
        ][0]
        assert image["image"] == "ngixn"
    finally:
        server.close()
        app.close()


def test_the_operating_chapter_quotes_what_the_sandbox_says() -> None:
    from tests.conftest import REPO

    chapter = (REPO / "book" / "operating.md").read_text(encoding="utf-8")
    missing = [words for words in QUOTED if words.rstrip(" (") not in chapter]
    assert missing == []
    table = [line for line in chapter.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) - 1 == len(FAULTS)  # one row a fault, under the header
