"""Reference steps of the event-driven lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import (
    ADMIN,
    CLUSTER,
    DIMENSION,
    EVENTS_ROLE,
    HOURLY_RULE,
    INGEST,
    MESSAGES,
    NIGHTLY,
    QUEUE,
    RESOURCE_ID,
    RESULTS_TABLE,
    SERVICE,
    STOPPED_RULE,
    SUMMARY,
    SUMMARY_PREFIX,
    TABLE,
    TOPIC,
    UPLOAD_KEY,
    UPLOAD_PREFIX,
    UPLOAD_RULE,
    WORKER,
    _depth,
    reports_bucket,
    uploads_bucket,
)

reference = ReferenceSteps("event-driven")


UPLOAD_BODY = b"hello from the event-driven lab\nan upload starts a task\n"


IMAGES = {
    INGEST: "public.ecr.aws/labkit/s3-to-dynamodb:1",
    SUMMARY: "public.ecr.aws/labkit/s3-summary:1",
    WORKER: "public.ecr.aws/labkit/sqs-worker:1",
    NIGHTLY: "public.ecr.aws/labkit/job:1",
}


TRUST_TASKS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


TRUST_EVENTS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def role_policies(account_id: str, region: str) -> dict[str, list[dict[str, Any]]]:
    """The statements of each role's inline policy: exact actions on the lab's resources."""
    uploads, reports = uploads_bucket(account_id, region), reports_bucket(account_id, region)
    table = f"arn:aws:dynamodb:{region}:{account_id}:table"
    definitions = f"arn:aws:ecs:{region}:{account_id}:task-definition"
    return {
        "event-lab-ingest-task": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{uploads}/{UPLOAD_PREFIX}*",
            },
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"{table}/{TABLE}"},
        ],
        "event-lab-summary-task": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{uploads}"},
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{uploads}/{UPLOAD_PREFIX}*",
            },
            {
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{reports}/{SUMMARY_PREFIX}*",
            },
        ],
        "event-lab-worker-task": [
            {
                "Effect": "Allow",
                "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage"],
                "Resource": f"arn:aws:sqs:{region}:{account_id}:{QUEUE}",
            },
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"{table}/{RESULTS_TABLE}"},
        ],
        EVENTS_ROLE: [
            {
                "Effect": "Allow",
                "Action": "ecs:RunTask",
                "Resource": [f"{definitions}/{INGEST}:*", f"{definitions}/{SUMMARY}:*"],
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": [
                    f"arn:aws:iam::{account_id}:role/event-lab-ingest-task",
                    f"arn:aws:iam::{account_id}:role/event-lab-summary-task",
                ],
            },
        ],
    }


@reference.step("roles-least-privilege")
def make_roles(sandbox: Sandbox) -> None:
    sandbox.client("ecs").create_cluster(clusterName=CLUSTER)
    iam = sandbox.client("iam")
    for name, statements in role_policies(sandbox.account_id, sandbox.region).items():
        trust = TRUST_EVENTS if name == EVENTS_ROLE else TRUST_TASKS
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
        iam.put_role_policy(
            RoleName=name,
            PolicyName=f"{name}-policy",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )


def _where(sandbox: Sandbox) -> dict[str, Any]:
    """CreateBucket's region outside us-east-1 (where it must be left out)."""
    if sandbox.region == "us-east-1":
        return {}
    return {"CreateBucketConfiguration": {"LocationConstraint": sandbox.region}}


def _subnets(sandbox: Sandbox) -> list[str]:
    ec2 = sandbox.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    return [s["SubnetId"] for s in subnets][:2]


def _network(sandbox: Sandbox, key: str = "Subnets", public: str = "AssignPublicIp") -> dict[str, Any]:
    return {"awsvpcConfiguration": {key: _subnets(sandbox), public: "ENABLED"}}


def _register(sandbox: Sandbox, family: str, role: str | None, environment: dict[str, str]) -> str:
    container: dict[str, Any] = {
        "name": "app",
        "image": IMAGES[family],
        "essential": True,
        "environment": [{"name": k, "value": v} for k, v in environment.items()],
    }
    params: dict[str, Any] = {
        "family": family,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [container],
    }
    if role:
        params["taskRoleArn"] = f"arn:aws:iam::{sandbox.account_id}:role/{role}"
    arn: str = sandbox.client("ecs").register_task_definition(**params)["taskDefinition"]["taskDefinitionArn"]
    return arn


def _ecs_target_entry(sandbox: Sandbox, definition: str, **extra: Any) -> dict[str, Any]:
    return {
        "Id": "run-task",
        "Arn": f"arn:aws:ecs:{sandbox.region}:{sandbox.account_id}:cluster/{CLUSTER}",
        "RoleArn": f"arn:aws:iam::{sandbox.account_id}:role/{EVENTS_ROLE}",
        "EcsParameters": {
            "TaskDefinitionArn": definition,
            "TaskCount": 1,
            "LaunchType": "FARGATE",
            "NetworkConfiguration": _network(sandbox),
        },
        **extra,
    }


UPLOAD_TEMPLATE = (
    '{"containerOverrides": [{"name": "app", "environment": ['
    '{"name": "BUCKET", "value": <bucket>}, {"name": "KEY", "value": <key>}]}]}'
)


@reference.step("upload-recorded")
def make_upload_pipeline(sandbox: Sandbox) -> None:
    s3, ddb, events = sandbox.client("s3"), sandbox.client("dynamodb"), sandbox.client("events")
    uploads = uploads_bucket(sandbox.account_id, sandbox.region)
    s3.create_bucket(Bucket=uploads, **_where(sandbox))
    s3.put_bucket_notification_configuration(
        Bucket=uploads, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    definition = _register(sandbox, INGEST, "event-lab-ingest-task", {"TABLE_NAME": TABLE})
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [uploads]}, "object": {"key": [{"prefix": UPLOAD_PREFIX}]}},
    }
    events.put_rule(Name=UPLOAD_RULE, EventPattern=json.dumps(pattern))
    transformer = {
        "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
        "InputTemplate": UPLOAD_TEMPLATE,
    }
    events.put_targets(
        Rule=UPLOAD_RULE, Targets=[_ecs_target_entry(sandbox, definition, InputTransformer=transformer)]
    )
    s3.put_object(Bucket=uploads, Key=UPLOAD_KEY, Body=UPLOAD_BODY)

    def recorded() -> bool:
        return "Item" in ddb.get_item(TableName=TABLE, Key={"id": {"S": f"{uploads}/{UPLOAD_KEY}"}})

    sandbox.wait_until(recorded, "the upload's item", limit=600, step=5)


@reference.step("hourly-summary-written")
def make_hourly_batch(sandbox: Sandbox) -> None:
    s3, events = sandbox.client("s3"), sandbox.client("events")
    uploads, reports = (
        uploads_bucket(sandbox.account_id, sandbox.region),
        reports_bucket(sandbox.account_id, sandbox.region),
    )
    s3.create_bucket(Bucket=reports, **_where(sandbox))
    environment = {"BUCKET": uploads, "PREFIX": UPLOAD_PREFIX, "SUMMARY_BUCKET": reports}
    definition = _register(sandbox, SUMMARY, "event-lab-summary-task", environment)
    events.put_rule(Name=HOURLY_RULE, ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule=HOURLY_RULE, Targets=[_ecs_target_entry(sandbox, definition)])
    sandbox.advance(3600)
    sandbox.wait_until(
        lambda: bool(s3.list_objects_v2(Bucket=reports, Prefix=SUMMARY_PREFIX).get("Contents")),
        "the hourly summary",
        limit=600,
        step=5,
    )


@reference.step("queue-drained-by-scaled-workers")
def make_workers(sandbox: Sandbox) -> None:
    sqs, ddb, ecs = sandbox.client("sqs"), sandbox.client("dynamodb"), sandbox.client("ecs")
    aas, cw = sandbox.client("application-autoscaling"), sandbox.client("cloudwatch")
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    ddb.create_table(
        TableName=RESULTS_TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    environment = {"QUEUE_URL": url, "WORK_SECONDS": "5", "RESULTS_TABLE": RESULTS_TABLE}
    definition = _register(sandbox, WORKER, "event-lab-worker-task", environment)
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=_network(sandbox, "subnets", "assignPublicIp"),
    )
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE_ID,
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=5,
    )
    for name, config, alarm in scaling_policies():
        arn = aas.put_scaling_policy(
            PolicyName=name,
            ServiceNamespace="ecs",
            ResourceId=RESOURCE_ID,
            ScalableDimension=DIMENSION,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration=config,
        )["PolicyARN"]
        cw.put_metric_alarm(**alarm, AlarmActions=[arn])
    for start in range(0, MESSAGES, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(n), "MessageBody": f"job {n}"} for n in range(start, start + 10)],
        )

    def drained() -> bool:
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return _depth(attributes) == 0

    sandbox.wait_until(drained, "an empty queue", limit=1800, step=10)


def scaling_policies() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The scale-out and scale-in step policies of the workers, with the alarm that triggers each."""
    alarm = {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateNumberOfMessagesVisible",
        "Dimensions": [{"Name": "QueueName", "Value": QUEUE}],
        "Statistic": "Maximum",
        "Period": 60,
    }
    out = {
        "AdjustmentType": "ChangeInCapacity",
        "Cooldown": 60,
        "MetricAggregationType": "Maximum",
        "StepAdjustments": [
            {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
            {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3},
        ],
    }
    scale_in = {
        "AdjustmentType": "ExactCapacity",
        "Cooldown": 60,
        "MetricAggregationType": "Maximum",
        "StepAdjustments": [{"MetricIntervalUpperBound": 0, "ScalingAdjustment": 1}],
    }
    return [
        (
            "event-lab-workers-out",
            out,
            {
                **alarm,
                "AlarmName": "event-lab-jobs-waiting",
                "EvaluationPeriods": 1,
                "Threshold": 10,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            },
        ),
        (
            "event-lab-workers-in",
            scale_in,
            {
                **alarm,
                "AlarmName": "event-lab-jobs-empty",
                "EvaluationPeriods": 3,
                "Threshold": 1,
                "ComparisonOperator": "LessThanThreshold",
            },
        ),
    ]


STOPPED_TEMPLATE = '"Task <task> of <group> stopped: <reason> (exit code <code>)"'


def topic_policy(topic_arn: str) -> dict[str, Any]:
    """The topic's policy: EventBridge may publish to it."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgePublishes",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": topic_arn,
            }
        ],
    }


@reference.step("admin-mailed-on-stop")
def make_alerts(sandbox: Sandbox) -> None:
    sns, events, ecs = sandbox.client("sns"), sandbox.client("events"), sandbox.client("ecs")
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps(topic_policy(topic))
    )
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=ADMIN)
    cluster_arn = f"arn:aws:ecs:{sandbox.region}:{sandbox.account_id}:cluster/{CLUSTER}"
    pattern = {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {"lastStatus": ["STOPPED"], "clusterArn": [cluster_arn]},
    }
    events.put_rule(Name=STOPPED_RULE, EventPattern=json.dumps(pattern))
    transformer = {
        "InputPathsMap": {
            "task": "$.detail.taskArn",
            "group": "$.detail.group",
            "reason": "$.detail.stoppedReason",
            "code": "$.detail.containers[0].exitCode",
        },
        "InputTemplate": STOPPED_TEMPLATE,
    }
    events.put_targets(
        Rule=STOPPED_RULE, Targets=[{"Id": "mail-admin", "Arn": topic, "InputTransformer": transformer}]
    )
    definition = _register(sandbox, NIGHTLY, None, {"JOB_SECONDS": "30", "EXIT_CODE": "3"})
    ecs.run_task(
        cluster=CLUSTER,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration=_network(sandbox, "subnets", "assignPublicIp"),
    )
    sandbox.wait_until(
        lambda: bool(sandbox.outbox(topic, endpoint=ADMIN)), "the admin's e-mail", limit=600, step=5
    )
