"""moto.autoscaling: an Auto Scaling group balances its instances across its Availability Zones.

moto puts every instance of a group in the first subnet; in a sandbox account each new instance goes
to the subnet whose zone has the fewest of the group's instances, as Auto Scaling does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook
from labkit.sandbox.simulator.core import simulator_for

__all__: list[str] = []


@hook(
    "moto.autoscaling.models.FakeAutoScalingGroup",
    "replace_autoscaling_group_instances",
    ("self", "count_needed", "propagated_tags"),
    why="instances are balanced across the group's Availability Zones",
)
def replace_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, count_needed: int, propagated_tags: dict[str, str]) -> None:
        subnets = (self.vpc_zone_identifier or "").split(",")
        sim = simulator_for(self.autoscaling_backend.account_id)
        if sim is None or len(subnets) < 2:
            original(self, count_needed, propagated_tags)
            return None
        ec2 = self.autoscaling_backend.ec2_backend
        zone_of = {s: ec2.get_subnet(s).availability_zone for s in subnets}
        identifier = self.vpc_zone_identifier
        try:
            for _ in range(count_needed):
                counts = {s: 0 for s in subnets}
                for state in self.instance_states:
                    for subnet in subnets:
                        if zone_of[subnet] == state.instance.availability_zone:
                            counts[subnet] += 1
                chosen = min(subnets, key=lambda s: (counts[s], subnets.index(s)))
                self.vpc_zone_identifier = chosen
                original(self, 1, dict(propagated_tags))
        finally:
            self.vpc_zone_identifier = identifier
        return None

    return handler
