"""CloudWatch Container Insights: the `ECS/ContainerInsights` metrics of clusters that turn it on.

A cluster whose `containerInsights` setting (CreateCluster or UpdateClusterSettings `settings`) is
`enabled` or `enhanced` gets, each minute of the sandbox clock, the metrics AWS lists in "Amazon ECS
Container Insights metrics" (CloudWatch User Guide), in the namespace `ECS/ContainerInsights`;
a cluster without it gets none. Published beside `AWS/ECS` by `metrics.MetricsSimulator.publish`,
with the same load model (`set_load`: a service's demand in CPU units and MiB, shared by its
running tasks, each task capped at its size):

| metric | dimension sets | unit |
| --- | --- | --- |
| `CpuUtilized`, `CpuReserved` (CPU units) | ClusterName; ClusterName+ServiceName; ClusterName+TaskDefinitionFamily | None |
| `MemoryUtilized`, `MemoryReserved` (MiB) | the same three | Megabytes |
| `NetworkRxBytes`, `NetworkTxBytes` | the same three | Bytes/Second |
| `DesiredTaskCount`, `RunningTaskCount`, `PendingTaskCount`, `DeploymentCount`, `TaskSetCount` | ClusterName+ServiceName | Count |
| `TaskCount`, `ServiceCount`, `ContainerInstanceCount` | ClusterName | Count |

Reserved figures are the running tasks' sizes (task-level `cpu`/`memory`, else the sum of the
containers'); utilized ones come from the load model (0 without one: the stand-ins idle). Network
bytes are what the task's stand-in servers really received and sent in the minute (requests through
the load balancer and health checks, headers included as HTTP/1.1 frames them), per second. The
resource metrics are published only for what has RUNNING tasks (AWS: "collected for resources that
have tasks in the RUNNING state"); a service's counts every minute while it is ACTIVE, zeros
included (not confirmed in AWS's words: the counts come from the control plane, not the tasks).
`enhanced` publishes the same set here: its task- and container-level dimension sets are not
emulated. A cluster created without `settings` does not follow the account's `containerInsights`
default (put-account-setting-default): set it on the cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime
    from labkit.sandbox.simulator.metrics import MetricsSimulator, Sample

__all__ = ["NAMESPACE", "ContainerInsights", "insights_enabled"]

NAMESPACE = "ECS/ContainerInsights"

Data = list[tuple[str, str, list[tuple[str, str]], "Sample"]]


def insights_enabled(cluster: Any) -> bool:
    """Does a moto cluster's `containerInsights` setting say `enabled` or `enhanced`?"""
    for setting in getattr(cluster, "settings", None) or []:
        if setting.get("name") == "containerInsights":
            return str(setting.get("value", "")).lower() in ("enabled", "enhanced")
    return False


@dataclass
class _Figures:
    """One task's (or a sum of tasks') resource figures for a minute."""

    cpu_utilized: float = 0.0
    cpu_reserved: float = 0.0
    memory_utilized: float = 0.0
    memory_reserved: float = 0.0
    rx: float = 0.0
    tx: float = 0.0

    def add(self, other: _Figures) -> None:
        self.cpu_utilized += other.cpu_utilized
        self.cpu_reserved += other.cpu_reserved
        self.memory_utilized += other.memory_utilized
        self.memory_reserved += other.memory_reserved
        self.rx += other.rx
        self.tx += other.tx


class ContainerInsights:
    """Counts each task's network bytes and publishes Container Insights each minute."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._bytes: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def traffic(self, task_arn: str) -> Callable[[int, int], None]:
        """A counter a task's stand-in servers call with (bytes received, bytes sent) per request (any thread)."""

        def count(received: int, sent: int) -> None:
            with self._lock:
                totals = self._bytes.setdefault(task_arn, [0, 0])
                totals[0] += received
                totals[1] += sent

        return count

    def publish(self, metrics: MetricsSimulator, data: Data) -> None:
        """Add the minute's Container Insights metrics of every cluster that turned it on to `data`."""
        from labkit.sandbox.simulator.metrics import ServiceLoad

        with self._lock:
            counted, self._bytes = self._bytes, {}
        ecs = self.sim.ecs
        clusters = {name: c for name, c in ecs.backend.clusters.items() if insights_enabled(c)}
        if not clusters:
            return
        # Each running task's share of its service's load.
        share: dict[str, tuple[float, float]] = {}
        for runtime in list(ecs.services.values()):
            if runtime.cluster not in clusters or runtime.service.status != "ACTIVE":
                continue
            running = [t for t in ecs._tasks_of(runtime) if t.status == "RUNNING"]
            load = metrics.service_load.get((runtime.cluster, runtime.name)) or ServiceLoad()
            for task in running:
                share[task.arn] = (load.cpu / len(running), load.memory / len(running))
        per_cluster: dict[str, _Figures] = {}
        per_service: dict[tuple[str, str], _Figures] = {}
        per_family: dict[tuple[str, str], _Figures] = {}
        running_in: dict[str, int] = {}
        for task in list(ecs.tasks.values()):
            if task.cluster not in clusters or task.status != "RUNNING":
                continue
            figures = self._task_figures(
                metrics, task, share.get(task.arn, (0.0, 0.0)), counted.get(task.arn)
            )
            running_in[task.cluster] = running_in.get(task.cluster, 0) + 1
            per_cluster.setdefault(task.cluster, _Figures()).add(figures)
            family = str(task.task.task_definition_arn).rsplit("/", 1)[-1].rsplit(":", 1)[0]
            per_family.setdefault((task.cluster, family), _Figures()).add(figures)
            if task.service_key is not None and task.service_key in ecs.services:
                name = ecs.services[task.service_key].name
                per_service.setdefault((task.cluster, name), _Figures()).add(figures)
        for cluster, figures in per_cluster.items():
            self._resources(data, [("ClusterName", cluster)], figures)
        for (cluster, service), figures in per_service.items():
            self._resources(data, [("ClusterName", cluster), ("ServiceName", service)], figures)
        for (cluster, family), figures in per_family.items():
            self._resources(data, [("ClusterName", cluster), ("TaskDefinitionFamily", family)], figures)
        for runtime in list(ecs.services.values()):
            if runtime.cluster in clusters and runtime.service.status == "ACTIVE":
                self._service_counts(data, runtime)
        for name in clusters:
            dimensions = [("ClusterName", name)]
            services = sum(
                1 for s in ecs.backend.services.values() if s.cluster_name == name and s.status == "ACTIVE"
            )
            instances = len(ecs.backend.container_instances.get(name, {}))
            data.append((NAMESPACE, "TaskCount", dimensions, _count(running_in.get(name, 0))))
            data.append((NAMESPACE, "ServiceCount", dimensions, _count(services)))
            data.append((NAMESPACE, "ContainerInstanceCount", dimensions, _count(instances)))

    def _task_figures(
        self,
        metrics: MetricsSimulator,
        task: TaskRuntime,
        demand: tuple[float, float],
        traffic: list[int] | None,
    ) -> _Figures:
        cpu, memory = metrics._task_size(task)
        rx, tx = traffic or (0, 0)
        return _Figures(
            cpu_utilized=min(cpu, demand[0]),
            cpu_reserved=cpu,
            memory_utilized=min(memory, demand[1]),
            memory_reserved=memory,
            rx=rx / 60.0,
            tx=tx / 60.0,
        )

    @staticmethod
    def _resources(data: Data, dimensions: list[tuple[str, str]], figures: _Figures) -> None:
        for name, value, unit in (
            ("CpuUtilized", figures.cpu_utilized, "None"),
            ("CpuReserved", figures.cpu_reserved, "None"),
            ("MemoryUtilized", figures.memory_utilized, "Megabytes"),
            ("MemoryReserved", figures.memory_reserved, "Megabytes"),
            ("NetworkRxBytes", figures.rx, "Bytes/Second"),
            ("NetworkTxBytes", figures.tx, "Bytes/Second"),
        ):
            data.append((NAMESPACE, name, dimensions, _value(value, unit)))

    def _service_counts(self, data: Data, runtime: Any) -> None:
        service = runtime.service
        dimensions = [("ClusterName", runtime.cluster), ("ServiceName", runtime.name)]
        for name, value in (
            ("DesiredTaskCount", int(service.desired_count)),
            ("RunningTaskCount", int(service.running_count)),
            ("PendingTaskCount", int(service.pending_count)),
            ("DeploymentCount", len(runtime.deployments)),
            ("TaskSetCount", len(getattr(service, "task_sets", None) or [])),
        ):
            data.append((NAMESPACE, name, dimensions, _count(value)))


def _value(value: float, unit: str) -> Sample:
    from labkit.sandbox.simulator.metrics import Sample

    sample = Sample(unit=unit)
    sample.add_value(float(value))
    return sample


def _count(value: int) -> Sample:
    return _value(float(value), "Count")
