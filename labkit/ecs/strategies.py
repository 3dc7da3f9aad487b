"""ECS's built-in deployment strategies: ROLLING, BLUE_GREEN, LINEAR and CANARY, as pure rules.

Since 2025 ECS deploys blue/green, linear and canary itself (deployment controller `ECS`,
`deploymentConfiguration.strategy`), without CodeDeploy. The rules here follow the `ecs` model of
botocore 1.44 (`DeploymentConfiguration`, `LinearConfiguration`, `CanaryConfiguration`,
`DeploymentLifecycleHook`, `ThresholdConfiguration`, `ServiceDeploymentLifecycleStage`) and the ECS
developer guide ("Amazon ECS blue/green deployments", "Amazon ECS linear deployments", "Amazon ECS
canary deployments", "Lifecycle hooks for Amazon ECS service deployments"):

- a non-rolling deployment starts a green *service revision* beside blue and walks the lifecycle
  stages `LIFECYCLE_STAGES` in order; production traffic moves by the load balancer's weighted
  target groups;
- BLUE_GREEN shifts all production traffic at once; LINEAR in equal steps of `stepPercent`
  (3.0..100.0, multiples of 0.1, default 10.0), waiting `stepBakeTimeInMinutes` (0..1440, default 6)
  after each step but the last; CANARY shifts `canaryPercent` (0.1..100.0, multiples of 0.1,
  default 5.0), waits `canaryBakeTimeInMinutes` (0..1440, default 10), then shifts the rest;
- after production traffic has moved, both revisions run for `bakeTimeInMinutes` (0..1440), then
  blue is scaled in (CLEAN_UP).

How to use it (the emulator, the book's figures and the labs all do this):

    config = parse_deployment_configuration({"strategy": "LINEAR",
                                              "linearConfiguration": {"stepPercent": 25.0}})
    plan = plan_deployment(config)
    for stage in plan.stages:          # the ordered lifecycle stages, with times and weights
        print(stage.stage, stage.start_seconds, stage.production, stage.test)
    plan.production_at(600.0)          # (blue %, green %) of production traffic 10 minutes in
    listener_weights(25.0)             # (3, 1): the ELB forward-action weights for 75/25

`parse_deployment_configuration` raises `StrategyError` (a ValueError) with the words ECS answers
an invalid parameter with; the emulator turns it into `InvalidParameterException`.
`circuit_breaker_threshold` is the deployment circuit breaker's failure threshold.
Nothing here imports from labkit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_CANARY_BAKE_MINUTES",
    "DEFAULT_CANARY_PERCENT",
    "DEFAULT_LINEAR_STEP_BAKE_MINUTES",
    "DEFAULT_LINEAR_STEP_PERCENT",
    "HOOK_STAGES",
    "LIFECYCLE_STAGES",
    "MAX_BAKE_MINUTES",
    "STRATEGIES",
    "DeploymentPlan",
    "LifecycleHookConfig",
    "PlanStage",
    "StrategyConfig",
    "StrategyError",
    "circuit_breaker_threshold",
    "listener_weights",
    "merge_deployment_configuration",
    "parse_deployment_configuration",
    "plan_deployment",
    "production_steps",
]

Strategy = Literal["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"]
STRATEGIES: tuple[str, ...] = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")

#: The stages a service deployment walks, in order (`ServiceDeploymentLifecycleStage`).
LIFECYCLE_STAGES: tuple[str, ...] = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)

#: The stages a lifecycle hook may run at (`DeploymentLifecycleHookStage`). PRE_PRODUCTION_TRAFFIC_SHIFT
#: is a hook stage only: a deployment never reports it as its `lifecycleStage`. SCALE_UP, BAKE_TIME
#: and CLEAN_UP take no hooks.
HOOK_STAGES: tuple[str, ...] = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)

#: PAUSE hooks "cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT stages".
PAUSE_FORBIDDEN_STAGES: frozenset[str] = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})

DEFAULT_LINEAR_STEP_PERCENT = 10.0
DEFAULT_LINEAR_STEP_BAKE_MINUTES = 6
DEFAULT_CANARY_PERCENT = 5.0
DEFAULT_CANARY_BAKE_MINUTES = 10
MAX_BAKE_MINUTES = 1440
#: `DeploymentLifecycleHookDuration`: 1..20160 minutes, default 1440.
DEFAULT_HOOK_TIMEOUT_MINUTES = 1440
MAX_HOOK_TIMEOUT_MINUTES = 20160


class StrategyError(ValueError):
    """A deployment configuration ECS refuses; the message is ECS's InvalidParameterException text."""


@dataclass(frozen=True)
class LifecycleHookConfig:
    """One `deploymentConfiguration.lifecycleHooks[]` entry, validated.

    `target_type` is AWS_LAMBDA (the default; `hook_target_arn` is the function's ARN) or PAUSE (the
    deployment waits for ContinueServiceDeployment). `timeout_action` is what ECS does when the hook
    is not resolved within `timeout_minutes`: CONTINUE or ROLLBACK.
    """

    target_type: str
    hook_target_arn: str | None
    role_arn: str | None
    lifecycle_stages: tuple[str, ...]
    hook_details: Any = None
    timeout_minutes: int = DEFAULT_HOOK_TIMEOUT_MINUTES
    timeout_action: str = "ROLLBACK"


@dataclass(frozen=True)
class StrategyConfig:
    """A validated deployment strategy with its parameters (defaults filled in).

    `step_percent`/`step_bake_minutes` are set for LINEAR only, `canary_percent`/
    `canary_bake_minutes` for CANARY only; `bake_minutes` for every strategy but ROLLING.
    """

    strategy: str = "ROLLING"
    bake_minutes: int = 0
    step_percent: float | None = None
    step_bake_minutes: int | None = None
    canary_percent: float | None = None
    canary_bake_minutes: int | None = None
    lifecycle_hooks: tuple[LifecycleHookConfig, ...] = ()

    @property
    def shifts_traffic(self) -> bool:
        """True for BLUE_GREEN, LINEAR and CANARY: a green revision beside blue, traffic moved by weight."""
        return self.strategy != "ROLLING"


@dataclass(frozen=True)
class PlanStage:
    """One stretch of a deployment plan.

    - `stage`: the `ServiceDeploymentLifecycleStage` the deployment reports during it.
    - `start_seconds`, `duration_seconds`: from the deployment's start, assuming every hook answers
      SUCCEEDED at once and green takes the plan's `scale_up_seconds` to become healthy.
    - `production`, `test`: (blue %, green %) of production and test traffic during the stage.
    - `step`: for PRODUCTION_TRAFFIC_SHIFT, the shift's number (1, 2, ...); else None.
    - `hooks`: the hook stages (`HOOK_STAGES`) whose hooks run when the stage begins, in order.
    """

    stage: str
    start_seconds: float
    duration_seconds: float
    production: tuple[float, float]
    test: tuple[float, float]
    step: int | None = None
    hooks: tuple[str, ...] = ()

    @property
    def end_seconds(self) -> float:
        return self.start_seconds + self.duration_seconds


@dataclass(frozen=True)
class DeploymentPlan:
    """A whole deployment, stage by stage (see `plan_deployment`)."""

    config: StrategyConfig
    stages: tuple[PlanStage, ...] = field(default_factory=tuple)

    @property
    def total_seconds(self) -> float:
        return self.stages[-1].end_seconds if self.stages else 0.0

    @property
    def production_shifts(self) -> tuple[PlanStage, ...]:
        """The PRODUCTION_TRAFFIC_SHIFT steps, in order."""
        return tuple(s for s in self.stages if s.stage == "PRODUCTION_TRAFFIC_SHIFT")

    def stage_at(self, seconds: float) -> PlanStage:
        """The stage in force `seconds` after the start (a zero-length stage is passed at once)."""
        current = self.stages[0]
        for stage in self.stages:
            if stage.start_seconds <= seconds:
                current = stage
        return current

    def production_at(self, seconds: float) -> tuple[float, float]:
        """(blue %, green %) of production traffic `seconds` after the deployment started."""
        return self.stage_at(seconds).production

    def test_at(self, seconds: float) -> tuple[float, float]:
        """(blue %, green %) of test traffic `seconds` after the deployment started."""
        return self.stage_at(seconds).test


# --- validation ------------------------------------------------------------------------------


def _integer(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StrategyError(f"{name} must be an integer.")
    if not low <= value <= high:
        raise StrategyError(f"{name} must be between {low} and {high}.")
    return value


def _tenths(value: Any, name: str, low: float, high: float) -> float:
    """A Double that must be a multiple of 0.1 in [low, high]; returned rounded to one decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise StrategyError(f"{name} must be a number.")
    tenths = float(value) * 10
    if abs(tenths - round(tenths)) > 1e-6:
        raise StrategyError(f"{name} must be a multiple of 0.1 between {low} and {high}.")
    number = round(tenths) / 10
    if not low <= number <= high:
        raise StrategyError(f"{name} must be a multiple of 0.1 between {low} and {high}.")
    return number


def _parse_hook(raw: Any) -> LifecycleHookConfig:
    if not isinstance(raw, Mapping):
        raise StrategyError("Each lifecycle hook must be an object.")
    target_type = raw.get("targetType") or "AWS_LAMBDA"
    if target_type not in ("AWS_LAMBDA", "PAUSE"):
        raise StrategyError(f"Invalid lifecycle hook target type: {target_type}.")
    stages = raw.get("lifecycleStages")
    if not stages:
        raise StrategyError("lifecycleStages must be specified for a lifecycle hook.")
    for stage in stages:
        if stage not in HOOK_STAGES:
            raise StrategyError(f"Invalid lifecycle stage: {stage}.")
        if target_type == "PAUSE" and stage in PAUSE_FORBIDDEN_STAGES:
            raise StrategyError(f"PAUSE lifecycle hooks cannot be configured at the {stage} stage.")
    arn = raw.get("hookTargetArn")
    if target_type == "AWS_LAMBDA":
        if not arn:
            raise StrategyError("hookTargetArn must be specified for an AWS_LAMBDA lifecycle hook.")
        if not str(arn).startswith("arn:") or ":lambda:" not in str(arn):
            raise StrategyError(f"Invalid hookTargetArn: {arn}. It must be a Lambda function ARN.")
    timeout = raw.get("timeoutConfiguration") or {}
    minutes = timeout.get("timeoutInMinutes", DEFAULT_HOOK_TIMEOUT_MINUTES)
    minutes = _integer(minutes, "timeoutInMinutes", 1, MAX_HOOK_TIMEOUT_MINUTES)
    action = timeout.get("action") or "ROLLBACK"
    if action not in ("ROLLBACK", "CONTINUE"):
        raise StrategyError(f"Invalid timeout action: {action}.")
    return LifecycleHookConfig(
        target_type=str(target_type),
        hook_target_arn=str(arn) if arn else None,
        role_arn=raw.get("roleArn"),
        lifecycle_stages=tuple(str(s) for s in stages),
        hook_details=raw.get("hookDetails"),
        timeout_minutes=minutes,
        timeout_action=str(action),
    )


def parse_deployment_configuration(configuration: Mapping[str, Any] | None) -> StrategyConfig:
    """Validate a `deploymentConfiguration`'s strategy fields as ECS does and fill in the defaults.

    Reads `strategy` (default ROLLING), `bakeTimeInMinutes`, `linearConfiguration`,
    `canaryConfiguration` and `lifecycleHooks`; other fields (percentages, circuit breaker, alarms)
    are the rolling rules' and the caller's. Raises `StrategyError` for what ECS refuses:
    an unknown strategy; `linearConfiguration` without LINEAR or `canaryConfiguration` without
    CANARY; a value out of its documented range; BLUE_GREEN without `bakeTimeInMinutes` (the model:
    "You must provide this parameter when you use the BLUE_GREEN deployment strategy").
    """
    configuration = configuration or {}
    strategy = configuration.get("strategy") or "ROLLING"
    if strategy not in STRATEGIES:
        raise StrategyError(
            f"Invalid deployment strategy: {strategy}. Valid values: {', '.join(STRATEGIES)}."
        )
    linear = configuration.get("linearConfiguration")
    canary = configuration.get("canaryConfiguration")
    if linear is not None and strategy != "LINEAR":
        raise StrategyError("linearConfiguration is only valid when the deployment strategy is LINEAR.")
    if canary is not None and strategy != "CANARY":
        raise StrategyError("canaryConfiguration is only valid when the deployment strategy is CANARY.")
    hooks = tuple(_parse_hook(h) for h in configuration.get("lifecycleHooks") or ())
    if strategy == "ROLLING":
        if hooks:
            raise StrategyError(
                "lifecycleHooks are only valid for the BLUE_GREEN, LINEAR and CANARY deployment strategies."
            )
        return StrategyConfig()
    bake = configuration.get("bakeTimeInMinutes")
    if bake is None:
        if strategy == "BLUE_GREEN":
            raise StrategyError("bakeTimeInMinutes must be specified for the BLUE_GREEN deployment strategy.")
        bake = 0
    bake = _integer(bake, "bakeTimeInMinutes", 0, MAX_BAKE_MINUTES)
    if strategy == "LINEAR":
        linear = linear or {}
        return StrategyConfig(
            strategy=strategy,
            bake_minutes=bake,
            step_percent=_tenths(
                linear.get("stepPercent", DEFAULT_LINEAR_STEP_PERCENT), "stepPercent", 3.0, 100.0
            ),
            step_bake_minutes=_integer(
                linear.get("stepBakeTimeInMinutes", DEFAULT_LINEAR_STEP_BAKE_MINUTES),
                "stepBakeTimeInMinutes",
                0,
                MAX_BAKE_MINUTES,
            ),
            lifecycle_hooks=hooks,
        )
    if strategy == "CANARY":
        canary = canary or {}
        return StrategyConfig(
            strategy=strategy,
            bake_minutes=bake,
            canary_percent=_tenths(
                canary.get("canaryPercent", DEFAULT_CANARY_PERCENT), "canaryPercent", 0.1, 100.0
            ),
            canary_bake_minutes=_integer(
                canary.get("canaryBakeTimeInMinutes", DEFAULT_CANARY_BAKE_MINUTES),
                "canaryBakeTimeInMinutes",
                0,
                MAX_BAKE_MINUTES,
            ),
            lifecycle_hooks=hooks,
        )
    return StrategyConfig(strategy=strategy, bake_minutes=bake, lifecycle_hooks=hooks)


# --- plans -------------------------------------------------------------------------------------


def production_steps(config: StrategyConfig) -> tuple[tuple[float, int], ...]:
    """The production traffic shifts: (green % after the shift, minutes to wait after it), in order.

    BLUE_GREEN: one shift to 100. LINEAR: stepPercent, 2 x stepPercent, ... then 100 (a step that
    does not divide 100 ends with a shorter last step); the step bake follows every shift but the
    last ("not applied after reaching 100 percent traffic"). CANARY: canaryPercent, then 100 after
    the canary bake (one shift when canaryPercent is 100). ROLLING shifts no traffic: ().
    """
    if config.strategy == "BLUE_GREEN":
        return ((100.0, 0),)
    if config.strategy == "LINEAR":
        assert config.step_percent is not None
        assert config.step_bake_minutes is not None
        step = round(config.step_percent * 10)
        greens = [*list(range(step, 1000, step)), 1000]
        return tuple(
            (g / 10, config.step_bake_minutes if i < len(greens) - 1 else 0) for i, g in enumerate(greens)
        )
    if config.strategy == "CANARY":
        assert config.canary_percent is not None
        assert config.canary_bake_minutes is not None
        if config.canary_percent >= 100.0:
            return ((100.0, 0),)
        return ((config.canary_percent, config.canary_bake_minutes), (100.0, 0))
    return ()


def _hooked(config: StrategyConfig, *stages: str) -> tuple[str, ...]:
    """The hook stages among `stages` that at least one configured hook runs at."""
    configured = {s for h in config.lifecycle_hooks for s in h.lifecycle_stages}
    return tuple(s for s in stages if s in configured)


def plan_deployment(
    config: StrategyConfig, *, scale_up_seconds: float = 0.0, reconcile: bool = False
) -> DeploymentPlan:
    """The whole deployment of a BLUE_GREEN, LINEAR or CANARY strategy, stage by stage.

    `scale_up_seconds` is how long green takes to be healthy (the plan cannot know; the emulator
    moves on when it is). `reconcile` adds RECONCILE_SERVICE, the stage "that only happens when you
    start a new service deployment with more than 1 service revision in an ACTIVE state".
    Production traffic is on blue until the first shift; test traffic moves to green at
    TEST_TRAFFIC_SHIFT, before any production traffic does. Raises ValueError for ROLLING, which
    has no lifecycle stages of this kind (see `labkit.ecs.rolling`).
    """
    if not config.shifts_traffic:
        raise ValueError("a ROLLING deployment shifts no traffic; plan it with labkit.ecs.rolling")
    stages: list[PlanStage] = []
    now = 0.0
    blue = (100.0, 0.0)
    green = (0.0, 100.0)

    def add(
        stage: str,
        seconds: float,
        production: tuple[float, float],
        test: tuple[float, float],
        *,
        step: int | None = None,
        hooks: tuple[str, ...] = (),
    ) -> None:
        nonlocal now
        stages.append(PlanStage(stage, now, float(seconds), production, test, step, hooks))
        now += float(seconds)

    if reconcile:
        add("RECONCILE_SERVICE", 0, blue, blue, hooks=_hooked(config, "RECONCILE_SERVICE"))
    add("PRE_SCALE_UP", 0, blue, blue, hooks=_hooked(config, "PRE_SCALE_UP"))
    add("SCALE_UP", scale_up_seconds, blue, blue)
    add("POST_SCALE_UP", 0, blue, blue, hooks=_hooked(config, "POST_SCALE_UP"))
    add("TEST_TRAFFIC_SHIFT", 0, blue, green, hooks=_hooked(config, "TEST_TRAFFIC_SHIFT"))
    add("POST_TEST_TRAFFIC_SHIFT", 0, blue, green, hooks=_hooked(config, "POST_TEST_TRAFFIC_SHIFT"))
    for number, (percent, wait) in enumerate(production_steps(config), start=1):
        add(
            "PRODUCTION_TRAFFIC_SHIFT",
            wait * 60,
            (round(100.0 - percent, 1), percent),
            green,
            step=number,
            hooks=_hooked(config, "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"),
        )
    add(
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        0,
        green,
        green,
        hooks=_hooked(config, "POST_PRODUCTION_TRAFFIC_SHIFT"),
    )
    add("BAKE_TIME", config.bake_minutes * 60, green, green)
    add("CLEAN_UP", 0, green, green)
    return DeploymentPlan(config, tuple(stages))


def listener_weights(green_percent: float) -> tuple[int, int]:
    """(blue weight, green weight) for an ELB weighted `forward` action giving green `green_percent`.

    Weights are integers 0..999 (ELBv2's `TargetGroupTuple.Weight`); percentages have one decimal,
    so the pair is (1000 - 10p, 10p) reduced by its greatest common divisor: 25.0 gives (3, 1),
    5.0 gives (19, 1), 0 gives (1, 0) and 100 gives (0, 1).
    """
    green = round(float(green_percent) * 10)
    if not 0 <= green <= 1000:
        raise ValueError(f"a traffic percentage is between 0 and 100, got {green_percent}")
    if green == 0:
        return (1, 0)
    if green == 1000:
        return (0, 1)
    divisor = math.gcd(1000 - green, green)
    return ((1000 - green) // divisor, green // divisor)


def circuit_breaker_threshold(desired: int, threshold: Mapping[str, Any] | None = None) -> int:
    """The deployment circuit breaker's failure threshold (`ThresholdConfiguration`).

    Default (no configuration): BOUNDED_PERCENT 50, i.e. ceil(0.5 x desired) bounded to 3..200.
    BOUNDED_PERCENT v: ceil(desired x v / 100) bounded to 3..200; UNBOUNDED_PERCENT v: the same
    without the bounds (at least 1); COUNT v: v itself. Raises StrategyError for an unknown type or
    a value below 1 (ECS's "value" must produce a threshold).
    """
    kind = "BOUNDED_PERCENT"
    value = 50
    if threshold is not None:
        kind = str(threshold.get("type") or "")
        raw = threshold.get("value")
        if kind not in ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT"):
            raise StrategyError(
                f"Invalid threshold type: {kind}. Valid values: COUNT, BOUNDED_PERCENT, UNBOUNDED_PERCENT."
            )
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise StrategyError("thresholdConfiguration value must be a positive integer.")
        value = raw
    if kind == "COUNT":
        return value
    computed = -((-max(0, desired) * value) // 100)
    if kind == "UNBOUNDED_PERCENT":
        return max(1, computed)
    return min(200, max(3, computed))


_STRATEGY_ONLY = ("linearConfiguration", "canaryConfiguration")


def merge_deployment_configuration(
    current: Mapping[str, Any] | None, update: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The deployment configuration after UpdateService sends `update` over `current`.

    Top-level fields `update` gives replace `current`'s; a change of `strategy` drops the other
    strategy's `linearConfiguration`/`canaryConfiguration` unless `update` gives them again.
    """
    merged = dict(current or {})
    update = dict(update or {})
    if "strategy" in update and update.get("strategy") != merged.get("strategy"):
        for key in _STRATEGY_ONLY:
            merged.pop(key, None)
    merged.update(update)
    return merged
