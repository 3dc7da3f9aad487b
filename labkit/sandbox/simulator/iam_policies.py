"""AWS managed policies the course uses, present in every emulated account.

moto loads AWS's managed policies (about 1,500) only when asked to for the whole process, which
costs time in every new account. Without them, attaching `AmazonECSTaskExecutionRolePolicy` is
`NoSuchEntity`. So each IAM backend gets the few the course attaches: ECS's, ECR's, and the S3,
DynamoDB, CloudWatch Logs, Secrets Manager and SSM ones a lab's roles name, with the documents
moto ships (AWS's own, as last imported by moto).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

__all__ = ["COURSE_POLICIES", "install"]

#: Names of the AWS managed policies every emulated account has (with those that contain ECS or EC2Container).
COURSE_POLICIES = frozenset(
    {
        "AmazonS3FullAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonDynamoDBFullAccess",
        "AmazonDynamoDBReadOnlyAccess",
        "CloudWatchLogsFullAccess",
        "SecretsManagerReadWrite",
        "AmazonSSMReadOnlyAccess",
        "AmazonSSMManagedInstanceCore",
        "AmazonSQSFullAccess",
        "AmazonSNSFullAccess",
    }
)

_lock = threading.Lock()
_installed = False


def _wanted(name: str) -> bool:
    return name in COURSE_POLICIES or "ECS" in name or "EC2Container" in name


@functools.cache
def _course_policy_data() -> dict[str, dict[str, Any]]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return {name: d for name, d in data.items() if _wanted(name)}


def install() -> None:
    """Give every IAM backend made from now on the course's AWS managed policies (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.iam.models import AWSManagedPolicy, IAMBackend

        original = IAMBackend._init_aws_policies

        def init_aws_policies(self: IAMBackend) -> list[Any]:
            loaded: list[Any] = original(self)
            if loaded:
                return loaded  # the process asked moto for all of them
            return [
                AWSManagedPolicy.from_data(name, self.account_id, self.region_name, d)
                for name, d in _course_policy_data().items()
            ]

        IAMBackend._init_aws_policies = init_aws_policies  # type: ignore[method-assign]
        _installed = True
