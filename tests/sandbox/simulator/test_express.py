"""ECS Express Mode in a sandbox: one CreateExpressGatewayService call makes a service, its task
definition, a shared load balancer with a host-header rule, a target group, security groups and
Application Auto Scaling, and its URL answers on loopback (boto3 and the AWS CLI).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.moto_seam.elbv2 import PROVISIONING_SECONDS

TRUST_ECS_TASKS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
TRUST_ECS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _roles(sandbox: EmbeddedSandbox) -> tuple[str, str]:
    iam = sandbox.client("iam")
    execution = iam.create_role(
        RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument=json.dumps(TRUST_ECS_TASKS)
    )
    iam.attach_role_policy(
        RoleName="ecsTaskExecutionRole",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )
    infra = iam.create_role(
        RoleName="ecsInfrastructureRoleForExpressServices", AssumeRolePolicyDocument=json.dumps(TRUST_ECS)
    )
    return execution["Role"]["Arn"], infra["Role"]["Arn"]


def _create(sandbox: EmbeddedSandbox, name: str, roles: tuple[str, str], **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "serviceName": name,
        "executionRoleArn": roles[0],
        "infrastructureRoleArn": roles[1],
        "primaryContainer": {"image": "nginxdemos/hello", "containerPort": 80},
        "healthCheckPath": "/",
    }
    params.update(extra)
    service: dict[str, Any] = sandbox.client("ecs").create_express_gateway_service(**params)["service"]
    return service


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def _url(sandbox: EmbeddedSandbox, service_arn: str) -> str:
    return sandbox.express_url(service_arn)


def _answers(sandbox: EmbeddedSandbox, service_arn: str) -> str | None:
    status, body = _get(_url(sandbox, service_arn))
    return body if status == 200 else None


@pytest.fixture
def roles(sandbox: EmbeddedSandbox) -> tuple[str, str]:
    return _roles(sandbox)


def test_create_describe_and_the_url_answers(sandbox: EmbeddedSandbox, roles: tuple[str, str]) -> None:
    created = _create(sandbox, "hello", roles)
    arn = created["serviceArn"]
    assert arn == f"arn:aws:ecs:us-east-1:{sandbox.account_id}:service/default/hello"
    assert created["status"]["statusCode"] == "ACTIVE"
    assert created["cluster"] == "default"
    ecs = sandbox.client("ecs")
    described = ecs.describe_express_gateway_service(serviceArn=arn)["service"]
    config = described["activeConfigurations"][0]
    assert config["cpu"] == "1024"
    assert config["memory"] == "2048"
    assert config["primaryContainer"]["image"] == "nginxdemos/hello"
    assert config["scalingTarget"]["autoScalingMetric"] == "AVERAGE_CPU"
    assert config["scalingTarget"]["autoScalingTargetValue"] == 60
    endpoint = config["ingressPaths"][0]["endpoint"]
    assert endpoint.startswith("he-")
    assert endpoint.endswith(".ecs.us-east-1.on.aws")
    assert config["ingressPaths"][0]["accessType"] == "PUBLIC"
    assert described["currentDeployment"].startswith("arn:aws:ecs:us-east-1:")

    # The load balancer provisions, the task starts, its target turns healthy: then the URL answers.
    sandbox.wait_until(
        lambda: _answers(sandbox, arn), "the URL answers", limit=PROVISIONING_SECONDS + 600, step=15
    )
    body = _answers(sandbox, arn)
    assert body is not None
    assert "Hello World" in body

    # What was made, as ordinary describe calls see it.
    service = ecs.describe_services(cluster="default", services=["hello"])["services"][0]
    assert service["taskDefinition"] == config["taskDefinitionArn"]
    assert service["launchType"] == "FARGATE"
    assert service["runningCount"] == 1
    definition = ecs.describe_task_definition(taskDefinition=config["taskDefinitionArn"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["name"] == "Main"
    assert definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert definition["executionRoleArn"] == roles[0]
    elb = sandbox.client("elbv2")
    group_arn = service["loadBalancers"][0]["targetGroupArn"]
    group = elb.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0]
    assert group["TargetType"] == "ip"
    assert group["HealthCheckPath"] == "/"
    (lb_arn,) = group["LoadBalancerArns"]
    listeners = elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    assert [(item["Protocol"], item["Port"]) for item in listeners] == [("HTTPS", 443)]
    rules = [
        r for r in elb.describe_rules(ListenerArn=listeners[0]["ListenerArn"])["Rules"] if not r["IsDefault"]
    ]
    assert len(rules) == 1
    assert rules[0]["Conditions"][0]["Field"] == "host-header"
    assert rules[0]["Conditions"][0]["HostHeaderConfig"]["Values"] == [endpoint]
    scaling = sandbox.client("application-autoscaling")
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert target["ResourceId"] == "service/default/hello"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 20)
    policy = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 60.0
    assert (
        tracking["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    )

    # The shared listener's own port routes by Host header, as an ALB does.
    listener_url = sandbox.listener_url(lb_arn, 443)
    request = urllib.request.Request(listener_url, headers={"Host": endpoint})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    # No rule matches the listener's own address: no service answers (an ALB's fixed-response default
    # action is not served by the sandbox's listeners, which answer 503).
    assert _get(listener_url)[0] != 200
