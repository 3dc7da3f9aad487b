"""A fault inside the simulator is contained to the resource it hit; the account keeps answering.

Each test injects an exception into one simulator subsystem for one resource (a monkeypatched method
that raises only for that resource) and checks what a user sees: every other resource still
progresses on the manual clock, ECS, EC2 and S3 still answer, and where AWS would show something
(a stopped task's reason, a service event, an alarm's history, a target's health) it is there.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.dataplane.workloads import WorkloadContext, register_workload, unregister_workload
from labkit.demo import TASK_DEFINITION
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.simulator.alarms import AlarmSimulator
from labkit.sandbox.simulator.autoscaling import AutoScalingSimulator
from labkit.sandbox.simulator.ecs import EcsSimulator, ServiceRuntime, TaskRuntime
from labkit.sandbox.simulator.elb import ElbSimulator
from labkit.sandbox.simulator.events import EventsSimulator
from labkit.sandbox.simulator.metrics import MetricsSimulator
from labkit.sandbox.simulator.sns import SnsSimulator
from labkit.sandbox.simulator.workloads import TaskProcess
from tests.sandbox.simulator.conftest import Stack
from tests.sandbox.simulator.event_stack import EventStack, event_stack


class InjectedFault(RuntimeError):
    """The exception a test injects (never raised by labkit itself)."""


def inject(
    monkeypatch: pytest.MonkeyPatch, cls: type, name: str, hits: Callable[..., bool]
) -> list[tuple[Any, ...]]:
    """Make `cls.name` raise `InjectedFault` when `hits(*args)` is true; return the calls that raised."""
    original = getattr(cls, name)
    raised: list[tuple[Any, ...]] = []

    def faulty(self: Any, *args: Any, **kwargs: Any) -> Any:
        if hits(*args, **kwargs):
            raised.append(args)
            raise InjectedFault(f"injected into {cls.__name__}.{name}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, faulty)
    return raised


def assert_account_answers(sandbox: EmbeddedSandbox) -> None:
    """ECS, EC2 and S3 all answer (the account is not poisoned)."""
    assert sandbox.client("ecs").list_clusters()["clusterArns"] is not None
    assert sandbox.client("ec2").describe_vpcs()["Vpcs"]
    s3 = sandbox.client("s3")
    name = f"still-answers-{len(s3.list_buckets()['Buckets'])}"
    s3.create_bucket(Bucket=name)
    assert name in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def simulator_faults(sandbox: EmbeddedSandbox) -> list[str]:
    assert sandbox.emulator.simulator is not None
    return [f"{f.what}: {f.error}" for f in sandbox.emulator.simulator.faults]


def _service_of(task: TaskRuntime, name: str) -> bool:
    return (task.service_key or "").endswith(f":{name}")


def _running(stack: Stack, name: str) -> int:
    return int(stack.service(name)["runningCount"])


# -- ECS ------------------------------------------------------------------------------------------


def test_a_task_that_fails_to_start_stops_with_a_reason_and_other_services_run(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A fault while a task starts stops it with TaskFailedToStart and a reason naming the labkit fault."""
    inject(monkeypatch, EcsSimulator, "_start_containers", lambda task: _service_of(task, "bad"))
    with caplog.at_level(logging.WARNING, logger="labkit.simulator"):
        stack.create_service("bad", 1, load_balanced=False)
        stack.create_service("good", 2, load_balanced=False)
        stack.sandbox.advance(60)
    assert _running(stack, "good") == 2
    stopped = stack.tasks("bad", desired_status="STOPPED")
    assert stopped
    assert stopped[0]["stopCode"] == "TaskFailedToStart"
    assert "labkit simulator fault" in stopped[0]["stoppedReason"]
    assert "InjectedFault" in stopped[0]["stoppedReason"]
    assert len(stopped[0]["stoppedReason"]) <= 255
    assert any(r.name == "labkit.simulator" and "InjectedFault" in r.getMessage() for r in caplog.records)
    assert_account_answers(stack.sandbox)


def test_a_service_that_cannot_be_reconciled_gets_an_event_and_backs_off(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One service's reconcile raising leaves the others reaching their count; it retries with a backoff."""
    broken = {"on": True}
    raised = inject(
        monkeypatch, EcsSimulator, "_reconcile", lambda runtime: broken["on"] and runtime.name == "bad"
    )
    stack.create_service("bad", 1, load_balanced=False)
    stack.create_service("good", 1, load_balanced=False)
    for _ in range(6):
        stack.sandbox.advance(10)
    assert _running(stack, "good") == 1
    assert _running(stack, "bad") == 0
    events = [e["message"] for e in stack.service("bad")["events"]]
    assert any("labkit simulator fault" in m and "InjectedFault" in m for m in events)
    # Shown once, not once per try; and tried a few times in a minute, not on every request.
    assert sum("labkit simulator fault" in m for m in events) == 1
    assert 1 < len(raised) <= 4
    assert_account_answers(stack.sandbox)
    # Once the fault is gone, the service recovers at its next try.
    broken["on"] = False
    stack.sandbox.advance(300)
    _running(stack, "bad")  # the scheduler's retry is due: the service starts a task
    stack.sandbox.advance(60)
    assert _running(stack, "bad") == 1


def test_a_fault_while_reacting_to_a_request_is_a_500_for_that_request_only(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CreateService whose simulator step raises answers 500 ServerException saying it is a labkit fault."""
    inject(monkeypatch, EcsSimulator, "service_created", lambda service, params: service.name == "bad")
    with pytest.raises(ClientError) as caught:
        stack.create_service("bad", 1, load_balanced=False)
    error = caught.value.response["Error"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error["Code"] == "ServerException"
    assert "labkit fault" in error["Message"]
    assert "InjectedFault" in error["Message"]
    assert "service_created" in error["Message"]
    assert "limit of the sandbox" not in error["Message"]
    stack.create_service("good", 1, load_balanced=False)
    stack.sandbox.advance(60)
    assert _running(stack, "good") == 1
    assert_account_answers(stack.sandbox)


def test_a_fault_on_a_deployment_leaves_other_deployments_rolling(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new deployment of one service that cannot start tasks does not stop another service's deployment."""
    stack.create_service("bad", 1, load_balanced=False)
    stack.create_service("good", 1, load_balanced=False)
    stack.sandbox.advance(60)
    inject(
        monkeypatch,
        EcsSimulator,
        "_start_service_tasks",
        lambda runtime, deployment, count: runtime.name == "bad",
    )
    for name in ("bad", "good"):
        stack.ecs.update_service(cluster=stack.cluster, service=name, forceNewDeployment=True)
    stack.sandbox.advance(180)
    good = stack.service("good")
    assert [d["rolloutState"] for d in good["deployments"]] == ["COMPLETED"]
    assert good["runningCount"] == 1
    # The old task of the broken deployment still serves (nothing was stopped for it).
    assert _running(stack, "bad") == 1
    assert any("labkit simulator fault" in e["message"] for e in stack.service("bad")["events"])
    assert_account_answers(stack.sandbox)


def test_an_awsvpc_service_in_a_vpc_with_default_attributes_runs(sandbox: EmbeddedSandbox) -> None:
    """The real trigger: a Fargate service in a CreateVpc-default VPC runs, with an AWS-style private DNS name."""
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(**TASK_DEFINITION)
    ecs.create_service(
        cluster="c", serviceName="s", taskDefinition=TASK_DEFINITION["family"], desiredCount=1,
        launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )  # fmt: skip
    sandbox.advance(60)
    [arn] = ecs.list_tasks(cluster="c")["taskArns"]
    [task] = ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"]
    assert task["lastStatus"] == "RUNNING"
    details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
    address = details["privateIPv4Address"]
    assert details["privateDnsName"] == f"ip-{address.replace('.', '-')}.ec2.internal"
    [eni] = ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])[
        "NetworkInterfaces"
    ]
    assert eni["PrivateDnsName"] == details["privateDnsName"]
    assert simulator_faults(sandbox) == []
    assert_account_answers(sandbox)


# -- ELB ------------------------------------------------------------------------------------------


def test_a_health_check_that_raises_makes_only_its_target_unhealthy(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The target whose check raises is unhealthy with Elb.InternalError; the others become healthy."""
    first: list[str] = []

    def hits(group: Any, key: tuple[str, str, int]) -> bool:
        first.append(first[0] if first else key[1])
        return key[1] == first[0]

    inject(monkeypatch, ElbSimulator, "_probe", hits)
    stack.create_service("web", 2)
    stack.sandbox.advance(30)
    described = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)
    health = {d["Target"]["Id"]: d["TargetHealth"] for d in described["TargetHealthDescriptions"]}
    assert health[first[0]]["State"] == "unhealthy"
    assert health[first[0]]["Reason"] == "Elb.InternalError"
    assert "labkit fault" in health[first[0]]["Description"]
    # The other target passes its checks meanwhile.
    stack.sandbox.advance(30)
    described = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)
    others = [
        d["TargetHealth"]["State"]
        for d in described["TargetHealthDescriptions"]
        if d["Target"]["Id"] != first[0]
    ]
    assert "healthy" in others
    # ECS replaces the task whose target is unhealthy, as it would on AWS; the service keeps its count.
    stack.sandbox.advance(120)
    assert _running(stack, "web") == 2
    assert_account_answers(stack.sandbox)


# -- CloudWatch -----------------------------------------------------------------------------------


def _minute(sandbox: EmbeddedSandbox) -> dt.datetime:
    return dt.datetime.fromtimestamp(math.floor(sandbox.now().timestamp() / 60) * 60, dt.UTC)


def _alarm(cw: Any, name: str, **extra: Any) -> None:
    cw.put_metric_alarm(
        AlarmName=name, Namespace="Lab", MetricName="Latency", Statistic="Average", Period=60,
        EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanThreshold", **extra,
    )  # fmt: skip


def test_an_alarm_that_raises_leaves_the_other_alarms_evaluated(
    sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One alarm's evaluation raising: the others still go to ALARM; the broken one is tried again later."""
    raised = inject(
        monkeypatch, AlarmSimulator, "_evaluate_alarm", lambda alarm, at, now: alarm.name == "bad"
    )
    cw = sandbox.client("cloudwatch")
    base = _minute(sandbox)
    for minute in range(3):
        cw.put_metric_data(
            Namespace="Lab",
            MetricData=[
                {
                    "MetricName": "Latency",
                    "Value": 90,
                    "Timestamp": base + dt.timedelta(minutes=minute, seconds=5),
                }
            ],
        )
    _alarm(cw, "bad")
    _alarm(cw, "good")
    sandbox.advance(180)
    states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms()["MetricAlarms"]}
    assert states == {"bad": "INSUFFICIENT_DATA", "good": "ALARM"}
    assert len(raised) >= 2  # each minute, not once and never again
    assert any(f.startswith("alarm bad") for f in simulator_faults(sandbox))
    assert_account_answers(sandbox)


def test_an_alarm_action_that_raises_is_a_failed_action_in_its_history(
    sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on AWS, a failed action is an Action history item ('Failed to execute action ...')."""
    inject(monkeypatch, AlarmSimulator, "_notify", lambda alarm, arn, old, now: True)
    topic = sandbox.client("sns").create_topic(Name="ops")["TopicArn"]
    cw = sandbox.client("cloudwatch")
    base = _minute(sandbox)
    cw.put_metric_data(
        Namespace="Lab",
        MetricData=[{"MetricName": "Latency", "Value": 90, "Timestamp": base + dt.timedelta(seconds=5)}],
    )
    _alarm(cw, "paged", AlarmActions=[topic])
    sandbox.advance(120)
    assert cw.describe_alarms(AlarmNames=["paged"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    history = cw.describe_alarm_history(AlarmName="paged", HistoryItemType="Action")["AlarmHistoryItems"]
    assert any(
        h["HistorySummary"].startswith(f"Failed to execute action {topic}")
        and "labkit simulator fault" in h["HistorySummary"]
        for h in history
    )
    assert_account_answers(sandbox)


def test_metrics_of_one_service_that_raise_leave_the_others_published(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CPUUtilization of the healthy service is published each minute though another's raises."""
    inject(monkeypatch, MetricsSimulator, "_task_size", lambda task: _service_of(task, "bad"))
    stack.create_service("bad", 1, load_balanced=False)
    stack.create_service("good", 1, load_balanced=False)
    stack.sandbox.advance(300)
    cw = stack.sandbox.client("cloudwatch")
    services = {
        d["Value"]
        for m in cw.list_metrics(Namespace="AWS/ECS", MetricName="CPUUtilization")["Metrics"]
        for d in m["Dimensions"]
        if d["Name"] == "ServiceName"
    }
    assert services == {"good"}
    # The minute tick itself survived: it is still on the timeline.
    before = len(cw.get_metric_statistics(**_cpu_query(stack, "good"))["Datapoints"])
    stack.sandbox.advance(120)
    assert len(cw.get_metric_statistics(**_cpu_query(stack, "good"))["Datapoints"]) == before + 2
    assert_account_answers(stack.sandbox)


def _cpu_query(stack: Stack, service: str) -> dict[str, Any]:
    now = stack.sandbox.now()
    return {
        "Namespace": "AWS/ECS",
        "MetricName": "CPUUtilization",
        "Dimensions": [
            {"Name": "ClusterName", "Value": stack.cluster},
            {"Name": "ServiceName", "Value": service},
        ],
        "StartTime": now - dt.timedelta(hours=1),
        "EndTime": now,
        "Period": 60,
        "Statistics": ["Average"],
    }


# -- Application Auto Scaling ---------------------------------------------------------------------


def test_a_scheduled_action_that_raises_leaves_other_actions_and_its_own_schedule(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failing action fires again next period; another service's scheduled action scales it."""
    raised = inject(
        monkeypatch,
        AutoScalingSimulator,
        "apply_scheduled",
        lambda action, target: "/bad" in action.resource_id,
    )
    aas = stack.sandbox.client("application-autoscaling")
    for name in ("bad", "good"):
        stack.create_service(name, 1, load_balanced=False)
        resource = f"service/{stack.cluster}/{name}"
        aas.register_scalable_target(
            ServiceNamespace="ecs", ResourceId=resource, ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1, MaxCapacity=5,
        )  # fmt: skip
        aas.put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName=f"{name}-up", ResourceId=resource,
            ScalableDimension="ecs:service:DesiredCount", Schedule="rate(5 minutes)",
            ScalableTargetAction={"MinCapacity": 3, "MaxCapacity": 5},
        )  # fmt: skip
    stack.sandbox.advance(60 * 11)
    assert stack.service("good")["desiredCount"] == 3
    assert stack.service("bad")["desiredCount"] == 1
    assert len(raised) == 2  # at 5 and 10 minutes: the schedule survived its first fault
    assert_account_answers(stack.sandbox)


# -- EventBridge ----------------------------------------------------------------------------------


def _queue(sandbox: EmbeddedSandbox, name: str) -> tuple[str, str]:
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _count(sandbox: EmbeddedSandbox, url: str) -> int:
    attributes = sandbox.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_schedule_rule_whose_firing_raises_keeps_firing_and_others_deliver(
    sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing firing is dropped, not the schedule: once the fault is gone the rule delivers again."""
    broken = {"on": True}
    raised = inject(
        monkeypatch,
        EventsSimulator,
        "_deliver_to_rule",
        lambda rule, event, now: broken["on"] and rule.name == "bad",
    )
    events = sandbox.client("events")
    urls = {}
    for name in ("bad", "good"):
        urls[name], arn = _queue(sandbox, name)
        events.put_rule(Name=name, ScheduleExpression="rate(1 minute)")
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    sandbox.advance(180)
    assert (_count(sandbox, urls["good"]), _count(sandbox, urls["bad"])) == (3, 0)
    assert len(raised) == 3
    broken["on"] = False
    sandbox.advance(60)
    assert _count(sandbox, urls["bad"]) == 1
    assert_account_answers(sandbox)


def test_a_rule_whose_pattern_raises_is_skipped_and_other_rules_match(
    sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PutEvents succeeds; the rule whose matching raised gets nothing, the others get the event."""
    import labkit.sandbox.simulator.events as events_module

    original = events_module.matches_pattern

    def matches(pattern: Any, event: dict[str, Any]) -> bool:
        if pattern.get("detail-type") == ["bad"]:
            raise InjectedFault("injected into matches_pattern")
        return original(pattern, event)

    monkeypatch.setattr(events_module, "matches_pattern", matches)
    events = sandbox.client("events")
    urls = {}
    for name in ("bad", "good"):
        urls[name], arn = _queue(sandbox, name)
        pattern = {"source": ["shop"], "detail-type": [name if name == "bad" else "order"]}
        events.put_rule(Name=name, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
    answer = events.put_events(Entries=[{"Source": "shop", "DetailType": "order", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    sandbox.advance(1)
    assert (_count(sandbox, urls["good"]), _count(sandbox, urls["bad"])) == (1, 0)
    assert_account_answers(sandbox)


# -- SNS ------------------------------------------------------------------------------------------


def test_an_sns_delivery_that_raises_fails_that_publish_only(
    sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publish to the broken topic answers a 500 labkit fault; another topic's e-mail arrives."""
    inject(
        monkeypatch,
        SnsSimulator,
        "delivered",
        lambda subscription, message, message_id, subject: subscription.topic.name == "bad",
    )
    sns = sandbox.client("sns")
    topics = {}
    for name in ("bad", "good"):
        topics[name] = sns.create_topic(Name=name)["TopicArn"]
        sns.subscribe(TopicArn=topics[name], Protocol="email", Endpoint=f"{name}@example.com")
    with pytest.raises(ClientError) as caught:
        sns.publish(TopicArn=topics["bad"], Message="hello")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "labkit fault" in caught.value.response["Error"]["Message"]
    sns.publish(TopicArn=topics["good"], Message="hello")
    assert [m["endpoint"] for m in sandbox.outbox()] == ["good@example.com"]
    assert_account_answers(sandbox)


# -- workloads ------------------------------------------------------------------------------------


def _done(ctx: WorkloadContext) -> int:
    return 0


@pytest.fixture
def workloads(sandbox: EmbeddedSandbox) -> Iterator[EventStack]:
    register_workload("example.com/test/contained", _done)
    yield event_stack(sandbox)
    unregister_workload("example.com/test/contained")


def test_a_workload_that_cannot_be_served_exits_1_and_other_tasks_finish(
    sandbox: EmbeddedSandbox, workloads: EventStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its container exits 1 with a reason naming the labkit fault; another task's workload exits 0."""
    original = TaskProcess.resume

    def resume(self: TaskProcess) -> None:
        if self.runtime.task.task_definition_arn.split("/")[-1].startswith("bad"):
            raise InjectedFault("injected into TaskProcess.resume")
        original(self)

    monkeypatch.setattr(TaskProcess, "resume", resume)
    for family in ("bad", "good"):
        workloads.run_task(workloads.task_definition(family, "example.com/test/contained:1"))
    stopped = {t["taskDefinitionArn"].split("/")[-1].split(":")[0]: t for t in workloads.wait_stopped(2)}
    bad, good = stopped["bad"]["containers"][0], stopped["good"]["containers"][0]
    assert good["exitCode"] == 0
    assert bad["exitCode"] == 1
    assert "labkit simulator fault" in bad["reason"]
    assert_account_answers(sandbox)


# -- the request path -----------------------------------------------------------------------------


def test_every_request_keeps_answering_while_a_fault_repeats(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before containment, one fault made every later request (any service) a 501: now none fails."""
    inject(monkeypatch, EcsSimulator, "_reconcile", lambda runtime: True)
    inject(monkeypatch, ElbSimulator, "_probe", lambda group, key: True)
    stack.create_service("web", 2)
    for _ in range(5):
        stack.sandbox.advance(30)
        assert_account_answers(stack.sandbox)
        assert stack.service("web")["status"] == "ACTIVE"


def test_service_runtime_fields_for_faults_start_clear() -> None:
    """A new service has no fault and no backoff (the scheduler reconciles it at once)."""
    runtime = ServiceRuntime(key="c:s", cluster="c", name="s", service=None)
    assert (runtime.fault_reason, runtime.fault_backoff, runtime.retry_at) == (None, 0.0, None)
