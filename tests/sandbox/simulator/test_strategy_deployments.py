"""ECS's blue/green, linear and canary deployments in the simulator (manual clock), and the deployment APIs."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.demo import TASK_DEFINITION
from labkit.sandbox import register_lifecycle_hook, unregister_lifecycle_hook
from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
HOOK = "arn:aws:lambda:us-east-1:123456789012:function:check-green"


@dataclass
class BlueGreen:
    stack: Stack
    green_group: str
    production_rule: str
    test_rule: str

    @property
    def production_url(self) -> str:
        return self.stack.sandbox.listener_url(self.stack.load_balancer_arn, 80)

    @property
    def test_url(self) -> str:
        return self.stack.sandbox.listener_url(self.stack.load_balancer_arn, 8080)

    def advanced(self) -> dict[str, Any]:
        return {
            "alternateTargetGroupArn": self.green_group,
            "productionListenerRule": self.production_rule,
            "testListenerRule": self.test_rule,
            "roleArn": ROLE,
        }

    def create(self, configuration: dict[str, Any], desired: int = 2) -> None:
        self.stack.create_service(
            desired=desired,
            loadBalancers=[
                {
                    "targetGroupArn": self.stack.target_group_arn,
                    "containerName": "hello",
                    "containerPort": 80,
                    "advancedConfiguration": self.advanced(),
                }
            ],
            deploymentConfiguration=configuration,
        )
        advance_until(
            self.stack.sandbox,
            lambda: self.stack.service()["deployments"][0]["rolloutState"] == "COMPLETED",
            what="the first deployment",
        )

    def deploy_v2(self) -> str:
        """Register revision 2 and update the service; return the new service deployment's ARN."""
        self.stack.ecs.register_task_definition(**TASK_DEFINITION)
        self.stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
        listed = self.stack.ecs.list_service_deployments(cluster="course", service="web")[
            "serviceDeployments"
        ]
        return str(listed[0]["serviceDeploymentArn"])

    def deployment(self, arn: str) -> dict[str, Any]:
        found: dict[str, Any] = self.stack.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ][0]
        return found

    def revisions(self, url: str, count: int) -> list[str]:
        """Which task definition revision answered each of `count` requests ("1" or "2")."""
        by_ip = {}
        for task in self.stack.tasks():
            ip = next(
                d["value"]
                for a in task["attachments"]
                for d in a["details"]
                if d["name"] == "privateIPv4Address"
            )
            by_ip[ip] = task["taskDefinitionArn"].rsplit(":", 1)[-1]
        answers = []
        for _ in range(count):
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read().decode()
            ip = re.search(r"(\d+\.\d+\.\d+\.\d+):80", body)
            assert ip is not None, body[:300]
            answers.append(by_ip.get(ip.group(1), "?"))
        return answers


@pytest.fixture
def bg(stack: Stack) -> BlueGreen:
    """The stack plus a green target group, a production rule on :80 and a test listener on :8080."""
    elb = stack.elb
    green = elb.create_target_group(
        Name="web-green", Protocol="HTTP", Port=80, VpcId=stack.vpc_id, TargetType="ip", HealthCheckPath="/",
        HealthCheckIntervalSeconds=10, HealthyThresholdCount=3,
    )["TargetGroups"][0]["TargetGroupArn"]  # fmt: skip
    listener = elb.describe_listeners(LoadBalancerArn=stack.load_balancer_arn)["Listeners"][0]["ListenerArn"]
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": stack.target_group_arn, "Weight": 1},
                {"TargetGroupArn": green, "Weight": 0},
            ]
        },
    }
    production = elb.create_rule(
        ListenerArn=listener, Priority=1, Actions=[forward],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
    )["Rules"][0]["RuleArn"]  # fmt: skip
    test_listener = elb.create_listener(
        LoadBalancerArn=stack.load_balancer_arn, Protocol="HTTP", Port=8080, DefaultActions=[forward]
    )["Listeners"][0]["ListenerArn"]
    test = elb.create_rule(
        ListenerArn=test_listener, Priority=1, Actions=[forward],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
    )["Rules"][0]["RuleArn"]  # fmt: skip
    return BlueGreen(stack, green, production, test)


@pytest.fixture
def hooks() -> Iterator[dict[str, Any]]:
    """Registered hook handlers are forgotten after the test."""
    registered: dict[str, Any] = {}
    yield registered
    for arn in registered:
        unregister_lifecycle_hook(arn)


def _weights(bg: BlueGreen, rule: str) -> dict[str, int]:
    action = bg.stack.elb.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"][0]
    groups = action["ForwardConfig"]["TargetGroups"]
    return {
        "blue" if g["TargetGroupArn"] == bg.stack.target_group_arn else "green": g["Weight"] for g in groups
    }


def _stage(bg: BlueGreen, arn: str) -> str:
    return str(bg.deployment(arn).get("lifecycleStage"))


class TestBlueGreen:
    def test_step_by_step(self, bg: BlueGreen) -> None:
        """Green scales up beside blue, test traffic reaches green first, then production; bake; blue goes."""
        bg.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5})
        assert set(bg.revisions(bg.production_url, 4)) == {"1"}
        arn = bg.deploy_v2()
        assert bg.deployment(arn)["status"] == "IN_PROGRESS"
        advance_until(
            bg.stack.sandbox,
            lambda: _stage(bg, arn) == "BAKE_TIME",
            what="production traffic shifted",
            step=5,
        )
        # Both revisions run during the bake; production and test reach green only.
        running = [t["taskDefinitionArn"][-1] for t in bg.stack.tasks() if t["lastStatus"] == "RUNNING"]
        assert sorted(running) == ["1", "1", "2", "2"]
        assert _weights(bg, bg.production_rule) == {"blue": 0, "green": 1}
        assert set(bg.revisions(bg.production_url, 4)) == {"2"}
        assert set(bg.revisions(bg.test_url, 4)) == {"2"}
        bg.stack.sandbox.advance(290)
        assert bg.deployment(arn)["status"] == "IN_PROGRESS"
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn)["status"] == "SUCCESSFUL", what="clean-up", step=5
        )
        described = bg.deployment(arn)
        assert described["lifecycleStage"] == "CLEAN_UP"
        assert described["targetServiceRevision"]["requestedTaskCount"] == 2
        assert {t["taskDefinitionArn"][-1] for t in bg.stack.tasks()} == {"2"}
        advance_until(
            bg.stack.sandbox, lambda: len(bg.stack.service()["deployments"]) == 1, what="blue's tasks stopped"
        )
        service = bg.stack.service()
        assert service["deployments"][0]["rolloutState"] == "COMPLETED"
        assert "(service web) has reached a steady state." in service["events"][0]["message"]
        assert service["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
        assert service["deploymentConfiguration"]["bakeTimeInMinutes"] == 5

    def test_test_listener_reaches_green_before_production(
        self, bg: BlueGreen, hooks: dict[str, Any]
    ) -> None:
        """At POST_TEST_TRAFFIC_SHIFT a hook sees green on the test listener and blue on production."""
        seen: dict[str, list[str]] = {}

        def check(event: dict[str, Any], context: Any) -> dict[str, Any]:
            seen["test"] = bg.revisions(bg.test_url, 3)
            seen["production"] = bg.revisions(bg.production_url, 3)
            seen["stage"] = [event["lifecycleStage"], context.invoked_function_arn]
            return {"hookStatus": "SUCCEEDED"}

        register_lifecycle_hook(HOOK, check)
        hooks[HOOK] = check
        bg.create(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [
                    {"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
                ],
            }
        )
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn)["status"] == "SUCCESSFUL", what="deployment", step=5
        )
        assert seen["stage"] == ["POST_TEST_TRAFFIC_SHIFT", HOOK]
        assert set(seen["test"]) == {"2"}
        assert set(seen["production"]) == {"1"}


class TestLinearAndCanary:
    def test_linear_weights_at_each_step(self, bg: BlueGreen) -> None:
        bg.create(
            {
                "strategy": "LINEAR",
                "bakeTimeInMinutes": 0,
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
            }
        )
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox,
            lambda: _stage(bg, arn) == "PRODUCTION_TRAFFIC_SHIFT",
            what="first production step",
            step=5,
        )
        assert _weights(bg, bg.production_rule) == {"blue": 3, "green": 1}
        # The data plane honours the weights, deterministically: 1 request in 4 reaches green.
        assert sorted(bg.revisions(bg.production_url, 8)) == ["1"] * 6 + ["2"] * 2
        bg.stack.sandbox.advance(120)
        bg.stack.ecs.describe_services(cluster="course", services=["web"])  # catch up
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 1}
        bg.stack.sandbox.advance(120)
        bg.stack.ecs.describe_services(cluster="course", services=["web"])
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 3}
        weights = bg.deployment(arn)["targetServiceRevision"]
        assert weights["requestedProductionTrafficWeight"] == 75.0
        assert weights["requestedTestTrafficWeight"] == 100.0
        bg.stack.sandbox.advance(120)
        assert bg.deployment(arn)["status"] == "SUCCESSFUL"
        assert _weights(bg, bg.production_rule) == {"blue": 0, "green": 1}

    def test_canary(self, bg: BlueGreen) -> None:
        bg.create(
            {
                "strategy": "CANARY",
                "bakeTimeInMinutes": 1,
                "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 3},
            }
        )
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox, lambda: _stage(bg, arn) == "PRODUCTION_TRAFFIC_SHIFT", what="canary", step=5
        )
        assert _weights(bg, bg.production_rule) == {"blue": 9, "green": 1}
        assert bg.revisions(bg.production_url, 10).count("2") == 1
        bg.stack.sandbox.advance(180)
        assert _stage(bg, arn) == "BAKE_TIME"
        assert _weights(bg, bg.production_rule) == {"blue": 0, "green": 1}
        bg.stack.sandbox.advance(60)
        assert bg.deployment(arn)["status"] == "SUCCESSFUL"


class TestHooks:
    def _create_with_hook(self, bg: BlueGreen, stage: str = "POST_SCALE_UP", **hook: Any) -> None:
        bg.create(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [
                    {"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": [stage], **hook}
                ],
            }
        )

    def test_in_progress_is_called_again(self, bg: BlueGreen, hooks: dict[str, Any]) -> None:
        calls: list[Any] = []

        def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
            calls.append(event.get("hookDetails"))
            if len(calls) < 3:
                return {
                    "hookStatus": "IN_PROGRESS",
                    "callBackDelay": 20,
                    "hookDetails": {"tries": len(calls)},
                }
            return {"hookStatus": "SUCCEEDED"}

        register_lifecycle_hook(HOOK, slow)
        hooks[HOOK] = slow
        self._create_with_hook(bg, hookDetails={"bucket": "b"})
        arn = bg.deploy_v2()
        # (a request catches the sandbox up: the hook is called then)
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn) and len(calls) == 1, what="first call", step=5
        )
        detail = bg.deployment(arn)["lifecycleHookDetails"][0]
        assert (detail["status"], detail["targetArn"], detail["targetType"]) == (
            "IN_PROGRESS",
            HOOK,
            "AWS_LAMBDA",
        )
        bg.stack.sandbox.advance(10)  # callBackDelay is 20 s
        bg.stack.ecs.describe_services(cluster="course", services=["web"])
        assert len(calls) == 1
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn)["status"] == "SUCCESSFUL", what="deployment", step=5
        )
        assert calls == [{"bucket": "b"}, {"tries": 1}, {"tries": 2}]

    def test_failed_hook_rolls_back(self, bg: BlueGreen, hooks: dict[str, Any]) -> None:
        def no(event: dict[str, Any], context: Any) -> dict[str, Any]:
            return {"hookStatus": "FAILED"}

        register_lifecycle_hook(HOOK, no)
        hooks[HOOK] = no
        self._create_with_hook(bg, stage="POST_TEST_TRAFFIC_SHIFT")
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(arn)["status"] == "ROLLBACK_SUCCESSFUL",
            what="rollback",
            step=5,
        )
        described = bg.deployment(arn)
        assert "returned FAILED at POST_TEST_TRAFFIC_SHIFT" in described["statusReason"]
        assert described["rollback"]["serviceRevisionArn"] == described["sourceServiceRevisions"][0]["arn"]
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 0}
        assert _weights(bg, bg.test_rule) == {"blue": 1, "green": 0}
        assert set(bg.revisions(bg.production_url, 4)) == {"1"}
        service = bg.stack.service()
        assert service["taskDefinition"].endswith(":1")
        assert {t["taskDefinitionArn"][-1] for t in bg.stack.tasks()} == {"1"}

    def test_unknown_function_fails_and_rolls_back(self, bg: BlueGreen) -> None:
        """A hook ARN with no handler is a function that does not exist: the deployment rolls back."""
        self._create_with_hook(bg)
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(arn)["status"] == "ROLLBACK_SUCCESSFUL",
            what="rollback",
            step=5,
        )
        assert "Function not found" in bg.deployment(arn)["statusReason"]
        assert bg.deployment(arn)["lifecycleHookDetails"][0]["status"] == "FAILED"

    def test_handler_that_raises_fails_the_hook(self, bg: BlueGreen, hooks: dict[str, Any]) -> None:
        def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
            raise RuntimeError("boom")

        register_lifecycle_hook(HOOK, crash)
        hooks[HOOK] = crash
        self._create_with_hook(bg)
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox, lambda: "ROLLBACK" in bg.deployment(arn)["status"], what="rollback", step=5
        )
        assert "RuntimeError: boom" in bg.deployment(arn)["statusReason"]

    def test_pause_and_continue(self, bg: BlueGreen) -> None:
        bg.create(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}],
            }
        )
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox,
            lambda: (
                (bg.deployment(arn).get("lifecycleHookDetails") or [{}])[0].get("status") == "AWAITING_ACTION"
            ),
            what="paused",
            step=5,
        )
        bg.stack.sandbox.advance(600)
        described = bg.deployment(arn)
        assert described["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 0}
        hook_id = described["lifecycleHookDetails"][0]["hookId"]
        with pytest.raises(ClientError, match="InvalidParameterException"):
            bg.stack.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId="nope")
        bg.stack.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id, action="CONTINUE")
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn)["status"] == "SUCCESSFUL", what="continued", step=5
        )


class TestRollbacks:
    def test_alarm_during_bake_rolls_back(self, bg: BlueGreen) -> None:
        cloudwatch = bg.stack.sandbox.client("cloudwatch")
        cloudwatch.put_metric_alarm(
            AlarmName="green-5xx", MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB",
            Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
        )  # fmt: skip
        bg.create(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 10,
                "alarms": {"alarmNames": ["green-5xx"], "enable": True, "rollback": True},
            }
        )
        arn = bg.deploy_v2()
        advance_until(bg.stack.sandbox, lambda: _stage(bg, arn) == "BAKE_TIME", what="bake", step=5)
        assert set(bg.revisions(bg.production_url, 2)) == {"2"}
        cloudwatch.set_alarm_state(AlarmName="green-5xx", StateValue="ALARM", StateReason="test")
        advance_until(
            bg.stack.sandbox, lambda: "ROLLBACK" in bg.deployment(arn)["status"], what="rollback", step=5
        )
        described = bg.deployment(arn)
        assert described["alarms"]["triggeredAlarmNames"] == ["green-5xx"]
        assert described["alarms"]["status"] == "TRIGGERED"
        assert set(bg.revisions(bg.production_url, 4)) == {"1"}

    def test_circuit_breaker_rolls_a_blue_green_deployment_back(self, bg: BlueGreen) -> None:
        """Green's tasks never start (an image the sandbox cannot pull): the circuit breaker rolls back."""
        bg.create(
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            }
        )
        container = {**TASK_DEFINITION["containerDefinitions"][0], "image": "example.invalid/none:1"}
        bg.stack.ecs.register_task_definition(**{**TASK_DEFINITION, "containerDefinitions": [container]})
        bg.stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:2")
        arn = bg.stack.ecs.list_service_deployments(cluster="course", service="web")["serviceDeployments"][0][
            "serviceDeploymentArn"
        ]
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(arn)["status"] == "ROLLBACK_SUCCESSFUL",
            what="circuit breaker rollback",
            step=5,
        )
        described = bg.deployment(arn)
        assert described["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
        assert described["deploymentCircuitBreaker"]["failureCount"] >= 3
        assert described["lifecycleStage"] == "SCALE_UP"
        assert set(bg.revisions(bg.production_url, 4)) == {"1"}

    def test_stop_with_rollback(self, bg: BlueGreen) -> None:
        bg.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30})
        arn = bg.deploy_v2()
        advance_until(bg.stack.sandbox, lambda: _stage(bg, arn) == "BAKE_TIME", what="bake", step=5)
        bg.stack.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(arn)["status"] == "ROLLBACK_SUCCESSFUL",
            what="rolled back",
            step=5,
        )
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 0}
        with pytest.raises(ClientError, match="ConflictException"):
            bg.stack.ecs.stop_service_deployment(serviceDeploymentArn=arn)

    def test_a_newer_deployment_stops_one_in_progress(self, bg: BlueGreen) -> None:
        """v3 during v2's bake: v2 is STOPPED, its tasks stop, v3 goes green beside v1 (still blue)."""
        bg.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30})
        second = bg.deploy_v2()
        advance_until(bg.stack.sandbox, lambda: _stage(bg, second) == "BAKE_TIME", what="v2 bakes", step=5)
        bg.stack.ecs.register_task_definition(**TASK_DEFINITION)
        bg.stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:3")
        assert bg.deployment(second)["status"] == "STOPPED"
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 0}
        third = bg.stack.ecs.list_service_deployments(cluster="course", service="web")["serviceDeployments"][
            0
        ]
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(third["serviceDeploymentArn"])["lifecycleStage"] == "BAKE_TIME",
            what="v3 bakes",
            step=5,
        )
        assert {t["taskDefinitionArn"][-1] for t in bg.stack.tasks()} == {"1", "3"}
        assert set(bg.revisions(bg.production_url, 4)) == {"3"}

    def test_next_deployment_uses_the_other_group(self, bg: BlueGreen) -> None:
        """After a successful blue/green deployment, green's group is production: the next green uses the first."""
        bg.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
        arn = bg.deploy_v2()
        advance_until(
            bg.stack.sandbox, lambda: bg.deployment(arn)["status"] == "SUCCESSFUL", what="v2", step=5
        )
        bg.stack.ecs.register_task_definition(**TASK_DEFINITION)
        bg.stack.ecs.update_service(cluster="course", service="web", taskDefinition="nginx-demo-hello:3")
        third = bg.stack.ecs.list_service_deployments(cluster="course", service="web")["serviceDeployments"][
            0
        ]
        advance_until(
            bg.stack.sandbox,
            lambda: bg.deployment(third["serviceDeploymentArn"])["status"] == "SUCCESSFUL",
            what="v3",
            step=5,
        )
        assert _weights(bg, bg.production_rule) == {"blue": 1, "green": 0}  # the first group serves v3
        revision = bg.stack.ecs.describe_service_revisions(
            serviceRevisionArns=[third["targetServiceRevisionArn"]]
        )
        assert revision["serviceRevisions"][0]["taskDefinition"].endswith(":3")


class TestApi:
    def test_rolling_deployments_are_listed(self, stack: Stack) -> None:
        stack.create_service()
        advance_until(
            stack.sandbox, lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED", what="v1"
        )
        listed = stack.ecs.list_service_deployments(cluster="course", service="web")["serviceDeployments"]
        assert [d["status"] for d in listed] == ["SUCCESSFUL"]
        assert stack.service()["currentServiceDeployment"] == listed[0]["serviceDeploymentArn"]
        revisions = stack.service()["currentServiceRevisions"]
        assert [(r["arn"], r["runningTaskCount"]) for r in revisions] == [
            (listed[0]["targetServiceRevisionArn"], 1)
        ]
        described = stack.ecs.describe_service_deployments(
            serviceDeploymentArns=[
                listed[0]["serviceDeploymentArn"],
                "arn:aws:ecs:us-east-1:1:service-deployment/x/y/z",
            ]
        )
        assert described["failures"][0]["reason"] == "MISSING"
        assert described["serviceDeployments"][0]["targetServiceRevision"]["runningTaskCount"] == 1
        assert not stack.ecs.list_service_deployments(
            cluster="course", service="web", status=["IN_PROGRESS"]
        )["serviceDeployments"]

    def test_unknown_service_and_deployment(self, stack: Stack) -> None:
        with pytest.raises(ClientError, match="ServiceNotFoundException"):
            stack.ecs.list_service_deployments(cluster="course", service="nope")
        with pytest.raises(ClientError, match="ServiceDeploymentNotFoundException"):
            stack.ecs.stop_service_deployment(
                serviceDeploymentArn="arn:aws:ecs:us-east-1:123456789012:service-deployment/course/web/x"
            )

    @pytest.mark.parametrize(
        ("configuration", "advanced", "message"),
        [
            ({"strategy": "BLUE_GREEN"}, True, "bakeTimeInMinutes must be specified"),
            ({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 1.0}}, True, "stepPercent"),
            ({"strategy": "CANARY", "linearConfiguration": {}}, True, "only valid"),
            ({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1}, False, "advancedConfiguration must be specified"),
            ({"strategy": "ROLLING"}, True, "only valid for the BLUE_GREEN"),
            (
                {"deploymentCircuitBreaker": {"enable": True, "rollback": True,
                                              "thresholdConfiguration": {"type": "SOME", "value": 3}}},
                False,
                "Invalid threshold type",
            ),
        ],
    )  # fmt: skip
    def test_bad_parameters(
        self, bg: BlueGreen, configuration: dict[str, Any], advanced: bool, message: str
    ) -> None:
        entry: dict[str, Any] = {
            "targetGroupArn": bg.stack.target_group_arn,
            "containerName": "hello",
            "containerPort": 80,
        }
        if advanced:
            entry["advancedConfiguration"] = bg.advanced()
        with pytest.raises(ClientError, match=message) as caught:
            bg.stack.create_service(loadBalancers=[entry], deploymentConfiguration=configuration)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterException"

    def test_look_alike_production_rule_is_refused(self, bg: BlueGreen) -> None:
        """A production rule that forwards elsewhere would shift nothing: refused."""
        elb = bg.stack.elb
        other = elb.create_target_group(
            Name="other", Protocol="HTTP", Port=80, VpcId=bg.stack.vpc_id, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        listener = elb.describe_listeners(LoadBalancerArn=bg.stack.load_balancer_arn)["Listeners"][0][
            "ListenerArn"
        ]
        rule = elb.create_rule(
            ListenerArn=listener, Priority=5, Actions=[{"Type": "forward", "TargetGroupArn": other}],
            Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/x"]}}],
        )["Rules"][0]["RuleArn"]  # fmt: skip
        advanced = {**bg.advanced(), "productionListenerRule": rule}
        with pytest.raises(ClientError, match="must forward to the service's target group"):
            bg.stack.create_service(
                loadBalancers=[{"targetGroupArn": bg.stack.target_group_arn, "containerName": "hello",
                                "containerPort": 80, "advancedConfiguration": advanced}],
                deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0},
            )  # fmt: skip

    def test_circuit_breaker_threshold_configuration(self, stack: Stack) -> None:
        """A COUNT threshold of 1 trips the circuit breaker at the first failed task (rolling)."""
        stack.ecs.register_task_definition(
            **{**TASK_DEFINITION, "containerDefinitions": [
                {**TASK_DEFINITION["containerDefinitions"][0], "image": "example.invalid/none:1"}
            ]}
        )  # fmt: skip
        stack.create_service(
            desired=4,
            taskDefinition="nginx-demo-hello:2",
            deploymentConfiguration={
                "deploymentCircuitBreaker": {
                    "enable": True, "rollback": False, "thresholdConfiguration": {"type": "COUNT", "value": 1}
                }
            },
        )  # fmt: skip
        advance_until(
            stack.sandbox,
            lambda: stack.service()["deployments"][0]["rolloutState"] == "FAILED",
            what="circuit breaker",
            step=5,
        )
        assert (
            stack.service()["deployments"][0]["failedTasks"] == 1
            or stack.service()["deployments"][0]["failedTasks"] >= 1
        )
        listed = stack.ecs.list_service_deployments(cluster="course", service="web")["serviceDeployments"]
        assert listed[0]["status"] == "STOPPED"
        breaker = stack.service()["deploymentConfiguration"]["deploymentCircuitBreaker"]
        assert breaker["thresholdConfiguration"] == {"type": "COUNT", "value": 1}


def test_a_hook_is_a_lambda_function_arn() -> None:
    with pytest.raises(ValueError, match="Lambda function ARN"):
        register_lifecycle_hook("check-green", lambda event, context: {"hookStatus": "SUCCEEDED"})
    with pytest.raises(KeyError):
        unregister_lifecycle_hook("arn:aws:lambda:us-east-1:123456789012:function:never-registered")
