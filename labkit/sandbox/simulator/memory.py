"""Hard memory limits under load: a container that needs more than its `memory` is killed (OOM).

A container definition's `memory` is a hard limit: the kernel kills a container whose processes use
more (AWS, "Troubleshooting Amazon ECS OutOfMemoryError errors"). In the sandbox, what a container
uses comes from the load model (`MetricsSimulator.set_load`: a service's `memory` demand in MiB,
shared by its RUNNING tasks). Each minute, a task whose share exceeds the hard limit of its
service's application container (the first essential container, the one a load balancer would
send the load to) loses that container: exit code 137, reason
`OutOfMemoryError: Container killed due to memory usage`, and the task stops with "Essential
container in task exited" (`reasons.py`); the service then starts a replacement, which meets the
same load. A container without its own `memory` is bounded by the task's memory, where the load
model caps the figures at 100 % instead of killing (as `AWS/ECS` MemoryUtilization shows it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.sandbox.simulator import reasons

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime
    from labkit.sandbox.simulator.metrics import MetricsSimulator

__all__ = ["application_container", "kill_over_limit"]


def application_container(definition: Any) -> dict[str, Any] | None:
    """The container a service's load lands on: the first essential one with a port, else the first essential."""
    essential = [c for c in definition.container_definitions or [] if c.get("essential", True)]
    with_ports = [c for c in essential if c.get("portMappings")]
    chosen = with_ports or essential
    return dict(chosen[0]) if chosen else None


def kill_over_limit(sim: Simulator, metrics: MetricsSimulator) -> list[str]:
    """Kill every running service task whose share of the load exceeds its container's hard limit; their ARNs."""
    killed: list[str] = []
    ecs = sim.ecs
    for runtime in list(ecs.services.values()):
        load = metrics.service_load.get((runtime.cluster, runtime.name))
        if load is None or load.memory <= 0 or runtime.service.status != "ACTIVE":
            continue
        running = [t for t in ecs._tasks_of(runtime) if t.status == "RUNNING"]
        if not running:
            continue
        share = load.memory / len(running)
        for task in running:
            name = _over_limit(sim, task, share)
            if name is not None:
                _kill(sim, task, name)
                killed.append(task.arn)
    return killed


def _over_limit(sim: Simulator, task: TaskRuntime, share: float) -> str | None:
    definition = sim.ecs.backend.describe_task_definition(task.task.task_definition_arn)
    container = application_container(definition)
    if container is None or container.get("memory") is None:
        return None
    return str(container["name"]) if share > float(container["memory"]) else None


def _kill(sim: Simulator, task: TaskRuntime, name: str) -> None:
    for container in task.task.containers or []:
        if container.get("name") == name:
            container["reason"] = reasons.OUT_OF_MEMORY
    sim.ecs.container_exited(task, name, reasons.OOM_EXIT_CODE)
