"""A Fargate service behind a load balancer behaves as on AWS: tasks start, targets turn healthy, HTTP answers."""

from __future__ import annotations

import ipaddress
import re
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack

SERVER_ADDRESS = re.compile(r"Server&nbsp;address:</span> <span>([\d.]+:\d+)")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class TestTaskLifecycle:
    def test_a_service_task_goes_provisioning_pending_running_on_the_clock(self, stack: Stack) -> None:
        """Right after create_service the task is PROVISIONING; it is PENDING, then RUNNING as the clock moves."""
        stack.create_service(desired=1)
        seen = [stack.tasks()[0]["lastStatus"]]
        for _ in range(10):
            stack.sandbox.advance(3)
            status = stack.tasks()[0]["lastStatus"]
            if status != seen[-1]:
                seen.append(status)
        assert seen[:2] == ["PROVISIONING", "PENDING"]
        assert seen[-1] == "RUNNING"
        assert "ACTIVATING" in seen or seen[2] == "RUNNING"

    def test_a_running_task_has_the_fields_aws_returns(self, stack: Stack) -> None:
        """Timestamps, cpu and memory, an AZ, and an ENI address inside its subnet's CIDR."""
        stack.create_service(desired=1)
        stack.sandbox.advance(60)
        task = stack.tasks()[0]
        assert task["lastStatus"] == "RUNNING"
        assert task["launchType"] == "FARGATE"
        assert (task["cpu"], task["memory"]) == ("256", "512")
        assert task["group"] == "service:web"
        assert task["createdAt"] <= task["pullStartedAt"] <= task["pullStoppedAt"] <= task["startedAt"]
        details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
        subnet = stack.ec2.describe_subnets(SubnetIds=[details["subnetId"]])["Subnets"][0]
        assert ipaddress.ip_address(details["privateIPv4Address"]) in ipaddress.ip_network(
            subnet["CidrBlock"]
        )
        assert task["availabilityZone"] == subnet["AvailabilityZone"]
        assert task["containers"][0]["lastStatus"] == "RUNNING"
        assert (
            task["containers"][0]["networkInterfaces"][0]["privateIpv4Address"]
            == details["privateIPv4Address"]
        )
        eni = stack.ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])
        assert eni["NetworkInterfaces"][0]["PrivateIpAddress"] == details["privateIPv4Address"]

    def test_tasks_spread_over_the_given_subnets(self, stack: Stack) -> None:
        """Four tasks of one service land two in each of the two subnets (two AZs)."""
        stack.create_service(desired=4)
        zones = sorted(t["availabilityZone"] for t in stack.tasks())
        assert len(set(zones)) == 2
        assert zones.count(zones[0]) == 2

    def test_the_services_stable_waiter_returns_once_the_service_is_steady(self, stack: Stack) -> None:
        """describe_services shows runningCount == desiredCount, one COMPLETED deployment, a steady-state event."""
        stack.create_service(desired=2)
        advance_until(
            stack.sandbox,
            lambda: stack.service()["deployments"][0]["rolloutState"] == "COMPLETED",
            what="rollout",
        )
        stack.ecs.get_waiter("services_stable").wait(
            cluster="course", services=["web"], WaiterConfig={"Delay": 0, "MaxAttempts": 2}
        )
        service = stack.service()
        assert (service["runningCount"], service["pendingCount"]) == (2, 0)
        assert [d["status"] for d in service["deployments"]] == ["PRIMARY"]
        assert service["events"][0]["message"] == "(service web) has reached a steady state."

    def test_stopping_a_task_makes_the_service_replace_it(self, stack: Stack) -> None:
        """stop_task by hand: the task stops (UserInitiated) and the scheduler starts a new one."""
        stack.create_service(desired=1, load_balanced=False)
        stack.sandbox.advance(60)
        first = stack.tasks()[0]["taskArn"]
        stopped = stack.ecs.stop_task(cluster="course", task=first, reason="testing")["task"]
        assert stopped["desiredStatus"] == "STOPPED"
        advance_until(
            stack.sandbox,
            lambda: any(t["lastStatus"] == "RUNNING" and t["taskArn"] != first for t in stack.tasks()),
            what="replacement",
        )
        old = stack.ecs.describe_tasks(cluster="course", tasks=[first])["tasks"][0]
        assert old["lastStatus"] == "STOPPED"
        assert old["stopCode"] == "UserInitiated"
        assert old["stoppedReason"] == "testing"
        assert first not in [t["taskArn"] for t in stack.tasks()]
        assert first in [t["taskArn"] for t in stack.tasks(desired_status="STOPPED")]

    def test_an_essential_container_that_exits_stops_its_task(self, stack: Stack) -> None:
        """A container whose command ends in `exit 1` stops its task with EssentialContainerExited."""
        stack.ecs.register_task_definition(
            family="crasher", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": "busybox", "command": ["sh", "-c", "exit 1"]}],
        )  # fmt: skip
        task = stack.ecs.run_task(
            cluster="course", taskDefinition="crasher", launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets}},
        )["tasks"][0]  # fmt: skip
        advance_until(
            stack.sandbox,
            lambda: (
                stack.ecs.describe_tasks(cluster="course", tasks=[task["taskArn"]])["tasks"][0]["lastStatus"]
                == "STOPPED"
            ),
            what="the task stopping",
        )
        stopped = stack.ecs.describe_tasks(cluster="course", tasks=[task["taskArn"]])["tasks"][0]
        assert stopped["stopCode"] == "EssentialContainerExited"
        assert stopped["containers"][0]["exitCode"] == 1


class TestLoadBalancing:
    def test_targets_go_initial_then_healthy_and_the_listener_serves_the_hello_page(
        self, stack: Stack
    ) -> None:
        """The task's IP is registered, initial until 3 checks pass at 10 s, then HTTP returns the hello page."""
        stack.create_service(desired=1)
        advance_until(
            stack.sandbox, lambda: stack.target_states() == ["initial"], step=3, what="registration"
        )
        advance_until(
            stack.sandbox, lambda: stack.target_states() == ["healthy"], step=5, what="healthy target"
        )
        task = stack.tasks()[0]
        address = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}["privateIPv4Address"]
        described = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)[
            "TargetHealthDescriptions"
        ][0]
        assert described["Target"] == {"Id": address, "Port": 80} or described["Target"]["Id"] == address
        status, body = _get(stack.url + "/")
        assert status == 200
        assert "<title>Hello World</title>" in body
        assert SERVER_ADDRESS.search(body).group(1) == f"{address}:80"  # type: ignore[union-attr]

    def test_scaled_to_three_three_different_tasks_answer_round_robin(self, stack: Stack) -> None:
        """After update_service(desiredCount=3), six requests see three server addresses, each twice, in turn."""
        stack.create_service(desired=1)
        advance_until(stack.sandbox, lambda: stack.target_states() == ["healthy"], what="first task healthy")
        stack.ecs.update_service(cluster="course", service="web", desiredCount=3)
        advance_until(
            stack.sandbox, lambda: stack.target_states() == ["healthy"] * 3, what="three healthy targets"
        )
        addresses = [SERVER_ADDRESS.search(_get(stack.url)[1]).group(1) for _ in range(6)]  # type: ignore[union-attr]
        assert len(set(addresses)) == 3
        assert addresses[:3] == addresses[3:]

    def test_no_healthy_target_is_a_503_from_the_load_balancer(self, stack: Stack) -> None:
        """Before any task is healthy the listener answers 503 like an ALB."""
        stack.create_service(desired=1)
        status, body = _get(stack.url)
        assert status == 503
        assert "503 Service Temporarily Unavailable" in body

    def test_a_health_check_path_the_image_does_not_serve_makes_targets_unhealthy(self, stack: Stack) -> None:
        """With the official nginx image and path /health, targets turn unhealthy with ResponseCodeMismatch."""
        stack.ecs.register_task_definition(
            family="plain-nginx", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": "hello", "image": "nginx", "portMappings": [{"containerPort": 80}]}],
        )  # fmt: skip
        stack.elb.modify_target_group(TargetGroupArn=stack.target_group_arn, HealthCheckPath="/health")
        stack.create_service(desired=1, taskDefinition="plain-nginx")
        advance_until(stack.sandbox, lambda: "unhealthy" in stack.target_states(), what="an unhealthy target")
        health = stack.elb.describe_target_health(TargetGroupArn=stack.target_group_arn)[
            "TargetHealthDescriptions"
        ]
        unhealthy = next(h["TargetHealth"] for h in health if h["TargetHealth"]["State"] == "unhealthy")
        assert unhealthy["Reason"] == "Target.ResponseCodeMismatch"
        assert "[404]" in unhealthy["Description"]

    def test_a_task_that_fails_health_checks_is_replaced(self, stack: Stack) -> None:
        """ECS stops a task whose target is unhealthy and says so in the service's events."""
        stack.ecs.register_task_definition(
            family="plain-nginx", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="512",
            containerDefinitions=[{"name": "hello", "image": "nginx", "portMappings": [{"containerPort": 80}]}],
        )  # fmt: skip
        stack.elb.modify_target_group(TargetGroupArn=stack.target_group_arn, HealthCheckPath="/health")
        stack.create_service(desired=1, taskDefinition="plain-nginx")
        advance_until(
            stack.sandbox,
            lambda: any("failed ELB health checks" in e["message"] for e in stack.service()["events"]),
            what="a health-check failure event",
        )
        stopped = stack.tasks(desired_status="STOPPED")
        assert stopped
        assert stopped[0]["stoppedReason"].startswith("Task failed ELB health checks")

    def test_deregistered_targets_drain_for_the_deregistration_delay(self, stack: Stack) -> None:
        """Scaling in drains the stopped task's target (30 s here) before it disappears."""
        stack.create_service(desired=2)
        advance_until(
            stack.sandbox, lambda: stack.target_states() == ["healthy", "healthy"], what="two healthy targets"
        )
        stack.ecs.update_service(cluster="course", service="web", desiredCount=1)
        stack.sandbox.advance(1)
        assert stack.target_states() == ["draining", "healthy"]
        stack.sandbox.advance(35)
        assert stack.target_states() == ["healthy"]

    def test_sandbox_listener_url_names_a_missing_listener(self, stack: Stack) -> None:
        """Asking for a port the load balancer does not listen on is a clear LabkitError."""
        import labkit

        with pytest.raises(labkit.LabkitError, match="no listener on port 443"):
            stack.sandbox.listener_url(stack.load_balancer_arn, 443)


class TestValidation:
    def test_eleven_containers_are_refused(self, stack: Stack) -> None:
        """register_task_definition with 11 containers is a ClientException, as on AWS."""
        containers = [{"name": f"c{i}", "image": "nginx", "memory": 64} for i in range(11)]
        with pytest.raises(ClientError) as caught:
            stack.ecs.register_task_definition(family="too-many", containerDefinitions=containers)
        assert caught.value.response["Error"]["Code"] == "ClientException"
        assert "Too many containers" in caught.value.response["Error"]["Message"]

    def test_a_fargate_size_aws_does_not_offer_is_refused(self, stack: Stack) -> None:
        """256 CPU units with 4096 MiB is not a Fargate size."""
        with pytest.raises(ClientError) as caught:
            stack.ecs.register_task_definition(
                family="odd", requiresCompatibilities=["FARGATE"], networkMode="awsvpc", cpu="256", memory="4096",
                containerDefinitions=[{"name": "a", "image": "nginx"}],
            )  # fmt: skip
        assert "No Fargate configuration exists" in caught.value.response["Error"]["Message"]

    def test_a_service_whose_load_balancer_names_a_missing_container_is_refused(self, stack: Stack) -> None:
        """The loadBalancers entry must name a container of the task definition."""
        with pytest.raises(ClientError) as caught:
            stack.create_service(
                loadBalancers=[
                    {"targetGroupArn": stack.target_group_arn, "containerName": "web", "containerPort": 80}
                ]
            )
        assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
        assert "web" in caught.value.response["Error"]["Message"]
        assert stack.ecs.list_services(cluster="course")["serviceArns"] == []


class TestNetworkInterfaces:
    def test_a_public_ip_when_enabled_and_the_eni_released_on_stop(self, stack: Stack) -> None:
        """assignPublicIp ENABLED gives the ENI a public IP; once STOPPED the ENI is gone."""
        task = stack.ecs.run_task(
            cluster="course", taskDefinition="nginx-demo-hello", launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": stack.subnets, "assignPublicIp": "ENABLED"}},
        )["tasks"][0]  # fmt: skip
        stack.sandbox.advance(60)
        details = {d["name"]: d["value"] for d in task["attachments"][0]["details"]}
        eni = stack.ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])
        assert eni["NetworkInterfaces"][0]["Association"]["PublicIp"]
        stack.ecs.stop_task(cluster="course", task=task["taskArn"])
        stack.sandbox.advance(60)
        with pytest.raises(ClientError) as caught:
            stack.ec2.describe_network_interfaces(NetworkInterfaceIds=[details["networkInterfaceId"]])
        assert caught.value.response["Error"]["Code"] == "InvalidNetworkInterfaceID.NotFound"


def test_on_a_realtime_clock_tasks_start_by_themselves() -> None:
    """With an accelerated real-time clock a Fargate task is RUNNING after a few real seconds, untouched."""
    import time

    import labkit
    from labkit.demo import TASK_DEFINITION

    with labkit.open_sandbox(clock="realtime", speed=60) as sb:
        ec2, ecs = sb.client("ec2"), sb.client("ecs")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        ecs.create_cluster(clusterName="live")
        ecs.register_task_definition(**TASK_DEFINITION)
        arn = ecs.run_task(
            cluster="live", taskDefinition="nginx-demo-hello", launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        )["tasks"][0]["taskArn"]  # fmt: skip
        deadline = time.monotonic() + 30
        status = "PROVISIONING"
        while status != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = ecs.describe_tasks(cluster="live", tasks=[arn])["tasks"][0]["lastStatus"]
        assert status == "RUNNING"
