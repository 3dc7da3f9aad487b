"""EC2 capacity in the simulator: instances join clusters as the ECS agent would, and tasks are placed.

An EC2 instance (launched directly or by an Auto Scaling group) whose user data sets
`ECS_CLUSTER=<name>` (the line the ECS-optimized AMI's agent reads from /etc/ecs/ecs.config)
registers in that cluster `AGENT_BOOT_SECONDS` after launch, with the CPU and memory of its
instance type. Tasks of the EC2 launch type are placed with `labkit.ecs.placement`, the same
function the book uses, and what they take is kept in step on moto's container instance.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, Literal

from labkit.ecs.placement import (
    RESERVED_PORTS,
    Instance,
    PlacementConstraint,
    PlacementStrategy,
    TaskRequirements,
    instance_type_capacity,
    place_tasks,
)
from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["AGENT_BOOT_SECONDS", "Ec2Capacity", "task_requirements"]

#: The cluster an ECS agent joins when its configuration names none (ECS_CLUSTER unset).
DEFAULT_CLUSTER = "default"
#: Emulated seconds from an instance's launch to its agent registering it.
AGENT_BOOT_SECONDS = 30.0
_ECS_CLUSTER = re.compile(r"ECS_CLUSTER\s*=\s*['\"]?([A-Za-z0-9_-]+)")
#: Used when an instance type is not in the placement table (moto's own default).
_FALLBACK_CAPACITY = (2048, 3904)


def _user_data_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else ""
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        return base64.b64decode(text, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        return text


def task_requirements(definition: Any, group: str) -> TaskRequirements:
    """What one task of `definition` needs from an instance (task-level cpu/memory, else the containers')."""
    containers = definition.container_definitions
    cpu = int(definition.cpu) if definition.cpu else sum(int(c.get("cpu") or 0) for c in containers)
    if definition.memory:
        memory = int(definition.memory)
    else:
        memory = sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in containers)
    mappings = [m for c in containers for m in c.get("portMappings") or []]
    mode: Literal["bridge", "host"] = "host" if definition.network_mode == "host" else "bridge"
    if definition.network_mode == "awsvpc":
        mappings = []  # awsvpc tasks have their own network interface: no host ports.
    return TaskRequirements.from_port_mappings(cpu, memory, mappings, group=group, network_mode=mode)


class Ec2Capacity:
    """Container instances of one sandbox, and placement of EC2-launch-type tasks on them."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._known: set[str] = set()

    @property
    def ecs(self) -> Any:
        return self.sim.ecs.backend

    def sync_instances(self) -> None:
        """Register running instances whose user data names a cluster; boot takes AGENT_BOOT_SECONDS."""
        # Looking must not create the account's EC2 backend (moto builds a default VPC for it).
        if moto_seam.loaded_backend("ec2", self.sim.account_id, self.sim.region) is None:
            return
        ec2 = self.sim.ecs.ec2
        now = self.sim.now()
        for reservation in list(ec2.reservations.values()):
            for instance in reservation.instances:
                if instance.id in self._known or instance.state != "running":
                    continue
                cluster = self._agent_cluster(instance)
                if cluster is None:
                    continue
                launched = instance.launch_time
                launched_at = launched if not isinstance(launched, str) else None
                age = (
                    (now.replace(tzinfo=None) - launched_at).total_seconds()
                    if launched_at is not None
                    else AGENT_BOOT_SECONDS
                )
                if age < AGENT_BOOT_SECONDS:
                    self.sim.after(AGENT_BOOT_SECONDS - age, lambda: None, "agent-boot")
                    continue
                self._known.add(instance.id)
                if cluster not in self.ecs.clusters:
                    self.ecs.create_cluster(cluster)  # the agent creates `default` when it is missing
                self._register(cluster, instance)
        self._retire_stopped_instances(ec2)

    def _agent_cluster(self, instance: Any) -> str | None:
        """The cluster the instance's ECS agent joins: `ECS_CLUSTER` from its user data if that cluster
        exists; without one, `default` when the instance runs an ECS-optimized AMI (which has the agent)."""
        match = _ECS_CLUSTER.search(_user_data_text(instance.user_data))
        if match is not None:
            return match.group(1) if match.group(1) in self.ecs.clusters else None
        ecs_images = moto_seam.ssm.ecs_optimized_image_ids(self.sim.account_id, self.sim.region)
        return DEFAULT_CLUSTER if instance.image_id in ecs_images else None

    def _retire_stopped_instances(self, ec2: Any) -> None:
        """A terminated instance's container instance is deregistered (INACTIVE, agent disconnected) and
        its tasks stop; a stopped instance's agent is disconnected (ECS API reference, DeregisterContainerInstance)."""
        states = {i.id: i.state for r in list(ec2.reservations.values()) for i in r.instances}
        for cluster, members in list(self.ecs.container_instances.items()):
            for ci in list(members.values()):
                state = states.get(ci.ec2_instance_id)
                if state in ("stopping", "stopped") and ci.agent_connected:
                    ci.agent_connected = False
                if state not in ("shutting-down", "terminated") or ci.status == "INACTIVE":
                    continue
                ci.status = "INACTIVE"
                ci.agent_connected = False
                self.ecs.clusters[cluster].registered_container_instances_count -= 1
                for runtime in list(self.sim.ecs.tasks.values()):
                    if (
                        runtime.container_instance_arn == ci.container_instance_arn
                        and runtime.status != "STOPPED"
                    ):
                        self.sim.ecs.stop(
                            runtime,
                            "Host EC2 (instance " + ci.ec2_instance_id + ") terminated.",
                            stop_code="TerminationNotice",
                        )

    def _register(self, cluster: str, instance: Any) -> None:
        container_instance = self.ecs.register_container_instance(cluster, instance.id)
        try:
            cpu, memory = instance_type_capacity(instance.instance_type)
        except ValueError:
            cpu, memory = _FALLBACK_CAPACITY
        for resources in (container_instance.registered_resources, container_instance.remaining_resources):
            for resource in resources:
                if resource["name"] == "CPU":
                    resource["integerValue"] = cpu
                elif resource["name"] == "MEMORY":
                    resource["integerValue"] = memory
                elif resource["name"] == "PORTS":
                    resource["stringSetValue"] = sorted(str(p) for p in RESERVED_PORTS)
        container_instance.registered_at = self.sim.now()
        container_instance.version_info = {
            "agentVersion": "1.89.0",
            "agentHash": "labkit",
            "dockerVersion": "DockerVersion: 25.0.8",
        }

    # -- placement --------------------------------------------------------------------------

    def instances(self, cluster: str, *, active_only: bool = True) -> list[Instance]:
        """The cluster's ACTIVE container instances (all of them: `active_only=False`), with what their tasks take."""
        rows = []
        on_instance: dict[str, list[TaskRuntime]] = {}
        for runtime in self.sim.ecs.tasks.values():
            if runtime.container_instance_arn and runtime.status != "STOPPED":
                on_instance.setdefault(runtime.container_instance_arn, []).append(runtime)
        for ci in self.ecs.container_instances.get(cluster, {}).values():
            if active_only and ci.status != "ACTIVE":
                continue
            registered = {r["name"]: r for r in ci.registered_resources}
            cpu, memory = int(registered["CPU"]["integerValue"]), int(registered["MEMORY"]["integerValue"])
            tasks = on_instance.get(ci.container_instance_arn, [])
            used_cpu = sum(t.requirements.cpu for t in tasks if t.requirements)
            used_memory = sum(t.requirements.memory for t in tasks if t.requirements)
            ports = _registered_ports(registered) | {p for t in tasks for p in t.host_ports.values()}
            groups = Counter(str(t.task.group) for t in tasks)
            rows.append(
                Instance(
                    arn=ci.container_instance_arn,
                    ec2_instance_id=ci.ec2_instance_id,
                    registered_cpu=cpu,
                    registered_memory=memory,
                    remaining_cpu=cpu - used_cpu,
                    remaining_memory=memory - used_memory,
                    attributes=dict(ci.attributes),
                    used_ports=frozenset(ports),
                    task_groups=dict(groups),
                    registered_at=ci.registered_at
                    if getattr(ci.registered_at, "tzinfo", None)
                    else ci.registered_at.replace(tzinfo=self.sim.now().tzinfo),
                    agent_connected=bool(ci.agent_connected),
                )
            )
        return sorted(rows, key=lambda i: i.registered_at)

    def place(
        self,
        cluster: str,
        definition: Any,
        count: int,
        group: str,
        strategies: list[dict[str, Any]] | None,
        constraints: list[dict[str, Any]] | None,
        ec2_instances: set[str] | None = None,
    ) -> tuple[
        list[tuple[str, str, dict[tuple[str, int], int]] | None], list[dict[str, Any]], TaskRequirements
    ]:
        """Place `count` tasks; return per task (container instance, EC2 id, host ports) or None, and failures.

        `ec2_instances`, when given, are the only EC2 instances that qualify (a capacity provider's group).
        """
        requirements = task_requirements(definition, group)
        instances = self.instances(cluster)
        if ec2_instances is not None:
            instances = [i for i in instances if i.ec2_instance_id in ec2_instances]
            if not instances:
                # The service event AWS shows when a capacity provider's group has no instance yet.
                failure = {"reason": "No Container Instances were found in your capacity provider"}
                return [None] * count, [failure], requirements
        result = place_tasks(
            requirements,
            count,
            instances,
            [PlacementStrategy.from_api(s) for s in strategies or []],
            [PlacementConstraint.from_api(c) for c in constraints or []],
            rng=self.sim.random,
        )
        by_arn = {i.arn: i for i in instances}
        slots: list[tuple[str, str, dict[tuple[str, int], int]] | None] = [None] * count
        for placement in result.placements:
            slots[placement.task_index] = (
                placement.instance_arn,
                by_arn[placement.instance_arn].ec2_instance_id,
                self._host_ports(definition, placement.host_ports),
            )
        failures = [{"arn": f.arn, "reason": f.reason, "detail": f.detail} for f in result.failures]
        # AWS reports one failure per reason and instance, not one per task.
        unique = [dict(t) for t in {tuple(sorted(f.items(), key=lambda kv: kv[0])) for f in failures}]
        return slots, sorted(unique, key=lambda f: str(f["reason"])), requirements

    def _fixed_task_ports(self, instance_arn: str) -> frozenset[int]:
        """The host ports the instance's tasks reserve by their port mappings (dynamic ports are not listed)."""
        ports: set[int] = set()
        for runtime in self.sim.ecs.tasks.values():
            if runtime.container_instance_arn == instance_arn and runtime.status != "STOPPED":
                definition = self.ecs.describe_task_definition(runtime.task.task_definition_arn)
                ports.update(self._host_ports(definition, ()).values())
        return frozenset(ports)

    def place_on(
        self, cluster: str, definition: Any, group: str, reference: str
    ) -> tuple[tuple[str, str, dict[tuple[str, int], int]] | None, list[dict[str, Any]], TaskRequirements]:
        """Place one task on the container instance `reference` (an ID or ARN), as StartTask does."""
        requirements = task_requirements(definition, group)
        wanted = reference.split("/")[-1]
        instances = [i for i in self.instances(cluster) if i.arn.split("/")[-1] == wanted]
        if not instances:
            return None, [{"arn": reference, "reason": "MISSING"}], requirements
        result = place_tasks(requirements, 1, instances, [], [], rng=self.sim.random)
        if not result.placements:
            failures = [{"arn": f.arn, "reason": f.reason, "detail": f.detail} for f in result.failures]
            return None, failures[:1], requirements
        placement = result.placements[0]
        ports = self._host_ports(definition, placement.host_ports)
        return (placement.instance_arn, instances[0].ec2_instance_id, ports), [], requirements

    @staticmethod
    def _host_ports(definition: Any, assigned: tuple[int, ...]) -> dict[tuple[str, int], int]:
        """Map each (container, containerPort) to its host port: fixed ones first, then dynamic ones."""
        fixed: list[tuple[str, int, int]] = []
        dynamic: list[tuple[str, int]] = []
        for container in definition.container_definitions:
            for mapping in container.get("portMappings") or []:
                container_port = int(mapping.get("containerPort", 0))
                host = int(mapping.get("hostPort") or 0)
                if definition.network_mode == "host":
                    host = container_port
                if host:
                    fixed.append((container["name"], container_port, host))
                else:
                    dynamic.append((container["name"], container_port))
        ports: dict[tuple[str, int], int] = {(n, cp): hp for n, cp, hp in fixed}
        dynamic_assigned = list(assigned[len(fixed) :])
        for (name, container_port), host in zip(dynamic, dynamic_assigned, strict=False):
            ports[(name, container_port)] = host
        return ports

    def refresh(self, cluster: str) -> None:
        """Copy what tasks take onto moto's container instances (DescribeContainerInstances shows it)."""
        for instance in self.instances(cluster):
            ci = next(
                (
                    c
                    for c in self.ecs.container_instances.get(cluster, {}).values()
                    if c.container_instance_arn == instance.arn
                ),
                None,
            )
            if ci is None:
                continue
            for resource in ci.remaining_resources:
                if resource["name"] == "CPU":
                    resource["integerValue"] = instance.remaining_cpu
                elif resource["name"] == "MEMORY":
                    resource["integerValue"] = instance.remaining_memory
                elif resource["name"] == "PORTS":
                    resource["stringSetValue"] = _remaining_ports(
                        ci.registered_resources, self._fixed_task_ports(instance.arn)
                    )
            ci.running_tasks_count = instance.running_tasks_count


def _registered_ports(registered: dict[str, dict[str, Any]]) -> set[int]:
    """The host ports an instance registered as reserved (its PORTS resource; the agent's defaults without one).

    What tasks take is added to these for `remainingResources`, so it never lists a reserved port the
    instance did not register (one registered through the API may reserve fewer than the agent does).
    """
    if "PORTS" not in registered:
        return set(RESERVED_PORTS)
    return {int(p) for p in registered["PORTS"].get("stringSetValue") or [] if str(p).isdigit()}


def _remaining_ports(registered_resources: list[dict[str, Any]], used: frozenset[int]) -> list[str]:
    """`remainingResources` PORTS: the registered ports, in their order, then the host ports tasks reserve.

    AWS lists "the ports that were reserved by the Amazon ECS container agent and any containers that
    have reserved port mappings on the host"; a dynamic port (hostPort 0) is not a reservation.
    """
    registered = next(
        (r.get("stringSetValue") or [] for r in registered_resources if r["name"] == "PORTS"), []
    )
    reserved = [str(p) for p in registered]
    return reserved + [str(p) for p in sorted(used) if str(p) not in reserved]
