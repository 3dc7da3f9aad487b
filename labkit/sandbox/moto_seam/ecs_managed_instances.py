"""moto.ecs: ECS Managed Instances (the MANAGED_INSTANCES compatibility and capacity providers).

- A task definition that requires MANAGED_INSTANCES lists it in `compatibilities` and keeps the
  network mode it names (moto files it as a Fargate one: awsvpc, even for `host`).
- `CreateCapacityProvider` with `managedInstancesProvider` makes a capacity provider of type
  MANAGED_INSTANCES scoped to its cluster (moto expects an Auto Scaling group provider and fails);
  the simulator runs the tasks a strategy gives it with launch type MANAGED_INSTANCES.

What is not emulated: the EC2 instances ECS launches for such a provider (no container instance is
shown, nothing is billed or placed), instance requirements, storage and tag propagation settings,
UpdateCapacityProvider of such a provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.core import action_result, backend, request_params
from labkit.sandbox.moto_seam.hooks import hook
from labkit.sandbox.simulator.core import simulator_for

__all__: list[str] = []

_RESPONSE = "moto.ecs.responses.EC2ContainerServiceResponse"


@hook(
    "moto.ecs.models.TaskDefinition",
    "__init__",
    ("self", "family", "revision", "container_definitions", "account_id", "region_name", "network_mode"),
    # (labkit reads account_id and network_mode by these positions or names)
    why="a MANAGED_INSTANCES task definition lists that compatibility and keeps its network mode",
)
def task_definition_init(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        required = list(getattr(self, "requires_compatibilities", None) or [])
        account = str(kwargs.get("account_id", args[3] if len(args) > 3 else ""))
        if "MANAGED_INSTANCES" not in required or simulator_for(account) is None:
            return
        self.compatibilities = [c for c in ("EC2", "FARGATE") if c == "EC2" or c in required] + [
            "MANAGED_INSTANCES"
        ]
        asked = kwargs.get("network_mode", args[5] if len(args) > 5 else None)
        if "FARGATE" not in required and asked:
            self.network_mode = asked

    return wrapper


def _error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


def _invalid(message: str) -> Exception:
    from labkit.sandbox.moto_seam.ecs import invalid_parameter

    return invalid_parameter(message)


def _create_managed_instances_provider(self: Any, params: dict[str, Any]) -> Any:
    from labkit.sandbox.moto_seam.ecs import cluster, known_security_group, known_subnet

    settings = dict(params["managedInstancesProvider"])
    if params.get("autoScalingGroupProvider"):
        # message not verified against AWS
        raise _invalid("Specify either autoScalingGroupProvider or managedInstancesProvider, not both.")
    if not params.get("cluster"):
        # API reference, CapacityProvider.cluster: "This is required for Managed instances."
        # message not verified against AWS
        raise _invalid("A cluster is required for a Managed Instances capacity provider.")
    found = cluster(self.ecs_backend, params["cluster"])  # ClusterNotFoundException when missing
    name = str(params["name"])
    if name in self.ecs_backend.capacity_providers:
        # message not verified against AWS
        raise _invalid(f"The specified capacity provider {name} already exists.")
    role = str(settings.get("infrastructureRoleArn") or "")
    iam = backend("iam", self.current_account, "global")
    if role.rsplit("/", 1)[-1] not in {r.name for r in iam.roles.values()}:
        # message not verified against AWS
        raise _invalid(f"The infrastructure role {role} does not exist or cannot be assumed by Amazon ECS.")
    template = settings.get("instanceLaunchTemplate") or {}
    network = template.get("networkConfiguration") or {}
    ec2 = backend("ec2", self.current_account, self.region)
    for subnet_id in network.get("subnets") or []:
        known_subnet(ec2, str(subnet_id))
    for group_id in network.get("securityGroups") or []:
        known_security_group(ec2, str(group_id))
    provider = self.ecs_backend.create_capacity_provider(name, {}, params.get("tags"))
    provider.auto_scaling_group_provider = None
    provider.type = "MANAGED_INSTANCES"
    provider.cluster = found.name
    settings.setdefault("propagateTags", "NONE")
    provider.managed_instances_provider = settings
    return action_result({"capacityProvider": provider})


@hook(
    _RESPONSE,
    "create_capacity_provider",
    ("self",),
    why="CreateCapacityProvider with managedInstancesProvider makes a MANAGED_INSTANCES provider",
)
def create_capacity_provider(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any) -> Any:
        params = request_params(self)
        if simulator_for(self.current_account) is None or not params.get("managedInstancesProvider"):
            return original(self)
        return _create_managed_instances_provider(self, params)

    return handler


__all__ += ["create_capacity_provider", "task_definition_init"]
