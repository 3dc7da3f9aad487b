"""Instance targets of plain EC2 instances (no ECS agent): healthy while running, as AWS shows a serving instance."""

from __future__ import annotations

from typing import Any

from labkit.sandbox.embedded import EmbeddedSandbox


def _group(sandbox: EmbeddedSandbox, *, checked: bool = False) -> tuple[Any, Any, str, str]:
    """A target group with one plain instance registered (and, `checked`, health-checked for a minute)."""
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = elb.create_target_group(
        Name="plain", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance",
        HealthCheckIntervalSeconds=10, HealthyThresholdCount=2, UnhealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    instance = ec2.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=1, MaxCount=1)
    instance_id = instance["Instances"][0]["InstanceId"]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance_id, "Port": 80}])
    if checked:
        sandbox.advance(60)
    return ec2, elb, group, instance_id


def _health(elb: Any, group: str) -> dict[str, Any]:
    described: dict[str, Any] = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"][
        0
    ]
    return described["TargetHealth"]


def test_a_running_plain_instance_turns_healthy(sandbox: EmbeddedSandbox) -> None:
    """initial at registration, healthy after the healthy threshold's checks (it stayed unhealthy forever)."""
    _, elb, group, _ = _group(sandbox)
    assert _health(elb, group)["State"] == "initial"
    sandbox.advance(60)
    assert _health(elb, group) == {"State": "healthy"}


def test_a_stopped_instance_is_unused_invalid_state(sandbox: EmbeddedSandbox) -> None:
    """A stopped instance is `unused` with AWS's Target.InvalidState, and healthy again once it runs."""
    ec2, elb, group, instance = _group(sandbox, checked=True)
    ec2.stop_instances(InstanceIds=[instance])
    sandbox.advance(60)
    assert _health(elb, group) == {
        "State": "unused",
        "Reason": "Target.InvalidState",
        "Description": "Target is in the stopped state",
    }
    ec2.start_instances(InstanceIds=[instance])
    sandbox.advance(60)
    assert _health(elb, group) == {"State": "healthy"}


def test_a_terminated_instance_leaves_the_list_and_drains(sandbox: EmbeddedSandbox) -> None:
    """AWS deregisters a terminated instance: not listed any more, draining when asked for by id."""
    ec2, elb, group, instance = _group(sandbox, checked=True)
    ec2.terminate_instances(InstanceIds=[instance])
    assert elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"] == []
    asked = elb.describe_target_health(TargetGroupArn=group, Targets=[{"Id": instance, "Port": 80}])
    assert asked["TargetHealthDescriptions"][0]["TargetHealth"] == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }
