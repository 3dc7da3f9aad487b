"""Task placement: API shapes, each strategy and constraint, failure reasons, ports, and properties."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit.ecs.cql import ClusterQueryError, evaluate
from labkit.ecs.placement import (
    DEFAULT_STRATEGIES,
    DYNAMIC_PORT_RANGE,
    RESERVED_PORTS,
    Instance,
    PlacementConstraint,
    PlacementStrategy,
    TaskRequirements,
    instance_type_capacity,
    place_tasks,
)

AZ = "ecs.availability-zone"
SPREAD_AZ = PlacementStrategy.from_api({"type": "spread", "field": "attribute:ecs.availability-zone"})
SPREAD_INSTANCE = PlacementStrategy.from_api({"type": "spread", "field": "instanceId"})
BINPACK_MEMORY = PlacementStrategy.from_api({"type": "binpack", "field": "memory"})
BINPACK_CPU = PlacementStrategy.from_api({"type": "binpack", "field": "cpu"})
RANDOM = PlacementStrategy.from_api({"type": "random"})
DISTINCT = PlacementConstraint.from_api({"type": "distinctInstance"})
WEB = TaskRequirements(cpu=256, memory=512, group="service:web")


def make(
    name: str,
    *,
    zone: str = "us-east-1a",
    instance_type: str = "t3.large",
    cpu: int = 2048,
    memory: int = 8000,
    groups: dict[str, int] | None = None,
    ports: frozenset[int] = RESERVED_PORTS,
    connected: bool = True,
) -> Instance:
    """A test instance named `name` with the given remaining resources."""
    return Instance(
        arn=f"arn:aws:ecs:us-east-1:123456789012:container-instance/lab/{name}",
        ec2_instance_id=f"i-{name}",
        registered_cpu=max(cpu, 2048),
        registered_memory=max(memory, 8000),
        remaining_cpu=cpu,
        remaining_memory=memory,
        attributes={AZ: zone, "ecs.instance-type": instance_type},
        used_ports=ports,
        task_groups=groups or {},
        agent_connected=connected,
    )


def names(result_arns: Sequence[str]) -> list[str]:
    """The short names of instance ARNs, in order."""
    return [arn.rsplit("/", 1)[1] for arn in result_arns]


def placed_on(
    instances: Sequence[Instance],
    count: int,
    strategies: Sequence[PlacementStrategy] = (),
    constraints: Sequence[PlacementConstraint] = (),
    requirements: TaskRequirements = WEB,
) -> list[str]:
    """Short names of the instances `count` tasks are placed on."""
    result = place_tasks(requirements, count, instances, strategies, constraints, rng=random.Random(1))
    return names([p.instance_arn for p in result.placements])


class TestApiShapes:
    def test_strategies_from_api(self) -> None:
        """The ECS API JSON shapes of strategies are accepted and round-trip."""
        for data in (
            {"type": "binpack", "field": "memory"},
            {"type": "binpack", "field": "cpu"},
            {"type": "spread", "field": "attribute:ecs.availability-zone"},
            {"type": "spread", "field": "instanceId"},
            {"type": "spread", "field": "host"},
            {"type": "random"},
        ):
            assert PlacementStrategy.from_api(data).to_api() == data

    def test_random_ignores_a_field(self) -> None:
        """random's field "is not used" (API model), so it is dropped rather than refused."""
        assert PlacementStrategy.from_api({"type": "random", "field": "memory"}).field is None

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"type": "binpack", "field": "disk"}, "binpack field must be cpu or memory"),
            ({"type": "binpack"}, "binpack field must be cpu or memory"),
            ({"type": "spread"}, "spread field must be instanceId, host or attribute:NAME"),
            # The course notes' typo: `attrivutres:` instead of `attribute:`.
            ({"type": "spread", "field": "attrivutres:ecs.availability-zone"}, "spread field must be"),
            ({"type": "spread", "field": "attribute:"}, "needs a name"),
            ({"type": "binpak", "field": "memory"}, "must be one of random, spread, binpack"),
            ({"field": "memory"}, "type is required"),
            ({"type": "random", "expression": "x"}, "unknown key"),
        ],
    )
    def test_invalid_strategy(self, data: dict[str, str], message: str) -> None:
        """An invalid strategy is a ValueError that says what is allowed."""
        with pytest.raises(ValueError, match=message):
            PlacementStrategy.from_api(data)

    def test_constraints_from_api(self) -> None:
        """The ECS API JSON shapes of constraints are accepted, and memberOf is parsed at once."""
        member = PlacementConstraint.from_api(
            {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"}
        )
        assert member.parsed is not None
        assert PlacementConstraint.from_api({"type": "distinctInstance"}).to_api() == {
            "type": "distinctInstance"
        }

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"type": "memberOf"}, "memberOf needs an expression"),
            ({"type": "distinctInstance", "expression": "x == y"}, "can't specify an expression"),
            ({"type": "memberOf", "expression": "x" * 2001}, "at most 2000 characters"),
            ({"type": "sameInstance"}, "must be one of distinctInstance, memberOf"),
        ],
    )
    def test_invalid_constraint(self, data: dict[str, str], message: str) -> None:
        """An invalid constraint is a ValueError that says what is wrong."""
        with pytest.raises(ValueError, match=message):
            PlacementConstraint.from_api(data)

    def test_bad_member_of_expression_has_a_position(self) -> None:
        """A memberOf expression that does not parse raises ClusterQueryError with its position."""
        with pytest.raises(ClusterQueryError) as info:
            PlacementConstraint.from_api(
                {"type": "memberOf", "expression": "attributes:ecs.instance-type =~ t2.*"}
            )
        assert info.value.position == 0

    def test_too_many_strategies(self) -> None:
        """More than five strategy rules are refused, as the ECS API does."""
        with pytest.raises(ValueError, match="at most 5"):
            place_tasks(WEB, 1, [make("a")], [BINPACK_CPU] * 6, rng=random.Random(0))


class TestStrategies:
    def test_binpack_memory_prefers_least_remaining_that_fits(self) -> None:
        """binpack by memory fills the fullest instance that still fits, then moves on."""
        instances = [make("roomy", memory=4000), make("tight", memory=1100), make("full", memory=300)]
        assert placed_on(instances, 4, [BINPACK_MEMORY]) == ["tight", "tight", "roomy", "roomy"]

    def test_binpack_cpu(self) -> None:
        """binpack by cpu looks at remaining CPU units, not memory."""
        instances = [make("a", cpu=2048, memory=1000), make("b", cpu=512, memory=8000)]
        assert placed_on(instances, 3, [BINPACK_CPU]) == ["b", "b", "a"]

    def test_spread_instance_walks_instances_in_turn(self) -> None:
        """spread by instanceId places on instance 1, 2, 3, 1, 2, 3 (the course notes' example)."""
        instances = [make("one"), make("two"), make("three")]
        assert placed_on(instances, 6, [SPREAD_INSTANCE]) == ["one", "two", "three"] * 2

    def test_spread_host_is_instance_id(self) -> None:
        """spread by host has the same effect as spread by instanceId."""
        instances = [make("one"), make("two")]
        host = PlacementStrategy("spread", "host")
        assert placed_on(instances, 4, [host]) == placed_on(instances, 4, [SPREAD_INSTANCE])

    def test_spread_counts_tasks_already_running(self) -> None:
        """spread starts with the zone that has the fewest tasks of the group already."""
        instances = [
            make("a1", zone="us-east-1a", groups={"service:web": 2}),
            make("b1", zone="us-east-1b", groups={"service:web": 1, "service:other": 5}),
            make("c1", zone="us-east-1c"),
        ]
        assert placed_on(instances, 3, [SPREAD_AZ]) == ["c1", "b1", "c1"]

    def test_spread_zone_then_binpack_memory(self) -> None:
        """spread by zone decides first; binpack by memory picks the instance inside the zone."""
        instances = [
            make("a-roomy", zone="us-east-1a", memory=6000),
            make("a-tight", zone="us-east-1a", memory=1500),
            make("b-roomy", zone="us-east-1b", memory=7000),
            make("b-tight", zone="us-east-1b", memory=2000),
        ]
        assert placed_on(instances, 4, [SPREAD_AZ, BINPACK_MEMORY]) == [
            "a-tight",
            "b-tight",
            "a-tight",
            "b-tight",
        ]

    def test_strategy_order_matters(self) -> None:
        """binpack first, then spread, packs one instance instead of alternating zones."""
        instances = [make("a", zone="us-east-1a", memory=2000), make("b", zone="us-east-1b", memory=4000)]
        assert placed_on(instances, 3, [BINPACK_MEMORY, SPREAD_AZ]) == ["a", "a", "a"]
        assert placed_on(instances, 3, [SPREAD_AZ, BINPACK_MEMORY]) == ["a", "b", "a"]

    def test_spread_then_random_breaks_ties_randomly(self) -> None:
        """random after spread chooses within the least-used zone, reproducibly for a seed."""
        instances = [make(f"a{i}", zone="us-east-1a") for i in range(5)] + [make("b0", zone="us-east-1b")]
        first = placed_on(instances, 4, [SPREAD_AZ, RANDOM])
        assert first == placed_on(instances, 4, [SPREAD_AZ, RANDOM])
        assert [name[0] for name in first] == ["a", "b", "a", "b"]

    def test_random_spreads_over_all_fitting_instances(self) -> None:
        """random places only on instances that fit, and uses more than one of them."""
        instances = [make(f"i{i}") for i in range(10)] + [make("small", memory=100)]
        chosen = placed_on(instances, 50, [RANDOM])
        assert "small" not in chosen
        assert len(set(chosen)) > 3

    def test_default_is_spread_by_zone_then_instance(self) -> None:
        """With no strategy, tasks spread across zones, then across instances within a zone."""
        instances = [
            make("a1", zone="us-east-1a"),
            make("a2", zone="us-east-1a"),
            make("b1", zone="us-east-1b"),
        ]
        assert placed_on(instances, 4) == ["a1", "b1", "a2", "b1"]
        assert placed_on(instances, 4) == placed_on(instances, 4, DEFAULT_STRATEGIES)


class TestConstraints:
    def test_distinct_instance(self) -> None:
        """distinctInstance puts each task of the group on its own instance, then fails the rest."""
        instances = [make("a"), make("b", groups={"service:web": 1}), make("c")]
        result = place_tasks(WEB, 3, instances, [BINPACK_MEMORY], [DISTINCT], rng=random.Random(0))
        assert names([p.instance_arn for p in result.placements]) == ["a", "c"]
        assert [(f.task_index, f.reason) for f in result.failures] == [
            (2, "DistinctInstance placement constraint unsatisfied.")
        ]

    def test_member_of_instance_type(self) -> None:
        """memberOf with the corrected course expression only uses t2 instances."""
        instances = [make("m5", instance_type="m5.large"), make("t2", instance_type="t2.medium")]
        member = PlacementConstraint("memberOf", "attribute:ecs.instance-type =~ t2.*")
        assert placed_on(instances, 2, [SPREAD_INSTANCE], [member]) == ["t2", "t2"]

    def test_member_of_task_group_follows_placements(self) -> None:
        """memberOf on task:group sees the tasks placed earlier in the same call."""
        instances = [make("a"), make("b", groups={"service:db": 1})]
        member = PlacementConstraint("memberOf", "not(task:group == service:web) or task:group == service:db")
        assert placed_on(instances, 3, [SPREAD_INSTANCE], [member]) == ["a", "b", "b"]

    def test_member_of_failure(self) -> None:
        """When memberOf excludes every instance, the failure is AWS's MemberOf reason."""
        member = PlacementConstraint("memberOf", "attribute:ecs.instance-type =~ g2.*")
        result = place_tasks(WEB, 2, [make("a"), make("b")], (), [member], rng=random.Random(0))
        assert result.placements == ()
        assert [(f.task_index, f.reason) for f in result.failures] == [
            (0, "MemberOf placement constraint unsatisfied."),
            (1, "MemberOf placement constraint unsatisfied."),
        ]
        assert result.failures[0].arn is not None
        assert result.failures[0].arn.endswith("/a")


class TestFailures:
    def test_memory(self) -> None:
        """A task too big for every instance's memory fails with RESOURCE:MEMORY."""
        result = place_tasks(WEB, 1, [make("a", memory=256)], rng=random.Random(0))
        failure = result.failures[0]
        assert failure.reason == "RESOURCE:MEMORY"
        assert "256 MiB left, the task needs 512" in failure.detail

    def test_cpu(self) -> None:
        """A task with more CPU units than any instance has left fails with RESOURCE:CPU."""
        result = place_tasks(WEB, 1, [make("a", cpu=128)], rng=random.Random(0))
        assert result.failures[0].reason == "RESOURCE:CPU"

    def test_closest_matching_instance_is_named(self) -> None:
        """The failure names the instance that passed the most checks (memory beats cpu beats memberOf)."""
        instances = [
            make("no-cpu", cpu=0),
            make("no-memory", memory=0),
            make("wrong-type", instance_type="m5.large"),
        ]
        member = PlacementConstraint("memberOf", "attribute:ecs.instance-type == t3.large")
        failure = place_tasks(WEB, 1, instances, (), [member], rng=random.Random(0)).failures[0]
        assert failure.reason == "RESOURCE:MEMORY"
        assert failure.arn is not None
        assert failure.arn.endswith("/no-memory")

    def test_agent_disconnected(self) -> None:
        """An instance whose agent is disconnected is never used and reports AGENT."""
        result = place_tasks(WEB, 1, [make("a", connected=False)], rng=random.Random(0))
        assert result.failures[0].reason == "AGENT"

    def test_no_instances(self) -> None:
        """An empty cluster fails every task with AWS's message and no instance ARN."""
        result = place_tasks(WEB, 2, [], rng=random.Random(0))
        assert [(f.reason, f.arn) for f in result.failures] == [
            ("No Container Instances were found in your cluster.", None)
        ] * 2

    def test_partial_placement(self) -> None:
        """Tasks are placed until resources run out; the rest are failures, none is dropped."""
        result = place_tasks(WEB, 5, [make("a", memory=1100)], rng=random.Random(0))
        assert len(result.placements) == 2
        assert [f.task_index for f in result.failures] == [2, 3, 4]
        assert result.instances[0].remaining_memory == 76
        assert result.instances[0].task_groups == {"service:web": 2}


class TestPorts:
    def test_fixed_port_conflicts(self) -> None:
        """A fixed host port already used on an instance excludes it (RESOURCE:PORTS when none is left)."""
        web80 = TaskRequirements(cpu=0, memory=128, host_ports=frozenset({80}), group="service:web")
        result = place_tasks(web80, 3, [make("a"), make("b")], [SPREAD_INSTANCE], rng=random.Random(0))
        assert names([p.instance_arn for p in result.placements]) == ["a", "b"]
        assert result.failures[0].reason == "RESOURCE:PORTS"
        assert all(80 in inst.used_ports for inst in result.instances)

    def test_reserved_ports_are_taken(self) -> None:
        """The agent's reserved ports (22, 2375, 2376, 51678-51680) cannot be a task's host port."""
        ssh = TaskRequirements(cpu=0, memory=128, host_ports=frozenset({22}))
        assert place_tasks(ssh, 1, [make("a")], rng=random.Random(0)).failures[0].reason == "RESOURCE:PORTS"

    def test_dynamic_ports_come_from_the_ephemeral_range(self) -> None:
        """Dynamic host ports are the lowest free ones from 49153 and never repeat on an instance."""
        two = TaskRequirements(cpu=0, memory=128, host_ports=frozenset({8080}), dynamic_ports=2)
        instance = make("a", ports=RESERVED_PORTS | {49153})
        result = place_tasks(two, 1, [instance], rng=random.Random(0))
        assert result.placements[0].host_ports == (8080, 49154, 49155)
        assert DYNAMIC_PORT_RANGE == (49153, 65535)

    def test_from_port_mappings(self) -> None:
        """hostPort 0 or absent is dynamic in bridge mode; host mode uses the container port."""
        bridge = TaskRequirements.from_port_mappings(
            256,
            512,
            [
                {"containerPort": 80, "hostPort": 0},
                {"containerPort": 81},
                {"containerPort": 82, "hostPort": 8082},
            ],
        )
        assert (bridge.host_ports, bridge.dynamic_ports) == (frozenset({8082}), 2)
        host = TaskRequirements.from_port_mappings(256, 512, [{"containerPort": 80}], network_mode="host")
        assert (host.host_ports, host.dynamic_ports) == (frozenset({80}), 0)
        with pytest.raises(ValueError, match="must be absent or equal"):
            TaskRequirements.from_port_mappings(
                256, 512, [{"containerPort": 80, "hostPort": 81}], network_mode="host"
            )


class TestInstanceTypes:
    def test_capacity(self) -> None:
        """CPU units are vCPUs * 1024; memory is scaled by the guide's m4.large ratio (8192 -> 7985)."""
        assert instance_type_capacity("m5.large") == (2048, 7985)
        assert instance_type_capacity("t2.micro") == (1024, 998)
        assert instance_type_capacity("c5.4xlarge") == (16384, 31940)
        assert instance_type_capacity("r5.large", reserved_memory_mib=256) == (2048, 15970 - 256)

    def test_unknown_type(self) -> None:
        """An unknown instance type is a ValueError listing the known families."""
        with pytest.raises(ValueError, match=r"unknown instance type 'x1\.huge'"):
            instance_type_capacity("x1.huge")

    def test_of_type_sets_attributes(self) -> None:
        """Instance.of_type registers the type's capacity and the ECS built-in attributes."""
        instance = Instance.of_type("arn:a", "i-1", "t3.micro", "us-east-1b")
        assert (instance.remaining_cpu, instance.remaining_memory) == (2048, 998)
        assert instance.attributes == {"ecs.instance-type": "t3.micro", "ecs.availability-zone": "us-east-1b"}


# -- properties -----------------------------------------------------------------------------------

DETERMINISTIC = [
    SPREAD_AZ,
    SPREAD_INSTANCE,
    BINPACK_MEMORY,
    BINPACK_CPU,
    PlacementStrategy("spread", "attribute:rack"),
]
EXPRESSIONS = [
    "attribute:ecs.instance-type =~ t3.*",
    "attribute:ecs.availability-zone != us-east-1c",
    "not(task:group == service:web)",
    "runningTasksCount < 3",
]


@st.composite
def clusters(draw: st.DrawFn) -> list[Instance]:
    """Up to 8 instances with random zones, racks, types, remaining resources, ports and tasks."""
    count = draw(st.integers(min_value=0, max_value=8))
    instances = []
    for i in range(count):
        cpu = draw(st.sampled_from([0, 256, 512, 1024, 2048]))
        memory = draw(st.sampled_from([0, 256, 600, 1024, 4000]))
        attributes: dict[str, str | None] = {
            AZ: draw(st.sampled_from(["us-east-1a", "us-east-1b", "us-east-1c"])),
            "ecs.instance-type": draw(st.sampled_from(["t3.large", "m5.large"])),
        }
        if draw(st.booleans()):
            attributes["rack"] = draw(st.sampled_from(["r1", "r2"]))
        instances.append(
            Instance(
                arn=f"arn:i/{i}",
                ec2_instance_id=f"i-{i}",
                registered_cpu=2048,
                registered_memory=4000,
                remaining_cpu=cpu,
                remaining_memory=memory,
                attributes=attributes,
                used_ports=RESERVED_PORTS | draw(st.frozensets(st.sampled_from([80, 443, 49153]))),
                task_groups={"service:web": draw(st.integers(0, 2)), "service:db": draw(st.integers(0, 1))},
                agent_connected=draw(st.booleans()) or draw(st.booleans()),
            )
        )
    return instances


requirements_st = st.builds(
    TaskRequirements,
    cpu=st.sampled_from([0, 128, 256, 512]),
    memory=st.sampled_from([128, 256, 512]),
    host_ports=st.frozensets(st.sampled_from([80, 8080]), max_size=1),
    dynamic_ports=st.integers(0, 2),
    group=st.just("service:web"),
)
constraints_st = st.lists(
    st.one_of(
        st.just(DISTINCT), st.sampled_from(EXPRESSIONS).map(lambda e: PlacementConstraint("memberOf", e))
    ),
    max_size=2,
)


def reference_choice(
    instances: Sequence[Instance],
    requirements: TaskRequirements,
    strategies: Sequence[PlacementStrategy],
    constraints: Sequence[PlacementConstraint],
) -> int | None:
    """The index a plain scan picks: filter by every check, then sort by the strategy keys in order."""
    group = requirements.group
    eligible = []
    for index, inst in enumerate(instances):
        ok = (
            inst.agent_connected
            and all(c.parsed is None or evaluate(c.parsed, inst) for c in constraints)
            and not (
                any(c.type == "distinctInstance" for c in constraints) and inst.task_groups.get(group, 0)
            )
            and inst.remaining_cpu >= requirements.cpu
            and inst.remaining_memory >= requirements.memory
            and not (requirements.host_ports & inst.used_ports)
        )
        if ok:
            eligible.append(index)

    def key(index: int) -> tuple[int, ...]:
        inst = instances[index]
        parts = []
        for strategy in strategies or DEFAULT_STRATEGIES:
            if strategy.field == "memory":
                parts.append(inst.remaining_memory)
            elif strategy.field == "cpu":
                parts.append(inst.remaining_cpu)
            elif strategy.field in ("instanceId", "host"):
                parts.append(inst.task_groups.get(group, 0))
            else:
                assert strategy.field is not None
                name = strategy.field.split(":", 1)[1]
                value = inst.attributes.get(name)
                parts.append(
                    sum(o.task_groups.get(group, 0) for o in instances if o.attributes.get(name) == value)
                )
        return (*parts, index)

    return min(eligible, key=key) if eligible else None


class TestProperties:
    @given(clusters(), requirements_st, st.lists(st.sampled_from(DETERMINISTIC), max_size=3), constraints_st)
    @settings(max_examples=150)
    def test_matches_a_plain_scan(
        self,
        instances: list[Instance],
        requirements: TaskRequirements,
        strategies: list[PlacementStrategy],
        constraints: list[PlacementConstraint],
    ) -> None:
        """Each placement is the instance a plain filter-and-sort scan would pick at that moment."""
        result = place_tasks(requirements, 6, instances, strategies, constraints, rng=random.Random(0))
        current = list(instances)
        for placement in result.placements:
            expected = reference_choice(current, requirements, strategies, constraints)
            assert expected is not None
            assert current[expected].arn == placement.instance_arn
            step = place_tasks(requirements, 1, current, strategies, constraints, rng=random.Random(0))
            current = list(step.instances)
        if result.failures:
            assert reference_choice(current, requirements, strategies, constraints) is None
        assert len(result.placements) + len(result.failures) == 6

    @given(
        clusters(),
        requirements_st,
        st.lists(st.sampled_from([*DETERMINISTIC, RANDOM]), max_size=3),
        constraints_st,
    )
    @settings(max_examples=150)
    def test_never_breaks_capacity_constraints_or_ports(
        self,
        instances: list[Instance],
        requirements: TaskRequirements,
        strategies: list[PlacementStrategy],
        constraints: list[PlacementConstraint],
    ) -> None:
        """No instance goes below zero, distinctInstance and memberOf hold, host ports never collide."""
        result = place_tasks(requirements, 10, instances, strategies, constraints, rng=random.Random(3))
        before = {inst.arn: inst for inst in instances}
        after = {inst.arn: inst for inst in result.instances}
        per_instance = Counter(p.instance_arn for p in result.placements)
        for arn, tasks in per_instance.items():
            assert after[arn].remaining_cpu == before[arn].remaining_cpu - tasks * requirements.cpu >= 0
            assert (
                after[arn].remaining_memory == before[arn].remaining_memory - tasks * requirements.memory >= 0
            )
            assert before[arn].agent_connected
            if DISTINCT in constraints:
                assert tasks == 1
                assert before[arn].task_groups.get("service:web", 0) == 0
        ports_seen: dict[str, set[int]] = {arn: set(inst.used_ports) for arn, inst in before.items()}
        for placement in result.placements:
            taken = ports_seen[placement.instance_arn]
            assert not taken & set(placement.host_ports)
            assert len(placement.host_ports) == len(requirements.host_ports) + requirements.dynamic_ports
            taken.update(placement.host_ports)
        # memberOf held for the instance as it was when the task was placed: replay one by one.
        current = list(instances)
        for placement in result.placements:
            index = next(i for i, inst in enumerate(current) if inst.arn == placement.instance_arn)
            for constraint in constraints:
                if constraint.parsed is not None:
                    assert evaluate(constraint.parsed, current[index])
            step = place_tasks(requirements, 1, [current[index]], rng=random.Random(0))
            current[index] = step.instances[0]

    @given(
        st.lists(st.sampled_from(["us-east-1a", "us-east-1b", "us-east-1c"]), min_size=1, max_size=9),
        st.integers(min_value=1, max_value=30),
    )
    def test_spread_keeps_zones_within_one(self, zones: list[str], count: int) -> None:
        """With room everywhere, spread by zone keeps task counts per zone within one of each other."""
        instances = [make(f"i{i}", zone=zone, memory=100_000, cpu=100_000) for i, zone in enumerate(zones)]
        result = place_tasks(WEB, count, instances, [SPREAD_AZ], rng=random.Random(0))
        zone_of = {inst.arn: inst.attributes[AZ] for inst in instances}
        per_zone = Counter(zone_of[p.instance_arn] for p in result.placements)
        counts = [per_zone.get(zone, 0) for zone in set(zones)]
        assert max(counts) - min(counts) <= 1

    @given(st.lists(st.sampled_from([300, 512, 700, 1024, 2000, 4000]), min_size=1, max_size=8))
    def test_binpack_fills_fullest_fitting_first(self, memories: list[int]) -> None:
        """binpack by memory always picks the instance with the least memory left that still fits."""
        current = [make(f"i{i}", memory=m) for i, m in enumerate(memories)]
        for _ in range(6):
            fitting = [inst.remaining_memory for inst in current if inst.remaining_memory >= WEB.memory]
            result = place_tasks(WEB, 1, current, [BINPACK_MEMORY], rng=random.Random(0))
            if not fitting:
                assert result.failures[0].reason == "RESOURCE:MEMORY"
                break
            chosen = next(inst for inst in current if inst.arn == result.placements[0].instance_arn)
            assert chosen.remaining_memory == min(fitting)
            current = list(result.instances)
