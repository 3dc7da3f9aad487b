"""Checkpoints: what a lab checks, written next to the lab (`labs/<lab>/checks.py`).

A checkpoint reads the sandbox's state (describe/list/get calls, HTTP through a load balancer) and
returns an `Outcome`: passed, or failed with a message in the learner's terms. Hints are revealed
one at a time. A check never changes the sandbox: the clients it gets refuse any call that is not a
read, before it is sent. A learner's mistake is a failed outcome, never an exception; an exception
means the check itself could not run, which grading reports as "not graded".

    checkpoints = CheckpointSet("nginx-alb")

    @checkpoints.checkpoint("cluster-created", "The cluster exists", points=1,
                            hints=["Use ecs.create_cluster(clusterName=...)."])
    def cluster_created(ctx: CheckContext) -> Outcome:
        ...

The reference steps that reach each checkpoint (what `lab.catch_up` runs) are a lab's other module,
`labs/<lab>/reference.py`, registered on a `ReferenceSteps`; `checks.py` never imports it, so a
graded kernel, which may import the checks, never gets the solutions
(ARCHITECTURE.md, "Labs, checkpoints and grading").

    reference = ReferenceSteps("nginx-alb")

    @reference.step("cluster-created")
    def make_cluster(sandbox: Sandbox) -> None:
        ...
"""

from __future__ import annotations

import contextlib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from labkit.errors import LabkitError, WaitTimeoutError
from labkit.sandbox import Sandbox
from labkit.sandbox.guards import is_loopback_url

__all__ = [
    "AGENT_GRACE",
    "CheckContext",
    "Checkpoint",
    "CheckpointSet",
    "Outcome",
    "ReadOnlyViolation",
    "ReferenceStep",
    "ReferenceSteps",
    "counted",
    "failed",
    "passed",
    "settling",
]

#: Emulated seconds after its launch an EC2 instance's ECS agent may still register it: a check
#: waits for a younger instance, and fails at once for an older one (30 s in the sandbox; a real
#: instance boots in one to three minutes).
AGENT_GRACE = 180.0

#: Operation-name prefixes a check may call (DynamoDB's Scan and Query read a table).
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search", "Lookup", "Scan", "Query")


class ReadOnlyViolation(LabkitError):
    """A check tried to call an operation that changes the sandbox."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"a checkpoint may only read the sandbox; it tried to call {operation}")
        self.operation = operation


@dataclass(frozen=True)
class Outcome:
    """What a check found: passed or not, and a message that says what is wrong (or right).

    `settling` marks a failure that may still turn into a pass by itself (a service that exists
    but is not steady yet, a target in `initial`): `CheckContext.eventually` waits only for those.
    A settling outcome is a failure everywhere it is reported; it can never be passed.
    """

    passed: bool
    message: str = ""
    settling: bool = False

    def __post_init__(self) -> None:
        if self.passed and self.settling:
            raise ValueError("an outcome cannot be both passed and settling")


def passed(message: str = "") -> Outcome:
    """The learner's work is right."""
    return Outcome(True, message)


def failed(message: str) -> Outcome:
    """The learner's work is wrong or missing, and waiting will not change that; `message` says what."""
    return Outcome(False, message)


def settling(message: str) -> Outcome:
    """Not yet, but the sandbox is still getting there by itself (tasks starting, targets turning
    healthy, a deployment in progress); `message` says what it waits for. Reported as failed."""
    return Outcome(False, message, settling=True)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """`number` and `noun`, in the plural unless `number` is 1: "1 task", "3 tasks", "0 tasks"."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def _refuse_writes(**kwargs: Any) -> None:
    model = kwargs.get("model")
    name = str(getattr(model, "name", ""))
    if not name.startswith(READ_PREFIXES):
        raise ReadOnlyViolation(name)


class CheckContext:
    """What a check sees: read-only clients of the sandbox, HTTP over loopback, bounded waits."""

    def __init__(
        self, sandbox: Sandbox, *, wait_seconds: float = 5.0, session_tag: str | None = None
    ) -> None:
        self.sandbox = sandbox
        self.wait_seconds = wait_seconds
        # In a real account only what this session made counts: a look-alike made by hand, or by
        # another learner, does not carry this session's tag.
        self.session_tag = (
            session_tag
            if session_tag is not None
            else (sandbox.session_id if sandbox.mode == "aws" else None)
        )
        self._clients: dict[str, Any] = {}

    def ours(self, tags: Any) -> bool:
        """True when a resource's tags (list of key/value or Key/Value, or a dict) carry this session's tag.

        Always True in an emulated sandbox: everything in its account was made in it.
        """
        if self.session_tag is None:
            return True
        from labkit.sandbox.aws import SESSION_TAG

        if isinstance(tags, dict):
            return tags.get(SESSION_TAG) == self.session_tag
        for tag in tags or []:
            key = tag.get("key", tag.get("Key"))
            value = tag.get("value", tag.get("Value"))
            if key == SESSION_TAG and value == self.session_tag:
                return True
        return False

    def elb_ours(self, arn: str) -> bool:
        """True when a load balancer or target group carries this session's tag (`ours`).

        Always True in an emulated sandbox, without a call; in a real account it asks elbv2's
        describe_tags, which is the only place those tags are.
        """
        if self.session_tag is None:
            return True
        described = self.client("elbv2").describe_tags(ResourceArns=[arn])["TagDescriptions"]
        return bool(described) and self.ours(described[0].get("Tags"))

    def parameter_ours(self, name: str) -> bool:
        """True when the SSM parameter `name` (one the learner wrote) carries this session's tag (`ours`).

        Always True in an emulated sandbox, without a call; in a real account it lists the
        parameter's tags.
        """
        if self.session_tag is None:
            return True
        tags = self.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
        return self.ours(tags.get("TagList", []))

    def service(self, cluster: str, name: str) -> dict[str, Any] | None:
        """The ACTIVE ECS service `name` of `cluster` made in this session (`ours`), or None."""
        from botocore.exceptions import ClientError

        try:
            services = self.client("ecs").describe_services(
                cluster=cluster, services=[name], include=["TAGS"]
            )["services"]
        except ClientError:
            return None
        active = [s for s in services if s.get("status") == "ACTIVE" and self.ours(s.get("tags"))]
        return dict(active[0]) if active else None

    def auto_scaling_group(self, name: str) -> dict[str, Any] | None:
        """The Auto Scaling group `name` made in this session (`ours`), or None."""
        from botocore.exceptions import ClientError

        try:
            groups = self.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
                "AutoScalingGroups"
            ]
        except ClientError:
            return None
        ours = [g for g in groups if self.ours(g.get("Tags"))]
        return dict(ours[0]) if ours else None

    def task_definition(self, family: str) -> dict[str, Any] | Outcome:
        """The latest ACTIVE revision of `family` registered in this session, or the failed outcome saying why not."""
        from botocore.exceptions import ClientError

        try:
            described = self.client("ecs").describe_task_definition(taskDefinition=family, include=["TAGS"])
        except ClientError:
            return failed(f"There is no task definition of the family {family}.")
        if not self.ours(described.get("tags")):
            return failed(f"The task definition {family} was not registered in this lab.")
        return dict(described["taskDefinition"])

    def recent(self, moment: Any, seconds: float) -> bool:
        """True when `moment` (a datetime from the sandbox, or None) is less than `seconds` emulated
        seconds before the sandbox's now: something that happened that recently may still settle."""
        if moment is None:
            return False
        import datetime as dt

        now = self.sandbox.now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        return bool((now - moment).total_seconds() < seconds)

    def agent_may_register(self, instance_ids: Any) -> bool:
        """True when one of these EC2 instances is younger than `AGENT_GRACE`: its ECS agent may still
        register it; an older one whose agent has not registered it never will."""
        ids = sorted(set(instance_ids))
        if not ids:
            return False
        reservations = self.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
        return any(
            self.recent(i.get("LaunchTime"), AGENT_GRACE)
            for r in reservations
            for i in r["Instances"]
            if i.get("State", {}).get("Name") in ("pending", "running")
        )

    def tasks_starting(self, cluster: str, **filters: Any) -> bool:
        """True when a task of `cluster` matching `filters` (family=..., serviceName=...) is on its way
        to RUNNING (PROVISIONING, PENDING, ACTIVATING): state that is still settling."""
        from botocore.exceptions import ClientError

        ecs = self.client("ecs")
        try:
            arns = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING", **filters)["taskArns"]
            if not arns:
                return False
            tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:100])["tasks"]
        except ClientError:
            return False
        return any(t.get("lastStatus") in ("PROVISIONING", "PENDING", "ACTIVATING") for t in tasks)

    def client(self, service: str) -> Any:
        """A client of the sandbox that refuses any call but describe/list/get, before it is sent."""
        if service not in self._clients:
            client = self.sandbox.client(service)
            client.meta.events.register("before-call", _refuse_writes, unique_id="labkit-read-only")
            self._clients[service] = client
        return self._clients[service]

    def http_get(self, url: str, timeout: float = 10.0) -> tuple[int, str]:
        """GET `url` over loopback (emulated sandboxes) and return status and body text."""
        if self.sandbox.endpoint_url is not None and not is_loopback_url(url):
            raise LabkitError(f"a check in an emulated sandbox may only fetch loopback URLs, not {url}")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(url, timeout=timeout) as response:
                return int(response.status), response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode(errors="replace")

    def outbox(
        self, topic_arn: str | None = None, *, endpoint: str | None = None
    ) -> list[dict[str, str]] | None:
        """The e-mails SNS delivered in an emulated sandbox (see `Sandbox.outbox`); None for a real account.

        A real account's e-mail is in real inboxes: a check then looks for other evidence.
        """
        from labkit.errors import OutboxNotAvailableError

        try:
            return self.sandbox.outbox(topic_arn, endpoint=endpoint)
        except OutboxNotAvailableError:
            return None

    def eventually(self, condition: Callable[[], Outcome]) -> Outcome:
        """Re-check `condition` while it is `settling`, for at most `wait_seconds` (wall seconds); return the last outcome.

        A pass or a definitive failure (`failed`: nothing there, a wrong setting) is returned at
        once. State that settles over time (tasks starting, targets turning healthy) gets a bounded
        wait on a running clock, through `Sandbox.wait_until`, which only polls there; still
        settling at the bound, the outcome is a failure. A check never moves the clock, so on a
        manual clock one look is all there is.
        """
        if self.sandbox.clock_mode == "manual":
            return condition()
        last: list[Outcome] = []

        def settled() -> bool:
            last.append(condition())
            return not last[-1].settling

        speed = self.sandbox.clock_speed
        # wait_until counts emulated seconds; wait_seconds are wall seconds at the clock's speed.
        with contextlib.suppress(WaitTimeoutError):
            self.sandbox.wait_until(
                settled, "the checked state", limit=self.wait_seconds * speed, step=0.25 * speed
            )
        return last[-1]


Check = Callable[[CheckContext], Outcome]
#: The reference steps that bring a sandbox to one checkpoint (for catch-up).
ReferenceStep = Callable[[Sandbox], None]


@dataclass(frozen=True)
class Checkpoint:
    """One graded step of a lab."""

    id: str
    title: str
    points: int
    check: Check
    hints: tuple[str, ...] = ()


@dataclass
class CheckpointSet:
    """The ordered checkpoints of one lab."""

    lab: str
    _items: dict[str, Checkpoint] = field(default_factory=dict)

    def checkpoint(
        self, id: str, title: str, *, points: int = 1, hints: list[str] | tuple[str, ...] = ()
    ) -> Callable[[Check], Check]:
        """Decorator that registers a check; raises ValueError for a duplicate id."""

        def register(check: Check) -> Check:
            if id in self._items:
                raise ValueError(f"lab {self.lab} has two checkpoints named {id!r}")
            self._items[id] = Checkpoint(id, title, points, check, tuple(hints))
            return check

        return register

    def get(self, id: str) -> Checkpoint:
        """Return a checkpoint; raises `LabkitError` naming the lab's checkpoints for an unknown id."""
        try:
            return self._items[id]
        except KeyError:
            known = ", ".join(self._items)
            raise LabkitError(
                f"lab {self.lab} has no checkpoint {id!r}; its checkpoints are: {known}"
            ) from None

    def __iter__(self) -> Iterator[Checkpoint]:
        return iter(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def ids(self) -> list[str]:
        """The checkpoint ids in lab order."""
        return list(self._items)


@dataclass
class ReferenceSteps:
    """The reference steps of one lab (its `reference.py`), by checkpoint id: what catch-up runs."""

    lab: str
    _steps: dict[str, ReferenceStep] = field(default_factory=dict)

    def step(self, id: str) -> Callable[[ReferenceStep], ReferenceStep]:
        """Decorator that registers the steps that reach checkpoint `id`; raises ValueError for a duplicate."""

        def register(steps: ReferenceStep) -> ReferenceStep:
            if id in self._steps:
                raise ValueError(f"lab {self.lab} has two reference steps for {id!r}")
            self._steps[id] = steps
            return steps

        return register

    def get(self, id: str) -> ReferenceStep | None:
        """The steps that reach checkpoint `id`, or None when the lab has none for it."""
        return self._steps.get(id)

    def ids(self) -> list[str]:
        """The checkpoint ids that have reference steps, in the order they were registered."""
        return list(self._steps)
