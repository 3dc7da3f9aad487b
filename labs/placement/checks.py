"""Checkpoints of the placement lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `placement-lab` with three EC2 container instances, named by their
`Name` tag: `medium-a` (t3.medium) and `micro-a` (t2.micro) in the first availability zone, `small-b`
(t2.small) in the second; the instance profile and role `placement-lab-ecs-instance` for the ECS
agent; the task definition family `placement-web` (EC2, bridge network mode, container `web` with
128 CPU units and 256 MiB, a dynamic host port).

Each experiment is one `run_task` call whose `group` is the experiment's name (`EXPERIMENTS`). Just
before it runs, the notebook's `run_experiment` writes the experiment's record, an SSM parameter
(`prediction_parameter(group)`), as JSON: `{"prediction": {...}, "placement": {...}}`, the learner's
prediction (instance name, or for `spread-zones` availability zone, to task count, and `unplaced` for
tasks that fit nowhere) and the placementStrategy/placementConstraints passed to run_task (a task
does not remember the strategy that placed it). What happened is read back from the tasks of the
group, which keep their container instance after they stop. The expected placement is worked out
with `labkit.ecs.placement.place_tasks` over the cluster's own container instances, empty.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.ecs.placement import (
    Instance,
    PlacementConstraint,
    PlacementStrategy,
    TaskRequirements,
    place_tasks,
)

checkpoints = CheckpointSet("placement")


CLUSTER = "placement-lab"


FAMILY = "placement-web"


ROLE = "placement-lab-ecs-instance"


AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


#: The instances of the lab: Name tag -> (instance type, index of its availability zone), in launch order.
INSTANCES = {"medium-a": ("t3.medium", 0), "micro-a": ("t2.micro", 0), "small-b": ("t2.small", 1)}


TASK_CPU, TASK_MEMORY = 128, 256


#: Tasks started by one run_task call start within this many seconds of each other.
SAME_BATCH_SECONDS = 10.0


@dataclass(frozen=True)
class Experiment:
    """One run_task call: how many tasks, its placement, and what a prediction counts by."""

    count: int
    strategy: tuple[dict[str, str], ...] = ()
    constraints: tuple[dict[str, str], ...] = ()
    by: str = "instance"  # or "zone"

    def placement(self) -> dict[str, list[dict[str, str]]]:
        """The placementStrategy/placementConstraints arguments of run_task."""
        out: dict[str, list[dict[str, str]]] = {}
        if self.strategy:
            out["placementStrategy"] = [dict(s) for s in self.strategy]
        if self.constraints:
            out["placementConstraints"] = [dict(c) for c in self.constraints]
        return out


BINPACK_MEMORY = {"type": "binpack", "field": "memory"}


SPREAD_ZONES = {"type": "spread", "field": "attribute:ecs.availability-zone"}


EXPERIMENTS = {
    "binpack-memory": Experiment(4, (BINPACK_MEMORY,)),
    "spread-zones": Experiment(4, (SPREAD_ZONES,), by="zone"),
    "spread-zones-then-binpack": Experiment(4, (SPREAD_ZONES, BINPACK_MEMORY)),
    "distinct-instance": Experiment(5, constraints=({"type": "distinctInstance"},)),
    "t2-only": Experiment(
        4,
        ({"type": "spread", "field": "instanceId"},),
        ({"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"},),
    ),
}


def prediction_parameter(group: str) -> str:
    """The SSM parameter that holds the prediction of experiment `group`."""
    return f"/labkit/placement/prediction/{group}"


def _cluster_ours(ctx: CheckContext) -> bool:
    clusters = ctx.client("ecs").describe_clusters(clusters=[CLUSTER], include=["TAGS"])["clusters"]
    return any(c["status"] == "ACTIVE" and ctx.ours(c.get("tags")) for c in clusters)


@dataclass(frozen=True)
class Capacity:
    """A registered container instance with what the lab calls it."""

    arn: str
    name: str
    instance_type: str
    zone: str
    cpu: int
    memory: int
    status: str
    connected: bool
    registered_at: Any
    profile: str | None


def container_instances(ctx: CheckContext) -> list[Capacity]:
    """The cluster's container instances (first registered first), named by their EC2 Name tag."""
    ecs, ec2 = ctx.client("ecs"), ctx.client("ec2")
    arns: list[str] = []
    try:
        for page in ecs.get_paginator("list_container_instances").paginate(cluster=CLUSTER):
            arns.extend(page["containerInstanceArns"])
    except ClientError:
        return []
    if not arns:
        return []
    described = ecs.describe_container_instances(cluster=CLUSTER, containerInstances=arns)[
        "containerInstances"
    ]
    ids = [c["ec2InstanceId"] for c in described]
    names: dict[str, str] = {}
    profiles: dict[str, str | None] = {}
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            names[instance["InstanceId"]] = tags.get("Name", instance["InstanceId"])
            profiles[instance["InstanceId"]] = (instance.get("IamInstanceProfile") or {}).get("Arn")
    found = []
    for c in described:
        attributes = {a["name"]: a.get("value") for a in c.get("attributes", [])}
        resources = {r["name"]: r.get("integerValue", 0) for r in c.get("registeredResources", [])}
        found.append(
            Capacity(
                arn=c["containerInstanceArn"],
                name=names.get(c["ec2InstanceId"], c["ec2InstanceId"]),
                instance_type=str(attributes.get("ecs.instance-type")),
                zone=str(attributes.get("ecs.availability-zone")),
                cpu=int(resources.get("CPU", 0)),
                memory=int(resources.get("MEMORY", 0)),
                status=c.get("status", ""),
                connected=bool(c.get("agentConnected")),
                registered_at=c.get("registeredAt"),
                profile=profiles.get(c["ec2InstanceId"]),
            )
        )
    found.sort(key=lambda c: (c.registered_at is None, c.registered_at or 0))
    return found


def expected_placement(capacity: list[Capacity], experiment: Experiment) -> dict[str, int]:
    """Where `place_tasks` puts the experiment's tasks on the (empty) instances, counted by name or zone."""
    instances = [
        Instance(
            c.arn,
            c.arn,
            c.cpu,
            c.memory,
            c.cpu,
            c.memory,
            attributes={"ecs.instance-type": c.instance_type, "ecs.availability-zone": c.zone},
        )
        for c in capacity
        if c.status == "ACTIVE"
    ]
    result = place_tasks(
        TaskRequirements(TASK_CPU, TASK_MEMORY, dynamic_ports=1, group="experiment"),
        experiment.count,
        instances,
        [PlacementStrategy.from_api(s) for s in experiment.strategy],
        [PlacementConstraint.from_api(c) for c in experiment.constraints],
        rng=random.Random(0),
    )
    by_arn = {c.arn: c for c in capacity}
    counts = Counter(_key(by_arn[p.instance_arn], experiment) for p in result.placements)
    if result.failures:
        counts["unplaced"] = len(result.failures)
    return dict(counts)


def _key(capacity: Capacity, experiment: Experiment) -> str:
    return capacity.zone if experiment.by == "zone" else capacity.name


def landed(ctx: CheckContext, group: str, capacity: list[Capacity], experiment: Experiment) -> dict[str, int]:
    """Where the latest run_task batch of `group` landed (running or stopped tasks), by name or zone."""
    ecs = ctx.client("ecs")
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        for page in ecs.get_paginator("list_tasks").paginate(cluster=CLUSTER, desiredStatus=status):
            arns.extend(page["taskArns"])
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):
        tasks.extend(ecs.describe_tasks(cluster=CLUSTER, tasks=arns[start : start + 100])["tasks"])
    tasks = [t for t in tasks if t.get("group") == group and t.get("containerInstanceArn")]
    if not tasks:
        return {}
    latest = max(t["createdAt"] for t in tasks)
    batch = [t for t in tasks if (latest - t["createdAt"]).total_seconds() <= SAME_BATCH_SECONDS]
    by_arn = {c.arn: c for c in capacity}
    return dict(
        Counter(
            _key(by_arn[t["containerInstanceArn"]], experiment)
            if t["containerInstanceArn"] in by_arn
            else "?"
            for t in batch
        )
    )


def _show(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if v) or "nothing"


def _normal(counts: dict[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in counts.items() if int(v)}


@checkpoints.checkpoint(
    "capacity-registered",
    "Three EC2 instances of three types in two zones are container instances of the cluster",
    points=3,
    hints=[
        f"Create the cluster {CLUSTER}, then launch three instances from the ECS-optimized AMI "
        f"(ssm.get_parameter(Name='{AMI_PARAMETER}')).",
        f"Each instance needs IamInstanceProfile={{'Name': '{ROLE}'}} (the agent calls ECS with it) and "
        f"UserData that writes ECS_CLUSTER={CLUSTER} into /etc/ecs/ecs.config.",
        "Launch medium-a (t3.medium) and micro-a (t2.micro) in the first zone's subnet, small-b (t2.small) in the "
        "second's, each with a Name tag; the agent registers each about 30 seconds after launch.",
    ],
)
def capacity_registered(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        if not _cluster_ours(ctx):
            return failed(f"There is no ACTIVE cluster named {CLUSTER} made in this lab.")
        capacity = [c for c in container_instances(ctx) if c.status == "ACTIVE"]
        names = {c.name: c for c in capacity}
        missing = [n for n in INSTANCES if n not in names]
        if missing:
            message = (
                f"{counted(len(capacity), 'container instance')} registered; {', '.join(missing)} not (yet). "
                "An instance registers once its agent has started, if its user data names the cluster."
            )
            # Worth waiting for only while a missing instance is young enough for its agent still to
            # register it; one never launched, or launched long ago, will not.
            launched = [
                i["InstanceId"]
                for r in ctx.client("ec2").describe_instances(
                    Filters=[{"Name": "tag:Name", "Values": missing}]
                )["Reservations"]
                for i in r["Instances"]
            ]
            return settling(message) if ctx.agent_may_register(launched) else failed(message)
        for name, (instance_type, _) in INSTANCES.items():
            if names[name].instance_type != instance_type:
                return failed(f"{name} is a {names[name].instance_type}; the lab uses a {instance_type}.")
            if not names[name].connected:
                return failed(f"The agent on {name} is not connected.")
            if names[name].profile is None:
                return failed(f"{name} has no instance profile: on AWS its agent could not call ECS.")
        if names["medium-a"].zone != names["micro-a"].zone or names["small-b"].zone == names["micro-a"].zone:
            return failed("medium-a and micro-a belong in one availability zone, small-b in another.")
        return passed(
            "Registered: "
            + ", ".join(f"{c.name} ({c.instance_type}, {c.zone}, {c.memory} MiB)" for c in capacity)
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "task-definition-registered",
    "An EC2 task definition reserves 128 CPU units and 256 MiB with a dynamic host port",
    points=1,
    hints=[
        f"Register family {FAMILY} with requiresCompatibilities=['EC2'] and networkMode='bridge'.",
        "The container 'web' (nginxdemos/hello) has cpu=128 and memory=256 (numbers, not strings, at container level).",
        "portMappings=[{'containerPort': 80, 'hostPort': 0}]: host port 0 is a dynamic port, so tasks can share an instance.",
    ],
)
def task_definition_registered(ctx: CheckContext) -> Outcome:
    definition = ctx.task_definition(FAMILY)
    if isinstance(definition, Outcome):
        return definition
    if "EC2" not in definition.get("requiresCompatibilities", []):
        return failed(f"{FAMILY} is not registered as compatible with EC2.")
    if definition.get("networkMode") != "bridge":
        return failed(f"{FAMILY} uses networkMode {definition.get('networkMode')!r}; this lab uses 'bridge'.")
    web = {c["name"]: c for c in definition.get("containerDefinitions", [])}.get("web")
    if web is None:
        return failed("There is no container named 'web'.")
    if web.get("cpu") != TASK_CPU or web.get("memory") != TASK_MEMORY:
        return failed(
            f"The container reserves cpu={web.get('cpu')} and memory={web.get('memory')}; the lab's "
            f"predictions assume {TASK_CPU} and {TASK_MEMORY}."
        )
    if definition.get("cpu") or definition.get("memory"):
        return failed(
            "Leave task-level cpu and memory out: the container's reservations are what placement counts."
        )
    ports = web.get("portMappings", [])
    if not ports or any(p.get("hostPort", 0) != 0 for p in ports):
        return failed(
            "Map containerPort 80 to hostPort 0 (dynamic), or a second task on an instance has no port."
        )
    return passed(f"{FAMILY}:{definition['revision']} reserves {TASK_CPU} CPU units and {TASK_MEMORY} MiB.")


def _experiment_outcome(ctx: CheckContext, group: str) -> Outcome:
    experiment = EXPERIMENTS[group]
    if not _cluster_ours(ctx):
        return failed(f"There is no ACTIVE cluster named {CLUSTER} made in this lab.")
    capacity = container_instances(ctx)
    if len([c for c in capacity if c.status == "ACTIVE"]) < len(INSTANCES):
        return failed("The cluster's three container instances are not all registered yet.")
    expected = expected_placement(capacity, experiment)
    name = prediction_parameter(group)
    ssm = ctx.client("ssm")
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError:
        return failed(f"There is no SSM parameter {name} with your prediction: predict before you run.")
    if not ctx.parameter_ours(name):
        return failed(f"The parameter {name} was not written in this lab session.")
    try:
        record = json.loads(value)
        predicted = _normal(record["prediction"])
        used = record.get("placement") or {}
    except (ValueError, TypeError, AttributeError, KeyError):
        return failed(
            f"{name} holds {value!r}, not a record such as "
            '{"prediction": {"micro-a": 3, "small-b": 1}, "placement": {...}}: use run_experiment(...).'
        )
    unit = "availability zone" if experiment.by == "zone" else "instance name"
    wrong = _placement_problem(used, experiment)
    if wrong:
        return failed(wrong)
    if predicted != expected:
        return failed(
            f"You predicted {_show(predicted)} (by {unit}); that is not where these tasks go. "
            "Place them one at a time: constraints first, then the strategies in order."
        )
    seen = landed(ctx, group, capacity, experiment)
    if not seen:
        return failed(f"No task of the group {group} has been placed yet: run the experiment.")
    placed = {k: v for k, v in expected.items() if k != "unplaced"}
    if _normal(seen) != placed:
        return failed(
            f"The tasks of {group} landed {_show(seen)}; with {json.dumps(experiment.placement())} on empty "
            f"instances they land {_show(placed)}. Check the JSON you passed, and that earlier experiments' "
            "tasks were stopped first."
        )
    return passed(f"Predicted and landed: {_show(expected)}.")


def _normal_strategies(strategies: Any) -> list[tuple[str, str | None]]:
    return [
        (str(s.get("type")), None if s.get("type") == "random" else s.get("field"))
        for s in strategies or []
        if isinstance(s, dict)
    ]


def _normal_constraints(constraints: Any) -> list[tuple[str, str]]:
    return sorted(
        (str(c.get("type")), " ".join(str(c.get("expression") or "").split()))
        for c in constraints or []
        if isinstance(c, dict)
    )


def _placement_problem(used: Any, experiment: Experiment) -> str | None:
    """What is wrong with the placement the learner ran, in their terms (None: it is this step's)."""
    if not isinstance(used, dict):
        return "The experiment's record has no placement: run it with run_experiment(group, count, placement, prediction)."
    strategies = used.get("placementStrategy")
    constraints = used.get("placementConstraints")
    if any(
        isinstance(s, dict) and s.get("type") in ("memberOf", "distinctInstance") for s in strategies or []
    ):
        return "A memberOf or distinctInstance rule is a constraint: it goes in placementConstraints, not placementStrategy."
    if _normal_strategies(strategies) != _normal_strategies(experiment.strategy):
        return (
            f"You ran placementStrategy={json.dumps(strategies or [])}; this step uses "
            f"placementStrategy={json.dumps(list(experiment.strategy))} (strategies apply in order)."
        )
    if _normal_constraints(constraints) != _normal_constraints(experiment.constraints):
        return (
            f"You ran placementConstraints={json.dumps(constraints or [])}; this step uses "
            f"placementConstraints={json.dumps(list(experiment.constraints))}."
        )
    return None


_PREDICTION_HINT = (
    "Your prediction is a dictionary: instance name -> tasks, plus 'unplaced' for tasks that fit nowhere; "
    "run_experiment(group, count, placement, prediction) records it; simulate(count, placement) runs "
    "labkit.ecs.placement.place_tasks on the cluster to check your reasoning."
)


def _experiment(group: str, title: str, points: int, hints: list[str]) -> None:
    def check(ctx: CheckContext) -> Outcome:
        # Placement happens when run_task answers: nothing of an experiment settles later.
        return _experiment_outcome(ctx, group)

    check.__name__ = f"check_{group.replace('-', '_')}"
    checkpoints.checkpoint(group, title, points=points, hints=[*hints, _PREDICTION_HINT])(check)


_experiment(
    "binpack-memory",
    "binpack on memory: predicted, then run",
    2,
    [
        'placementStrategy=[{"type": "binpack", "field": "memory"}] (a strategy has a type and a field).',
        "binpack puts each task on the instance with the least memory left that still fits it: the smallest first.",
    ],
)


_experiment(
    "spread-zones",
    "spread over availability zones: predicted, then run",
    2,
    [
        'placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}] (attribute:, with a colon).',
        "Predict by zone here ({zone name: tasks}): which instance in a zone gets a task is not part of the strategy.",
    ],
)


_experiment(
    "spread-zones-then-binpack",
    "spread over zones, then binpack on memory: predicted, then run",
    2,
    [
        "Two strategies, in order: spread over attribute:ecs.availability-zone, then binpack on memory.",
        "The second strategy only chooses among the instances the first leaves tied: inside each zone, the fullest.",
    ],
)


_experiment(
    "distinct-instance",
    "distinctInstance: predicted, then run",
    2,
    [
        'placementConstraints=[{"type": "distinctInstance"}]: a constraint, not a strategy (no field).',
        "No two tasks of the group on one instance: with three instances, how many of five tasks can run?",
    ],
)


_experiment(
    "t2-only",
    "memberOf t2 instances, spread over instances: predicted, then run",
    2,
    [
        'placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"}].',
        'with placementStrategy=[{"type": "spread", "field": "instanceId"}]: the constraint removes medium-a first.',
    ],
)
