"""The ecs-cluster lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import json

import labkit
from labkit.checkpoints import CheckContext
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    before, after = grade_fresh_and_caught_up("ecs-cluster", sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    ami = sandbox.client("ssm").get_parameter(
        Name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    )["Parameter"]["Value"]
    assert messages["instances-registered"].startswith(f"2 instances of ecs-lab-asg ({ami}) joined ecs-lab")


def test_a_role_that_trusts_ecs_tasks_is_not_the_agents_role(sandbox: EmbeddedSandbox) -> None:
    """A role EC2 cannot assume (a task role's trust policy) fails with the difference explained."""
    iam = sandbox.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="ecs-lab-instance-role", AssumeRolePolicyDocument=json.dumps(trust))
    outcome = load_lab("ecs-cluster").checkpoints.get("agent-role-ready").check(CheckContext(sandbox))
    assert not outcome.passed
    assert "does not let EC2 (ec2.amazonaws.com) assume it" in outcome.message


def test_user_data_without_the_cluster_name_is_named(sandbox: EmbeddedSandbox) -> None:
    """A launch template whose user data does not set ECS_CLUSTER fails, saying the agent joins 'default'."""
    session = labkit.open_lab("ecs-cluster", sandbox=sandbox)
    session.catch_up(to="agent-role-ready")
    sandbox.client("ec2").create_launch_template(
        LaunchTemplateName="ecs-lab-template",
        LaunchTemplateData={
            "ImageId": "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
            "InstanceType": "t3.small",
            "IamInstanceProfile": {"Name": "ecs-lab-instance-profile"},
        },
    )
    outcome = load_lab("ecs-cluster").checkpoints.get("launch-template-ready").check(CheckContext(sandbox))
    assert not outcome.passed
    assert "the agent would join the cluster named 'default'" in outcome.message
