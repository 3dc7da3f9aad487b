"""EC2 in the simulator: an image id written `resolve:ssm:<parameter>` resolves when an instance launches.

AWS lets RunInstances, launch templates and Auto Scaling groups name their AMI through a Systems
Manager parameter (`resolve:ssm:NAME`, `resolve:ssm:NAME:VERSION`, `resolve:ssm:NAME:LABEL`, or
the parameter's ARN): the template keeps the reference and each instance launches with the AMI id
the parameter holds at that moment, such as the public
`/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id`. moto 5.2 stores the
reference and launches instances whose ImageId is the reference itself; in a sandbox account the
reference is resolved instead, at launch. A reference to a parameter that does not exist is left as
it is (moto's behaviour; AWS's error for that case is not modelled).
"""

from __future__ import annotations

import functools
from typing import Any

from labkit.sandbox.simulator.core import simulator_for

__all__ = ["RESOLVE_SSM", "install", "resolve_image_id"]

#: The prefix of an image id that names a Systems Manager parameter.
RESOLVE_SSM = "resolve:ssm:"


def resolve_image_id(account_id: str, region: str, image_id: str | None) -> str | None:
    """The AMI id a `resolve:ssm:` reference stands for in a sandbox account (anything else unchanged)."""
    if not image_id or not image_id.startswith(RESOLVE_SSM) or simulator_for(account_id) is None:
        return image_id
    from moto.ssm.models import ssm_backends

    parameter = ssm_backends[account_id][region].get_parameter(image_id[len(RESOLVE_SSM) :])
    return str(parameter.value) if parameter is not None else image_id


def install() -> None:
    """Wrap moto's RunInstances (which Auto Scaling groups launch through too); call once per process."""
    from moto.ec2.models.instances import InstanceBackend

    original = InstanceBackend.run_instances

    def run_instances(
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

    functools.update_wrapper(run_instances, original)
    InstanceBackend.run_instances = run_instances  # type: ignore[method-assign]
