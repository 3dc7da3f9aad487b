"""Memory pressure: a container that needs more memory than its hard limit is killed, as the kernel does.

The load model (`set_load(service=..., memory=MiB)`, see `metrics.py`) says how much memory a
service's running tasks need in all; each task needs its share. Every `CHECK_SECONDS` of sandbox
time, a RUNNING service task whose share exceeds the hard limit (`memory`) of its main container
(its first essential container) loses that container: exit code 137 (SIGKILL) and the reason
`OUT_OF_MEMORY_REASON`; being essential, the task stops ("Essential container in task exited"), as
on AWS. Only a container-level hard limit is enforced: a task-level limit alone is not (the load
model caps utilisation at 100% there, as the metrics show it).

AWS's words: "OutOfMemoryError: Container killed due to memory usage" with exit code 137 (Amazon
ECS Developer Guide, "Troubleshoot Amazon ECS OutOfMemoryError errors", and "Amazon ECS stopped
task error messages").
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["CHECK_SECONDS", "OUT_OF_MEMORY_EXIT_CODE", "OUT_OF_MEMORY_REASON", "MemoryWatch", "hard_limit"]

#: How often (sandbox seconds) memory demand is compared with the limits.
CHECK_SECONDS = 20.0
OUT_OF_MEMORY_REASON = "OutOfMemoryError: Container killed due to memory usage"
OUT_OF_MEMORY_EXIT_CODE = 137


def hard_limit(definitions: list[dict[str, Any]]) -> tuple[str, int] | None:
    """The (name, MiB) of a task's main container (first essential one) when it has a hard limit."""
    for definition in definitions:
        if definition.get("essential", True):
            memory = definition.get("memory")
            if memory is None:
                return None
            return str(definition.get("name")), int(memory)
    return None


class MemoryWatch:
    """Kills the main container of a service task whose share of the service's memory load is over its limit."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.killed = 0
        sim.schedule(sim.clock.now() + dt.timedelta(seconds=CHECK_SECONDS), self._tick, "memory-check")

    def _tick(self) -> None:
        self.sim.schedule(self.sim.now() + dt.timedelta(seconds=CHECK_SECONDS), self._tick, "memory-check")
        self.sim.contained("memory pressure (checking limits)", self.check)

    def check(self) -> None:
        """Compare every loaded service's per-task memory need with its tasks' hard limits now."""
        ecs = self.sim.ecs
        for (cluster, service), load in list(self.sim.metrics.service_load.items()):
            if load.memory <= 0:
                continue
            runtime = next(
                (r for r in ecs.services.values() if r.cluster == cluster and r.name == service), None
            )
            if runtime is None:
                continue
            tasks = [t for t in ecs._tasks_of(runtime) if t.status == "RUNNING"]
            if not tasks:
                continue
            share = load.memory / len(tasks)
            for task in tasks:
                self.sim.contained(
                    f"task {task.task.id} (memory pressure)", functools.partial(self._pressure, task, share)
                )

    def _pressure(self, runtime: TaskRuntime, need: float) -> None:
        definition = self.sim.ecs._task_definition(runtime)
        limit = hard_limit(list(definition.container_definitions))
        if limit is None or need <= limit[1]:
            return
        name = limit[0]
        for container in runtime.task.containers:
            if container["name"] == name:
                container["reason"] = OUT_OF_MEMORY_REASON
        self.killed += 1
        self.sim.ecs.container_exited(runtime, name, OUT_OF_MEMORY_EXIT_CODE)
