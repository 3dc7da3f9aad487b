"""Property: no signed request from learner A, whatever it names, changes learner B's account.

Bob (B) builds one resource of each kind the course uses; then random requests from Ada (A), a
random operation of the course's services with random parameters naming Bob's resources (by ARN,
bucket name, queue URL, registry id, ...), are sent with Ada's own signed credentials. Bob's state,
read with Bob's own clients, must be what it was.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workshop.test_server import Workshop, workshop
from tests.workshop.test_walls import Clients, clients_of

__all__ = ["workshop"]

_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)  # fmt: skip
_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def _queue_arn(b: Clients, url: str) -> str:
    return str(
        b("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    )


def build_bobs_account(b: Clients) -> dict[str, str]:
    """One resource of each kind in Bob's account; returns every way to name them."""
    r: dict[str, str] = {}
    b("s3").create_bucket(Bucket="bobs-bucket")
    b("s3").put_object(Bucket="bobs-bucket", Key="notes.txt", Body=b"bob")
    r["bucket"], r["bucket_arn"] = "bobs-bucket", "arn:aws:s3:::bobs-bucket"
    r["inbox"] = b("sqs").create_queue(QueueName="bobs-inbox")["QueueUrl"]
    r["queue"] = b("sqs").create_queue(QueueName="bobs-queue")["QueueUrl"]
    r["queue_arn"] = _queue_arn(b, r["queue"])
    r["topic"] = b("sns").create_topic(Name="bobs-topic")["TopicArn"]
    b("sns").subscribe(TopicArn=r["topic"], Protocol="sqs", Endpoint=_queue_arn(b, r["inbox"]))
    r["cluster"] = b("ecs").create_cluster(clusterName="bobs-cluster")["cluster"]["clusterArn"]
    repo = b("ecr").create_repository(repositoryName="bobs-repo")["repository"]
    r["registry"], r["repo_arn"], r["repo_uri"] = (
        repo["registryId"],
        repo["repositoryArn"],
        repo["repositoryUri"],
    )
    r["role"] = b("iam").create_role(RoleName="bobs-role", AssumeRolePolicyDocument=_TRUST)["Role"]["Arn"]
    r["policy"] = b("iam").create_policy(PolicyName="bobs-policy", PolicyDocument=_POLICY)["Policy"]["Arn"]
    r["bus"] = b("events").create_event_bus(Name="bobs-bus")["EventBusArn"]
    r["rule"] = b("events").put_rule(
        Name="bobs-rule", EventBusName="bobs-bus", EventPattern='{"source": ["x"]}'
    )["RuleArn"]
    b("events").put_targets(
        Rule="bobs-rule", EventBusName="bobs-bus", Targets=[{"Id": "q", "Arn": _queue_arn(b, r["inbox"])}]
    )
    r["secret"] = b("secretsmanager").create_secret(Name="bobs-secret", SecretString="bob")["ARN"]
    b("ssm").put_parameter(Name="/bobs/param", Value="bob", Type="String")
    r["param"] = b("ssm").get_parameter(Name="/bobs/param")["Parameter"]["ARN"]
    r["table"] = b("dynamodb").create_table(
        TableName="bobs-table",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]["TableArn"]
    b("dynamodb").put_item(TableName="bobs-table", Item={"k": {"S": "1"}})
    b("logs").create_log_group(logGroupName="/bobs")
    r["log_group"] = b("logs").describe_log_groups()["logGroups"][0]["arn"].removesuffix(":*")
    b("cloudwatch").put_metric_alarm(
        AlarmName="bobs-alarm",
        MetricName="CPU",
        Namespace="AWS/ECS",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=50.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    r["alarm"] = b("cloudwatch").describe_alarms()["MetricAlarms"][0]["AlarmArn"]
    subnets = [s["SubnetId"] for s in b("ec2").describe_subnets()["Subnets"]][:2]
    r["lb"] = b("elbv2").create_load_balancer(Name="bobs-lb", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    r["account"] = r["registry"]
    return r  # fmt: skip


def bobs_state(b: Clients) -> Any:
    """Everything of Bob's that a request from Ada could change, read with Bob's own clients."""
    s3, sqs, sns = b("s3"), b("sqs"), b("sns")

    def messages(url: str) -> Any:
        attributes = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "VisibilityTimeout",
        ]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=attributes)["Attributes"]

    def maybe(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    return {
        "buckets": [x["Name"] for x in s3.list_buckets()["Buckets"]],
        "objects": [(o["Key"], o["ETag"]) for o in s3.list_objects_v2(Bucket="bobs-bucket").get("Contents", [])],
        "bucket_policy": maybe(lambda: s3.get_bucket_policy(Bucket="bobs-bucket")["Policy"]),
        "bucket_tags": maybe(lambda: s3.get_bucket_tagging(Bucket="bobs-bucket")["TagSet"]),
        "queues": sorted(sqs.list_queues().get("QueueUrls", [])),
        "queue": messages(sqs.get_queue_url(QueueName="bobs-queue")["QueueUrl"]),
        "inbox": messages(sqs.get_queue_url(QueueName="bobs-inbox")["QueueUrl"]),
        "topics": [(t["TopicArn"], sns.get_topic_attributes(TopicArn=t["TopicArn"])["Attributes"].get("DisplayName"))
                   for t in sns.list_topics()["Topics"]],
        "subscriptions": sorted(s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]),
        "clusters": [(c["clusterArn"], c["status"], c.get("tags")) for c in
                     b("ecs").describe_clusters(clusters=b("ecs").list_clusters()["clusterArns"], include=["TAGS"])["clusters"]],
        "repos": [(x["repositoryName"], maybe(lambda: b("ecr").get_repository_policy(repositoryName="bobs-repo")["policyText"]))
                  for x in b("ecr").describe_repositories()["repositories"]],
        "policies": [(p["Arn"], p["DefaultVersionId"], p["AttachmentCount"]) for p in b("iam").list_policies(Scope="Local")["Policies"]],
        "roles": [x["RoleName"] for x in b("iam").list_roles()["Roles"]],
        "buses": [x["Name"] for x in b("events").list_event_buses()["EventBuses"]],
        "rules": [(x["Name"], x.get("State")) for x in b("events").list_rules(EventBusName="bobs-bus")["Rules"]],
        "targets": b("events").list_targets_by_rule(Rule="bobs-rule", EventBusName="bobs-bus")["Targets"],
        "secret": maybe(lambda: b("secretsmanager").get_secret_value(SecretId="bobs-secret")["SecretString"]),
        "param": maybe(lambda: b("ssm").get_parameter(Name="/bobs/param")["Parameter"]["Version"]),
        "items": maybe(lambda: b("dynamodb").scan(TableName="bobs-table")["Items"]),
        "log_groups": [(g["logGroupName"], g.get("retentionInDays")) for g in b("logs").describe_log_groups()["logGroups"]],
        "alarms": [(a["AlarmName"], a["StateValue"]) for a in b("cloudwatch").describe_alarms()["MetricAlarms"]],
        "load_balancers": [x["LoadBalancerArn"] for x in b("elbv2").describe_load_balancers()["LoadBalancers"]],
    }  # fmt: skip


# Each operation: (service, operation, parameters), a parameter `"@name"` standing for a reference to
# one of Bob's resources (drawn from every reference: sometimes the right kind, sometimes not) and
# `"$text"` for a random string.
OPERATIONS: list[tuple[str, str, dict[str, Any]]] = [
    ("s3", "get_object", {"Bucket": "@bucket", "Key": "notes.txt"}),
    ("s3", "put_object", {"Bucket": "@bucket", "Key": "$text", "Body": "$text"}),
    ("s3", "delete_object", {"Bucket": "@bucket", "Key": "notes.txt"}),
    ("s3", "delete_bucket", {"Bucket": "@bucket"}),
    ("s3", "list_objects_v2", {"Bucket": "@bucket"}),
    ("s3", "put_bucket_policy", {"Bucket": "@bucket", "Policy": _POLICY}),
    ("s3", "put_bucket_tagging", {"Bucket": "@bucket", "Tagging": {"TagSet": [{"Key": "k", "Value": "$text"}]}}),
    ("s3", "copy_object", {"Bucket": "@bucket", "Key": "$text", "CopySource": {"Bucket": "@bucket", "Key": "notes.txt"}}),
    ("sns", "publish", {"TopicArn": "@topic", "Message": "$text"}),
    ("sns", "subscribe", {"TopicArn": "@topic", "Protocol": "sqs", "Endpoint": "@queue_arn"}),
    ("sns", "delete_topic", {"TopicArn": "@topic"}),
    ("sns", "set_topic_attributes", {"TopicArn": "@topic", "AttributeName": "DisplayName", "AttributeValue": "$text"}),
    ("sqs", "send_message", {"QueueUrl": "@queue", "MessageBody": "$text"}),
    ("sqs", "receive_message", {"QueueUrl": "@inbox"}),
    ("sqs", "delete_queue", {"QueueUrl": "@queue"}),
    ("sqs", "purge_queue", {"QueueUrl": "@inbox"}),
    ("sqs", "set_queue_attributes", {"QueueUrl": "@queue", "Attributes": {"VisibilityTimeout": "77"}}),
    ("ecs", "delete_cluster", {"cluster": "@cluster"}),
    ("ecs", "tag_resource", {"resourceArn": "@cluster", "tags": [{"key": "k", "value": "$text"}]}),
    ("ecr", "delete_repository", {"registryId": "@registry", "repositoryName": "bobs-repo", "force": True}),
    ("ecr", "set_repository_policy", {"registryId": "@registry", "repositoryName": "bobs-repo", "policyText": _POLICY}),
    ("iam", "delete_policy", {"PolicyArn": "@policy"}),
    ("iam", "create_policy_version", {"PolicyArn": "@policy", "PolicyDocument": _POLICY, "SetAsDefault": True}),
    ("iam", "attach_role_policy", {"RoleName": "bobs-role", "PolicyArn": "@policy"}),
    ("sts", "assume_role", {"RoleArn": "@role", "RoleSessionName": "ada"}),
    ("events", "put_events", {"Entries": [{"Source": "x", "DetailType": "t", "Detail": "{}", "EventBusName": "@bus"}]}),
    ("events", "delete_rule", {"Name": "bobs-rule", "EventBusName": "@bus"}),
    ("events", "remove_targets", {"Rule": "bobs-rule", "EventBusName": "@bus", "Ids": ["q"]}),
    ("events", "disable_rule", {"Name": "bobs-rule", "EventBusName": "@bus"}),
    ("secretsmanager", "delete_secret", {"SecretId": "@secret", "ForceDeleteWithoutRecovery": True}),
    ("secretsmanager", "put_secret_value", {"SecretId": "@secret", "SecretString": "$text"}),
    ("ssm", "delete_parameter", {"Name": "@param"}),
    ("ssm", "put_parameter", {"Name": "@param", "Value": "$text", "Overwrite": True}),
    ("dynamodb", "put_item", {"TableName": "@table", "Item": {"k": {"S": "$text"}}}),
    ("dynamodb", "delete_table", {"TableName": "@table"}),
    ("logs", "delete_log_group", {"logGroupName": "@log_group"}),
    ("logs", "tag_resource", {"resourceArn": "@log_group", "tags": {"k": "v"}}),
    ("cloudwatch", "tag_resource", {"ResourceARN": "@alarm", "Tags": [{"Key": "k", "Value": "v"}]}),
    ("elbv2", "delete_load_balancer", {"LoadBalancerArn": "@lb"}),
    ("elbv2", "add_tags", {"ResourceArns": ["@lb"], "Tags": [{"Key": "k", "Value": "v"}]}),
]  # fmt: skip

_REFERENCES = (
    "bucket", "bucket_arn", "queue", "inbox", "queue_arn", "topic", "cluster", "registry", "repo_arn", "repo_uri",
    "role", "policy", "bus", "rule", "secret", "param", "table", "log_group", "alarm", "lb", "account",
)  # fmt: skip


@st.composite
def requests_from_ada(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    """One of the course's operations, its references to Bob's resources right or swapped for others."""
    service, operation, template = draw(st.sampled_from(OPERATIONS))
    text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and value.startswith("@"):
            return "@" + draw(st.sampled_from((value[1:], value[1:], *_REFERENCES)))
        if value == "$text":
            return draw(text)
        return value

    return service, operation, fill(template)


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    if isinstance(value, str) and value.startswith("@"):
        return refs[value[1:]]
    return value


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(requests_from_ada(), min_size=1, max_size=3))
def test_no_request_from_one_learner_changes_anothers_account(
    workshop: Workshop, requests: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """Whatever Ada sends, naming Bob's resources however she likes, Bob's account stays as it was."""
    a, b = clients_of(workshop, workshop.a), clients_of(workshop, workshop.b)
    refs = getattr(workshop, "_bobs_refs", None)
    if refs is None:
        refs = build_bobs_account(b)
        workshop._bobs_refs = refs  # type: ignore[attr-defined]
    before = bobs_state(b)
    for service, operation, params in requests:
        # Refused (or invalid): what matters is Bob's account.
        with contextlib.suppress(ClientError, BotoCoreError):
            getattr(a(service), operation)(**_resolve(params, refs))
    assert bobs_state(b) == before
