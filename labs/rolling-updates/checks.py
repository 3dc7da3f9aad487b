"""Checkpoints of the rolling-updates lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `rolling-lab`, service `rolling-web` (4 Fargate tasks behind the target
group `rolling-tg` of the load balancer `rolling-alb`), task definition family `rolling-web` (container
`web`, image `nginxdemos/hello`, port 80; each revision says which version it is in the environment
variable `APP_VERSION`: v1, v2, v3, and a broken v4 whose command ends in `exit 1`).

A prediction lives in the sandbox, so that the grader (which runs outside the learner's kernel) can
read it: an SSM parameter (`PREDICTIONS[...]`) holding the predicted (old, new) task counts as JSON,
e.g. `[[4, 0], [2, 0], ...]`. An observation is rebuilt from the sandbox too: the start
(`startedAt`) and stop (`stoppingAt`) times of the service's tasks, running or stopped, give the
sequence of (old, new) RUNNING counts the rollout went through.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.ecs.rolling import plan_rolling_update, rolling_bounds

checkpoints = CheckpointSet("rolling-updates")


CLUSTER = "rolling-lab"


FAMILY = "rolling-web"


SERVICE = "rolling-web"


CONTAINER = "web"


DESIRED = 4


TARGET_GROUP = "rolling-tg"


#: The SSM parameters that hold the learner's predictions, by (minimumHealthyPercent, maximumPercent).
PREDICTIONS = {
    (50, 100): "/labkit/rolling-updates/prediction/min50-max100",
    (100, 150): "/labkit/rolling-updates/prediction/min100-max150",
}


#: Events closer together than this (seconds) are one step of a rollout: AWS stops or starts a
#: batch of tasks within a moment, not at one instant.
SAME_STEP_SECONDS = 3.0


_PAIR = re.compile(r"[\[(]\s*(\d+)\s*,\s*(\d+)\s*[\])]")


_FAILING_COMMAND = re.compile(r"\bexit\s+[1-9]\d*\s*$")


State = tuple[int, int]


def plan_states(minimum: int, maximum: int, desired: int = DESIRED) -> list[State]:
    """The (old, new) RUNNING counts a rollout of `desired` tasks goes through, start and end included."""
    plan = plan_rolling_update(desired, minimum, maximum)
    return [(desired, 0), *((step.old, step.new) for step in plan.steps)]


def _service(ctx: CheckContext) -> dict[str, Any] | None:
    return ctx.service(CLUSTER, SERVICE)


def _target_group_arn(ctx: CheckContext) -> str | None:
    """The ARN of the lab's target group (in a real account, only if it carries this session's tag)."""
    elbv2 = ctx.client("elbv2")
    try:
        groups = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"]
    except ClientError:
        return None
    if not groups:
        return None
    arn = str(groups[0]["TargetGroupArn"])
    return arn if ctx.elb_ours(arn) else None


def _revisions(ctx: CheckContext) -> dict[str, dict[str, Any]]:
    """This lab's task definition revisions by ARN (with `version` and `broken` worked out)."""
    ecs = ctx.client("ecs")
    arns: list[str] = []
    for status in ("ACTIVE", "INACTIVE"):
        for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=FAMILY, status=status):
            arns.extend(page["taskDefinitionArns"])
    found: dict[str, dict[str, Any]] = {}
    for arn in arns:
        described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        if not ctx.ours(described.get("tags")):
            continue
        definition = described["taskDefinition"]
        if definition.get("family") != FAMILY:
            continue
        containers = {c["name"]: c for c in definition.get("containerDefinitions", [])}
        web = containers.get(CONTAINER, {})
        environment = {e.get("name"): e.get("value") for e in web.get("environment", [])}
        command = " ".join(web.get("command") or []) + " " + " ".join(web.get("entryPoint") or [])
        found[arn] = {
            "revision": definition.get("revision"),
            "version": environment.get("APP_VERSION"),
            "broken": bool(_FAILING_COMMAND.search(command.strip())),
        }
    return found


def _service_tasks(ctx: CheckContext) -> list[dict[str, Any]]:
    """Every task of the service the sandbox still describes: running and stopped ones."""
    ecs = ctx.client("ecs")
    arns: list[str] = []
    for status in ("RUNNING", "STOPPED"):
        try:
            for page in ecs.get_paginator("list_tasks").paginate(
                cluster=CLUSTER, serviceName=SERVICE, desiredStatus=status
            ):
                arns.extend(page["taskArns"])
        except ClientError:
            return []
    tasks: list[dict[str, Any]] = []
    for start in range(0, len(arns), 100):
        tasks.extend(ecs.describe_tasks(cluster=CLUSTER, tasks=arns[start : start + 100])["tasks"])
    return tasks


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)


def observed_states(tasks: list[dict[str, Any]], old: set[str], new: set[str]) -> list[State]:
    """The (old, new) RUNNING counts from the first new task's creation until all old tasks are gone.

    A task runs from `startedAt` until `stoppingAt` (or `stoppedAt`); events within
    `SAME_STEP_SECONDS` of the first of a batch count as one step. Returns [] when no task of the
    new revisions exists.
    """
    created = [_seconds(t.get("createdAt")) for t in tasks if t.get("taskDefinitionArn") in new]
    starts = [c for c in created if c is not None]
    if not starts:
        return []
    begin = min(starts)
    changes: list[tuple[float, int, int]] = []  # (time, old delta, new delta)
    state = [0, 0]
    for task in tasks:
        arn = task.get("taskDefinitionArn")
        if arn not in old and arn not in new:
            continue
        started = _seconds(task.get("startedAt"))
        if started is None:
            continue
        ended = _seconds(task.get("stoppingAt")) or _seconds(task.get("stoppedAt"))
        which = 0 if arn in old else 1
        if started <= begin and (ended is None or ended > begin):
            state[which] += 1
        if started > begin:
            changes.append((started, 1 if which == 0 else 0, 1 if which == 1 else 0))
        if ended is not None and ended > begin and started <= ended:
            changes.append((ended, -1 if which == 0 else 0, -1 if which == 1 else 0))
    changes.sort()
    states: list[State] = [(state[0], state[1])]
    index = 0
    while index < len(changes):
        first = changes[index][0]
        while index < len(changes) and changes[index][0] - first <= SAME_STEP_SECONDS:
            state[0] += changes[index][1]
            state[1] += changes[index][2]
            index += 1
        now: State = (state[0], state[1])
        if now != states[-1]:
            states.append(now)
        if now[0] == 0 and now[1] >= DESIRED:
            break
    return states


def _show(states: list[State]) -> str:
    return " ".join(f"({o},{n})" for o, n in states)


def _is_subsequence(wanted: list[State], seen: list[State]) -> bool:
    remaining = iter(seen)
    return all(state in remaining for state in wanted)


@checkpoints.checkpoint(
    "service-running",
    "A Fargate service runs four tasks behind the load balancer",
    points=2,
    hints=[
        f"Register {FAMILY} (version v1) with task_definition('v1'), then ecs.create_service(cluster='{CLUSTER}', "
        f"serviceName='{SERVICE}', taskDefinition='{FAMILY}', desiredCount=4, launchType='FARGATE', ...).",
        "Give it networkConfiguration (your subnets, the tasks' security group) and loadBalancers "
        f"[{{'targetGroupArn': ..., 'containerName': '{CONTAINER}', 'containerPort': 80}}].",
        "deploymentConfiguration={'minimumHealthyPercent': 50, 'maximumPercent': 100}; then wait with the "
        "services_stable waiter.",
    ],
)
def service_running(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        service = _service(ctx)
        if service is None:
            return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
        if service.get("launchType") != "FARGATE":
            return failed(f"{SERVICE} does not use the FARGATE launch type.")
        target_group = _target_group_arn(ctx)
        if not any(
            lb.get("targetGroupArn") == target_group
            and lb.get("containerName") == CONTAINER
            and lb.get("containerPort") == 80
            for lb in service.get("loadBalancers", [])
        ):
            return failed(
                f"{SERVICE} is not attached to {TARGET_GROUP} with container '{CONTAINER}' and port 80."
            )
        if service["desiredCount"] != DESIRED:
            return failed(
                f"{SERVICE} wants {counted(service['desiredCount'], 'task')}; this lab uses {DESIRED}."
            )
        if len(service.get("deployments", [])) != 1 or service["runningCount"] != DESIRED:
            return settling(
                f"{service['runningCount']} of {DESIRED} tasks are RUNNING and "
                f"{counted(len(service.get('deployments', [])), 'deployment')} under way; wait for it to be stable."
            )
        return passed(f"{SERVICE} runs {DESIRED} tasks of {service['taskDefinition'].split('/')[-1]}.")

    return ctx.eventually(look)


def _prediction(ctx: CheckContext, bounds: tuple[int, int]) -> Outcome:
    name = PREDICTIONS[bounds]
    ssm = ctx.client("ssm")
    try:
        parameter = ssm.get_parameter(Name=name)["Parameter"]
    except ClientError:
        return failed(f"There is no SSM parameter {name} holding your prediction.")
    if not ctx.parameter_ours(name):
        return failed(f"The parameter {name} was not written in this lab session.")
    predicted = [(int(o), int(n)) for o, n in _PAIR.findall(str(parameter.get("Value", "")))]
    if not predicted:
        return failed(
            f"{name} holds {parameter.get('Value')!r}, not a list of (old, new) pairs such as [[4, 0], [2, 0]]."
        )
    minimum, maximum = bounds
    expected = plan_states(minimum, maximum)
    if predicted == expected:
        return passed(f"Predicted {_show(predicted)} for {minimum}/{maximum}: right.")
    if predicted[0] != expected[0]:
        return failed(
            f"Your prediction starts at {predicted[0]}; before the update 4 old and 0 new tasks run."
        )
    if predicted[-1] != expected[-1]:
        return failed(
            f"Your prediction ends at {predicted[-1]}; the update ends when 0 old and 4 new tasks run."
        )
    lower, upper = rolling_bounds(DESIRED, minimum, maximum)
    for old, new in predicted:
        if old + new > upper:
            return failed(
                f"({old},{new}) runs {old + new} tasks; maximumPercent {maximum} of 4 allows at most {upper}."
            )
        if old + new < lower:
            return failed(
                f"({old},{new}) runs {old + new} tasks; minimumHealthyPercent {minimum} of 4 keeps at least {lower}."
            )
    return failed(
        f"{_show(predicted)} stays within the bounds but is not what ECS does: each step stops as many old "
        "tasks as the lower bound allows, then starts as many new ones as the upper bound allows."
    )


_PREDICT_HINTS = [
    "Work out the bounds first: at least ceil(4 * minimumHealthyPercent / 100) tasks stay RUNNING and healthy, "
    "at most floor(4 * maximumPercent / 100) run or start.",
    "Each step first stops old tasks down to the lower bound, then starts new tasks up to the upper bound; "
    "a new task counts once it is RUNNING and healthy in the target group.",
    "Write the list of (old, new) pairs, first (4, 0) and last (0, 4), with save_prediction(...); "
    "labkit.ecs.rolling.plan_rolling_update(4, minimum, maximum).describe() checks your reasoning.",
]


@checkpoints.checkpoint(
    "predicted-min50-max100",
    "You predicted the (old, new) task counts of a 50/100 rollout",
    points=2,
    hints=_PREDICT_HINTS,
)
def predicted_min50_max100(ctx: CheckContext) -> Outcome:
    return _prediction(ctx, (50, 100))


def _observed(ctx: CheckContext, old_version: str, new_version: str, bounds: tuple[int, int]) -> Outcome:
    service = _service(ctx)
    if service is None:
        return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
    revisions = _revisions(ctx)
    old = {arn for arn, r in revisions.items() if r["version"] == old_version and not r["broken"]}
    new = {arn for arn, r in revisions.items() if r["version"] == new_version and not r["broken"]}
    if not new:
        return failed(f"There is no revision of {FAMILY} with APP_VERSION={new_version} yet.")
    tasks = _service_tasks(ctx)
    states = observed_states(tasks, old, new)
    if not states:
        message = f"{SERVICE} has run no task of {new_version} yet: update the service to that revision."
        # Updated to the new revision, the service is about to start its tasks.
        return settling(message) if service["taskDefinition"] in new else failed(message)
    minimum, maximum = bounds
    expected = plan_states(minimum, maximum)
    if states[-1] != expected[-1]:
        under_way = len(service.get("deployments", [])) > 1 or any(
            d.get("rolloutState") == "IN_PROGRESS" for d in service.get("deployments", [])
        )
        return (settling if under_way else failed)(
            f"The rollout from {old_version} to {new_version} has got to {_show(states)} so far; wait until "
            f"0 {old_version} and 4 {new_version} tasks run."
        )
    if not _is_subsequence(expected, states):
        return failed(
            f"The rollout from {old_version} to {new_version} went {_show(states)}; a {minimum}/{maximum} rollout "
            f"goes {_show(expected)}. Set deploymentConfiguration minimumHealthyPercent={minimum}, "
            f"maximumPercent={maximum} in the same update_service call as the new task definition."
        )
    return passed(
        f"{old_version} to {new_version} went {_show(states)}, as a {minimum}/{maximum} rollout does."
    )


@checkpoints.checkpoint(
    "rolled-v1-to-v2-at-min50-max100",
    "The service rolled from v1 to v2 with minimumHealthyPercent 50 and maximumPercent 100",
    points=3,
    hints=[
        "Register revision v2 with task_definition('v2') (only APP_VERSION changes).",
        f"ecs.update_service(cluster='{CLUSTER}', service='{SERVICE}', taskDefinition=<the v2 ARN>, "
        "deploymentConfiguration={'minimumHealthyPercent': 50, 'maximumPercent': 100}).",
        "Then watch it with watch_rollout(...) until 0 old and 4 new tasks run.",
    ],
)
def rolled_v1_to_v2(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _observed(ctx, "v1", "v2", (50, 100)))


@checkpoints.checkpoint(
    "predicted-min100-max150",
    "You predicted the (old, new) task counts of a 100/150 rollout",
    points=2,
    hints=_PREDICT_HINTS,
)
def predicted_min100_max150(ctx: CheckContext) -> Outcome:
    return _prediction(ctx, (100, 150))


@checkpoints.checkpoint(
    "rolled-v2-to-v3-at-min100-max150",
    "The service rolled from v2 to v3 with minimumHealthyPercent 100 and maximumPercent 150",
    points=3,
    hints=[
        "Register revision v3 with task_definition('v3').",
        "update_service with taskDefinition=<the v3 ARN> and "
        "deploymentConfiguration={'minimumHealthyPercent': 100, 'maximumPercent': 150}.",
    ],
)
def rolled_v2_to_v3(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _observed(ctx, "v2", "v3", (100, 150)))


@checkpoints.checkpoint(
    "circuit-breaker-rolled-back",
    "The deployment circuit breaker rolled a failing revision back",
    points=3,
    hints=[
        "Register v4 with task_definition('v4', BROKEN_COMMAND): its container exits with code 1 right after it starts.",
        "Deploy it with deploymentConfiguration={'minimumHealthyPercent': 100, 'maximumPercent': 150, "
        "'deploymentCircuitBreaker': {'enable': True, 'rollback': True}}.",
        "Do not roll back yourself: wait until the service's only deployment is COMPLETED again on v3.",
    ],
)
def circuit_breaker_rolled_back(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        service = _service(ctx)
        if service is None:
            return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
        revisions = _revisions(ctx)
        broken = {arn for arn, r in revisions.items() if r["broken"]}
        if not broken:
            return failed(f"There is no revision of {FAMILY} whose container command ends in `exit 1`.")
        crashed = [
            t
            for t in _service_tasks(ctx)
            if t.get("taskDefinitionArn") in broken
            and any(c.get("exitCode") not in (None, 0) for c in t.get("containers", []))
        ]
        if not crashed:
            message = f"No task of the broken revision has run in {SERVICE} yet: deploy it."
            # Deployed, its first tasks are still starting (and about to crash).
            return settling(message) if service["taskDefinition"] in broken else failed(message)
        breaker = service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
        if not (breaker.get("enable") and breaker.get("rollback")):
            return failed(
                f"{SERVICE}'s deployment circuit breaker is not on with rollback: "
                "deploymentCircuitBreaker={'enable': True, 'rollback': True}."
            )
        if service["taskDefinition"] in broken:
            return settling(
                f"{SERVICE} is still on the broken revision ({counted(len(crashed), 'task')} crashed so far); "
                "give the circuit breaker time to count the failures."
            )
        deployments = service.get("deployments", [])
        if len(deployments) != 1 or deployments[0].get("rolloutState") != "COMPLETED":
            return settling("The rollback is under way; wait until its deployment is COMPLETED.")
        back_to = revisions.get(service["taskDefinition"], {}).get("version")
        return passed(
            f"{counted(len(crashed), 'task')} of the broken revision exited; the circuit breaker rolled {SERVICE} back to "
            f"{back_to or service['taskDefinition'].split('/')[-1]}."
        )

    return ctx.eventually(look)
