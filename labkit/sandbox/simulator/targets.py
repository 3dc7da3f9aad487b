"""One target per (id, port) in a target group, as on AWS: moto keeps one per id.

With dynamic host ports one instance holds several tasks of a service, each registered as the same
instance id on its own port. labkit keys moto's target tables by `target_key(id, port)` (the hook
is in `labkit.sandbox.moto_seam.elbv2`); deregistering without a port removes every port of the id.
"""

from __future__ import annotations

__all__ = ["target_key"]


def target_key(target_id: str, port: int | str) -> str:
    """The key of a target in a target group's table."""
    return f"{target_id}:{int(port)}"
