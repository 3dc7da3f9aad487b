"""EC2 capacity: ASG instances join the cluster, and tasks are placed by strategies and constraints."""

from __future__ import annotations

import base64
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox


@dataclass
class Ec2Cluster:
    sandbox: EmbeddedSandbox
    ecs: Any
    ec2: Any
    name: str = "ec2-course"

    def instances(self) -> list[dict[str, Any]]:
        arns = self.ecs.list_container_instances(cluster=self.name)["containerInstanceArns"]
        if not arns:
            return []
        described: list[dict[str, Any]] = self.ecs.describe_container_instances(
            cluster=self.name, containerInstances=arns
        )["containerInstances"]
        return described

    def zone_of(self) -> dict[str, str]:
        return {
            i["containerInstanceArn"]: next(
                a["value"] for a in i["attributes"] if a["name"] == "ecs.availability-zone"
            )
            for i in self.instances()
        }

    def run(self, family: str, count: int, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.ecs.run_task(
            cluster=self.name, taskDefinition=family, count=count, **extra
        )
        return result


@pytest.fixture
def cluster(sandbox: EmbeddedSandbox) -> Ec2Cluster:
    """Three t3.medium instances of an Auto Scaling group, one per AZ, registered after the agent boots."""
    ec2, ecs, autoscaling = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("autoscaling")
    ecs.create_cluster(clusterName="ec2-course")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    zones: dict[str, str] = {}
    for subnet in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]:
        zones.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    user_data = base64.b64encode(
        b"#!/bin/bash\necho ECS_CLUSTER=ec2-course >> /etc/ecs/ecs.config\n"
    ).decode()
    ec2.create_launch_template(
        LaunchTemplateName="ecs-instances",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.medium", "UserData": user_data},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="ecs-instances",
        LaunchTemplate={"LaunchTemplateName": "ecs-instances"},
        MinSize=3,
        MaxSize=3,
        DesiredCapacity=3,
        VPCZoneIdentifier=",".join(list(zones.values())[:3]),
    )
    for family, memory, port in (("web", 512, 0), ("fixed", 256, 8080), ("big", 8192, 0)):
        ecs.register_task_definition(
            family=family,
            networkMode="bridge",
            containerDefinitions=[
                {"name": "web", "image": "nginxdemos/hello", "cpu": 256, "memory": memory,
                 "portMappings": [{"containerPort": 80, "hostPort": port}]},
            ],
        )  # fmt: skip
    sandbox.advance(40)
    return Ec2Cluster(sandbox, ecs, ec2)


def test_asg_instances_register_with_their_instance_type_capacity(cluster: Ec2Cluster) -> None:
    """Each instance registers 2048 CPU units and the memory the agent reports, one in each AZ."""
    instances = cluster.instances()
    assert len(instances) == 3
    for instance in instances:
        registered = {r["name"]: r for r in instance["registeredResources"]}
        assert registered["CPU"]["integerValue"] == 2048
        assert 3800 < registered["MEMORY"]["integerValue"] < 4096
    assert len(set(cluster.zone_of().values())) == 3


def test_instances_register_only_after_the_agent_boots(sandbox: EmbeddedSandbox) -> None:
    """An instance launched with ECS_CLUSTER in its user data is not a container instance straight away."""
    ecs, ec2 = sandbox.client("ecs"), sandbox.client("ec2")
    ecs.create_cluster(clusterName="late")
    user_data = "#!/bin/bash\necho ECS_CLUSTER=late >> /etc/ecs/ecs.config\n"
    ec2.run_instances(
        ImageId="ami-12c6146b", InstanceType="t3.small", MinCount=1, MaxCount=1, UserData=user_data
    )
    assert ecs.list_container_instances(cluster="late")["containerInstanceArns"] == []
    sandbox.advance(31)
    assert len(ecs.list_container_instances(cluster="late")["containerInstanceArns"]) == 1


def test_spread_by_availability_zone_balances_tasks(cluster: Ec2Cluster) -> None:
    """Six tasks spread by AZ land two in each zone."""
    result = cluster.run(
        "web", 6, placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}]
    )
    zones = cluster.zone_of()
    assert Counter(zones[t["containerInstanceArn"]] for t in result["tasks"]).most_common()[0][1] == 2


def test_binpack_by_memory_fills_one_instance_first(cluster: Ec2Cluster) -> None:
    """Binpack on memory puts tasks on one instance until it is full (7 tasks of 512 MiB on a t3.medium)."""
    result = cluster.run("web", 8, placementStrategy=[{"type": "binpack", "field": "memory"}])
    counts = sorted(Counter(t["containerInstanceArn"] for t in result["tasks"]).values())
    assert counts == [1, 7]


def test_spread_then_binpack_combines_in_order(cluster: Ec2Cluster) -> None:
    """Spread by AZ decides first; binpack only breaks ties inside a zone."""
    result = cluster.run(
        "web",
        3,
        placementStrategy=[
            {"type": "spread", "field": "attribute:ecs.availability-zone"},
            {"type": "binpack", "field": "memory"},
        ],
    )
    assert len({t["containerInstanceArn"] for t in result["tasks"]}) == 3


def test_distinct_instance_never_puts_two_tasks_on_one_instance(cluster: Ec2Cluster) -> None:
    """Four tasks with distinctInstance on three instances: three placed on three instances, one failure."""
    result = cluster.run("web", 4, placementConstraints=[{"type": "distinctInstance"}], group="distinct")
    assert len(result["tasks"]) == 3
    assert len({t["containerInstanceArn"] for t in result["tasks"]}) == 3
    assert result["failures"]


def test_member_of_restricts_to_matching_instances(cluster: Ec2Cluster) -> None:
    """memberOf with the cluster query language keeps tasks on the instances it matches."""
    zone = sorted(cluster.zone_of().values())[0]
    result = cluster.run(
        "web",
        3,
        placementConstraints=[
            {"type": "memberOf", "expression": f"attribute:ecs.availability-zone == {zone}"}
        ],
    )
    zones = cluster.zone_of()
    assert {zones[t["containerInstanceArn"]] for t in result["tasks"]} == {zone}


def test_member_of_with_instance_type_pattern(cluster: Ec2Cluster) -> None:
    """The notes' example, written correctly: attribute:ecs.instance-type =~ t3.* matches t3.medium."""
    result = cluster.run(
        "web",
        2,
        placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}],
    )
    assert len(result["tasks"]) == 2
    none = cluster.run(
        "web",
        1,
        placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"}],
    )
    assert none["tasks"] == []
    assert none["failures"]


def test_a_bad_query_is_an_invalid_parameter_naming_the_position(cluster: Ec2Cluster) -> None:
    """A syntax error in a memberOf expression is InvalidParameterException with the position."""
    with pytest.raises(ClientError) as caught:
        cluster.run(
            "web",
            1,
            placementConstraints=[{"type": "memberOf", "expression": "attribute:ecs.instance-type =="}],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "position" in caught.value.response["Error"]["Message"]


def test_host_port_zero_gets_dynamic_ports(cluster: Ec2Cluster) -> None:
    """Tasks with hostPort 0 get distinct host ports from the ephemeral range on one instance."""
    result = cluster.run("web", 3, placementStrategy=[{"type": "binpack", "field": "memory"}])
    tasks = cluster.ecs.describe_tasks(cluster=cluster.name, tasks=[t["taskArn"] for t in result["tasks"]])[
        "tasks"
    ]
    ports = [t["containers"][0]["networkBindings"][0]["hostPort"] for t in tasks]
    assert len(set(ports)) == 3
    assert all(49153 <= p <= 65535 for p in ports)


def test_a_fixed_host_port_fits_once_per_instance(cluster: Ec2Cluster) -> None:
    """hostPort 8080 allows one task per instance; the fourth task fails with RESOURCE:PORTS."""
    result = cluster.run("fixed", 4)
    assert len(result["tasks"]) == 3
    assert [f["reason"] for f in result["failures"]] == ["RESOURCE:PORTS"]


def test_a_task_too_big_for_any_instance_is_a_resource_failure(cluster: Ec2Cluster) -> None:
    """A task needing 8 GiB fits nowhere: failures name RESOURCE:MEMORY, nothing is silently dropped."""
    result = cluster.run("big", 1)
    assert result["tasks"] == []
    assert [f["reason"] for f in result["failures"]] == ["RESOURCE:MEMORY"]


def test_remaining_resources_follow_the_tasks(cluster: Ec2Cluster) -> None:
    """After placing tasks, describe_container_instances shows less remaining memory and running tasks."""
    cluster.run("web", 2, placementStrategy=[{"type": "binpack", "field": "memory"}])
    busiest = max(cluster.instances(), key=lambda i: i["runningTasksCount"])
    registered = {
        r["name"]: r["integerValue"] for r in busiest["registeredResources"] if r["name"] == "MEMORY"
    }
    remaining = {r["name"]: r["integerValue"] for r in busiest["remainingResources"] if r["name"] == "MEMORY"}
    assert busiest["runningTasksCount"] == 2
    assert registered["MEMORY"] - remaining["MEMORY"] == 1024


def test_a_bridge_service_behind_an_alb_uses_dynamic_ports(cluster: Ec2Cluster) -> None:
    """Instance targets with dynamic host ports turn healthy and the listener serves the tasks."""
    import urllib.request

    elb = cluster.sandbox.client("elbv2")
    vpc = cluster.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in cluster.ec2.describe_subnets()["Subnets"]][:2]
    lb = elb.create_load_balancer(Name="bridge", Subnets=subnets)["LoadBalancers"][0]
    tg = elb.create_target_group(Name="bridge", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance")[
        "TargetGroups"
    ][0]
    elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )  # fmt: skip
    cluster.ecs.create_service(
        cluster=cluster.name, serviceName="bridge", taskDefinition="web", desiredCount=2,
        loadBalancers=[{"targetGroupArn": tg["TargetGroupArn"], "containerName": "web", "containerPort": 80}],
    )  # fmt: skip
    cluster.sandbox.advance(400)
    health = elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy", "healthy"]
    assert all(h["Target"]["Id"].startswith("i-") and int(h["Target"]["Port"]) >= 49153 for h in health)
    url = cluster.sandbox.listener_url(lb["LoadBalancerArn"], 80)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200


def test_a_terminated_instance_is_deregistered_and_its_tasks_stop(cluster: Ec2Cluster) -> None:
    """Terminating a container instance's EC2 instance deregisters it (INACTIVE, agent disconnected) and
    stops its tasks with TerminationNotice (ECS API reference, DeregisterContainerInstance; TaskStopCode)."""
    task = cluster.run("web", 1)["tasks"][0]
    cluster.sandbox.advance(60)
    host = next(i for i in cluster.instances() if i["containerInstanceArn"] == task["containerInstanceArn"])
    cluster.ec2.terminate_instances(InstanceIds=[host["ec2InstanceId"]])
    cluster.sandbox.advance(60)
    stopped = cluster.ecs.describe_tasks(cluster=cluster.name, tasks=[task["taskArn"]])["tasks"][0]
    assert stopped["desiredStatus"] == "STOPPED"
    assert stopped["stopCode"] == "TerminationNotice"
    assert stopped["stoppedReason"] == f"Host EC2 (instance {host['ec2InstanceId']}) terminated."
    gone = cluster.ecs.describe_container_instances(
        cluster=cluster.name, containerInstances=[host["containerInstanceArn"]]
    )["containerInstances"][0]
    assert (gone["status"], gone["agentConnected"]) == ("INACTIVE", False)
    assert host["containerInstanceArn"] not in {i["containerInstanceArn"] for i in cluster.instances()}
