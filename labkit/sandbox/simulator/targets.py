"""One target per (id, port) in a target group, as on AWS: moto keeps one per id.

With dynamic host ports one instance holds several tasks of a service, each registered as the same
instance id on its own port; moto's `FakeTargetGroup.targets` is keyed by id alone, so each
registration replaced the last and only one task per instance received traffic. Here the table is
keyed by `target_key(id, port)`; deregistering without a port removes every port of the id.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["install", "target_key"]

_lock = threading.Lock()
_installed = False


def target_key(target_id: str, port: int | str) -> str:
    """The key of a target in a target group's table."""
    return f"{target_id}:{int(port)}"


def install() -> None:
    """Key moto's target tables by id and port (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.elbv2.exceptions import InvalidTargetError, TargetNotRunning
        from moto.elbv2.models import FakeTargetGroup

        def register(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
            for target in targets:
                instance = self.ec2_backend.get_instance_by_id(target["Id"])
                if instance and instance.state != "running":
                    raise TargetNotRunning(instance_id=target["Id"])
                port = target.get("Port") or self.port
                self.targets[target_key(target["Id"], port)] = {"Id": target["Id"], "Port": port}
                self.deregistered_targets.pop(target["Id"], None)

        def deregister(self: FakeTargetGroup, targets: list[dict[str, Any]]) -> None:
            for target in targets:
                keys = [
                    key
                    for key, value in self.targets.items()
                    if value["Id"] == target["Id"]
                    and (not target.get("Port") or int(value["Port"]) == int(target["Port"]))
                ]
                if not keys:
                    raise InvalidTargetError()
                for key in keys:
                    self.deregistered_targets[target["Id"]] = self.targets.pop(key)

        def deregister_terminated_instances(self: FakeTargetGroup, instance_ids: list[str]) -> None:
            for key, value in list(self.targets.items()):
                if value["Id"] in instance_ids:
                    self.terminated_targets[value["Id"]] = self.targets.pop(key)

        FakeTargetGroup.register = register  # type: ignore[method-assign]
        FakeTargetGroup.deregister = deregister  # type: ignore[method-assign]
        FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances  # type: ignore[method-assign]
        _installed = True
