"""A new load balancer is `provisioning` before `active`, with its Scheme, as ELBv2 shows it.

The states are the Application Load Balancers guide's ("Load balancer state": provisioning, active,
failed); `Scheme` is `internet-facing` unless `internal` is asked (ELBv2 API Reference,
CreateLoadBalancer: "The default is an Internet-facing load balancer"). How long provisioning takes
is not documented: `PROVISIONING_SECONDS` says where its figure comes from.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.moto_seam.elbv2 import PROVISIONING_SECONDS
from tests.sandbox.simulator.conftest import AwsCli


def _subnets(ec2: Any) -> list[str]:
    return [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]


def test_a_new_load_balancer_provisions_before_it_is_active(sandbox: EmbeddedSandbox) -> None:
    """CreateLoadBalancer and DescribeLoadBalancers say provisioning until PROVISIONING_SECONDS have passed."""
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    created = elb.create_load_balancer(Name="web", Subnets=_subnets(ec2))["LoadBalancers"][0]
    assert created["State"] == {"Code": "provisioning"}
    assert created["Scheme"] == "internet-facing"
    sandbox.advance(PROVISIONING_SECONDS - 1)
    described = elb.describe_load_balancers(Names=["web"])["LoadBalancers"][0]
    assert (described["State"], described["Scheme"]) == ({"Code": "provisioning"}, "internet-facing")
    sandbox.advance(1)
    assert elb.describe_load_balancers()["LoadBalancers"][0]["State"] == {"Code": "active"}


def test_an_internal_scheme_is_kept_and_a_bogus_one_refused(sandbox: EmbeddedSandbox) -> None:
    """Scheme internal is stored and shown; anything else is AWS's enum ValidationError, nothing created."""
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    internal = elb.create_load_balancer(Name="inside", Subnets=_subnets(ec2), Scheme="internal")
    assert internal["LoadBalancers"][0]["Scheme"] == "internal"
    assert elb.describe_load_balancers(Names=["inside"])["LoadBalancers"][0]["Scheme"] == "internal"
    with pytest.raises(ClientError) as refused:
        elb.create_load_balancer(Name="bogus", Subnets=_subnets(ec2), Scheme="public")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "[internet-facing, internal]" in refused.value.response["Error"]["Message"]
    assert [lb["LoadBalancerName"] for lb in elb.describe_load_balancers()["LoadBalancers"]] == ["inside"]


def test_targets_register_while_provisioning_but_are_checked_only_once_active(
    sandbox: EmbeddedSandbox,
) -> None:
    """A target registered at once stays `initial` while the load balancer provisions, then turns healthy."""
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    lb = elb.create_load_balancer(Name="web", Subnets=_subnets(ec2))["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
        HealthCheckIntervalSeconds=10, HealthyThresholdCount=2,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    ecs = sandbox.client("ecs")
    from labkit.demo import TASK_DEFINITION

    ecs.create_cluster(clusterName="course")
    ecs.register_task_definition(**TASK_DEFINITION)
    ecs.create_service(
        cluster="course", serviceName="web", taskDefinition="nginx-demo-hello", desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": _subnets(ec2), "assignPublicIp": "ENABLED"}},
        loadBalancers=[{"targetGroupArn": tg, "containerName": "hello", "containerPort": 80}],
    )  # fmt: skip

    def states() -> list[str]:
        found = elb.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
        return [d["TargetHealth"]["State"] for d in found]

    sandbox.advance(PROVISIONING_SECONDS - 20)
    assert states() == ["initial"]  # registered, not yet checked
    sandbox.advance(60)
    assert states() == ["healthy"]


@pytest.mark.slow
def test_the_aws_cli_shows_provisioning_scheme_and_its_waiter_returns(aws_cli: AwsCli) -> None:
    """`aws elbv2 create-load-balancer` says provisioning and internet-facing; `aws elbv2 wait load-balancer-available` returns once active."""
    aws = aws_cli
    subnets = [s["SubnetId"] for s in aws("ec2", "describe-subnets")["Subnets"]][:2]
    created = aws("elbv2", "create-load-balancer", "--name", "web", "--subnets", *subnets)["LoadBalancers"][0]
    assert (created["State"]["Code"], created["Scheme"]) == ("provisioning", "internet-facing")
    described = aws("elbv2", "describe-load-balancers", "--names", "web")["LoadBalancers"][0]
    assert described["State"]["Code"] == "provisioning"
    aws.advance(int(PROVISIONING_SECONDS))
    aws("elbv2", "wait", "load-balancer-available", "--names", "web")
    assert (
        aws("elbv2", "describe-load-balancers", "--names", "web")["LoadBalancers"][0]["State"]["Code"]
        == "active"
    )
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "elbv2", "create-load-balancer", "--name", "bad", "--subnets", *subnets,
         "--scheme", "public"],
        capture_output=True, text=True, env=aws.env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "(ValidationError) when calling the CreateLoadBalancer operation" in done.stderr
