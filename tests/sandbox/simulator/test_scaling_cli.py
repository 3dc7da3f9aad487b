"""The AWS CLI and `labkit sandbox load` drive target tracking in a server sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.demo import TASK_DEFINITION
from tests.conftest import run_labkit
from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow


def test_target_tracking_with_the_aws_cli(tmp_path: Path, aws_cli: AwsCli) -> None:
    """register-scalable-target, put-scaling-policy, load from `labkit sandbox load`; describe-scaling-activities shows the scale-out."""
    aws = aws_cli

    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    aws("ecs", "create-cluster", "--cluster-name", "course")
    definition = tmp_path / "taskdef.json"
    definition.write_text(json.dumps(TASK_DEFINITION))
    aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    aws(
        "ecs", "create-service", "--cluster", "course", "--service-name", "web",
        "--task-definition", "nginx-demo-hello", "--desired-count", "1", "--launch-type", "FARGATE",
        "--network-configuration", f"awsvpcConfiguration={{subnets=[{','.join(subnets)}]}}",
    )  # fmt: skip
    aws(
        "application-autoscaling", "register-scalable-target", "--service-namespace", "ecs",
        "--scalable-dimension", "ecs:service:DesiredCount", "--resource-id", "service/course/web",
        "--min-capacity", "1", "--max-capacity", "6",
    )  # fmt: skip
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "TargetValue": 50.0,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
                "ScaleOutCooldown": 60,
                "ScaleInCooldown": 60,
            }
        )
    )
    policy = aws(
        "application-autoscaling", "put-scaling-policy", "--service-namespace", "ecs",
        "--scalable-dimension", "ecs:service:DesiredCount", "--resource-id", "service/course/web",
        "--policy-name", "cpu50", "--policy-type", "TargetTrackingScaling",
        "--target-tracking-scaling-policy-configuration", f"file://{config}",
    )  # fmt: skip
    assert [a["AlarmName"].split("-")[-6] for a in policy["Alarms"]] == ["AlarmHigh", "AlarmLow"]
    loaded = run_labkit("sandbox", "load", "--cluster", "course", "--service", "web", "--cpu", "512")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "service course/web: cpu 512 units, memory 0 MiB"
    refused = run_labkit("sandbox", "load", "--cluster", "course", "--service", "nope", "--cpu", "1")
    assert refused.returncode != 0
    assert (
        refused.stderr.strip()
        == "labkit: cannot set the load: there is no active service 'nope' in cluster 'course'"
    )
    assert run_labkit("sandbox", "advance", "300").returncode == 0
    activities = aws(
        "application-autoscaling", "describe-scaling-activities", "--service-namespace", "ecs",
        "--resource-id", "service/course/web",
    )["ScalingActivities"]  # fmt: skip
    assert [a["Description"] for a in reversed(activities)] == [
        "Setting desired count to 2.",
        "Setting desired count to 4.",
    ]
    assert {a["StatusCode"] for a in activities} == {"Successful"}
    history = aws("cloudwatch", "describe-alarm-history", "--history-item-type", "StateUpdate")
    assert any(
        i["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
        for i in history["AlarmHistoryItems"]
    )
    service = aws("ecs", "describe-services", "--cluster", "course", "--services", "web")["services"][0]
    assert service["desiredCount"] == 4
