"""Checkpoints of the troubleshooting lab: what `lab.check` and the grader run (reference steps: reference.py).

Six services (`web-1` ... `web-6`, see scenario.py) are each broken by one fault. Per service, two
checkpoints:

- `named-web-N`: the cause the learner names (an SSM parameter `/troubleshooting/causes/web-N` that
  the notebook writes from `answers[...]`) is the right one of `CAUSES`. Exactly one cause: a list,
  or several names, is not an answer.
- `fixed-web-N`: the service the lab made, under its own name, runs its task in one completed
  deployment, healthy in its own target group (the healthy targets are this service's tasks, not
  another service's), a task has stayed up for a minute, and its listener answers HTTP 200; and the
  cause is named right: a fix without the right cause named does not count.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, failed, passed, settling

from .scenario import ANSWERS, CAUSES, CLUSTER, LOAD_BALANCER, SERVICES, assignment, port, target_group_name

checkpoints = CheckpointSet("troubleshooting")

#: How long (sandbox seconds) a fixed service's task must have been up: a fault that kills tasks
#: (memory, a sidecar) has shown itself by then.
STABLE_SECONDS = 60.0

#: Where each cause shows first: the checkpoints' hints.
WHERE_TO_LOOK = [
    "Start with the service's events: aws ecs describe-services --cluster trouble --services web-N "
    "(the newest event first). 'failed ELB health checks' points at target health; tasks that keep "
    "starting point at stopped tasks.",
    "Stopped tasks stay visible for a while: aws ecs list-tasks --cluster trouble --service-name web-N "
    "--desired-status STOPPED, then describe-tasks: read stoppedReason, stopCode and each container's "
    "exitCode and reason.",
    "Target health says why the load balancer gave up: aws elbv2 describe-target-health "
    "--target-group-arn ... (Reason and Description), and compare with describe-target-groups "
    "(HealthCheckPath, HealthCheckPort) and the tasks' security group rules.",
]


def answer_of(ctx: CheckContext, service: str) -> tuple[str | None, str]:
    """The cause named for `service` (normalised) and, when there is none that counts, why."""
    name = ANSWERS + service
    try:
        value = str(ctx.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError:
        return (
            None,
            f"No cause is named for {service} yet (answers[{service!r}] = one of CAUSES, then save it).",
        )
    if not ctx.parameter_ours(name):
        return None, f"The parameter {name} was not written in this lab."
    text = value.strip().strip("\"'").strip().lower()
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, list | dict) or any(mark in text for mark in (",", ";", " or ", "|", "\n")):
        return None, f"The answer for {service} names more than one cause: name exactly one."
    if text not in CAUSES:
        return None, f"{value[:60]!r} is not one of the causes: {', '.join(CAUSES)}."
    tried = _answers_tried(ctx, name)
    if len(tried) > TRIES:
        return None, (
            f"The answer for {service} has been {len(tried)} different causes: a cause counts within "
            f"{TRIES} tries, not by trying them all."
        )
    return text, ""


#: How many different causes a learner may name for one service before the answer no longer counts.
TRIES = 2


def _answers_tried(ctx: CheckContext, name: str) -> set[str]:
    """The different causes ever saved in the answer parameter (its version history)."""
    tried: set[str] = set()
    paginator = ctx.client("ssm").get_paginator("get_parameter_history")
    try:
        for page in paginator.paginate(Name=name):
            tried.update(
                str(v.get("Value", "")).strip().strip("\"'").strip().lower() for v in page["Parameters"]
            )
    except ClientError:
        return set()
    return tried


def _named(ctx: CheckContext, service: str) -> Outcome:
    named, problem = answer_of(ctx, service)
    if named is None:
        return failed(problem)
    if named != assignment(ctx.sandbox.account_id)[service]:
        return failed(f"{named} is not what broke {service}: look again at what AWS tells you.")
    return passed(f"{service}: {named}, right.")


def _target_group_arn(ctx: CheckContext, service: str) -> str | None:
    try:
        groups = ctx.client("elbv2").describe_target_groups(Names=[target_group_name(service)])[
            "TargetGroups"
        ]
    except ClientError:
        return None
    arn = str(groups[0]["TargetGroupArn"]) if groups else None
    return arn if arn is not None and ctx.elb_ours(arn) else None


def _task_addresses(task: dict[str, Any]) -> set[str]:
    found = set()
    for attachment in task.get("attachments") or []:
        for detail in attachment.get("details") or []:
            if detail.get("name") == "privateIPv4Address":
                found.add(str(detail.get("value")))
    return found


def _age(ctx: CheckContext, moment: Any) -> float:
    now = ctx.sandbox.now()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return float((now - moment).total_seconds())


def _service_works(ctx: CheckContext, service: str) -> Outcome:
    described = ctx.service(CLUSTER, service)
    if described is None:
        return failed(
            f"There is no active service {service} in the cluster {CLUSTER}: fix the service you were "
            "given (a new service under another name does not count)."
        )
    tg_arn = _target_group_arn(ctx, service)
    if tg_arn is None:
        return failed(
            f"The target group {target_group_name(service)} is gone: the lab's load balancer needs it."
        )
    entries = [lb for lb in described.get("loadBalancers") or [] if lb.get("targetGroupArn") == tg_arn]
    if not entries:
        return failed(f"{service} is no longer behind its target group {target_group_name(service)}.")
    recent_change = any(ctx.recent(d.get("updatedAt"), 600) for d in described.get("deployments") or [])

    def not_yet(message: str) -> Outcome:
        starting = ctx.tasks_starting(CLUSTER, serviceName=service)
        return settling(message) if starting or recent_change else failed(message)

    deployments = described.get("deployments") or []
    if len(deployments) != 1 or deployments[0].get("rolloutState") != "COMPLETED":
        return not_yet(f"{service} has not reached a steady state: its deployment is not complete.")
    desired = int(described.get("desiredCount") or 0)
    if desired < 1 or described.get("runningCount") != desired:
        return not_yet(
            f"{service} runs {described.get('runningCount')} of {desired} tasks (at least 1 is needed)."
        )
    ecs = ctx.client("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    running = [t for t in tasks if t.get("lastStatus") == "RUNNING"]
    addresses = set().union(*(_task_addresses(t) for t in running)) if running else set()
    health = ctx.client("elbv2").describe_target_health(TargetGroupArn=tg_arn)["TargetHealthDescriptions"]
    healthy = {d["Target"]["Id"] for d in health if d["TargetHealth"]["State"] == "healthy"}
    if not healthy:
        return not_yet(f"No target of {target_group_name(service)} is healthy.")
    if not healthy <= addresses:
        return failed(f"Healthy targets of {target_group_name(service)} are not tasks of {service}.")
    if not addresses <= healthy:
        return not_yet(f"Not every task of {service} is healthy in {target_group_name(service)} yet.")
    started = [t.get("startedAt") for t in running if t.get("startedAt") is not None]
    if not started or max(_age(ctx, s) for s in started) < STABLE_SECONDS:
        return settling(
            f"{service}'s tasks started less than {STABLE_SECONDS:.0f} seconds ago: watch them a little longer."
        )
    try:
        lb = ctx.client("elbv2").describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0]
        url = ctx.sandbox.listener_url(lb["LoadBalancerArn"], port(service))
    except Exception:  # noqa: BLE001 - no listener is said in the learner's terms
        return failed(f"{LOAD_BALANCER} has no listener on port {port(service)} for {service}.")
    status, _ = ctx.http_get(url)
    if status != 200:
        return not_yet(f"The load balancer's port {port(service)} answered HTTP {status}.")
    return passed(
        f"{service} is steady, healthy in {target_group_name(service)} and serves on port {port(service)}."
    )


def _fixed(ctx: CheckContext, service: str) -> Outcome:
    outcome = ctx.eventually(lambda: _service_works(ctx, service))
    if not outcome.passed:
        return outcome
    named = _named(ctx, service)
    if not named.passed:
        return failed(f"{service} works again, but the fix counts once its cause is named: {named.message}")
    return outcome


def _register(service: str) -> None:
    @checkpoints.checkpoint(
        f"named-{service}", f"The cause of {service}'s failure is named", points=1, hints=WHERE_TO_LOOK
    )
    def named(ctx: CheckContext) -> Outcome:
        return _named(ctx, service)

    @checkpoints.checkpoint(
        f"fixed-{service}",
        f"{service} is fixed: steady, healthy and serving through the load balancer",
        points=2,
        hints=[
            f"Fix {service} itself (same name, same target group): a new revision, a target group setting, "
            "a security group rule, as the cause needs.",
            "A fixed service reaches a steady state: aws ecs wait services-stable, then describe-target-health.",
            "The fix counts once the cause is named right (the named- checkpoint).",
        ],
    )
    def fixed(ctx: CheckContext) -> Outcome:
        return _fixed(ctx, service)


for _service in SERVICES:
    _register(_service)
