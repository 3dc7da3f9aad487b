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

__all__ = [
    "client_error",
    "cluster",
    "known_security_group",
    "known_subnet",
    "new_task",
    "service",
    "validation_error",
]

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
            if self.region != sim.region:
                # The simulator runs the sandbox's own region; another region's ECS is moto's own
                # (stored, not run), never a simulator that looks for its clusters in the wrong region.
                _fill_default_security_group(self)
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
    controller = (params.get("deploymentController") or {}).get("type") or "ECS"
    strategy = _strategy(self, params)
    _check_launch_choice(self, params)
    _refuse_duplicate_service(self, params)
    if params.get("taskDefinition"):
        _validate_service(self, {**params, "launchType": _effective_launch_type(params, strategy)})
    elif controller != "EXTERNAL":
        # API reference, CreateService taskDefinition: required unless the EXTERNAL deployment
        # controller is used. message not verified against AWS
        raise invalid_parameter(
            "A task definition must be specified for the ECS and CODE_DEPLOY deployment controllers."
        )
    _validate_placement(params)
    original(self)
    created = service(self.ecs_backend, params.get("cluster") or "default", params["serviceName"])
    if strategy:
        # A service with a capacity provider strategy has no launch type (moto defaults it to EC2).
        created.launch_type = None
        created.capacity_provider_strategy = strategy
        for record in created.deployments:
            record["launchType"] = None
            record["capacityProviderStrategy"] = strategy
    # AWS answers with the service as created: the scheduler has not started a task yet.
    answer = sim.perform(lambda: sim.ecs.service_created(created, params))
    return action_result({"service": answer})


@_handler("update_service", "the simulator runs deployments and count changes")
def update_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    _fill_default_security_group(self)
    params = request_params(self)
    cluster_name = params.get("cluster") or "default"
    updated = service(self.ecs_backend, cluster_name, params["service"].split("/")[-1])
    previous = updated.task_definition
    _refuse_controller_update(updated, params)
    if params.get("taskDefinition"):
        definition = self.ecs_backend.describe_task_definition(params["taskDefinition"])
        _validate_service(self, {**params, "loadBalancers": updated.load_balancers}, definition)
    original(self)
    if params.get("taskDefinition"):
        # moto stores what the client sent (a family or family:revision); AWS stores the ARN.
        updated.task_definition = self.ecs_backend.describe_task_definition(params["taskDefinition"]).arn
    # AWS answers before its scheduler acts: tasks about to be stopped still count as they did.
    answer = sim.perform(lambda: sim.ecs.service_updated(updated, params, previous))
    return action_result({"service": answer})


@_handler("delete_service", "the simulator drains a deleted service's tasks")
def delete_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    original(self)
    deleted = service(
        self.ecs_backend, request_param(self, "cluster", "default"), request_param(self, "service")
    )
    sim.perform(lambda: sim.ecs.service_deleted(deleted))
    return action_result({"service": deleted})


@_handler("run_task", "the simulator places and starts tasks (moto's Fargate run_task crashes)")
def run_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    _fill_default_security_group(self)
    params = request_params(self)
    _check_launch_choice(self, params)
    strategy = _strategy(self, params)
    launch_type = _effective_launch_type(params, strategy)
    definition = self.ecs_backend.describe_task_definition(params["taskDefinition"])
    _validate_run_task(params, definition, launch_type)
    _validate_placement(params)
    tasks, failures = sim.perform(lambda: sim.ecs.run_task({**params, "capacityProviderStrategy": strategy}))
    return action_result({"tasks": tasks, "failures": failures})


@_handler("start_task", "StartTask's tasks are placed and run by the simulator, so StopTask finds them")
def start_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    params = request_params(self)
    if not params.get("containerInstances"):
        # moto's own refusal (the API reference: containerInstances is required, at most 10).
        raise client_error("Container Instances cannot be empty.")
    tasks, failures = sim.perform(lambda: sim.ecs.start_task_on_instances(params))
    return action_result({"tasks": tasks, "failures": failures})


@_handler("describe_clusters", "a cluster's task and service counters are counted from the simulator")
def describe_clusters(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    sim.perform(sim.ecs.refresh_cluster_counters)
    return original(self)


@_handler("delete_cluster", "the deleted cluster's answer carries true counters")
def delete_cluster(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    sim.perform(sim.ecs.refresh_cluster_counters)
    return original(self)


@_handler(
    "list_services",
    "ListServices shows ACTIVE services only (DRAINING and INACTIVE ones are hidden), by resourceManagementType",
)
def list_services(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    arns = self.ecs_backend.list_services(
        request_param(self, "cluster", "default"),
        request_param(self, "schedulingStrategy"),
        request_param(self, "launchType"),
    )
    managed_by = request_param(self, "resourceManagementType")
    active = {
        s.arn
        for s in self.ecs_backend.services.values()
        if s.status == "ACTIVE"
        # An Express service's resources are ECS's (simulator/express.py); every other service's the customer's.
        and managed_by in (None, getattr(s, "resource_management_type", None) or "CUSTOMER")
    }
    return action_result({"serviceArns": [arn for arn in arns if arn in active]})


uses(
    _BACKEND,
    "list_services",
    ("self", "cluster_str", "scheduling_strategy", "launch_type"),
    why="list_services is called positionally",
)


@_handler("list_task_definitions", "task definitions are listed by family then revision, as AWS sorts them")
def list_task_definitions(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    arns = self.ecs_backend.list_task_definitions(
        request_param(self, "familyPrefix"), request_param(self, "status") or "ACTIVE"
    )
    descending = (request_param(self, "sort") or "ASC") == "DESC"
    return action_result({"taskDefinitionArns": sort_task_definition_arns(arns, descending=descending)})


uses(
    _BACKEND,
    "list_task_definitions",
    ("self", "family_prefix", "status"),
    why="list_task_definitions is called positionally",
)


def sort_task_definition_arns(arns: list[str], *, descending: bool = False) -> list[str]:
    """ListTaskDefinitions' order: family name, then revision as a number (DESC reverses both)."""

    def key(arn: str) -> tuple[str, int]:
        family, _, revision = arn.rsplit("/", 1)[-1].rpartition(":")
        return family, int(revision) if revision.isdigit() else 0

    return sorted(arns, key=key, reverse=descending)


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


@_handler("list_container_instances", "ListContainerInstances applies `filter` (the cluster query language)")
def list_container_instances(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    from labkit.ecs.cql import ClusterQueryError, evaluate, parse

    expression = request_param(self, "filter")
    if not expression:
        return original(self)
    try:
        query = parse(str(expression))
    except ClusterQueryError as exc:
        # AWS answers a filter it cannot parse with InvalidParameterException, never the full list.
        raise invalid_parameter(f"Invalid filter expression: {exc.message}") from None
    cluster_str = request_param(self, "cluster", "default")
    arns = self.ecs_backend.list_container_instances(cluster_str, status=request_param(self, "status"))
    facts = {i.arn: i for i in sim.ecs.capacity.instances(cluster_str.split("/")[-1], active_only=False)}
    selected = [arn for arn in arns if arn in facts and evaluate(query, facts[arn])]
    return action_result({"containerInstanceArns": selected})


uses(_BACKEND, "list_container_instances", ("self", "cluster_str", "status"), why="the unfiltered list")


@_handler("put_attributes", "PutAttributes takes a container instance's full ARN as targetId, as AWS does")
def put_attributes(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
    attributes = request_param(self, "attributes", [])
    if not isinstance(attributes, list):
        return original(self)
    # moto looks a targetId up as given when targetType is set, so the ARN form is never found.
    short = [
        {**a, "targetId": a["targetId"].rsplit("/", 1)[-1]}
        if isinstance(a, dict) and ":container-instance/" in str(a.get("targetId") or "")
        else a
        for a in attributes
    ]
    self.ecs_backend.put_attributes(request_param(self, "cluster"), short)
    return action_result({"attributes": attributes})


uses(_BACKEND, "put_attributes", ("self", "cluster_name", "attributes"), why="attributes stored by moto")


def known_subnet(ec2: Any, subnet_id: str) -> str:
    """`subnet_id` when the account has that subnet; else ECS's error (EC2's code is only quoted in it)."""
    if subnet_id not in {s.id for subnets in ec2.subnets.values() for s in subnets.values()}:
        raise invalid_parameter(
            f"Error retrieving subnet information for [{subnet_id}]: The subnet ID '{subnet_id}' "
            "does not exist (ErrorCode: InvalidSubnetID.NotFound)"
        )
    return subnet_id


def known_security_group(ec2: Any, group_id: str) -> str:
    """`group_id` when the account has that security group; else ECS's error quoting EC2's code."""
    if group_id not in {g.id for groups in list(ec2.groups.values()) for g in list(groups.values())}:
        raise invalid_parameter(
            f"Error retrieving security group information for [{group_id}]: "
            f"The security group '{group_id}' does not exist (ErrorCode: InvalidGroup.NotFound)"
        )
    return group_id


def _strategy(response: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The capacity provider strategy a request uses: its own, else (with no launch type) the cluster's default."""
    if params.get("capacityProviderStrategy"):
        return list(params["capacityProviderStrategy"])
    if params.get("launchType"):
        return []
    found = cluster(response.ecs_backend, params.get("cluster") or "default")
    return list(getattr(found, "default_capacity_provider_strategy", None) or [])


def _effective_launch_type(params: dict[str, Any], strategy: list[dict[str, Any]]) -> str:
    """EC2, FARGATE or EXTERNAL: what the request's tasks run on (FARGATE and FARGATE_SPOT are Fargate)."""
    from labkit.ecs.validation import FARGATE_PROVIDERS

    if params.get("launchType"):
        return str(params["launchType"])
    if strategy and all(item.get("capacityProvider") in FARGATE_PROVIDERS for item in strategy):
        return "FARGATE"
    return "EC2"


def _check_launch_choice(response: Any, params: dict[str, Any]) -> None:
    from labkit.ecs.validation import EcsValidationError, check_launch_choice

    found = cluster(response.ecs_backend, params.get("cluster") or "default")
    try:
        check_launch_choice(params, list(getattr(found, "capacity_providers", None) or []))
    except EcsValidationError as exc:
        raise validation_error(exc) from None


def _validate_run_task(params: dict[str, Any], definition: Any, launch_type: str) -> None:
    from labkit.ecs.validation import EcsValidationError, validate_run_task

    try:
        validate_run_task(params, _definition_dict(definition), launch_type)
    except EcsValidationError as exc:
        raise validation_error(exc) from None


def _refuse_duplicate_service(response: Any, params: dict[str, Any]) -> None:
    """A service's name is taken while a service of that name is DRAINING (DeleteService reference).

    (An ACTIVE one is left to moto: CreateService is idempotent for a repeated identical request,
    which a client's retry after a 500 is.)
    """
    found = cluster(response.ecs_backend, params.get("cluster") or "default")
    existing = response.ecs_backend.services.get(f"{found.name}:{params.get('serviceName')}")
    if existing is not None and existing.status == "DRAINING":
        # DeleteService API reference (a name is taken while ACTIVE or DRAINING); message not verified
        raise invalid_parameter("Creation of service was not idempotent.")


def _refuse_controller_update(updated: Any, params: dict[str, Any]) -> None:
    """A CODE_DEPLOY or EXTERNAL service takes no new task definition from UpdateService (CodeDeploy does it)."""
    controller = (getattr(updated, "deployment_controller", None) or {}).get("type", "ECS")
    if controller == "CODE_DEPLOY" and params.get("taskDefinition"):
        # UpdateService API reference: for the CODE_DEPLOY controller only the desired count, deployment
        # configuration, health check grace period and a few more can change; a new deployment goes
        # through CodeDeploy. message: fabfuel/ecs-deploy#175, aws/aws-cdk#25777
        raise invalid_parameter(
            "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
            "Use AWS CodeDeploy to trigger a new deployment."
        )
    if controller == "CODE_DEPLOY" and params.get("forceNewDeployment"):
        # Same rule (a new deployment goes through CodeDeploy); message not verified against AWS
        raise invalid_parameter(
            "Unable to force a new deployment on services with a CODE_DEPLOY deployment controller. "
            "Use AWS CodeDeploy to trigger a new deployment."
        )
    if controller == "EXTERNAL" and params.get("taskDefinition"):
        # UpdateService API reference: an EXTERNAL service's task definition changes with task sets.
        # message not verified against AWS
        raise invalid_parameter(
            "Unable to update task definition on services with an EXTERNAL deployment controller. "
            "Create a task set with CreateTaskSet instead."
        )


def _fill_default_security_group(response: Any) -> None:
    """Every subnet and security group must exist; without securityGroups, AWS uses the VPC's default group (moto requires the field)."""
    awsvpc = ((response.params or {}).get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or not isinstance(awsvpc.get("subnets"), list) or not awsvpc["subnets"]:
        return
    ec2 = backend("ec2", response.current_account, response.region)
    for subnet_id in awsvpc["subnets"]:
        known_subnet(ec2, str(subnet_id))
    if awsvpc.get("securityGroups"):
        for group_id in awsvpc["securityGroups"]:
            known_security_group(ec2, str(group_id))
        return
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


@hook(
    _BACKEND,
    "list_container_instances",
    ("self", "cluster_str", "status"),
    why="a missing cluster is ClusterNotFoundException (moto: []); without a status, INACTIVE container "
    "instances are left out, as ECS's API reference says",
)
def list_container_instances_in_cluster(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, cluster_str: str, status: str | None = None, **kwargs: Any) -> list[str]:
        if simulator_for(self.account_id) is None:
            return list(original(self, cluster_str, status=status, **kwargs))
        found = cluster(self, cluster_str)  # ClusterNotFoundException when it does not exist
        arns = list(original(self, cluster_str, status=status, **kwargs))
        if status is not None:
            return arns
        inactive = {
            ci.container_instance_arn
            for ci in self.container_instances.get(found.name, {}).values()
            if ci.status == "INACTIVE"
        }
        return [arn for arn in arns if arn not in inactive]

    return handler


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
def delete_cluster_unless_busy(original: Callable[..., Any]) -> Callable[..., Any]:
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
    # A DRAINING service (deleted, its tasks still stopping) no longer counts as a service: its tasks
    # do (ClusterContainsTasksException, as gruntwork-io/cloud-nuke#368 saw after delete-service --force).
    if any(s.cluster_name == found.name and s.status == "ACTIVE" for s in ecs_backend.services.values()):
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
