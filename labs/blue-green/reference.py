"""Reference steps of the blue-green lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import collections
import json
import re
import urllib.error
import urllib.request
from typing import Any

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox
from labkit.steps import allow_ingress, default_vpc, security_group, two_subnets, write_parameter

from .checks import (
    ALARM,
    BLUE_TARGET_GROUP,
    CLUSTER,
    CONTAINER,
    DESIRED,
    FAMILY,
    GREEN_TARGET_GROUP,
    LOAD_BALANCER,
    PRODUCTION_PORT,
    ROLLED_BACK_PARAMETER,
    SERVICE,
    TEST_PORT,
)

reference = ReferenceSteps("blue-green")


ALB_SG = "bg-alb-sg"


TASKS_SG = "bg-tasks-sg"


ROLE = "bg-ecs-infrastructure-for-load-balancers"


#: What each version's page says (v3's checkout is broken: the canary's smoke test counts it).
PAGES = {
    "v1": "bg-web v1",
    "v2": "bg-web v2",
    "v3": "bg-web v3 checkout: ERROR",
    "v4": "bg-web v4",
}


_VERSION = re.compile(r"bg-web (v\d+)")


#: The lifecycle hook that holds a deployment after the test traffic shift until it is continued.
PAUSE_AFTER_TEST_TRAFFIC = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}


def task_definition(version: str) -> dict[str, Any]:
    """The arguments of `register_task_definition` for one revision: nginx serving a page naming `version`."""
    page = PAGES[version]
    return {
        "family": FAMILY,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": CONTAINER,
                "image": "nginx",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "APP_VERSION", "value": version}],
                "command": [
                    "sh",
                    "-c",
                    f"echo '{page}' > /usr/share/nginx/html/index.html && nginx -g 'daemon off;'",
                ],
            }
        ],
    }


def _weighted(blue: str, green: str) -> list[dict[str, Any]]:
    return [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": 100},
                    {"TargetGroupArn": green, "Weight": 0},
                ]
            },
        }
    ]


def make_network(sandbox: Sandbox) -> dict[str, Any]:
    """The lab's given setup: security groups, the load balancer, two target groups, two listeners
    with one weighted rule each, and the role ECS uses to move the rules' weights."""
    ec2, elbv2, iam = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("iam")
    vpc = default_vpc(ec2)
    subnets = two_subnets(ec2, vpc)
    alb_sg = security_group(ec2, ALB_SG, "HTTP on 80 and 8080 to the blue-green load balancer", vpc)
    tasks_sg = security_group(ec2, TASKS_SG, "HTTP from the blue-green load balancer to its tasks", vpc)
    for port in (PRODUCTION_PORT, TEST_PORT):
        allow_ingress(
            ec2,
            alb_sg,
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        )
    allow_ingress(
        ec2,
        tasks_sg,
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]},
    )
    lb = elbv2.create_load_balancer(
        Name=LOAD_BALANCER, Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
    )["LoadBalancers"][0]
    groups = {}
    for name in (BLUE_TARGET_GROUP, GREEN_TARGET_GROUP):
        group = elbv2.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=80,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/",
            HealthCheckIntervalSeconds=10,
            HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=2,
        )["TargetGroups"][0]
        elbv2.modify_target_group_attributes(
            TargetGroupArn=group["TargetGroupArn"],
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}],
        )
        groups[name] = group["TargetGroupArn"]
    blue, green = groups[BLUE_TARGET_GROUP], groups[GREEN_TARGET_GROUP]
    rules = {}
    for port in (PRODUCTION_PORT, TEST_PORT):
        listener = elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}],
        )["Listeners"][0]
        rules[port] = elbv2.create_rule(
            ListenerArn=listener["ListenerArn"],
            Priority=1,
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
            Actions=_weighted(blue, green),
        )["Rules"][0]["RuleArn"]
    role = iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]
    iam.attach_role_policy(
        RoleName=ROLE,
        PolicyArn="arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
    )
    return {
        "subnets": subnets,
        "tasks_sg": tasks_sg,
        "load_balancer_arn": lb["LoadBalancerArn"],
        "blue": blue,
        "green": green,
        "production_rule": rules[PRODUCTION_PORT],
        "test_rule": rules[TEST_PORT],
        "role_arn": role["Arn"],
    }


def _load_balancer_arn(sandbox: Sandbox) -> str:
    found = sandbox.client("elbv2").describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"]
    return str(found[0]["LoadBalancerArn"])


def _url(sandbox: Sandbox, port: int) -> str:
    arn = _load_balancer_arn(sandbox)
    listener_url = getattr(sandbox, "listener_url", None)
    if listener_url is not None:
        return str(listener_url(arn, port))
    dns = sandbox.client("elbv2").describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0][
        "DNSName"
    ]
    return f"http://{dns}:{port}/"


def ask(url: str, times: int) -> collections.Counter[str]:
    """Ask `url` `times` times; count the answers by the version the page names (or the HTTP status)."""
    answers: collections.Counter[str] = collections.Counter()
    for _ in range(times):
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read().decode("utf-8", "replace")
            found = _VERSION.search(body)
            answers[found.group(1) if found else "other"] += 1
        except urllib.error.HTTPError as exc:
            answers[f"HTTP {exc.code}"] += 1
        except OSError:
            answers["no answer"] += 1
    return answers


def pause(sandbox: Sandbox, seconds: float) -> None:
    """Let `seconds` emulated seconds pass (a manual clock is advanced)."""
    until = sandbox.now().timestamp() + seconds
    sandbox.wait_until(
        lambda: sandbox.now().timestamp() >= until, "time passing", limit=seconds + 60, step=min(seconds, 5)
    )


def _service(sandbox: Sandbox) -> dict[str, Any]:
    return dict(sandbox.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0])


def _settled(sandbox: Sandbox) -> bool:
    service = _service(sandbox)
    deployments = service["deployments"]
    return (
        len(deployments) == 1
        and deployments[0].get("rolloutState") == "COMPLETED"
        and service["runningCount"] == service["desiredCount"]
    )


def _latest_deployment(sandbox: Sandbox) -> dict[str, Any]:
    ecs = sandbox.client("ecs")
    listed = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    newest = max(listed, key=lambda d: d["createdAt"])
    return dict(
        ecs.describe_service_deployments(serviceDeploymentArns=[newest["serviceDeploymentArn"]])[
            "serviceDeployments"
        ][0]
    )


def _deploy(sandbox: Sandbox, version: str, configuration: dict[str, Any]) -> str:
    """Register `version` and update the service to it; return the new deployment's ARN."""
    ecs = sandbox.client("ecs")
    arn = ecs.register_task_definition(**task_definition(version))["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=arn, deploymentConfiguration=configuration
    )
    return str(_latest_deployment(sandbox)["serviceDeploymentArn"])


def _describe(sandbox: Sandbox, deployment_arn: str) -> dict[str, Any]:
    ecs = sandbox.client("ecs")
    return dict(
        ecs.describe_service_deployments(serviceDeploymentArns=[deployment_arn])["serviceDeployments"][0]
    )


ENDED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


@reference.step("service-ready-for-blue-green")
def make_service(sandbox: Sandbox) -> None:
    network = make_network(sandbox)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(**task_definition("v1"))
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=FAMILY,
        desiredCount=DESIRED,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": network["subnets"],
                "securityGroups": [network["tasks_sg"]],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": network["blue"],
                "containerName": CONTAINER,
                "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": network["green"],
                    "productionListenerRule": network["production_rule"],
                    "testListenerRule": network["test_rule"],
                    "roleArn": network["role_arn"],
                },
            }
        ],
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2},
    )
    sandbox.wait_until(lambda: _settled(sandbox), f"{SERVICE} reaching a steady state", limit=3600, step=2)


@reference.step("blue-green-verified")
def blue_green_to_v2(sandbox: Sandbox) -> None:
    deployment = _deploy(
        sandbox,
        "v2",
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2, "lifecycleHooks": [PAUSE_AFTER_TEST_TRAFFIC]},
    )

    def paused() -> str | None:
        for hook in _describe(sandbox, deployment).get("lifecycleHookDetails") or []:
            if hook.get("status") == "AWAITING_ACTION":
                return str(hook["hookId"])
        return None

    hook_id = sandbox.wait_until(
        paused, "the deployment pausing after the test traffic shift", limit=3600, step=5
    )
    # Compare the two listeners for two minutes: green (v2) on the test port, blue (v1) in production.
    for _ in range(6):
        ask(_url(sandbox, TEST_PORT), 5)
        ask(_url(sandbox, PRODUCTION_PORT), 5)
        pause(sandbox, 20)
    sandbox.client("ecs").continue_service_deployment(
        serviceDeploymentArn=deployment, hookId=hook_id, action="CONTINUE"
    )
    sandbox.wait_until(
        lambda: _describe(sandbox, deployment)["status"] in ENDED and _settled(sandbox),
        "the blue/green deployment to v2",
        limit=3600,
        step=5,
    )


def create_canary_alarm(sandbox: Sandbox) -> None:
    """The alarm the canary deployment watches: any checkout error in a minute."""
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM,
        Namespace="BgLab",
        MetricName="CheckoutErrors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )


@reference.step("canary-rolled-back-by-alarm")
def canary_v3(sandbox: Sandbox) -> None:
    create_canary_alarm(sandbox)
    deployment = _deploy(
        sandbox,
        "v3",
        {
            "strategy": "CANARY",
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5},
            "bakeTimeInMinutes": 1,
            "alarms": {"alarmNames": [ALARM], "enable": True, "rollback": True},
            # The PAUSE hook of the blue/green deployment stays in the service's configuration until replaced.
            "lifecycleHooks": [],
        },
    )
    cloudwatch = sandbox.client("cloudwatch")
    for _ in range(200):
        if _describe(sandbox, deployment)["status"] in ENDED:
            break
        answers = ask(_url(sandbox, PRODUCTION_PORT), 20)
        if answers["v3"]:
            cloudwatch.put_metric_data(
                Namespace="BgLab",
                MetricData=[{"MetricName": "CheckoutErrors", "Value": answers["v3"], "Unit": "Count"}],
            )
        pause(sandbox, 20)
    sandbox.wait_until(
        lambda: _describe(sandbox, deployment)["status"] in ENDED and _settled(sandbox),
        "the canary deployment of v3 ending",
        limit=3600,
        step=5,
    )
    # The alarm watches the next deployment too: it must be OK again first.
    sandbox.wait_until(
        lambda: cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"] == "OK",
        f"{ALARM} back to OK",
        limit=3600,
        step=10,
    )


@reference.step("linear-watched")
def linear_v4(sandbox: Sandbox) -> None:
    deployment = _deploy(
        sandbox,
        "v4",
        {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
            "bakeTimeInMinutes": 1,
        },
    )
    for _ in range(300):
        if _describe(sandbox, deployment)["status"] in ENDED:
            break
        ask(_url(sandbox, PRODUCTION_PORT), 20)
        pause(sandbox, 20)
    sandbox.wait_until(
        lambda: _describe(sandbox, deployment)["status"] in ENDED and _settled(sandbox),
        "the linear deployment of v4",
        limit=3600,
        step=5,
    )


@reference.step("deployments-read-back")
def save_rolled_back(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    listed = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"]
    arns = [d["serviceDeploymentArn"] for d in listed]
    described = []
    for start in range(0, len(arns), 20):
        described.extend(
            ecs.describe_service_deployments(serviceDeploymentArns=arns[start : start + 20])[
                "serviceDeployments"
            ]
        )
    rolled_back = [
        d
        for d in described
        if d["status"] == "ROLLBACK_SUCCESSFUL"
        and ALARM in ((d.get("alarms") or {}).get("triggeredAlarmNames") or [])
    ]
    write_parameter(sandbox.client("ssm"), ROLLED_BACK_PARAMETER, rolled_back[-1]["serviceDeploymentArn"])
