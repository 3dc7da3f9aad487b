"""Application Auto Scaling scales ECS services on the sandbox clock, as on AWS."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import urllib.request
import zoneinfo
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack

DIMENSION = "ecs:service:DesiredCount"
RESOURCE = "service/course/web"


def _register(stack: Stack, low: int = 1, high: int = 10) -> Any:
    aas = stack.sandbox.client("application-autoscaling")
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=RESOURCE,
        ScalableDimension=DIMENSION,
        MinCapacity=low,
        MaxCapacity=high,
    )
    return aas


def _tracking(aas: Any, metric: str, target: float, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"PredefinedMetricType": metric}
    if "ResourceLabel" in extra:
        spec["ResourceLabel"] = extra.pop("ResourceLabel")
    config = {"TargetValue": target, "PredefinedMetricSpecification": spec, **extra}
    answer: dict[str, Any] = aas.put_scaling_policy(
        PolicyName=f"{metric}-tracking", ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling", TargetTrackingScalingPolicyConfiguration=config,
    )  # fmt: skip
    return answer


def _desired(stack: Stack) -> int:
    return int(stack.service()["desiredCount"])


def _activities(aas: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = aas.describe_scaling_activities(ServiceNamespace="ecs", ResourceId=RESOURCE)[
        "ScalingActivities"
    ]
    return rows


def _label(stack: Stack) -> str:
    lb = stack.load_balancer_arn.split(":loadbalancer/")[-1]
    return f"{lb}/{stack.target_group_arn.split(':')[-1]}"


class TestTargetTracking:
    def test_cpu_scales_out_to_the_target_and_back_in(self, stack: Stack) -> None:
        """1024 CPU units on 256-unit tasks at a 50 % target need 8 tasks; with the load gone it returns to 1."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0, ScaleOutCooldown=60, ScaleInCooldown=60)
        stack.sandbox.set_load(cluster="course", service="web", cpu=1024)
        advance_until(stack.sandbox, lambda: _desired(stack) == 8, step=60, limit=1800, what="scale-out to 8")
        stack.sandbox.advance(600)
        assert _desired(stack) == 8
        assert stack.service()["runningCount"] == 8
        first = _activities(aas)[-1]
        assert first["Description"] == "Setting desired count to 2."
        assert first["Cause"].startswith("monitor alarm TargetTracking-service/course/web-AlarmHigh-")
        assert first["Cause"].endswith(
            "in state ALARM triggered policy ECSServiceAverageCPUUtilization-tracking"
        )
        assert first["StatusCode"] == "Successful"
        assert (
            first["StatusMessage"]
            == "Successfully set desired count to 2. Change successfully fulfilled by ecs."
        )
        stack.sandbox.set_load(cluster="course", service="web", cpu=0)
        waited = advance_until(
            stack.sandbox, lambda: _desired(stack) == 1, step=60, limit=3600, what="scale-in"
        )
        # The low alarm needs 15 datapoints of one minute below 90 % of the target first.
        assert waited >= 15 * 60
        assert _activities(aas)[0]["Cause"].startswith(
            "monitor alarm TargetTracking-service/course/web-AlarmLow-"
        )

    def test_memory_scales_out_and_back_in(self, stack: Stack) -> None:
        """1536 MiB on 512 MiB tasks at a 75 % target needs 4 tasks; a smaller load scales in to 2."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        _tracking(aas, "ECSServiceAverageMemoryUtilization", 75.0, ScaleOutCooldown=60, ScaleInCooldown=60)
        stack.sandbox.set_load(cluster="course", service="web", memory=1536)
        advance_until(stack.sandbox, lambda: _desired(stack) == 4, step=60, limit=1800, what="scale-out to 4")
        stack.sandbox.set_load(cluster="course", service="web", memory=600)
        advance_until(stack.sandbox, lambda: _desired(stack) == 2, step=60, limit=3600, what="scale-in to 2")
        stack.sandbox.advance(1200)
        assert _desired(stack) == 2

    def test_alb_requests_per_target_scale_out_with_real_requests(self, stack: Stack) -> None:
        """60 real requests in a minute to one target at a target of 20 per target scale to 3 tasks."""
        stack.create_service(desired=1)
        aas = _register(stack, 1, 10)
        _tracking(
            aas,
            "ALBRequestCountPerTarget",
            20.0,
            ResourceLabel=_label(stack),
            ScaleOutCooldown=60,
            ScaleInCooldown=60,
        )
        advance_until(
            stack.sandbox, lambda: stack.target_states() == ["healthy"], step=10, what="a healthy target"
        )
        # Start at a whole minute, so the minute's requests land in one datapoint.
        now = stack.sandbox.now()
        stack.sandbox.advance(60 - now.second - now.microsecond / 1e6 + 1)
        url = stack.url
        for _ in range(60):
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
        stack.sandbox.advance(60)
        assert _desired(stack) == 3
        load = stack.sandbox.load()
        assert sum(row["requests"] for row in load["requests_by_target"]) == 60
        cw = stack.sandbox.client("cloudwatch")
        end = stack.sandbox.now()
        points = cw.get_metric_statistics(
            Namespace="AWS/ApplicationELB", MetricName="RequestCountPerTarget",
            Dimensions=[{"Name": "TargetGroup", "Value": stack.target_group_arn.split(":")[-1]}],
            StartTime=end - dt.timedelta(minutes=5), EndTime=end, Period=60, Statistics=["Sum"],
        )["Datapoints"]  # fmt: skip
        assert [p["Sum"] for p in points] == [60.0]

    def test_alb_requests_per_target_scale_back_in(self, stack: Stack) -> None:
        """A request rate of 2 per second at a target of 40 per target needs 3 tasks, half of it 2."""
        stack.create_service(desired=1)
        aas = _register(stack, 1, 10)
        _tracking(
            aas,
            "ALBRequestCountPerTarget",
            40.0,
            ResourceLabel=_label(stack),
            ScaleOutCooldown=60,
            ScaleInCooldown=60,
        )
        stack.sandbox.set_load(target_group="web", requests_per_second=2)
        advance_until(stack.sandbox, lambda: _desired(stack) == 3, step=60, limit=1800, what="scale-out to 3")
        stack.sandbox.set_load(target_group="web", requests_per_second=1)
        advance_until(stack.sandbox, lambda: _desired(stack) == 2, step=60, limit=3600, what="scale-in to 2")

    def test_no_traffic_leaves_the_low_alarm_without_data(self, stack: Stack) -> None:
        """ALB metrics exist only while requests flow: with none, AlarmLow is INSUFFICIENT_DATA and nothing scales in."""
        stack.create_service(desired=2)
        aas = _register(stack, 1, 10)
        alarms = _tracking(aas, "ALBRequestCountPerTarget", 40.0, ResourceLabel=_label(stack))["Alarms"]
        stack.sandbox.advance(1800)
        cw = stack.sandbox.client("cloudwatch")
        states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms()["MetricAlarms"]}
        assert set(states.values()) == {"INSUFFICIENT_DATA"}
        assert sorted(states) == sorted(a["AlarmName"] for a in alarms)
        assert _desired(stack) == 2

    def test_the_alarms_target_tracking_creates_are_described(self, stack: Stack) -> None:
        """AlarmHigh: above the target for 3 one-minute datapoints; AlarmLow: below 90 % of it for 15."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack)
        policy = _tracking(aas, "ECSServiceAverageCPUUtilization", 60.0)
        cw = stack.sandbox.client("cloudwatch")
        described = {
            a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix="TargetTracking-")["MetricAlarms"]
        }
        assert sorted(described) == sorted(a["AlarmName"] for a in policy["Alarms"])
        high = next(a for name, a in described.items() if "-AlarmHigh-" in name)
        low = next(a for name, a in described.items() if "-AlarmLow-" in name)
        assert high["AlarmName"].startswith("TargetTracking-service/course/web-AlarmHigh-")
        assert (high["ComparisonOperator"], high["Threshold"], high["EvaluationPeriods"], high["Period"]) == (
            "GreaterThanThreshold", 60.0, 3, 60
        )  # fmt: skip
        assert (low["ComparisonOperator"], low["Threshold"], low["EvaluationPeriods"], low["Period"]) == (
            "LessThanThreshold", 54.0, 15, 60
        )  # fmt: skip
        assert (high["Namespace"], high["MetricName"], high["Statistic"]) == (
            "AWS/ECS",
            "CPUUtilization",
            "Average",
        )
        assert high["AlarmActions"] == [policy["PolicyARN"]]
        assert high["AlarmDescription"] == (
            f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy['PolicyARN']}."
        )
        assert high["StateValue"] == "INSUFFICIENT_DATA"
        scale_out_only = _tracking(aas, "ECSServiceAverageMemoryUtilization", 70.0, DisableScaleIn=True)
        assert [a["AlarmName"].split("-")[-6] for a in scale_out_only["Alarms"]] == ["AlarmHigh"]

    def test_alb_tracking_needs_a_resource_label(self, stack: Stack) -> None:
        """Without a ResourceLabel, or with one naming no target group of a load balancer, AWS refuses the policy."""
        stack.create_service(desired=1)
        aas = _register(stack)
        with pytest.raises(ClientError) as missing:
            _tracking(aas, "ALBRequestCountPerTarget", 100.0)
        assert missing.value.response["Error"]["Code"] == "ValidationException"
        assert missing.value.response["Error"]["Message"] == (
            "Resource label should be specified for predefined metric type ALBRequestCountPerTarget"
        )
        with pytest.raises(ClientError) as wrong:
            _tracking(
                aas, "ALBRequestCountPerTarget", 100.0, ResourceLabel="app/nope/123/targetgroup/nope/456"
            )
        assert wrong.value.response["Error"]["Code"] == "ValidationException"

    def test_a_policy_needs_a_registered_target(self, stack: Stack) -> None:
        """put_scaling_policy on a service that is no scalable target is ObjectNotFoundException."""
        stack.create_service(desired=1, load_balanced=False)
        aas = stack.sandbox.client("application-autoscaling")
        with pytest.raises(ClientError) as caught:
            _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0)
        assert caught.value.response["Error"]["Code"] == "ObjectNotFoundException"
        assert (
            "No scalable target registered for service namespace: ecs"
            in caught.value.response["Error"]["Message"]
        )


class TestCooldownsAndBounds:
    def test_a_scale_out_cooldown_counts_the_capacity_it_added(self, stack: Stack) -> None:
        """Saturated tasks ask for twice as many each minute; during the 300 s cooldown the first scale-out is not repeated."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 20)
        _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0, ScaleOutCooldown=300, ScaleInCooldown=300)
        stack.sandbox.set_load(cluster="course", service="web", cpu=4096)
        advance_until(stack.sandbox, lambda: _desired(stack) == 2, step=60, limit=600, what="first scale-out")
        seen = []
        for _ in range(4):
            stack.sandbox.advance(60)
            seen.append(_desired(stack))
        assert seen == [2, 2, 2, 2]
        advance_until(
            stack.sandbox, lambda: _desired(stack) == 4, step=60, limit=120, what="scale-out after cooldown"
        )
        times = sorted(a["StartTime"] for a in _activities(aas))
        assert (times[1] - times[0]).total_seconds() >= 300

    def test_scale_in_waits_for_its_cooldown(self, stack: Stack) -> None:
        """After a scale-in, the next one comes no sooner than ScaleInCooldown."""
        stack.create_service(desired=8, load_balanced=False)
        aas = _register(stack, 1, 10)
        _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0, ScaleInCooldown=600)
        stack.sandbox.set_load(cluster="course", service="web", cpu=1024)  # 8 tasks at 50 %
        stack.sandbox.advance(20 * 60)
        stack.sandbox.set_load(cluster="course", service="web", cpu=400)  # needs ceil(400/128) = 4
        advance_until(stack.sandbox, lambda: _desired(stack) < 8, step=60, limit=3600, what="a scale-in")
        stack.sandbox.set_load(cluster="course", service="web", cpu=100)  # needs 1
        advance_until(
            stack.sandbox, lambda: _desired(stack) == 1, step=60, limit=3600, what="second scale-in"
        )
        ins = sorted(a["StartTime"] for a in _activities(aas))
        assert len(ins) >= 2
        assert all((later - earlier).total_seconds() >= 600 for earlier, later in itertools.pairwise(ins))

    def test_capacity_stays_within_min_and_max(self, stack: Stack) -> None:
        """A load that needs 16 tasks gets MaxCapacity 3; no load leaves MinCapacity 2."""
        stack.create_service(desired=2, load_balanced=False)
        aas = _register(stack, 2, 3)
        _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0, ScaleOutCooldown=60, ScaleInCooldown=60)
        stack.sandbox.set_load(cluster="course", service="web", cpu=2048)
        stack.sandbox.advance(900)
        assert _desired(stack) == 3
        stack.sandbox.set_load(cluster="course", service="web", cpu=0)
        stack.sandbox.advance(3600)
        assert _desired(stack) == 2
        assert {a["Description"] for a in _activities(aas)} == {
            "Setting desired count to 3.",
            "Setting desired count to 2.",
        }


class TestStepScaling:
    def _step_policy(self, aas: Any, steps: list[dict[str, Any]], **extra: Any) -> str:
        config = {"AdjustmentType": "ChangeInCapacity", "StepAdjustments": steps, **extra}
        arn: str = aas.put_scaling_policy(
            PolicyName="steps", ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
            PolicyType="StepScaling", StepScalingPolicyConfiguration=config,
        )["PolicyARN"]  # fmt: skip
        return arn

    def test_a_learners_alarm_fires_the_step_that_holds_the_metric(self, stack: Stack) -> None:
        """CPU at 100 % against a threshold of 70 is 30 above it: the [20, inf) step adds 3 tasks."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        arn = self._step_policy(
            aas,
            [
                {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 1},
                {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3},
            ],
            Cooldown=600,
        )
        cw = stack.sandbox.client("cloudwatch")
        cw.put_metric_alarm(
            AlarmName="web-cpu-high", Namespace="AWS/ECS", MetricName="CPUUtilization",
            Dimensions=[{"Name": "ClusterName", "Value": "course"}, {"Name": "ServiceName", "Value": "web"}],
            Statistic="Average", Period=60, EvaluationPeriods=2, Threshold=70,
            ComparisonOperator="GreaterThanThreshold", AlarmActions=[arn],
        )  # fmt: skip
        stack.sandbox.set_load(cluster="course", service="web", cpu=1024)
        advance_until(stack.sandbox, lambda: _desired(stack) == 4, step=60, limit=600, what="step scale-out")
        activity = _activities(aas)[0]
        assert activity["Cause"] == "monitor alarm web-cpu-high in state ALARM triggered policy steps"
        # 4 tasks at 100 %: still above; the cooldown holds the next step for 600 s.
        stack.sandbox.advance(300)
        assert _desired(stack) == 4

    def test_a_step_policy_lists_the_alarms_that_invoke_it(self, stack: Stack) -> None:
        """DescribeScalingPolicies names the CloudWatch alarm whose AlarmActions hold the policy, and only that one."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        arn = self._step_policy(aas, [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}])
        cw = stack.sandbox.client("cloudwatch")
        alarm = {
            "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "jobs"}], "Statistic": "Maximum", "Period": 60,
            "EvaluationPeriods": 1, "Threshold": 10, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        }  # fmt: skip
        [policy] = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        assert policy["Alarms"] == []
        cw.put_metric_alarm(AlarmName="jobs-waiting", AlarmActions=[arn], **alarm)
        cw.put_metric_alarm(AlarmName="unrelated", **alarm)
        [policy] = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        assert [a["AlarmName"] for a in policy["Alarms"]] == ["jobs-waiting"]
        assert policy["Alarms"][0]["AlarmARN"].endswith(":alarm:jobs-waiting")

    def test_sqs_queue_depth_drives_a_step_policy(self, stack: Stack) -> None:
        """25 messages waiting in a queue (none consumed) put the depth alarm in ALARM; ExactCapacity sets 5 tasks."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        arn = self._step_policy(
            aas,
            [
                {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20, "ScalingAdjustment": 5},
                {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 10},
            ],
            AdjustmentType="ExactCapacity",
        )
        sqs = stack.sandbox.client("sqs")
        queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        for index in range(25):
            sqs.send_message(QueueUrl=queue, MessageBody=f"job {index}")
        cw = stack.sandbox.client("cloudwatch")
        cw.put_metric_alarm(
            AlarmName="jobs-waiting", Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": "jobs"}], Statistic="Maximum", Period=60,
            EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[arn],
        )  # fmt: skip
        advance_until(stack.sandbox, lambda: _desired(stack) == 5, step=60, limit=300, what="queue scale-out")
        end = stack.sandbox.now()
        depth = cw.get_metric_statistics(
            Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
            Dimensions=[{"Name": "QueueName", "Value": "jobs"}], StartTime=end - dt.timedelta(minutes=5),
            EndTime=end, Period=60, Statistics=["Maximum"],
        )["Datapoints"]  # fmt: skip
        assert {p["Maximum"] for p in depth} == {25.0}


class TestScheduledActions:
    def test_a_cron_action_in_a_time_zone_fires_exactly_when_due(self, stack: Stack) -> None:
        """cron(0 9 * * ? *) in Europe/Paris fires at 09:00 Paris time, not a second before; min 3 raises the count to 3."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        aas.put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName="morning", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
            Schedule="cron(0 9 * * ? *)", Timezone="Europe/Paris",
            ScalableTargetAction={"MinCapacity": 3, "MaxCapacity": 10},
        )  # fmt: skip
        paris = zoneinfo.ZoneInfo("Europe/Paris")
        local = stack.sandbox.now().astimezone(paris)
        due = local.replace(hour=9, minute=0, second=0, microsecond=0)
        if due <= local:
            due += dt.timedelta(days=1)
        stack.sandbox.advance((due - stack.sandbox.now()).total_seconds() - 1)
        assert _desired(stack) == 1
        stack.sandbox.advance(1)
        assert _desired(stack) == 3
        target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
        assert target["MinCapacity"] == 3
        causes = {a["Cause"] for a in _activities(aas)}
        assert causes == {"scheduled action name morning was triggered"}
        assert {a["Description"] for a in _activities(aas)} == {
            "Setting min capacity to 3 and max capacity to 10",
            "Setting desired count to 3.",
        }

    def test_an_at_action_fires_once(self, stack: Stack) -> None:
        """at(...) ten minutes ahead lowers the max to 1, which scales the service in; it never fires again."""
        stack.create_service(desired=3, load_balanced=False)
        aas = _register(stack, 1, 10)
        when = (stack.sandbox.now() + dt.timedelta(minutes=10)).replace(microsecond=0)
        aas.put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName="night", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
            Schedule=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})", ScalableTargetAction={"MinCapacity": 0, "MaxCapacity": 1},
        )  # fmt: skip
        stack.sandbox.advance((when - stack.sandbox.now()).total_seconds() - 1)
        assert _desired(stack) == 3
        stack.sandbox.advance(1)
        assert _desired(stack) == 1
        stack.sandbox.advance(86400)
        assert len(_activities(aas)) == 2

    def test_a_rate_action_fires_between_its_start_and_end_times(self, stack: Stack) -> None:
        """rate(1 hour) from a StartTime 30 minutes ahead, ending 2.5 hours later, fires at +1.5 h and +2.5 h only."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack, 1, 10)
        start = (stack.sandbox.now() + dt.timedelta(minutes=30)).replace(microsecond=0)
        aas.put_scheduled_action(
            ServiceNamespace="ecs", ScheduledActionName="hourly", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
            Schedule="rate(1 hour)", StartTime=start, EndTime=start + dt.timedelta(hours=2, minutes=30),
            ScalableTargetAction={"MinCapacity": 2},
        )  # fmt: skip
        stack.sandbox.advance(3600 * 6)
        fired = sorted(a["StartTime"] for a in _activities(aas) if a["Description"].startswith("Setting min"))
        assert [round((t - start).total_seconds()) for t in fired] == [3600, 7200]
        assert _desired(stack) == 2

    def test_a_bad_schedule_is_refused(self, stack: Stack) -> None:
        """A cron with both day fields set, or an unknown time zone, is a ValidationException."""
        stack.create_service(desired=1, load_balanced=False)
        aas = _register(stack)
        for schedule, zone in (("cron(0 9 * * MON *)", "UTC"), ("cron(0 9 * * ? *)", "Mars/Olympus")):
            with pytest.raises(ClientError) as caught:
                aas.put_scheduled_action(
                    ServiceNamespace="ecs", ScheduledActionName="bad", ResourceId=RESOURCE,
                    ScalableDimension=DIMENSION, Schedule=schedule, Timezone=zone,
                    ScalableTargetAction={"MinCapacity": 1},
                )  # fmt: skip
            assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_alarm_notifications_reach_an_sns_topic(stack: Stack) -> None:
    """An alarm's ALARM action publishes CloudWatch's alarm message JSON to the topic (here read from an SQS subscriber)."""
    stack.create_service(desired=1, load_balanced=False)
    sns, sqs = stack.sandbox.client("sns"), stack.sandbox.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    cw = stack.sandbox.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="busy", Namespace="AWS/ECS", MetricName="CPUUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": "course"}, {"Name": "ServiceName", "Value": "web"}],
        Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80,
        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic],
    )  # fmt: skip
    stack.sandbox.set_load(cluster="course", service="web", cpu=512)
    advance_until(
        stack.sandbox, lambda: cw.describe_alarms(AlarmNames=["busy"])["MetricAlarms"][0]["StateValue"] == "ALARM",
        step=60, limit=600, what="ALARM",
    )  # fmt: skip
    body = json.loads(sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"])
    assert body["Subject"] == 'ALARM: "busy" in US East (N. Virginia)'
    message = json.loads(body["Message"])
    assert (message["AlarmName"], message["OldStateValue"], message["NewStateValue"]) == (
        "busy", "INSUFFICIENT_DATA", "ALARM"
    )  # fmt: skip
    assert message["NewStateReason"].startswith("Threshold Crossed: 1 datapoint [100.0 (")
    assert message["Trigger"]["Statistic"] == "AVERAGE"
    assert message["Trigger"]["Dimensions"] == [
        {"value": "course", "name": "ClusterName"},
        {"value": "web", "name": "ServiceName"},
    ]
    history = cw.describe_alarm_history(AlarmName="busy", HistoryItemType="Action")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [f"Successfully executed action {topic}"]


def test_a_customized_metric_drives_target_tracking(stack: Stack) -> None:
    """A learner's own metric (put_metric_data) at twice the target doubles the service (once: the cooldown holds)."""
    stack.create_service(desired=2, load_balanced=False)
    aas = _register(stack, 1, 10)
    aas.put_scaling_policy(
        PolicyName="backlog", ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0,
            "CustomizedMetricSpecification": {
                "MetricName": "BacklogPerTask", "Namespace": "Lab", "Statistic": "Average",
                "Dimensions": [{"Name": "Service", "Value": "web"}],
            },
            "ScaleOutCooldown": 900,
        },
    )  # fmt: skip
    cw = stack.sandbox.client("cloudwatch")
    for _ in range(3):
        cw.put_metric_data(
            Namespace="Lab",
            MetricData=[
                {
                    "MetricName": "BacklogPerTask",
                    "Value": 200,
                    "Dimensions": [{"Name": "Service", "Value": "web"}],
                }
            ],
        )
        stack.sandbox.advance(60)
    assert _desired(stack) == 4


def test_times_follow_the_sandbox_clock_and_deregistering_cleans_up(stack: Stack) -> None:
    """A day later, CreationTime is the sandbox's now; deregistering deletes the policy and its alarms."""
    stack.create_service(desired=1, load_balanced=False)
    stack.sandbox.advance(86400)
    aas = _register(stack)
    _tracking(aas, "ECSServiceAverageCPUUtilization", 50.0)
    target = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert abs((target["CreationTime"] - stack.sandbox.now()).total_seconds()) < 1
    policy = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
    assert abs((policy["CreationTime"] - stack.sandbox.now()).total_seconds()) < 1
    aas.deregister_scalable_target(ServiceNamespace="ecs", ResourceId=RESOURCE, ScalableDimension=DIMENSION)
    assert aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"] == []
    assert stack.sandbox.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_min_above_max_is_refused(stack: Stack) -> None:
    """register_scalable_target with MinCapacity above MaxCapacity is a ValidationException."""
    stack.create_service(desired=1, load_balanced=False)
    aas = stack.sandbox.client("application-autoscaling")
    with pytest.raises(ClientError) as caught:
        aas.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=RESOURCE,
            ScalableDimension=DIMENSION,
            MinCapacity=5,
            MaxCapacity=2,
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_registering_brings_the_count_inside_min_and_max(stack: Stack) -> None:
    """A service at 1 task registered with min 3 is set to 3 at once, as RegisterScalableTarget does on AWS."""
    stack.create_service(desired=1, load_balanced=False)
    aas = _register(stack, 3, 6)
    assert _desired(stack) == 3
    assert _activities(aas)[0]["Description"] == "Setting desired count to 3."
    stack.sandbox.advance(60)
    assert stack.service()["runningCount"] == 3
