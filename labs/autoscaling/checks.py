"""Checkpoints of the autoscaling lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: cluster `scaling-lab`, service `web` (Fargate, task definition family
`scaling-web`, container `hello` on port 80) behind the load balancer `scaling-alb` and its target
group `scaling-tg`; the scalable target `service/scaling-lab/web` (1 to 6 tasks); the policies
`cpu-at-50` (target tracking), `cpu-high-steps` (step scaling, fired by the alarm `scaling-lab-cpu-high`)
and `requests-per-target` (target tracking); the scheduled action `morning-peak`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed

checkpoints = CheckpointSet("autoscaling")


CLUSTER = "scaling-lab"


SERVICE = "web"


NAMESPACE = "ecs"


RESOURCE = f"service/{CLUSTER}/{SERVICE}"


DIMENSION = "ecs:service:DesiredCount"


MIN_CAPACITY, MAX_CAPACITY = 1, 6


CPU_TARGET = 50.0


STEP_ALARM = "scaling-lab-cpu-high"


TIMEZONE = "Europe/Paris"


REQUESTS_TARGET = 300.0


def _service(ctx: CheckContext) -> dict[str, Any] | None:
    try:
        services = ctx.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE], include=["TAGS"])[
            "services"
        ]
    except ClientError:
        return None
    active = [s for s in services if s.get("status") == "ACTIVE" and ctx.ours(s.get("tags"))]
    return active[0] if active else None


def _no_service() -> Outcome:
    return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}: run the Setup cell first.")


def _scalable_target(ctx: CheckContext) -> dict[str, Any] | None:
    found = ctx.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=[RESOURCE], ScalableDimension=DIMENSION
    )["ScalableTargets"]
    return found[0] if found else None


def _policies(ctx: CheckContext) -> list[dict[str, Any]]:
    pages = ctx.client("application-autoscaling").get_paginator("describe_scaling_policies")
    return [
        policy
        for page in pages.paginate(
            ServiceNamespace=NAMESPACE, ResourceId=RESOURCE, ScalableDimension=DIMENSION
        )
        for policy in page["ScalingPolicies"]
    ]


def _activities(ctx: CheckContext) -> list[dict[str, Any]]:
    """This service's scaling activities, newest first (as Application Auto Scaling lists them)."""
    pages = ctx.client("application-autoscaling").get_paginator("describe_scaling_activities")
    return [
        activity
        for page in pages.paginate(
            ServiceNamespace=NAMESPACE, ResourceId=RESOURCE, ScalableDimension=DIMENSION
        )
        for activity in page["ScalingActivities"]
        if activity.get("StatusCode") == "Successful"
    ]


def _tracking(policies: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    return [
        p
        for p in policies
        if p.get("PolicyType") == "TargetTrackingScaling"
        and p.get("TargetTrackingScalingPolicyConfiguration", {})
        .get("PredefinedMetricSpecification", {})
        .get("PredefinedMetricType")
        == metric
    ]


def _alarm_ours(ctx: CheckContext, alarm: dict[str, Any]) -> bool:
    """In a real account, the alarm carries this session's tag."""
    if ctx.session_tag is None:
        return True  # no extra call in an emulated sandbox
    tags = ctx.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    return ctx.ours(tags)


def _label(load_balancer_arn: str, target_group_arn: str) -> str:
    """The ResourceLabel of ALBRequestCountPerTarget: app/<lb name>/<lb id>/targetgroup/<tg name>/<tg id>."""
    return f"{load_balancer_arn.split(':loadbalancer/')[-1]}/{target_group_arn.split(':')[-1]}"


@checkpoints.checkpoint(
    "scalable-target-registered",
    "The service is a scalable target of 1 to 6 tasks",
    points=1,
    hints=[
        "Application Auto Scaling scales an ECS service's desired count: ServiceNamespace='ecs', "
        f"ScalableDimension='{DIMENSION}', ResourceId='{RESOURCE}' (service/<cluster>/<service>).",
        f"aas.register_scalable_target(ServiceNamespace='ecs', ResourceId='{RESOURCE}', "
        f"ScalableDimension='{DIMENSION}', MinCapacity={MIN_CAPACITY}, MaxCapacity={MAX_CAPACITY})",
    ],
)
def scalable_target_registered(ctx: CheckContext) -> Outcome:
    if _service(ctx) is None:
        return _no_service()
    target = _scalable_target(ctx)
    if target is None:
        return failed(f"{RESOURCE} is not registered as a scalable target ({DIMENSION}).")
    low, high = int(target["MinCapacity"]), int(target["MaxCapacity"])
    if high != MAX_CAPACITY:
        return failed(
            f"The scalable target's MaxCapacity is {high}; this lab caps the service at {MAX_CAPACITY}."
        )
    if low < MIN_CAPACITY or low > high:
        return failed(
            f"The scalable target's MinCapacity is {low}; keep at least {MIN_CAPACITY} task running."
        )
    return passed(f"{RESOURCE} scales between {low} and {high} tasks.")


@checkpoints.checkpoint(
    "cpu-target-tracking",
    "A target tracking policy keeps the service's average CPU at 50 %",
    points=2,
    hints=[
        "PolicyType='TargetTrackingScaling' with TargetTrackingScalingPolicyConfiguration={'TargetValue': 50.0, "
        "'PredefinedMetricSpecification': {'PredefinedMetricType': 'ECSServiceAverageCPUUtilization'}, ...}.",
        "The metric type is ECSServiceAverageCPUUtilization (ECSServiceAverageMemoryUtilization is memory).",
        "Short cooldowns make the lab quick: 'ScaleOutCooldown': 60, 'ScaleInCooldown': 60 (seconds).",
    ],
)
def cpu_target_tracking(ctx: CheckContext) -> Outcome:
    if _service(ctx) is None:
        return _no_service()
    cpu = _tracking(_policies(ctx), "ECSServiceAverageCPUUtilization")
    if not cpu:
        return failed(f"{RESOURCE} has no target tracking policy on ECSServiceAverageCPUUtilization.")
    targets = [float(p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]) for p in cpu]
    if CPU_TARGET not in targets:
        return failed(
            f"The CPU policy's TargetValue is {targets[0]:g}; this step keeps CPU at {CPU_TARGET:g} %."
        )
    alarms = next(
        p for p in cpu if float(p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]) == CPU_TARGET
    )
    names = ", ".join(a["AlarmName"] for a in alarms.get("Alarms", []))
    return passed(f"Average CPU is tracked at {CPU_TARGET:g} %; the policy made its own alarms: {names}.")


@checkpoints.checkpoint(
    "scaled-out-and-in",
    "Under load the CPU policy scaled the service out, and back in when the load went",
    points=3,
    hints=[
        f"In the sandbox, sb.set_load(cluster='{CLUSTER}', service='{SERVICE}', cpu=512) makes the service need "
        "512 CPU units in all (two tasks' worth at 100 %); wait until the desired count reaches 4.",
        "Then sb.set_load(..., cpu=0) and wait again: AlarmLow needs 15 one-minute datapoints below 90 % of "
        "the target before the service scales in (15 emulated minutes, 30 seconds at the sandbox's speed).",
        "aas.describe_scaling_activities(ServiceNamespace='ecs', ResourceId=...) lists each change and its cause.",
    ],
)
def scaled_out_and_in(ctx: CheckContext) -> Outcome:
    if _service(ctx) is None:
        return _no_service()
    names = {p["PolicyName"] for p in _tracking(_policies(ctx), "ECSServiceAverageCPUUtilization")}
    if not names:
        return failed("There is no CPU target tracking policy to scale the service (Step 2).")

    def by(alarm: str) -> list[dt.datetime]:
        return [
            a["StartTime"]
            for a in _activities(ctx)
            if alarm in a.get("Cause", "")
            and any(a["Cause"].endswith(f"triggered policy {n}") for n in names)
        ]

    outs = by("-AlarmHigh-")
    if not outs:
        return failed("The CPU policy has not scaled the service out yet: put load on it and wait.")
    ins = [t for t in by("-AlarmLow-") if t > min(outs)]
    if not ins:
        return failed(
            "The service scaled out but not back in yet: take the load away and wait for the AlarmLow alarm."
        )
    return passed(
        f"The CPU policy scaled the service out {counted(len(outs), 'time')} and back in {counted(len(ins), 'time')}."
    )


@checkpoints.checkpoint(
    "step-scaling-on-alarm",
    "Your own CloudWatch alarm fired a step scaling policy",
    points=3,
    hints=[
        "put_scaling_policy(PolicyType='StepScaling', StepScalingPolicyConfiguration={'AdjustmentType': "
        "'ChangeInCapacity', 'StepAdjustments': [{'MetricIntervalLowerBound': 0, 'ScalingAdjustment': 2}], "
        "'Cooldown': 60}) returns a PolicyARN.",
        f"cloudwatch.put_metric_alarm(AlarmName='{STEP_ALARM}', Namespace='AWS/ECS', MetricName='CPUUtilization', "
        f"Dimensions=[ClusterName={CLUSTER}, ServiceName={SERVICE}], Statistic='Average', Period=60, "
        "EvaluationPeriods=1, Threshold=80, ComparisonOperator='GreaterThanThreshold', AlarmActions=[policy_arn]).",
        "Then load the service to 100 % CPU (one task's worth per running task) and wait for an activity whose "
        "cause names your alarm.",
    ],
)
def step_scaling_on_alarm(ctx: CheckContext) -> Outcome:
    if _service(ctx) is None:
        return _no_service()
    steps = {
        p["PolicyARN"]: p
        for p in _policies(ctx)
        if p.get("PolicyType") == "StepScaling"
        and p.get("StepScalingPolicyConfiguration", {}).get("StepAdjustments")
    }
    if not steps:
        return failed(f"{RESOURCE} has no step scaling policy with step adjustments.")
    pages = ctx.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"])
    alarms = [
        a
        for page in pages
        for a in page["MetricAlarms"]
        if not a["AlarmName"].startswith("TargetTracking-") and set(a.get("AlarmActions", [])) & set(steps)
    ]
    alarms = [a for a in alarms if _alarm_ours(ctx, a)]
    if not alarms:
        return failed("No alarm of yours has the step scaling policy's ARN in its AlarmActions.")
    wanted = {"ClusterName": CLUSTER, "ServiceName": SERVICE}
    on_service = [
        a
        for a in alarms
        if a.get("Namespace") == "AWS/ECS"
        and a.get("MetricName") == "CPUUtilization"
        and {d["Name"]: d["Value"] for d in a.get("Dimensions", [])} == wanted
    ]
    if not on_service:
        return failed(
            f"The alarm {alarms[0]['AlarmName']} does not watch AWS/ECS CPUUtilization of "
            f"ClusterName={CLUSTER}, ServiceName={SERVICE}."
        )
    for alarm in on_service:
        names = [steps[arn]["PolicyName"] for arn in alarm["AlarmActions"] if arn in steps]
        causes = [f"monitor alarm {alarm['AlarmName']} in state ALARM triggered policy {n}" for n in names]
        if any(a.get("Cause") in causes for a in _activities(ctx)):
            return passed(
                f"The alarm {alarm['AlarmName']} went to ALARM and its step policy scaled the service."
            )
    return failed(
        f"The alarm {on_service[0]['AlarmName']} is attached, but it has not fired its step policy yet: "
        "put load on the service and wait."
    )


@checkpoints.checkpoint(
    "scheduled-action-fired",
    "A scheduled action in a time zone changed the capacity when it was due",
    points=2,
    hints=[
        "aas.put_scheduled_action(ScheduledActionName=..., Schedule='at(2026-12-02T09:30:00)', "
        f"Timezone='{TIMEZONE}', ScalableTargetAction={{'MinCapacity': 3, 'MaxCapacity': {MAX_CAPACITY}}}, ...)",
        "at(...) takes the local time of Timezone, without a zone suffix: compute it from sb.now() "
        "converted with zoneinfo.ZoneInfo, a couple of minutes ahead.",
        "It fired when describe_scaling_activities shows 'scheduled action name <name> was triggered'.",
    ],
)
def scheduled_action_fired(ctx: CheckContext) -> Outcome:
    if _service(ctx) is None:
        return _no_service()
    actions = ctx.client("application-autoscaling").describe_scheduled_actions(
        ServiceNamespace=NAMESPACE, ResourceId=RESOURCE, ScalableDimension=DIMENSION
    )["ScheduledActions"]
    if not actions:
        return failed(f"{RESOURCE} has no scheduled action.")
    zoned = [a for a in actions if a.get("Timezone") and a.get("Schedule", "").startswith(("at(", "cron("))]
    if not zoned:
        return failed(
            "No scheduled action has an at(...) or cron(...) schedule with a Timezone: without one, "
            "the schedule is read in UTC."
        )
    with_action = [a for a in zoned if a.get("ScalableTargetAction")]
    if not with_action:
        return failed("The scheduled action sets no MinCapacity or MaxCapacity (ScalableTargetAction).")
    causes = {a.get("Cause") for a in _activities(ctx)}
    for action in with_action:
        if f"scheduled action name {action['ScheduledActionName']} was triggered" in causes:
            return passed(
                f"{action['ScheduledActionName']} ({action['Schedule']}, {action['Timezone']}) fired and set "
                f"the capacity to {action['ScalableTargetAction']}."
            )
    return failed(
        f"{with_action[0]['ScheduledActionName']} has not fired yet: is it due? Wait past its time."
    )


@checkpoints.checkpoint(
    "requests-per-target",
    "A target tracking policy keeps requests per target at 300 a minute, labelled with the service's target group",
    points=2,
    hints=[
        "PredefinedMetricType='ALBRequestCountPerTarget' (not 'ALB request per count'), TargetValue=300.0.",
        "It needs ResourceLabel='app/<lb name>/<lb id>/targetgroup/<tg name>/<tg id>': the end of the load "
        "balancer's ARN after 'loadbalancer/', a slash, and the end of the target group's ARN after its last ':'.",
    ],
)
def requests_per_target(ctx: CheckContext) -> Outcome:
    service = _service(ctx)
    if service is None:
        return _no_service()
    policies = _tracking(_policies(ctx), "ALBRequestCountPerTarget")
    if not policies:
        return failed(f"{RESOURCE} has no target tracking policy on ALBRequestCountPerTarget.")
    groups = [lb["targetGroupArn"] for lb in service.get("loadBalancers", []) if lb.get("targetGroupArn")]
    if not groups:
        return failed(f"{SERVICE} is not behind a target group.")
    described = ctx.client("elbv2").describe_target_groups(TargetGroupArns=groups[:1])["TargetGroups"][0]
    labels = {_label(lb, described["TargetGroupArn"]) for lb in described.get("LoadBalancerArns", [])}
    for policy in policies:
        config = policy["TargetTrackingScalingPolicyConfiguration"]
        label = config["PredefinedMetricSpecification"].get("ResourceLabel")
        if label not in labels:
            continue
        if float(config["TargetValue"]) != REQUESTS_TARGET:
            return failed(
                f"The policy's TargetValue is {float(config['TargetValue']):g}; this step tracks "
                f"{REQUESTS_TARGET:g} requests per target."
            )
        return passed(f"Requests per target are tracked at {REQUESTS_TARGET:g} for {label}.")
    shown = policies[0]["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"].get(
        "ResourceLabel"
    )
    return failed(f"The policy's ResourceLabel is {shown!r}; the service's is {sorted(labels)[0]!r}.")
