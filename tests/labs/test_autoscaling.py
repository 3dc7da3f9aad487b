"""The autoscaling lab: its reference steps pass every checkpoint, an empty account fails every one."""

from __future__ import annotations

import labkit
from labkit.checkpoints import CheckContext
from labkit.grading import grade, run_checkpoint
from labkit.sandbox.aws import SESSION_TAG
from labkit.sandbox.embedded import EmbeddedSandbox


def test_an_empty_account_fails_every_autoscaling_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """With nothing made yet, each checkpoint fails (none is passed or not graded)."""
    session = labkit.open_lab("autoscaling", sandbox=sandbox)
    report = grade("autoscaling", session.lab.checkpoints, sandbox)
    assert report.count("failed") == len(session.lab.checkpoints) >= 4, report.summary()


def test_the_reference_steps_pass_every_autoscaling_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """Catching up on a manual clock passes every checkpoint; in a real account only this session's service and alarm count."""
    session = labkit.open_lab("autoscaling", sandbox=sandbox)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    report = grade("autoscaling", session.lab.checkpoints, sandbox)
    assert report.score == report.possible, report.summary()
    aas = sandbox.client("application-autoscaling")
    target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (3, 6)  # the scheduled action's
    # As in a real account: only what carries this session's tag counts, the service and your alarm.
    context = CheckContext(sandbox, session_tag="session-1")
    assert [run_checkpoint(c, context).status for c in session.lab.checkpoints] == ["failed"] * 6
    tag = {"key": SESSION_TAG, "value": "session-1"}
    service = sandbox.client("ecs").describe_services(cluster="scaling-lab", services=["web"])["services"][0]
    sandbox.client("ecs").tag_resource(resourceArn=service["serviceArn"], tags=[tag])
    cloudwatch = sandbox.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=["scaling-lab-cpu-high"])["MetricAlarms"][0]
    statuses = {
        c.id: run_checkpoint(c, CheckContext(sandbox, session_tag="session-1")).status
        for c in session.lab.checkpoints
    }
    assert statuses["step-scaling-on-alarm"] == "failed"  # the alarm is not this session's yet
    assert [s for s in statuses.values() if s != "passed"] == ["failed"]
    cloudwatch.tag_resource(ResourceARN=alarm["AlarmArn"], Tags=[{"Key": SESSION_TAG, "Value": "session-1"}])
    context = CheckContext(sandbox, session_tag="session-1")
    assert [run_checkpoint(c, context).status for c in session.lab.checkpoints] == ["passed"] * 6


def test_a_wrong_target_and_an_alarm_that_never_fired_are_failed_with_the_reason(
    sandbox: EmbeddedSandbox,
) -> None:
    """A CPU target of 70 fails naming 70; a step policy on an alarm that never fired fails saying so."""
    session = labkit.open_lab("autoscaling", sandbox=sandbox)
    session.catch_up(to="scalable-target-registered")
    aas, cloudwatch = sandbox.client("application-autoscaling"), sandbox.client("cloudwatch")
    target = {"ServiceNamespace": "ecs", "ResourceId": "service/scaling-lab/web"}
    target["ScalableDimension"] = "ecs:service:DesiredCount"
    aas.put_scaling_policy(
        **target,
        PolicyName="cpu",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
        },
    )
    step = aas.put_scaling_policy(
        **target,
        PolicyName="steps",
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
        },
    )
    cloudwatch.put_metric_alarm(
        AlarmName="high",
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": "scaling-lab"}, {"Name": "ServiceName", "Value": "web"}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[step["PolicyARN"]],
    )
    cpu = session.check("cpu-target-tracking", display=False)
    assert not cpu.passed
    assert "TargetValue is 70" in cpu.message
    alarm = session.check("step-scaling-on-alarm", display=False)
    assert not alarm.passed
    assert "has not fired its step policy yet" in alarm.message
