"""Reference steps of the autoscaling lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from botocore.exceptions import ClientError

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import (
    CLUSTER,
    CPU_TARGET,
    DIMENSION,
    MAX_CAPACITY,
    MIN_CAPACITY,
    NAMESPACE,
    REQUESTS_TARGET,
    RESOURCE,
    SERVICE,
    STEP_ALARM,
    TIMEZONE,
    _label,
)

reference = ReferenceSteps("autoscaling")


FAMILY = "scaling-web"


GROUP = "scaling-lab-sg"


LOAD_BALANCER = "scaling-alb"


TARGET_GROUP = "scaling-tg"


CPU_POLICY = "cpu-at-50"


STEP_POLICY = "cpu-high-steps"


SCHEDULED = "morning-peak"


REQUESTS_POLICY = "requests-per-target"


TARGET = {"ServiceNamespace": NAMESPACE, "ResourceId": RESOURCE, "ScalableDimension": DIMENSION}


TASK_CPU = 256  # CPU units of one task: the load model shares a service's CPU demand over its tasks


def _make_base(sandbox: Sandbox) -> None:
    """The Setup cell's service: one Fargate task of nginxdemos/hello behind an ALB (skipped when it exists)."""
    ec2, ecs, elbv2 = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    try:
        found = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
    except ClientError:
        found = []  # no cluster yet
    if any(s.get("status") == "ACTIVE" for s in found):
        return
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    by_zone: dict[str, str] = {}
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    subnets = list(by_zone.values())[:2]
    group = ec2.create_security_group(GroupName=GROUP, Description="autoscaling lab: HTTP", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER, Subnets=subnets, SecurityGroups=[group], Type="application"
    )
    tg = elbv2.create_target_group(
        Name=TARGET_GROUP, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/"
    )["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family=FAMILY,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=str(TASK_CPU),
        memory="512",
        containerDefinitions=[
            {
                "name": "hello",
                "image": "nginxdemos/hello",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=FAMILY,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [group],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": tg, "containerName": "hello", "containerPort": 80}],
    )
    sandbox.wait_until(lambda: _running(sandbox) == 1, "the service running its task", limit=3600, step=60)


def _running(sandbox: Sandbox) -> int:
    service = sandbox.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return int(service["runningCount"])


def _desired(sandbox: Sandbox) -> int:
    service = sandbox.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return int(service["desiredCount"])


def _caused_by(sandbox: Sandbox, text: str) -> bool:
    """True when a successful scaling activity of the service has `text` in its cause."""
    activities = sandbox.client("application-autoscaling").describe_scaling_activities(
        ServiceNamespace=NAMESPACE, ResourceId=RESOURCE, ScalableDimension=DIMENSION
    )["ScalingActivities"]
    return any(text in a.get("Cause", "") and a.get("StatusCode") == "Successful" for a in activities)


@reference.step("scalable-target-registered")
def register_target(sandbox: Sandbox) -> None:
    _make_base(sandbox)
    sandbox.client("application-autoscaling").register_scalable_target(
        **TARGET, MinCapacity=MIN_CAPACITY, MaxCapacity=MAX_CAPACITY
    )


@reference.step("cpu-target-tracking")
def put_cpu_policy(sandbox: Sandbox) -> None:
    sandbox.client("application-autoscaling").put_scaling_policy(
        PolicyName=CPU_POLICY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": CPU_TARGET,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 60,
        },
        **TARGET,
    )


@reference.step("scaled-out-and-in")
def drive_cpu_load(sandbox: Sandbox) -> None:
    sandbox.set_load(cluster=CLUSTER, service=SERVICE, cpu=2 * TASK_CPU)
    sandbox.wait_until(lambda: _desired(sandbox) >= 4, "scale-out to 4 tasks", limit=3600, step=60)
    sandbox.set_load(cluster=CLUSTER, service=SERVICE, cpu=0)
    sandbox.wait_until(lambda: _caused_by(sandbox, "-AlarmLow-"), "scale-in", limit=3600, step=60)


@reference.step("step-scaling-on-alarm")
def step_scaling(sandbox: Sandbox) -> None:
    policy = sandbox.client("application-autoscaling").put_scaling_policy(
        PolicyName=STEP_POLICY,
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 2}],
            "Cooldown": 60,
            "MetricAggregationType": "Average",
        },
        **TARGET,
    )
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName=STEP_ALARM,
        Namespace="AWS/ECS",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "ClusterName", "Value": CLUSTER}, {"Name": "ServiceName", "Value": SERVICE}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=80,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[policy["PolicyARN"]],
    )
    sandbox.set_load(cluster=CLUSTER, service=SERVICE, cpu=TASK_CPU * _running(sandbox))
    sandbox.wait_until(
        lambda: _caused_by(sandbox, f"monitor alarm {STEP_ALARM} in state ALARM"),
        "the step policy",
        limit=3600,
        step=60,
    )
    sandbox.set_load(cluster=CLUSTER, service=SERVICE, cpu=0)


@reference.step("scheduled-action-fired")
def schedule_peak(sandbox: Sandbox) -> None:
    local = sandbox.now().astimezone(zoneinfo.ZoneInfo(TIMEZONE)) + dt.timedelta(minutes=2)
    sandbox.client("application-autoscaling").put_scheduled_action(
        ScheduledActionName=SCHEDULED,
        Schedule=f"at({local:%Y-%m-%dT%H:%M:%S})",
        Timezone=TIMEZONE,
        ScalableTargetAction={"MinCapacity": 3, "MaxCapacity": MAX_CAPACITY},
        **TARGET,
    )
    sandbox.wait_until(
        lambda: _caused_by(sandbox, f"scheduled action name {SCHEDULED} was triggered"),
        SCHEDULED,
        limit=3600,
        step=60,
    )


@reference.step("requests-per-target")
def track_requests(sandbox: Sandbox) -> None:
    elbv2 = sandbox.client("elbv2")
    tg = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]
    sandbox.client("application-autoscaling").put_scaling_policy(
        PolicyName=REQUESTS_POLICY,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": REQUESTS_TARGET,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "ALBRequestCountPerTarget",
                "ResourceLabel": _label(tg["LoadBalancerArns"][0], tg["TargetGroupArn"]),
            },
            "ScaleOutCooldown": 60,
            "ScaleInCooldown": 60,
        },
        **TARGET,
    )
