"""moto.applicationautoscaling: scalable targets, policies and scheduled actions that act.

In a sandbox account requests are validated as AWS validates them, target tracking policies get
the alarms AWS makes, an updated policy keeps its ARN, scheduled actions run on the sandbox clock,
DescribeScalingPolicies lists the alarms that invoke a step policy, CreationTime reads the sandbox
clock, and DescribeScalingActivities (missing in moto) answers from the simulator.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from labkit.sandbox import clock as clocks
from labkit.sandbox.moto_seam.core import backend, json_error, loaded_backend
from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.autoscaling import ECS_METRICS
from labkit.sandbox.simulator.core import simulator_for
from labkit.sandbox.simulator.metrics import load_balancer_dimension, target_group_dimension

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__: list[str] = []

_BACKEND = "moto.applicationautoscaling.models.ApplicationAutoscalingBackend"
_POLICY = "moto.applicationautoscaling.models.FakeApplicationAutoscalingPolicy"
_LABEL = re.compile(r"app/[^/]+/[^/]+/targetgroup/[^/]+/[^/]+")

uses(
    _POLICY,
    "formulate_key",
    ("service_namespace", "resource_id", "scalable_dimension", "policy_name"),
    why="a policy's key",
)
uses(
    _POLICY,
    "delete_alarms",
    ("self", "account_id", "region_name"),
    why="an updated policy's alarms are made again",
)
uses(_POLICY, "_policy_body", why="an update without a body keeps the previous one", instance=True)
uses(_POLICY, "_guid", why="an updated policy keeps its ARN (the id in it)", instance=True)
uses(
    "moto.applicationautoscaling.exceptions",
    "AWSValidationException",
    ("message",),
    why="ValidationException",
)


def _invalid(message: str) -> Exception:
    from moto.applicationautoscaling.exceptions import AWSValidationException

    return AWSValidationException(message)


def _policy_class() -> Any:
    from moto.applicationautoscaling.models import FakeApplicationAutoscalingPolicy

    return FakeApplicationAutoscalingPolicy


def previous_body(policy: Any) -> Any:
    """The body a stored policy was put with."""
    return policy._policy_body


class _SandboxTime:
    """Stands for the `time` module in moto's Application Auto Scaling: `time()` reads the sandbox clock."""

    def time(self) -> float:
        clock = clocks.active_clock()
        return clock.time() if clock is not None else time.time()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


hook("moto.applicationautoscaling.models", "time", why="moto stamps CreationTime with time.time()")(
    lambda original: _SandboxTime()
)


def _object_not_found(message: str) -> Exception:
    return json_error("ObjectNotFoundException", message)


def _not_registered(namespace: str, resource_id: str, dimension: str) -> Exception:
    return _object_not_found(
        f"No scalable target registered for service namespace: {namespace}, resource ID: {resource_id}, "
        f"scalable dimension: {dimension}"
    )


def _validate_target_tracking(sim: Simulator, resource_id: str, config: dict[str, Any]) -> None:
    if config.get("TargetValue") is None:
        raise _invalid("TargetValue is required for a TargetTrackingScaling policy")
    predefined = config.get("PredefinedMetricSpecification")
    custom = config.get("CustomizedMetricSpecification")
    if bool(predefined) == bool(custom):
        raise _invalid(
            "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified"
        )
    if predefined:
        kind = predefined.get("PredefinedMetricType")
        if kind not in ECS_METRICS:
            raise _invalid(f"Unsupported predefined metric type {kind} for service namespace ecs")
        label = predefined.get("ResourceLabel")
        if kind != "ALBRequestCountPerTarget":
            return
        if not label:
            raise _invalid(
                "Resource label should be specified for predefined metric type ALBRequestCountPerTarget"
            )
        if not _LABEL.fullmatch(label) or not _label_exists(sim, label):
            raise _invalid(
                f"Invalid resource label '{label}' for predefined metric type ALBRequestCountPerTarget"
            )
    elif custom and custom.get("Metrics"):
        raise _invalid(
            "the labkit sandbox evaluates CustomizedMetricSpecification with MetricName and Namespace, "
            "not metric math (Metrics)"
        )
    elif custom and not (custom.get("MetricName") and custom.get("Namespace")):
        raise _invalid("CustomizedMetricSpecification needs MetricName and Namespace")


def _label_exists(sim: Simulator, label: str) -> bool:
    elb = loaded_backend("elbv2", sim.account_id, sim.region)
    if elb is None:
        return False
    lb_part, group_part = label.split("/targetgroup/")
    group = next(
        (
            g
            for arn, g in elb.target_groups.items()
            if target_group_dimension(arn) == "targetgroup/" + group_part
        ),
        None,
    )
    if group is None:
        return False
    return any(load_balancer_dimension(arn) == lb_part for arn in group.load_balancer_arns or [])


@hook(
    _BACKEND,
    "register_scalable_target",
    ("self", "namespace", "r_id", "dimension", "min_capacity", "max_capacity", "role_arn", "suspended_state"),
    why="capacities are validated as AWS does; the simulator watches the target",
)
def register(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(
        self: Any,
        namespace: str,
        r_id: str,
        dimension: str,
        min_capacity: int | None,
        max_capacity: int | None,
        role_arn: str,
        suspended_state: str,
    ) -> Any:
        sim = simulator_for(self.account_id)
        if sim is not None:
            existing = self.targets.get(dimension, {}).get(r_id)
            low = min_capacity if min_capacity is not None else getattr(existing, "min_capacity", None)
            high = max_capacity if max_capacity is not None else getattr(existing, "max_capacity", None)
            if existing is None and (min_capacity is None or max_capacity is None):
                raise _invalid("MinCapacity and MaxCapacity are required to register a new scalable target")
            if low is not None and high is not None and int(low) > int(high):
                raise _invalid("Minimum capacity cannot be greater than maximum capacity")
        target = original(
            self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state
        )
        if sim is not None:
            sim.perform(functools.partial(sim.autoscaling.target_registered, target))
        return target

    return handler


@hook(
    _BACKEND,
    "deregister_scalable_target",
    ("self", "namespace", "r_id", "dimension"),
    why="the simulator forgets the target",
)
def deregister(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        original(self, namespace, r_id, dimension)
        sim = simulator_for(self.account_id)
        if sim is not None:
            sim.autoscaling.target_deregistered(namespace, r_id, dimension)

    return handler


@hook(
    _BACKEND,
    "put_scaling_policy",
    (
        "self",
        "policy_name",
        "service_namespace",
        "resource_id",
        "scalable_dimension",
        "policy_body",
        "policy_type",
    ),
    why="policies are validated as AWS does; an update keeps the policy's ARN",
)
def put_scaling_policy(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(
        self: Any,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_body: dict[str, Any],
        policy_type: str | None,
    ) -> Any:
        sim = simulator_for(self.account_id)
        if sim is None:
            return original(
                self,
                policy_name,
                service_namespace,
                resource_id,
                scalable_dimension,
                policy_body,
                policy_type,
            )
        if self.targets.get(scalable_dimension, {}).get(resource_id) is None:
            raise _not_registered(service_namespace, resource_id, scalable_dimension)
        key = _policy_class().formulate_key(service_namespace, resource_id, scalable_dimension, policy_name)
        previous = self.policies.get(key)
        kind = policy_type or (previous.policy_type if previous else None)
        body = policy_body or (previous_body(previous) if previous else None) or {}
        if kind == "TargetTrackingScaling" and service_namespace == "ecs":
            _validate_target_tracking(sim, resource_id, body)
        if kind == "StepScaling" and not body.get("StepAdjustments"):
            raise _invalid("StepAdjustments must be specified for a StepScaling policy")
        if previous is not None:
            previous.delete_alarms(self.account_id, self.region_name)
        policy = original(
            self,
            policy_name,
            service_namespace,
            resource_id,
            scalable_dimension,
            policy_body,
            policy_type,
        )
        if previous is not None:
            # An update keeps the policy's ARN (its alarms were made again for the new settings).
            for alarm in policy.alarms:
                alarm.alarm_actions = [previous.policy_arn]
                alarm.description = alarm.description.replace(policy.policy_arn, previous.policy_arn)
            policy.policy_arn, policy._guid = (
                previous.policy_arn,
                previous._guid,
            )  # moto keeps the ARN's id here
            policy.creation_time = previous.creation_time
        return policy

    return handler


@hook(_POLICY, "create_alarms", ("self",), why="target tracking alarms are made as AWS names and sets them")
def create_alarms(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any) -> None:
        sim = simulator_for(self.account_id)
        if sim is None or self.service_namespace != "ecs" or self.policy_type != "TargetTrackingScaling":
            return original(self)  # type: ignore[no-any-return]
        self.alarms.extend(sim.autoscaling.create_alarms(self))
        return None

    return handler


@hook(
    _BACKEND,
    "put_scheduled_action",
    (
        "self",
        "service_namespace",
        "schedule",
        "timezone",
        "scheduled_action_name",
        "resource_id",
        "scalable_dimension",
    ),
    why="schedules are validated and run on the sandbox clock",
)
def put_scheduled_action(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, **kwargs: Any) -> None:
        from labkit.sandbox.simulator.schedules import ScheduleError, parse_schedule

        sim = simulator_for(self.account_id)
        if sim is None:
            return original(self, **kwargs)  # type: ignore[no-any-return]
        namespace, resource_id = kwargs["service_namespace"], kwargs["resource_id"]
        dimension = kwargs["scalable_dimension"]
        if self.targets.get(dimension, {}).get(resource_id) is None:
            raise _not_registered(namespace, resource_id, dimension)
        try:
            parse_schedule(kwargs["schedule"], kwargs.get("timezone"))
        except ScheduleError as exc:
            raise _invalid(f"Invalid schedule {kwargs['schedule']!r}: {exc}") from None
        original(self, **kwargs)
        action = next(
            a
            for a in self.scheduled_actions
            if (a.service_namespace, a.scheduled_action_name, a.resource_id, a.scalable_dimension)
            == (namespace, kwargs["scheduled_action_name"], resource_id, dimension)
        )
        action.labkit_created = sim.now()
        sim.autoscaling.schedule_action(action)
        return None

    return handler


@hook(
    _BACKEND,
    "delete_scheduled_action",
    ("self", "service_namespace", "scheduled_action_name", "resource_id", "scalable_dimension"),
    why="a deleted schedule stops",
)
def delete_scheduled_action(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, **kwargs: Any) -> None:
        original(self, **kwargs)
        sim = simulator_for(self.account_id)
        if sim is not None:
            sim.autoscaling.unschedule(
                kwargs["service_namespace"],
                kwargs["scheduled_action_name"],
                kwargs["resource_id"],
                kwargs["scalable_dimension"],
            )

    return handler


@hook(
    "moto.applicationautoscaling.responses",
    "_build_alarms",
    ("policy",),
    why="a step policy lists the alarms that invoke it",
)
def build_alarms(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(policy: Any) -> list[dict[str, str]]:
        listed: list[dict[str, str]] = original(policy)
        if policy.policy_type != "StepScaling" or simulator_for(policy.account_id) is None:
            return listed
        # AWS lists the CloudWatch alarms whose actions invoke a step policy; moto lists none.

        known = {entry["AlarmName"] for entry in listed}
        alarms = backend("cloudwatch", policy.account_id, policy.region_name).alarms
        for name in sorted(alarms):
            alarm = alarms[name]
            if name not in known and policy.policy_arn in (alarm.alarm_actions or []):
                listed.append({"AlarmARN": alarm.alarm_arn, "AlarmName": alarm.name})
        return listed

    return handler


def _describe_scaling_activities(self: Any) -> str:

    sim = simulator_for(self.current_account)
    if sim is None:
        raise NotImplementedError("The describe_scaling_activities action has not been implemented")
    params = json.loads(self.body or "{}")
    return json.dumps(sim.autoscaling.describe_activities(params))


hook(
    "moto.applicationautoscaling.responses.ApplicationAutoScalingResponse",
    "describe_scaling_activities",
    why="DescribeScalingActivities (missing in moto) answers from the simulator",
    adds=True,
)(lambda original: _describe_scaling_activities)
