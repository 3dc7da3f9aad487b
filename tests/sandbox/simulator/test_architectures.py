"""The course's four event-driven architectures, end to end on the manual clock."""

from __future__ import annotations

import json

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.testing import advance_until
from tests.sandbox.simulator.event_stack import event_stack


def test_an_upload_runs_a_task_that_writes_the_object_to_dynamodb(sandbox: EmbeddedSandbox) -> None:
    """(a) S3 upload -> rule -> RunTask with BUCKET/KEY overrides -> the task reads it and puts an item."""
    stack = event_stack(sandbox)
    s3, ddb, events = sandbox.client("s3"), sandbox.client("dynamodb"), sandbox.client("events")
    s3.create_bucket(Bucket="uploads")
    s3.put_bucket_notification_configuration(
        Bucket="uploads", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    ddb.create_table(
        TableName="files", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    role = stack.role(
        "ingest-task",
        [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uploads/*"},
            {
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": "arn:aws:dynamodb:*:*:table/files",
            },
        ],
    )
    definition = stack.task_definition(
        "ingest", "public.ecr.aws/labkit/s3-to-dynamodb:1", role=role,
        environment=[{"name": "TABLE_NAME", "value": "files"}],
    )  # fmt: skip
    events.put_rule(
        Name="on-upload",
        EventPattern=json.dumps(
            {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": ["uploads"]}},
            }
        ),
    )
    template = (
        '{"containerOverrides": [{"name": "app", "environment": ['
        '{"name": "BUCKET", "value": <bucket>}, {"name": "KEY", "value": <key>}]}]}'
    )
    transformer = {
        "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
        "InputTemplate": template,
    }
    events.put_targets(Rule="on-upload", Targets=[stack.ecs_target(definition, InputTransformer=transformer)])
    s3.put_object(Bucket="uploads", Key="notes/hello.txt", Body=b"hello world\nsecond line\n")
    [task] = stack.wait_stopped()
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 0
    overrides = task["overrides"]["containerOverrides"][0]["environment"]
    assert {e["name"]: e["value"] for e in overrides} == {"BUCKET": "uploads", "KEY": "notes/hello.txt"}
    [item] = ddb.scan(TableName="files")["Items"]
    assert item["id"] == {"S": "uploads/notes/hello.txt"}
    assert (item["size"], item["lines"], item["words"]) == ({"N": "24"}, {"N": "2"}, {"N": "4"})
    assert item["taskId"] == {"S": task["taskArn"].rsplit("/", 1)[-1]}


def test_an_hourly_rule_runs_a_batch_task_that_writes_a_summary(sandbox: EmbeddedSandbox) -> None:
    """(b) rate(1 hour) -> batch task with an S3 role -> reads objects under a prefix, writes a summary."""
    stack = event_stack(sandbox)
    s3, events = sandbox.client("s3"), sandbox.client("events")
    s3.create_bucket(Bucket="logs")
    for name, body in (
        ("in/a.log", b"one two\n"),
        ("in/b.log", b"three\nfour five\n"),
        ("other/c.log", b"x\n"),
    ):
        s3.put_object(Bucket="logs", Key=name, Body=body)
    role = stack.role(
        "batch-task",
        [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::logs"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::logs/*",
            },
        ],
    )
    environment = [
        {"name": "BUCKET", "value": "logs"},
        {"name": "PREFIX", "value": "in/"},
        {"name": "SUMMARY_KEY", "value": "summaries/latest.json"},
    ]
    definition = stack.task_definition(
        "summary", "public.ecr.aws/labkit/s3-summary:1", role=role, environment=environment
    )
    events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="hourly", Targets=[stack.ecs_target(definition)])
    sandbox.advance(3599)
    assert stack.tasks("RUNNING") == []
    assert stack.tasks() == []
    sandbox.advance(1)
    [running] = stack.tasks("RUNNING")
    assert running["startedBy"] == "events-rule/hourly"
    [task] = stack.wait_stopped()
    assert task["containers"][0]["exitCode"] == 0
    summary = json.loads(s3.get_object(Bucket="logs", Key="summaries/latest.json")["Body"].read())
    assert (summary["objects"], summary["lines"], summary["words"]) == (2, 3, 5)
    assert summary["keys"] == ["in/a.log", "in/b.log"]


def test_workers_in_a_service_drain_the_queue(sandbox: EmbeddedSandbox) -> None:
    """(c) two sqs-worker tasks of a service receive, process and delete every message."""
    stack = event_stack(sandbox)
    sqs, ecs = sandbox.client("sqs"), sandbox.client("ecs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    for n in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"job {n}")
    queue_arn = f"arn:aws:sqs:{sandbox.region}:{sandbox.account_id}:work"
    role = stack.role(
        "worker-task",
        [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"], "Resource": queue_arn}],
    )
    environment = [{"name": "QUEUE_URL", "value": url}, {"name": "WORK_SECONDS", "value": "10"}]
    definition = stack.task_definition(
        "worker", "public.ecr.aws/labkit/sqs-worker:1", role=role, environment=environment
    )
    ecs.create_service(
        cluster="jobs", serviceName="workers", taskDefinition=definition, desiredCount=2, launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}},
    )  # fmt: skip

    def depth() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    waited = advance_until(sandbox, lambda: depth() == 0, step=10, limit=600, what="an empty queue")
    # Two workers at 10 s a message: 12 messages take about 60 s once both run (~21 s to start).
    assert waited <= 100
    service = ecs.describe_services(cluster="jobs", services=["workers"])["services"][0]
    assert service["runningCount"] == 2
    ecs.update_service(cluster="jobs", service="workers", desiredCount=0)
    stopped = stack.wait_stopped(2)
    assert [t["containers"][0]["exitCode"] for t in stopped] == [0, 0]
    assert all(t["stopCode"] == "ServiceSchedulerInitiated" for t in stopped)


def test_a_stopped_task_reaches_the_admins_mailbox(sandbox: EmbeddedSandbox) -> None:
    """(d) task STOPPED -> rule on ECS Task State Change -> SNS topic -> the admin's e-mail in the outbox."""
    stack = event_stack(sandbox)
    sns, events = sandbox.client("sns"), sandbox.client("events")
    topic = sns.create_topic(Name="task-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="admin@example.com")
    events.put_rule(
        Name="task-stopped",
        EventPattern=json.dumps(
            {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": {"lastStatus": ["STOPPED"], "clusterArn": [stack.cluster_arn]},
            }
        ),
    )
    transformer = {
        "InputPathsMap": {
            "task": "$.detail.taskArn",
            "reason": "$.detail.stoppedReason",
            "code": "$.detail.containers[0].exitCode",
        },
        "InputTemplate": '"Task <task> stopped: <reason> (exit code <code>)"',
    }
    events.put_targets(
        Rule="task-stopped", Targets=[{"Id": "mail", "Arn": topic, "InputTransformer": transformer}]
    )
    environment = [{"name": "JOB_SECONDS", "value": "30"}, {"name": "EXIT_CODE", "value": "3"}]
    definition = stack.task_definition("nightly", "public.ecr.aws/labkit/job:1", environment=environment)
    task_arn = stack.run_task(definition)
    sandbox.advance(40)
    assert sandbox.outbox(topic) == []
    stack.wait_stopped()
    [mail] = sandbox.outbox(topic, endpoint="admin@example.com")
    assert mail["message"] == f'"Task {task_arn} stopped: Essential container in task exited (exit code 3)"'
    assert mail["subject"] == "AWS Notification Message"
    assert mail["protocol"] == "email"
