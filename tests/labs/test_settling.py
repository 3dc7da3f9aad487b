"""Checks tell settling state (worth a bounded wait) from definitive failures (answered at once)."""

from __future__ import annotations

import pytest

import labkit
from labkit.checkpoints import CheckContext
from labkit.labs import list_labs, load_lab
from labkit.sandbox.embedded import EmbeddedSandbox


@pytest.mark.parametrize("lab_id", [lab.id for lab in list_labs()])
def test_nothing_built_is_a_definitive_failure_in_every_lab(lab_id: str, sandbox: EmbeddedSandbox) -> None:
    """On an empty sandbox no checkpoint of any lab says settling, so `labkit check` never waits there."""
    context = CheckContext(sandbox)
    for checkpoint in load_lab(lab_id).checkpoints:
        outcome = checkpoint.check(context)
        assert not outcome.passed, (checkpoint.id, outcome.message)
        assert not outcome.settling, (checkpoint.id, outcome.message)


def test_a_scaling_service_settles_and_a_wrong_count_fails_at_once(sandbox: EmbeddedSandbox) -> None:
    """nginx-alb: tasks still starting are settling; a desiredCount that is not the step's is definitive."""
    session = labkit.open_lab("nginx-alb", sandbox=sandbox)
    session.catch_up(to="service-running")
    checks = load_lab("nginx-alb").checkpoints
    ecs = sandbox.client("ecs")

    ecs.update_service(cluster="nginx-lab", service="nginx-demo-hello", desiredCount=3)
    scaling = checks.get("service-scaled").check(CheckContext(sandbox))
    assert (scaling.passed, scaling.settling) == (False, True), scaling.message
    assert "of 3 tasks RUNNING so far" in scaling.message

    ecs.update_service(cluster="nginx-lab", service="nginx-demo-hello", desiredCount=1)
    wrong = checks.get("service-scaled").check(CheckContext(sandbox))
    assert (wrong.passed, wrong.settling) == (False, False), wrong.message
    assert wrong.message == "nginx-demo-hello wants 1 task; this step needs 3."


def test_an_instance_whose_agent_never_came_fails_once_it_is_old(sandbox: EmbeddedSandbox) -> None:
    """ecs-cluster: a young instance not yet registered settles; past the agent's grace it is definitive."""
    from labkit.checkpoints import AGENT_GRACE

    ec2 = sandbox.client("ec2")
    image = sandbox.client("ssm").get_parameter(
        Name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    )["Parameter"]["Value"]
    # No user data naming a cluster: no agent ever registers this instance.
    instance = ec2.run_instances(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1)["Instances"][
        0
    ]
    context = CheckContext(sandbox)
    assert context.agent_may_register([instance["InstanceId"]]) is True
    sandbox.advance(AGENT_GRACE + 1)
    assert context.agent_may_register([instance["InstanceId"]]) is False
    assert context.agent_may_register([]) is False
