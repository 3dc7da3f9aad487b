"""The AWS CLI drives the course's nginx scenario end to end against a server sandbox."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from labkit.demo import TASK_DEFINITION
from tests.conftest import run_labkit
from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow


def test_nginx_on_fargate_behind_an_alb_with_the_aws_cli(tmp_path: Path, aws_cli: AwsCli) -> None:
    """ALB, target group, listener, cluster, task definition, service; scale to 3; three servers answer."""
    aws = aws_cli
    advance = aws_cli.advance

    vpc = aws("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true")["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    alb_sg = aws(
        "ec2", "create-security-group", "--group-name", "alb", "--description", "ALB", "--vpc-id", vpc
    )["GroupId"]
    task_sg = aws(
        "ec2", "create-security-group", "--group-name", "tasks", "--description", "tasks", "--vpc-id", vpc
    )["GroupId"]
    aws(
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        alb_sg,
        "--protocol",
        "tcp",
        "--port",
        "80",
        "--cidr",
        "0.0.0.0/0",
    )
    aws(
        "ec2",
        "authorize-security-group-ingress",
        "--group-id",
        task_sg,
        "--protocol",
        "tcp",
        "--port",
        "80",
        "--source-group",
        alb_sg,
    )
    lb = aws(
        "elbv2", "create-load-balancer", "--name", "hello", "--subnets", *subnets, "--security-groups", alb_sg
    )["LoadBalancers"][0]
    tg = aws(
        "elbv2", "create-target-group", "--name", "hello", "--protocol", "HTTP", "--port", "80",
        "--vpc-id", vpc, "--target-type", "ip", "--health-check-path", "/",
    )["TargetGroups"][0]  # fmt: skip
    aws(
        "elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP", "--port", "80",
        "--default-actions", f"Type=forward,TargetGroupArn={tg['TargetGroupArn']}",
    )  # fmt: skip
    aws("ecs", "create-cluster", "--cluster-name", "course")
    definition = tmp_path / "taskdef.json"
    definition.write_text(json.dumps(TASK_DEFINITION))
    aws("ecs", "register-task-definition", "--cli-input-json", f"file://{definition}")
    aws(
        "ecs", "create-service", "--cluster", "course", "--service-name", "nginx-demo-hello",
        "--task-definition", "nginx-demo-hello", "--desired-count", "1", "--launch-type", "FARGATE",
        "--network-configuration",
        f"awsvpcConfiguration={{subnets=[{','.join(subnets)}],securityGroups=[{task_sg}],assignPublicIp=ENABLED}}",
        "--load-balancers", f"targetGroupArn={tg['TargetGroupArn']},containerName=hello,containerPort=80",
    )  # fmt: skip
    advance(300)
    aws("ecs", "wait", "services-stable", "--cluster", "course", "--services", "nginx-demo-hello")
    health = aws("elbv2", "describe-target-health", "--target-group-arn", tg["TargetGroupArn"])
    assert [h["TargetHealth"]["State"] for h in health["TargetHealthDescriptions"]] == ["healthy"]

    urls = run_labkit("sandbox", "urls")
    assert urls.returncode == 0
    url = urls.stdout.split()[0]
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert "Hello World" in response.read().decode()

    aws(
        "ecs",
        "update-service",
        "--cluster",
        "course",
        "--service",
        "nginx-demo-hello",
        "--desired-count",
        "3",
    )
    advance(300)
    aws("ecs", "wait", "services-stable", "--cluster", "course", "--services", "nginx-demo-hello")
    addresses = set()
    for _ in range(6):
        with urllib.request.urlopen(url, timeout=10) as response:
            found = re.search(r"Server&nbsp;address:</span> <span>([\d.]+:\d+)", response.read().decode())
            assert found is not None
            addresses.add(found.group(1))
    assert len(addresses) == 3
    service = aws("ecs", "describe-services", "--cluster", "course", "--services", "nginx-demo-hello")[
        "services"
    ][0]
    assert (service["desiredCount"], service["runningCount"]) == (3, 3)
