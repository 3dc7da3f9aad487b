"""IAM in the simulator: AWS managed policies exist, as in every real account.

The ones the course attaches (ECS's, ECR's, and the S3, DynamoDB, CloudWatch Logs, Secrets Manager,
SQS, SNS and SSM ones a lab's roles name) are in every account from the start, so `list_policies`
shows them; every other one is loaded when first named by ARN.

moto loads AWS's managed policies (1,485 in moto 5.2) into an account only when told to for the
whole process, and then into every account at once (about 0.2 s each). In a sandbox account an
AWS managed policy is instead loaded the first time a request names it by ARN (attach to a role,
user or group, or get it), from the copy of AWS's policy documents that moto ships. So a lab can
give the ECS agent's role `arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role`
as on AWS; an ARN AWS does not have stays `NoSuchEntity`. The hooks are in `labkit.sandbox.moto_seam.iam`.
"""

from __future__ import annotations

__all__ = ["AWS_POLICY_PREFIX", "COURSE_POLICIES", "in_every_account"]

#: AWS managed policies every emulated account has from the start (with every one whose name contains
#: ECS or EC2Container).
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

#: The ARN prefix of AWS managed policies (partition `aws`).
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


def in_every_account(name: str) -> bool:
    """Is the AWS managed policy `name` in every sandbox account from the start?"""
    return name in COURSE_POLICIES or "ECS" in name or "EC2Container" in name
