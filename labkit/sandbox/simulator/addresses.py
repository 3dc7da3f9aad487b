"""Public IPv4 addresses in a sandbox: from the ranges reserved for documentation, never AWS's own.

A task or instance with a public IP on AWS gets one of Amazon's addresses (3.x, 54.x, ...); opening
such an address from a sandbox would send a learner's traffic to whoever holds it on the internet.
The sandbox hands out addresses from RFC 5737's three documentation networks (192.0.2.0/24,
198.51.100.0/24, 203.0.113.0/24), which nothing on the internet answers, and names them as AWS
does (`ec2-203-0-113-25.compute-1.amazonaws.com`). `labkit sandbox urls` maps each task's public
IP and port to the loopback server standing in for it.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Container
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = [
    "DOCUMENTATION_NETWORKS",
    "documentation_public_ip",
    "is_documentation_address",
    "public_dns_name",
    "public_ips_in_use",
    "public_task_urls",
]

#: RFC 5737: TEST-NET-1, TEST-NET-2, TEST-NET-3.
DOCUMENTATION_NETWORKS = tuple(
    ipaddress.IPv4Network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def documentation_public_ip(rng: random.Random, taken: Container[str] = ()) -> str:
    """A public address from the documentation networks (host part 1..254), not one of `taken` if any is left."""
    address = ""
    for _ in range(64):
        network = rng.choice(DOCUMENTATION_NETWORKS)
        address = str(network.network_address + rng.randint(1, 254))
        if address not in taken:
            return address
    return address


def is_documentation_address(address: str) -> bool:
    """Is `address` in one of RFC 5737's documentation networks?"""
    try:
        parsed = ipaddress.IPv4Address(address)
    except ValueError:
        return False
    return any(parsed in network for network in DOCUMENTATION_NETWORKS)


def public_dns_name(address: str, region: str) -> str:
    """The public DNS name AWS gives a public IPv4 address: `ec2-A-B-C-D.compute-1.amazonaws.com` in
    us-east-1, `ec2-A-B-C-D.REGION.compute.amazonaws.com` elsewhere. Raises `ValueError` for a non-address."""
    name = "ec2-" + str(ipaddress.IPv4Address(address)).replace(".", "-")
    if region == "us-east-1":
        return f"{name}.compute-1.amazonaws.com"
    return f"{name}.{region}.compute.amazonaws.com"


def public_ips_in_use(ec2: Any) -> set[str]:
    """The public addresses the network interfaces of an account's EC2 backend (one region) hold."""
    return {str(eni.public_ip) for eni in list(ec2.enis.values()) if getattr(eni, "public_ip", None)}


def public_task_urls(sim: Simulator) -> list[dict[str, Any]]:
    """Every running task with a public IP and a port mapping: what `http://PUBLIC_IP:PORT/` reaches, on loopback.

    One row per (task, container port): `public_url` is what AWS would serve, `url` the loopback
    server standing in for that container.
    """
    rows: list[dict[str, Any]] = []
    for runtime in list(sim.ecs.tasks.values()):
        if runtime.status != "RUNNING" or not runtime.eni_id or not runtime.servers:
            continue
        try:
            public_ip = sim.ecs.ec2.get_network_interface(runtime.eni_id).public_ip
        except Exception:  # noqa: BLE001 - an interface already gone: the task is on its way down
            continue
        if not public_ip:
            continue
        for (container, port), server in sorted(runtime.servers.items()):
            rows.append(
                {
                    "kind": "task",
                    "task_arn": runtime.arn,
                    "cluster": runtime.cluster,
                    "container_name": container,
                    "public_ip": str(public_ip),
                    "port": port,
                    "public_url": f"http://{public_ip}:{port}/" if port != 80 else f"http://{public_ip}/",
                    "url": server.url,
                }
            )
    return rows
