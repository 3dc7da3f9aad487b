"""The nginx-alb lab: reference steps pass every checkpoint; the health check must be set on purpose."""

from __future__ import annotations

import labkit
from labkit.checkpoints import CheckContext
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up, three servers answering."""
    before, after = grade_fresh_and_caught_up("nginx-alb", sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert messages["health-check-configured"].startswith("nginx-tg checks HTTP / every 10 s")
    assert messages["three-servers-answer"].startswith("Six requests reached three tasks")


def test_a_default_health_check_or_a_wide_matcher_fails(sandbox: EmbeddedSandbox) -> None:
    """The target group's defaults (30 s, 5 passes) fail; 10 s with a 200-399 matcher fails on the matcher."""
    session = labkit.open_lab("nginx-alb", sandbox=sandbox)
    session.catch_up(to="load-balancer-ready")
    check = load_lab("nginx-alb").checkpoints.get("health-check-configured").check
    default = check(CheckContext(sandbox))
    assert not default.passed
    assert "checks every 30 seconds" in default.message
    elbv2 = sandbox.client("elbv2")
    tg = elbv2.describe_target_groups(Names=["nginx-tg"])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group(
        TargetGroupArn=tg,
        HealthCheckIntervalSeconds=10,
        HealthyThresholdCount=2,
        Matcher={"HttpCode": "200-399"},
    )
    wide = check(CheckContext(sandbox))
    assert not wide.passed
    assert "accept exactly '200'" in wide.message
