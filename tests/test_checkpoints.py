"""The read-only check helpers of `labkit.checkpoints.CheckContext` that scope resources to a session."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest

from labkit import steps
from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, settling
from labkit.grading import grade
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


# -- settling: checks wait only for state that is still getting there ---------------------------


@pytest.fixture
def running() -> Iterator[EmbeddedSandbox]:
    """An embedded sandbox on a running clock (600 emulated seconds per wall second)."""
    with EmbeddedSandbox(region="us-east-1", clock="realtime", speed=600) as sb:
        yield sb


def _never_advanced(*_: Any) -> dt.datetime:
    raise AssertionError("a check never moves the clock")


def test_a_settling_outcome_is_a_failure() -> None:
    """`settling` is a failure with a flag: it can never be passed, and an outcome cannot claim both."""
    outcome = settling("2 of 3 targets healthy so far")
    assert outcome.passed is False
    assert outcome.settling is True
    assert failed("no service").settling is False
    with pytest.raises(ValueError, match="both passed and settling"):
        Outcome(True, "forged", settling=True)


def test_a_definitive_failure_is_returned_at_once(running: EmbeddedSandbox) -> None:
    """Nothing there to wait for: `eventually` looks once and answers, however long its bound."""
    looks: list[int] = []

    def look() -> Outcome:
        looks.append(1)
        return failed("There is no service.")

    started = time.monotonic()
    outcome = CheckContext(running, wait_seconds=30).eventually(look)
    assert (outcome.passed, outcome.message, len(looks)) == (False, "There is no service.", 1)
    assert time.monotonic() - started < 5


def test_settling_is_waited_for_until_it_fails_definitively(running: EmbeddedSandbox) -> None:
    """Settling, settling, then a definitive failure: the wait ends at the failure, not at its bound."""
    answers = [settling("starting"), settling("starting"), failed("the task stopped: exit 1")]

    outcome = CheckContext(running, wait_seconds=30).eventually(lambda: answers.pop(0))
    assert (outcome.passed, outcome.settling, outcome.message) == (False, False, "the task stopped: exit 1")
    assert answers == []


def test_a_check_that_keeps_settling_ends_failed_after_its_bound(
    running: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile condition that settles forever still ends, failed, after `wait_seconds`; the clock is never moved."""
    monkeypatch.setattr(running, "advance", _never_advanced)
    looks: list[int] = []

    def forever() -> Outcome:
        looks.append(1)
        return settling("nearly there")

    started = time.monotonic()
    outcome = CheckContext(running, wait_seconds=0.5).eventually(forever)
    elapsed = time.monotonic() - started
    assert outcome.passed is False
    assert len(looks) > 1
    assert elapsed < 10


def test_a_settling_check_is_graded_failed_everywhere(running: EmbeddedSandbox) -> None:
    """Reports, JUnit and points treat a check still settling at its bound as failed, never passed."""
    checkpoints = CheckpointSet("settling-lab")

    @checkpoints.checkpoint("steady", "The service is steady", points=3)
    def steady(ctx: CheckContext) -> Outcome:
        return ctx.eventually(lambda: settling("1 of 3 tasks RUNNING so far"))

    report = grade("settling-lab", checkpoints, running, wait_seconds=0.3)
    result = report.checkpoints[0]
    assert (result.status, result.points, report.score) == ("failed", 0, 0)
    assert "<failure" in report.to_junit_xml()
    assert report.to_dict()["checkpoints"][0]["status"] == "failed"


def test_a_check_on_a_manual_clock_looks_once_even_when_settling(sandbox: EmbeddedSandbox) -> None:
    """On a manual clock nothing settles unless the test moves it: one look, clock untouched."""
    start = sandbox.now()
    looks: list[int] = []

    def look() -> Outcome:
        looks.append(1)
        return settling("starting")

    assert CheckContext(sandbox, wait_seconds=5).eventually(look).passed is False
    assert len(looks) == 1
    assert sandbox.now() == start


def test_recent_compares_with_the_sandbox_clock(sandbox: EmbeddedSandbox) -> None:
    """`recent` measures on the sandbox's clock: a minute ago is recent for 120 s, not for 30 s."""
    ctx = CheckContext(sandbox)
    minute_ago = sandbox.now() - dt.timedelta(seconds=60)
    assert ctx.recent(minute_ago, 120) is True
    assert ctx.recent(minute_ago, 30) is False
    assert ctx.recent(minute_ago.replace(tzinfo=None), 120) is True
    assert ctx.recent(None, 120) is False


def test_counted_says_one_task_and_three_tasks() -> None:
    """Counts in messages agree with their number: "1 task", "0 tasks", "3 tasks"."""
    assert counted(1, "task") == "1 task"
    assert counted(0, "task") == "0 tasks"
    assert counted(3, "target") == "3 targets"
    assert counted(2, "Availability Zone") == "2 Availability Zones"


def test_a_forged_passed_and_settling_outcome_is_graded_failed(sandbox: EmbeddedSandbox) -> None:
    """An outcome forced past the constructor into passed and settling at once still scores nothing."""
    checkpoints = CheckpointSet("forged-lab")

    @checkpoints.checkpoint("forged", "A forged outcome", points=2)
    def forged(ctx: CheckContext) -> Outcome:
        outcome = settling("not yet")
        object.__setattr__(outcome, "passed", True)
        return outcome

    result = grade("forged-lab", checkpoints, sandbox).checkpoints[0]
    assert (result.status, result.points) == ("failed", 0)
