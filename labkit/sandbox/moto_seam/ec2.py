"""moto.ec2: `resolve:ssm:` image ids resolve at launch; every network interface has a private DNS name.

moto 5.2 stores the reference and launches instances whose ImageId is the reference itself; in a
sandbox account RunInstances (which Auto Scaling groups launch through too) resolves it instead
(`labkit.sandbox.simulator.amis.resolve_image_id`), also when the image id comes from a launch template.

moto gives a network interface a `private_dns_name` only in a VPC with DNS hostnames enabled (not
CreateVpc's default), and its ECS `Task` reads it for every awsvpc task: in a sandbox account every
interface gets AWS's name for its address.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook, uses

__all__: list[str] = []

_INSTANCES = "moto.ec2.models.instances.InstanceBackend"
uses(
    _INSTANCES, "_get_template_from_args", ("self", "launch_template_arg"), why="a launch template's ImageId"
)


@hook(
    _INSTANCES,
    "run_instances",
    ("self", "image_id", "count", "user_data", "security_group_names"),
    why="`resolve:ssm:` image ids resolve at launch",
)
def run_instances(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.amis import resolve_image_id

    def handler(
        self: Any, image_id: str, count: int, user_data: Any, security_group_names: list[str], **kwargs: Any
    ) -> Any:
        reference = image_id
        if not reference and kwargs.get("launch_template"):
            template = self._get_template_from_args(kwargs["launch_template"])
            reference = template.data.get("ImageId")
        resolved = resolve_image_id(self.account_id, self.region_name, reference)
        if resolved != reference:
            image_id = str(resolved)
        return original(self, image_id, count, user_data, security_group_names, **kwargs)

    return handler


@hook(
    "moto.ec2.models.elastic_network_interfaces.NetworkInterface",
    "__init__",
    ("self", "ec2_backend", "subnet", "private_ip_address"),
    why="in a VPC without DNS hostnames (CreateVpc's default) moto sets no private_dns_name, and its ECS "
    "Task crashes reading it; AWS names every interface ip-10-0-1-23.ec2.internal or ...REGION.compute.internal",
)
def network_interface_init(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.dataplane.images import task_hostname
    from labkit.sandbox.simulator.core import simulator_for

    def wrapper(self: Any, ec2_backend: Any, *args: Any, **kwargs: Any) -> None:
        original(self, ec2_backend, *args, **kwargs)
        if getattr(self, "private_dns_name", None) or simulator_for(ec2_backend.account_id) is None:
            return
        try:
            self.private_dns_name = task_hostname(str(self.private_ip_address), ec2_backend.region_name)
        except ValueError:
            self.private_dns_name = None
            return
        for address in self.private_ip_addresses:
            if address.get("Primary"):
                address["PrivateDnsName"] = self.private_dns_name

    return wrapper
