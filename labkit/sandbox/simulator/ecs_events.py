"""The events ECS puts on the default event bus: `ECS Task State Change` and `ECS Service Action`.

Shapes follow the Amazon ECS developer guide ("Amazon ECS task state change events", "Amazon ECS
service action events"): a task state change carries the task as DescribeTasks shows it (times as
ISO 8601 strings with milliseconds) and is sent on every change of the task's lastStatus; a service
action carries `eventType` (INFO, WARN, ERROR), `eventName`, `clusterArn` and `createdAt`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import ServiceRuntime, TaskRuntime

__all__ = ["service_action", "task_state_change", "task_state_detail"]

#: eventType of each service action ECS sends.
SERVICE_ACTIONS = {
    "SERVICE_STEADY_STATE": "INFO",
    "TASKSET_STEADY_STATE": "INFO",
    "CAPACITY_PROVIDER_STEADY_STATE": "INFO",
    "SERVICE_DESIRED_COUNT_UPDATED": "INFO",
    "SERVICE_TASK_START_IMPAIRED": "WARN",
    "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY": "WARN",
    "SERVICE_TASK_PLACEMENT_FAILURE": "ERROR",
    "SERVICE_TASK_CONFIGURATION_FAILURE": "ERROR",
}


def _iso(value: Any) -> str | None:
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]) + "Z"


def task_state_detail(sim: Simulator, runtime: TaskRuntime) -> dict[str, Any]:
    """The `detail` of an ECS Task State Change event for the task as it is now."""
    task = runtime.task
    cluster_arn = f"arn:aws:ecs:{sim.region}:{sim.account_id}:cluster/{runtime.cluster}"
    containers = []
    for container in task.containers:
        entry = {
            k: container[k]
            for k in (
                "containerArn",
                "lastStatus",
                "name",
                "image",
                "runtimeId",
                "taskArn",
                "networkInterfaces",
                "cpu",
                "memory",
                "memoryReservation",
                "exitCode",
                "reason",
                "networkBindings",
            )
            if container.get(k) is not None
        }
        containers.append(entry)
    detail: dict[str, Any] = {
        "attachments": list(task.attachments or []),
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "availabilityZone": runtime.availability_zone,
        "clusterArn": cluster_arn,
        "connectivity": getattr(task, "connectivity", None),
        "connectivityAt": _iso(getattr(task, "connectivity_at", None)),
        "containerInstanceArn": runtime.container_instance_arn,
        "containers": containers,
        "cpu": getattr(task, "cpu", None),
        "createdAt": _iso(getattr(task, "created_at", None)),
        "desiredStatus": task.desired_status,
        "enableExecuteCommand": False,
        "group": task.group,
        "launchType": runtime.launch_type,
        "lastStatus": task.last_status,
        "memory": getattr(task, "memory", None),
        "overrides": {"containerOverrides": [{"name": c["name"]} for c in task.containers]}
        if not (task.overrides or {}).get("containerOverrides")
        else task.overrides,
        "platformVersion": getattr(task, "platform_version", None),
        "pullStartedAt": _iso(getattr(task, "pull_started_at", None)),
        "pullStoppedAt": _iso(getattr(task, "pull_stopped_at", None)),
        "startedAt": _iso(getattr(task, "started_at", None)),
        "startedBy": task.started_by or None,
        "stoppingAt": _iso(getattr(task, "stopping_at", None)),
        "stoppedAt": _iso(getattr(task, "stopped_at", None)),
        "stoppedReason": getattr(task, "stopped_reason", None) or None,
        "stopCode": getattr(task, "stop_code", None),
        "executionStoppedAt": _iso(getattr(task, "execution_stopped_at", None)),
        "taskArn": runtime.arn,
        "taskDefinitionArn": task.task_definition_arn,
        "updatedAt": _iso(sim.now()),
        "version": task.version,
    }
    if runtime.launch_type == "FARGATE":
        detail["ephemeralStorage"] = getattr(task, "ephemeral_storage", None) or {"sizeInGiB": 20}
    # AWS leaves out what a task does not have yet (stoppedAt before it stops, and so on).
    return {k: v for k, v in detail.items() if v is not None}


def task_state_change(sim: Simulator, runtime: TaskRuntime) -> None:
    """Put an ECS Task State Change event for the task on the default bus."""
    if not sim.events.has_rules():
        return
    sim.events.emit("aws.ecs", "ECS Task State Change", task_state_detail(sim, runtime), [runtime.arn])


def service_action(sim: Simulator, runtime: ServiceRuntime, name: str, **extra: Any) -> None:
    """Put an ECS Service Action event (`SERVICE_STEADY_STATE` and the like) on the default bus."""
    if not sim.events.has_rules():
        return
    cluster_arn = f"arn:aws:ecs:{sim.region}:{sim.account_id}:cluster/{runtime.cluster}"
    detail = {
        "eventType": SERVICE_ACTIONS.get(name, "INFO"),
        "eventName": name,
        "clusterArn": cluster_arn,
        "createdAt": _iso(sim.now()),
        **extra,
    }
    sim.events.emit("aws.ecs", "ECS Service Action", detail, [runtime.service.arn])
