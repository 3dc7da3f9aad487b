"""IAM in the simulator: AWS managed policies exist, as in every real account.

moto loads AWS's managed policies (1,485 in moto 5.2) into an account only when told to for the
whole process, and then into every account at once (about 0.2 s each). In a sandbox account an
AWS managed policy is instead loaded the first time a request names it by ARN (attach to a role,
user or group, or get it), from the copy of AWS's policy documents that moto ships. So a lab can
give the ECS agent's role `arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`
as on AWS; an ARN AWS does not have stays `NoSuchEntity`.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from labkit.sandbox.simulator.core import simulator_for

__all__ = ["AWS_POLICY_PREFIX", "install"]

#: The ARN prefix of AWS managed policies (partition `aws`).
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"
# The IAMBackend methods that take a policy ARN, and the name of that argument.
_TAKES_POLICY_ARN = ("attach_role_policy", "attach_user_policy", "attach_group_policy", "get_policy")


@functools.cache
def _aws_policies() -> dict[str, dict[str, Any]]:
    """moto's copy of AWS's managed policies, by ARN."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return {f"{AWS_POLICY_PREFIX}{str(d.get('Path', '/')).lstrip('/')}{name}": d for name, d in data.items()}


def ensure_aws_policy(backend: Any, policy_arn: str) -> None:
    """Load the AWS managed policy `policy_arn` into a sandbox account's IAM backend, if AWS has it."""
    if not policy_arn.startswith(AWS_POLICY_PREFIX) or policy_arn in backend.managed_policies:
        return
    if simulator_for(backend.account_id) is None:
        return  # moto used on its own: its own behaviour
    data = _aws_policies().get(policy_arn)
    if data is None:
        return
    from moto.iam.models import AWSManagedPolicy

    name = policy_arn.rsplit("/", 1)[1]
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    backend.aws_managed_policies.append(policy)
    backend.managed_policies[policy.arn] = policy


def install() -> None:
    """Wrap the IAM backend's methods that name a policy by ARN (call once per process)."""
    from moto.iam.models import IAMBackend

    for method in _TAKES_POLICY_ARN:
        original = getattr(IAMBackend, method)

        def wrapper(self: Any, policy_arn: str, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            ensure_aws_policy(self, policy_arn)
            return __original(self, policy_arn, *args, **kwargs)

        functools.update_wrapper(wrapper, original)
        setattr(IAMBackend, method, wrapper)
