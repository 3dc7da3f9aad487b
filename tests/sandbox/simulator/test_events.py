"""EventBridge in the sandbox: schedules on the clock, routing, targets, input, S3 and ECS events."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.simulator.events import matches_pattern, parse_schedule
from tests.sandbox.simulator.event_stack import event_stack


def _queue(sb: EmbeddedSandbox, name: str = "events") -> tuple[str, str]:
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _drain(sb: EmbeddedSandbox, url: str) -> list[str]:
    sqs = sb.client("sqs")
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


# -- schedules ------------------------------------------------------------------------------


def test_rate_rule_fires_exactly_when_due(sandbox: EmbeddedSandbox) -> None:
    """rate(5 minutes) fires 300 s after the rule is created, not a second earlier, then every 300 s."""
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    rule = events.put_rule(Name="every-5", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    events.put_targets(Rule="every-5", Targets=[{"Id": "q", "Arn": arn}])
    sandbox.advance(299)
    assert _drain(sandbox, url) == []
    sandbox.advance(1)
    [body] = _drain(sandbox, url)
    event = json.loads(body)
    assert (event["source"], event["detail-type"], event["resources"], event["detail"]) == (
        "aws.events",
        "Scheduled Event",
        [rule],
        {},
    )
    sandbox.advance(300)
    assert len(_drain(sandbox, url)) == 1


def test_cron_rule_fires_at_the_named_minute(sandbox: EmbeddedSandbox) -> None:
    """cron(0/15 * * * ? *) fires at the next quarter hour (UTC) and not one second before it."""
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(Name="quarterly", ScheduleExpression="cron(0/15 * * * ? *)")
    events.put_targets(Rule="quarterly", Targets=[{"Id": "q", "Arn": arn}])
    now = sandbox.now()
    due = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + dt.timedelta(minutes=15)
    sandbox.advance((due - now).total_seconds() - 1)
    assert _drain(sandbox, url) == []
    sandbox.advance(1)
    [body] = _drain(sandbox, url)
    assert json.loads(body)["time"] == due.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_disabled_rule_does_not_fire_and_enabling_rearms_it(sandbox: EmbeddedSandbox) -> None:
    """DisableRule silences both a schedule and a pattern rule; EnableRule counts the rate from then."""
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(Name="tick", ScheduleExpression="rate(1 minute)")
    events.put_rule(Name="app", EventPattern=json.dumps({"source": ["my.app"]}))
    for name in ("tick", "app"):
        events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
        events.disable_rule(Name=name)
    events.put_events(Entries=[{"Source": "my.app", "DetailType": "x", "Detail": "{}"}])
    sandbox.advance(600)
    assert _drain(sandbox, url) == []
    events.enable_rule(Name="tick")
    sandbox.advance(59)
    assert _drain(sandbox, url) == []
    sandbox.advance(1)
    assert len(_drain(sandbox, url)) == 1


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "cron(0 12 * * * *)", "cron(0 12 * *)"],
)
def test_schedule_expressions_aws_refuses_are_refused(sandbox: EmbeddedSandbox, expression: str) -> None:
    """A schedule AWS would not accept is a ValidationException with AWS's message."""
    with pytest.raises(ClientError) as caught:
        sandbox.client("events").put_rule(Name="bad", ScheduleExpression=expression)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 8 ? * MON-FRI *)", "2026-12-04T09:00:00", "2026-12-07T08:00:00"),  # Friday -> Monday
        ("cron(0 0 L * ? *)", "2026-02-03T00:00:00", "2026-02-28T00:00:00"),
        ("cron(30 10 ? * 6#3 *)", "2026-12-01T00:00:00", "2026-12-18T10:30:00"),  # third Friday
        ("cron(0 12 15W * ? *)", "2026-11-01T00:00:00", "2026-11-16T12:00:00"),  # the 15th is a Sunday
        ("cron(0 9 1 JAN,JUL ? 2027)", "2026-12-01T00:00:00", "2027-01-01T09:00:00"),
        ("rate(2 hours)", "2026-12-01T00:30:00", "2026-12-01T02:00:00"),
    ],
)
def test_schedules_name_the_next_instant_as_eventbridge_does(
    expression: str, after: str, expected: str
) -> None:
    """Cron fields (L, W, #, names, years) and rates give the firing AWS documents."""
    anchor = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    moment = parse_schedule(expression).next_after(
        dt.datetime.fromisoformat(after).replace(tzinfo=dt.UTC), anchor
    )
    assert moment == dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)


# -- patterns and input ---------------------------------------------------------------------


def test_patterns_match_inside_arrays_of_objects() -> None:
    """A pattern on `detail.containers.exitCode` matches any container's exit code, as on AWS."""
    event: dict[str, Any] = {
        "source": "aws.ecs",
        "detail": {
            "lastStatus": "STOPPED",
            "containers": [{"name": "a", "exitCode": 0}, {"name": "b", "exitCode": 2}],
        },
    }
    assert matches_pattern({"detail": {"containers": {"exitCode": [{"anything-but": 0}]}}}, event)
    assert not matches_pattern({"detail": {"containers": {"exitCode": [7]}}}, event)
    assert matches_pattern({"source": [{"prefix": "aws."}], "detail": {"lastStatus": ["STOPPED"]}}, event)
    assert matches_pattern({"detail": {"stopCode": [{"exists": False}]}}, event)
    assert not matches_pattern(
        {"detail": {"containers": [{"exists": True}]}}, event
    )  # objects are not leaves
    assert matches_pattern({"$or": [{"source": ["x"]}, {"detail": {"containers": {"name": ["b"]}}}]}, event)
    assert matches_pattern({"detail": {"containers": {"exitCode": [{"numeric": [">", 1, "<=", 2]}]}}}, event)


def test_input_transformer_fills_quoted_and_unquoted_placeholders(sandbox: EmbeddedSandbox) -> None:
    """Strings go in bare inside quotes and as JSON outside; a missing path is null; reserved variables work."""
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(Name="orders", EventPattern=json.dumps({"source": ["shop"]}))
    template = (
        '{"order": <id>, "text": "order <id> of <qty> items", "qty": <qty>, '
        '"missing": <nothing>, "rule": "<aws.events.rule-name>", "tags": <tags>}'
    )
    transformer = {
        "InputPathsMap": {
            "id": "$.detail.id",
            "qty": "$.detail.qty",
            "nothing": "$.detail.none",
            "tags": "$.detail.tags",
        },
        "InputTemplate": template,
    }
    events.put_targets(Rule="orders", Targets=[{"Id": "q", "Arn": arn, "InputTransformer": transformer}])
    detail = {"id": 'A"1', "qty": 3, "tags": ["x", "y"]}
    events.put_events(Entries=[{"Source": "shop", "DetailType": "Order", "Detail": json.dumps(detail)}])
    [body] = _drain(sandbox, url)
    assert json.loads(body) == {
        "order": 'A"1',
        "text": 'order A"1 of 3 items',
        "qty": 3,
        "missing": None,
        "rule": "orders",
        "tags": ["x", "y"],
    }


def test_input_and_input_path_replace_the_event(sandbox: EmbeddedSandbox) -> None:
    """`Input` sends constant text; `InputPath` sends the selected part of the event."""
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {"Id": "constant", "Arn": arn, "Input": '{"hello": "world"}'},
            {"Id": "path", "Arn": arn, "InputPath": "$.detail.inner"},
        ],
    )
    events.put_events(
        Entries=[{"Source": "app", "DetailType": "t", "Detail": json.dumps({"inner": {"n": 1}})}]
    )
    assert sorted(_drain(sandbox, url)) == sorted(['{"hello": "world"}', '{"n": 1}'])


def test_put_events_with_sns_and_ecs_targets_delivers_instead_of_raising(sandbox: EmbeddedSandbox) -> None:
    """An SNS target publishes (the e-mail is in the outbox) and an ECS target runs a task."""
    stack = event_stack(sandbox)
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    definition = stack.task_definition(
        "noop", "public.ecr.aws/labkit/job:1", environment=[{"name": "JOB_SECONDS", "value": "5"}]
    )
    events = sandbox.client("events")
    events.put_rule(Name="both", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(Rule="both", Targets=[{"Id": "mail", "Arn": topic}, stack.ecs_target(definition)])
    answer = events.put_events(Entries=[{"Source": "app", "DetailType": "Hello", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    [mail] = sandbox.outbox(topic)
    assert json.loads(mail["message"])["detail-type"] == "Hello"
    [task] = stack.tasks("RUNNING")
    assert task["startedBy"] == "events-rule/both"
    assert task["group"] == "family:noop"


def test_a_failed_delivery_fails_nothing(sandbox: EmbeddedSandbox) -> None:
    """A target that cannot be reached is a failed invocation, not an error for PutEvents."""
    events = sandbox.client("events")
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["app"]}))
    missing = f"arn:aws:sqs:{sandbox.region}:{sandbox.account_id}:no-such-queue"
    events.put_targets(Rule="r", Targets=[{"Id": "gone", "Arn": missing}])
    answer = events.put_events(Entries=[{"Source": "app", "DetailType": "t", "Detail": "{}"}])
    assert answer["FailedEntryCount"] == 0
    sandbox.client("sqs").list_queues()  # the next request delivers
    simulator = sandbox.emulator.simulator
    assert simulator is not None
    [failure] = simulator.events.failed_invocations
    assert (failure.target_id, failure.target_arn) == ("gone", missing)


# -- S3 -------------------------------------------------------------------------------------


def test_s3_sends_object_events_only_for_eventbridge_enabled_buckets(sandbox: EmbeddedSandbox) -> None:
    """Only the bucket with EventBridgeConfiguration sends; each upload is one event in AWS's shape."""
    url, arn = _queue(sandbox)
    s3, events = sandbox.client("s3"), sandbox.client("events")
    for name in ("loud", "quiet"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_notification_configuration(
        Bucket="loud", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    events.put_rule(Name="s3", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="s3", Targets=[{"Id": "q", "Arn": arn}])
    for bucket in ("loud", "quiet"):
        s3.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    s3.copy_object(Bucket="loud", Key="b.txt", CopySource={"Bucket": "loud", "Key": "a.txt"})
    upload = s3.create_multipart_upload(Bucket="loud", Key="big.bin")["UploadId"]
    part = s3.upload_part(Bucket="loud", Key="big.bin", UploadId=upload, PartNumber=1, Body=b"x" * 10)
    s3.complete_multipart_upload(
        Bucket="loud",
        Key="big.bin",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    s3.delete_object(Bucket="loud", Key="b.txt")
    received = [json.loads(b) for b in _drain(sandbox, url)]
    assert [(e["detail-type"], e["detail"]["object"]["key"], e["detail"]["reason"]) for e in received] == [
        ("Object Created", "a.txt", "PutObject"),
        ("Object Created", "b.txt", "CopyObject"),
        ("Object Created", "big.bin", "CompleteMultipartUpload"),
        ("Object Deleted", "b.txt", "DeleteObject"),
    ]
    first = received[0]
    assert first["source"] == "aws.s3"
    assert first["resources"] == ["arn:aws:s3:::loud"]
    assert set(first["detail"]) == {
        "version", "bucket", "object", "request-id", "requester", "source-ip-address", "reason"
    }  # fmt: skip
    assert first["detail"]["bucket"] == {"name": "loud"}
    assert set(first["detail"]["object"]) == {"key", "size", "etag", "sequencer"}
    assert first["detail"]["object"]["size"] == 5
    assert first["detail"]["object"]["etag"] == "5d41402abc4b2a76b9719d911017c592"
    assert first["detail"]["requester"] == sandbox.account_id
    assert received[3]["detail"]["deletion-type"] == "Permanently Deleted"


# -- ECS ------------------------------------------------------------------------------------


def test_ecs_task_state_change_events_follow_each_last_status(sandbox: EmbeddedSandbox) -> None:
    """Every lastStatus of a task is an ECS Task State Change event with the documented fields."""
    stack = event_stack(sandbox)
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(
        Name="tasks",
        EventPattern=json.dumps({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"]}),
    )
    events.put_targets(Rule="tasks", Targets=[{"Id": "q", "Arn": arn}])
    definition = stack.task_definition(
        "short", "public.ecr.aws/labkit/job:1", environment=[{"name": "JOB_SECONDS", "value": "10"}]
    )
    task_arn = stack.run_task(definition, group="batch")
    stack.wait_stopped()
    received = [json.loads(b) for b in _drain(sandbox, url)]
    statuses = [e["detail"]["lastStatus"] for e in received]
    assert statuses == [
        "PROVISIONING",
        "PENDING",
        "ACTIVATING",
        "RUNNING",
        "DEACTIVATING",
        "STOPPING",
        "DEPROVISIONING",
        "STOPPED",
    ]
    stopped = received[-1]
    assert stopped["resources"] == [task_arn]
    detail = stopped["detail"]
    assert detail["clusterArn"] == stack.cluster_arn
    assert (detail["taskArn"], detail["taskDefinitionArn"], detail["group"]) == (
        task_arn,
        definition,
        "batch",
    )
    assert (detail["launchType"], detail["desiredStatus"], detail["stopCode"]) == (
        "FARGATE",
        "STOPPED",
        "EssentialContainerExited",
    )
    assert detail["stoppedReason"] == "Essential container in task exited"
    assert [(c["name"], c["lastStatus"], c["exitCode"]) for c in detail["containers"]] == [
        ("app", "STOPPED", 0)
    ]
    for key in (
        "createdAt",
        "startedAt",
        "stoppingAt",
        "stoppedAt",
        "version",
        "cpu",
        "memory",
        "availabilityZone",
    ):
        assert key in detail, key
    assert detail["createdAt"].endswith("Z")
    versions = [e["detail"]["version"] for e in received]
    assert versions == sorted(versions)


def test_a_service_reaching_steady_state_sends_a_service_action(sandbox: EmbeddedSandbox) -> None:
    """ECS Service Action SERVICE_STEADY_STATE (INFO) arrives once the service is steady."""
    stack = event_stack(sandbox)
    url, arn = _queue(sandbox)
    events = sandbox.client("events")
    events.put_rule(Name="svc", EventPattern=json.dumps({"detail-type": ["ECS Service Action"]}))
    events.put_targets(Rule="svc", Targets=[{"Id": "q", "Arn": arn}])
    definition = stack.task_definition("web", "nginx")
    service = sandbox.client("ecs").create_service(
        cluster="jobs", serviceName="web", taskDefinition=definition, desiredCount=1, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}},
    )["service"]  # fmt: skip
    sandbox.advance(120)
    [event] = [json.loads(b) for b in _drain(sandbox, url)]
    assert event["resources"] == [service["serviceArn"]]
    assert {k: event["detail"][k] for k in ("eventType", "eventName", "clusterArn")} == {
        "eventType": "INFO",
        "eventName": "SERVICE_STEADY_STATE",
        "clusterArn": stack.cluster_arn,
    }


def test_an_ecs_target_runs_its_count_in_its_group_on_its_platform(sandbox: EmbeddedSandbox) -> None:
    """EcsParameters TaskCount, Group, PlatformVersion and the awsvpc subnets reach the tasks RunTask starts."""
    stack = event_stack(sandbox)
    definition = stack.task_definition("batch", "public.ecr.aws/labkit/job:1")
    target = stack.ecs_target(definition)
    target["EcsParameters"].update({"TaskCount": 2, "Group": "batch:nightly", "PlatformVersion": "1.4.0"})
    events = sandbox.client("events")
    events.put_rule(Name="go", EventPattern=json.dumps({"source": ["app"]}))
    events.put_targets(Rule="go", Targets=[target])
    events.put_events(Entries=[{"Source": "app", "DetailType": "Go", "Detail": "{}"}])
    tasks = stack.tasks("RUNNING")
    assert len(tasks) == 2
    assert {(t["group"], t["platformVersion"], t["launchType"]) for t in tasks} == {
        ("batch:nightly", "1.4.0", "FARGATE")
    }
    subnets = {
        d["value"] for t in tasks for a in t["attachments"] for d in a["details"] if d["name"] == "subnetId"
    }
    assert subnets <= set(stack.subnets)


def test_a_buckets_notification_configuration_shows_eventbridge(sandbox: EmbeddedSandbox) -> None:
    """GetBucketNotificationConfiguration answers EventBridgeConfiguration once it is on, beside queue configurations."""
    _, arn = _queue(sandbox)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="loud")
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket="loud")
    s3.put_bucket_notification_configuration(
        Bucket="loud", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    assert s3.get_bucket_notification_configuration(Bucket="loud")["EventBridgeConfiguration"] == {}
    both = {
        "EventBridgeConfiguration": {},
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}],
    }
    s3.put_bucket_notification_configuration(Bucket="loud", NotificationConfiguration=both)
    answer = s3.get_bucket_notification_configuration(Bucket="loud")
    assert answer["EventBridgeConfiguration"] == {}
    assert [q["QueueArn"] for q in answer["QueueConfigurations"]] == [arn]
