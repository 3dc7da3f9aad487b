"""Can a load balancer reach a task's port? Security groups and the health check port, for target health.

The sandbox's network has no packets, so what AWS's network decides is decided here, before a
health check is sent (`elb.py`):

- A task with its own network interface (`awsvpc`) is reached only where one of the interface's
  security groups lets the load balancer in: an ingress rule for TCP (or all traffic) on the checked
  port whose source is one of the load balancer's security groups, or an IPv4 range that holds the
  task's address (a range over the VPC, or 0.0.0.0/0). Otherwise the load balancer's packets are
  dropped and the check times out: `Target.Timeout`, "Request timed out" (`reasons.py`).
  A load balancer without security groups (a Network Load Balancer, say) is not filtered.
- A target group's `HealthCheckPort` other than `traffic-port` is where the check goes. Where the
  security group lets the check in but the task's container does not listen on that port, the task
  refuses the connection: an error while establishing the connection, `Target.FailedHealthChecks`,
  "Health checks failed" (the ELB API reference's `TargetHealth` reason codes).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam
from labkit.sandbox.simulator import reasons

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["REFUSED", "TIMED_OUT", "checked_port", "rule_allows", "unreachable"]

TIMED_OUT: tuple[bool, str | None, str] = (
    False,
    "Target.Timeout",
    reasons.HEALTH_DESCRIPTIONS["Target.Timeout"],
)

REFUSED: tuple[bool, str | None, str] = (
    False,
    "Target.FailedHealthChecks",
    reasons.HEALTH_DESCRIPTIONS["Target.FailedHealthChecks"],
)


def checked_port(group: Any, port: int) -> int:
    """The port a target group's health check goes to for a target registered on `port`."""
    value = str(getattr(group, "health_check_port", None) or "traffic-port")
    return int(value) if value.isdigit() else port


def rule_allows(rule: dict[str, Any], port: int, sources: set[str], address: str) -> bool:
    """Whether one ingress rule (as `moto_seam.ec2.ingress_permissions` gives it) lets TCP `port` in."""
    protocol = str(rule.get("protocol") or "-1").lower()
    if protocol not in ("-1", "tcp", "6", "all"):
        return False
    if protocol not in ("-1", "all"):
        low, high = rule.get("from_port"), rule.get("to_port")
        if low is None or high is None or not int(low) <= port <= int(high):
            return False
    if rule.get("group_id") and rule["group_id"] in sources:
        return True
    cidr = rule.get("cidr")
    if cidr:
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            return False
    return False


def unreachable(sim: Simulator, group: Any, key: tuple[str, str, int]) -> tuple[bool, str | None, str] | None:
    """`TIMED_OUT` when the load balancer's packets cannot reach target `key` of `group`, `REFUSED` when
    they reach it but nothing listens on the checked port; None when a check can be sent."""
    _, target_id, port = key
    runtime = next(
        (
            r
            for r in sim.ecs.tasks.values()
            if r.private_ip == target_id and r.eni_id and r.status in ("RUNNING", "DEACTIVATING")
        ),
        None,
    )
    if runtime is None or runtime.eni_id is None:
        return None
    port = checked_port(group, port)
    sources: set[str] = set()
    balancers = sim.elb.backend.load_balancers
    for arn in list(getattr(group, "load_balancer_arns", []) or []):
        lb = balancers.get(arn)
        if lb is not None:
            sources.update(lb.security_groups or [])
    if sources:
        ec2 = moto_seam.backend("ec2", sim.account_id, sim.region)
        groups = moto_seam.ec2.interface_groups(ec2, runtime.eni_id)
        if groups is not None:
            rules = [rule for g in groups for rule in moto_seam.ec2.ingress_permissions(ec2, g)]
            if not any(rule_allows(rule, port, sources, target_id) for rule in rules):
                return TIMED_OUT
    if not any(container_port == port for (_, container_port) in runtime.servers):
        return REFUSED
    return None
