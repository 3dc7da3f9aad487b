"""moto.ecs: a few ECS request handlers, wrapped, and what the simulator builds with moto's ECS models.

In a sandbox's account requests are validated as AWS validates them before moto stores them, and the
simulator takes over what moto cannot do (run tasks, keep services at their count); any other
account (moto used on its own in the same process) gets moto's own behaviour unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.core import action_result, backend, request_param, request_params
from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import Simulator, simulator_for

__all__ = ["client_error", "cluster", "new_task", "service", "validation_error"]

_RESPONSE = "moto.ecs.responses.EC2ContainerServiceResponse"
_BACKEND = "moto.ecs.models.EC2ContainerServiceBackend"

SandboxHandler = Callable[[Any, Simulator, Callable[..., Any]], Any]


def _in_sandboxes(handler: SandboxHandler) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a moto response method: a sandbox account gets `handler`, any other account moto's own."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any) -> Any:
            sim = simulator_for(self.current_account)
            if sim is None:
                return original(self)
            return handler(self, sim, original)

        return wrapped

    return make


def _handler(name: str, why: str) -> Callable[[SandboxHandler], SandboxHandler]:
    """Record `handler` as the sandbox behaviour of the ECS response method `name`."""

    def record(handler: SandboxHandler) -> SandboxHandler:
        hook(_RESPONSE, name, ("self",), why=why)(_in_sandboxes(handler))
        return handler

    return record


# -- errors and models ----------------------------------------------------------------------------

uses("moto.ecs.exceptions", "EcsClientException", ("message",), why="ECS's ClientException")
uses("moto.ecs.exceptions", "InvalidParameterException", ("message",), why="ECS's bad-parameter error")
uses(_BACKEND, "_get_service", ("self", "cluster_str", "service_str"), why="a service by cluster and name")
uses(_BACKEND, "_get_cluster", ("self", "name"), why="a cluster by name or ARN")
uses(
    "moto.ecs.models.Task",
    "__init__",
    (
        "self",
        "cluster",
        "task_definition",
        "container_instance_arn",
        "resource_requirements",
        "backend",
        "group",
        "launch_type",
        "overrides",
        "started_by",
        "tags",
        "networking_configuration",
        "platform_version",
    ),
    why="the simulator creates the tasks it runs",
)


def client_error(message: str) -> Exception:
    """ECS's `ClientException`."""
    from moto.ecs.exceptions import EcsClientException

    return EcsClientException(message)


def invalid_parameter(message: str) -> Exception:
    """ECS's `InvalidParameterException`."""
    from moto.ecs.exceptions import InvalidParameterException

    return InvalidParameterException(message)


def validation_error(exc: Exception) -> Exception:
    """The ECS error for a labkit validation error (its `code` and `message`)."""
    code = getattr(exc, "code", "ClientException")
    message = getattr(exc, "message", str(exc))
    if code == "InvalidParameterException":
        return invalid_parameter(message)
    return client_error(message)


def cluster(ecs_backend: Any, name: str) -> Any:
    """moto's cluster by name or ARN (moto's ClusterNotFoundException when missing)."""
    return ecs_backend._get_cluster(name)


def service(ecs_backend: Any, cluster_name: str, name: str) -> Any:
    """moto's service by cluster and name (moto's ServiceNotFoundException when missing)."""
    return ecs_backend._get_service(cluster_name, name)


def new_task(
    cluster: Any,
    task_definition: Any,
    container_instance_arn: str | None,
    *,
    backend: Any,
    group: str,
    launch_type: str,
    overrides: dict[str, Any],
    started_by: str,
    tags: list[dict[str, str]],
    networking_configuration: dict[str, Any] | None,
    platform_version: str | None,
) -> Any:
    """A moto ECS task (not yet in the backend's table)."""
    from moto.ecs.models import Task

    return Task(
        cluster,
        task_definition,
        container_instance_arn,
        None,
        backend=backend,
        group=group,
        launch_type=launch_type,
        overrides=overrides,
        started_by=started_by,
        tags=tags,
        networking_configuration=networking_configuration,
        platform_version=platform_version,
    )


# -- handlers -------------------------------------------------------------------------------------


@_handler("register_task_definition", "task definitions are validated as AWS does and stamped")
def register_task_definition(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    from labkit.ecs.validation import EcsValidationError, validate_register_task_definition

    try:
        validate_register_task_definition(request_params(self))
    except EcsValidationError as exc:
        raise validation_error(exc) from None
    result = original(self)
    definition = self.ecs_backend.describe_task_definition(f"{request_params(self)['family']}")
    definition.registered_at = sim.now()
    definition.registered_by = f"arn:aws:iam::{sim.account_id}:root"
    return result


@_handler("create_service", "the simulator schedules a new service's tasks")
def create_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    _fill_default_security_group(self)
    params = request_params(self)
    _validate_service(self, params)
    _validate_placement(params)
    result = original(self)
    created = service(self.ecs_backend, params.get("cluster") or "default", params["serviceName"])
    sim.perform(lambda: sim.ecs.service_created(created, params))
    return result


@_handler("update_service", "the simulator runs deployments and count changes")
def update_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    _fill_default_security_group(self)
    params = request_params(self)
    cluster_name = params.get("cluster") or "default"
    updated = service(self.ecs_backend, cluster_name, params["service"].split("/")[-1])
    previous = updated.task_definition
    if params.get("taskDefinition"):
        definition = self.ecs_backend.describe_task_definition(params["taskDefinition"])
        _validate_service(self, {**params, "loadBalancers": updated.load_balancers}, definition)
    result = original(self)
    if params.get("taskDefinition"):
        # moto stores what the client sent (a family or family:revision); AWS stores the ARN.
        updated.task_definition = self.ecs_backend.describe_task_definition(params["taskDefinition"]).arn
    sim.perform(lambda: sim.ecs.service_updated(updated, params, previous))
    return result


@_handler("delete_service", "the simulator drains a deleted service's tasks")
def delete_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    result = original(self)
    deleted = service(
        self.ecs_backend, request_param(self, "cluster", "default"), request_param(self, "service")
    )
    sim.perform(lambda: sim.ecs.service_deleted(deleted))
    return result


@_handler("run_task", "the simulator places and starts tasks (moto's Fargate run_task crashes)")
def run_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    _fill_default_security_group(self)
    params = request_params(self)
    _validate_placement(params)
    tasks, failures = sim.perform(lambda: sim.ecs.run_task(params))
    return action_result({"tasks": tasks, "failures": failures})


@_handler("stop_task", "the simulator stops tasks through their lifecycle")
def stop_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    cluster_name = request_param(self, "cluster", "default")
    task = sim.perform(
        lambda: sim.ecs.stop_task_by_user(
            cluster_name, request_param(self, "task"), request_param(self, "reason") or ""
        )
    )
    if task is None:
        raise invalid_parameter("The referenced task was not found.")
    return action_result({"task": task})


@_handler("list_tasks", "ListTasks filters by service, launch type and desired status as AWS does")
def list_tasks(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    tasks = self.ecs_backend.list_tasks(
        request_param(self, "cluster", "default"),
        request_param(self, "containerInstance"),
        request_param(self, "family"),
        request_param(self, "startedBy"),
        None,
        # ListTasks shows tasks whose desired status is RUNNING unless asked otherwise.
        request_param(self, "desiredStatus") or "RUNNING",
    )
    service_name = request_param(self, "serviceName")
    if service_name:
        group = f"service:{service_name.split('/')[-1]}"
        tasks = [t for t in tasks if t.group == group]
    launch_type = request_param(self, "launchType")
    if launch_type:
        tasks = [t for t in tasks if t.launch_type == launch_type]
    return action_result({"taskArns": [t.task_arn for t in tasks]})


uses(
    _BACKEND,
    "list_tasks",
    ("self", "cluster_str", "container_instance", "family", "started_by", "service_name", "desiredStatus"),
    why="list_tasks is called positionally",
)


def _fill_default_security_group(response: Any) -> None:
    """Without securityGroups, AWS uses the VPC's default group (moto requires the field)."""
    awsvpc = ((response.params or {}).get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or awsvpc.get("securityGroups") or not awsvpc.get("subnets"):
        return
    ec2 = backend("ec2", response.current_account, response.region)
    subnet = ec2.get_subnet(awsvpc["subnets"][0])
    default = ec2.get_default_security_group(subnet.vpc_id)
    awsvpc["securityGroups"] = [default.id] if default is not None else []


def _validate_placement(params: dict[str, Any]) -> None:
    """Placement JSON is checked as AWS checks it (the cluster query language included)."""
    from labkit.ecs.placement import PlacementConstraint, PlacementStrategy

    try:
        for strategy in params.get("placementStrategy") or []:
            PlacementStrategy.from_api(strategy)
        for constraint in params.get("placementConstraints") or []:
            PlacementConstraint.from_api(constraint)
    except ValueError as exc:
        raise invalid_parameter(str(exc)) from None


def _definition_dict(definition: Any) -> dict[str, Any]:
    return {
        "family": definition.family,
        "containerDefinitions": definition.container_definitions,
        "networkMode": definition.network_mode,
        "requiresCompatibilities": definition.requires_compatibilities or [],
        "cpu": definition.cpu,
        "memory": definition.memory,
    }


def _validate_service(response: Any, params: dict[str, Any], definition: Any | None = None) -> None:
    from labkit.ecs.validation import (
        EcsValidationError,
        validate_create_service,
        validate_service_load_balancers,
    )

    definition = definition or response.ecs_backend.describe_task_definition(params["taskDefinition"])
    as_dict = _definition_dict(definition)
    try:
        if "serviceName" in params:
            validate_create_service(params, as_dict)
        validate_service_load_balancers(
            as_dict,
            list(params.get("loadBalancers") or []),
            params.get("launchType"),
            definition.network_mode or "bridge",
        )
    except EcsValidationError as exc:
        raise validation_error(exc) from None


# -- models ---------------------------------------------------------------------------------------


@hook(
    "moto.ecs.models.Cluster",
    "__init__",
    ("self",),
    why="an untagged cluster has tags None in moto, which crashes the tagging API's GetResources",
)
def cluster_init(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.tags is None:
            self.tags = []

    return wrapper


# -- deletes AWS refuses --------------------------------------------------------------------------

uses("moto.ecs.exceptions", "ECSException", why="ECS's errors by code (code, message)")


def _ecs_error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


@hook(
    _BACKEND,
    "delete_cluster",
    ("self", "cluster_str"),
    why="AWS refuses to delete a cluster that still has services, container instances or tasks",
)
def delete_cluster(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, cluster_str: str) -> Any:
        if simulator_for(self.account_id) is not None:
            _refuse_busy_cluster(self, cluster(self, cluster_str))
        return original(self, cluster_str)

    return handler


def _refuse_busy_cluster(ecs_backend: Any, found: Any) -> None:
    """AWS's DeleteCluster errors, in the order AWS checks them (services, instances, tasks).

    The messages are AWS's, as the ECS API answers them (seen in aws/amazon-ecs-cli#368,
    aws/aws-cli#2078 and gruntwork-io/cloud-nuke#368); the codes are in botocore's ECS model.
    """
    if any(
        s.cluster_name == found.name and s.status in ("ACTIVE", "DRAINING")
        for s in ecs_backend.services.values()
    ):
        raise _ecs_error(
            "ClusterContainsServicesException", "The Cluster cannot be deleted while Services are active."
        )
    instances = ecs_backend.container_instances.get(found.name, {}).values()
    if any(i.status in ("ACTIVE", "DRAINING") for i in instances):
        raise _ecs_error(
            "ClusterContainsContainerInstancesException",
            "The Cluster cannot be deleted while Container Instances are active.",
        )
    if any(t.last_status != "STOPPED" for t in ecs_backend.tasks.get(found.name, {}).values()):
        raise _ecs_error(
            "ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active."
        )
