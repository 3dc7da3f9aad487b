"""CloudWatch alarm state changes reach EventBridge as `CloudWatch Alarm State Change` events."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox

pytest.importorskip(
    "labkit.sandbox.simulator.alarms", reason="needs the alarm simulator (issue 5, scaling half)"
)


def test_an_alarm_going_into_alarm_is_an_event_a_rule_delivers(sandbox: EmbeddedSandbox) -> None:
    """The event names the alarm, its metric, the previous and the new state, in AWS's shape."""
    sqs, events, cw = sandbox.client("sqs"), sandbox.client("events"), sandbox.client("cloudwatch")
    url = sqs.create_queue(QueueName="alarms")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="alarms",
        EventPattern=json.dumps({"source": ["aws.cloudwatch"], "detail": {"state": {"value": ["ALARM"]}}}),
    )
    events.put_targets(Rule="alarms", Targets=[{"Id": "q", "Arn": arn}])
    now = sandbox.now()
    base = dt.datetime.fromtimestamp(math.floor(now.timestamp() / 60) * 60, dt.UTC)
    cw.put_metric_data(
        Namespace="Lab",
        MetricData=[{"MetricName": "Latency", "Value": 90, "Timestamp": base + dt.timedelta(seconds=5)}],
    )
    cw.put_metric_alarm(
        AlarmName="latency", Namespace="Lab", MetricName="Latency", Statistic="Average", Period=60,
        Threshold=50, ComparisonOperator="GreaterThanThreshold", EvaluationPeriods=1,
    )  # fmt: skip
    sandbox.advance((base + dt.timedelta(minutes=1) - sandbox.now()).total_seconds())
    assert cw.describe_alarms(AlarmNames=["latency"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("aws.cloudwatch", "CloudWatch Alarm State Change")
    assert event["resources"] == [f"arn:aws:cloudwatch:{sandbox.region}:{sandbox.account_id}:alarm:latency"]
    detail = event["detail"]
    assert detail["alarmName"] == "latency"
    assert detail["state"]["value"] == "ALARM"
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert detail["state"]["timestamp"].endswith("+0000")
    [metric] = detail["configuration"]["metrics"]
    assert metric["metricStat"]["metric"] == {"dimensions": {}, "name": "Latency", "namespace": "Lab"}
    assert (metric["metricStat"]["period"], metric["metricStat"]["stat"]) == (60, "Average")
