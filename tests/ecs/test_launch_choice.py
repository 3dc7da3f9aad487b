"""Launch types and capacity provider strategies: what RunTask and CreateService refuse, and how tasks are shared.

Sources: the RunTask and CreateService API references ("If a capacityProviderStrategy is specified,
the launchType parameter must be omitted"), CapacityProviderStrategyItem (base, weight, only providers
associated with the cluster), and the developer guide's "Capacity provider strategies".
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.ecs.validation import (
    INVALID_PARAMETER_EXCEPTION,
    EcsValidationError,
    assign_capacity_providers,
    check_launch_choice,
    validate_run_task,
)

FARGATE_DEFINITION = {
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
}


def _refused(call: Any) -> str:
    with pytest.raises(EcsValidationError) as caught:
        call()
    assert caught.value.code == INVALID_PARAMETER_EXCEPTION
    return str(caught.value.message)


def test_a_launch_type_with_a_strategy_is_refused_with_aws_message() -> None:
    """tflint-ruleset-aws#349 and pulumi-awsx#599 quote AWS's InvalidParameterException."""
    message = _refused(
        lambda: check_launch_choice(
            {
                "launchType": "FARGATE",
                "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
            },
            ["FARGATE"],
        )
    )
    assert message == (
        "Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again."
    )


@pytest.mark.parametrize("launch_type", ["BOGUS", "fargate", "", "EC2 "])
def test_a_launch_type_outside_botocores_enum_is_refused(launch_type: str) -> None:
    """botocore does not check enums client-side, so the service must (LaunchType: EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES)."""
    assert "launchType" in _refused(lambda: check_launch_choice({"launchType": launch_type}))


def test_a_provider_not_associated_with_the_cluster_is_refused() -> None:
    """Only providers associated with the cluster can be used, FARGATE included (CapacityProviderStrategyItem)."""
    _refused(
        lambda: check_launch_choice(
            {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}, ["FARGATE"]
        )
    )
    check_launch_choice(
        {"capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]}, ["FARGATE_SPOT"]
    )


@pytest.mark.parametrize(
    "strategy",
    [
        [
            {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
            {"capacityProvider": "FARGATE_SPOT", "base": 1, "weight": 1},
        ],
        [{"capacityProvider": "FARGATE", "weight": 0}],
        [{"capacityProvider": "FARGATE", "weight": 1001}],
        [{"capacityProvider": "FARGATE", "weight": 1}, {"capacityProvider": "asg", "weight": 1}],
    ],
    ids=["two bases", "all weights zero", "weight over 1000", "Fargate mixed with an ASG provider"],
)
def test_strategies_aws_refuses(strategy: list[dict[str, Any]]) -> None:
    """One base at most, a weight above zero somewhere, weights 0..1000, no Fargate and ASG mix."""
    _refused(
        lambda: check_launch_choice(
            {"capacityProviderStrategy": strategy}, ["FARGATE", "FARGATE_SPOT", "asg"]
        )
    )


def test_run_task_on_fargate_without_network_configuration_is_refused() -> None:
    """An awsvpc task needs a network configuration (the RunTask answer quoted in PasseiDireto/gh-runner-task-action#8)."""
    message = _refused(lambda: validate_run_task({}, FARGATE_DEFINITION, "FARGATE"))
    assert message == "Network Configuration must be provided when networkMode 'awsvpc' is specified."


def test_run_task_on_fargate_with_a_definition_without_task_cpu_is_refused() -> None:
    """No task-level cpu and memory: not a Fargate task definition (never a crash on the missing value)."""
    definition = {"networkMode": "awsvpc", "cpu": None, "memory": None}
    assert _refused(lambda: validate_run_task({}, definition, "FARGATE")) == (
        "Task definition does not support launch_type FARGATE."
    )


def test_the_base_is_filled_first_then_weights_share_the_rest() -> None:
    """The developer guide's example: base 1 on FARGATE, weights 1:3 share the rest."""
    strategy = [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
    ]
    chosen = assign_capacity_providers(strategy, 5)
    assert chosen[0] == "FARGATE"
    assert (chosen.count("FARGATE"), chosen.count("FARGATE_SPOT")) == (2, 3)


def test_tasks_already_running_count_toward_the_split() -> None:
    """A service scaling out adds tasks where the strategy is short, not from scratch."""
    strategy = [
        {"capacityProvider": "FARGATE", "weight": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    ]
    assert assign_capacity_providers(strategy, 2, {"FARGATE": 2}) == ["FARGATE_SPOT", "FARGATE_SPOT"]


_items = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=4).filter(
    lambda items: sum(1 for base, _ in items if base) <= 1 and any(w for _, w in items)
)


@given(items=_items, count=st.integers(0, 40))
def test_assignment_respects_base_and_weights(items: list[tuple[int, int]], count: int) -> None:
    """Every task gets a provider; the base provider gets min(count, base) first; weight-0 providers get no more than their base."""
    strategy = [
        {"capacityProvider": f"p{i}", "base": base, "weight": weight}
        for i, (base, weight) in enumerate(items)
    ]
    chosen = assign_capacity_providers(strategy, count)
    assert len(chosen) == count
    for i, (base, weight) in enumerate(items):
        if base:
            assert chosen[: min(base, count)] == [f"p{i}"] * min(base, count)
        if weight == 0:
            assert chosen.count(f"p{i}") <= base
    beyond = {f"p{i}": max(0, chosen.count(f"p{i}") - base) for i, (base, _) in enumerate(items)}
    weights = {f"p{i}": weight for i, (_, weight) in enumerate(items)}
    total_weight = sum(weights.values())
    extra = sum(beyond.values())
    for name, weight in weights.items():
        # Proportional to the weights, within one task.
        assert abs(beyond[name] - extra * weight / total_weight) <= 1 + 1e-9
