"""Reference steps of the nginx-alb lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

from typing import Any

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import allow_ingress, default_vpc, security_group, two_subnets

from .checks import ALB_SG, CLUSTER, FAMILY, LOAD_BALANCER, SERVICE, TARGET_GROUP, TASKS_SG

reference = ReferenceSteps("nginx-alb")


@reference.step("security-groups-chained")
def make_security_groups(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    vpc = default_vpc(ec2)
    alb = security_group(ec2, ALB_SG, "HTTP from the internet to the load balancer", vpc)
    tasks = security_group(ec2, TASKS_SG, "HTTP from the load balancer to the tasks", vpc)
    allow_ingress(
        ec2, alb, {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    )
    allow_ingress(
        ec2,
        tasks,
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb}]},
    )


@reference.step("cluster-created")
def make_cluster(sandbox: Sandbox) -> None:
    sandbox.client("ecs").create_cluster(clusterName=CLUSTER)


TASK_DEFINITION: dict[str, Any] = {
    "family": FAMILY,
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "containerDefinitions": [
        {
            "name": "hello",
            "image": "nginxdemos/hello",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        }
    ],
}


@reference.step("task-definition-registered")
def register_task_definition(sandbox: Sandbox) -> None:
    sandbox.client("ecs").register_task_definition(**TASK_DEFINITION)


@reference.step("load-balancer-ready")
def make_load_balancer(sandbox: Sandbox) -> None:
    ec2, elbv2 = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = default_vpc(ec2)
    subnets = two_subnets(ec2, vpc)
    alb_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [ALB_SG]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER, Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
    )["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name=TARGET_GROUP, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", HealthCheckPath="/"
    )["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )


HEALTH_CHECK: dict[str, Any] = {
    "HealthCheckProtocol": "HTTP",
    "HealthCheckPath": "/",
    "HealthCheckIntervalSeconds": 10,
    "HealthCheckTimeoutSeconds": 5,
    "HealthyThresholdCount": 2,
    "UnhealthyThresholdCount": 2,
    "Matcher": {"HttpCode": "200"},
}


@reference.step("health-check-configured")
def configure_health_check(sandbox: Sandbox) -> None:
    elbv2 = sandbox.client("elbv2")
    tg = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]
    elbv2.modify_target_group(TargetGroupArn=tg, **HEALTH_CHECK)


@reference.step("service-running")
def make_service(sandbox: Sandbox) -> None:
    ec2, ecs, elbv2 = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    vpc = default_vpc(ec2)
    tasks_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [TASKS_SG]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    tg = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=FAMILY,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": two_subnets(ec2, vpc),
                "securityGroups": [tasks_sg],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[{"targetGroupArn": tg, "containerName": "hello", "containerPort": 80}],
    )
    _wait_stable(sandbox)


def _wait_stable(sandbox: Sandbox) -> None:
    """Wait until the service runs its desired count, all healthy behind the target group."""
    ecs, elbv2 = sandbox.client("ecs"), sandbox.client("elbv2")

    def steady() -> bool:
        service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        if len(service["deployments"]) != 1 or service["runningCount"] != service["desiredCount"]:
            return False
        tg = elbv2.describe_target_groups(Names=[TARGET_GROUP])["TargetGroups"][0]["TargetGroupArn"]
        health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return sum(1 for h in health if h["TargetHealth"]["State"] == "healthy") == service["desiredCount"]

    sandbox.wait_until(steady, f"{SERVICE} reaching a steady state", limit=1800, step=5)


@reference.step("service-scaled")
def scale_service(sandbox: Sandbox) -> None:
    sandbox.client("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=3)
    _wait_stable(sandbox)


@reference.step("three-servers-answer")
def nothing_more(sandbox: Sandbox) -> None:
    """Three healthy tasks behind the listener answer by themselves: the earlier steps are enough."""
