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
from botocore.exceptions import ClientError

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
    # No rule matches the listener's own address: the shared listener's default action, a fixed 404.
    status, page = _get(listener_url)
    assert status == 404
    assert page == ""


def _running(sandbox: EmbeddedSandbox, name: str) -> dict[str, Any]:
    service: dict[str, Any] = sandbox.client("ecs").describe_services(cluster="default", services=[name])[
        "services"
    ][0]
    return service


def test_update_rolls_out_a_new_revision(sandbox: EmbeddedSandbox, roles: tuple[str, str]) -> None:
    arn = _create(sandbox, "hello", roles)["serviceArn"]
    sandbox.wait_until(
        lambda: _answers(sandbox, arn), "the URL answers", limit=PROVISIONING_SECONDS + 600, step=15
    )
    ecs = sandbox.client("ecs")
    first = ecs.describe_express_gateway_service(serviceArn=arn)["service"]["activeConfigurations"][0]
    updated = ecs.update_express_gateway_service(
        serviceArn=arn,
        primaryContainer={"image": "nginx", "environment": [{"name": "COLOUR", "value": "blue"}]},
        scalingTarget={"minTaskCount": 2, "maxTaskCount": 4},
    )["service"]
    target = updated["targetConfiguration"]
    assert target["taskDefinitionArn"].endswith("/hello:2")
    assert target["primaryContainer"]["image"] == "nginx"
    assert target["primaryContainer"]["containerPort"] == 80  # kept from the first configuration
    assert updated["status"]["statusCode"] == "ACTIVE"
    definition = ecs.describe_task_definition(taskDefinition=target["taskDefinitionArn"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["environment"] == [{"name": "COLOUR", "value": "blue"}]
    # A rolling deployment: the new revision is PRIMARY while the first one still runs.
    deployments = _running(sandbox, "hello")["deployments"]
    assert next(d["taskDefinition"] for d in deployments) == target["taskDefinitionArn"]
    assert first["taskDefinitionArn"] in [d["taskDefinition"] for d in deployments]
    during = ecs.describe_express_gateway_service(serviceArn=arn)["service"]["activeConfigurations"]
    assert [c["taskDefinitionArn"] for c in during] == [
        target["taskDefinitionArn"],
        first["taskDefinitionArn"],
    ]

    def rolled_out() -> bool:
        service = _running(sandbox, "hello")
        return len(service["deployments"]) == 1 and service["runningCount"] == 2

    sandbox.wait_until(rolled_out, "the rollout", limit=1800, step=15)
    after = ecs.describe_express_gateway_service(serviceArn=arn)["service"]["activeConfigurations"]
    assert [c["taskDefinitionArn"] for c in after] == [target["taskDefinitionArn"]]
    scaling = sandbox.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    assert (scaling["ScalableTargets"][0]["MinCapacity"], scaling["ScalableTargets"][0]["MaxCapacity"]) == (
        2,
        4,
    )
    sandbox.wait_until(
        lambda: (_answers(sandbox, arn) or "").find("Welcome to nginx!") >= 0,
        "the new image answers",
        limit=600,
        step=15,
    )


def test_two_services_share_one_load_balancer_and_delete_removes_what_each_made(
    sandbox: EmbeddedSandbox, roles: tuple[str, str]
) -> None:
    ecs, elb, ec2 = sandbox.client("ecs"), sandbox.client("elbv2"), sandbox.client("ec2")
    groups_before = {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    hello = _create(sandbox, "hello", roles)["serviceArn"]
    web = _create(sandbox, "web", roles, primaryContainer={"image": "httpd", "containerPort": 80})[
        "serviceArn"
    ]
    balancers = elb.describe_load_balancers()["LoadBalancers"]
    assert len(balancers) == 1
    (listener,) = elb.describe_listeners(LoadBalancerArn=balancers[0]["LoadBalancerArn"])["Listeners"]
    rules = [
        r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]
    ]
    assert len(rules) == 2
    assert {r["Priority"] for r in rules} == {"1", "2"}
    for arn in (hello, web):
        sandbox.wait_until(lambda arn=arn: _answers(sandbox, arn), "the URL answers", limit=900, step=15)
    hello_page, web_page = _answers(sandbox, hello), _answers(sandbox, web)
    assert hello_page is not None
    assert "Hello World" in hello_page
    assert web_page is not None
    assert "It works!" in web_page

    deleted = ecs.delete_express_gateway_service(serviceArn=hello)["service"]
    assert deleted["status"]["statusCode"] == "DRAINING"
    assert _running(sandbox, "hello")["status"] == "DRAINING"

    def gone() -> bool:
        described = ecs.describe_express_gateway_service(serviceArn=hello)["service"]
        return bool(described["status"]["statusCode"] == "INACTIVE")

    sandbox.wait_until(gone, "the service is INACTIVE", limit=900, step=15)
    # The shared load balancer stays for `web`, with its rule only; `hello`'s target group is gone.
    assert len(elb.describe_load_balancers()["LoadBalancers"]) == 1
    rules = [
        r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]
    ]
    assert len(rules) == 1
    assert len(elb.describe_target_groups()["TargetGroups"]) == 1
    assert (
        len(
            sandbox.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
                "ScalableTargets"
            ]
        )
        == 1
    )
    assert [row["service_name"] for row in sandbox.express_services()] == ["web"]
    web_page = _answers(sandbox, web)
    assert web_page is not None
    assert "It works!" in web_page
    with pytest.raises(ClientError) as refused:
        ecs.update_express_gateway_service(serviceArn=hello, cpu="512")
    assert refused.value.response["Error"]["Code"] == "ServiceNotActiveException"

    ecs.delete_express_gateway_service(serviceArn=web)
    sandbox.wait_until(
        lambda: (
            ecs.describe_express_gateway_service(serviceArn=web)["service"]["status"]["statusCode"]
            == "INACTIVE"
        ),
        "the second service is INACTIVE",
        limit=900,
        step=15,
    )
    # The last Express service of the VPC took the shared load balancer and every group it made with it.
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    assert elb.describe_target_groups()["TargetGroups"] == []
    assert {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]} == groups_before
    assert sandbox.express_services() == []


def _code(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**params)
    error = refused.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_errors(sandbox: EmbeddedSandbox, roles: tuple[str, str]) -> None:
    ecs = sandbox.client("ecs")
    missing = f"arn:aws:ecs:us-east-1:{sandbox.account_id}:service/default/nothing"
    assert _code(ecs.describe_express_gateway_service, serviceArn=missing)[0] == "ResourceNotFoundException"
    assert (
        _code(ecs.update_express_gateway_service, serviceArn=missing, cpu="512")[0]
        == "ServiceNotFoundException"
    )
    assert _code(ecs.delete_express_gateway_service, serviceArn=missing)[0] == "ServiceNotFoundException"
    base = {
        "executionRoleArn": roles[0],
        "infrastructureRoleArn": roles[1],
        "primaryContainer": {"image": "nginxdemos/hello"},
    }
    nobody = f"arn:aws:iam::{sandbox.account_id}:role/nobody"
    code, message = _code(ecs.create_express_gateway_service, **{**base, "infrastructureRoleArn": nobody})
    assert code == "InvalidParameterException"
    assert nobody in message
    assert _code(ecs.create_express_gateway_service, **{**base, "executionRoleArn": nobody})[0] == (
        "InvalidParameterException"
    )
    # A role of the same name in another account is not this account's role.
    elsewhere = "arn:aws:iam::111122223333:role/ecsTaskExecutionRole"
    assert _code(ecs.create_express_gateway_service, **{**base, "executionRoleArn": elsewhere})[0] == (
        "InvalidParameterException"
    )
    no_role = {k: v for k, v in base.items() if k != "executionRoleArn"}
    assert _code(ecs.create_express_gateway_service, **no_role)[0] == "InvalidParameterException"
    assert (
        _code(ecs.create_express_gateway_service, **base, cluster="nowhere")[0] == "ClusterNotFoundException"
    )
    assert _code(ecs.create_express_gateway_service, **base, healthCheckPath="health")[0] == (
        "InvalidParameterException"
    )
    assert (
        _code(
            ecs.create_express_gateway_service, **base, scalingTarget={"minTaskCount": 3, "maxTaskCount": 2}
        )[0]
        == "InvalidParameterException"
    )
    assert _code(ecs.create_express_gateway_service, **base, cpu="300")[0] == "ClientException"
    assert (
        _code(ecs.create_express_gateway_service, **base, taskDefinitionArn="hello:1")[0]
        == "InvalidParameterException"
    )
    # Nothing of the refused requests was left behind: the first good one still makes everything.
    assert sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    _create(sandbox, "hello", roles)
    assert (
        _code(ecs.create_express_gateway_service, serviceName="hello", **base)[0]
        == "InvalidParameterException"
    )
    assert len(sandbox.client("elbv2").describe_load_balancers()["LoadBalancers"]) == 1


def test_a_service_without_a_name_gets_one(sandbox: EmbeddedSandbox, roles: tuple[str, str]) -> None:
    created = sandbox.client("ecs").create_express_gateway_service(
        executionRoleArn=roles[0],
        infrastructureRoleArn=roles[1],
        primaryContainer={"image": "nginxdemos/hello:plain-text"},
        tags=[{"key": "team", "value": "web"}],
    )["service"]
    assert created["serviceName"].startswith("hello-")
    described = sandbox.client("ecs").describe_express_gateway_service(
        serviceArn=created["serviceArn"], include=["TAGS"]
    )["service"]
    assert described["tags"] == [{"key": "team", "value": "web"}]
    assert (
        "tags"
        not in sandbox.client("ecs").describe_express_gateway_service(serviceArn=created["serviceArn"])[
            "service"
        ]
    )


def test_a_service_from_a_task_definition_of_ones_own(
    sandbox: EmbeddedSandbox, roles: tuple[str, str]
) -> None:
    ecs = sandbox.client("ecs")
    definition = ecs.register_task_definition(
        family="own",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=roles[0],
        containerDefinitions=[
            {
                "name": "Main",
                "image": "httpd",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp", "name": "web"}],
            }
        ],
    )["taskDefinition"]
    created = ecs.create_express_gateway_service(
        serviceName="own",
        infrastructureRoleArn=roles[1],
        taskDefinitionArn=definition["taskDefinitionArn"],
        healthCheckPath="/",
    )["service"]
    config = created["activeConfigurations"][0]
    assert config["taskDefinitionArn"] == definition["taskDefinitionArn"]
    assert (config["cpu"], config["memory"]) == ("256", "512")
    arn = created["serviceArn"]
    sandbox.wait_until(
        lambda: _answers(sandbox, arn), "the URL answers", limit=PROVISIONING_SECONDS + 600, step=15
    )
    page = _answers(sandbox, arn)
    assert page is not None
    assert "It works!" in page
    # Express services are ECS's to manage: ListServices tells them apart.
    assert ecs.list_services(cluster="default", resourceManagementType="ECS")["serviceArns"] == [arn]
    assert ecs.list_services(cluster="default", resourceManagementType="CUSTOMER")["serviceArns"] == []
    assert _running(sandbox, "own")["resourceManagementType"] == "ECS"

    # The same options next to a task definition are refused; a task definition without Main is refused.
    assert _code(
        ecs.create_express_gateway_service,
        serviceName="both", infrastructureRoleArn=roles[1], taskDefinitionArn=definition["taskDefinitionArn"],
        cpu="512",
    )[0] == "InvalidParameterException"  # fmt: skip
    other = ecs.register_task_definition(
        family="other", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "web", "image": "httpd", "portMappings": [{"containerPort": 80}]}],
    )["taskDefinition"]  # fmt: skip
    assert _code(
        ecs.create_express_gateway_service,
        serviceName="other", infrastructureRoleArn=roles[1], taskDefinitionArn=other["taskDefinitionArn"],
    )[0] == "InvalidParameterException"  # fmt: skip

    # Update to a new revision of one's own task definition: it is rolled out as it is.
    second = ecs.register_task_definition(
        family="own", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
        containerDefinitions=[
            {"name": "Main", "image": "nginx", "portMappings": [{"containerPort": 80, "name": "web"}]}
        ],
    )["taskDefinition"]  # fmt: skip
    target = ecs.update_express_gateway_service(
        serviceArn=arn, taskDefinitionArn=second["taskDefinitionArn"]
    )["service"]["targetConfiguration"]
    assert target["taskDefinitionArn"] == second["taskDefinitionArn"]
    assert (target["cpu"], target["healthCheckPath"]) == ("512", "/")
    assert _running(sandbox, "own")["taskDefinition"] == second["taskDefinitionArn"]


def test_delete_waits_for_the_interfaces_still_in_its_tasks_security_group(
    sandbox: EmbeddedSandbox, roles: tuple[str, str]
) -> None:
    """A task's network interface goes only at STOPPED, after its service is INACTIVE: while anything
    still uses the group Express Mode made for the tasks, the service stays DRAINING and the group is
    tried again; it is never left behind (labkit validate express-mode found it on the running clock)."""
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    arn = _create(sandbox, "hello", roles)["serviceArn"]
    sandbox.wait_until(lambda: _answers(sandbox, arn), "the URL answers", limit=900, step=15)
    service = _running(sandbox, "hello")
    (group,) = service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"]
    subnet = service["networkConfiguration"]["awsvpcConfiguration"]["subnets"][0]
    # Something else still in the tasks' group: what a task's interface is until it is released.
    held = ec2.create_network_interface(SubnetId=subnet, Groups=[group])["NetworkInterface"]
    ecs.delete_express_gateway_service(serviceArn=arn)

    def status() -> str:
        return str(ecs.describe_express_gateway_service(serviceArn=arn)["service"]["status"]["statusCode"])

    sandbox.wait_until(
        lambda: _running(sandbox, "hello")["status"] == "INACTIVE", "ECS service gone", limit=900, step=5
    )
    sandbox.advance(120)
    assert status() == "DRAINING"
    assert group in {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    ec2.delete_network_interface(NetworkInterfaceId=held["NetworkInterfaceId"])
    sandbox.wait_until(lambda: status() == "INACTIVE", "the Express service is INACTIVE", limit=120, step=5)
    assert group not in {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
