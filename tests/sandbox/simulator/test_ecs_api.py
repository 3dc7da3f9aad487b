"""ECS API answers as AWS gives them: capacity providers, launch-type refusals, deployment controllers,
cluster counters, DRAINING deletes, the answers of create/update-service, StartTask and list order.

Each test names the AWS documentation it follows.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.testing import advance_until
from tests.sandbox.simulator.conftest import Stack


def _error(call: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def _net(stack: Stack) -> dict[str, Any]:
    return {"awsvpcConfiguration": {"subnets": stack.subnets}}


def _wait_for_status(stack: Stack, task_arn: str, status: str) -> None:
    """Advance the clock until the task's lastStatus is `status`."""

    def reached() -> bool:
        described = stack.ecs.describe_tasks(cluster=stack.cluster, tasks=[task_arn])["tasks"][0]
        return bool(described["lastStatus"] == status)

    advance_until(stack.sandbox, reached, what=f"task {status}")


def _counters(stack: Stack) -> tuple[int, int, int]:
    cluster = stack.ecs.describe_clusters(clusters=[stack.cluster])["clusters"][0]
    return cluster["runningTasksCount"], cluster["pendingTasksCount"], cluster["activeServicesCount"]


class TestCapacityProviders:
    def test_a_fargate_spot_strategy_runs_tasks_on_fargate_spot(self, stack: Stack) -> None:
        """RunTask with FARGATE_SPOT: the task runs, shows capacityProviderName (DescribeTasks reference)."""
        stack.ecs.put_cluster_capacity_providers(
            cluster="course",
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[],
        )
        task = stack.ecs.run_task(
            cluster="course", taskDefinition="nginx-demo-hello", networkConfiguration=_net(stack),
            capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
        )["tasks"][0]  # fmt: skip
        assert (task["capacityProviderName"], task["launchType"]) == ("FARGATE_SPOT", "FARGATE")
        _wait_for_status(stack, task["taskArn"], "RUNNING")

    def test_the_clusters_default_strategy_is_used_without_a_launch_type(self, stack: Stack) -> None:
        """No launchType, no strategy: the cluster's default strategy (RunTask reference), not "No Container Instances"."""
        stack.ecs.put_cluster_capacity_providers(
            cluster="course", capacityProviders=["FARGATE"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
        )  # fmt: skip
        answer = stack.ecs.run_task(
            cluster="course", taskDefinition="nginx-demo-hello", networkConfiguration=_net(stack)
        )
        assert answer["failures"] == []
        assert answer["tasks"][0]["capacityProviderName"] == "FARGATE"

    def test_a_service_shares_its_tasks_by_base_and_weight(self, stack: Stack) -> None:
        """Base 1 on FARGATE, then 1:3 with FARGATE_SPOT: 5 tasks are 2 FARGATE, 3 FARGATE_SPOT ("Capacity provider strategies")."""
        stack.ecs.put_cluster_capacity_providers(
            cluster="course",
            capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[],
        )
        strategy = [
            {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 3},
        ]
        service = stack.ecs.create_service(
            cluster="course", serviceName="web", taskDefinition="nginx-demo-hello", desiredCount=5,
            capacityProviderStrategy=strategy, networkConfiguration=_net(stack),
        )["service"]  # fmt: skip
        assert "launchType" not in service
        assert service["capacityProviderStrategy"] == strategy
        providers = sorted(t["capacityProviderName"] for t in stack.tasks())
        assert providers == ["FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT"]

    def test_a_launch_type_with_a_strategy_is_refused(self, stack: Stack) -> None:
        """RunTask and CreateService: "the launchType parameter must be omitted" with a strategy (API reference)."""
        stack.ecs.put_cluster_capacity_providers(
            cluster="course", capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
        )
        strategy = [{"capacityProvider": "FARGATE", "weight": 1}]
        for call in (
            lambda: stack.ecs.run_task(
                cluster="course",
                taskDefinition="nginx-demo-hello",
                launchType="FARGATE",
                capacityProviderStrategy=strategy,
                networkConfiguration=_net(stack),
            ),
            lambda: stack.create_service(load_balanced=False, capacityProviderStrategy=strategy),
        ):
            status, code, message = _error(call)
            assert (status, code) == (400, "InvalidParameterException")
            assert message.startswith(
                "Specifying both a launch type and capacity provider strategy is not supported."
            )
        assert stack.tasks(None) == []

    def test_a_provider_the_cluster_does_not_have_is_refused(self, stack: Stack) -> None:
        """Only providers associated with the cluster can be used (CapacityProviderStrategyItem reference)."""
        status, code, _ = _error(
            lambda: stack.ecs.run_task(
                cluster="course", taskDefinition="nginx-demo-hello", networkConfiguration=_net(stack),
                capacityProviderStrategy=[{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            )
        )  # fmt: skip
        assert (status, code) == (400, "InvalidParameterException")
        stack.ecs.put_cluster_capacity_providers(
            cluster="course", capacityProviders=["FARGATE"], defaultCapacityProviderStrategy=[]
        )
        status, code, _ = _error(
            lambda: stack.ecs.run_task(
                cluster="course", taskDefinition="nginx-demo-hello", networkConfiguration=_net(stack),
                capacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1001}],
            )
        )  # fmt: skip
        assert (status, code) == (
            400,
            "InvalidParameterException",
        )  # weight is 0..1000; botocore checks only the minimum


class TestRunTaskRefusals:
    def test_fargate_without_a_network_configuration_is_aws_error_not_a_crash(self, stack: Stack) -> None:
        """An awsvpc task definition needs networkConfiguration (RunTask reference): 400, not 500 ZeroDivisionError."""
        status, code, message = _error(
            lambda: stack.ecs.run_task(
                cluster="course", taskDefinition="nginx-demo-hello", launchType="FARGATE"
            )
        )
        assert (status, code) == (400, "InvalidParameterException")
        assert message == "Network Configuration must be provided when networkMode 'awsvpc' is specified."

    def test_an_empty_subnet_list_is_refused(self, stack: Stack) -> None:
        """The hostile first try: subnets=[] passes botocore; the service refuses it (AwsVpcConfiguration.subnets is required)."""
        status, code, _ = _error(
            lambda: stack.ecs.run_task(
                cluster="course", taskDefinition="nginx-demo-hello", launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": []}},
            )
        )  # fmt: skip
        assert (status, code) == (400, "InvalidParameterException")

    def test_a_bogus_launch_type_is_refused(self, stack: Stack) -> None:
        """botocore sends an unknown enum value as is (no client-side enum check): the service answers 400."""
        client = stack.ecs  # botocore's ParamValidator does not check enum values: BOGUS is sent
        status, code, message = _error(
            lambda: client.run_task(
                cluster="course",
                taskDefinition="nginx-demo-hello",
                launchType="BOGUS",
                networkConfiguration=_net(stack),
            )
        )
        assert (status, code) == (400, "InvalidParameterException")
        assert "launchType" in message
        assert stack.tasks(None) == []

    def test_a_fargate_service_from_a_definition_without_task_cpu_is_400(self, stack: Stack) -> None:
        """moto's test_list_services case: an EC2-style definition on FARGATE is refused, never a 500/501."""
        stack.ecs.register_task_definition(
            family="ec2-style",
            containerDefinitions=[{"name": "a", "image": "nginx", "cpu": 1024, "memory": 400}],
        )
        status, code, message = _error(
            lambda: stack.ecs.create_service(
                cluster="course",
                serviceName="x",
                taskDefinition="ec2-style",
                desiredCount=1,
                launchType="FARGATE",
            )
        )
        assert (status, code) == (400, "InvalidParameterException")
        assert message == "Task definition does not support launch_type FARGATE."


class TestDeploymentControllers:
    def test_an_external_service_has_no_task_definition_and_no_tasks(self, stack: Stack) -> None:
        """CreateService with the EXTERNAL controller needs no task definition; its tasks come from task sets."""
        service = stack.ecs.create_service(
            cluster="course", serviceName="ext", desiredCount=2, deploymentController={"type": "EXTERNAL"}
        )["service"]
        assert service["deploymentController"] == {"type": "EXTERNAL"}
        assert (service["runningCount"], service["pendingCount"]) == (0, 0)
        task_set = stack.ecs.create_task_set(
            cluster="course",
            service="ext",
            taskDefinition="nginx-demo-hello",
            networkConfiguration=_net(stack),
        )["taskSet"]
        assert task_set["taskDefinition"].endswith("nginx-demo-hello:1")
        stack.sandbox.advance(120)
        assert stack.tasks("ext") == []
        assert stack.service("ext")["runningCount"] == 0

    def test_an_external_service_refuses_a_task_definition_and_deletes_cleanly(self, stack: Stack) -> None:
        """UpdateService cannot give an EXTERNAL service a task definition (task sets do); deleting it drains to INACTIVE."""
        stack.ecs.create_service(
            cluster="course", serviceName="ext", desiredCount=0, deploymentController={"type": "EXTERNAL"}
        )
        status, code, _ = _error(
            lambda: stack.ecs.update_service(
                cluster="course", service="ext", taskDefinition="nginx-demo-hello:1"
            )
        )
        assert (status, code) == (400, "InvalidParameterException")
        assert stack.ecs.delete_service(cluster="course", service="ext")["service"]["status"] == "DRAINING"
        advance_until(stack.sandbox, lambda: stack.service("ext")["status"] == "INACTIVE", what="inactive")

    def test_a_task_definition_is_required_for_the_ecs_controller(self, stack: Stack) -> None:
        """Without EXTERNAL, CreateService without a task definition is a 400, not a 501 KeyError."""
        status, code, _ = _error(
            lambda: stack.ecs.create_service(cluster="course", serviceName="nodef", desiredCount=1)
        )
        assert (status, code) == (400, "InvalidParameterException")

    def test_code_deploy_services_refuse_a_new_task_definition(self, stack: Stack) -> None:
        """UpdateService reference: a CODE_DEPLOY service's deployments go through CodeDeploy (message: aws-cdk#25777)."""
        stack.create_service(load_balanced=False, deploymentController={"type": "CODE_DEPLOY"})
        stack.ecs.register_task_definition(**{**_hello(stack), "family": "nginx-demo-hello"})
        status, code, message = _error(
            lambda: stack.ecs.update_service(
                cluster="course", service="web", taskDefinition="nginx-demo-hello:2"
            )
        )
        assert (status, code) == (400, "InvalidParameterException")
        assert message.startswith(
            "Unable to update task definition on services with a CODE_DEPLOY deployment controller."
        )
        status, code, _ = _error(
            lambda: stack.ecs.update_service(cluster="course", service="web", forceNewDeployment=True)
        )
        assert code == "InvalidParameterException"
        assert (
            stack.ecs.update_service(cluster="course", service="web", desiredCount=2)["service"][
                "desiredCount"
            ]
            == 2
        )

    def test_a_codedeploy_deployment_of_an_ecs_service_is_refused_clearly(self, stack: Stack) -> None:
        """Not emulated: CreateDeployment answers the sandbox's limit (501) saying what to do, never "Created" for ever."""
        stack.create_service(load_balanced=False, deploymentController={"type": "CODE_DEPLOY"})
        deploy = stack.sandbox.client("codedeploy")
        deploy.create_application(applicationName="app", computePlatform="ECS")
        deploy.create_deployment_group(
            applicationName="app", deploymentGroupName="dg",
            serviceRoleArn=f"arn:aws:iam::{stack.sandbox.account_id}:role/codedeploy",
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            ecsServices=[{"serviceName": "web", "clusterName": "course"}],
        )  # fmt: skip
        appspec = "version: 0.0\nResources: []\n"
        status, code, message = _error(
            lambda: deploy.create_deployment(
                applicationName="app", deploymentGroupName="dg",
                revision={"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}},
            )
        )  # fmt: skip
        assert (status, code) == (501, "NotImplemented")
        assert "blue/green deployments of ECS services are not emulated" in message
        assert deploy.list_deployments()["deployments"] == []


def _hello(stack: Stack) -> dict[str, Any]:
    definition = stack.ecs.describe_task_definition(taskDefinition="nginx-demo-hello:1")["taskDefinition"]
    keys = ("family", "containerDefinitions", "networkMode", "requiresCompatibilities", "cpu", "memory")
    return {k: definition[k] for k in keys if k in definition}


class TestCountersAndAnswers:
    def test_cluster_counters_follow_the_tasks_at_every_moment(self, stack: Stack) -> None:
        """DescribeClusters: running, pending (not yet RUNNING) and ACTIVE services, never negative (Cluster reference)."""
        stack.create_service(desired=2, load_balanced=False)
        assert _counters(stack) == (0, 2, 1)
        advance_until(stack.sandbox, lambda: _counters(stack) == (2, 0, 1), what="two running")
        stack.ecs.update_service(cluster="course", service="web", desiredCount=0)
        advance_until(stack.sandbox, lambda: _counters(stack) == (0, 0, 1), what="scaled to zero")
        stack.ecs.delete_service(cluster="course", service="web")
        assert _counters(stack) == (0, 0, 0)
        # A DRAINING service and stopping tasks still hold the cluster (DeleteCluster refuses); both end
        # on the clock.
        advance_until(
            stack.sandbox,
            lambda: (
                stack.service()["status"] == "INACTIVE"
                and all(t["lastStatus"] == "STOPPED" for t in stack.tasks(None, desired_status="STOPPED"))
            ),
            what="service inactive, tasks stopped",
        )
        deleted = stack.ecs.delete_cluster(cluster="course")["cluster"]
        assert (deleted["runningTasksCount"], deleted["pendingTasksCount"]) == (0, 0)

    def test_create_service_answers_before_any_task_starts(self, stack: Stack) -> None:
        """AWS's create-service example: runningCount 0, pendingCount 0, no events yet; tasks pend just after."""
        service = stack.create_service(desired=2, load_balanced=False)
        assert (service["runningCount"], service["pendingCount"], service["events"]) == (0, 0, [])
        assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
        assert stack.service()["pendingCount"] == 2

    def test_scaling_to_zero_answers_the_running_count_and_drains_on_the_clock(self, stack: Stack) -> None:
        """update-service --desired-count 0 answers running 2; tasks drain afterwards, on the clock."""
        stack.create_service(desired=2)
        advance_until(
            stack.sandbox, lambda: stack.service()["runningCount"] == 2, what="two running", limit=600
        )
        answer = stack.ecs.update_service(cluster="course", service="web", desiredCount=0)["service"]
        assert (answer["desiredCount"], answer["runningCount"]) == (0, 2)
        advance_until(
            stack.sandbox, lambda: stack.tasks(None, desired_status="STOPPED")[0]["lastStatus"] == "STOPPED",
            what="drained", limit=600,
        )  # fmt: skip

    def test_delete_service_is_draining_then_inactive(self, stack: Stack) -> None:
        """DeleteService reference: ACTIVE -> DRAINING (hidden from ListServices) -> INACTIVE once tasks stopped."""
        stack.create_service(desired=1)
        advance_until(stack.sandbox, lambda: stack.service()["runningCount"] == 1, what="running", limit=600)
        answer = stack.ecs.delete_service(cluster="course", service="web", force=True)["service"]
        assert answer["status"] == "DRAINING"
        assert stack.ecs.list_services(cluster="course")["serviceArns"] == []
        status, code, _ = _error(lambda: stack.create_service(desired=1))
        assert (status, code) == (400, "InvalidParameterException")  # the name is taken while DRAINING
        advance_until(
            stack.sandbox, lambda: stack.service()["status"] == "INACTIVE", what="inactive", limit=600
        )
        assert all(t["desiredStatus"] == "STOPPED" for t in stack.tasks(None, desired_status="STOPPED"))
        stack.create_service(desired=1)  # an INACTIVE name can be reused

    def test_task_definitions_list_by_family_then_revision(self, stack: Stack) -> None:
        """ListTaskDefinitions reference: family, then revision, ascending; sort=DESC reverses both."""
        definition = _hello(stack)
        for family in ("zeta", "alpha", "zeta"):
            stack.ecs.register_task_definition(**{**definition, "family": family})
        stack.ecs.register_task_definition(**definition)
        names = [a.split("/")[-1] for a in stack.ecs.list_task_definitions()["taskDefinitionArns"]]
        assert names == ["alpha:1", "nginx-demo-hello:1", "nginx-demo-hello:2", "zeta:1", "zeta:2"]
        names = [a.split("/")[-1] for a in stack.ecs.list_task_definitions(sort="DESC")["taskDefinitionArns"]]
        assert names == ["zeta:2", "zeta:1", "nginx-demo-hello:2", "nginx-demo-hello:1", "alpha:1"]


class TestRegionsAndStartTask:
    def test_ecs_in_another_region_creates_the_service(self, stack: Stack) -> None:
        """A cluster and service in a region other than the sandbox's: no "cluster does not exist"."""
        ecs = stack.sandbox.client("ecs", region_name="eu-west-1")
        ec2 = stack.sandbox.client("ec2", region_name="eu-west-1")
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:1]
        ecs.create_cluster(clusterName="eu")
        ecs.register_task_definition(**_hello(stack))
        service = ecs.create_service(
            cluster="eu", serviceName="s", taskDefinition="nginx-demo-hello", desiredCount=1, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
        )["service"]  # fmt: skip
        assert service["status"] == "ACTIVE"
        assert ecs.describe_services(cluster="eu", services=["s"])["services"][0]["serviceName"] == "s"

    def test_a_task_started_with_start_task_can_be_stopped(self, stack: Stack) -> None:
        """StartTask on a named container instance; StopTask finds the task and it stops on the clock."""
        image = stack.ec2.describe_images()["Images"][0]["ImageId"]
        stack.ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.medium",
            UserData="#!/bin/bash\necho ECS_CLUSTER=course >> /etc/ecs/ecs.config",
        )  # fmt: skip
        advance_until(
            stack.sandbox, lambda: stack.ecs.list_container_instances(cluster="course")["containerInstanceArns"],
            what="the instance registering",
        )  # fmt: skip
        stack.ecs.register_task_definition(
            family="bridge", containerDefinitions=[{"name": "a", "image": "nginx", "cpu": 256, "memory": 256}]
        )
        instance = stack.ecs.list_container_instances(cluster="course")["containerInstanceArns"][0]
        started = stack.ecs.start_task(
            cluster="course", taskDefinition="bridge", containerInstances=[instance]
        )
        assert started["failures"] == []
        task = started["tasks"][0]
        assert task["containerInstanceArn"] == instance
        missing = stack.ecs.start_task(
            cluster="course", taskDefinition="bridge", containerInstances=["not-an-instance"]
        )
        assert (missing["tasks"], missing["failures"][0]["reason"]) == ([], "MISSING")
        stopped = stack.ecs.stop_task(cluster="course", task=task["taskArn"], reason="done")["task"]
        assert stopped["desiredStatus"] == "STOPPED"
        _wait_for_status(stack, task["taskArn"], "STOPPED")


class TestManagedScaling:
    def test_an_asg_provider_with_managed_scaling_launches_instances_for_waiting_tasks(
        self, stack: Stack
    ) -> None:
        """Developer guide, "Amazon ECS cluster auto scaling": tasks that cannot be placed raise
        CapacityProviderReservation (AWS/ECS/ManagedScaling) above target; the group's desired capacity
        grows, its instances join the cluster, and the tasks run."""
        image = stack.ec2.describe_images()["Images"][0]["ImageId"]
        user_data = base64.b64encode(
            b"#!/bin/bash\necho ECS_CLUSTER=course >> /etc/ecs/ecs.config\n"
        ).decode()
        stack.ec2.create_launch_template(
            LaunchTemplateName="ecs",
            LaunchTemplateData={"ImageId": image, "InstanceType": "t3.small", "UserData": user_data},
        )
        # An instance of the cluster outside the group: the provider's tasks must not land there.
        outsider = stack.ec2.run_instances(
            ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.large", UserData=user_data
        )["Instances"][0]["InstanceId"]
        autoscaling = stack.sandbox.client("autoscaling")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="ecs-asg", LaunchTemplate={"LaunchTemplateName": "ecs"},
            MinSize=0, MaxSize=3, DesiredCapacity=0, VPCZoneIdentifier=",".join(stack.subnets),
        )  # fmt: skip
        arn = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["ecs-asg"])[
            "AutoScalingGroups"
        ][0]["AutoScalingGroupARN"]
        stack.ecs.create_capacity_provider(
            name="asg", autoScalingGroupProvider={"autoScalingGroupArn": arn, "managedScaling": {"status": "ENABLED", "targetCapacity": 100}},
        )  # fmt: skip
        stack.ecs.put_cluster_capacity_providers(
            cluster="course", capacityProviders=["asg"], defaultCapacityProviderStrategy=[]
        )
        stack.ecs.register_task_definition(
            family="web-ec2",
            containerDefinitions=[{"name": "a", "image": "nginx", "cpu": 1024, "memory": 1024}],
        )
        stack.ecs.create_service(
            cluster="course", serviceName="web", taskDefinition="web-ec2", desiredCount=2,
            capacityProviderStrategy=[{"capacityProvider": "asg", "weight": 1}],
        )  # fmt: skip
        assert stack.tasks() == []
        advance_until(
            stack.sandbox,
            lambda: [t["lastStatus"] for t in stack.tasks()] == ["RUNNING", "RUNNING"],
            what="the waiting tasks running on new instances",
            limit=900,
        )
        assert {t["capacityProviderName"] for t in stack.tasks()} == {"asg"}
        hosts = stack.ecs.describe_container_instances(
            cluster="course", containerInstances=[t["containerInstanceArn"] for t in stack.tasks()]
        )["containerInstances"]
        members = {
            i["InstanceId"]
            for i in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"][0]["Instances"]
        }
        assert {h["ec2InstanceId"] for h in hosts} <= members
        assert outsider not in members
        events = [e["message"] for e in stack.service()["events"]]
        assert any("No Container Instances were found in your capacity provider" in m for m in events)
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["ecs-asg"])[
            "AutoScalingGroups"
        ][0]
        assert group["DesiredCapacity"] == 2  # one instance per task that was waiting
        stats = stack.sandbox.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/ECS/ManagedScaling", MetricName="CapacityProviderReservation",
            Dimensions=[{"Name": "ClusterName", "Value": "course"}, {"Name": "CapacityProviderName", "Value": "asg"}],
            StartTime=stack.sandbox.now() - dt.timedelta(hours=1), EndTime=stack.sandbox.now(),
            Period=60, Statistics=["Maximum"],
        )["Datapoints"]  # fmt: skip
        assert max(p["Maximum"] for p in stats) == 200.0  # no instance yet, tasks waiting
