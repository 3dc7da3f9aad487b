"""Reusable reference steps: the network set-up several labs' `@checkpoints.solution` functions share.

Steps act on a sandbox's clients (they write), unlike checks, which only read. Each is safe to run
again: it reuses what a previous run made.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

__all__ = [
    "allow_ingress",
    "default_vpc",
    "security_group",
    "two_subnets",
    "write_parameter",
    "zone_subnets",
]


def default_vpc(ec2: Any) -> str:
    """Return the id of the region's default VPC."""
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def two_subnets(ec2: Any, vpc: str) -> list[str]:
    """Return two subnets of `vpc` in different availability zones (the first subnet of each zone)."""
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    by_zone: dict[str, str] = {}
    for subnet in subnets:
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return list(by_zone.values())[:2]


def zone_subnets(ec2: Any, vpc: str) -> list[str]:
    """Return one subnet of `vpc` per availability zone (the first listed in each), zones in name order."""
    by_zone: dict[str, str] = {}
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return [by_zone[zone] for zone in sorted(by_zone)]


def security_group(ec2: Any, name: str, description: str, vpc: str) -> str:
    """Return the id of the security group named `name`, creating it in `vpc` when there is none."""
    found = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    if found:
        return str(found[0]["GroupId"])
    return str(ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc)["GroupId"])


def allow_ingress(ec2: Any, group_id: str, permission: dict[str, Any]) -> None:
    """Add one ingress permission to a security group; one it has already is left as it is."""
    try:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[permission])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InvalidPermission.Duplicate":
            raise


def write_parameter(ssm: Any, name: str, value: str) -> None:
    """Write a String SSM parameter afresh: delete any old one, then put it (a new one carries this session's tag).

    Overwriting would keep an old parameter's tags, so in a real account a value written by an
    earlier session would not count as this session's.
    """
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterNotFound":
            raise
    ssm.put_parameter(Name=name, Value=value, Type="String")
