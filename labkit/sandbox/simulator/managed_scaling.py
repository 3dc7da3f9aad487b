"""ECS cluster auto scaling: Auto Scaling group capacity providers with managed scaling.

As the developer guide's "Amazon ECS cluster auto scaling" describes: every minute, for each Auto
Scaling group provider of a cluster whose managed scaling is ENABLED, ECS publishes the
`CapacityProviderReservation` metric (namespace `AWS/ECS/ManagedScaling`, dimensions `ClusterName`
and `CapacityProviderName`) as M / N * 100, where N is the instances the group runs and M the
instances needed for every task, those that could not be placed included (100 when both are 0, 200
when N is 0 and M is not). A target tracking policy keeps it at the provider's `targetCapacity` by
setting the group's desired capacity: out at once, in only after `SCALE_IN_MINUTES` minutes below
target (target tracking's scale-in is that cautious). The capacity module then sees the group's new
instances join the cluster, and the service scheduler places the waiting tasks on them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["METRIC", "NAMESPACE", "SCALE_IN_MINUTES", "ManagedScaling", "reservation"]

NAMESPACE = "AWS/ECS/ManagedScaling"
METRIC = "CapacityProviderReservation"
#: Consecutive minutes below target before the desired capacity is lowered.
SCALE_IN_MINUTES = 15


def reservation(needed: int, running: int) -> float:
    """CapacityProviderReservation for M instances needed and N running (developer guide's definition)."""
    if running == 0:
        return 100.0 if needed == 0 else 200.0
    return 100.0 * needed / running


class ManagedScaling:
    """Managed scaling of one sandbox's Auto Scaling group capacity providers."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        #: (service key, provider) -> tasks the scheduler could not place at its last try.
        self.unplaced: dict[tuple[str, str], int] = {}
        self._low_minutes: dict[tuple[str, str], int] = {}

    def record(self, service_key: str, provider: str, short: int) -> None:
        """Note how many of a service's tasks for `provider` could not be placed (0: all were)."""
        if short:
            self.unplaced[(service_key, provider)] = short
        else:
            self.unplaced.pop((service_key, provider), None)

    def minute(self, data: list[tuple[str, str, list[tuple[str, str]], Any]], sample: Any) -> None:
        """Publish each managed provider's reservation into `data` and scale its group toward target."""
        ecs = self.sim.ecs.backend
        for cluster in list(ecs.clusters.values()):
            for name in getattr(cluster, "capacity_providers", None) or []:
                provider = ecs.capacity_providers.get(name)
                settings = (getattr(provider, "auto_scaling_group_provider", None) or {}) if provider else {}
                managed = settings.get("managedScaling") or {}
                if managed.get("status") != "ENABLED":
                    continue
                group = self._group(str(settings.get("autoScalingGroupArn") or ""))
                if group is None:
                    continue
                value = self._scale(cluster.name, name, group, managed)
                data.append(
                    (
                        NAMESPACE,
                        METRIC,
                        [("ClusterName", cluster.name), ("CapacityProviderName", name)],
                        sample(value),
                    )
                )

    def instances_of(self, provider: str) -> set[str] | None:
        """The EC2 instances (InService) of an Auto Scaling group provider's group; None if it is not one."""
        found = self.sim.ecs.backend.capacity_providers.get(provider)
        settings = (getattr(found, "auto_scaling_group_provider", None) or {}) if found else {}
        if not settings.get("autoScalingGroupArn"):
            return None
        group = self._group(str(settings["autoScalingGroupArn"]))
        if group is None:
            return set()
        return {s.instance.id for s in group.instance_states if s.lifecycle_state == "InService"}

    def _group(self, arn_or_name: str) -> Any | None:
        backend = moto_seam.loaded_backend("autoscaling", self.sim.account_id, self.sim.region)
        if backend is None:
            return None
        name = arn_or_name.split("autoScalingGroupName/")[-1]
        return backend.autoscaling_groups.get(name)

    def _scale(self, cluster: str, provider: str, group: Any, managed: dict[str, Any]) -> float:
        running_ids = {
            state.instance.id for state in group.instance_states if state.lifecycle_state == "InService"
        }
        used = {
            t.ec2_instance_id
            for t in self.sim.ecs.tasks.values()
            if t.cluster == cluster and t.ec2_instance_id in running_ids and t.status != "STOPPED"
        }
        short = sum(
            n
            for (key, name), n in self.unplaced.items()
            if name == provider and key.startswith(f"{cluster}:")
        )
        step_min = int(managed.get("minimumScalingStepSize") or 1)
        step_max = int(managed.get("maximumScalingStepSize") or 10000)
        # One more instance per task that could not be placed, within the provider's step sizes.
        extra = min(step_max, max(step_min, short)) if short else 0
        needed = len(used) + extra
        value = reservation(needed, len(running_ids))
        target = float(managed.get("targetCapacity") or 100)
        desired = math.ceil(needed * 100.0 / target)
        desired = max(int(group.min_size or 0), min(int(group.max_size or 0), desired))
        key = (cluster, provider)
        current = int(group.desired_capacity or 0)
        if desired > current:
            self._low_minutes[key] = 0
            group.set_desired_capacity(desired)
        elif desired < current and value < target:
            self._low_minutes[key] = self._low_minutes.get(key, 0) + 1
            if self._low_minutes[key] >= SCALE_IN_MINUTES:
                self._low_minutes[key] = 0
                group.set_desired_capacity(desired)
        else:
            self._low_minutes[key] = 0
        return value
