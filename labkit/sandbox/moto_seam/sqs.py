"""moto.sqs: a message sent to a queue wakes the workloads long-polling it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.events import in_sandbox_region
from labkit.sandbox.moto_seam.hooks import hook

__all__: list[str] = []


@hook(
    "moto.sqs.models.SQSBackend",
    "send_message",
    ("self", "queue_name"),
    why="a workload long-polling the queue wakes",
)
def send_message(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        message = original(self, queue_name, *args, **kwargs)
        sim = in_sandbox_region(self)
        if sim is not None:
            # A workload long-polling this queue receives it now, not when its wait ends.
            sim.workloads.message_sent(str(queue_name).rstrip("/").rsplit("/", 1)[-1])
        return message

    return handler
