"""The read-only check helpers of `labkit.checkpoints.CheckContext` that scope resources to a session."""

from __future__ import annotations

from typing import Any

from labkit import steps
from labkit.checkpoints import CheckContext, Outcome
from labkit.sandbox.aws import SESSION_TAG
from labkit.sandbox.embedded import EmbeddedSandbox


def _target_group(sandbox: EmbeddedSandbox, tags: list[dict[str, str]]) -> str:
    ec2, elbv2 = sandbox.client("ec2"), sandbox.client("elbv2")
    extra: dict[str, Any] = {"Tags": tags} if tags else {}
    group = elbv2.create_target_group(
        Name=f"tg-{len(tags)}",
        Protocol="HTTP",
        Port=80,
        VpcId=steps.default_vpc(ec2),
        TargetType="ip",
        **extra,
    )["TargetGroups"][0]
    return str(group["TargetGroupArn"])


def test_elb_ours_is_true_without_a_session_tag(sandbox: EmbeddedSandbox) -> None:
    """In an emulated sandbox (no session tag) every load balancer resource counts as the lab's own."""
    arn = _target_group(sandbox, [])
    assert CheckContext(sandbox).elb_ours(arn) is True


def test_elb_ours_follows_the_session_tag(sandbox: EmbeddedSandbox) -> None:
    """With a session tag, only a target group tagged with that session counts as ours."""
    tagged = _target_group(sandbox, [{"Key": SESSION_TAG, "Value": "s-1"}])
    untagged = _target_group(sandbox, [])
    assert CheckContext(sandbox, session_tag="s-1").elb_ours(tagged) is True
    assert CheckContext(sandbox, session_tag="s-2").elb_ours(tagged) is False
    assert CheckContext(sandbox, session_tag="s-1").elb_ours(untagged) is False


def test_parameter_ours_follows_the_session_tag(sandbox: EmbeddedSandbox) -> None:
    """An SSM parameter counts as ours without a session tag, and with one only when tagged with it."""
    ssm = sandbox.client("ssm")
    ssm.put_parameter(
        Name="/lab/tagged", Value="1", Type="String", Tags=[{"Key": SESSION_TAG, "Value": "s-1"}]
    )
    ssm.put_parameter(Name="/lab/plain", Value="1", Type="String")
    assert CheckContext(sandbox).parameter_ours("/lab/plain") is True
    assert CheckContext(sandbox, session_tag="s-1").parameter_ours("/lab/tagged") is True
    assert CheckContext(sandbox, session_tag="s-2").parameter_ours("/lab/tagged") is False
    assert CheckContext(sandbox, session_tag="s-1").parameter_ours("/lab/plain") is False


def test_service_is_the_active_one_of_the_session(sandbox: EmbeddedSandbox) -> None:
    """service returns the ACTIVE service, None for a missing cluster or service, and None for one not of the session."""
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 64}]
    )
    ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=0)
    found = CheckContext(sandbox).service("c", "web")
    assert found is not None
    assert (found["serviceName"], found["status"]) == ("web", "ACTIVE")
    assert CheckContext(sandbox).service("c", "other") is None
    assert CheckContext(sandbox).service("missing", "web") is None
    assert CheckContext(sandbox, session_tag="s-1").service("c", "web") is None
    ecs.delete_service(cluster="c", service="web", force=True)
    assert CheckContext(sandbox).service("c", "web") is None


def test_task_definition_or_the_failure_saying_why_not(sandbox: EmbeddedSandbox) -> None:
    """task_definition returns the registered definition, or a failed outcome naming the missing or foreign family."""
    sandbox.client("ecs").register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 64}]
    )
    found = CheckContext(sandbox).task_definition("web")
    assert isinstance(found, dict)
    assert (found["family"], found["revision"]) == ("web", 1)
    missing = CheckContext(sandbox).task_definition("nope")
    assert isinstance(missing, Outcome)
    assert not missing.passed
    assert missing.message == "There is no task definition of the family nope."
    foreign = CheckContext(sandbox, session_tag="s-1").task_definition("web")
    assert isinstance(foreign, Outcome)
    assert not foreign.passed
    assert foreign.message == "The task definition web was not registered in this lab."


def test_auto_scaling_group_is_the_sessions(sandbox: EmbeddedSandbox) -> None:
    """auto_scaling_group returns the group by name, None when missing, and None when not of the session."""
    ec2 = sandbox.client("ec2")
    subnet = steps.zone_subnets(ec2, steps.default_vpc(ec2))[0]
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="web-lt",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )
    sandbox.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="asg",
        LaunchTemplate={"LaunchTemplateName": "web-lt"},
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=subnet,
        Tags=[{"Key": SESSION_TAG, "Value": "s-1", "PropagateAtLaunch": True}],
    )
    found = CheckContext(sandbox).auto_scaling_group("asg")
    assert found is not None
    assert found["AutoScalingGroupName"] == "asg"
    assert CheckContext(sandbox).auto_scaling_group("other") is None
    assert CheckContext(sandbox, session_tag="s-1").auto_scaling_group("asg") is not None
    assert CheckContext(sandbox, session_tag="s-2").auto_scaling_group("asg") is None
