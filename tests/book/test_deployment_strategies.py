"""The deployment-strategies chapter's lifecycle hook works as the chapter shows it, in a sandbox.

The chapter's Python block (a hook handler registered with `labkit.sandbox.register_lifecycle_hook`)
and its JSON block with that hook (`deploymentConfiguration` with `lifecycleHooks`) run together: a
blue/green deployment of a second revision calls the handler at POST_TEST_TRAFFIC_SHIFT, where it
reads green through the test listener, and the deployment succeeds. The same deployment with a
handler that answers FAILED rolls back, as the chapter says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from labkit.sandbox import unregister_lifecycle_hook
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.testing import advance_until
from tests.book.blocks import code_blocks
from tests.conftest import REPO

CHAPTER = REPO / "book" / "deployment-strategies.md"

pytestmark = pytest.mark.slow


def _hook_configuration() -> dict[str, Any]:
    """The chapter's `deploymentConfiguration` JSON block that names a Lambda hook."""
    for block in code_blocks(CHAPTER):
        if block.language == "json" and block.marker == "shape: ecs DeploymentConfiguration":
            document = json.loads(block.text)
            if any(h.get("hookTargetArn") for h in document.get("lifecycleHooks", [])):
                return dict(document)
    raise AssertionError("the chapter shows no deploymentConfiguration with a Lambda hook")


def _handler_code() -> str:
    """The chapter's Python block that registers the hook's handler."""
    blocks = [b.text for b in code_blocks(CHAPTER) if b.language == "python"]
    found = [text for text in blocks if "register_lifecycle_hook(" in text]
    assert len(found) == 1, "the chapter shows one handler registration"
    return found[0]


class BlueGreenService:
    """A two-task service behind a load balancer with a production (:80) and a test (:8080) rule."""

    def __init__(self, sandbox: EmbeddedSandbox) -> None:
        self.sandbox = sandbox
        ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
        self.ecs = sandbox.client("ecs")
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = [
            s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
        ][:2]
        self.load_balancer = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        groups = [
            elb.create_target_group(
                Name=f"web-{colour}",
                Protocol="HTTP",
                Port=80,
                VpcId=vpc,
                TargetType="ip",
                HealthCheckPath="/",
            )["TargetGroups"][0]["TargetGroupArn"]
            for colour in ("blue", "green")
        ]
        rules = []
        for port, group in ((80, groups[0]), (8080, groups[1])):
            forward = [{"Type": "forward", "TargetGroupArn": group}]
            listener = elb.create_listener(
                LoadBalancerArn=self.load_balancer, Protocol="HTTP", Port=port, DefaultActions=forward
            )["Listeners"][0]["ListenerArn"]
            rules.append(
                elb.create_rule(
                    ListenerArn=listener,
                    Priority=1,
                    Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                    Actions=forward,
                )["Rules"][0]["RuleArn"]
            )
        self.ecs.create_cluster(clusterName="demo")
        self._register("nginxdemos/hello")
        self.ecs.create_service(
            cluster="demo",
            serviceName="web",
            taskDefinition="web:1",
            desiredCount=2,
            launchType="FARGATE",
            loadBalancers=[
                {
                    "targetGroupArn": groups[0],
                    "containerName": "web",
                    "containerPort": 80,
                    "advancedConfiguration": {
                        "alternateTargetGroupArn": groups[1],
                        "productionListenerRule": rules[0],
                        "testListenerRule": rules[1],
                        "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers",
                    },
                }
            ],
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "assignPublicIp": "ENABLED"}},
            deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        )
        advance_until(sandbox, lambda: self.status() == "SUCCESSFUL", what="the first deployment")

    def _register(self, image: str) -> None:
        self.ecs.register_task_definition(
            family="web",
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}],
        )

    def status(self) -> str:
        listed = self.ecs.list_service_deployments(cluster="demo", service="web")["serviceDeployments"]
        return str(listed[0]["status"]) if listed else ""

    def deploy_v2(self, configuration: dict[str, Any]) -> str:
        """Deploy revision 2 with `configuration`; return the deployment's final status."""
        self._register("nginxdemos/hello:plain-text")
        self.ecs.update_service(
            cluster="demo", service="web", taskDefinition="web:2", deploymentConfiguration=configuration
        )
        done = ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED")
        advance_until(self.sandbox, lambda: self.status() in done, what="the blue/green deployment")
        return self.status()


@pytest.fixture
def service() -> Iterator[BlueGreenService]:
    with EmbeddedSandbox(region="us-east-1", clock="manual") as sandbox:
        yield BlueGreenService(sandbox)


@pytest.fixture
def hook_arn() -> Iterator[str]:
    """The chapter's hook ARN; its handler is forgotten after the test."""
    arn = str(_hook_configuration()["lifecycleHooks"][0]["hookTargetArn"])
    yield arn
    unregister_lifecycle_hook(arn)


def test_the_chapters_hook_reads_green_through_the_test_listener(
    service: BlueGreenService, hook_arn: str
) -> None:
    """The chapter's handler, called at POST_TEST_TRAFFIC_SHIFT, sees green (v2) on the test
    listener while production still answers blue, and the deployment succeeds."""
    seen: list[tuple[str, str]] = []
    namespace: dict[str, Any] = {
        "sandbox": service.sandbox,
        "load_balancer_arn": service.load_balancer,
    }
    # The chapter's own example, run as a reader would run it.
    exec(_handler_code(), namespace)
    handler = namespace["smoke_test"]

    def spy(event: dict[str, Any], context: Any) -> Any:
        answer = handler(event, context)
        seen.append((str(event["lifecycleStage"]), str(answer["hookStatus"])))
        return answer

    namespace["register_lifecycle_hook"](hook_arn, spy)
    assert service.deploy_v2(_hook_configuration()) == "SUCCESSFUL"
    assert seen == [("POST_TEST_TRAFFIC_SHIFT", "SUCCEEDED")]


def test_a_hook_that_answers_failed_rolls_the_deployment_back(
    service: BlueGreenService, hook_arn: str
) -> None:
    """A handler answering FAILED at the chapter's stage rolls the deployment back to blue."""
    from labkit.sandbox import register_lifecycle_hook

    register_lifecycle_hook(hook_arn, lambda event, context: {"hookStatus": "FAILED"})
    assert service.deploy_v2(_hook_configuration()) == "ROLLBACK_SUCCESSFUL"
