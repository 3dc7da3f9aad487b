"""The blue-green lab: its reference steps pass every checkpoint, an empty sandbox fails them all, and
the shortcuts a learner could take (a rolling update, no look at the test listener, a rollback by hand,
a linear rollout nobody watched, the wrong deployment's ARN) fail with the reason."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit.checkpoints import CheckContext, Outcome
from labkit.grading import run_checkpoint
from labkit.lab import LabSession
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up

LAB = "blue-green"


def _require_service_deployments(sandbox: EmbeddedSandbox) -> None:
    """Skip when the sandbox's emulator does not run ECS's service deployments (ListServiceDeployments)."""
    try:
        sandbox.client("ecs").list_service_deployments(cluster="default", service="none")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NotImplemented":
            pytest.skip(
                "the sandbox's emulator does not run ECS service deployments (ListServiceDeployments)"
            )


def _session(sandbox: EmbeddedSandbox) -> tuple[LabSession, Any, Any]:
    """The lab opened on the sandbox, with its checks and reference modules."""
    _require_service_deployments(sandbox)
    session = labkit.open_lab(LAB, sandbox=sandbox)
    from labkit.labs import load_lab, load_reference

    load_reference(load_lab(LAB))
    from labkit_labs.blue_green import checks, reference  # type: ignore[import-not-found]

    return session, checks, reference


def _check(sandbox: EmbeddedSandbox, session: LabSession, checkpoint: str) -> Outcome:
    """Run one checkpoint as the grader does (a caught-up checkpoint is checked all the same)."""
    result = run_checkpoint(session.lab.checkpoints.get(checkpoint), CheckContext(sandbox))
    assert result.status in ("passed", "failed"), result.message
    return Outcome(result.status == "passed", result.message)


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    _require_service_deployments(sandbox)
    before, after = grade_fresh_and_caught_up(LAB, sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert "before production traffic shifted" in messages["blue-green-verified"]
    assert "rolled v3 back to v2" in messages["canary-rolled-back-by-alarm"]
    # v4's share grows minute by minute: the check measured v4's target group, not v2's.
    shares = [int(share) for share in re.findall(r"(\d+)%", messages["linear-watched"].split("(")[0])]
    assert len(shares) >= 3
    assert shares == sorted(shares), messages["linear-watched"]
    assert shares[0] < 50 < shares[-1]


def test_a_rolling_update_to_v2_is_not_a_blue_green_deployment(sandbox: EmbeddedSandbox) -> None:
    """Rolling the service to v2 (ECS refuses ROLLING with advancedConfiguration, so the shortcut drops
    it) fails the blue/green checkpoint, naming ROLLING."""
    session, checks, reference = _session(sandbox)
    session.catch_up(to="service-ready-for-blue-green")
    ecs = sandbox.client("ecs")
    service = ecs.describe_services(cluster=checks.CLUSTER, services=[checks.SERVICE])["services"][0]
    plain = {
        key: service["loadBalancers"][0][key] for key in ("targetGroupArn", "containerName", "containerPort")
    }
    v2 = ecs.register_task_definition(**reference.task_definition("v2"))["taskDefinition"][
        "taskDefinitionArn"
    ]
    ecs.update_service(
        cluster=checks.CLUSTER,
        service=checks.SERVICE,
        taskDefinition=v2,
        loadBalancers=[plain],
        deploymentConfiguration={"strategy": "ROLLING", "minimumHealthyPercent": 100, "maximumPercent": 200},
    )
    sandbox.wait_until(lambda: reference._settled(sandbox), "the rolling update", limit=3600, step=5)
    outcome = _check(sandbox, session, "blue-green-verified")
    assert not outcome.passed
    assert "ROLLING deployment, not BLUE_GREEN" in outcome.message


def test_a_blue_green_deployment_nobody_tested_on_the_test_listener_fails(sandbox: EmbeddedSandbox) -> None:
    """Blue/green without a look at the test listener (only production asked, after the shift) fails."""
    session, _, reference = _session(sandbox)
    session.catch_up(to="service-ready-for-blue-green")
    deployment = reference._deploy(sandbox, "v2", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2})

    def ended() -> bool:
        reference.ask(reference._url(sandbox, reference.PRODUCTION_PORT), 3)
        return bool(reference._describe(sandbox, deployment)["status"] in reference.ENDED)

    sandbox.wait_until(ended, "the blue/green deployment", limit=3600, step=20)
    outcome = _check(sandbox, session, "blue-green-verified")
    assert not outcome.passed
    assert "Green served no request before production traffic shifted" in outcome.message


def test_a_canary_rolled_back_by_hand_with_an_alarm_that_never_fired_fails(sandbox: EmbeddedSandbox) -> None:
    """A canary stopped with StopServiceDeployment(ROLLBACK), its alarm never in ALARM, is not rolled back by the alarm."""
    session, _, reference = _session(sandbox)
    session.catch_up(to="blue-green-verified")
    reference.create_canary_alarm(sandbox)
    deployment = reference._deploy(
        sandbox,
        "v3",
        {
            "strategy": "CANARY",
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
            "bakeTimeInMinutes": 1,
            "alarms": {"alarmNames": [reference.ALARM], "enable": True, "rollback": True},
        },
    )
    sandbox.wait_until(
        lambda: (
            reference._describe(sandbox, deployment).get("lifecycleStage")
            not in (None, "PRE_SCALE_UP", "SCALE_UP")
        ),
        "the canary taking traffic",
        limit=3600,
        step=5,
    )
    sandbox.client("ecs").stop_service_deployment(serviceDeploymentArn=deployment, stopType="ROLLBACK")
    sandbox.wait_until(
        lambda: (
            reference._describe(sandbox, deployment)["status"] in reference.ENDED
            and reference._settled(sandbox)
        ),
        "the rollback",
        limit=3600,
        step=5,
    )
    outcome = _check(sandbox, session, "canary-rolled-back-by-alarm")
    assert not outcome.passed
    assert "not by its alarm" in outcome.message or "went all the way" in outcome.message


def test_a_linear_rollout_nobody_watched_fails(sandbox: EmbeddedSandbox) -> None:
    """A LINEAR deployment to v4 that no request went through while traffic was split fails the watch checkpoint."""
    session, _, reference = _session(sandbox)
    session.catch_up(to="canary-rolled-back-by-alarm")
    deployment = reference._deploy(
        sandbox,
        "v4",
        {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
            "bakeTimeInMinutes": 1,
        },
    )
    sandbox.wait_until(
        lambda: reference._describe(sandbox, deployment)["status"] in reference.ENDED,
        "the linear deployment",
        limit=3600,
        step=10,
    )
    outcome = _check(sandbox, session, "linear-watched")
    assert not outcome.passed
    assert "0 minutes" in outcome.message


def test_the_arn_of_another_deployment_is_not_the_rolled_back_one(sandbox: EmbeddedSandbox) -> None:
    """Saving the ARN of the blue/green deployment (a real one, not rolled back) fails, naming why."""
    session, checks, _ = _session(sandbox)
    session.catch_up(to="linear-watched")
    ecs = sandbox.client("ecs")
    listed = ecs.list_service_deployments(cluster=checks.CLUSTER, service=checks.SERVICE)[
        "serviceDeployments"
    ]
    successful = [d["serviceDeploymentArn"] for d in listed if d["status"] == "SUCCESSFUL"]
    from labkit.steps import write_parameter

    write_parameter(sandbox.client("ssm"), checks.ROLLED_BACK_PARAMETER, successful[0])
    outcome = _check(sandbox, session, "deployments-read-back")
    assert not outcome.passed
    assert "not the one the alarm rolled back" in outcome.message
