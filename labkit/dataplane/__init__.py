"""The data plane: what answers when a learner opens a load balancer's URL in the emulator.

Each running task gets a `TaskServer`, a small HTTP server on 127.0.0.1 standing in for its image
(`images`); each load balancer listener gets a `ListenerProxy` on a loopback port that forwards
requests round-robin to the healthy targets (`listener`); `check_target` runs a target group's
health check against a target (`health`); images that do work rather than serve run a Python
workload as the task's process (`workloads`). Nothing here needs Docker or leaves loopback.
"""

from __future__ import annotations

# The probe workloads (containers that report what they see) register themselves on import. They are
# imported here, not by `workloads`, so neither module imports the other back; importing any
# `labkit.dataplane` module runs this first.
from labkit.dataplane import probes
from labkit.dataplane.health import HealthResult, check_target, parse_matcher
from labkit.dataplane.images import (
    ContainerContext,
    ImageFactory,
    ImageName,
    TaskServer,
    WSGIApp,
    available_images,
    image_app,
    image_factory,
    parse_image_name,
    register_image,
    task_hostname,
    unregister_image,
)
from labkit.dataplane.listener import ListenerProxy, Target
from labkit.dataplane.workloads import (
    Workload,
    WorkloadContext,
    WorkloadError,
    available_workloads,
    register_workload,
    unregister_workload,
    workload_for,
)

__all__ = [
    "ContainerContext",
    "HealthResult",
    "ImageFactory",
    "ImageName",
    "ListenerProxy",
    "Target",
    "TaskServer",
    "WSGIApp",
    "Workload",
    "WorkloadContext",
    "WorkloadError",
    "available_images",
    "available_workloads",
    "check_target",
    "image_app",
    "image_factory",
    "parse_image_name",
    "parse_matcher",
    "probes",
    "register_image",
    "register_workload",
    "task_hostname",
    "unregister_image",
    "unregister_workload",
    "workload_for",
]
