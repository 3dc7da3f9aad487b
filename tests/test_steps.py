"""The reusable reference steps of `labkit.steps` against an embedded sandbox."""

from __future__ import annotations

from labkit import steps
from labkit.sandbox.embedded import EmbeddedSandbox


def test_default_vpc_is_the_region_default(sandbox: EmbeddedSandbox) -> None:
    """default_vpc names the VPC that describe_vpcs marks IsDefault."""
    ec2 = sandbox.client("ec2")
    vpc = steps.default_vpc(ec2)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["IsDefault"] is True


def test_two_subnets_are_in_two_zones_of_the_vpc(sandbox: EmbeddedSandbox) -> None:
    """two_subnets returns two subnets of the VPC, each in a different availability zone."""
    ec2 = sandbox.client("ec2")
    vpc = steps.default_vpc(ec2)
    subnets = ec2.describe_subnets(SubnetIds=steps.two_subnets(ec2, vpc))["Subnets"]
    assert len(subnets) == 2
    assert {s["VpcId"] for s in subnets} == {vpc}
    assert len({s["AvailabilityZone"] for s in subnets}) == 2


def test_security_group_is_created_once_and_then_reused(sandbox: EmbeddedSandbox) -> None:
    """security_group creates the named group in the VPC, and a second call returns the same id."""
    ec2 = sandbox.client("ec2")
    vpc = steps.default_vpc(ec2)
    first = steps.security_group(ec2, "web-sg", "HTTP in", vpc)
    again = steps.security_group(ec2, "web-sg", "another description", vpc)
    assert first == again
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["web-sg"]}])
    assert [(g["GroupId"], g["VpcId"], g["Description"]) for g in groups["SecurityGroups"]] == [
        (first, vpc, "HTTP in")
    ]


def test_allow_ingress_twice_keeps_one_rule(sandbox: EmbeddedSandbox) -> None:
    """allow_ingress adds a permission, and adding it again neither raises nor duplicates it."""
    ec2 = sandbox.client("ec2")
    group = steps.security_group(ec2, "web-sg", "HTTP in", steps.default_vpc(ec2))
    permission = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    steps.allow_ingress(ec2, group, permission)
    steps.allow_ingress(ec2, group, permission)
    rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert [(r["FromPort"], [i["CidrIp"] for i in r["IpRanges"]]) for r in rules] == [(80, ["0.0.0.0/0"])]


def test_zone_subnets_are_one_a_zone_in_zone_order(sandbox: EmbeddedSandbox) -> None:
    """zone_subnets gives one subnet of the VPC per availability zone, zones in name order."""
    ec2 = sandbox.client("ec2")
    vpc = steps.default_vpc(ec2)
    listed = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    zones = sorted({s["AvailabilityZone"] for s in listed})
    chosen = ec2.describe_subnets(SubnetIds=steps.zone_subnets(ec2, vpc))["Subnets"]
    by_id = {s["SubnetId"]: s["AvailabilityZone"] for s in chosen}
    assert [by_id[i] for i in steps.zone_subnets(ec2, vpc)] == zones


def test_write_parameter_replaces_an_old_value_with_a_new_parameter(sandbox: EmbeddedSandbox) -> None:
    """write_parameter writes a String parameter, and writing it again gives a fresh parameter (version 1) with the new value."""
    ssm = sandbox.client("ssm")
    steps.write_parameter(ssm, "/lab/prediction", "[1, 2]")
    steps.write_parameter(ssm, "/lab/prediction", "[3, 4]")
    parameter = ssm.get_parameter(Name="/lab/prediction")["Parameter"]
    assert (parameter["Value"], parameter["Type"], parameter["Version"]) == ("[3, 4]", "String", 1)
