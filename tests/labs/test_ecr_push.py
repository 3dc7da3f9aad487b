"""The ecr-push lab: its reference passes on a fresh sandbox, and common mistakes fail with a message."""

from __future__ import annotations

import json

import labkit
from labkit.labs import load_reference
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def test_reference_passes_and_empty_sandbox_fails(sandbox: EmbeddedSandbox) -> None:
    """Every checkpoint fails on an empty account and passes after catching up (which pushes a real image)."""
    before, after = grade_fresh_and_caught_up("ecr-push", sandbox)
    assert before.count("failed") == len(before.checkpoints) >= 4
    assert after.score == after.possible, after.summary()


def test_a_policy_that_lets_the_other_account_push_fails(sandbox: EmbeddedSandbox) -> None:
    """`ecr:*` for the other account is more than pulling: the checkpoint says so."""
    session = labkit.open_lab("ecr-push", sandbox=sandbox)
    session.catch_up(to="repository-created")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "ecr:*"}
        ],
    }
    sandbox.client("ecr").set_repository_policy(repositoryName="labkit-web", policyText=json.dumps(policy))
    result = session.check("pull-policy", display=False)
    assert result.status == "failed"
    assert "push too" in result.message


def test_without_a_preview_the_lifecycle_checkpoint_says_so(sandbox: EmbeddedSandbox) -> None:
    """A lifecycle policy put without previewing it fails and asks for the preview."""
    session = labkit.open_lab("ecr-push", sandbox=sandbox)
    session.catch_up(to="repository-created")
    steps = load_reference(session.lab).get("lifecycle-policy")
    assert steps is not None
    text = json.dumps(steps.__globals__["LIFECYCLE_POLICY"])
    sandbox.client("ecr").put_lifecycle_policy(repositoryName="labkit-web", lifecyclePolicyText=text)
    result = session.check("lifecycle-policy", display=False)
    assert result.status == "failed"
    assert "preview" in result.message
