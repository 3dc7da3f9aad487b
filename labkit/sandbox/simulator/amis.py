"""EC2 in the simulator: an image id written `resolve:ssm:<parameter>` resolves when an instance launches.

AWS lets RunInstances, launch templates and Auto Scaling groups name their AMI through a Systems
Manager parameter (`resolve:ssm:NAME`, `resolve:ssm:NAME:VERSION`, `resolve:ssm:NAME:LABEL`, or
the parameter's ARN): the template keeps the reference and each instance launches with the AMI id
the parameter holds at that moment, such as the public
`/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id`. moto 5.2 stores the
reference and launches instances whose ImageId is the reference itself; in a sandbox account the
reference is resolved instead, at launch (the hook is in `labkit.sandbox.moto_seam.ec2`). A reference to a parameter that does not exist is left as
it is (moto's behaviour; AWS's error for that case is not modelled).
"""

from __future__ import annotations

from labkit.sandbox.simulator.core import simulator_for

__all__ = ["RESOLVE_SSM", "resolve_image_id"]

#: The prefix of an image id that names a Systems Manager parameter.
RESOLVE_SSM = "resolve:ssm:"


def resolve_image_id(account_id: str, region: str, image_id: str | None) -> str | None:
    """The AMI id a `resolve:ssm:` reference stands for in a sandbox account (anything else unchanged)."""
    if not image_id or not image_id.startswith(RESOLVE_SSM) or simulator_for(account_id) is None:
        return image_id
    from labkit.sandbox import moto_seam

    parameter = moto_seam.backend("ssm", account_id, region).get_parameter(image_id[len(RESOLVE_SSM) :])
    return str(parameter.value) if parameter is not None else image_id
