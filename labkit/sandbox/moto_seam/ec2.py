"""moto.ec2: `resolve:ssm:` image ids resolve at launch; every network interface has a private DNS name.

moto 5.2 stores the reference and launches instances whose ImageId is the reference itself; in a
sandbox account RunInstances (which Auto Scaling groups launch through too) resolves it instead
(`labkit.sandbox.simulator.amis.resolve_image_id`), also when the image id comes from a launch template.

moto gives a network interface a `private_dns_name` only in a VPC with DNS hostnames enabled (not
CreateVpc's default), and its ECS `Task` reads it for every awsvpc task: in a sandbox account every
interface gets AWS's name for its address.

Addresses as AWS gives them: an instance launched without a subnet gets a private IP of the default
subnet its interface is in (moto: a random 10.x); an auto-assigned public IP comes from a documentation
range (`labkit.sandbox.simulator.addresses`), and its association shows IpOwnerId `amazon` and the
public DNS name that matches it.
"""

from __future__ import annotations

import contextlib
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


_INTERFACE = "moto.ec2.models.elastic_network_interfaces.NetworkInterface"


@hook(
    _INTERFACE,
    "check_auto_public_ip",
    ("self",),
    why="moto gives auto-assigned public IPs from 54.214.0.0/16 (Amazon's); a sandbox gives documentation "
    "addresses (RFC 5737) that nothing on the internet answers",
)
def check_auto_public_ip(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.addresses import documentation_public_ip, public_ips_in_use
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any) -> None:
        before = self.public_ip
        original(self)
        sim = simulator_for(self.ec2_backend.account_id)
        if sim is not None and self.public_ip and self.public_ip != before:
            self.public_ip = documentation_public_ip(sim.random, public_ips_in_use(self.ec2_backend))

    return handler


@hook(
    _INTERFACE,
    "association",
    why="AWS shows an Amazon-provided public IP's association with IpOwnerId `amazon` and a public DNS name "
    "`ec2-A-B-C-D.compute-1.amazonaws.com`; moto shows the account id and `ip-A-B-C-D.ec2.internal`",
)
def association(original: Any) -> Any:
    from labkit.sandbox.simulator.addresses import public_dns_name
    from labkit.sandbox.simulator.core import simulator_for

    def read(self: Any) -> dict[str, Any]:
        shown: dict[str, Any] = original.fget(self)
        if not shown or simulator_for(self.ec2_backend.account_id) is None:
            return shown
        if not shown.get("allocationId"):
            shown["ipOwnerId"] = "amazon"  # an Elastic IP is the account's; an auto-assigned one is Amazon's
        with contextlib.suppress(KeyError, ValueError):
            shown["publicDnsName"] = public_dns_name(str(shown["publicIp"]), self.ec2_backend.region_name)
        return shown

    return property(read)


@hook(
    "moto.ec2.models.instances.Instance",
    "prep_nics",
    ("self", "nic_spec"),
    why="an instance launched without a subnet gets moto's EC2-Classic private IP (random 10.x), outside the "
    "default subnet its interface is in; AWS gives an address of that subnet",
)
def prep_nics(original: Callable[..., Any]) -> Callable[..., Any]:
    import ipaddress

    from labkit.dataplane.images import task_hostname
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, nic_spec: Any, *args: Any, **kwargs: Any) -> None:
        original(self, nic_spec, *args, **kwargs)
        if simulator_for(self.ec2_backend.account_id) is None:
            return
        for nic in self.nics.values():
            subnet = getattr(nic, "subnet", None)
            address = nic.private_ip_address
            if subnet is None or not address:
                continue
            if ipaddress.ip_address(address) in ipaddress.ip_network(subnet.cidr_block, strict=False):
                continue
            inside = subnet.get_available_subnet_ip(instance=self)
            nic.private_ip_address = inside
            nic.private_ip_addresses = [
                {**entry, "PrivateIpAddress": inside} if entry.get("PrivateIpAddress") == address else entry
                for entry in nic.private_ip_addresses
            ]
            if getattr(nic, "private_dns_name", None):
                nic.private_dns_name = task_hostname(inside, self.ec2_backend.region_name)
                for entry in nic.private_ip_addresses:
                    if entry.get("Primary"):
                        entry["PrivateDnsName"] = nic.private_dns_name

    return handler


uses("moto.ec2.exceptions", "EC2ClientError", why="EC2's error with AWS's code and message")
uses("moto.iam.exceptions", "NotFoundException", why="IAM's NoSuchEntity, which moto's RunInstances raises")


@hook(
    "moto.ec2.responses.instances",
    "filter_iam_instance_profiles",
    ("account_id", "partition", "iam_instance_profile_arn", "iam_instance_profile_name"),
    why="RunInstances with an instance profile that does not exist is EC2's InvalidParameterValue "
    "(`Value (NAME) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`); "
    "moto answers IAM's NoSuchEntity",
)
def filter_iam_instance_profiles(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(
        account_id: str,
        partition: str,
        iam_instance_profile_arn: str | None,
        iam_instance_profile_name: str | None,
    ) -> Any:
        from moto.ec2.exceptions import EC2ClientError
        from moto.iam.exceptions import NotFoundException

        try:
            return original(account_id, partition, iam_instance_profile_arn, iam_instance_profile_name)
        except NotFoundException:
            if simulator_for(account_id) is None:
                raise
            if iam_instance_profile_arn:
                value, field, what = iam_instance_profile_arn, "arn", "ARN"
            else:
                value, field, what = str(iam_instance_profile_name), "name", "name"
            raise EC2ClientError(
                "InvalidParameterValue",
                f"Value ({value}) for parameter iamInstanceProfile.{field} is invalid. "
                f"Invalid IAM Instance Profile {what}",
            ) from None

    return handler


# -- deletes AWS refuses --------------------------------------------------------------------------
#
# AWS answers DependencyViolation while something still uses the resource; moto deletes a security
# group or a subnet whatever uses it, and a VPC with an internet gateway or security groups.

uses("moto.ec2.exceptions", "DependencyViolationError", ("message",), why="EC2's DependencyViolation")
uses(
    "moto.ec2.models.elastic_network_interfaces.NetworkInterfaceBackend",
    "enis",
    why="interfaces",
    instance=True,
)


def _dependency_violation(message: str) -> Exception:
    from moto.ec2.exceptions import DependencyViolationError

    return DependencyViolationError(message)


def _live_interfaces(ec2_backend: Any) -> list[Any]:
    """The account's network interfaces, but those of terminated instances (gone on AWS)."""
    return [
        eni
        for eni in list(ec2_backend.enis.values())
        if eni.instance is None or getattr(eni.instance, "state", "") != "terminated"
    ]


def _load_balancers(ec2_backend: Any) -> list[Any]:
    from labkit.sandbox.moto_seam.core import backend

    return list(backend("elbv2", ec2_backend.account_id, ec2_backend.region_name).load_balancers.values())


def security_group_users(ec2_backend: Any, group_id: str) -> list[str]:
    """What keeps `group_id` from being deleted: interfaces, load balancers, other groups' rules."""
    users = [eni.id for eni in _live_interfaces(ec2_backend) if group_id in {g.id for g in eni.group_set}]
    users += [lb.name for lb in _load_balancers(ec2_backend) if group_id in (lb.security_groups or [])]
    for groups in list(ec2_backend.groups.values()):
        for group in list(groups.values()):
            if group.id == group_id:
                continue  # a group's rules naming itself go with it
            for rule in [*group.ingress_rules, *group.egress_rules]:
                if (rule.source_group or {}).get("GroupId") == group_id:
                    users.append(group.id)
    return users


def ingress_permissions(ec2_backend: Any, group_id: str) -> list[dict[str, Any]]:
    """The ingress rules of one security group as plain data (none when the group is gone).

    Each rule: `protocol` ("-1", "tcp", ...), `from_port` and `to_port` (None for "-1"), `cidr`
    (an IPv4 range or None) and `group_id` (a source group or None). For the simulator's
    reachability checks (`simulator/reachability.py`).
    """
    rules: list[dict[str, Any]] = []
    for groups in list(ec2_backend.groups.values()):
        group = groups.get(group_id)
        if group is None:
            continue
        for rule in list(group.ingress_rules):
            rules.append(
                {
                    "protocol": str(rule.ip_protocol or "-1"),
                    "from_port": rule.from_port,
                    "to_port": rule.to_port,
                    "cidr": (rule.ip_range or {}).get("CidrIp"),
                    "group_id": (rule.source_group or {}).get("GroupId"),
                }
            )
    return rules


def interface_groups(ec2_backend: Any, eni_id: str) -> list[str] | None:
    """The security group ids of a network interface; None when the interface is gone."""
    eni = ec2_backend.enis.get(eni_id)
    if eni is None:
        return None
    return [g.id for g in eni.group_set]


@hook(
    "moto.ec2.models.security_groups.SecurityGroupBackend",
    "delete_security_group",
    ("self", "name", "group_id"),
    why="AWS refuses to delete a group an interface, a load balancer or another group's rule uses",
)
def delete_security_group(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, name: str | None = None, group_id: str | None = None) -> Any:
        if simulator_for(self.account_id) is not None:
            group = self.get_security_group_by_name_or_id(group_id or name)
            # AWS's words (seen in hashicorp/terraform-provider-aws#1671 and many more).
            if group is not None and security_group_users(self, group.id):
                raise _dependency_violation(f"resource {group.id} has a dependent object")
        return original(self, name=name, group_id=group_id)

    return handler


uses(
    "moto.ec2.models.security_groups.SecurityGroupBackend",
    "get_security_group_by_name_or_id",
    ("self", "group_name_or_id", "vpc_id"),
    why="a security group by name or id",
)


@hook(
    "moto.ec2.models.subnets.SubnetBackend",
    "delete_subnet",
    ("self", "subnet_id"),
    why="AWS refuses to delete a subnet that still has network interfaces (tasks, instances) or load balancers",
)
def delete_subnet(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, subnet_id: str) -> Any:
        if simulator_for(self.account_id) is not None:
            in_use = any(
                getattr(eni.subnet, "id", None) == subnet_id for eni in _live_interfaces(self)
            ) or any(subnet_id in {getattr(s, "id", s) for s in lb.subnets} for lb in _load_balancers(self))
            if in_use:
                raise _dependency_violation(
                    f"The subnet '{subnet_id}' has dependencies and cannot be deleted."
                )
        return original(self, subnet_id)

    return handler


@hook(
    "moto.ec2.models.vpcs.VPCBackend",
    "delete_vpc",
    ("self", "vpc_id"),
    why="AWS refuses to delete a VPC with an internet gateway attached or security groups of its own",
)
def delete_vpc(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, vpc_id: str) -> Any:
        if simulator_for(self.account_id) is not None:
            gateways = [g for g in self.internet_gateways.values() if getattr(g.vpc, "id", None) == vpc_id]
            groups = [g for g in self.groups.get(vpc_id, {}).values() if g.name != "default"]
            if gateways or groups:
                raise _dependency_violation(f"The vpc '{vpc_id}' has dependencies and cannot be deleted.")
        return original(self, vpc_id)

    return handler


# -- errors in AWS's words ------------------------------------------------------------------------

uses("moto.ec2.exceptions", "InvalidSecurityGroupNotFoundError", ("name",), why="InvalidGroup.NotFound")


def _group_not_found(message: str) -> Exception:
    from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

    error = InvalidSecurityGroupNotFoundError("")
    error.message = message
    error.args = (message,)
    return error


@hook(
    "moto.ec2.models.security_groups.SecurityGroupBackend",
    "describe_security_groups",
    ("self", "group_ids", "groupnames", "filters"),
    why="moto names every requested group, as a Python set, when one is missing; AWS names the missing one",
)
def describe_security_groups(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(
        self: Any,
        group_ids: list[str] | None = None,
        groupnames: list[str] | None = None,
        filters: Any = None,
    ) -> Any:
        if simulator_for(self.account_id) is not None:
            groups = [g for groups in list(self.groups.values()) for g in list(groups.values())]
            ids, names = {g.id for g in groups}, {g.name for g in groups}
            for group_id in group_ids or []:
                if group_id not in ids:
                    # AWS's words: "The security group 'sg-...' does not exist".
                    raise _group_not_found(f"The security group '{group_id}' does not exist")
            for name in groupnames or []:
                if name not in names:
                    vpc = getattr(getattr(self, "default_vpc", None), "id", None)
                    where = f" in default VPC '{vpc}'" if vpc else ""
                    raise _group_not_found(f"The security group '{name}' does not exist{where}")
        return original(self, group_ids=group_ids, groupnames=groupnames, filters=filters)

    return handler
