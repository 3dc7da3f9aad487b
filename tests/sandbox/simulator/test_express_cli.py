"""ECS Express Mode with the AWS CLI against a server sandbox, as the developer guide's CLI walkthrough
("Create your first Express Mode service using the AWS CLI") does it, and `labkit sandbox urls`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from labkit.sandbox.moto_seam.elbv2 import PROVISIONING_SECONDS
from tests.conftest import run_labkit
from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow

TRUST = '{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Service": "{}"}}, "Action": "sts:AssumeRole"}}]}}'


def test_create_describe_curl_and_delete_with_the_aws_cli(aws_cli: AwsCli) -> None:
    aws = aws_cli
    execution = aws(
        "iam", "create-role", "--role-name", "ecsTaskExecutionRole",
        "--assume-role-policy-document", TRUST.format("ecs-tasks.amazonaws.com"),
    )["Role"]["Arn"]  # fmt: skip
    aws(
        "iam", "attach-role-policy", "--role-name", "ecsTaskExecutionRole",
        "--policy-arn", "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    )  # fmt: skip
    infrastructure = aws(
        "iam", "create-role", "--role-name", "ecsInfrastructureRoleForExpressServices",
        "--assume-role-policy-document", TRUST.format("ecs.amazonaws.com"),
    )["Role"]["Arn"]  # fmt: skip
    service = aws(
        "ecs", "create-express-gateway-service",
        "--service-name", "hello",
        "--execution-role-arn", execution,
        "--infrastructure-role-arn", infrastructure,
        "--primary-container", '{"image": "nginxdemos/hello", "containerPort": 80}',
        "--health-check-path", "/",
        "--scaling-target", "minTaskCount=1,maxTaskCount=3",
    )["service"]  # fmt: skip
    arn = service["serviceArn"]
    assert service["status"]["statusCode"] == "ACTIVE"
    endpoint = aws(
        "ecs", "describe-express-gateway-service", "--service-arn", arn,
        "--query", "service.activeConfigurations[0].ingressPaths[0]",
    )["endpoint"]  # fmt: skip
    assert endpoint.endswith(".ecs.us-east-1.on.aws")

    rows = json.loads(run_labkit("sandbox", "urls", "--json").stdout)
    (row,) = [r for r in rows if r["kind"] == "express"]
    assert row["endpoint"] == endpoint
    assert row["public_url"] == f"https://{endpoint}/"
    aws.advance(PROVISIONING_SECONDS)
    page = ""
    for _ in range(10):  # the task starts and its target passes its health checks
        aws.advance(30)
        try:
            with urllib.request.urlopen(row["url"], timeout=10) as answer:  # loopback only
                page = answer.read().decode()
                break
        except urllib.error.HTTPError:
            continue
    assert "Hello World" in page
    listed = run_labkit("sandbox", "urls").stdout
    assert f"express service hello  (https://{endpoint}/)" in listed

    services = aws("ecs", "list-services", "--cluster", "default")["serviceArns"]
    assert services == [arn]
    aws("ecs", "delete-express-gateway-service", "--service-arn", arn)
    assert aws("ecs", "describe-express-gateway-service", "--service-arn", arn)["service"]["status"] == {
        "statusCode": "DRAINING"
    }
    # The tasks drain for the target group's deregistration delay (300 s), then what the service made goes.
    aws.advance(300)
    aws.advance(60)
    described = aws("ecs", "describe-express-gateway-service", "--service-arn", arn)["service"]
    assert described["status"]["statusCode"] == "INACTIVE"
    assert aws("elbv2", "describe-load-balancers")["LoadBalancers"] == []

    done = subprocess.run(
        [sys.executable, "-m", "awscli", "ecs", "describe-express-gateway-service", "--service-arn",
         arn.replace("/hello", "/nothing"), "--output", "json"],
        capture_output=True, text=True, env=aws.env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "(ResourceNotFoundException)" in done.stderr
