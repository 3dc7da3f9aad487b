"""Task placement for the EC2 launch type: constraints, resources, strategies, failures.

What AWS documents (ECS developer guide: "Amazon ECS task placement", "task placement strategies",
"task placement constraints", "API failure reasons"; the `PlacementStrategy`, `PlacementConstraint`
and `PortMapping` shapes of the ECS API model in botocore) and how this module follows it:

1. Constraints filter instances (`distinctInstance`: no two tasks of the group on one instance;
   `memberOf`: a cluster query language expression, see `labkit.ecs.cql`). They are binding.
2. Instances without the task's CPU units, memory or host ports left are excluded.
3. Strategies order the rest, in the order given; a later strategy only breaks ties of the earlier
   ones. `binpack` (field `cpu` or `memory`) prefers the least remaining amount that still fits;
   `spread` (field `instanceId`, `host` or `attribute:NAME`) prefers the value with the fewest tasks
   of the group; `random` picks at random among what is left.
4. A task that fits nowhere is a failure, never a silent drop.

Choices where the documentation is silent (each is tested):
- No strategy given: the guide says a service's default is `spread` by
  `attribute:ecs.availability-zone` and names no default for standalone tasks. We use that spread for
  both, then `spread` by `instanceId` so that tasks in one zone do not all land on its first instance
  (the console's "AZ balanced spread" template is these two strategies). See `DEFAULT_STRATEGIES`.
- Ties left after every strategy go to the instance registered first (the order of `instances`), so
  `spread` walks instances 1, 2, 3, 1, 2, 3 as the course notes describe.
- Spread counts are the group's tasks on all the given instances, including instances the task cannot
  use; an instance without the spread attribute counts in a bucket of its own.
- Failure reason: each instance fails at the first check it does not pass, in the order AGENT,
  memberOf, distinctInstance, CPU, memory, ports. The failure names the "closest matching" instance
  (the service event's wording): the one that got furthest, the first registered on a tie. Reasons are
  AWS's strings: `AGENT`, `MemberOf placement constraint unsatisfied.`, `DistinctInstance placement
  constraint unsatisfied.`, `RESOURCE:CPU`, `RESOURCE:MEMORY`, `RESOURCE:PORTS`.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from labkit.ecs.cql import Expression, evaluate, parse

__all__ = [
    "DEFAULT_STRATEGIES",
    "DYNAMIC_PORT_RANGE",
    "RESERVED_PORTS",
    "Instance",
    "Placement",
    "PlacementConstraint",
    "PlacementFailure",
    "PlacementResult",
    "PlacementStrategy",
    "TaskRequirements",
    "instance_type_capacity",
    "place_tasks",
]

# The PortMapping.hostPort documentation in the ECS API model: with hostPort 0 or absent (bridge
# mode) "your container automatically receives a port in the ephemeral port range"; without
# /proc/sys/net/ipv4/ip_local_port_range "the default ephemeral port range from 49153 through 65535
# (Linux)" is used. The agent (1.70.0 and later) takes its range from ECS_DYNAMIC_HOST_PORT_RANGE or
# that kernel setting; the emulator has no kernel, so it uses the documented Linux default.
DYNAMIC_PORT_RANGE = (49153, 65535)

# Same documentation: "The default reserved ports are 22 for SSH, the Docker ports 2375 and 2376, and
# the Amazon ECS container agent ports 51678-51680."
RESERVED_PORTS = frozenset({22, 2375, 2376, 51678, 51679, 51680})

# The ECS API accepts at most 5 strategy rules (RunTask and CreateService placementStrategy).
MAX_STRATEGIES = 5
# The PlacementConstraint.expression documentation: "a maximum length of 2000 characters".
MAX_EXPRESSION_LENGTH = 2000

# Failure reasons, as AWS writes them in RunTask `failures` and service events.
AGENT = "AGENT"
MEMBER_OF_UNSATISFIED = "MemberOf placement constraint unsatisfied."
DISTINCT_INSTANCE_UNSATISFIED = "DistinctInstance placement constraint unsatisfied."
RESOURCE_CPU = "RESOURCE:CPU"
RESOURCE_MEMORY = "RESOURCE:MEMORY"
RESOURCE_PORTS = "RESOURCE:PORTS"
NO_INSTANCES = "No Container Instances were found in your cluster."


@dataclass(frozen=True)
class Instance:
    """A container instance as placement sees it; it also satisfies `cql.InstanceFacts`.

    `task_groups` maps a task group (`service:web`, `family:app`) to the tasks of it running here;
    `used_ports` holds every host port taken (the agent's reserved ports, fixed and dynamic ones).
    """

    arn: str
    ec2_instance_id: str
    registered_cpu: int
    registered_memory: int
    remaining_cpu: int
    remaining_memory: int
    attributes: Mapping[str, str | None] = field(default_factory=dict)
    used_ports: frozenset[int] = RESERVED_PORTS
    task_groups: Mapping[str, int] = field(default_factory=dict)
    registered_at: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    agent_connected: bool = True
    agent_version: str = "1.89.0"

    @property
    def running_tasks_count(self) -> int:
        """Tasks on the instance (every task belongs to exactly one group)."""
        return sum(self.task_groups.values())

    @classmethod
    def of_type(
        cls,
        arn: str,
        ec2_instance_id: str,
        instance_type: str,
        availability_zone: str,
        *,
        reserved_memory_mib: int = 0,
        **kwargs: Any,
    ) -> Instance:
        """An empty instance of a known type in a zone, with the attributes ECS sets for it.

        Raises ValueError for an instance type `instance_type_capacity` does not know.
        """
        cpu, memory = instance_type_capacity(instance_type, reserved_memory_mib=reserved_memory_mib)
        attributes = {"ecs.instance-type": instance_type, "ecs.availability-zone": availability_zone}
        attributes.update(kwargs.pop("attributes", {}))
        return cls(arn, ec2_instance_id, cpu, memory, cpu, memory, attributes=attributes, **kwargs)


@dataclass(frozen=True)
class TaskRequirements:
    """What one task needs from an instance: CPU units, memory (MiB), fixed and dynamic host ports."""

    cpu: int
    memory: int
    host_ports: frozenset[int] = frozenset()
    dynamic_ports: int = 0
    group: str = "family:task"

    def __post_init__(self) -> None:
        if self.cpu < 0 or self.memory < 0 or self.dynamic_ports < 0:
            raise ValueError("cpu, memory and dynamic_ports must be 0 or more")
        bad = sorted(port for port in self.host_ports if not 1 <= port <= 65535)
        if bad:
            raise ValueError(f"host ports must be between 1 and 65535 (use dynamic_ports for 0): {bad}")

    @classmethod
    def from_port_mappings(
        cls,
        cpu: int,
        memory: int,
        port_mappings: Iterable[Mapping[str, Any]],
        *,
        group: str = "family:task",
        network_mode: Literal["bridge", "host"] = "bridge",
    ) -> TaskRequirements:
        """Requirements from ECS `portMappings` JSON: hostPort 0 or absent is dynamic in bridge mode.

        Raises ValueError for a host port used twice, or a host-mode hostPort unlike its containerPort.
        """
        fixed: list[int] = []
        dynamic = 0
        for mapping in port_mappings:
            host_port = int(mapping.get("hostPort", 0))
            container_port = int(mapping.get("containerPort", 0))
            if network_mode == "host":
                # In host mode the container port is the host port ("must be the same value").
                if host_port not in (0, container_port):
                    raise ValueError(
                        f"in host network mode hostPort ({host_port}) must be absent or equal "
                        f"containerPort ({container_port})"
                    )
                fixed.append(container_port)
            elif host_port == 0:
                dynamic += 1
            else:
                fixed.append(host_port)
        if len(set(fixed)) != len(fixed):
            raise ValueError(f"a host port is mapped more than once: {sorted(fixed)}")
        return cls(cpu, memory, frozenset(fixed), dynamic, group)


@dataclass(frozen=True)
class PlacementStrategy:
    """One placement strategy rule: `binpack` (cpu|memory), `spread` (instanceId|host|attribute:X), `random`."""

    type: Literal["binpack", "spread", "random"]
    field: str | None = None

    def __post_init__(self) -> None:
        if self.type == "binpack":
            if self.field not in ("cpu", "memory"):
                raise ValueError(
                    f"Invalid placement strategy: binpack field must be cpu or memory, got {self.field!r}"
                )
        elif self.type == "spread":
            if not self.field or not (
                self.field in ("instanceId", "host") or self.field.startswith("attribute:")
            ):
                raise ValueError(
                    "Invalid placement strategy: spread field must be instanceId, host or "
                    f"attribute:NAME (for example attribute:ecs.availability-zone), got {self.field!r}"
                )
            if self.field.startswith("attribute:") and len(self.field) == len("attribute:"):
                raise ValueError("Invalid placement strategy: spread field attribute: needs a name")
        elif self.type != "random":
            raise ValueError(
                f"Invalid placement strategy type {self.type!r}: must be one of random, spread, binpack"
            )

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlacementStrategy:
        """Build from ECS API JSON such as {"type": "binpack", "field": "memory"}.

        Raises ValueError for an unknown key or type, or a field the type does not accept.
        """
        unknown = sorted(set(data) - {"type", "field"})
        if unknown:
            raise ValueError(f"Invalid placement strategy: unknown key(s) {unknown}; keys are type and field")
        if "type" not in data:
            raise ValueError("Invalid placement strategy: type is required")
        kind = data["type"]
        # The API says the field "is not used" for random, so a field there is ignored, not refused.
        return cls(kind, None if kind == "random" else data.get("field"))

    def to_api(self) -> dict[str, str]:
        """The ECS API JSON of this rule."""
        return {"type": self.type} if self.field is None else {"type": self.type, "field": self.field}


@dataclass(frozen=True)
class PlacementConstraint:
    """One placement constraint: `distinctInstance`, or `memberOf` with a cluster query expression."""

    type: Literal["distinctInstance", "memberOf"]
    expression: str | None = None
    parsed: Expression | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.type == "distinctInstance":
            if self.expression:
                raise ValueError(
                    "Invalid placement constraint: you can't specify an expression if the constraint "
                    "type is distinctInstance"
                )
        elif self.type == "memberOf":
            if not self.expression:
                raise ValueError("Invalid placement constraint: memberOf needs an expression")
            if len(self.expression) > MAX_EXPRESSION_LENGTH:
                raise ValueError(
                    f"Invalid placement constraint: the expression can have at most {MAX_EXPRESSION_LENGTH} "
                    f"characters, got {len(self.expression)}"
                )
            # Parsed once here so a bad expression fails when the constraint is made, with its position.
            object.__setattr__(self, "parsed", parse(self.expression))
        else:
            raise ValueError(
                f"Invalid placement constraint type {self.type!r}: must be one of distinctInstance, memberOf"
            )

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PlacementConstraint:
        """Build from ECS API JSON such as {"type": "memberOf", "expression": "attribute:... =~ t2.*"}.

        Raises ValueError (ClusterQueryError for a bad expression) for an invalid constraint.
        """
        unknown = sorted(set(data) - {"type", "expression"})
        if unknown:
            raise ValueError(
                f"Invalid placement constraint: unknown key(s) {unknown}; keys are type and expression"
            )
        if "type" not in data:
            raise ValueError("Invalid placement constraint: type is required")
        return cls(data["type"], data.get("expression"))

    def to_api(self) -> dict[str, str]:
        """The ECS API JSON of this constraint."""
        if self.expression is None:
            return {"type": self.type}
        return {"type": self.type, "expression": self.expression}


DEFAULT_STRATEGIES = (
    PlacementStrategy("spread", "attribute:ecs.availability-zone"),
    PlacementStrategy("spread", "instanceId"),
)


@dataclass(frozen=True)
class Placement:
    """Task number `task_index` goes to `instance_arn` with these host ports (fixed, then dynamic)."""

    task_index: int
    instance_arn: str
    host_ports: tuple[int, ...]


@dataclass(frozen=True)
class PlacementFailure:
    """A task that could not be placed: AWS's reason, the closest matching instance, and why."""

    task_index: int
    reason: str
    arn: str | None
    detail: str


@dataclass(frozen=True)
class PlacementResult:
    """Placements, failures, and the instances after the placed tasks took their share."""

    placements: tuple[Placement, ...]
    failures: tuple[PlacementFailure, ...]
    instances: tuple[Instance, ...]


def place_tasks(
    requirements: TaskRequirements,
    count: int,
    instances: Sequence[Instance],
    strategies: Sequence[PlacementStrategy] = (),
    constraints: Sequence[PlacementConstraint] = (),
    *,
    rng: random.Random,
) -> PlacementResult:
    """Place `count` tasks one by one; each placement uses up the chosen instance's resources.

    Raises ValueError for a negative count, more than 5 strategies, or two instances with one ARN.
    """
    if count < 0:
        raise ValueError(f"count must be 0 or more, got {count}")
    if len(strategies) > MAX_STRATEGIES:
        raise ValueError(f"at most {MAX_STRATEGIES} placement strategies are allowed, got {len(strategies)}")
    if len({instance.arn for instance in instances}) != len(instances):
        raise ValueError("two instances have the same arn")
    return _Placer(requirements, instances, tuple(strategies) or DEFAULT_STRATEGIES, constraints, rng).run(
        count
    )


class _Placer:
    """Working state of one place_tasks call.

    Every check depends only on the instance itself (its resources, ports, groups), so a placement
    changes the eligibility of the chosen instance only. Leading `spread` by attribute splits the
    instances into buckets (paths of attribute values); when the remaining strategies also depend on
    the instance alone (binpack, spread by instance), each bucket keeps a heap of its eligible
    instances, so a placement costs O(buckets + log n) instead of a scan of every instance.
    """

    def __init__(
        self,
        requirements: TaskRequirements,
        instances: Sequence[Instance],
        strategies: tuple[PlacementStrategy, ...],
        constraints: Sequence[PlacementConstraint],
        rng: random.Random,
    ) -> None:
        self.req = requirements
        self.current = list(instances)
        self.constraints = tuple(constraints)
        self.rng = rng
        self.group = requirements.group

        leading: list[str] = []
        for strategy in strategies:
            if strategy.type == "spread" and strategy.field and strategy.field.startswith("attribute:"):
                leading.append(strategy.field[len("attribute:") :])
            else:
                break
        self.leading = tuple(leading)
        self.tail = strategies[len(leading) :]
        self.use_heaps = all(
            s.type == "binpack" or (s.type == "spread" and s.field in ("instanceId", "host"))
            for s in self.tail
        )

        # Tasks of the group per attribute value, over every given instance.
        spread_attributes = {
            s.field[len("attribute:") :]
            for s in strategies
            if s.type == "spread" and s.field and s.field.startswith("attribute:")
        }
        self.spread_counts: dict[str, Counter[str | None]] = {name: Counter() for name in spread_attributes}
        for instance in self.current:
            tasks = instance.task_groups.get(self.group, 0)
            for name, counter in self.spread_counts.items():
                counter[_attribute(instance, name)] += tasks

        self.paths = [tuple(_attribute(inst, name) for name in self.leading) for inst in self.current]
        self.eligible: dict[tuple[str | None, ...], set[int]] = {}
        self.heaps: dict[tuple[str | None, ...], list[tuple[tuple[int, ...], int, int]]] = {}
        self.version = [0] * len(self.current)
        for index, instance in enumerate(self.current):
            if self.first_failure(instance) is None:
                self.add_eligible(index)
        for heap in self.heaps.values():
            heapq.heapify(heap)

    # -- checks -----------------------------------------------------------------------------------

    def first_failure(self, instance: Instance) -> tuple[int, str, str] | None:
        """(how far the instance got, AWS reason, detail) for the first check it fails, or None."""
        req = self.req
        if not instance.agent_connected:
            return 0, AGENT, f"the container agent on {instance.arn} is disconnected"
        for constraint in self.constraints:
            if constraint.parsed is not None and not evaluate(constraint.parsed, instance):
                return 1, MEMBER_OF_UNSATISFIED, f"{instance.arn} does not match {constraint.expression!r}"
        if any(c.type == "distinctInstance" for c in self.constraints) and instance.task_groups.get(
            self.group, 0
        ):
            return 2, DISTINCT_INSTANCE_UNSATISFIED, f"{instance.arn} already runs a task of {self.group}"
        if instance.remaining_cpu < req.cpu:
            return (
                3,
                RESOURCE_CPU,
                f"{instance.arn} has {instance.remaining_cpu} CPU units left, the task needs {req.cpu}",
            )
        if instance.remaining_memory < req.memory:
            return (
                4,
                RESOURCE_MEMORY,
                f"{instance.arn} has {instance.remaining_memory} MiB left, the task needs {req.memory}",
            )
        taken = sorted(req.host_ports & instance.used_ports)
        if taken:
            return 5, RESOURCE_PORTS, f"{instance.arn} already uses host port(s) {taken}"
        if req.dynamic_ports and _free_dynamic_ports(instance) < req.dynamic_ports:
            return 5, RESOURCE_PORTS, f"{instance.arn} has no {req.dynamic_ports} free dynamic host ports"
        return None

    # -- candidate bookkeeping --------------------------------------------------------------------

    def local_key(self, index: int) -> tuple[int, ...]:
        instance = self.current[index]
        key: list[int] = []
        for strategy in self.tail:
            if strategy.field == "cpu":
                key.append(instance.remaining_cpu)
            elif strategy.field == "memory":
                key.append(instance.remaining_memory)
            else:  # spread by instanceId / host
                key.append(instance.task_groups.get(self.group, 0))
        return tuple(key)

    def add_eligible(self, index: int) -> None:
        path = self.paths[index]
        self.eligible.setdefault(path, set()).add(index)
        if self.use_heaps:
            heapq.heappush(
                self.heaps.setdefault(path, []), (self.local_key(index), index, self.version[index])
            )

    def choose(self) -> int | None:
        live = [path for path, members in self.eligible.items() if members]
        if not live:
            return None

        def path_key(path: tuple[str | None, ...]) -> tuple[int, ...]:
            return tuple(
                self.spread_counts[name][value] for name, value in zip(self.leading, path, strict=True)
            )

        best = min(path_key(path) for path in live)
        best_paths = [path for path in live if path_key(path) == best]
        if self.use_heaps:
            tops = []
            for path in best_paths:
                heap = self.heaps[path]
                # Drop entries made stale by a later placement (version) or by losing eligibility.
                while heap[0][2] != self.version[heap[0][1]] or heap[0][1] not in self.eligible[path]:
                    heapq.heappop(heap)
                tops.append(heap[0][:2])
            return min(tops)[1]
        candidates = sorted(set().union(*(self.eligible[path] for path in best_paths)))
        for strategy in self.tail:
            if strategy.type == "random":
                return self.rng.choice(candidates)
            keys = {index: self.tail_key(strategy, index) for index in candidates}
            lowest = min(keys.values())
            candidates = [index for index in candidates if keys[index] == lowest]
        return candidates[0]

    def tail_key(self, strategy: PlacementStrategy, index: int) -> int:
        instance = self.current[index]
        if strategy.field == "cpu":
            return instance.remaining_cpu
        if strategy.field == "memory":
            return instance.remaining_memory
        if strategy.field in ("instanceId", "host"):
            return instance.task_groups.get(self.group, 0)
        assert strategy.field is not None
        name = strategy.field[len("attribute:") :]
        return self.spread_counts[name][_attribute(instance, name)]

    # -- placing ----------------------------------------------------------------------------------

    def place_on(self, index: int) -> tuple[int, ...]:
        instance = self.current[index]
        dynamic = _lowest_free_dynamic_ports(instance.used_ports, self.req.dynamic_ports)
        ports = tuple(sorted(self.req.host_ports)) + dynamic
        groups = dict(instance.task_groups)
        groups[self.group] = groups.get(self.group, 0) + 1
        updated = replace(
            instance,
            remaining_cpu=instance.remaining_cpu - self.req.cpu,
            remaining_memory=instance.remaining_memory - self.req.memory,
            used_ports=instance.used_ports | set(ports),
            task_groups=groups,
        )
        self.current[index] = updated
        self.version[index] += 1
        for name, counter in self.spread_counts.items():
            counter[_attribute(updated, name)] += 1
        self.eligible[self.paths[index]].discard(index)
        if self.first_failure(updated) is None:
            self.add_eligible(index)
        return ports

    def closest_failure(self, task_index: int) -> PlacementFailure:
        if not self.current:
            return PlacementFailure(task_index, NO_INSTANCES, None, "the cluster has no container instances")
        best: tuple[int, str, str] | None = None
        best_arn = ""
        for instance in self.current:
            failure = self.first_failure(instance)
            # Every instance fails here (nothing was eligible); keep the first that got furthest.
            assert failure is not None
            if best is None or failure[0] > best[0]:
                best, best_arn = failure, instance.arn
        assert best is not None
        return PlacementFailure(task_index, best[1], best_arn, best[2])

    def run(self, count: int) -> PlacementResult:
        placements: list[Placement] = []
        failures: list[PlacementFailure] = []
        for task_index in range(count):
            index = self.choose()
            if index is None:
                # Nothing changes once a task fails (same requirements, same instances), so every
                # remaining task fails for the same reason.
                failure = self.closest_failure(task_index)
                failures.extend(replace(failure, task_index=i) for i in range(task_index, count))
                break
            ports = self.place_on(index)
            placements.append(Placement(task_index, self.current[index].arn, ports))
        return PlacementResult(tuple(placements), tuple(failures), tuple(self.current))


def _attribute(instance: Instance, name: str) -> str | None:
    return instance.attributes.get(name)


def _free_dynamic_ports(instance: Instance) -> int:
    low, high = DYNAMIC_PORT_RANGE
    return (high - low + 1) - sum(1 for port in instance.used_ports if low <= port <= high)


def _lowest_free_dynamic_ports(used: frozenset[int], wanted: int) -> tuple[int, ...]:
    low, high = DYNAMIC_PORT_RANGE
    ports: list[int] = []
    port = low
    while len(ports) < wanted and port <= high:
        if port not in used:
            ports.append(port)
        port += 1
    return tuple(ports)


# vCPUs and memory (GiB) of common instance types, from the EC2 instance type specifications.
_INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    **{
        f"{family}.{size}": spec
        for family in ("t3", "t3a")
        for size, spec in {
            "micro": (2, 1),
            "small": (2, 2),
            "medium": (2, 4),
            "large": (2, 8),
            "xlarge": (4, 16),
            "2xlarge": (8, 32),
        }.items()
    },
    "t2.micro": (1, 1),
    "t2.small": (1, 2),
    "t2.medium": (2, 4),
    "t2.large": (2, 8),
    "t2.xlarge": (4, 16),
    "t2.2xlarge": (8, 32),
    **{
        f"{family}.{size}": (vcpus, vcpus * per_vcpu)
        for family, per_vcpu in (("m5", 4), ("m6i", 4), ("c5", 2), ("c6i", 2), ("r5", 8))
        for size, vcpus in (("large", 2), ("xlarge", 4), ("2xlarge", 8), ("4xlarge", 16))
    },
}

# The guide's "Container instance memory management" example: an m4.large has 8 GiB installed, the
# operating system reports 8373026816 bytes, and the agent registers 7985 MiB. We scale every type by
# that ratio (kernel and platform overhead), then subtract ECS_RESERVED_MEMORY (default 0), which the
# agent "removes ... from the pool that is allocated to your tasks".
_REGISTERED_MIB_PER_8192 = 7985


def instance_type_capacity(instance_type: str, *, reserved_memory_mib: int = 0) -> tuple[int, int]:
    """Registered (cpu units, memory MiB) of an instance type: vCPUs * 1024, and memory less overhead.

    Raises ValueError for an instance type not in the table, or a negative reservation.
    """
    try:
        vcpus, gib = _INSTANCE_TYPES[instance_type]
    except KeyError:
        known = sorted({name.split(".")[0] for name in _INSTANCE_TYPES})
        raise ValueError(
            f"unknown instance type {instance_type!r}; known families: {', '.join(known)} "
            "(sizes micro to 2xlarge for t2/t3/t3a, large to 4xlarge for the others)"
        ) from None
    if reserved_memory_mib < 0:
        raise ValueError(f"reserved_memory_mib must be 0 or more, got {reserved_memory_mib}")
    memory = gib * 1024 * _REGISTERED_MIB_PER_8192 // 8192 - reserved_memory_mib
    return vcpus * 1024, memory
