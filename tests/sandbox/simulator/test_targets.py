"""A target group holds one target per instance and port, as on AWS (moto keeps one per instance)."""

from __future__ import annotations

from labkit.sandbox.embedded import EmbeddedSandbox


def _group(sandbox: EmbeddedSandbox) -> tuple[str, str]:
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    tg = elb.create_target_group(Name="ports", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")
    return tg["TargetGroups"][0]["TargetGroupArn"], instance


def test_one_instance_on_two_ports_is_two_targets(sandbox: EmbeddedSandbox) -> None:
    """Registering an instance on 49153 and 49154 lists both; deregistering one port keeps the other."""
    elb = sandbox.client("elbv2")
    tg, instance = _group(sandbox)
    elb.register_targets(
        TargetGroupArn=tg, Targets=[{"Id": instance, "Port": 49153}, {"Id": instance, "Port": 49154}]
    )
    listed = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert sorted(int(t["Target"]["Port"]) for t in listed) == [49153, 49154]
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": instance, "Port": 49153}])
    sandbox.advance(400)  # past the deregistration delay
    listed = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    assert [int(t["Target"]["Port"]) for t in listed] == [49154]


def test_deregistering_without_a_port_removes_every_port_of_the_instance(sandbox: EmbeddedSandbox) -> None:
    """A deregistration that names only the instance id drains all of its ports."""
    elb = sandbox.client("elbv2")
    tg, instance = _group(sandbox)
    elb.register_targets(
        TargetGroupArn=tg, Targets=[{"Id": instance, "Port": 49153}, {"Id": instance, "Port": 49154}]
    )
    elb.deregister_targets(TargetGroupArn=tg, Targets=[{"Id": instance}])
    states = {
        h["TargetHealth"]["State"]
        for h in elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    }
    assert states == {"draining"}
    sandbox.advance(400)
    assert elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"] == []
