"""CloudWatch metrics in the simulator: a load model, and AWS's metrics published on the clock.

Once a minute (at each whole minute of the sandbox clock) the simulator publishes, into moto's
CloudWatch backend so `get_metric_statistics`, `get_metric_data` and `list_metrics` show them:

- `AWS/ECS` `CPUUtilization` and `MemoryUtilization` (Percent) per `ClusterName`+`ServiceName`:
  the service's demand (`cpu` CPU units, `memory` MiB, from the load model) divided over its
  RUNNING tasks, each task capped at 100 % (a task cannot use more than it has). One sample per
  running task, so Average is the service average, Maximum the busiest task. A service with no
  running task publishes nothing (missing data), as on AWS.
- `AWS/ApplicationELB` `RequestCount` per `LoadBalancer` and `RequestCountPerTarget` per
  `TargetGroup` (`targetgroup/name/id`, what target tracking watches): real
  requests forwarded by the sandbox's listeners plus the load model's request rate, Sum per
  minute; RequestCountPerTarget is the target group's requests divided by its healthy targets.
  As on AWS, nothing is published for a minute without requests.
- `AWS/SQS` `ApproximateNumberOfMessagesVisible`, `...NotVisible` and `...Delayed` per
  `QueueName`, read from moto's SQS backend.

Alarms read the same figures from an index kept here (`MetricIndex`), which also receives what
clients send with `put_metric_data`, so evaluating an alarm never scans moto's flat list.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.errors import LoadError
from labkit.sandbox import moto_seam
from labkit.sandbox.simulator.memory import kill_over_limit

if TYPE_CHECKING:
    from labkit.dataplane.listener import Target
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["MetricIndex", "MetricKey", "MetricsSimulator", "Sample", "dimension_key"]

MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]

#: How long one-minute datapoints are kept (CloudWatch keeps them 15 days).
RETENTION_SECONDS = 15 * 86400

#: The CPU a task without task-level or container cpu is measured against (one vCPU).
DEFAULT_TASK_CPU = 1024.0


def dimension_key(namespace: str, name: str, dimensions: Iterable[tuple[str, str]]) -> MetricKey:
    """The index key of a metric: namespace, name and its dimensions (exact set, any order)."""
    return (namespace, name, tuple(sorted(dimensions)))


@dataclass
class Sample:
    """Statistics of the values that fell in one bucket (raw values kept for percentiles)."""

    total: float = 0.0
    count: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    values: list[float] | None = field(default_factory=list)
    unit: str | None = None

    def add_value(self, value: float, times: int = 1) -> None:
        self.total += value * times
        self.count += times
        if value < self.minimum:
            self.minimum = value
        if value > self.maximum:
            self.maximum = value
        if self.values is not None:
            self.values.extend([value] * times)

    def add_statistics(self, total: float, count: float, minimum: float, maximum: float) -> None:
        self.total += total
        self.count += count
        self.minimum = min(self.minimum, minimum)
        self.maximum = max(self.maximum, maximum)
        # A statistic set has no values: percentiles over it are unknown.
        self.values = None

    def merge(self, other: Sample) -> None:
        self.total += other.total
        self.count += other.count
        if other.minimum < self.minimum:
            self.minimum = other.minimum
        if other.maximum > self.maximum:
            self.maximum = other.maximum
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
        else:
            self.values = None
        self.unit = self.unit or other.unit

    def statistic(self, name: str) -> float | None:
        """The value of `Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or `pNN` (None: unknown)."""
        if self.count <= 0:
            return None
        if name == "Average":
            return self.total / self.count
        if name == "Sum":
            return self.total
        if name == "Minimum":
            return self.minimum
        if name == "Maximum":
            return self.maximum
        if name == "SampleCount":
            return self.count
        if name.startswith("p") and self.values:
            return percentile(self.values, float(name[1:]))
        return None


def percentile(values: list[float], rank: float) -> float:
    """The nearest-rank percentile of `values` (rank 0..100)."""
    ordered = sorted(values)
    index = max(0, math.ceil(rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


class _Series:
    """One metric's datapoints, merged into one-minute and ten-second buckets."""

    def __init__(self) -> None:
        self.minutes: dict[int, Sample] = {}
        self.tens: dict[int, Sample] = {}
        self.sorted_minutes: list[int] = []

    def add(self, at: float, sample: Sample) -> None:
        minute = int(at // 60 * 60)
        ten = int(at // 10 * 10)
        for buckets, key in ((self.minutes, minute), (self.tens, ten)):
            existing = buckets.get(key)
            if existing is None:
                # Most buckets get one sample: keep it as it is until a second one arrives.
                buckets[key] = sample
                if buckets is self.minutes:
                    if not self.sorted_minutes or key > self.sorted_minutes[-1]:
                        self.sorted_minutes.append(key)
                    else:
                        bisect.insort(self.sorted_minutes, key)
            else:
                merged = Sample(unit=existing.unit, values=None if existing.values is None else [])
                merged.merge(existing)
                merged.merge(sample)
                buckets[key] = merged

    def window(self, start: int, seconds: int) -> Sample | None:
        """Everything from `start` for `seconds` seconds, merged (None when nothing fell there)."""
        step, buckets = (60, self.minutes) if start % 60 == 0 and seconds % 60 == 0 else (10, self.tens)
        if seconds == step:
            return buckets.get(start)  # one bucket: read as it is (callers do not change samples)
        merged: Sample | None = None
        for key in range(start, start + seconds, step):
            sample = buckets.get(key)
            if sample is None:
                continue
            if merged is None:
                merged = Sample(unit=sample.unit, values=None if sample.values is None else [])
            merged.merge(sample)
        return merged

    def prune(self, before: int) -> None:
        cut = bisect.bisect_left(self.sorted_minutes, before)
        for key in self.sorted_minutes[:cut]:
            self.minutes.pop(key, None)
        del self.sorted_minutes[:cut]
        for key in [k for k in self.tens if k < before]:
            del self.tens[key]


class MetricIndex:
    """The sandbox's datapoints by metric, for alarms (what moto's flat list holds, indexed)."""

    def __init__(self) -> None:
        self.series: dict[MetricKey, _Series] = {}

    def add(self, key: MetricKey, at: float, sample: Sample) -> None:
        """Record a sample at epoch second `at`."""
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = _Series()
        series.add(at, sample)

    def window(self, key: MetricKey, start: int, seconds: int, unit: str | None = None) -> Sample | None:
        """The merged sample of `key` in [start, start + seconds), None when there is none."""
        series = self.series.get(key)
        if series is None:
            return None
        sample = series.window(start, seconds)
        if sample is not None and unit and sample.unit and sample.unit != unit:
            return None
        return sample

    def prune(self, before: int) -> None:
        """Forget datapoints older than epoch second `before`."""
        for series in self.series.values():
            series.prune(before)


@dataclass
class ServiceLoad:
    """What a service's tasks must do: CPU units (1024 = one vCPU) and MiB, shared by its running tasks."""

    cpu: float = 0.0
    memory: float = 0.0


class MetricsSimulator:
    """Keeps the load model, counts listener requests, and publishes the metrics every minute."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.index = MetricIndex()
        self.service_load: dict[tuple[str, str], ServiceLoad] = {}
        self.request_rates: dict[str, float] = {}
        # (listener arn, target group arn, target id) -> requests this minute
        self._requests: dict[tuple[str, str, str], int] = {}
        #: Every real request forwarded, by (target group arn, target id), since the sandbox began.
        self.requests_by_target: dict[tuple[str, str], int] = {}
        self.published = 0
        self._sizes: dict[str, tuple[float, float]] = {}
        now = sim.clock.now()
        first = math.floor(now.timestamp() / 60) * 60 + 60
        sim.schedule(dt.datetime.fromtimestamp(first, dt.UTC), self._tick, "metrics-minute")

    # -- moto access ------------------------------------------------------------------------

    def _cloudwatch(self) -> Any:
        return moto_seam.backend("cloudwatch", self.sim.account_id, self.sim.region)

    def _loaded(self, service: str) -> Any | None:
        """A moto backend of this account if that service has been used (never creates one)."""
        return moto_seam.loaded_backend(service, self.sim.account_id, self.sim.region)

    # -- the load model ---------------------------------------------------------------------

    def set_load(
        self,
        *,
        cluster: str | None = None,
        service: str | None = None,
        cpu: float | None = None,
        memory: float | None = None,
        target_group: str | None = None,
        requests_per_second: float | None = None,
    ) -> dict[str, Any]:
        """Set a service's demand and/or a target group's request rate; return the whole model.

        Raises `LoadError` for an unknown service or target group, or a negative figure.
        """
        for name, value in (("cpu", cpu), ("memory", memory), ("requests_per_second", requests_per_second)):
            if value is not None and (not isinstance(value, int | float) or value < 0 or math.isnan(value)):
                raise LoadError(name, f"{name} must be a number >= 0, not {value!r}")
        if service is not None or cpu is not None or memory is not None:
            if service is None:
                raise LoadError("service", "cpu and memory are set on a service: give its name")
            # A name or an ARN, as the ECS API takes them.
            cluster_name = (cluster or "default").split("/")[-1]
            service = service.split("/")[-1]
            self._require_service(cluster_name, service)
            load = self.service_load.setdefault((cluster_name, service), ServiceLoad())
            if cpu is not None:
                load.cpu = float(cpu)
            if memory is not None:
                load.memory = float(memory)
        if target_group is not None or requests_per_second is not None:
            if target_group is None:
                raise LoadError("target_group", "requests_per_second is set on a target group: give its name")
            arn = self._target_group_arn(target_group)
            self.request_rates[arn] = float(requests_per_second or 0.0)
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The load model and the requests counted so far, as JSON-ready data."""
        groups = {}
        elb = self._loaded("elbv2")
        for arn, rate in self.request_rates.items():
            group = elb.target_groups.get(arn) if elb is not None else None
            groups[arn] = {"name": group.name if group is not None else arn, "requests_per_second": rate}
        by_group: dict[str, dict[str, int]] = {}
        for (group_arn, target_id), count in self.requests_by_target.items():
            by_group.setdefault(group_arn, {})[target_id] = count
        return {
            "services": [
                {"cluster": c, "service": s, "cpu": load.cpu, "memory": load.memory}
                for (c, s), load in sorted(self.service_load.items())
            ],
            "target_groups": [
                {"target_group_arn": arn, **info, "requests_by_target": by_group.get(arn, {})}
                for arn, info in groups.items()
            ],
            "requests_by_target": [
                {"target_group_arn": g, "target_id": t, "requests": n}
                for (g, t), n in sorted(self.requests_by_target.items())
            ],
        }

    def _require_service(self, cluster: str, service: str) -> None:
        runtime = self.sim.ecs.services.get(f"{cluster}:{service}")
        if runtime is None or runtime.service.status != "ACTIVE":
            raise LoadError("service", f"there is no active service {service!r} in cluster {cluster!r}")

    def _target_group_arn(self, name_or_arn: str) -> str:
        elb = self._loaded("elbv2")
        groups = elb.target_groups if elb is not None else {}
        if name_or_arn in groups:
            return name_or_arn
        for arn, group in groups.items():
            if group.name == name_or_arn:
                return str(arn)
        raise LoadError("target_group", f"there is no target group {name_or_arn!r}")

    # -- real requests ----------------------------------------------------------------------

    def request_forwarded(self, listener_arn: str, target: Target) -> None:
        """Count a request a listener forwarded to `target` (called from the listener's thread)."""
        with self.sim.lock:
            key = (listener_arn, target.target_group_arn, target.target_id)
            self._requests[key] = self._requests.get(key, 0) + 1
            total = (target.target_group_arn, target.target_id)
            self.requests_by_target[total] = self.requests_by_target.get(total, 0) + 1

    # -- publishing -------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.sim.now()
        at = int(now.timestamp())
        minute_start = at - 60
        # The next minute comes whatever happens to this one (a fault is contained to its part).
        self.sim.schedule(now + dt.timedelta(seconds=60), self._tick, "metrics-minute")
        self.sim.contained("CloudWatch metrics (publishing a minute)", lambda: self.publish(minute_start))
        self.sim.contained("CloudWatch alarms (evaluation)", lambda: self.sim.alarms.evaluate(now))
        self.sim.contained("hard memory limits (OOM)", lambda: kill_over_limit(self.sim, self))
        if at % 86400 == 0:
            self.sim.contained("CloudWatch metrics (retention)", lambda: self._prune(at - RETENTION_SECONDS))

    def publish(self, minute_start: int) -> None:
        """Publish the minute that began at epoch second `minute_start`."""
        data: list[tuple[str, str, list[tuple[str, str]], Sample]] = []
        self._ecs(data)
        self.sim.contained("CloudWatch metrics of load balancers", lambda: self._elb(data))
        self.sim.contained("CloudWatch metrics of SQS queues", lambda: self._sqs(data))
        self.sim.contained("ECS managed scaling", lambda: self.sim.ecs.managed_scaling.minute(data, _one))
        self.sim.contained("Container Insights", lambda: self.sim.insights.publish(self, data))
        if not data:
            return
        store = self._cloudwatch().metric_data
        stamp = dt.datetime.fromtimestamp(minute_start, dt.UTC).replace(tzinfo=None)
        for namespace, name, dimensions, sample in data:
            self.index.add(dimension_key(namespace, name, dimensions), minute_start, sample)
            moto_dimensions = [{"Name": n, "Value": v} for n, v in dimensions]
            if sample.count == 1:
                store.append(
                    moto_seam.cloudwatch.datum(
                        namespace, name, sample.total, moto_dimensions, stamp, sample.unit
                    )
                )
            else:
                store.append(
                    moto_seam.cloudwatch.aggregated_datum(
                        namespace,
                        name,
                        (sample.minimum, sample.maximum, sample.count, sample.total),
                        moto_dimensions,
                        stamp,
                        sample.unit,
                    ),
                )
            self.published += 1

    def _ecs(self, data: list[tuple[str, str, list[tuple[str, str]], Sample]]) -> None:
        for runtime in list(self.sim.ecs.services.values()):
            if runtime.service.status != "ACTIVE":
                continue
            # One service's fault leaves the others' metrics published.
            self.sim.contained(
                f"CloudWatch metrics of service {runtime.name}",
                functools.partial(self._ecs_service, runtime, data),
            )

    def _ecs_service(self, runtime: Any, data: list[tuple[str, str, list[tuple[str, str]], Sample]]) -> None:
        ecs = self.sim.ecs
        # The service's live tasks (not every task it ever ran); a stopping task no longer counts.
        tasks = [t for t in ecs._tasks_of(runtime) if t.status == "RUNNING"]
        if not tasks:
            return
        load = self.service_load.get((runtime.cluster, runtime.name)) or ServiceLoad()
        dimensions = [("ClusterName", runtime.cluster), ("ServiceName", runtime.name)]
        cpu, memory = Sample(unit="Percent"), Sample(unit="Percent")
        share = 1.0 / len(tasks)
        sizes: dict[tuple[float, float], int] = {}
        for task in tasks:
            size = self._task_size(task)
            sizes[size] = sizes.get(size, 0) + 1
        for (size_cpu, size_memory), count in sizes.items():
            cpu.add_value(min(100.0, 100.0 * load.cpu * share / size_cpu), count)
            memory.add_value(min(100.0, 100.0 * load.memory * share / size_memory), count)
        data.append(("AWS/ECS", "CPUUtilization", dimensions, cpu))
        data.append(("AWS/ECS", "MemoryUtilization", dimensions, memory))

    def _task_size(self, task: Any) -> tuple[float, float]:
        """A task's CPU units and MiB: task-level sizes, else the sum of its containers'."""
        arn = str(task.task.task_definition_arn)
        size = self._sizes.get(arn)
        if size is None:
            definition = self.sim.ecs.backend.describe_task_definition(arn)
            containers = definition.container_definitions or []
            cpu = float(definition.cpu or sum(int(c.get("cpu") or 0) for c in containers) or DEFAULT_TASK_CPU)
            memory = float(
                definition.memory
                or sum(int(c.get("memory") or c.get("memoryReservation") or 0) for c in containers)
                or 512
            )
            size = self._sizes[arn] = (cpu, memory)
        return size

    def _elb(self, data: list[tuple[str, str, list[tuple[str, str]], Sample]]) -> None:
        counted, self._requests = self._requests, {}
        elb = self._loaded("elbv2")
        if elb is None:
            return
        listener_lb: dict[str, str] = {}
        for lb in elb.load_balancers.values():
            for arn in lb.listeners:
                listener_lb[arn] = lb.arn
        # target group arn -> load balancer arn -> requests this minute
        per_group: dict[str, dict[str, float]] = {}
        for (listener_arn, group_arn, _), count in counted.items():
            lb_arn = listener_lb.get(listener_arn)
            if lb_arn is not None:
                row = per_group.setdefault(group_arn, {})
                row[lb_arn] = row.get(lb_arn, 0.0) + count
        healthy: dict[str, int] = {}
        registered: dict[str, int] = {}
        for record in self.sim.elb.records.values():
            if record.active:
                registered[record.key[0]] = registered.get(record.key[0], 0) + 1
                if record.state == "healthy":
                    healthy[record.key[0]] = healthy.get(record.key[0], 0) + 1
        for group_arn, rate in self.request_rates.items():
            group = elb.target_groups.get(group_arn)
            if group is None or not rate or not healthy.get(group_arn):
                continue  # with no healthy target the load balancer answers 503: nothing is counted
            lbs = list(group.load_balancer_arns or [])
            row = per_group.setdefault(group_arn, {})
            for lb_arn in lbs:
                row[lb_arn] = row.get(lb_arn, 0.0) + rate * 60 / len(lbs)
        per_lb: dict[str, float] = {}
        for group_arn, row in per_group.items():
            group = elb.target_groups.get(group_arn)
            total = sum(row.values())
            if group is None or total <= 0:
                continue
            targets = healthy.get(group_arn) or registered.get(group_arn) or 1
            group_dim = ("TargetGroup", target_group_dimension(group_arn))
            data.append(("AWS/ApplicationELB", "RequestCountPerTarget", [group_dim], _one(total / targets)))
            # Only one dimension set per metric: moto's statistics match dimension subsets, not exact sets.
            for lb_arn, requests in row.items():
                per_lb[lb_arn] = per_lb.get(lb_arn, 0.0) + requests
        for lb_arn, requests in per_lb.items():
            lb_dim = ("LoadBalancer", load_balancer_dimension(lb_arn))
            data.append(("AWS/ApplicationELB", "RequestCount", [lb_dim], _one(requests)))

    def _sqs(self, data: list[tuple[str, str, list[tuple[str, str]], Sample]]) -> None:
        sqs = self._loaded("sqs")
        if sqs is None:
            return
        for queue in sqs.queues.values():
            dimensions = [("QueueName", str(queue.name))]
            data.append(
                (
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    dimensions,
                    _one(queue.approximate_number_of_messages),
                )
            )
            data.append(
                (
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesNotVisible",
                    dimensions,
                    _one(queue.approximate_number_of_messages_not_visible),
                )
            )
            data.append(
                (
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesDelayed",
                    dimensions,
                    _one(queue.approximate_number_of_messages_delayed),
                )
            )

    def custom_data(self, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        """Index what a client sent with PutMetricData (moto has stored it already)."""
        now = self.sim.now().timestamp()
        for metric in metric_data:
            stamp = metric.get("Timestamp")
            at = _epoch(stamp) if stamp is not None else now
            dimensions = [(d["Name"], d["Value"]) for d in metric.get("Dimensions") or []]
            sample = Sample(unit=metric.get("Unit"))
            if metric.get("Values"):
                counts = metric.get("Counts") or [1] * len(metric["Values"])
                for value, count in zip(metric["Values"], counts, strict=False):
                    for _ in range(int(float(count))):
                        sample.add_value(float(value))
            elif metric.get("StatisticValues"):
                stats = metric["StatisticValues"]
                sample.add_statistics(
                    float(stats["Sum"]),
                    float(stats["SampleCount"]),
                    float(stats["Minimum"]),
                    float(stats["Maximum"]),
                )
            else:
                sample.add_value(float(metric.get("Value", 0)))
            self.index.add(dimension_key(namespace, metric["MetricName"], dimensions), at, sample)

    def _prune(self, before: int) -> None:
        self.index.prune(before)
        cut = dt.datetime.fromtimestamp(before, dt.UTC).replace(tzinfo=None)
        backend = self._cloudwatch()
        backend.metric_data = [m for m in backend.metric_data if m.timestamp >= cut]


def _percent(value: float) -> Sample:
    sample = Sample(unit="Percent")
    sample.add_value(float(value))
    return sample


def _one(value: float) -> Sample:
    sample = Sample()
    sample.add_value(float(value))
    return sample


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    if isinstance(value, int | float):
        return float(value)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).timestamp()


def target_group_dimension(arn: str) -> str:
    """`targetgroup/name/id`: the TargetGroup dimension (and resource label part) of a target group ARN."""
    return arn.split(":")[-1]


def load_balancer_dimension(arn: str) -> str:
    """`app/name/id`: the LoadBalancer dimension of a load balancer ARN."""
    return arn.split(":loadbalancer/")[-1]
