"""moto.ec2: an image id written `resolve:ssm:<parameter>` resolves when an instance launches.

moto 5.2 stores the reference and launches instances whose ImageId is the reference itself; in a
sandbox account RunInstances (which Auto Scaling groups launch through too) resolves it instead
(`labkit.sandbox.simulator.amis.resolve_image_id`), also when the image id comes from a launch template.
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
