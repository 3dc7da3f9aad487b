"""Where the simulator meets moto: a few of moto's ECS and ELBv2 handlers, wrapped.

Each wrapper looks up the simulator of the account being served; an account without one (moto used
on its own in the same process) gets moto's own behaviour unchanged. Requests are validated as AWS
validates them before moto stores them, and the simulator takes over what moto cannot do (run
tasks, keep services at their count, health-check targets, open listener ports).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from labkit.sandbox.simulator.core import Simulator, simulator_for

__all__ = ["install"]

_installed = False
_lock = threading.Lock()


def _wrap(cls: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(cls, name)
    wrapper = make(original)
    functools.update_wrapper(wrapper, original)
    wrapper.__labkit_original__ = original  # type: ignore[attr-defined]
    setattr(cls, name, wrapper)


def _validation_error(exc: Exception) -> Exception:
    from moto.ecs.exceptions import EcsClientException, InvalidParameterException

    code = getattr(exc, "code", "ClientException")
    message = getattr(exc, "message", str(exc))
    if code == "InvalidParameterException":
        return InvalidParameterException(message)
    error = EcsClientException(message)
    return error


def install() -> None:
    """Wrap moto's handlers once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _install_ecs()
        _install_elbv2()
        _install_autoscaling()
        from labkit.sandbox.simulator import autoscaling

        autoscaling.install()
        from labkit.sandbox.simulator import event_patches

        event_patches.install()
        _install_cluster_tags()
        from labkit.sandbox.simulator import amis, iam

        iam.install()
        amis.install()
        _installed = True


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


def _install_ecs() -> None:
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.responses import EC2ContainerServiceResponse as R

    def register_task_definition(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        from labkit.ecs.validation import EcsValidationError, validate_register_task_definition

        try:
            validate_register_task_definition(self._get_params())
        except EcsValidationError as exc:
            raise _validation_error(exc) from None
        result = original(self)
        definition = self.ecs_backend.describe_task_definition(f"{self._get_params()['family']}")
        definition.registered_at = sim.now()
        definition.registered_by = f"arn:aws:iam::{sim.account_id}:root"
        return result

    def create_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        _fill_default_security_group(self)
        params = self._get_params()
        _validate_service(self, params)
        _validate_placement(params)
        result = original(self)
        service = self.ecs_backend._get_service(params.get("cluster") or "default", params["serviceName"])
        sim.perform(lambda: sim.ecs.service_created(service, params))
        return result

    def update_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        _fill_default_security_group(self)
        params = self._get_params()
        cluster = params.get("cluster") or "default"
        service = self.ecs_backend._get_service(cluster, params["service"].split("/")[-1])
        previous = service.task_definition
        if params.get("taskDefinition"):
            definition = self.ecs_backend.describe_task_definition(params["taskDefinition"])
            _validate_service(self, {**params, "loadBalancers": service.load_balancers}, definition)
        result = original(self)
        if params.get("taskDefinition"):
            # moto stores what the client sent (a family or family:revision); AWS stores the ARN.
            service.task_definition = self.ecs_backend.describe_task_definition(params["taskDefinition"]).arn
        sim.perform(lambda: sim.ecs.service_updated(service, params, previous))
        return result

    def delete_service(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        result = original(self)
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("service")
        )
        sim.perform(lambda: sim.ecs.service_deleted(service))
        return result

    def run_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        _fill_default_security_group(self)
        params = self._get_params()
        _validate_placement(params)
        tasks, failures = sim.perform(lambda: sim.ecs.run_task(params))
        return ActionResult({"tasks": tasks, "failures": failures})

    def stop_task(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        cluster = self._get_param("cluster", "default")
        task = sim.perform(
            lambda: sim.ecs.stop_task_by_user(
                cluster, self._get_param("task"), self._get_param("reason") or ""
            )
        )
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        return ActionResult({"task": task})

    def list_tasks(self: Any, sim: Simulator, original: Callable[..., Any]) -> Any:
        tasks = self.ecs_backend.list_tasks(
            self._get_param("cluster", "default"),
            self._get_param("containerInstance"),
            self._get_param("family"),
            self._get_param("startedBy"),
            None,
            # ListTasks shows tasks whose desired status is RUNNING unless asked otherwise.
            self._get_param("desiredStatus") or "RUNNING",
        )
        service_name = self._get_param("serviceName")
        if service_name:
            group = f"service:{service_name.split('/')[-1]}"
            tasks = [t for t in tasks if t.group == group]
        launch_type = self._get_param("launchType")
        if launch_type:
            tasks = [t for t in tasks if t.launch_type == launch_type]
        return ActionResult({"taskArns": [t.task_arn for t in tasks]})

    for handler in (
        register_task_definition,
        create_service,
        update_service,
        delete_service,
        run_task,
        stop_task,
        list_tasks,
    ):
        _wrap(R, handler.__name__, _in_sandboxes(handler))


def _fill_default_security_group(response: Any) -> None:
    """Without securityGroups, AWS uses the VPC's default group (moto requires the field)."""
    from moto.ec2.models import ec2_backends

    awsvpc = ((response.params or {}).get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or awsvpc.get("securityGroups") or not awsvpc.get("subnets"):
        return
    ec2 = ec2_backends[response.current_account][response.region]
    subnet = ec2.get_subnet(awsvpc["subnets"][0])
    default = ec2.get_default_security_group(subnet.vpc_id)
    awsvpc["securityGroups"] = [default.id] if default is not None else []


def _validate_placement(params: dict[str, Any]) -> None:
    """Placement JSON is checked as AWS checks it (the cluster query language included)."""
    from moto.ecs.exceptions import InvalidParameterException

    from labkit.ecs.placement import PlacementConstraint, PlacementStrategy

    try:
        for strategy in params.get("placementStrategy") or []:
            PlacementStrategy.from_api(strategy)
        for constraint in params.get("placementConstraints") or []:
            PlacementConstraint.from_api(constraint)
    except ValueError as exc:
        raise InvalidParameterException(str(exc)) from None


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
        raise _validation_error(exc) from None


def _install_elbv2() -> None:
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    def health_for(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
            sim = simulator_for(self.account_id)
            if sim is None:
                return original(self, target, ec2_backend)
            port = int(target.get("Port") or self.port)
            state, reason, description = sim.elb.state(self.arn, target["Id"], port)
            return FakeHealthStatus(
                target["Id"], str(port), self.health_check_port, state, reason, description
            )

        return handler

    def register_targets(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, target_group_arn: str, instances: list[Any]) -> None:
            original(self, target_group_arn, instances)
            sim = simulator_for(self.account_id)
            if sim is not None:
                group = self.target_groups[target_group_arn]
                for target in instances:
                    port = int(target.get("Port") or group.port)
                    sim.perform(functools.partial(sim.elb.registered, target_group_arn, target["Id"], port))

        return handler

    def deregister_targets(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, target_group_arn: str, instances: list[dict[str, Any]]) -> None:
            group = self.target_groups.get(target_group_arn)
            kept = {
                t["Id"]: dict(group.targets[t["Id"]]) for t in instances if group and t["Id"] in group.targets
            }
            original(self, target_group_arn, instances)
            sim = simulator_for(self.account_id)
            if sim is not None and group is not None:
                for target in instances:
                    port = int(target["Port"]) if target.get("Port") else None
                    sim.perform(functools.partial(sim.elb.deregistered, target_group_arn, target["Id"], port))
                    if target["Id"] in kept:
                        # Listed as draining until the deregistration delay has passed.
                        group.targets[target["Id"]] = kept[target["Id"]]

        return handler

    def create_listener(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
            listener = original(self, *args, **kwargs)
            sim = simulator_for(self.account_id)
            if sim is not None:
                sim.elb.listener_created(listener)
            return listener

        return handler

    def delete_listener(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, listener_arn: str) -> Any:
            listener = original(self, listener_arn)
            sim = simulator_for(self.account_id)
            if sim is not None:
                sim.elb.listener_deleted(listener_arn)
            return listener

        return handler

    def delete_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, arn: str) -> None:
            lb = self.load_balancers.get(arn)
            listeners = list(lb.listeners) if lb is not None else []
            original(self, arn)
            sim = simulator_for(self.account_id)
            if sim is not None:
                sim.elb.load_balancer_deleted(arn, listeners)

        return handler

    _wrap(FakeTargetGroup, "health_for", health_for)
    _wrap(ELBv2Backend, "register_targets", register_targets)
    _wrap(ELBv2Backend, "deregister_targets", deregister_targets)
    _wrap(ELBv2Backend, "create_listener", create_listener)
    _wrap(ELBv2Backend, "delete_listener", delete_listener)
    _wrap(ELBv2Backend, "delete_load_balancer", delete_load_balancer)


def _install_autoscaling() -> None:
    from moto.autoscaling.models import FakeAutoScalingGroup

    def replace_instances(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, count_needed: int, propagated_tags: dict[str, str]) -> None:
            subnets = (self.vpc_zone_identifier or "").split(",")
            sim = simulator_for(self.autoscaling_backend.account_id)
            if sim is None or len(subnets) < 2:
                original(self, count_needed, propagated_tags)
                return None
            # Auto Scaling balances instances across the group's Availability Zones (moto puts
            # them all in the first subnet).
            ec2 = self.autoscaling_backend.ec2_backend
            zone_of = {s: ec2.get_subnet(s).availability_zone for s in subnets}
            identifier = self.vpc_zone_identifier
            try:
                for _ in range(count_needed):
                    counts = {s: 0 for s in subnets}
                    for state in self.instance_states:
                        for subnet in subnets:
                            if zone_of[subnet] == state.instance.availability_zone:
                                counts[subnet] += 1
                    chosen = min(subnets, key=lambda s: (counts[s], subnets.index(s)))
                    self.vpc_zone_identifier = chosen
                    original(self, 1, dict(propagated_tags))
            finally:
                self.vpc_zone_identifier = identifier
            return None

        return handler

    _wrap(FakeAutoScalingGroup, "replace_autoscaling_group_instances", replace_instances)


def _install_cluster_tags() -> None:
    """An untagged ECS cluster has tags None in moto, which crashes the tagging API's GetResources."""
    from moto.ecs.models import Cluster

    def init(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if self.tags is None:
                self.tags = []

        return wrapper

    _wrap(Cluster, "__init__", init)
