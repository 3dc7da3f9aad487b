"""The event-driven lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import json

import pytest

import labkit
from labkit.checkpoints import CheckContext
from labkit.grading import grade, run_checkpoint
from labkit.labs import load_lab, load_reference
from labkit.sandbox.embedded import EmbeddedSandbox


def make_roles(sandbox: EmbeddedSandbox) -> None:
    """The lab's reference steps for its first checkpoint: the cluster and the four roles."""
    solution = load_reference(load_lab("event-driven")).get("roles-least-privilege")
    assert solution is not None
    solution(sandbox)


def test_an_empty_sandbox_fails_every_event_driven_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """With nothing built, each of the lab's checkpoints fails (none errors, none passes)."""
    session = labkit.open_lab("event-driven", sandbox=sandbox)
    report = grade("event-driven", session.lab.checkpoints, sandbox)
    assert report.count("failed") == len(session.lab.checkpoints) >= 4, report.summary()


def test_the_reference_steps_pass_every_event_driven_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """Catching up builds the four architectures and each is proved by what it made; untagged, none counts for a real-account session."""
    session = labkit.open_lab("event-driven", sandbox=sandbox)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    report = grade("event-driven", session.lab.checkpoints, sandbox)
    assert report.score == report.possible, report.summary()
    # In a real account only what carries this session's tag counts: none of it was tagged here.
    elsewhere = CheckContext(sandbox, session_tag="lk-someone-else")
    for checkpoint in session.lab.checkpoints:
        result = run_checkpoint(checkpoint, elsewhere)
        assert result.status == "failed", (checkpoint.id, result.message)
        assert "made in this lab" in result.message
    [mail] = sandbox.outbox(endpoint="admin@example.com")
    assert "exit code 3" in mail["message"]
    assert "event-lab-nightly" in mail["message"]


def _check(sandbox: EmbeddedSandbox, checkpoint: str) -> tuple[str, str]:
    session = labkit.open_lab("event-driven", sandbox=sandbox)
    result = run_checkpoint(session.lab.checkpoints.get(checkpoint), CheckContext(sandbox))
    return result.status, result.message


def test_a_wildcard_in_a_task_role_fails_least_privilege(sandbox: EmbeddedSandbox) -> None:
    """The reference roles pass; one task role widened to s3:* on every resource fails, naming the action."""
    make_roles(sandbox)
    assert _check(sandbox, "roles-least-privilege")[0] == "passed"
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    sandbox.client("iam").put_role_policy(
        RoleName="event-lab-summary-task",
        PolicyName="event-lab-summary-task-policy",
        PolicyDocument=json.dumps(wide),
    )
    status, message = _check(sandbox, "roles-least-privilege")
    assert status == "failed"
    assert "'s3:*'" in message


def test_an_upload_rule_on_a_bucket_without_eventbridge_fails_saying_so(sandbox: EmbeddedSandbox) -> None:
    """A bucket that never turned EventBridge on cannot start a task: the check says so first."""
    make_roles(sandbox)
    sandbox.client("s3").create_bucket(Bucket=f"event-lab-uploads-{sandbox.account_id}-{sandbox.region}")
    status, message = _check(sandbox, "upload-recorded")
    assert status == "failed"
    assert "does not send its events to EventBridge" in message


def test_workers_without_a_queue_depth_alarm_fail(sandbox: EmbeddedSandbox) -> None:
    """A scalable target and step policy that no alarm on the queue's depth calls do not pass."""
    make_roles(sandbox)
    sandbox.client("sqs").create_queue(QueueName="event-lab-jobs")
    status, message = _check(sandbox, "queue-drained-by-scaled-workers")
    assert (status, message) == ("failed", "service/event-lab/event-lab-workers has no StepScaling policy.")


def test_a_task_role_without_put_item_fails_with_the_tasks_exit_code(sandbox: EmbeddedSandbox) -> None:
    """The upload's task, denied dynamodb:PutItem, exits 1: the check says so instead of only 'wait'."""
    make_roles(sandbox)
    read_only = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/incoming/*"}],
    }
    sandbox.client("iam").put_role_policy(
        RoleName="event-lab-ingest-task",
        PolicyName="event-lab-ingest-task-policy",
        PolicyDocument=json.dumps(read_only),
    )
    pipeline = load_reference(load_lab("event-driven")).get("upload-recorded")
    assert pipeline is not None
    with pytest.raises(TimeoutError):
        pipeline(sandbox)
    status, message = _check(sandbox, "upload-recorded")
    assert status == "failed"
    assert "the last event-lab-ingest task stopped with exit code 1" in message
