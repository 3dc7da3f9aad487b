"""Application Auto Scaling for ECS services (`ecs:service:DesiredCount`) on the sandbox clock.

moto stores scalable targets, policies and scheduled actions; here they act:

- **Target tracking** (`ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization`,
  `ALBRequestCountPerTarget` with its `ResourceLabel`, or a `CustomizedMetricSpecification`)
  creates the two alarms AWS creates: `TargetTracking-<resource>-AlarmHigh-<uuid>` (metric above
  the target for 3 datapoints of one minute) and, unless `DisableScaleIn`,
  `TargetTracking-<resource>-AlarmLow-<uuid>` (below 90 % of the target for 15 datapoints). The
  high alarm scales out in proportion (capacity x metric / target, rounded up); the low alarm
  scales in to the capacity the metric needs, judged on the highest of its 15 datapoints.
  During `ScaleOutCooldown` the capacity added by the scale-out that began it counts as part of
  the next scale-out (so only a larger one adds more); during `ScaleInCooldown` no scale-in
  happens, and a scale-out ends it.
- **Step scaling**, fired by the learner's own alarm: the step whose bounds (relative to the
  alarm's threshold) hold the metric (aggregated by `MetricAggregationType`) gives the
  adjustment (`ChangeInCapacity`, `PercentChangeInCapacity` with `MinAdjustmentMagnitude`,
  `ExactCapacity`); `Cooldown` works as AWS documents for step policies. `DescribeScalingPolicies`
  lists, as AWS does, the alarms whose actions invoke a step policy.
- **Scheduled actions** (`at`, `rate`, `cron` with `Timezone`, `StartTime`/`EndTime`) fire when
  due on the clock and set the target's min and max capacity, moving the desired count into them.

Every change goes through the ECS simulator (tasks start and stop as usual) and is listed by
`describe_scaling_activities`, worded as AWS words it. The hooks into moto are in
`labkit.sandbox.moto_seam.applicationautoscaling` and `labkit.sandbox.moto_seam.cloudwatch`. Capacity always stays within the target's
min and max.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["ECS_METRICS", "AutoScalingSimulator", "tracked_metric"]

ECS_DIMENSION = "ecs:service:DesiredCount"
ECS_METRICS = {
    "ECSServiceAverageCPUUtilization": ("AWS/ECS", "CPUUtilization", "Average"),
    "ECSServiceAverageMemoryUtilization": ("AWS/ECS", "MemoryUtilization", "Average"),
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum"),
}


@dataclass
class _Cooldowns:
    """When a policy last scaled out or in, and the capacity before the scale-out."""

    out_at: dt.datetime | None = None
    capacity_before_out: int = 0
    in_at: dt.datetime | None = None


class AutoScalingSimulator:
    """Runs Application Auto Scaling policies and scheduled actions for one sandbox."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.activities: list[dict[str, Any]] = []
        self._cooldowns: dict[str, _Cooldowns] = {}
        self._scheduled: dict[tuple[str, str, str, str], Any] = {}

    @property
    def backend(self) -> Any:
        return moto_seam.backend("applicationautoscaling", self.sim.account_id, self.sim.region)

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.sim.random.getrandbits(128), version=4))

    # -- capacity ---------------------------------------------------------------------------

    def _service(self, resource_id: str) -> Any | None:
        parts = resource_id.split("/")
        if len(parts) != 3:
            return None
        runtime = self.sim.ecs.services.get(f"{parts[1]}:{parts[2]}")
        if runtime is None or runtime.service.status != "ACTIVE":
            return None
        return runtime

    def _target(self, namespace: str, resource_id: str, dimension: str) -> Any | None:
        return self.backend.targets.get(dimension, {}).get(resource_id)

    def capacity(self, resource_id: str) -> int | None:
        """The ECS service's desired count (the scalable target's current capacity)."""
        runtime = self._service(resource_id)
        return int(runtime.service.desired_count) if runtime is not None else None

    def _set_capacity(self, target: Any, new: int, cause: str) -> dict[str, Any] | None:
        runtime = self._service(target.resource_id)
        if runtime is None:
            return None
        runtime.service.desired_count = new
        self.sim.ecs.service_updated(runtime.service, {}, None)
        return self._activity(
            target,
            f"Setting desired count to {new}.",
            cause,
            f"Successfully set desired count to {new}. Change successfully fulfilled by ecs.",
        )

    def _activity(self, target: Any, description: str, cause: str, message: str) -> dict[str, Any]:
        now = self.sim.now()
        activity = {
            "ActivityId": self._uuid(),
            "ServiceNamespace": target.service_namespace,
            "ResourceId": target.resource_id,
            "ScalableDimension": target.scalable_dimension,
            "Description": description,
            "Cause": cause,
            "StartTime": now.timestamp(),
            "EndTime": now.timestamp(),
            "StatusCode": "Successful",
            "StatusMessage": message,
        }
        self.activities.insert(0, activity)
        return activity

    @staticmethod
    def _bounds(target: Any, value: int) -> int:
        low = int(target.min_capacity if target.min_capacity is not None else 0)
        high = int(target.max_capacity if target.max_capacity is not None else value)
        return max(low, min(high, value))

    @staticmethod
    def _suspended(target: Any, what: str) -> bool:
        return bool((target.suspended_state or {}).get(what))

    # -- policies fired by alarms -----------------------------------------------------------

    def policy(self, policy_arn: str) -> Any | None:
        """The moto policy with this ARN."""
        return next((p for p in self.backend.policies.values() if p.policy_arn == policy_arn), None)

    def alarm_invoked(self, policy_arn: str, alarm: Any) -> dict[str, Any] | str | None:
        """An alarm's action runs a policy: scale if it says so; None when there is no such policy."""
        policy = self.policy(policy_arn)
        if policy is None:
            return None
        target = self._target(policy.service_namespace, policy.resource_id, policy.scalable_dimension)
        current = self.capacity(policy.resource_id)
        if target is None or current is None:
            return "no scalable target"
        values = self.sim.alarms.evaluation(alarm, int(self.sim.now().timestamp()), describe=False).values
        cause = (
            f"monitor alarm {alarm.name} in state {alarm.state_value} triggered policy {policy.policy_name}"
        )
        bounded = self._bounds(target, current)
        if bounded != current:
            # A capacity changed out of band to outside min..max is brought back first (AWS does so
            # whenever a policy is invoked).
            self._set_capacity(target, bounded, cause)
            current = bounded
        if policy.policy_type == "TargetTrackingScaling":
            return self._target_tracking(policy, target, alarm, values, current, cause) or "no change"
        if policy.policy_type == "StepScaling":
            return self._step(policy, target, alarm, values, current, cause) or "no change"
        return "unsupported policy type"

    def _target_tracking(
        self, policy: Any, target: Any, alarm: Any, values: list[float], current: int, cause: str
    ) -> dict[str, Any] | None:
        config = policy.target_tracking_scaling_policy_configuration or {}
        goal = float(config.get("TargetValue") or 0)
        if not values or goal <= 0:
            return None
        now = self.sim.now()
        state = self._cooldowns.setdefault(policy.policy_arn, _Cooldowns())
        high = "-AlarmHigh-" in alarm.name
        if high:
            if self._suspended(target, "DynamicScalingOutSuspended"):
                return None
            cooldown = float(config.get("ScaleOutCooldown", 300))
            in_cooldown = state.out_at is not None and (now - state.out_at).total_seconds() < cooldown
            base = state.capacity_before_out if in_cooldown else current
            wanted = self._bounds(target, math.ceil(base * values[0] / goal - 1e-9))
            if wanted <= current:
                return None
            if not in_cooldown:
                state.capacity_before_out = current
            state.out_at, state.in_at = now, None
            return self._set_capacity(target, wanted, cause)
        if config.get("DisableScaleIn") or self._suspended(target, "DynamicScalingInSuspended"):
            return None
        cooldown = float(config.get("ScaleInCooldown", 300))
        if state.in_at is not None and (now - state.in_at).total_seconds() < cooldown:
            return None
        wanted = self._bounds(target, math.ceil(current * max(values) / goal - 1e-9))
        if wanted >= current:
            return None
        state.in_at = now
        return self._set_capacity(target, wanted, cause)

    def _step(
        self, policy: Any, target: Any, alarm: Any, values: list[float], current: int, cause: str
    ) -> dict[str, Any] | None:
        config = policy.step_scaling_policy_configuration or {}
        if not values:
            return None
        aggregation = config.get("MetricAggregationType") or "Average"
        metric = {"Minimum": min, "Maximum": max}.get(aggregation, lambda v: sum(v) / len(v))(values)
        step = choose_step(config.get("StepAdjustments") or [], metric, float(alarm.threshold))
        if step is None:
            return None
        adjustment = float(step["ScalingAdjustment"])
        kind = config.get("AdjustmentType") or "ChangeInCapacity"
        now = self.sim.now()
        state = self._cooldowns.setdefault(policy.policy_arn, _Cooldowns())
        cooldown = float(config.get("Cooldown") or 0)
        out_cooling = state.out_at is not None and (now - state.out_at).total_seconds() < cooldown
        base = state.capacity_before_out if out_cooling else current
        wanted = self._bounds(target, adjusted(base, kind, adjustment, config.get("MinAdjustmentMagnitude")))
        if wanted > current:
            if self._suspended(target, "DynamicScalingOutSuspended"):
                return None
            if not out_cooling:
                state.capacity_before_out = current
            state.out_at, state.in_at = now, None
            return self._set_capacity(target, wanted, cause)
        wanted = self._bounds(
            target, adjusted(current, kind, adjustment, config.get("MinAdjustmentMagnitude"))
        )
        if wanted < current:
            if self._suspended(target, "DynamicScalingInSuspended"):
                return None
            last = max((t for t in (state.in_at, state.out_at) if t is not None), default=None)
            if last is not None and (now - last).total_seconds() < cooldown:
                return None  # scale-in waits for the cooldown to end
            state.in_at = now
            return self._set_capacity(target, wanted, cause)
        return None

    # -- target tracking alarms -------------------------------------------------------------

    def create_alarms(self, policy: Any) -> list[Any]:
        """Create the CloudWatch alarms of a target tracking policy, as AWS names and sets them."""
        config = policy.target_tracking_scaling_policy_configuration or {}
        namespace, metric, statistic, dimensions, unit = tracked_metric(policy.resource_id, config)
        goal = float(config["TargetValue"])
        cloudwatch = moto_seam.backend("cloudwatch", self.sim.account_id, self.sim.region)
        description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.policy_arn}."
        common: dict[str, Any] = {
            "namespace": namespace,
            "metric_name": metric,
            "metric_data_queries": [],
            "period": 60,
            "statistic": statistic,
            "description": description,
            "dimensions": dimensions,
            "alarm_actions": [policy.policy_arn],
            "unit": unit,
        }
        alarms = [
            cloudwatch.put_metric_alarm(
                name=f"TargetTracking-{policy.resource_id}-AlarmHigh-{self._uuid()}",
                comparison_operator="GreaterThanThreshold",
                evaluation_periods=3,
                datapoints_to_alarm=3,
                threshold=goal,
                **common,
            )
        ]
        if not config.get("DisableScaleIn"):
            alarms.append(
                cloudwatch.put_metric_alarm(
                    name=f"TargetTracking-{policy.resource_id}-AlarmLow-{self._uuid()}",
                    comparison_operator="LessThanThreshold",
                    evaluation_periods=15,
                    datapoints_to_alarm=15,
                    threshold=round(goal * 0.9, 10),
                    **common,
                )
            )
        return alarms

    # -- scheduled actions ------------------------------------------------------------------

    def schedule_action(self, action: Any) -> None:
        """(Re)plan a scheduled action's next firing on the timeline."""
        from labkit.sandbox.simulator.schedules import parse_schedule

        key = (
            action.service_namespace,
            action.scheduled_action_name,
            action.resource_id,
            action.scalable_dimension,
        )
        previous = self._scheduled.pop(key, None)
        if previous is not None:
            previous.cancelled = True
        schedule = parse_schedule(action.schedule, action.timezone)
        now = self.sim.now()
        start, end = _instant(action.start_time), _instant(action.end_time)
        created = getattr(action, "labkit_created", None) or now
        # A rate counts from StartTime, else from when the action was put.
        first = (start or created) + dt.timedelta(seconds=schedule.every or 0)
        after = max(now, start - dt.timedelta(microseconds=1)) if start else now
        upcoming = schedule.next_after(after, first)
        if upcoming is None or (end is not None and upcoming > end):
            return
        self._scheduled[key] = self.sim.schedule(
            upcoming,
            functools.partial(self._fire, key, action),
            f"scheduled-action:{action.scheduled_action_name}",
        )

    def unschedule(self, namespace: str, name: str, resource_id: str, dimension: str) -> None:
        """Forget a deleted scheduled action's next firing."""
        due = self._scheduled.pop((namespace, name, resource_id, dimension), None)
        if due is not None:
            due.cancelled = True

    def _fire(self, key: tuple[str, str, str, str], action: Any) -> None:
        if action not in self.backend.scheduled_actions:
            return
        self._scheduled.pop(key, None)
        try:
            target = self._target(action.service_namespace, action.resource_id, action.scalable_dimension)
            if target is not None and not self._suspended(target, "ScheduledScalingSuspended"):
                self.apply_scheduled(action, target)
        finally:
            # A firing that failed (contained by the timeline) does not end the schedule.
            self.sim.contained(
                f"scheduled action {action.scheduled_action_name} (next firing)",
                lambda: self.schedule_action(action),
            )

    def apply_scheduled(self, action: Any, target: Any) -> None:
        """Set the target's min/max from the action, then move the desired count inside them."""
        wanted = action.scalable_target_action or {}
        low, high = wanted.get("MinCapacity"), wanted.get("MaxCapacity")
        if low is not None:
            target.min_capacity = int(low)
        if high is not None:
            target.max_capacity = int(high)
        cause = f"scheduled action name {action.scheduled_action_name} was triggered"
        said = " and ".join(
            f"{what} capacity to {value}"
            for what, value in (("min", low), ("max", high))
            if value is not None
        )
        if said:
            self._activity(target, f"Setting {said}", cause, f"Successfully set {said}")
        current = self.capacity(target.resource_id)
        if current is not None:
            bounded = self._bounds(target, current)
            if bounded != current:
                self._set_capacity(target, bounded, cause)

    # -- listing ----------------------------------------------------------------------------

    def describe_activities(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeScalingActivities, newest first."""
        rows = [a for a in self.activities if a["ServiceNamespace"] == params.get("ServiceNamespace")]
        if params.get("ResourceId"):
            rows = [a for a in rows if a["ResourceId"] == params["ResourceId"]]
        if params.get("ScalableDimension"):
            rows = [a for a in rows if a["ScalableDimension"] == params["ScalableDimension"]]
        offset = int(params.get("NextToken") or 0)
        limit = int(params.get("MaxResults") or 50)
        result: dict[str, Any] = {"ScalingActivities": rows[offset : offset + limit]}
        if offset + limit < len(rows):
            result["NextToken"] = str(offset + limit)
        return result

    def target_registered(self, target: Any) -> None:
        """RegisterScalableTarget brings the current capacity inside the target's min..max."""
        current = self.capacity(target.resource_id)
        if current is None:
            return  # a resource that is not active keeps its capacity
        bounded = self._bounds(target, current)
        if bounded != current:
            self._set_capacity(
                target,
                bounded,
                f"scalable target registered with min capacity {target.min_capacity} and max capacity "
                f"{target.max_capacity}",
            )

    def target_deregistered(self, namespace: str, resource_id: str, dimension: str) -> None:
        """Deregistering a scalable target deletes its policies (and their alarms) and scheduled actions."""
        backend = self.backend
        for key, policy in list(backend.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                namespace,
                resource_id,
                dimension,
            ):
                policy.delete_alarms(self.sim.account_id, self.sim.region)
                del backend.policies[key]
        for action in list(backend.scheduled_actions):
            if (action.service_namespace, action.resource_id, action.scalable_dimension) == (
                namespace,
                resource_id,
                dimension,
            ):
                self.unschedule(namespace, action.scheduled_action_name, resource_id, dimension)
                backend.scheduled_actions.remove(action)


def choose_step(steps: list[dict[str, Any]], metric: float, threshold: float) -> dict[str, Any] | None:
    """The step adjustment whose interval (relative to the threshold) holds the metric.

    Above the threshold a lower bound is inclusive and an upper bound exclusive; below it, the
    other way round (AWS's StepAdjustment rules). A missing bound is infinite.
    """
    difference = metric - threshold
    above = metric >= threshold
    for step in steps:
        lower = step.get("MetricIntervalLowerBound")
        upper = step.get("MetricIntervalUpperBound")
        low = -math.inf if lower is None else float(lower)
        high = math.inf if upper is None else float(upper)
        if above:
            if low <= difference < high:
                return step
        elif low < difference <= high:
            return step
    return None


def adjusted(current: int, kind: str, adjustment: float, min_magnitude: Any = None) -> int:
    """The capacity after a step: ChangeInCapacity, PercentChangeInCapacity (rounded as AWS does) or ExactCapacity."""
    if kind == "ExactCapacity":
        return int(adjustment)
    if kind == "PercentChangeInCapacity":
        change = current * adjustment / 100
        # Between -1 and 1 (not 0) becomes -1 or 1; beyond, rounded toward zero.
        rounded = int(math.copysign(1, change)) if 0 < abs(change) < 1 else int(change)
        if min_magnitude and 0 < abs(rounded) < int(min_magnitude):
            rounded = int(math.copysign(int(min_magnitude), rounded))
        return current + rounded
    return current + int(adjustment)


def tracked_metric(
    resource_id: str, config: dict[str, Any]
) -> tuple[str, str, str, list[dict[str, str]], str | None]:
    """Namespace, metric, statistic, dimensions and unit a target tracking policy follows."""
    predefined = config.get("PredefinedMetricSpecification")
    if predefined:
        kind = predefined["PredefinedMetricType"]
        namespace, metric, statistic = ECS_METRICS[kind]
        if kind == "ALBRequestCountPerTarget":
            label = predefined["ResourceLabel"]
            group = label[label.index("targetgroup/") :]
            return namespace, metric, statistic, [{"Name": "TargetGroup", "Value": group}], None
        _, cluster, service = resource_id.split("/")
        dimensions = [{"Name": "ClusterName", "Value": cluster}, {"Name": "ServiceName", "Value": service}]
        return namespace, metric, statistic, dimensions, None
    custom = config["CustomizedMetricSpecification"]
    return (
        custom["Namespace"],
        custom["MetricName"],
        custom.get("Statistic") or "Average",
        [{"Name": d["Name"], "Value": d["Value"]} for d in custom.get("Dimensions") or []],
        custom.get("Unit"),
    )


def _instant(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
