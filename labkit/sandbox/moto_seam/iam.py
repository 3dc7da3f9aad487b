"""moto.iam: AWS managed policies exist in a sandbox account, as in every real account.

The course's policies (`labkit.sandbox.simulator.iam.COURSE_POLICIES` and every ECS one) are in
every new account from the start; any other AWS managed policy is loaded from moto's copy of AWS's
documents the first time a request names it by ARN (attach to a role, user or group, or get it).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for
from labkit.sandbox.simulator.iam import AWS_POLICY_PREFIX, in_every_account

__all__ = ["ensure_aws_policy", "policy_document"]

_BACKEND = "moto.iam.models.IAMBackend"

uses(
    "moto.iam.aws_managed_policies", "aws_managed_policies_data", why="moto's copy of AWS's managed policies"
)
uses(
    "moto.iam.models.AWSManagedPolicy",
    "from_data",
    ("name", "account_id", "region_name", "data"),
    why="a managed policy",
)
uses("moto.iam.access_control.IAMPolicy", "__init__", ("self", "policy"), why="a policy's document")
uses("moto.iam.access_control.IAMPolicy", "_policy_json", why="a policy's document", instance=True)


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


def policy_document(policy: Any) -> dict[str, Any]:
    """The JSON document of a moto managed policy (its default version)."""
    from moto.iam.access_control import IAMPolicy

    document: dict[str, Any] = IAMPolicy(policy)._policy_json
    return document


@hook(_BACKEND, "_init_aws_policies", ("self",), why="new accounts hold the course's managed policies")
def init_aws_policies(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.iam.models import AWSManagedPolicy

    def handler(self: Any) -> list[Any]:
        loaded: list[Any] = original(self)
        if loaded:
            return loaded  # the process asked moto for all of them
        return [
            AWSManagedPolicy.from_data(arn.rsplit("/", 1)[1], self.account_id, self.region_name, d)
            for arn, d in _aws_policies().items()
            if in_every_account(arn.rsplit("/", 1)[1])
        ]

    return handler


def _loads_policy_first(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        ensure_aws_policy(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return handler


for _method in ("attach_role_policy", "attach_user_policy", "attach_group_policy", "get_policy"):
    hook(_BACKEND, _method, ("self", "policy_arn"), why="an AWS managed policy is loaded when first named")(
        _loads_policy_first
    )
