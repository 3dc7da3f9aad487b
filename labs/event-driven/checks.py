"""Checkpoints of the event-driven lab: what `lab.check` and the grader run (its reference steps are in reference.py).

The four architectures of the course notes, each proved by what it produced: (1) an upload to S3
starts a Fargate task through an EventBridge rule, and the task writes a DynamoDB item about the
object; (2) an hourly schedule rule runs a batch task that writes a summary object to S3; (3) SQS
workers in an ECS service, scaled on the queue's depth, drain the queue; (4) a stopped task sends
the admin an e-mail through an EventBridge rule and an SNS topic.

Names the lab uses: cluster `event-lab`; buckets `event-lab-uploads-<account>-<region>` and
`event-lab-reports-<account>-<region>` (bucket names are global); table `event-lab-files`; queue
`event-lab-jobs` and table `event-lab-results`; topic `event-lab-alerts`; rules `event-lab-on-upload`,
`event-lab-hourly` and `event-lab-task-stopped`; task definition families `event-lab-ingest`,
`event-lab-summary`, `event-lab-worker` and `event-lab-nightly`; service `event-lab-workers`; roles
`event-lab-ingest-task`, `event-lab-summary-task`, `event-lab-worker-task` (trusting
`ecs-tasks.amazonaws.com`) and `event-lab-events` (trusting `events.amazonaws.com`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.sandbox import Sandbox

checkpoints = CheckpointSet("event-driven")


CLUSTER = "event-lab"


TABLE = "event-lab-files"


RESULTS_TABLE = "event-lab-results"


QUEUE = "event-lab-jobs"


TOPIC = "event-lab-alerts"


UPLOAD_RULE = "event-lab-on-upload"


HOURLY_RULE = "event-lab-hourly"


STOPPED_RULE = "event-lab-task-stopped"


SERVICE = "event-lab-workers"


INGEST, SUMMARY, WORKER, NIGHTLY = (
    "event-lab-ingest",
    "event-lab-summary",
    "event-lab-worker",
    "event-lab-nightly",
)


TASK_ROLES = {
    "event-lab-ingest-task": "reads the uploaded object, writes the item",
    "event-lab-summary-task": "lists and reads the uploads, writes the summary",
    "event-lab-worker-task": "receives and deletes messages, records results",
}


EVENTS_ROLE = "event-lab-events"


UPLOAD_PREFIX = "incoming/"


UPLOAD_KEY = "incoming/hello.txt"


SUMMARY_PREFIX = "summaries/"


MESSAGES = 40


ADMIN = "admin@example.com"


RESOURCE_ID = f"service/{CLUSTER}/{SERVICE}"


DIMENSION = "ecs:service:DesiredCount"


HOURLY = re.compile(r"^(rate\(1 hour\)|rate\(60 minutes\)|cron\(0 \* \* \* \? \*\))$")


DESIRED = re.compile(r"desired count to (\d+)")


def uploads_bucket(account_id: str, region: str) -> str:
    """The lab's uploads bucket (bucket names are global, so the account and region are in it)."""
    return f"event-lab-uploads-{account_id}-{region}"


def reports_bucket(account_id: str, region: str) -> str:
    """The lab's reports bucket, where the batch task writes its summaries."""
    return f"event-lab-reports-{account_id}-{region}"


def _arn(ctx_or_sandbox: CheckContext | Sandbox, service: str, resource: str) -> str:
    sandbox = ctx_or_sandbox.sandbox if isinstance(ctx_or_sandbox, CheckContext) else ctx_or_sandbox
    return f"arn:aws:{service}:{sandbox.region}:{sandbox.account_id}:{resource}"


def _buckets(ctx: CheckContext) -> tuple[str, str]:
    sandbox = ctx.sandbox
    return uploads_bucket(sandbox.account_id, sandbox.region), reports_bucket(
        sandbox.account_id, sandbox.region
    )


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        document = json.loads(document)
    found = document.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _trusts(role: dict[str, Any], service: str) -> bool:
    for statement in _statements(role.get("AssumeRolePolicyDocument", {})):
        principal = statement.get("Principal", {})
        services = _listed(principal.get("Service")) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and service in services:
            return True
    return False


def _too_broad(statement: dict[str, Any]) -> str | None:
    """What makes an Allow statement broader than this lab needs, or None."""
    if statement.get("Effect") != "Allow":
        return None
    for action in _listed(statement.get("Action")):
        if action == "*" or action.endswith(":*"):
            return f"the action {action!r} allows every action of a service"
    if statement.get("NotAction") or statement.get("NotResource"):
        return "NotAction/NotResource allow far more than they seem to"
    if "*" in _listed(statement.get("Resource")):
        return "the resource '*' means every resource in the account"
    return None


def _role(ctx: CheckContext, name: str) -> tuple[dict[str, Any] | None, str]:
    """The role called `name` made in this lab and why not, if not."""
    iam = ctx.client("iam")
    try:
        role: dict[str, Any] = iam.get_role(RoleName=name)["Role"]
    except ClientError:
        return None, f"There is no IAM role named {name}."
    if not ctx.ours(role.get("Tags")):
        return None, f"The role {name} was not made in this lab."
    return role, ""


def _role_problem(ctx: CheckContext, name: str, service: str) -> str | None:
    role, why = _role(ctx, name)
    if role is None:
        return why
    if not _trusts(role, service):
        return f"{name} does not trust {service}, so it cannot be assumed by what needs it."
    iam = ctx.client("iam")
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    if attached:
        return f"{name} has the managed policy {attached[0]['PolicyName']}: use an inline policy scoped to the lab's resources."
    names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    if not names:
        return f"{name} has no inline policy: it cannot do its work."
    for policy in names:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        for statement in _statements(document):
            broad = _too_broad(statement)
            if broad:
                return f"In {name}'s policy {policy}, {broad}."
    return None


@checkpoints.checkpoint(
    "roles-least-privilege",
    "Task roles and the EventBridge role exist, each trusting its service, each scoped to the lab's resources",
    points=2,
    hints=[
        "A task role trusts ecs-tasks.amazonaws.com: AssumeRolePolicyDocument with Principal {'Service': "
        "'ecs-tasks.amazonaws.com'} and Action 'sts:AssumeRole'. The EventBridge role trusts events.amazonaws.com.",
        "Give each role an inline policy (iam.put_role_policy) naming exact actions and ARNs: no '*' resource, "
        "no 's3:*'-style action, no managed policy.",
        f"{EVENTS_ROLE} needs ecs:RunTask on the task definitions arn:aws:ecs:REGION:ACCOUNT:task-definition/"
        f"{INGEST}:* and .../{SUMMARY}:*, and iam:PassRole on the two task roles it hands to those tasks.",
    ],
)
def roles_least_privilege(ctx: CheckContext) -> Outcome:
    for name in TASK_ROLES:
        problem = _role_problem(ctx, name, "ecs-tasks.amazonaws.com")
        if problem:
            return failed(problem)
    problem = _role_problem(ctx, EVENTS_ROLE, "events.amazonaws.com")
    if problem:
        return failed(problem)
    iam = ctx.client("iam")
    actions: set[str] = set()
    for policy in iam.list_role_policies(RoleName=EVENTS_ROLE)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=EVENTS_ROLE, PolicyName=policy)["PolicyDocument"]
        for statement in _statements(document):
            if statement.get("Effect") == "Allow":
                actions.update(a.lower() for a in _listed(statement.get("Action")))
    missing = [a for a in ("ecs:RunTask", "iam:PassRole") if a.lower() not in actions]
    if missing:
        return failed(
            f"{EVENTS_ROLE} does not allow {' or '.join(missing)}, so EventBridge cannot start the tasks."
        )
    return passed(
        "Three task roles and the EventBridge role, each trusting its service, none with a wildcard."
    )


def _rule(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    events = ctx.client("events")
    try:
        rule: dict[str, Any] = events.describe_rule(Name=name)
    except ClientError:
        return None
    if ctx.session_tag is not None:
        tags = events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]
        if not ctx.ours(tags):
            return None
    return rule


def _pattern(rule: dict[str, Any]) -> dict[str, Any]:
    try:
        pattern = json.loads(rule.get("EventPattern") or "{}")
    except ValueError:
        return {}
    return pattern if isinstance(pattern, dict) else {}


def _ecs_target(ctx: CheckContext, rule: str, family: str) -> tuple[dict[str, Any] | None, str]:
    """The rule's target that runs a task of `family` in the lab's cluster, or why there is none."""
    targets = ctx.client("events").list_targets_by_rule(Rule=rule)["Targets"]
    cluster_arn = _arn(ctx, "ecs", f"cluster/{CLUSTER}")
    for target in targets:
        ecs = target.get("EcsParameters")
        if ecs is None:
            continue
        if target.get("Arn") != cluster_arn:
            return (
                None,
                f"The ECS target of {rule} has Arn {target.get('Arn')}; it is the cluster's ARN, {cluster_arn}.",
            )
        definition = str(ecs.get("TaskDefinitionArn", ""))
        if f"task-definition/{family}:" not in definition and not definition.endswith(f"/{family}"):
            return None, f"The ECS target of {rule} runs {definition or 'no task definition'}, not {family}."
        if not target.get("RoleArn"):
            return (
                None,
                f"The ECS target of {rule} has no RoleArn: EventBridge needs a role to call ecs:RunTask.",
            )
        if ecs.get("LaunchType") != "FARGATE":
            return None, f"The ECS target of {rule} does not use LaunchType FARGATE."
        return target, ""
    return None, f"The rule {rule} has no ECS target (a target with EcsParameters)."


def _started_by_rule(ctx: CheckContext, task_id: str) -> str | None:
    """Why the task `task_id` was not started by an EventBridge rule, or None (also when it is long gone)."""
    tasks = ctx.client("ecs").describe_tasks(cluster=CLUSTER, tasks=[task_id])["tasks"]
    if tasks and not str(tasks[0].get("startedBy", "")).startswith("events-rule/"):
        return f"The task {task_id} was started by {tasks[0].get('startedBy') or 'hand'}, not by an EventBridge rule."
    return None


def _table_problem(ctx: CheckContext, name: str) -> str | None:
    """Why the DynamoDB table `name` is not this lab's, or None."""
    dynamodb = ctx.client("dynamodb")
    try:
        table = dynamodb.describe_table(TableName=name)["Table"]
    except ClientError:
        return f"There is no DynamoDB table {name}."
    if ctx.session_tag is not None:
        tags = dynamodb.list_tags_of_resource(ResourceArn=table["TableArn"]).get("Tags", [])
        if not ctx.ours(tags):
            return f"The table {name} was not made in this lab."
    return None


def _last_failure(ctx: CheckContext, family: str) -> str | None:
    """What went wrong with the latest stopped task of `family` whose container failed, or None."""
    ecs = ctx.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, family=family, desiredStatus="STOPPED")["taskArns"]
    if not arns:
        return None
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns[:100])["tasks"]
    failures = [t for t in tasks if any(c.get("exitCode") not in (0, None) for c in t.get("containers", []))]
    if not failures:
        return None
    last = max(failures, key=lambda t: t.get("stoppedAt") or t.get("createdAt"))
    code = next(c["exitCode"] for c in last["containers"] if c.get("exitCode") not in (0, None))
    reason = last.get("stoppedReason", "no reason given")
    return f"the last {family} task stopped with exit code {code} ({reason}); check its environment and role."


@checkpoints.checkpoint(
    "upload-recorded",
    "An upload to S3 starts a Fargate task through EventBridge, and the task writes the object's item to DynamoDB",
    points=3,
    hints=[
        "Turn on EventBridge for the uploads bucket: s3.put_bucket_notification_configuration(Bucket=..., "
        "NotificationConfiguration={'EventBridgeConfiguration': {}}).",
        f"The rule {UPLOAD_RULE} matches source aws.s3, detail-type 'Object Created' and detail.bucket.name "
        f"[the uploads bucket]; its target has Arn = the cluster's ARN, RoleArn = the {EVENTS_ROLE} role and "
        f"EcsParameters with TaskDefinitionArn of {INGEST}, LaunchType FARGATE and a NetworkConfiguration.",
        "An InputTransformer hands the object to the task: InputPathsMap {'bucket': '$.detail.bucket.name', "
        "'key': '$.detail.object.key'} and an InputTemplate of containerOverrides setting BUCKET and KEY.",
        f"Then upload {UPLOAD_KEY} and wait: the item's id is '<bucket>/{UPLOAD_KEY}' in {TABLE}.",
    ],
)
def upload_recorded(ctx: CheckContext) -> Outcome:
    uploads, _ = _buckets(ctx)
    s3 = ctx.client("s3")
    try:
        notification = s3.get_bucket_notification_configuration(Bucket=uploads)
    except ClientError:
        return failed(f"There is no bucket {uploads}.")
    if "EventBridgeConfiguration" not in notification:
        return failed(f"{uploads} does not send its events to EventBridge, so no rule ever sees an upload.")
    rule = _rule(ctx, UPLOAD_RULE)
    if rule is None:
        return failed(f"There is no EventBridge rule {UPLOAD_RULE} made in this lab.")
    pattern = _pattern(rule)
    if pattern.get("source") != ["aws.s3"] or "Object Created" not in pattern.get("detail-type", []):
        return failed(f"{UPLOAD_RULE} does not match S3's 'Object Created' events (source aws.s3).")
    target, why = _ecs_target(ctx, UPLOAD_RULE, INGEST)
    if target is None:
        return failed(why)
    if not target.get("InputTransformer") and not target.get("Input"):
        return failed(
            f"The ECS target of {UPLOAD_RULE} does not tell the task which object arrived: "
            "add an InputTransformer that sets BUCKET and KEY in containerOverrides."
        )

    def look() -> Outcome:
        missing = _table_problem(ctx, TABLE)
        if missing:
            return failed(missing)
        try:
            item = ctx.client("dynamodb").get_item(
                TableName=TABLE, Key={"id": {"S": f"{uploads}/{UPLOAD_KEY}"}}
            )
        except ClientError:
            return failed(f"There is no DynamoDB table {TABLE}.")
        found = item.get("Item")
        if not found:
            crashed = _last_failure(ctx, INGEST)
            if crashed:
                return failed(f"{TABLE} has no item for {uploads}/{UPLOAD_KEY}: {crashed}")
            try:
                uploaded = s3.head_object(Bucket=uploads, Key=UPLOAD_KEY).get("LastModified")
            except ClientError:
                uploaded = None
            message = (
                f"{TABLE} has no item for {uploads}/{UPLOAD_KEY}: upload it, and give the task a moment."
            )
            # A fresh upload's event, or its ingest task, may still be on its way; nothing else comes.
            if ctx.recent(uploaded, UNDER_WAY) or _under_way(ctx, INGEST):
                return settling(message)
            return failed(message)
        why = _started_by_rule(ctx, found["taskId"]["S"])
        if why:
            return failed(why)
        return passed(
            f"Task {found['taskId']['S']} recorded {UPLOAD_KEY}: {found['size']['N']} bytes, "
            f"{found['lines']['N']} lines, {found['words']['N']} words."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "hourly-summary-written",
    "An hourly schedule rule runs a batch task that writes a summary of the uploads to the reports bucket",
    points=3,
    hints=[
        f"events.put_rule(Name='{HOURLY_RULE}', ScheduleExpression='rate(1 hour)'): 'hour' is singular for 1.",
        f"Its target runs {SUMMARY} (image s3-summary, environment BUCKET = the uploads bucket, PREFIX = "
        f"'{UPLOAD_PREFIX}', SUMMARY_BUCKET = the reports bucket) with the task role event-lab-summary-task.",
        f"A rate rule fires one period after it is created: move the sandbox clock on with lab.sandbox.advance(3600), "
        f"then look under {SUMMARY_PREFIX} in the reports bucket.",
    ],
)
def hourly_summary_written(ctx: CheckContext) -> Outcome:
    _, reports = _buckets(ctx)
    rule = _rule(ctx, HOURLY_RULE)
    if rule is None:
        return failed(f"There is no EventBridge rule {HOURLY_RULE} made in this lab.")
    if not HOURLY.match(str(rule.get("ScheduleExpression", ""))):
        return failed(f"{HOURLY_RULE} has the schedule {rule.get('ScheduleExpression')!r}, not once an hour.")
    target, why = _ecs_target(ctx, HOURLY_RULE, SUMMARY)
    if target is None:
        return failed(why)

    def look() -> Outcome:
        s3 = ctx.client("s3")
        try:
            listed = s3.list_objects_v2(Bucket=reports, Prefix=SUMMARY_PREFIX).get("Contents", [])
        except ClientError:
            return failed(f"There is no bucket {reports}.")
        if not listed:
            # The schedule exists (checked above): its next run is still to come.
            return settling(
                f"{reports} has no summary under {SUMMARY_PREFIX} yet: the rule fires once an hour."
            )
        newest = max(listed, key=lambda o: o["LastModified"])
        try:
            summary = json.loads(s3.get_object(Bucket=reports, Key=newest["Key"])["Body"].read())
        except ValueError:
            return failed(f"{newest['Key']} is not a JSON summary.")
        if not summary.get("objects"):
            return failed(
                f"{newest['Key']} summarises no object: is PREFIX {UPLOAD_PREFIX!r} and the uploads bucket?"
            )
        why = _started_by_rule(ctx, str(summary.get("taskId", "")))
        if why:
            return failed(why)
        return passed(
            f"{newest['Key']}: {counted(summary['objects'], 'object')}, {counted(summary.get('words') or 0, 'word')}."
        )

    return ctx.eventually(look)


#: Emulated seconds after an upload or a task's stop in which what it sets off (an event, a task,
#: an e-mail) may still be on its way.
UNDER_WAY = 120.0


def _under_way(ctx: CheckContext, family: str | None = None) -> bool:
    """True while a task (of `family`) in the cluster runs, or one stopped less than `UNDER_WAY` ago."""
    ecs = ctx.client("ecs")
    options = {"family": family} if family else {}
    try:
        if ecs.list_tasks(cluster=CLUSTER, desiredStatus="RUNNING", **options)["taskArns"]:
            return True
        stopped = ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED", **options)["taskArns"]
    except ClientError:
        return False
    if not stopped:
        return False
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=stopped[:100])["tasks"]
    return any(ctx.recent(t.get("stoppedAt"), UNDER_WAY) for t in tasks)


def _depth(attributes: dict[str, str]) -> int:
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


@checkpoints.checkpoint(
    "queue-drained-by-scaled-workers",
    "Workers of an ECS service, scaled out on the queue's depth, drain the queue",
    points=3,
    hints=[
        f"Register {RESOURCE_ID} as a scalable target (application-autoscaling, ServiceNamespace 'ecs', "
        f"ScalableDimension '{DIMENSION}', MinCapacity 1, MaxCapacity 5).",
        "A StepScaling policy (ChangeInCapacity steps) is the alarm's action: cloudwatch.put_metric_alarm on "
        f"Namespace AWS/SQS, MetricName ApproximateNumberOfMessagesVisible, Dimensions QueueName={QUEUE}, "
        "AlarmActions=[the policy's ARN].",
        f"The workers (image sqs-worker, QUEUE_URL, RESULTS_TABLE={RESULTS_TABLE}) record each message they "
        f"process; send {MESSAGES} messages and wait until the queue is empty.",
    ],
)
def queue_drained_by_scaled_workers(ctx: CheckContext) -> Outcome:
    sqs = ctx.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    except ClientError:
        return failed(f"There is no SQS queue {QUEUE}.")
    if ctx.session_tag is not None and not ctx.ours(sqs.list_queue_tags(QueueUrl=url).get("Tags")):
        return failed(f"The queue {QUEUE} was not made in this lab.")
    aas = ctx.client("application-autoscaling")
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=RESOURCE_ID)[
        "ScalingPolicies"
    ]
    steps = [p for p in policies if p.get("PolicyType") == "StepScaling"]
    if not steps:
        return failed(f"{RESOURCE_ID} has no StepScaling policy.")
    policy_arns = {p["PolicyARN"] for p in steps}
    described = [
        a
        for page in ctx.client("cloudwatch")
        .get_paginator("describe_alarms")
        .paginate(AlarmTypes=["MetricAlarm"])
        for a in page["MetricAlarms"]
        if policy_arns & set(a.get("AlarmActions", []))
    ]
    on_depth = [
        a
        for a in described
        if a.get("Namespace") == "AWS/SQS"
        and a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and {"Name": "QueueName", "Value": QUEUE} in a.get("Dimensions", [])
    ]
    if not on_depth:
        return failed(
            f"No alarm on ApproximateNumberOfMessagesVisible of {QUEUE} triggers a step policy of {SERVICE}."
        )

    def look() -> Outcome:
        activities = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=RESOURCE_ID)[
            "ScalingActivities"
        ]
        raised = [
            int(m.group(1))
            for a in activities
            if a.get("StatusCode") == "Successful" and (m := DESIRED.search(a.get("Description", "")))
        ]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depth = _depth(attributes)
        if not raised or max(raised) < 2:
            message = f"{SERVICE} has not been scaled out to two or more tasks by its policy yet."
            # Messages waiting keep the alarm's metric up: a scale-out may still come; with none, it will not.
            return settling(message) if depth > 0 else failed(message + f" Send {MESSAGES} messages.")
        if depth > 0:
            return settling(f"{counted(depth, 'message')} still in {QUEUE}: give the workers a moment.")
        missing = _table_problem(ctx, RESULTS_TABLE)
        if missing:
            return failed(missing)
        try:
            items = ctx.client("dynamodb").scan(TableName=RESULTS_TABLE, ProjectionExpression="taskId")[
                "Items"
            ]
        except ClientError:
            return failed(f"There is no results table {RESULTS_TABLE}.")
        workers = {i["taskId"]["S"] for i in items}
        if len(items) < MESSAGES or len(workers) < 2:
            return failed(
                f"{counted(len(items), 'message')} processed by {counted(len(workers), 'worker')}; "
                f"send {MESSAGES}."
            )
        return passed(
            f"{counted(len(items), 'message')} processed by {counted(len(workers), 'worker')}; "
            f"the service was scaled to {max(raised)}."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "admin-mailed-on-stop",
    "A task that stops sends the admin an e-mail through an EventBridge rule and an SNS topic",
    points=3,
    hints=[
        f"sns.create_topic(Name='{TOPIC}'), then sns.subscribe(TopicArn=..., Protocol='email', Endpoint='{ADMIN}').",
        "The topic's policy must let events.amazonaws.com call sns:Publish on it (set_topic_attributes, "
        "AttributeName 'Policy'), or EventBridge's deliveries fail.",
        f"The rule {STOPPED_RULE} matches source aws.ecs, detail-type 'ECS Task State Change', detail.lastStatus "
        f"['STOPPED'] and detail.clusterArn [the cluster's ARN]; its target is the topic.",
        f"Run one task of {NIGHTLY} (image job, EXIT_CODE 3) and wait for it to stop: the e-mail follows.",
    ],
)
def admin_mailed_on_stop(ctx: CheckContext) -> Outcome:
    topic_arn = _arn(ctx, "sns", TOPIC)
    sns = ctx.client("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    except ClientError:
        return failed(f"There is no SNS topic {TOPIC}.")
    if ctx.session_tag is not None and not ctx.ours(
        sns.list_tags_for_resource(ResourceArn=topic_arn)["Tags"]
    ):
        return failed(f"The topic {TOPIC} was not made in this lab.")
    if "events.amazonaws.com" not in attributes.get("Policy", ""):
        return failed(f"{TOPIC}'s policy does not let events.amazonaws.com publish to it.")
    mail = [
        s["Endpoint"]
        for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
        if s["Protocol"] == "email"
    ]
    if not mail:
        return failed(f"Nobody is subscribed to {TOPIC} by e-mail.")
    rule = _rule(ctx, STOPPED_RULE)
    if rule is None:
        return failed(f"There is no EventBridge rule {STOPPED_RULE} made in this lab.")
    pattern = _pattern(rule)
    detail = pattern.get("detail", {})
    if (
        pattern.get("source") != ["aws.ecs"]
        or "ECS Task State Change" not in pattern.get("detail-type", [])
        or detail.get("lastStatus") != ["STOPPED"]
    ):
        return failed(
            f"{STOPPED_RULE} does not match 'ECS Task State Change' events of source aws.ecs with lastStatus STOPPED."
        )
    targets = ctx.client("events").list_targets_by_rule(Rule=STOPPED_RULE)["Targets"]
    if not any(t.get("Arn") == topic_arn for t in targets):
        return failed(f"{STOPPED_RULE} does not send to the topic {TOPIC}.")

    def look() -> Outcome:
        delivered = ctx.outbox(topic_arn)
        if delivered is None:
            return _delivered_in_cloudwatch(ctx)
        received = [m for m in delivered if m.get("endpoint") in mail]
        stopped = [m for m in received if "stopped" in m.get("message", "").lower()]
        if not stopped:
            message = f"No e-mail about a stopped task has reached {', '.join(mail)} yet."
            # A task running, or one that just stopped, may still send its e-mail.
            return settling(message) if _under_way(ctx) else failed(message)
        return passed(f"{stopped[-1]['endpoint']} received: {stopped[-1]['message'][:160]}")

    return ctx.eventually(look)


def _delivered_in_cloudwatch(ctx: CheckContext) -> Outcome:
    """In a real account the e-mail is in a real inbox: SNS's delivery metric is the evidence."""
    end = dt.datetime.now(dt.UTC)
    points = ctx.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/SNS",
        MetricName="NumberOfNotificationsDelivered",
        Dimensions=[{"Name": "TopicName", "Value": TOPIC}],
        StartTime=end - dt.timedelta(hours=3),
        EndTime=end,
        Period=300,
        Statistics=["Sum"],
    )["Datapoints"]
    delivered = sum(p.get("Sum", 0) for p in points)
    if not delivered:
        return failed(
            f"CloudWatch shows no notification delivered by {TOPIC} yet (its metrics lag a few minutes)."
        )
    return passed(
        f"{TOPIC} delivered {counted(int(delivered), 'notification')}; read it in the subscribed inbox."
    )
