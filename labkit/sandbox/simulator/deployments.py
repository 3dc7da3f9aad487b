"""ECS service deployments in the simulator: blue/green, linear and canary, and the deployment history.

Every deployment of a service (rolling ones too) is a *service deployment* with a target *service
revision*, listed by ListServiceDeployments and described by DescribeServiceDeployments and
DescribeServiceRevisions. A deployment whose `deploymentConfiguration.strategy` is BLUE_GREEN,
LINEAR or CANARY, of a service that already runs a revision (blue), walks the lifecycle stages of
`labkit.ecs.strategies.plan_deployment`:

- the green revision's tasks start beside blue's (SCALE_UP), in the load balancer entry's
  `advancedConfiguration.alternateTargetGroupArn` (the target group blue does not use);
- TEST_TRAFFIC_SHIFT points the test listener rule at green; PRODUCTION_TRAFFIC_SHIFT rewrites the
  production listener rule's weighted `forward` action in the plan's steps (the listeners on
  loopback honour the weights, `ElbSimulator.route_request`); BAKE_TIME keeps both; CLEAN_UP stops
  blue's tasks, and green's target group is production from then on;
- lifecycle hooks run at their stages: an AWS_LAMBDA hook calls the Python handler registered for
  its function ARN (`register_lifecycle_hook`) as Lambda would, with ECS's payload, and reads
  `hookStatus` (SUCCEEDED, FAILED, IN_PROGRESS: called again after `callBackDelay`, default 30 s);
  a function with no handler fails the hook, as an unknown function fails on AWS; a PAUSE hook waits
  for ContinueServiceDeployment; a hook not resolved within its timeout takes its timeout action;
- a deployment alarm in ALARM (`deploymentConfiguration.alarms`, checked every
  `ALARM_CHECK_SECONDS`), a failed hook, or the circuit breaker rolls the deployment back
  (production and test traffic return to blue, green's tasks stop) when rollback is on; without
  rollback the deployment is STOPPED where it is. StopServiceDeployment rolls back (ROLLBACK) or
  stops (ABORT).

A handler runs in the emulator's process with the simulator's lock released while it runs (so it
may call the sandbox's listeners and API), for at most `HOOK_WALL_TIMEOUT` wall seconds.
A service's first deployment (CreateService) has nothing to shift from: it starts its tasks in the
entry's target group as a rolling deployment does. See ARCHITECTURE.md, "The simulator".
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.ecs.strategies import (
    DeploymentPlan,
    LifecycleHookConfig,
    StrategyConfig,
    listener_weights,
    parse_deployment_configuration,
    plan_deployment,
)
from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import DeploymentRuntime, ServiceRuntime, TaskRuntime

__all__ = [
    "ALARM_CHECK_SECONDS",
    "DEFAULT_CALLBACK_DELAY",
    "DeploymentSimulator",
    "LambdaContext",
    "LifecycleHookHandler",
    "lifecycle_hook_for",
    "register_lifecycle_hook",
    "registered_lifecycle_hooks",
    "unregister_lifecycle_hook",
]

#: How often (emulated seconds) a deployment looks at its alarms.
ALARM_CHECK_SECONDS = 10.0
#: ECS calls an IN_PROGRESS hook again after this many seconds unless it returns `callBackDelay`.
DEFAULT_CALLBACK_DELAY = 30.0
#: How long (wall seconds) the emulator waits for one call of a hook handler before failing it.
HOOK_WALL_TIMEOUT = 30.0

#: A lifecycle hook's handler: called like a Lambda function, `handler(event, context)`, it returns
#: `{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS", "callBackDelay": seconds, "hookDetails": ...}`.
LifecycleHookHandler = Callable[[dict[str, Any], "LambdaContext"], Any]

_HANDLERS: dict[str, LifecycleHookHandler] = {}
_HANDLERS_LOCK = threading.Lock()


def register_lifecycle_hook(function_arn: str, handler: LifecycleHookHandler) -> None:
    """Make `handler` the Lambda function `function_arn` for deployment lifecycle hooks in sandboxes.

    On AWS a hook is a Lambda function; in an emulated sandbox it is this Python callable, called as
    `handler(event, context)` with the payload ECS sends (`serviceArn`, `targetServiceRevisionArn`,
    `testTrafficWeights`, `productionTrafficWeights`, `lifecycleStage`, `hookDetails`). It returns
    a dict with `hookStatus` (SUCCEEDED, FAILED or IN_PROGRESS) and optionally `callBackDelay`
    (seconds) and `hookDetails` (passed to the next call). Registration is per process (the
    emulator's: an embedded sandbox's is the caller's). Raises ValueError for an ARN that is not a
    Lambda function ARN.
    """
    if (
        not function_arn.startswith("arn:")
        or ":lambda:" not in function_arn
        or ":function:" not in function_arn
    ):
        raise ValueError(
            f"a lifecycle hook is a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME), got {function_arn!r}"
        )
    if not callable(handler):
        raise ValueError("a lifecycle hook handler is a callable handler(event, context)")
    with _HANDLERS_LOCK:
        _HANDLERS[function_arn] = handler


def unregister_lifecycle_hook(function_arn: str) -> None:
    """Forget the handler of `function_arn`; raises KeyError when there is none."""
    with _HANDLERS_LOCK:
        del _HANDLERS[function_arn]


def registered_lifecycle_hooks() -> list[str]:
    """The function ARNs with a handler, sorted."""
    with _HANDLERS_LOCK:
        return sorted(_HANDLERS)


def lifecycle_hook_for(function_arn: str) -> LifecycleHookHandler | None:
    """The handler of a function ARN (a version or alias suffix is ignored), or None."""
    with _HANDLERS_LOCK:
        if function_arn in _HANDLERS:
            return _HANDLERS[function_arn]
        base = ":".join(function_arn.split(":")[:7])
        return _HANDLERS.get(base)


@dataclass(frozen=True)
class LambdaContext:
    """The `context` a hook handler gets (the few fields of Lambda's context object it may read)."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    memory_limit_in_mb: int = 128


@dataclass
class HookRun:
    """One lifecycle hook at one stage of one deployment."""

    hook_id: str
    config: LifecycleHookConfig
    stage: str
    expires_at: dt.datetime
    status: str = "IN_PROGRESS"
    details: Any = None
    invocations: int = 0

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hookId": self.hook_id,
            "targetType": self.config.target_type,
            "status": self.status,
            "expiresAt": self.expires_at,
            "timeoutAction": self.config.timeout_action,
        }
        if self.config.hook_target_arn:
            out["targetArn"] = self.config.hook_target_arn
        return out


@dataclass
class Binding:
    """One load balancer entry of a service during a deployment: blue's and green's groups, the rules."""

    index: int
    blue_group: str | None
    green_group: str | None
    production_rule: str | None
    test_rule: str | None


@dataclass
class StrategyRun:
    """A BLUE_GREEN, LINEAR or CANARY deployment walking its lifecycle stages."""

    runtime: ServiceRuntime
    green: DeploymentRuntime
    blue: DeploymentRuntime
    config: StrategyConfig
    plan: DeploymentPlan
    record: dict[str, Any]
    bindings: list[Binding]
    alarms: dict[str, Any]
    index: int = -1
    pending_hooks: list[HookRun] = field(default_factory=list)
    waiting: HookRun | None = None
    traffic_applied: bool = False
    timer_at: dt.datetime | None = None
    busy: bool = False
    done: bool = False
    hooks: list[HookRun] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return self.plan.stages[self.index].stage if self.index >= 0 else "PRE_SCALE_UP"


class DeploymentSimulator:
    """Service deployments and revisions of one sandbox; runs the non-rolling strategies."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        #: ServiceDeployment records by ARN, and each service's ARNs, oldest first.
        self.records: dict[str, dict[str, Any]] = {}
        self.by_service: dict[str, list[str]] = {}
        #: ServiceRevision records by ARN.
        self.revisions: dict[str, dict[str, Any]] = {}
        #: The service deployment ARN and revision ARN of each ECS deployment id.
        self.of_deployment: dict[str, tuple[str, str]] = {}
        #: Each deployment's target group per load balancer entry index (green: the alternate).
        self.groups: dict[str, dict[int, str]] = {}
        #: Each service's production target group per load balancer entry index.
        self.production: dict[str, dict[int, str]] = {}
        #: Strategy deployments in progress, by service key.
        self.runs: dict[str, StrategyRun] = {}

    @property
    def elb_backend(self) -> Any:
        return moto_seam.backend("elbv2", self.sim.account_id, self.sim.region)

    def _arn(self, kind: str, runtime: ServiceRuntime, suffix: str) -> str:
        return f"arn:aws:ecs:{self.sim.region}:{self.sim.account_id}:{kind}/{runtime.cluster}/{runtime.name}/{suffix}"

    def _id(self) -> str:
        return str(uuid.UUID(int=self.sim.random.getrandbits(128))).replace("-", "")[:22]

    # -- target groups ----------------------------------------------------------------------

    def target_group_for(self, task: TaskRuntime, index: int, entry: dict[str, Any]) -> str | None:
        """The target group a service task registers in for load balancer entry `index`."""
        groups = self.groups.get(task.deployment_id or "")
        if groups and index in groups:
            return groups[index]
        production = self.production.get(task.service_key or "", {})
        return production.get(index) or entry.get("targetGroupArn")

    def _production_group(self, runtime: ServiceRuntime, index: int, entry: dict[str, Any]) -> str | None:
        return self.production.setdefault(runtime.key, {}).get(index) or entry.get("targetGroupArn")

    # -- records ----------------------------------------------------------------------------

    def deployment_created(self, runtime: ServiceRuntime, deployment: DeploymentRuntime) -> None:
        """Record a new deployment of a service: its service revision and its service deployment."""
        service = runtime.service
        now = self.sim.now()
        revision_arn = self._arn("service-revision", runtime, str(self.sim.random.randrange(10**18, 10**19)))
        entries = list(service.load_balancers or [])
        self.revisions[revision_arn] = {
            "serviceRevisionArn": revision_arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "taskDefinition": deployment.task_definition,
            "launchType": service.launch_type,
            "capacityProviderStrategy": getattr(service, "capacity_provider_strategy", None) or None,
            "platformVersion": service.platform_version,
            "platformFamily": deployment.record.get("platformFamily"),
            "loadBalancers": [dict(e) for e in entries] or None,
            "networkConfiguration": getattr(service, "network_configuration", None) or None,
            "createdAt": now,
            "resolvedConfiguration": {
                "loadBalancers": [
                    {
                        "targetGroupArn": self._production_group(runtime, i, e),
                        "productionListenerRule": (e.get("advancedConfiguration") or {}).get(
                            "productionListenerRule"
                        ),
                    }
                    for i, e in enumerate(entries)
                ]
            },
        }
        previous = [
            self.of_deployment[d.id][1] for d in runtime.deployments[1:] if d.id in self.of_deployment
        ]
        arn = self._arn("service-deployment", runtime, self._id())
        configuration = dict(service.deployment_configuration or {})
        breaker = configuration.get("deploymentCircuitBreaker") or {}
        alarms = configuration.get("alarms") or {}
        record: dict[str, Any] = {
            "serviceDeploymentArn": arn,
            "serviceArn": service.arn,
            "clusterArn": service.cluster_arn,
            "createdAt": now,
            "startedAt": now,
            "updatedAt": now,
            "sourceServiceRevisions": [self._summary(runtime, r) for r in previous],
            "targetServiceRevision": self._summary(runtime, revision_arn),
            "status": "IN_PROGRESS",
            "deploymentConfiguration": configuration,
            "deploymentCircuitBreaker": {
                "status": "MONITORING" if breaker.get("enable") else "DISABLED",
                "failureCount": 0,
                "threshold": runtime.failure_threshold(),
            },
            "alarms": {
                "status": "MONITORING" if alarms.get("enable") else "DISABLED",
                **({"alarmNames": list(alarms.get("alarmNames") or [])} if alarms.get("enable") else {}),
            },
        }
        if not previous:
            record["sourceServiceRevisions"] = []
        self.records[arn] = record
        self.by_service.setdefault(runtime.key, []).append(arn)
        self.of_deployment[deployment.id] = (arn, revision_arn)
        service.current_service_deployment = arn
        # A newer deployment replaces one still in progress: it stops where it is (a rolling one the
        # circuit breaker failed is being rolled back by this very deployment).
        for older in runtime.deployments[1:]:
            old = self.records.get(self.of_deployment.get(older.id, ("", ""))[0])
            if old is None or old["status"] not in ("PENDING", "IN_PROGRESS"):
                continue
            if older.record.get("rolloutState") == "FAILED" and runtime.rollback:
                old["deploymentCircuitBreaker"]["status"] = "TRIGGERED"
                old["status"] = "ROLLBACK_IN_PROGRESS"
                old["statusReason"] = "Circuit breaker detected a failure: rolling back."
                old["rollback"] = {
                    "reason": "Circuit breaker triggered rollback.",
                    "startedAt": now,
                    "serviceRevisionArn": revision_arn,
                }
            else:
                self._finish(old, "STOPPED", "Stopped by a newer service deployment.")
        run = self.runs.pop(runtime.key, None)
        if run is not None:
            run.done = True
            run.green.record["rolloutState"] = "FAILED"
            run.green.record["rolloutStateReason"] = f"Stopped by deployment {deployment.id}."
            self._stop_green(run, f"Task stopped by deployment {deployment.id}")
            self._apply(run, (100.0, 0.0), (100.0, 0.0))

    def service_deleted(self, runtime: ServiceRuntime) -> None:
        """A deleted service's deployment in progress stops."""
        run = self.runs.pop(runtime.key, None)
        if run is not None:
            run.done = True
        for arn in self.by_service.get(runtime.key, []):
            if self.records[arn]["status"] in ("PENDING", "IN_PROGRESS"):
                self._finish(self.records[arn], "STOPPED", "The service was deleted.")

    def _summary(self, runtime: ServiceRuntime, revision_arn: str) -> dict[str, Any]:
        deployment = next(
            (d for d in runtime.deployments if self.of_deployment.get(d.id, ("", ""))[1] == revision_arn),
            None,
        )
        running = pending = 0
        if deployment is not None:
            running = int(deployment.record.get("runningCount", 0))
            pending = int(deployment.record.get("pendingCount", 0))
        summary: dict[str, Any] = {
            "arn": revision_arn,
            "requestedTaskCount": int(deployment.record.get("desiredCount", 0)) if deployment else 0,
            "runningTaskCount": running,
            "pendingTaskCount": pending,
        }
        run = self.runs.get(runtime.key)
        if run is not None and run.bindings:
            green_revision = self.of_deployment.get(run.green.id, ("", ""))[1]
            production, test = self._weights(run)
            is_green = revision_arn == green_revision
            summary["requestedProductionTrafficWeight"] = production[1] if is_green else production[0]
            summary["requestedTestTrafficWeight"] = test[1] if is_green else test[0]
        return summary

    def _finish(self, record: dict[str, Any], status: str, reason: str | None = None) -> None:
        now = self.sim.now()
        record["status"] = status
        record["updatedAt"] = now
        if reason:
            record["statusReason"] = reason
        if status in ("STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
            record["stoppedAt"] = now
        record["finishedAt"] = now
        for monitor in ("deploymentCircuitBreaker", "alarms"):
            if record.get(monitor, {}).get("status") == "MONITORING":
                record[monitor]["status"] = "MONITORING_COMPLETE"

    def counts_updated(self, runtime: ServiceRuntime) -> None:
        """Bring the service's deployment records up to date (called after the scheduler counted)."""
        for deployment in runtime.deployments:
            arn = self.of_deployment.get(deployment.id, ("", ""))[0]
            record = self.records.get(arn)
            if record is None:
                continue
            record["deploymentCircuitBreaker"]["failureCount"] = int(deployment.record.get("failedTasks", 0))
            record["targetServiceRevision"] = self._summary(runtime, record["targetServiceRevision"]["arn"])
            record["sourceServiceRevisions"] = [
                self._summary(runtime, s["arn"]) for s in record.get("sourceServiceRevisions") or []
            ]
            run = self.runs.get(runtime.key)
            if record["status"] == "IN_PROGRESS" and (run is None or run.green is not deployment):
                # A rolling deployment: its state follows the ECS deployment's rolloutState.
                rollout = deployment.record.get("rolloutState")
                if rollout == "COMPLETED" and deployment is runtime.deployments[0]:
                    record["lifecycleStage"] = "CLEAN_UP"
                    self._finish(record, "SUCCESSFUL", "Service deployment completed.")
                elif rollout == "FAILED" and not runtime.rollback:
                    record["deploymentCircuitBreaker"]["status"] = "TRIGGERED"
                    self._finish(record, "STOPPED", "Circuit breaker detected a failure.")
            if record["status"] == "ROLLBACK_IN_PROGRESS" and deployment is not runtime.deployments[0]:
                live = any(
                    t.deployment_id == deployment.id and t.status != "STOPPED"
                    for t in self.sim.ecs.tasks.values()
                )
                if not live:
                    self._finish(record, "ROLLBACK_SUCCESSFUL", record.get("statusReason"))
        # Records of deployments gone from the service (their tasks all stopped) finish too.
        known = {self.of_deployment.get(d.id, ("", ""))[0] for d in runtime.deployments}
        for arn in self.by_service.get(runtime.key, []):
            record = self.records[arn]
            if arn in known:
                continue
            if record["status"] == "ROLLBACK_IN_PROGRESS":
                self._finish(record, "ROLLBACK_SUCCESSFUL", record.get("statusReason"))
            elif record["status"] == "STOP_REQUESTED":
                self._finish(record, "STOPPED", record.get("statusReason"))
        runtime.service.current_service_revisions = [
            {
                key: value
                for key, value in self._summary(runtime, self.of_deployment[d.id][1]).items()
                if key in ("arn", "requestedTaskCount", "runningTaskCount", "pendingTaskCount")
            }
            for d in runtime.deployments
            if d.id in self.of_deployment
        ]
        run = self.runs.get(runtime.key)
        if run is not None:
            self._advance(run)

    # -- starting a strategy deployment -----------------------------------------------------

    def start(self, runtime: ServiceRuntime, green: DeploymentRuntime) -> bool:
        """Run `green` as its service's strategy says; True when it is a blue/green, linear or canary run.

        A rolling strategy, or a service with no earlier deployment (nothing to shift from), is left
        to the rolling scheduler.
        """
        config = parse_deployment_configuration(runtime.deployment_configuration)
        if not config.shifts_traffic or len(runtime.deployments) < 2:
            return False
        # Blue is the revision in production: the newest earlier deployment that completed (one a
        # newer deployment interrupted is not), else the one just before.
        earlier = runtime.deployments[1:]
        blue = next((d for d in earlier if d.record.get("rolloutState") == "COMPLETED"), earlier[0])
        arn, _ = self.of_deployment[green.id]
        record = self.records[arn]
        bindings: list[Binding] = []
        green_groups: dict[int, str] = {}
        for index, entry in enumerate(runtime.service.load_balancers or []):
            advanced = entry.get("advancedConfiguration") or {}
            production = self._production_group(runtime, index, entry)
            alternate = advanced.get("alternateTargetGroupArn")
            green_group = (
                alternate if production == entry.get("targetGroupArn") else entry.get("targetGroupArn")
            )
            if alternate and green_group:
                green_groups[index] = green_group
            bindings.append(
                Binding(
                    index=index,
                    blue_group=production,
                    green_group=green_group if alternate else None,
                    production_rule=advanced.get("productionListenerRule"),
                    test_rule=advanced.get("testListenerRule"),
                )
            )
            self.groups.setdefault(blue.id, {})[index] = production or ""
        self.groups[green.id] = green_groups
        others = [d for d in runtime.deployments[1:] if d is not blue]
        plan = plan_deployment(config, reconcile=bool(others))
        run = StrategyRun(
            runtime=runtime,
            green=green,
            blue=blue,
            config=config,
            plan=plan,
            record=record,
            bindings=bindings,
            alarms=dict(runtime.deployment_configuration.get("alarms") or {}),
        )
        self.runs[runtime.key] = run
        self.sim.after(0, functools.partial(self._advance, run), f"service {runtime.name} deployment")
        if run.alarms.get("enable") and run.alarms.get("alarmNames"):
            self.sim.after(
                ALARM_CHECK_SECONDS, functools.partial(self._check_alarms, run), "deployment alarms"
            )
        return True

    # -- the scheduler's part ---------------------------------------------------------------

    def reconcile(self, runtime: ServiceRuntime) -> bool:
        """Schedule a service with a strategy deployment in progress; False: the rolling scheduler's turn."""
        run = self.runs.get(runtime.key)
        if run is None or run.done:
            return False
        ecs = self.sim.ecs
        desired = int(runtime.service.desired_count)
        for deployment in runtime.deployments:
            if deployment is run.blue or deployment is run.green:
                continue
            for task in ecs._tasks_of(runtime, deployment):
                ecs.stop(task, f"Task stopped by deployment {run.green.id}")
        wanted = [(run.blue, desired)]
        scale_up = next(i for i, s in enumerate(run.plan.stages) if s.stage == "SCALE_UP")
        if run.index >= scale_up:
            wanted.append((run.green, desired))
        for deployment, count in wanted:
            tasks = ecs._tasks_of(runtime, deployment)
            live = [t for t in tasks if t.status in ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")]
            if len(live) < count:
                ecs._start_service_tasks(runtime, deployment, count - len(live))
            elif len(live) > count:
                extra = sorted(live, key=lambda t: (t.status == "RUNNING", ecs.healthy(t)))[
                    : len(live) - count
                ]
                for task in extra:
                    ecs.stop(task, f"Scaling activity initiated by (deployment {deployment.id})")
        return True

    def _green_ready(self, run: StrategyRun) -> bool:
        ecs = self.sim.ecs
        tasks = ecs._tasks_of(run.runtime, run.green)
        healthy = sum(1 for t in tasks if ecs.healthy(t))
        return healthy >= int(run.runtime.service.desired_count)

    # -- the stage machine ------------------------------------------------------------------

    def _advance(self, run: StrategyRun) -> None:
        """Move a deployment on as far as it can go now (stages, hooks, traffic, timers)."""
        if run.busy or run.done or self.runs.get(run.runtime.key) is not run:
            return
        run.busy = True
        try:
            self._advance_unguarded(run)
        finally:
            run.busy = False

    def _advance_unguarded(self, run: StrategyRun) -> None:
        runtime = run.runtime
        while not run.done:
            if run.waiting is not None:
                return
            if run.index >= 0:
                stage = run.plan.stages[run.index]
                if stage.stage == "SCALE_UP" and not self._green_ready(run):
                    return
                while run.pending_hooks and run.pending_hooks[0].stage == "PRE_PRODUCTION_TRAFFIC_SHIFT":
                    if not self._run_hook(run, run.pending_hooks.pop(0)):
                        return
                if not run.traffic_applied:
                    run.traffic_applied = True
                    self._apply(run, stage.production, stage.test)
                    self._stage_event(run, stage)
                while run.pending_hooks:
                    if not self._run_hook(run, run.pending_hooks.pop(0)):
                        return
                if stage.duration_seconds > 0:
                    if run.timer_at is None:
                        run.timer_at = self.sim.now() + dt.timedelta(seconds=stage.duration_seconds)
                        self.sim.schedule(
                            run.timer_at, functools.partial(self._advance, run), "deployment bake"
                        )
                    if (run.timer_at - self.sim.now()).total_seconds() > 0.001:
                        return
            run.index += 1
            run.timer_at = None
            run.traffic_applied = False
            if run.index >= len(run.plan.stages):
                self._succeeded(run)
                return
            stage = run.plan.stages[run.index]
            run.record["lifecycleStage"] = stage.stage
            run.record["updatedAt"] = self.sim.now()
            run.pending_hooks = [
                HookRun(
                    hook_id=self._id(),
                    config=hook,
                    stage=hook_stage,
                    expires_at=self.sim.now() + dt.timedelta(minutes=hook.timeout_minutes),
                )
                for hook_stage in stage.hooks
                for hook in run.config.lifecycle_hooks
                if hook_stage in hook.lifecycle_stages
            ]
            if stage.stage == "SCALE_UP":
                # Green's tasks start now (the scheduler keeps them at the desired count from here on).
                self.reconcile(runtime)
                runtime.dirty = True
            if stage.stage == "CLEAN_UP":
                for index, group in self.groups.get(run.green.id, {}).items():
                    self.production.setdefault(runtime.key, {})[index] = group
                for task in self.sim.ecs._tasks_of(runtime, run.blue):
                    self.sim.ecs.stop(task, f"Task stopped by deployment {run.green.id}")

    def _stage_event(self, run: StrategyRun, stage: Any) -> None:
        name = run.runtime.name
        if stage.stage == "PRODUCTION_TRAFFIC_SHIFT":
            blue, green = stage.production
            message = (
                f"(service {name}) (deployment {run.green.id}) shifted production traffic: "
                f"{green:g}% to the new service revision, {blue:g}% to the previous one."
            )
        elif stage.stage == "TEST_TRAFFIC_SHIFT" and any(b.test_rule for b in run.bindings):
            message = f"(service {name}) (deployment {run.green.id}) shifted test traffic to the new service revision."
        else:
            message = f"(service {name}) (deployment {run.green.id}) is in lifecycle stage {stage.stage}."
        self.sim.ecs.event(run.runtime, message)

    def _weights(self, run: StrategyRun) -> tuple[tuple[float, float], tuple[float, float]]:
        if run.index < 0:
            return (100.0, 0.0), (100.0, 0.0)
        stage = run.plan.stages[run.index]
        if not run.traffic_applied and run.index > 0:
            previous = run.plan.stages[run.index - 1]
            return previous.production, previous.test
        return stage.production, stage.test

    def _apply(self, run: StrategyRun, production: tuple[float, float], test: tuple[float, float]) -> None:
        """Rewrite the production and test listener rules to these (blue %, green %) weights."""
        for binding in run.bindings:
            if binding.blue_group is None or binding.green_group is None:
                continue
            for rule, (_, green) in ((binding.production_rule, production), (binding.test_rule, test)):
                if not rule:
                    continue
                blue_weight, green_weight = listener_weights(green)
                moto_seam.elbv2.set_forward_weights(
                    self.elb_backend,
                    rule,
                    [(binding.blue_group, blue_weight), (binding.green_group, green_weight)],
                )

    # -- hooks ------------------------------------------------------------------------------

    def _run_hook(self, run: StrategyRun, hook: HookRun) -> bool:
        """Start one hook; True when it has already succeeded (the stage may go on)."""
        run.hooks.append(hook)
        self._hook_details(run)
        if hook.config.target_type == "PAUSE":
            hook.status = "AWAITING_ACTION"
            run.waiting = hook
            self.sim.ecs.event(
                run.runtime,
                f"(service {run.runtime.name}) (deployment {run.green.id}) is paused at lifecycle stage "
                f"{hook.stage}: waiting for ContinueServiceDeployment (hook {hook.hook_id}).",
            )
            self.sim.schedule(
                hook.expires_at, functools.partial(self._hook_timed_out, run, hook), "hook timeout"
            )
            self._hook_details(run)
            return False
        run.waiting = hook
        # Called from the timeline only, never inside a client's request.
        self.sim.after(0, functools.partial(self._invoke, run, hook), f"lifecycle hook {hook.hook_id}")
        self.sim.schedule(hook.expires_at, functools.partial(self._hook_timed_out, run, hook), "hook timeout")
        return False

    def _hook_details(self, run: StrategyRun) -> None:
        current = [h for h in run.hooks if h.stage in (run.stage, "PRE_PRODUCTION_TRAFFIC_SHIFT")]
        run.record["lifecycleHookDetails"] = [h.detail() for h in current[-10:]]
        run.record["updatedAt"] = self.sim.now()

    def _payload(self, run: StrategyRun, hook: HookRun) -> dict[str, Any]:
        green_revision = self.of_deployment[run.green.id][1]
        blue_revision = self.of_deployment.get(run.blue.id, ("", ""))[1]
        production, test = self._weights(run)
        return {
            "executionDetails": {
                "testTrafficWeights": {blue_revision: test[0], green_revision: test[1]},
                "productionTrafficWeights": {blue_revision: production[0], green_revision: production[1]},
                "serviceArn": run.runtime.service.arn,
                "targetServiceRevisionArn": green_revision,
            },
            "serviceArn": run.runtime.service.arn,
            "targetServiceRevisionArn": green_revision,
            "testTrafficWeights": {blue_revision: test[0], green_revision: test[1]},
            "productionTrafficWeights": {blue_revision: production[0], green_revision: production[1]},
            "lifecycleStage": hook.stage,
            "executionId": run.record["serviceDeploymentArn"].rsplit("/", 1)[-1],
            "hookDetails": hook.details if hook.details is not None else hook.config.hook_details,
        }

    def _invoke(self, run: StrategyRun, hook: HookRun) -> None:
        """Call an AWS_LAMBDA hook's handler (with the simulator's lock released) and act on its answer."""
        if run.done or run.waiting is not hook or hook.status != "IN_PROGRESS":
            return
        arn = str(hook.config.hook_target_arn)
        handler = lifecycle_hook_for(arn)
        hook.invocations += 1
        if handler is None:
            self._hook_failed(
                run,
                hook,
                f"Lifecycle hook {arn} failed at {hook.stage}: Function not found: {arn} "
                "(ResourceNotFoundException). In the sandbox, register a handler with "
                "labkit.sandbox.register_lifecycle_hook.",
            )
            return
        context = LambdaContext(arn.split(":")[6] if arn.count(":") >= 6 else arn, arn, self._id())
        payload = self._payload(run, hook)
        run.busy = True
        try:
            result, error = self._call_unlocked(handler, payload, context)
        finally:
            run.busy = False
        if run.done or run.waiting is not hook or hook.status != "IN_PROGRESS":
            return
        if error is not None:
            self._hook_failed(run, hook, f"Lifecycle hook {arn} failed at {hook.stage}: {error}")
            return
        status = result.get("hookStatus") if isinstance(result, dict) else None
        if status == "SUCCEEDED":
            hook.status = "SUCCEEDED"
            run.waiting = None
            self._hook_details(run)
            self._advance(run)
        elif status == "IN_PROGRESS":
            if isinstance(result, dict) and result.get("hookDetails") is not None:
                hook.details = result["hookDetails"]
            delay = result.get("callBackDelay", DEFAULT_CALLBACK_DELAY) if isinstance(result, dict) else 30
            try:
                seconds = max(1.0, float(delay))
            except (TypeError, ValueError):
                seconds = DEFAULT_CALLBACK_DELAY
            self.sim.after(
                seconds, functools.partial(self._invoke, run, hook), f"lifecycle hook {hook.hook_id}"
            )
        elif status == "FAILED":
            self._hook_failed(run, hook, f"Lifecycle hook {arn} returned FAILED at {hook.stage}.")
        else:
            self._hook_failed(
                run,
                hook,
                f"Lifecycle hook {arn} at {hook.stage} returned no valid hookStatus: {result!r:.200}",
            )

    def _call_unlocked(
        self, handler: LifecycleHookHandler, payload: dict[str, Any], context: LambdaContext
    ) -> tuple[Any, str | None]:
        """Run a handler in a thread while this one waits with the simulator's lock released."""
        condition = threading.Condition(self.sim.lock)
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = handler(payload, context)
            except Exception as exc:  # noqa: BLE001 - a learner's handler failing is the hook failing
                box["error"] = f"{type(exc).__name__}: {exc}"
            finally:
                with condition:
                    box["done"] = True
                    condition.notify_all()

        thread = threading.Thread(target=work, name="labkit-lifecycle-hook", daemon=True)
        with condition:
            thread.start()
            finished = condition.wait_for(lambda: box.get("done", False), timeout=HOOK_WALL_TIMEOUT)
        if not finished:
            return None, f"Task timed out after {HOOK_WALL_TIMEOUT:g} seconds"
        return box.get("result"), box.get("error")

    def _hook_failed(self, run: StrategyRun, hook: HookRun, reason: str) -> None:
        hook.status = "FAILED"
        run.waiting = None
        self._hook_details(run)
        self.sim.ecs.event(run.runtime, f"(service {run.runtime.name}) (deployment {run.green.id}) {reason}")
        self.roll_back(run, reason)

    def _hook_timed_out(self, run: StrategyRun, hook: HookRun) -> None:
        if run.done or hook.status not in ("IN_PROGRESS", "AWAITING_ACTION"):
            return
        hook.status = "TIMED_OUT"
        run.waiting = None
        self._hook_details(run)
        if hook.config.timeout_action == "CONTINUE":
            self._advance(run)
        else:
            self.roll_back(run, f"Lifecycle hook {hook.hook_id} timed out at {hook.stage}.")

    def continue_hook(self, record: dict[str, Any], hook_id: str, action: str) -> None:
        """ContinueServiceDeployment: resolve a PAUSE hook (CONTINUE or ROLLBACK)."""
        run = next((r for r in self.runs.values() if r.record is record), None)
        hook = run.waiting if run is not None else None
        if run is None or hook is None or hook.hook_id != hook_id or hook.status != "AWAITING_ACTION":
            raise moto_seam.ecs.invalid_parameter(
                f"The lifecycle hook {hook_id} is not awaiting action in service deployment "
                f"{record['serviceDeploymentArn']}."
            )
        run.waiting = None
        if action == "ROLLBACK":
            hook.status = "FAILED"
            self._hook_details(run)
            self.roll_back(run, f"ContinueServiceDeployment rolled back at {hook.stage}.")
        else:
            hook.status = "SUCCEEDED"
            self._hook_details(run)
            self.sim.after(0, functools.partial(self._advance, run), "deployment continued")

    # -- alarms and the circuit breaker -----------------------------------------------------

    def _check_alarms(self, run: StrategyRun) -> None:
        if run.done or self.runs.get(run.runtime.key) is not run:
            return
        backend = self.sim.metrics._loaded("cloudwatch")
        names = list(run.alarms.get("alarmNames") or [])
        firing = [
            n
            for n in names
            if backend is not None and getattr(backend.alarms.get(n), "state_value", None) == "ALARM"
        ]
        if firing:
            run.record["alarms"]["status"] = "TRIGGERED"
            run.record["alarms"]["triggeredAlarmNames"] = firing
            reason = f"CloudWatch alarm(s) {', '.join(firing)} in ALARM."
            self.sim.ecs.event(
                run.runtime,
                f"(service {run.runtime.name}) (deployment {run.green.id}) deployment failed: alarm detected.",
            )
            if run.alarms.get("rollback"):
                self.roll_back(run, reason)
            else:
                self._stop_where_it_is(run, reason)
            return
        self.sim.after(ALARM_CHECK_SECONDS, functools.partial(self._check_alarms, run), "deployment alarms")

    def circuit_breaker(self, runtime: ServiceRuntime, deployment: DeploymentRuntime) -> bool:
        """The circuit breaker tripped on `deployment`: True when a strategy run handled it."""
        run = self.runs.get(runtime.key)
        if run is None or run.green is not deployment or run.done:
            return False
        run.record["deploymentCircuitBreaker"]["status"] = "TRIGGERED"
        reason = "Circuit breaker detected a failure: tasks failed to start."
        if runtime.rollback:
            self.roll_back(run, reason)
        else:
            self._stop_where_it_is(run, reason)
        return True

    # -- endings ----------------------------------------------------------------------------

    def _stop_green(self, run: StrategyRun, reason: str) -> None:
        for task in self.sim.ecs._tasks_of(run.runtime, run.green):
            self.sim.ecs.stop(task, reason)

    def roll_back(self, run: StrategyRun, reason: str, *, final: str = "ROLLBACK_SUCCESSFUL") -> None:
        """Traffic back to blue, green's tasks stopped, blue PRIMARY again; the record says why."""
        if run.done:
            return
        run.done = True
        self.runs.pop(run.runtime.key, None)
        runtime = run.runtime
        now = self.sim.now()
        self._apply(run, (100.0, 0.0), (100.0, 0.0))
        blue_revision = self.of_deployment.get(run.blue.id, ("", ""))[1]
        record = run.record
        record["status"] = "ROLLBACK_IN_PROGRESS" if final == "ROLLBACK_SUCCESSFUL" else "STOP_REQUESTED"
        record["statusReason"] = reason
        record["updatedAt"] = now
        if final == "ROLLBACK_SUCCESSFUL":
            record["rollback"] = {"reason": reason, "startedAt": now, "serviceRevisionArn": blue_revision}
        green = run.green
        green.record["rolloutState"] = "FAILED"
        green.record["rolloutStateReason"] = reason
        green.record["status"] = "ACTIVE"
        if run.blue in runtime.deployments:
            runtime.deployments.remove(run.blue)
            runtime.deployments.insert(0, run.blue)
        run.blue.record["status"] = "PRIMARY"
        runtime.service.task_definition = run.blue.task_definition
        runtime.service.deployments = [d.record for d in runtime.deployments]
        runtime.dirty = True
        self._stop_green(run, f"Task stopped by rollback of deployment {green.id}")
        self.sim.ecs.event(
            runtime,
            f"(service {runtime.name}) (deployment {green.id}) rolling back to the previous service revision: {reason}",
        )

    def _stop_where_it_is(self, run: StrategyRun, reason: str) -> None:
        """A failure without rollback: the deployment is STOPPED; traffic and tasks stay as they are."""
        run.done = True
        self.runs.pop(run.runtime.key, None)
        run.green.record["rolloutState"] = "FAILED"
        run.green.record["rolloutStateReason"] = reason
        self._finish(run.record, "STOPPED", reason)

    def _succeeded(self, run: StrategyRun) -> None:
        run.done = True
        self.runs.pop(run.runtime.key, None)
        self._finish(run.record, "SUCCESSFUL", "Service deployment completed.")
        run.runtime.dirty = True
        self.sim.ecs.event(
            run.runtime,
            f"(service {run.runtime.name}) (deployment {run.green.id}) service deployment completed.",
        )

    def stop(self, record: dict[str, Any], stop_type: str) -> None:
        """StopServiceDeployment: ROLLBACK rolls back, ABORT stops (traffic returns to blue as well)."""
        if record["status"] not in ("PENDING", "IN_PROGRESS"):
            raise moto_seam.ecs.ecs_error(
                "ConflictException",
                f"The service deployment {record['serviceDeploymentArn']} is {record['status']} and can't be stopped.",
            )
        run = next((r for r in self.runs.values() if r.record is record), None)
        reason = f"StopServiceDeployment ({stop_type}) requested by the user."
        if run is None:
            # A rolling deployment: back to the previous deployment, as the circuit breaker's rollback does.
            runtime = next(
                (rt for rt in self.sim.ecs.services.values() if rt.service.arn == record["serviceArn"]), None
            )
            if runtime is None or len(runtime.deployments) < 2:
                self._finish(record, "STOPPED", reason)
                return
            previous = runtime.deployments[1]
            runtime.deployments[0].record["rolloutState"] = "FAILED"
            runtime.deployments[0].record["rolloutStateReason"] = reason
            record["status"] = "ROLLBACK_IN_PROGRESS" if stop_type == "ROLLBACK" else "STOP_REQUESTED"
            record["statusReason"] = reason
            runtime.service.task_definition = previous.task_definition
            self.sim.ecs.new_deployment(runtime, previous.task_definition)
            return
        self.roll_back(run, reason, final="ROLLBACK_SUCCESSFUL" if stop_type == "ROLLBACK" else "STOPPED")
