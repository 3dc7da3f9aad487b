"""The iam-for-ecs lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import labkit
from labkit.grading import grade
from labkit.sandbox.embedded import EmbeddedSandbox


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    session = labkit.open_lab("iam-for-ecs", sandbox=sandbox)
    before = grade("iam-for-ecs", session.lab.checkpoints, sandbox)
    assert before.count("failed") == len(session.lab.checkpoints), before.summary()
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade("iam-for-ecs", session.lab.checkpoints, sandbox)
    assert after.score == after.possible, after.summary()
    proof = {result.id: result.message for result in after.checkpoints}["least-privilege-proved"]
    assert "DynamoDB AccessDeniedException" in proof
    assert "S3 AccessDenied" in proof


def test_a_task_role_that_may_do_both_jobs_fails_the_role_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """Giving the S3 service's role DynamoDB too is a failed checkpoint that names the problem."""
    import json

    session = labkit.open_lab("iam-for-ecs", sandbox=sandbox)
    session.catch_up(to="one-task-role-per-service")
    sandbox.client("iam").put_role_policy(
        RoleName="iam-lab-s3-role",
        PolicyName="too-much",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
            }
        ),
    )
    result = session.check("one-task-role-per-service", display=False)
    assert not result.passed
    assert "iam-lab-s3-role may also write to iam-lab-orders" in result.message
