"""CloudWatch Logs from running containers: the `awslogs` log driver, on the sandbox clock.

A container whose `logConfiguration` uses the `awslogs` driver has its standard output and error
shipped to CloudWatch Logs (moto's `logs` backend, so `get-log-events`, `filter-log-events` and
`describe-log-streams` show it): group `awslogs-group`, in `awslogs-region` (default: the sandbox's),
stream `awslogs-stream-prefix/container-name/task-id` (the task id alone without a prefix, which
only the EC2 launch type allows). Before the container starts, ECS opens the stream with the
execution role (`execution_role.pull_failure`: the group must exist unless `awslogs-create-group`
is `"true"`, and the role must allow `logs:CreateLogStream`, and `logs:CreateLogGroup` to create
the group); a stream that cannot be opened stops the task with `ResourceInitializationError`
(`reasons.py`). An EC2 task without an execution role opens it with its container instance's role,
which the sandbox does not model: allowed.

What is written, each line at the sandbox instant it was printed:

- nginx-based stand-ins (`nginx`, `nginxdemos/hello`): their start-up lines when the container
  starts, then an access-log line per request, through the load balancer or from its health
  checks, and nginx's error line for a missing file (`labkit.dataplane.stdout`);
- what a container's command prints (`echo` without a redirection, `labkit.dataplane.commands`),
  at the second its script printed it: a container that exits leaves its last lines;
- what a workload logs (`WorkloadContext.log`), including the error that ended it.

An execution role that may open the stream but not `logs:PutLogEvents` on it does not stop the
task: the driver's uploads fail and the lines are lost, as the Docker awslogs driver drops a batch
it cannot put (it logs the error on the host, which a Fargate user never sees). The stream exists
and stays empty.

Lines from server threads (a stand-in answering a request) are queued and put into CloudWatch Logs
when the simulator next catches up, which it does before serving any request, so a client reading
the logs sees every line printed before it asked.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.dataplane.stdout import nginx_error_time
from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["AwslogsStream", "ContainerLogs", "awslogs_stream"]

#: The `User-Agent` of an ALB's health checks (labkit.dataplane.health).
HEALTH_CHECKER = "ELB-HealthChecker/2.0"
ACCESS_LINE = re.compile(r'\] "[^"]*" \d{3} \d+ "')
_ACCESS_TIME = re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]")

#: CloudWatch Logs' limit on one event's message (256 KiB less the 26 bytes of overhead).
MAX_MESSAGE_BYTES = 262_144 - 26


@dataclass(frozen=True)
class AwslogsStream:
    """Where the awslogs driver ships one container's output."""

    region: str
    group: str
    stream: str
    create_group: bool

    def group_arn(self, account: str) -> str:
        return f"arn:aws:logs:{self.region}:{account}:log-group:{self.group}"

    def stream_arn(self, account: str) -> str:
        return f"{self.group_arn(account)}:log-stream:{self.stream}"


def awslogs_stream(container: dict[str, Any], task_arn: str, default_region: str) -> AwslogsStream | None:
    """The stream of a container definition with the awslogs driver (None for any other driver)."""
    logging = container.get("logConfiguration") or {}
    if logging.get("logDriver") != "awslogs":
        return None
    options = logging.get("options") or {}
    prefix = options.get("awslogs-stream-prefix")
    task_id = task_arn.rsplit("/", 1)[-1]
    return AwslogsStream(
        region=str(options.get("awslogs-region") or default_region),
        group=str(options.get("awslogs-group", "")),
        stream=f"{prefix}/{container.get('name')}/{task_id}" if prefix else task_id,
        create_group=str(options.get("awslogs-create-group", "")).lower() == "true",
    )


@dataclass
class _Opened:
    destination: AwslogsStream
    #: False when the execution role may not PutLogEvents: lines are dropped.
    may_put: bool
    #: How many of the container's workload log lines were shipped already.
    workload_lines: int = 0
    #: The lines of the last health check it answered (repeated for checks answered from cache):
    #: nginx's `open() ... failed` error line when the path is missing, then the access line.
    last_check: list[str] = field(default_factory=list)
    #: An error line waiting for its request's access line.
    error_line: str | None = None


@dataclass
class _Output:
    """A container's `ContainerOutput` (labkit.dataplane.stdout), writing through `ContainerLogs`."""

    logs: ContainerLogs
    task_arn: str
    container: str
    clock: Any = field(repr=False)

    def now(self) -> dt.datetime:
        return self.clock()  # type: ignore[no-any-return]

    def write(self, line: str, at: dt.datetime) -> None:
        self.logs.write(self.task_arn, self.container, line, at)


class ContainerLogs:
    """The awslogs streams of one sandbox's running containers, and the lines waiting to be put."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._opened: dict[tuple[str, str], _Opened] = {}
        self._pending: list[tuple[float, int, tuple[str, str], str]] = []
        self._seq = 0
        self._lock = threading.Lock()
        #: Lines printed and dropped because the execution role may not PutLogEvents (for tests).
        self.dropped = 0

    # -- streams ----------------------------------------------------------------------------

    def opened(self, task_arn: str, container: str, destination: AwslogsStream, *, may_put: bool) -> None:
        """ECS opened a container's stream before starting it (`execution_role.pull_failure`)."""
        with self._lock:
            self._opened[(task_arn, container)] = _Opened(destination, may_put)

    def is_logged(self, task_arn: str, container: str) -> bool:
        """Does this container ship its output to CloudWatch Logs?"""
        return (task_arn, container) in self._opened

    def output(self, task_arn: str, container: str) -> _Output | None:
        """The `ContainerOutput` a stand-in server prints to (None: the container is not logged)."""
        if not self.is_logged(task_arn, container):
            return None
        # `sim.now`: a health check the simulator sends is logged at its action's instant.
        return _Output(self, task_arn, container, self.sim.now)

    # -- writing ----------------------------------------------------------------------------

    def write(self, task_arn: str, container: str, line: str, at: dt.datetime | None = None) -> None:
        """Queue a line a container printed (any thread); it reaches CloudWatch at the next `flush`."""
        key = (task_arn, container)
        when = (at or self.sim.now()).timestamp()
        with self._lock:
            opened = self._opened.get(key)
            if opened is None:
                return
            if " [error] " in line and " open() " in line:
                opened.error_line = line
            elif HEALTH_CHECKER in line:
                opened.last_check = [opened.error_line, line] if opened.error_line else [line]
                opened.error_line = None
            elif ACCESS_LINE.search(line):
                opened.error_line = None
            self._seq += 1
            self._pending.append((when, self._seq, key, line))

    def health_checked(self, url: str) -> None:
        """A health check of the server at `url` was answered from this catch-up's cache (`elb.py`).

        The simulator sends one real check per target per catch-up, however far the clock jumped;
        nginx logs every check, so the last one's line is written again at this check's instant.
        """
        if not self._opened:
            return
        for runtime in list(self.sim.ecs.tasks.values()):
            if runtime.status not in ("RUNNING", "DEACTIVATING"):
                continue
            for (container, _), server in runtime.servers.items():
                if server.url != url:
                    continue
                opened = self._opened.get((runtime.arn, container))
                if opened is None or not opened.last_check:
                    return
                at = self.sim.now()
                stamp = f"[{at.strftime('%d/%b/%Y:%H:%M:%S %z')}]"
                for line in list(opened.last_check):
                    if _ACCESS_TIME.search(line):
                        self.write(runtime.arn, container, _ACCESS_TIME.sub(stamp, line, count=1), at)
                    else:  # the error line starts with nginx's error-log time
                        self.write(runtime.arn, container, nginx_error_time(at) + line[19:], at)
                return

    def task_running(self, runtime: TaskRuntime, definitions: dict[str, dict[str, Any]]) -> None:
        """A task's containers started: queue what each prints as it starts (stand-ins, commands)."""
        from labkit.dataplane.images import nginx_flavour
        from labkit.dataplane.stdout import startup_lines
        from labkit.sandbox.simulator.ecs import container_plan

        now = self.sim.now()
        for name, definition in definitions.items():
            if not self.is_logged(runtime.arn, name):
                continue
            plan = container_plan(definition)
            for text, seconds in zip(plan.output, plan.output_at, strict=False):
                at = now + dt.timedelta(seconds=seconds)
                for line in text.splitlines() or [""]:
                    self.write(runtime.arn, name, line, at)
            flavour = nginx_flavour(str(definition.get("image", "")))
            if flavour is not None and plan.serves:
                at = now + dt.timedelta(seconds=plan.seconds)
                for line in startup_lines(flavour, at):
                    self.write(runtime.arn, name, line, at)

    def _workload_lines(self) -> None:
        """Queue what the workloads logged since the last flush (`WorkloadContext.log`)."""
        for processes in list(self.sim.workloads.processes.values()):
            for process in processes:
                context = process.context
                if context is None:
                    continue
                opened = self._opened.get((process.runtime.arn, process.container))
                if opened is None:
                    continue
                lines = list(context.logs)
                for line in lines[opened.workload_lines :]:
                    stamp, _, message = line.partition(" ")
                    try:
                        at = dt.datetime.fromisoformat(stamp)
                    except ValueError:
                        at, message = self.sim.now(), line
                    self.write(process.runtime.arn, process.container, message, at)
                opened.workload_lines = len(lines)

    def flush(self) -> None:
        """Put every queued line into CloudWatch Logs, in time order per stream (the simulator's thread)."""
        if not self._opened:
            return  # nothing ships logs (the usual case): every catch-up calls this
        self._workload_lines()
        now = self.sim.now().timestamp() + 0.001  # the timeline rounds instants to microseconds
        with self._lock:
            # A line a script prints after a sleep is put once the sandbox clock reaches it.
            pending = [p for p in self._pending if p[0] <= now]
            self._pending = [p for p in self._pending if p[0] > now]
            opened = dict(self._opened)
        if not pending:
            return
        pending.sort()
        batches: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for when, _, key, line in pending:
            state = opened.get(key)
            if state is None:
                continue
            if not state.may_put:
                self.dropped += 1
                continue
            message = line.encode("utf-8", errors="replace")[:MAX_MESSAGE_BYTES].decode(
                "utf-8", errors="ignore"
            )
            batches.setdefault(key, []).append({"timestamp": int(when * 1000), "message": message})
        for key, events in batches.items():
            destination = opened[key].destination
            self.sim.contained(
                f"CloudWatch Logs stream {destination.stream}",
                lambda d=destination, e=events: self._put(d, e),  # type: ignore[misc]
            )

    def _put(self, destination: AwslogsStream, events: list[dict[str, Any]]) -> None:
        logs = moto_seam.backend("logs", self.sim.account_id, destination.region)
        group = logs.groups.get(destination.group)
        if group is None or destination.stream not in group.streams:
            return  # deleted since the task started: the driver's uploads fail, the lines are lost
        logs.put_log_events(destination.group, destination.stream, events)

    def task_stopped(self, task_arn: str) -> None:
        """Forget a stopped task's streams once its last lines are put."""
        self.flush()
        with self._lock:
            # What its scripts would have printed after it stopped was never printed.
            self._pending = [p for p in self._pending if p[2][0] != task_arn]
            for key in [k for k in self._opened if k[0] == task_arn]:
                del self._opened[key]
