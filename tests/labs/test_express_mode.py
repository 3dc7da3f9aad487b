"""The express-mode lab: reference steps pass every checkpoint, an empty sandbox fails them, and the
shortcuts a learner might try (a look-alike service, typed or borrowed ARNs, an update around Express
Mode, a plain service deleted) fail."""

from __future__ import annotations

import json

import labkit
from labkit.checkpoints import CheckContext, Outcome
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up

LAB = "express-mode"


def _check(sandbox: EmbeddedSandbox, checkpoint: str) -> Outcome:
    return load_lab(LAB).checkpoints.get(checkpoint).check(CheckContext(sandbox))


def _roles(sandbox: EmbeddedSandbox) -> None:
    labkit.open_lab(LAB, sandbox=sandbox).catch_up(to="roles-ready")


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    before, after = grade_fresh_and_caught_up(LAB, sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert messages["url-answers"].startswith("hello-express's URL answers")
    assert messages["resources-mapped"].startswith("All 10 parts")
    assert "plain text" in messages["update-rolled-out"]
    assert "INACTIVE" in messages["second-service-deleted"]


def test_a_plain_ecs_service_named_like_the_express_one_is_not_an_express_service(
    sandbox: EmbeddedSandbox,
) -> None:
    """create_service with the right name and image is not Express Mode: DescribeExpressGatewayService
    does not know it."""
    _roles(sandbox)
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    ecs.create_cluster(clusterName="default")
    ecs.register_task_definition(
        family="hello-express",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "Main", "image": "nginxdemos/hello", "portMappings": [{"containerPort": 80}]}
        ],
    )
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_service(
        cluster="default",
        serviceName="hello-express",
        taskDefinition="hello-express",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )
    outcome = _check(sandbox, "service-created")
    assert not outcome.passed
    assert "not an Express Mode service" in outcome.message


def test_the_default_health_check_path_fails_the_service_check(sandbox: EmbeddedSandbox) -> None:
    """Leaving healthCheckPath out means /ping, which nginxdemos/hello does not serve."""
    _roles(sandbox)
    iam, ecs = sandbox.client("iam"), sandbox.client("ecs")
    ecs.create_express_gateway_service(
        serviceName="hello-express",
        executionRoleArn=iam.get_role(RoleName="express-mode-execution")["Role"]["Arn"],
        infrastructureRoleArn=iam.get_role(RoleName="express-mode-infrastructure")["Role"]["Arn"],
        primaryContainer={"image": "nginxdemos/hello", "containerPort": 80},
        cpu="256",
        memory="512",
        scalingTarget={"minTaskCount": 1, "maxTaskCount": 3},
    )
    outcome = _check(sandbox, "service-created")
    assert not outcome.passed
    assert "'/ping'" in outcome.message


def test_a_mapping_of_typed_names_or_of_hand_made_look_alikes_fails(sandbox: EmbeddedSandbox) -> None:
    """The mapping must name what Express Mode made: the nginx-alb lab's names, or ARNs of load balancer
    resources made by hand beside it, do not count; the right ARNs do."""
    session = labkit.open_lab(LAB, sandbox=sandbox)
    session.catch_up(to="url-answers")
    ssm, elbv2, ec2 = sandbox.client("ssm"), sandbox.client("elbv2"), sandbox.client("ec2")
    typed = {
        "cluster": "nginx-lab",
        "task_definition": "nginx-demo-hello:1",
        "service": "nginx-demo-hello",
        "load_balancer": "nginx-alb",
        "listener": "listener",
        "listener_rule": "rule",
        "target_group": "nginx-tg",
        "load_balancer_security_group": "nginx-alb-sg",
        "tasks_security_group": "nginx-tasks-sg",
        "scaling_policy": "policy",
    }
    ssm.put_parameter(Name="/express-mode/mapping", Value=json.dumps(typed), Type="String")
    outcome = _check(sandbox, "resources-mapped")
    assert not outcome.passed
    assert "10 of 10 parts" in outcome.message

    # Look-alikes made by hand: a load balancer, target group and listener of the learner's own.
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    lb = elbv2.create_load_balancer(Name="look-alike", Subnets=subnets)["LoadBalancers"][0]
    tg = elbv2.create_target_group(Name="look-alike", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
        "TargetGroups"
    ][0]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )["Listeners"][0]
    session.catch_up(to="resources-mapped")  # the reference mapping, right
    right = json.loads(ssm.get_parameter(Name="/express-mode/mapping")["Parameter"]["Value"])
    assert _check(sandbox, "resources-mapped").passed
    borrowed = dict(
        right,
        load_balancer=lb["LoadBalancerArn"],
        target_group=tg["TargetGroupArn"],
        listener=listener["ListenerArn"],
    )
    ssm.put_parameter(Name="/express-mode/mapping", Value=json.dumps(borrowed), Type="String", Overwrite=True)
    outcome = _check(sandbox, "resources-mapped")
    assert not outcome.passed
    assert "3 of 10 parts" in outcome.message
    assert "load_balancer, listener, target_group" in outcome.message


def test_an_update_made_around_express_mode_does_not_count(sandbox: EmbeddedSandbox) -> None:
    """update_service with a plain-text task definition of one's own leaves Express Mode's configuration
    on the old image: the checkpoint says so."""
    labkit.open_lab(LAB, sandbox=sandbox).catch_up(to="resources-mapped")
    ecs = sandbox.client("ecs")
    service = ecs.describe_services(cluster="default", services=["hello-express"])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    containers = [dict(c, image="nginxdemos/hello:plain-text") for c in definition["containerDefinitions"]]
    own = ecs.register_task_definition(
        family="my-own",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=definition.get("executionRoleArn", ""),
        containerDefinitions=containers,
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="default", service="hello-express", taskDefinition=own)
    outcome = _check(sandbox, "update-rolled-out")
    assert not outcome.passed
    assert "Express Mode's configuration of hello-express still runs" in outcome.message


def test_a_second_service_still_running_or_never_made_fails(sandbox: EmbeddedSandbox) -> None:
    """Before second-express exists, and while it is ACTIVE, the deletion checkpoint fails and says why."""
    labkit.open_lab(LAB, sandbox=sandbox).catch_up(to="update-rolled-out")
    never = _check(sandbox, "second-service-deleted")
    assert not never.passed
    assert "create it, then delete it" in never.message
    ecs, iam = sandbox.client("ecs"), sandbox.client("iam")
    ecs.create_express_gateway_service(
        serviceName="second-express",
        executionRoleArn=iam.get_role(RoleName="express-mode-execution")["Role"]["Arn"],
        infrastructureRoleArn=iam.get_role(RoleName="express-mode-infrastructure")["Role"]["Arn"],
        primaryContainer={"image": "nginxdemos/hello", "containerPort": 80},
        healthCheckPath="/",
    )
    running = _check(sandbox, "second-service-deleted")
    assert not running.passed
    assert "still ACTIVE" in running.message


def test_a_plain_service_made_and_deleted_is_no_deleted_express_service(sandbox: EmbeddedSandbox) -> None:
    """A plain ECS service named second-express, created and deleted, had no load balancer: it fails."""
    labkit.open_lab(LAB, sandbox=sandbox).catch_up(to="update-rolled-out")
    ec2, ecs = sandbox.client("ec2"), sandbox.client("ecs")
    service = ecs.describe_services(cluster="default", services=["hello-express"])["services"][0]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_service(
        cluster="default",
        serviceName="second-express",
        taskDefinition=service["taskDefinition"],
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet]}},
    )
    ecs.delete_service(cluster="default", service="second-express")
    sandbox.advance(120)
    outcome = _check(sandbox, "second-service-deleted")
    assert not outcome.passed
    assert "not an Express service" in outcome.message
