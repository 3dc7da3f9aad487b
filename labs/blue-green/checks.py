"""Checkpoints of the blue-green lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `bg-lab`, service `bg-web` (3 Fargate tasks), task definition family
`bg-web` (container `web`, image `nginx`, port 80; each revision writes a page naming its version and
says which version it is in the environment variable `APP_VERSION`: v1, v2, a canary v3 whose
checkout is broken, and v4). The load balancer `bg-alb` has a production listener on port 80 and a
test listener on port 8080, each with one rule forwarding to the target groups `bg-blue-tg` and
`bg-green-tg` by weight; ECS moves those weights during a blue/green, canary or linear deployment.

Everything is graded from what the sandbox keeps, never from what the notebook printed:

- ECS's own record of each deployment (`ListServiceDeployments`, `DescribeServiceDeployments`,
  `DescribeServiceRevisions`): its strategy, status, bake time, alarms and target group;
- the tasks' start and stop times (ECS describes a stopped task for at least an hour);
- the load balancer's CloudWatch metric `RequestCountPerTarget` per target group and minute: which
  target group answered requests, and when;
- the alarm's history (`DescribeAlarmHistory`);
- one SSM parameter holding the ARN of the deployment the alarm rolled back, which only reading the
  deployments back gives.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling

checkpoints = CheckpointSet("blue-green")


CLUSTER = "bg-lab"


SERVICE = "bg-web"


FAMILY = "bg-web"


CONTAINER = "web"


DESIRED = 3


LOAD_BALANCER = "bg-alb"


BLUE_TARGET_GROUP = "bg-blue-tg"


GREEN_TARGET_GROUP = "bg-green-tg"


PRODUCTION_PORT = 80


TEST_PORT = 8080


ALARM = "bg-canary-checkout-errors"


#: The SSM parameter holding the ARN of the deployment the alarm rolled back (read back in step 5).
ROLLED_BACK_PARAMETER = "/labkit/blue-green/rolled-back-deployment"


#: A linear rollout must shift traffic in at least this many steps to be watched step by step.
MIN_LINEAR_STEPS = 3


#: A deployment in one of these states may still end by itself.
UNDER_WAY = frozenset(
    {"PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"}
)


# -- reading the sandbox ---------------------------------------------------------------------------


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    return float(value)


def _versions(ctx: CheckContext) -> dict[str, str]:
    """This lab's task definition revisions (of this session) by ARN: their `APP_VERSION`."""
    ecs = ctx.client("ecs")
    arns: list[str] = []
    for status in ("ACTIVE", "INACTIVE"):
        for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=FAMILY, status=status):
            arns.extend(page["taskDefinitionArns"])
    found: dict[str, str] = {}
    for arn in arns:
        described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        if not ctx.ours(described.get("tags")):
            continue
        definition = described["taskDefinition"]
        if definition.get("family") != FAMILY:
            continue
        for container in definition.get("containerDefinitions", []):
            if container.get("name") == CONTAINER:
                environment = {e.get("name"): e.get("value") for e in container.get("environment", [])}
                if environment.get("APP_VERSION"):
                    found[arn] = str(environment["APP_VERSION"])
    return found


def _deployments(ctx: CheckContext) -> list[dict[str, Any]]:
    """Every deployment ECS keeps of the service, described, oldest first ([] without the service)."""
    ecs = ctx.client("ecs")
    arns: list[str] = []
    token: str | None = None
    try:
        while True:
            page = ecs.list_service_deployments(
                cluster=CLUSTER, service=SERVICE, **({"nextToken": token} if token else {})
            )
            arns.extend(d["serviceDeploymentArn"] for d in page.get("serviceDeployments", []))
            token = page.get("nextToken")
            if not token:
                break
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in (
            "ServiceNotFoundException",
            "ClusterNotFoundException",
        ):
            return []
        raise
    described: list[dict[str, Any]] = []
    for start in range(0, len(arns), 20):
        described.extend(
            ecs.describe_service_deployments(serviceDeploymentArns=arns[start : start + 20])[
                "serviceDeployments"
            ]
        )
    return sorted(described, key=lambda d: _seconds(d.get("createdAt")) or 0.0)


def _revision(ctx: CheckContext, arn: str | None) -> dict[str, Any]:
    """A service revision, described ({} when there is none)."""
    if not arn:
        return {}
    found = (
        ctx.client("ecs").describe_service_revisions(serviceRevisionArns=[arn]).get("serviceRevisions", [])
    )
    return dict(found[0]) if found else {}


def _target_version(ctx: CheckContext, deployment: dict[str, Any], versions: dict[str, str]) -> str | None:
    revision = _revision(ctx, (deployment.get("targetServiceRevision") or {}).get("arn"))
    return versions.get(str(revision.get("taskDefinition")))


def _strategy(deployment: dict[str, Any]) -> str:
    return str((deployment.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING")


def _to_version(
    ctx: CheckContext, version: str, strategy: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The newest deployment of the service to `version` with `strategy`, and every deployment to it."""
    versions = _versions(ctx)
    to_version = [d for d in _deployments(ctx) if _target_version(ctx, d, versions) == version]
    chosen = [d for d in to_version if _strategy(d) == strategy]
    return (chosen[-1] if chosen else None), to_version


def _group_pair(ctx: CheckContext) -> tuple[str, str] | None:
    """The ARNs of the lab's (blue, green) target groups (in a real account, only this session's)."""
    elbv2 = ctx.client("elbv2")
    try:
        groups = elbv2.describe_target_groups(Names=[BLUE_TARGET_GROUP, GREEN_TARGET_GROUP])["TargetGroups"]
    except ClientError:
        return None
    by_name = {
        g["TargetGroupName"]: str(g["TargetGroupArn"]) for g in groups if ctx.elb_ours(g["TargetGroupArn"])
    }
    if BLUE_TARGET_GROUP not in by_name or GREEN_TARGET_GROUP not in by_name:
        return None
    return by_name[BLUE_TARGET_GROUP], by_name[GREEN_TARGET_GROUP]


def _serving_group(ctx: CheckContext, deployment: dict[str, Any]) -> str | None:
    """The target group the deployment's target (green) revision served from, or None.

    Worked out from the service's history as AWS documents it, not from each revision's
    `resolvedConfiguration`: the first deployment (CreateService) serves from the load balancer entry's
    `targetGroupArn`; a BLUE_GREEN, LINEAR or CANARY deployment starts green in the other group of the
    pair (`alternateTargetGroupArn`), which is production from the moment it succeeds; a rolled-back
    or stopped one leaves production where it was, and a rolling one replaces tasks in place.
    """
    pair = _group_pair(ctx)
    history = _deployments(ctx)
    if pair is None or not history:
        return None
    first = _revision(ctx, (history[0].get("targetServiceRevision") or {}).get("arn"))
    configured = [
        b.get("targetGroupArn") for b in first.get("loadBalancers") or [] if b.get("targetGroupArn")
    ]
    if not configured or configured[0] not in pair:
        return None
    production = str(configured[0])
    if history[0].get("serviceDeploymentArn") == deployment.get("serviceDeploymentArn"):
        return production  # the service's first deployment has nothing to shift from
    for earlier in history[1:]:
        if _strategy(earlier) == "ROLLING":
            green = production
        else:
            green = pair[1] if production == pair[0] else pair[0]
        if earlier.get("serviceDeploymentArn") == deployment.get("serviceDeploymentArn"):
            return green
        if earlier.get("status") == "SUCCESSFUL":
            production = green
    return None


def requests_by_minute(
    ctx: CheckContext, target_group_arn: str, start: float, end: float
) -> dict[float, float]:
    """The requests the load balancer sent to a target group, per minute (epoch start -> count), in [start, end)."""
    dimension = target_group_arn.split(":")[-1]  # targetgroup/NAME/ID
    begin = dt.datetime.fromtimestamp(start - start % 60, dt.UTC)
    finish = dt.datetime.fromtimestamp(end + 60 - end % 60, dt.UTC)
    points = ctx.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApplicationELB",
        MetricName="RequestCountPerTarget",
        Dimensions=[{"Name": "TargetGroup", "Value": dimension}],
        StartTime=begin,
        EndTime=finish,
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    minutes: dict[float, float] = {}
    for point in points:
        at = _seconds(point.get("Timestamp"))
        if at is not None and point.get("Sum") and start - 60 < at < end:
            minutes[at] = minutes.get(at, 0.0) + float(point["Sum"])
    return minutes


def _service_tasks(ctx: CheckContext, status: str) -> list[dict[str, Any]]:
    ecs = ctx.client("ecs")
    arns: list[str] = []
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


def _show_minutes(minutes: Iterable[float]) -> str:
    return ", ".join(dt.datetime.fromtimestamp(m, dt.UTC).strftime("%H:%M") for m in sorted(minutes))


def _rule_port(ctx: CheckContext, rule_arn: str | None) -> int | None:
    """The port of the listener a listener rule belongs to (None for no such rule of this session)."""
    if not rule_arn:
        return None
    elbv2 = ctx.client("elbv2")
    try:
        rule = elbv2.describe_rules(RuleArns=[rule_arn])["Rules"]
    except ClientError:
        return None
    if not rule:
        return None
    # arn:...:listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID -> the listener's ARN.
    prefix, _, path = rule_arn.partition(":listener-rule/")
    listener_arn = f"{prefix}:listener/{path.rsplit('/', 1)[0]}"
    try:
        listeners = elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"]
    except ClientError:
        return None
    if not listeners or not ctx.elb_ours(listeners[0]["LoadBalancerArn"]):
        return None
    return int(listeners[0]["Port"])


# -- checkpoints -----------------------------------------------------------------------------------


@checkpoints.checkpoint(
    "service-ready-for-blue-green",
    "Three tasks of v1 run behind the production listener, with a test listener rule and an alternate target group",
    points=2,
    hints=[
        f"Create the cluster {CLUSTER}, register v1 with task_definition('v1') and create the service {SERVICE} "
        f"with desiredCount={DESIRED}, launchType='FARGATE' and the network configuration of the setup cell.",
        f"loadBalancers=[{{'targetGroupArn': blue_tg_arn, 'containerName': '{CONTAINER}', 'containerPort': 80, "
        "'advancedConfiguration': {'alternateTargetGroupArn': green_tg_arn, 'productionListenerRule': "
        "production_rule_arn, 'testListenerRule': test_rule_arn, 'roleArn': ecs_lb_role_arn}}].",
        "Rules, not listeners: on an Application Load Balancer ECS moves the weights of listener *rules* "
        "(the setup cell made one on each listener). Then wait with the services_stable waiter.",
    ],
)
def service_ready(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        service = ctx.service(CLUSTER, SERVICE)
        if service is None:
            return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
        if service.get("launchType") != "FARGATE":
            return failed(f"{SERVICE} does not use the FARGATE launch type.")
        pair = _group_pair(ctx)
        if pair is None:
            return failed(
                f"The target groups {BLUE_TARGET_GROUP} and {GREEN_TARGET_GROUP} are missing: run the setup cell."
            )
        balancers = service.get("loadBalancers") or []
        if (
            len(balancers) != 1
            or balancers[0].get("containerName") != CONTAINER
            or balancers[0].get("containerPort") != 80
        ):
            return failed(f"{SERVICE} needs one load balancer entry for container '{CONTAINER}', port 80.")
        balancer = balancers[0]
        advanced = balancer.get("advancedConfiguration") or {}
        if {balancer.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")} != set(pair):
            return failed(
                f"{SERVICE}'s load balancer entry must name both target groups: one as targetGroupArn, the other "
                "as advancedConfiguration.alternateTargetGroupArn (ECS puts the new revision in the idle one)."
            )
        production = _rule_port(ctx, advanced.get("productionListenerRule"))
        test = _rule_port(ctx, advanced.get("testListenerRule"))
        if production != PRODUCTION_PORT:
            return failed(
                f"advancedConfiguration.productionListenerRule must be the rule of the port {PRODUCTION_PORT} listener."
            )
        if test != TEST_PORT:
            return failed(
                f"advancedConfiguration.testListenerRule must be the rule of the port {TEST_PORT} listener."
            )
        if not advanced.get("roleArn"):
            return failed(
                "advancedConfiguration.roleArn is missing: ECS needs a role to change the listener rules."
            )
        if service.get("desiredCount") != DESIRED:
            return failed(
                f"{SERVICE} wants {counted(service.get('desiredCount', 0), 'task')}; this lab uses {DESIRED}."
            )
        deployments = service.get("deployments", [])
        if len(deployments) != 1:
            return settling(
                f"{counted(len(deployments), 'deployment')} of {SERVICE} under way; wait for it to end."
            )
        if service.get("runningCount") != DESIRED:
            return settling(
                f"{service.get('runningCount', 0)} of {DESIRED} tasks are RUNNING; wait for the service to be stable."
            )
        return passed(
            f"{SERVICE} runs {DESIRED} tasks behind the rule on port {PRODUCTION_PORT}, "
            f"with a test rule on port {TEST_PORT} and an alternate target group."
        )

    return ctx.eventually(look)


def _unfinished(deployment: dict[str, Any], what: str) -> Outcome:
    status = deployment.get("status")
    stage = deployment.get("lifecycleStage")
    return settling(
        f"The {what} is {status}" + (f" (stage {stage})" if stage else "") + "; wait for it to end."
    )


@checkpoints.checkpoint(
    "blue-green-verified",
    "A blue/green deployment to v2: green answered on the test listener before production traffic shifted",
    points=3,
    hints=[
        "Register v2 with task_definition('v2') and update the service to it with deploymentConfiguration "
        "{'strategy': 'BLUE_GREEN', 'bakeTimeInMinutes': 2, 'lifecycleHooks': [{'targetType': 'PAUSE', "
        "'lifecycleStages': ['POST_TEST_TRAFFIC_SHIFT']}]}.",
        "While the deployment waits at POST_TEST_TRAFFIC_SHIFT, ask the test listener (port 8080) and the "
        "production listener (port 80) with compare_listeners(...): green answers on 8080, blue on 80.",
        "Then continue_service_deployment(serviceDeploymentArn=..., hookId=..., action='CONTINUE') and wait "
        "until the deployment is SUCCESSFUL: blue's tasks stop after the bake time.",
    ],
)
def blue_green_verified(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        if ctx.service(CLUSTER, SERVICE) is None:
            return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
        deployment, to_v2 = _to_version(ctx, "v2", "BLUE_GREEN")
        if deployment is None:
            if to_v2:
                return failed(
                    f"{SERVICE} went to v2 with a {_strategy(to_v2[-1])} deployment, not BLUE_GREEN: set "
                    "deploymentConfiguration strategy 'BLUE_GREEN' in the update that deploys v2."
                )
            return failed(f"{SERVICE} has no deployment to v2 yet.")
        if deployment.get("status") in UNDER_WAY:
            return _unfinished(deployment, "blue/green deployment to v2")
        if deployment.get("status") != "SUCCESSFUL":
            return failed(
                f"The blue/green deployment to v2 ended {deployment.get('status')}"
                + (f": {deployment['statusReason']}" if deployment.get("statusReason") else "")
                + ". Deploy v2 again."
            )
        bake = int((deployment.get("deploymentConfiguration") or {}).get("bakeTimeInMinutes") or 0)
        if bake < 1:
            return failed(
                "Give the blue/green deployment a bake time (bakeTimeInMinutes) of at least 1 minute."
            )
        target = _revision(ctx, (deployment.get("targetServiceRevision") or {}).get("arn"))
        if not any(
            (b.get("advancedConfiguration") or {}).get("testListenerRule")
            for b in target.get("loadBalancers") or []
        ):
            return failed(
                "The v2 revision has no test listener rule: green could not be tested before production."
            )
        green = _serving_group(ctx, deployment)
        if green is None:
            return failed("ECS's record of the deployment does not say which target group green served from.")
        started = _seconds(deployment.get("startedAt")) or _seconds(deployment.get("createdAt"))
        finished = _seconds(deployment.get("finishedAt"))
        if finished is None or started is None:
            return failed("ECS's record of the deployment has no start or end time.")
        # Blue: the tasks of the revisions the deployment started from, as they stopped after it began.
        blue = {
            str(_revision(ctx, source.get("arn")).get("taskDefinition"))
            for source in deployment.get("sourceServiceRevisions") or []
        }
        blue_tasks = [
            t
            for t in _service_tasks(ctx, "STOPPED") + _service_tasks(ctx, "RUNNING")
            if t.get("taskDefinitionArn") in blue
        ]
        if any(t.get("lastStatus") == "RUNNING" and t.get("desiredStatus") == "RUNNING" for t in blue_tasks):
            return failed("Blue's tasks still run: blue is scaled down when the deployment succeeds.")
        stops = (_seconds(t.get("stoppingAt")) or _seconds(t.get("stoppedAt")) for t in blue_tasks)
        end = min([finished, *(stop for stop in stops if stop is not None and stop >= started)])
        # Blue is scaled down at the end of the bake time, which starts when production traffic has
        # shifted: a minute that ended before then reached green through the test listener only.
        shifted = end - bake * 60
        before = [m for m in requests_by_minute(ctx, green, started, shifted) if m + 60 <= shifted]
        if not before:
            return failed(
                "Green served no request before production traffic shifted to it: while the deployment waits "
                "after the test traffic shift, ask the test listener (port 8080) and compare it with production."
            )
        return passed(
            f"Green answered on the test listener ({_show_minutes(before)}) before production traffic shifted; "
            f"blue baked {bake} min and was scaled down."
        )

    return ctx.eventually(look)


def _alarm_fired(ctx: CheckContext, name: str, start: float, end: float) -> bool:
    """Whether the alarm's history shows it going to ALARM between `start` and `end` (epoch seconds)."""
    history = ctx.client("cloudwatch").describe_alarm_history(
        AlarmName=name,
        HistoryItemType="StateUpdate",
        StartDate=dt.datetime.fromtimestamp(start - 60, dt.UTC),
        EndDate=dt.datetime.fromtimestamp(end + 60, dt.UTC),
    )["AlarmHistoryItems"]
    for item in history:
        try:
            data = json.loads(item.get("HistoryData") or "{}")
        except ValueError:
            continue
        at = _seconds(item.get("Timestamp"))
        if (
            (data.get("newState") or {}).get("stateValue") == "ALARM"
            and at is not None
            and start - 60 <= at <= end + 60
        ):
            return True
    return False


def _rolled_back_canary(ctx: CheckContext) -> tuple[Outcome, dict[str, Any] | None]:
    """Whether an alarm rolled a canary deployment of v3 back, and that deployment."""
    if ctx.service(CLUSTER, SERVICE) is None:
        return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}."), None
    deployment, to_v3 = _to_version(ctx, "v3", "CANARY")
    if deployment is None:
        if to_v3:
            return failed(
                f"v3 was deployed with a {_strategy(to_v3[-1])} deployment, not CANARY: set deploymentConfiguration "
                "strategy 'CANARY' with a canaryConfiguration."
            ), None
        return failed(f"{SERVICE} has no deployment of v3 yet."), None
    if deployment.get("status") in UNDER_WAY:
        return _unfinished(deployment, "canary deployment of v3"), deployment
    configured = (deployment.get("deploymentConfiguration") or {}).get("alarms") or {}
    if not (
        configured.get("enable")
        and configured.get("rollback")
        and ALARM in (configured.get("alarmNames") or [])
    ):
        return failed(
            f"The canary deployment must watch the alarm {ALARM} with rollback: deploymentConfiguration "
            f"alarms={{'alarmNames': ['{ALARM}'], 'enable': True, 'rollback': True}}."
        ), deployment
    if deployment.get("status") == "SUCCESSFUL":
        return failed(
            "The canary of v3 went all the way to production: its alarm never went to ALARM. Publish the "
            "checkout errors you count on the canary's answers while it bakes."
        ), deployment
    if deployment.get("status") != "ROLLBACK_SUCCESSFUL":
        return failed(
            f"The canary deployment of v3 ended {deployment.get('status')}, not rolled back."
        ), deployment
    triggered = (deployment.get("alarms") or {}).get("triggeredAlarmNames") or []
    if ALARM not in triggered:
        return failed(
            f"The canary was rolled back, but not by its alarm ({ALARM} did not trigger it): let the alarm "
            "roll it back rather than stopping the deployment yourself."
        ), deployment
    started = _seconds(deployment.get("startedAt")) or _seconds(deployment.get("createdAt")) or 0.0
    rollback = _seconds((deployment.get("rollback") or {}).get("startedAt"))
    ended = (
        rollback or _seconds(deployment.get("finishedAt")) or _seconds(deployment.get("stoppedAt")) or started
    )
    if not _alarm_fired(ctx, ALARM, started, ended):
        return failed(f"{ALARM}'s history shows no change to ALARM during the canary deployment."), deployment
    versions = _versions(ctx)
    rolled_back_to = _revision(ctx, (deployment.get("rollback") or {}).get("serviceRevisionArn"))
    back_to = versions.get(str(rolled_back_to.get("taskDefinition")), "the revision that served before")
    return passed(
        f"{ALARM} went to ALARM while the canary baked and ECS rolled v3 back to {back_to}."
    ), deployment


@checkpoints.checkpoint(
    "canary-rolled-back-by-alarm",
    "A canary deployment of v3 that a CloudWatch alarm rolled back",
    points=3,
    hints=[
        f"Create the alarm {ALARM} with create_canary_alarm() (BgLab/CheckoutErrors, Sum over 1 minute >= 1).",
        "Deploy v3 with deploymentConfiguration {'strategy': 'CANARY', 'canaryConfiguration': {'canaryPercent': "
        f"10.0, 'canaryBakeTimeInMinutes': 5}}, 'bakeTimeInMinutes': 1, 'alarms': {{'alarmNames': ['{ALARM}'], "
        "'enable': True, 'rollback': True}}, 'lifecycleHooks': []} (the PAUSE hook of step 2 stays until replaced).",
        "While the canary bakes, run smoke_test(...): it asks the production listener, counts v3's broken "
        "answers and publishes them as CheckoutErrors. Do not stop the deployment yourself.",
    ],
)
def canary_rolled_back(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _rolled_back_canary(ctx)[0])


@checkpoints.checkpoint(
    "linear-watched",
    "A linear deployment of v4, watched step by step through the production listener",
    points=3,
    hints=[
        "Deploy v4 with deploymentConfiguration {'strategy': 'LINEAR', 'linearConfiguration': "
        "{'stepPercent': 25.0, 'stepBakeTimeInMinutes': 2}, 'bakeTimeInMinutes': 1}.",
        "Watch it with watch_linear(...): it asks the production listener (port 80) 20 times every 20 seconds "
        "and counts the answers per version until the deployment ends.",
        f"A step of more than {100 // MIN_LINEAR_STEPS} percent makes fewer than {MIN_LINEAR_STEPS} steps.",
    ],
)
def linear_watched(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        if ctx.service(CLUSTER, SERVICE) is None:
            return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
        deployment, to_v4 = _to_version(ctx, "v4", "LINEAR")
        if deployment is None:
            if to_v4:
                return failed(
                    f"v4 was deployed with a {_strategy(to_v4[-1])} deployment, not LINEAR: set "
                    "deploymentConfiguration strategy 'LINEAR' with a linearConfiguration."
                )
            return failed(f"{SERVICE} has no deployment of v4 yet.")
        if deployment.get("status") in UNDER_WAY:
            return _unfinished(deployment, "linear deployment of v4")
        if deployment.get("status") != "SUCCESSFUL":
            return failed(f"The linear deployment of v4 ended {deployment.get('status')}. Deploy v4 again.")
        linear = (deployment.get("deploymentConfiguration") or {}).get("linearConfiguration") or {}
        step = float(linear.get("stepPercent") or 10.0)
        if step * MIN_LINEAR_STEPS > 100.0 + 1e-9:
            return failed(
                f"A step of {step:g} percent shifts traffic in fewer than {MIN_LINEAR_STEPS} steps; use 25 percent."
            )
        green = _serving_group(ctx, deployment)
        pair = _group_pair(ctx)
        if green is None or pair is None or green not in pair:
            return failed("ECS's record of the deployment does not say which target group v4 served from.")
        blue = pair[1] if green == pair[0] else pair[0]
        started = _seconds(deployment.get("startedAt")) or _seconds(deployment.get("createdAt"))
        finished = _seconds(deployment.get("finishedAt"))
        if started is None or finished is None:
            return failed("ECS's record of the deployment has no start or end time.")
        to_green = requests_by_minute(ctx, green, started, finished)
        to_blue = requests_by_minute(ctx, blue, started, finished)
        mixed = sorted(set(to_green) & set(to_blue))
        if len(mixed) < MIN_LINEAR_STEPS:
            return failed(
                f"Both revisions answered your requests in {counted(len(mixed), 'minute')} of the rollout; watch "
                f"it through the production listener (port 80) from start to end, at least {MIN_LINEAR_STEPS} minutes "
                "of it while traffic is split."
            )
        shares = [100.0 * to_green[m] / (to_green[m] + to_blue[m]) for m in mixed]
        return passed(
            f"You watched v4 take {', '.join(f'{s:.0f}%' for s in shares)} of the requests, minute by minute "
            f"({step:g}% steps)."
        )

    return ctx.eventually(look)


@checkpoints.checkpoint(
    "deployments-read-back",
    "You read the deployments back and saved the ARN of the one the alarm rolled back",
    points=2,
    hints=[
        f"ecs.list_service_deployments(cluster='{CLUSTER}', service='{SERVICE}') lists them; "
        "describe_service_deployments(serviceDeploymentArns=[...]) gives each one's strategy, status and alarms.",
        "The one you want has status ROLLBACK_SUCCESSFUL and alarms.triggeredAlarmNames naming the alarm.",
        f"Save its serviceDeploymentArn with save_answer(...): it writes the SSM parameter {ROLLED_BACK_PARAMETER}.",
    ],
)
def deployments_read_back(ctx: CheckContext) -> Outcome:
    ssm = ctx.client("ssm")
    try:
        value = str(ssm.get_parameter(Name=ROLLED_BACK_PARAMETER)["Parameter"].get("Value", "")).strip()
    except ClientError:
        return failed(f"There is no SSM parameter {ROLLED_BACK_PARAMETER} holding the deployment's ARN.")
    if not ctx.parameter_ours(ROLLED_BACK_PARAMETER):
        return failed(f"The parameter {ROLLED_BACK_PARAMETER} was not written in this lab session.")
    outcome, deployment = _rolled_back_canary(ctx)
    if deployment is None or not outcome.passed:
        return failed("No canary deployment was rolled back by its alarm yet: finish step 3 first.")
    if value != deployment.get("serviceDeploymentArn"):
        known = {d.get("serviceDeploymentArn") for d in _deployments(ctx)}
        if value in known:
            return failed(
                f"{ROLLED_BACK_PARAMETER} names a deployment of {SERVICE}, but not the one the alarm rolled back."
            )
        return failed(
            f"{ROLLED_BACK_PARAMETER} holds {value[:120]!r}, not the ARN of a deployment of {SERVICE}."
        )
    return passed(f"{ROLLED_BACK_PARAMETER} names the canary deployment {ALARM} rolled back.")
