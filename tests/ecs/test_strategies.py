"""Deployment strategies: validation as ECS does it, the stage plans, weights, circuit breaker thresholds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labkit.ecs.strategies import (
    HOOK_STAGES,
    LIFECYCLE_STAGES,
    StrategyConfig,
    StrategyError,
    circuit_breaker_threshold,
    listener_weights,
    parse_deployment_configuration,
    plan_deployment,
    production_steps,
)

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:check"


def test_stage_names_follow_the_model() -> None:
    """The stages and hook stages are the model's enums, in the model's order."""
    assert LIFECYCLE_STAGES[0] == "RECONCILE_SERVICE"
    assert LIFECYCLE_STAGES[-3:] == ("POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP")
    assert "PRE_PRODUCTION_TRAFFIC_SHIFT" in HOOK_STAGES
    assert "PRE_PRODUCTION_TRAFFIC_SHIFT" not in LIFECYCLE_STAGES
    assert not {"SCALE_UP", "BAKE_TIME", "CLEAN_UP"} & set(HOOK_STAGES)


class TestParse:
    def test_rolling_is_the_default(self) -> None:
        assert parse_deployment_configuration(None) == StrategyConfig()
        assert parse_deployment_configuration({"maximumPercent": 200}).strategy == "ROLLING"

    def test_defaults_of_linear_and_canary(self) -> None:
        linear = parse_deployment_configuration({"strategy": "LINEAR"})
        assert (linear.step_percent, linear.step_bake_minutes, linear.bake_minutes) == (10.0, 6, 0)
        canary = parse_deployment_configuration({"strategy": "CANARY", "bakeTimeInMinutes": 5})
        assert (canary.canary_percent, canary.canary_bake_minutes, canary.bake_minutes) == (5.0, 10, 5)

    @pytest.mark.parametrize(
        ("configuration", "message"),
        [
            ({"strategy": "RED_BLACK"}, "Invalid deployment strategy"),
            ({"strategy": "BLUE_GREEN"}, "bakeTimeInMinutes must be specified"),
            ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441}, "between 0 and 1440"),
            ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": -1}, "between 0 and 1440"),
            ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.9}}, "multiple of 0.1"),
            ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.05}}, "multiple of 0.1"),
            ({"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}}, "1440"),
            ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}}, "multiple of 0.1"),
            ({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 100.1}}, "multiple of 0.1"),
            ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1, "linearConfiguration": {}}, "only valid"),
            (
                {"strategy": "LINEAR", "canaryConfiguration": {}},
                "only valid when the deployment strategy is CANARY",
            ),
            (
                {"lifecycleHooks": [{"hookTargetArn": LAMBDA, "lifecycleStages": ["POST_SCALE_UP"]}]},
                "only valid for the BLUE_GREEN",
            ),
        ],
    )
    def test_refusals(self, configuration: dict[str, object], message: str) -> None:
        with pytest.raises(StrategyError, match=message):
            parse_deployment_configuration(configuration)

    @pytest.mark.parametrize(
        ("hook", "message"),
        [
            ({"lifecycleStages": ["POST_SCALE_UP"]}, "hookTargetArn must be specified"),
            ({"hookTargetArn": "check", "lifecycleStages": ["POST_SCALE_UP"]}, "Lambda function ARN"),
            ({"hookTargetArn": LAMBDA, "lifecycleStages": []}, "lifecycleStages must be specified"),
            ({"hookTargetArn": LAMBDA, "lifecycleStages": ["BAKE_TIME"]}, "Invalid lifecycle stage"),
            (
                {"targetType": "PAUSE", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]},
                "PAUSE lifecycle hooks cannot",
            ),
            (
                {
                    "hookTargetArn": LAMBDA,
                    "lifecycleStages": ["POST_SCALE_UP"],
                    "timeoutConfiguration": {"timeoutInMinutes": 0},
                },
                "between 1 and 20160",
            ),
        ],
    )
    def test_hook_refusals(self, hook: dict[str, object], message: str) -> None:
        with pytest.raises(StrategyError, match=message):
            parse_deployment_configuration(
                {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, "lifecycleHooks": [hook]}
            )

    def test_hooks_parsed(self) -> None:
        config = parse_deployment_configuration(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [
                    {"hookTargetArn": LAMBDA, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]},
                    {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]},
                ],
            }
        )
        lam, pause = config.lifecycle_hooks
        assert (lam.target_type, lam.hook_target_arn, lam.timeout_minutes, lam.timeout_action) == (
            "AWS_LAMBDA",
            LAMBDA,
            1440,
            "ROLLBACK",
        )
        assert pause.target_type == "PAUSE"
        assert pause.hook_target_arn is None


class TestPlans:
    def test_blue_green(self) -> None:
        """Test traffic reaches green first; production moves at once; bake, then clean-up."""
        plan = plan_deployment(
            parse_deployment_configuration({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}),
            scale_up_seconds=60,
        )
        assert [s.stage for s in plan.stages] == [
            "PRE_SCALE_UP",
            "SCALE_UP",
            "POST_SCALE_UP",
            "TEST_TRAFFIC_SHIFT",
            "POST_TEST_TRAFFIC_SHIFT",
            "PRODUCTION_TRAFFIC_SHIFT",
            "POST_PRODUCTION_TRAFFIC_SHIFT",
            "BAKE_TIME",
            "CLEAN_UP",
        ]
        assert plan.production_at(59) == (100.0, 0.0)
        assert plan.test_at(59) == (100.0, 0.0)
        assert plan.test_at(60) == (0.0, 100.0)
        assert plan.production_at(60) == (0.0, 100.0)
        assert plan.stage_at(61).stage == "BAKE_TIME"
        assert plan.total_seconds == 60 + 300

    def test_linear_steps(self) -> None:
        plan = plan_deployment(
            parse_deployment_configuration(
                {
                    "strategy": "LINEAR",
                    "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
                }
            )
        )
        shifts = plan.production_shifts
        assert [s.production for s in shifts] == [(75.0, 25.0), (50.0, 50.0), (25.0, 75.0), (0.0, 100.0)]
        assert [s.duration_seconds for s in shifts] == [120, 120, 120, 0]
        assert plan.production_at(121) == (50.0, 50.0)

    def test_linear_step_not_dividing_100(self) -> None:
        config = parse_deployment_configuration(
            {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 30.0}}
        )
        assert production_steps(config) == ((30.0, 6), (60.0, 6), (90.0, 6), (100.0, 0))

    def test_canary(self) -> None:
        config = parse_deployment_configuration(
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3},
            }
        )
        assert production_steps(config) == ((10.0, 3), (100.0, 0))
        plan = plan_deployment(config)
        assert plan.production_at(0) == (90.0, 10.0)
        assert plan.production_at(180) == (0.0, 100.0)

    def test_hooks_listed_at_their_stages(self) -> None:
        config = parse_deployment_configuration(
            {
                "strategy": "CANARY",
                "lifecycleHooks": [
                    {
                        "hookTargetArn": LAMBDA,
                        "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_SCALE_UP"],
                    }
                ],
            }
        )
        plan = plan_deployment(config, reconcile=True)
        assert plan.stages[0].stage == "RECONCILE_SERVICE"
        hooked = [(s.stage, s.hooks) for s in plan.stages if s.hooks]
        assert hooked == [
            ("POST_SCALE_UP", ("POST_SCALE_UP",)),
            ("PRODUCTION_TRAFFIC_SHIFT", ("PRE_PRODUCTION_TRAFFIC_SHIFT",)),
            ("PRODUCTION_TRAFFIC_SHIFT", ("PRE_PRODUCTION_TRAFFIC_SHIFT",)),
        ]

    def test_rolling_has_no_plan(self) -> None:
        with pytest.raises(ValueError, match="ROLLING"):
            plan_deployment(StrategyConfig())

    @given(
        st.integers(min_value=30, max_value=1000),
        st.integers(min_value=0, max_value=1440),
        st.integers(min_value=0, max_value=1440),
    )
    def test_linear_properties(self, step_tenths: int, step_bake: int, bake: int) -> None:
        """Green only grows, in steps of stepPercent but the last, ending at 100; stages in model order."""
        config = parse_deployment_configuration(
            {
                "strategy": "LINEAR",
                "bakeTimeInMinutes": bake,
                "linearConfiguration": {"stepPercent": step_tenths / 10, "stepBakeTimeInMinutes": step_bake},
            }
        )
        plan = plan_deployment(config)
        shifts = plan.production_shifts
        greens = [s.production[1] for s in shifts]
        assert greens == sorted(greens)
        assert greens[-1] == 100.0
        assert len(shifts) == math.ceil(1000 / step_tenths)
        for a, b in zip([0.0, *greens], greens[:-1], strict=False):
            assert round(b - a, 1) == step_tenths / 10
        for s in plan.stages:
            assert round(sum(s.production), 1) == 100.0
            # Test traffic is on green whenever production traffic has any.
            assert s.production[1] == 0.0 or s.test == (0.0, 100.0)
        order = [LIFECYCLE_STAGES.index(s.stage) for s in plan.stages]
        assert order == sorted(order)
        assert plan.total_seconds == 60 * (step_bake * (len(shifts) - 1) + bake)

    @given(st.integers(min_value=1, max_value=1000))
    def test_canary_properties(self, tenths: int) -> None:
        config = parse_deployment_configuration(
            {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": tenths / 10}}
        )
        steps = production_steps(config)
        assert steps[-1] == (100.0, 0)
        assert steps[0][0] == tenths / 10
        assert len(steps) == (1 if tenths == 1000 else 2)


class TestWeights:
    def test_examples(self) -> None:
        assert listener_weights(25.0) == (3, 1)
        assert listener_weights(5.0) == (19, 1)
        assert listener_weights(0) == (1, 0)
        assert listener_weights(100) == (0, 1)
        assert listener_weights(0.1) == (999, 1)

    @given(st.integers(min_value=0, max_value=1000))
    def test_weights_give_the_percentage(self, tenths: int) -> None:
        blue, green = listener_weights(tenths / 10)
        assert 0 <= blue <= 999
        assert 0 <= green <= 999
        assert green * 1000 == tenths * (blue + green)

    def test_out_of_range(self) -> None:
        with pytest.raises(ValueError, match="between 0 and 100"):
            listener_weights(100.5)


class TestCircuitBreaker:
    def test_default(self) -> None:
        """0.5 x desired, at least 3 and at most 200."""
        assert circuit_breaker_threshold(1) == 3
        assert circuit_breaker_threshold(10) == 5
        assert circuit_breaker_threshold(11) == 6
        assert circuit_breaker_threshold(1000) == 200

    def test_types(self) -> None:
        assert circuit_breaker_threshold(10, {"type": "COUNT", "value": 2}) == 2
        assert circuit_breaker_threshold(2, {"type": "UNBOUNDED_PERCENT", "value": 50}) == 1
        assert circuit_breaker_threshold(1000, {"type": "UNBOUNDED_PERCENT", "value": 50}) == 500
        assert circuit_breaker_threshold(2, {"type": "BOUNDED_PERCENT", "value": 100}) == 3

    @pytest.mark.parametrize(
        "bad", [{"type": "PERCENT", "value": 5}, {"type": "COUNT", "value": 0}, {"type": "COUNT"}]
    )
    def test_refusals(self, bad: dict[str, object]) -> None:
        with pytest.raises(StrategyError):
            circuit_breaker_threshold(4, bad)

    @given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=500))
    def test_bounded_stays_in_bounds(self, desired: int, value: int) -> None:
        assert 3 <= circuit_breaker_threshold(desired, {"type": "BOUNDED_PERCENT", "value": value}) <= 200
