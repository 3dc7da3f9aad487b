"""The troubleshooting lab: reference steps pass every checkpoint, an empty sandbox fails them, and the
shortcuts a hostile learner would try do not score."""

from __future__ import annotations

from typing import Any

import pytest

import labkit
from labkit.grading import grade
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def _scenario() -> Any:
    load_lab("troubleshooting")
    from labkit_labs.troubleshooting import scenario  # type: ignore[import-not-found]

    return scenario


def _statuses(sandbox: EmbeddedSandbox) -> dict[str, str]:
    session = labkit.open_lab("troubleshooting", sandbox=sandbox)
    report = grade("troubleshooting", session.lab.checkpoints, sandbox)
    return {result.id: result.status for result in report.checkpoints}


def _answer(sandbox: EmbeddedSandbox, service: str, value: str) -> None:
    scenario = _scenario()
    sandbox.client("ssm").put_parameter(
        Name=scenario.ANSWERS + service, Value=value, Type="String", Overwrite=True
    )


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    before, after = grade_fresh_and_caught_up("troubleshooting", sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert len(before.checkpoints) == 12
    assert after.score == after.possible, after.summary()


def test_each_account_gets_the_six_faults_in_its_own_order() -> None:
    scenario = _scenario()
    first, second = scenario.assignment("111111111111"), scenario.assignment("222222222222")
    assert sorted(first.values()) == sorted(scenario.INJECTED)
    assert len(scenario.INJECTED) >= 6
    assert set(scenario.INJECTED) <= set(scenario.CAUSES)
    assert first != second


@pytest.fixture
def broken(sandbox: EmbeddedSandbox) -> dict[str, str]:
    """The six services built and round 1 broken; returns the account's assignment."""
    scenario = _scenario()
    scenario.build(sandbox)
    scenario.break_round(sandbox, 1)
    return dict(scenario.assignment(sandbox.account_id))


def test_the_broken_services_fail_their_fix_checkpoints_until_fixed(
    sandbox: EmbeddedSandbox, broken: dict[str, str]
) -> None:
    for service in ("web-1", "web-2", "web-3"):
        _answer(sandbox, service, broken[service])
    sandbox.advance(120)
    statuses = _statuses(sandbox)
    for service in ("web-1", "web-2", "web-3"):
        assert statuses[f"named-{service}"] == "passed"
        # Naming without fixing gives only the naming point.
        assert statuses[f"fixed-{service}"] == "failed", service


def test_naming_every_cause_at_once_or_a_wrong_one_does_not_pass(
    sandbox: EmbeddedSandbox, broken: dict[str, str]
) -> None:
    scenario = _scenario()
    _answer(sandbox, "web-1", ", ".join(scenario.CAUSES))
    _answer(sandbox, "web-2", str(list(scenario.CAUSES)).replace("'", '"'))
    wrong = next(c for c in scenario.CAUSES if c != broken["web-3"])
    _answer(sandbox, "web-3", wrong)
    _answer(sandbox, "web-4", "  " + broken["web-4"].upper() + " ")  # case and blanks do not matter
    statuses = _statuses(sandbox)
    assert statuses["named-web-1"] == "failed"
    assert statuses["named-web-2"] == "failed"
    assert statuses["named-web-3"] == "failed"
    assert statuses["named-web-4"] == "passed"


def test_a_fix_without_the_right_cause_named_does_not_count(
    sandbox: EmbeddedSandbox, broken: dict[str, str]
) -> None:
    session = labkit.open_lab("troubleshooting", sandbox=sandbox)
    from labkit_labs.troubleshooting.reference import fix  # type: ignore[import-not-found]

    fix(sandbox, "web-1", broken["web-1"])
    report = grade("troubleshooting", session.lab.checkpoints, sandbox)
    result = next(r for r in report.checkpoints if r.id == "fixed-web-1")
    assert result.status == "failed"
    assert "counts once its cause is named" in result.message
    _answer(sandbox, "web-1", broken["web-1"])
    assert _statuses(sandbox)["fixed-web-1"] == "passed"


def test_a_new_healthy_service_under_another_name_does_not_pass(
    sandbox: EmbeddedSandbox, broken: dict[str, str]
) -> None:
    """Deleting web-1 and serving its target group from web-1-new scores nothing for web-1."""
    scenario = _scenario()
    ecs, elbv2 = sandbox.client("ecs"), sandbox.client("elbv2")
    _answer(sandbox, "web-1", broken["web-1"])
    old = ecs.describe_services(cluster=scenario.CLUSTER, services=["web-1"])["services"][0]
    ecs.delete_service(cluster=scenario.CLUSTER, service="web-1", force=True)
    tg = elbv2.describe_target_groups(Names=["trouble-web-1"])["TargetGroups"][0]["TargetGroupArn"]
    if broken["web-1"] == "health-check-path":
        elbv2.modify_target_group(TargetGroupArn=tg, HealthCheckPath="/")
    if broken["web-1"] == "health-check-port":
        elbv2.modify_target_group(TargetGroupArn=tg, HealthCheckPort="traffic-port")
    network = old["networkConfiguration"]
    if broken["web-1"] == "security-group":
        network = {"awsvpcConfiguration": {**network["awsvpcConfiguration"], "securityGroups": []}}
    ecs.create_service(
        cluster=scenario.CLUSTER, serviceName="web-1-new", taskDefinition="trouble-web-1:1", desiredCount=1,
        launchType="FARGATE", networkConfiguration=network,
        loadBalancers=[{"targetGroupArn": tg, "containerName": "web", "containerPort": 80}],
    )  # fmt: skip
    sandbox.advance(300)
    statuses = _statuses(sandbox)
    assert statuses["fixed-web-1"] == "failed"


def test_trying_the_causes_one_by_one_does_not_pass(sandbox: EmbeddedSandbox, broken: dict[str, str]) -> None:
    """The answer's history counts: a third different cause, even the right one, no longer scores."""
    scenario = _scenario()
    wrong = [c for c in scenario.CAUSES if c != broken["web-1"]]
    _answer(sandbox, "web-1", wrong[0])
    _answer(sandbox, "web-1", broken["web-1"])
    assert _statuses(sandbox)["named-web-1"] == "passed"  # a second try is allowed
    wrong = [c for c in scenario.CAUSES if c != broken["web-2"]]
    _answer(sandbox, "web-2", wrong[0])
    _answer(sandbox, "web-2", wrong[1])
    _answer(sandbox, "web-2", broken["web-2"])
    assert _statuses(sandbox)["named-web-2"] == "failed"
