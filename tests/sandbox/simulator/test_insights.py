"""Container Insights: `ECS/ContainerInsights` metrics each minute for clusters that turn it on.

Names, dimension sets and units as "Amazon ECS Container Insights metrics" lists them; the load
model (`set_load`) shows in the utilized figures; a cluster without the setting gets none.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from typing import Any

from labkit.sandbox.simulator.insights import NAMESPACE
from tests.sandbox.simulator.conftest import AwsCli, Stack


def _enable(stack: Stack, value: str = "enabled") -> None:
    stack.ecs.update_cluster(cluster="course", settings=[{"name": "containerInsights", "value": value}])


def _stat(stack: Stack, name: str, dimensions: dict[str, str], statistic: str = "Average") -> list[float]:
    """The datapoints of the last ten minutes, oldest first."""
    now = stack.sandbox.clock.now()
    answer = stack.sandbox.client("cloudwatch").get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - dt.timedelta(minutes=10),
        EndTime=now,
        Period=60,
        Statistics=[statistic],
    )
    points = sorted(answer["Datapoints"], key=lambda p: p["Timestamp"])
    return [float(p[statistic]) for p in points]


CLUSTER = {"ClusterName": "course"}
SERVICE = {"ClusterName": "course", "ServiceName": "web"}
FAMILY = {"ClusterName": "course", "TaskDefinitionFamily": "nginx-demo-hello"}


def test_a_cluster_without_container_insights_publishes_nothing(stack: Stack) -> None:
    stack.create_service(desired=2)
    stack.sandbox.advance(300)
    listed = stack.sandbox.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert listed == []
    # The free AWS/ECS metrics are there all the same.
    assert stack.sandbox.client("cloudwatch").list_metrics(Namespace="AWS/ECS")["Metrics"]


def test_the_metrics_aws_lists_with_their_dimension_sets(stack: Stack) -> None:
    _enable(stack)
    stack.create_service(desired=2)
    stack.sandbox.advance(300)
    listed = stack.sandbox.client("cloudwatch").list_metrics(Namespace=NAMESPACE)["Metrics"]
    found = {(m["MetricName"], frozenset(d["Name"] for d in m["Dimensions"])) for m in listed}
    three = [{"ClusterName"}, {"ClusterName", "ServiceName"}, {"ClusterName", "TaskDefinitionFamily"}]
    for name in (
        "CpuUtilized",
        "CpuReserved",
        "MemoryUtilized",
        "MemoryReserved",
        "NetworkRxBytes",
        "NetworkTxBytes",
    ):
        for dimensions in three:
            assert (name, frozenset(dimensions)) in found, (name, dimensions)
    for name in (
        "DesiredTaskCount",
        "RunningTaskCount",
        "PendingTaskCount",
        "DeploymentCount",
        "TaskSetCount",
    ):
        assert (name, frozenset({"ClusterName", "ServiceName"})) in found
    for name in ("TaskCount", "ServiceCount", "ContainerInstanceCount"):
        assert (name, frozenset({"ClusterName"})) in found


def test_counts_and_reservations(stack: Stack) -> None:
    _enable(stack)
    stack.create_service(desired=2)
    stack.sandbox.advance(300)
    assert _stat(stack, "RunningTaskCount", SERVICE)[-1] == 2
    assert _stat(stack, "DesiredTaskCount", SERVICE)[-1] == 2
    assert _stat(stack, "PendingTaskCount", SERVICE)[-1] == 0
    assert _stat(stack, "DeploymentCount", SERVICE)[-1] == 1
    assert _stat(stack, "TaskCount", CLUSTER)[-1] == 2
    assert _stat(stack, "ServiceCount", CLUSTER)[-1] == 1
    assert _stat(stack, "ContainerInstanceCount", CLUSTER)[-1] == 0  # Fargate: no container instances
    # Two 256-unit, 512-MiB tasks: reserved at every level; the cluster query is not a sum of all levels.
    for dimensions in (CLUSTER, SERVICE, FAMILY):
        assert _stat(stack, "CpuReserved", dimensions)[-1] == 512
        assert _stat(stack, "MemoryReserved", dimensions)[-1] == 1024
    # No load: the stand-ins idle.
    assert _stat(stack, "CpuUtilized", SERVICE)[-1] == 0


def test_load_shows_in_the_utilized_figures_capped_at_the_tasks_size(stack: Stack) -> None:
    _enable(stack, "enhanced")
    stack.create_service(desired=2)
    stack.sandbox.advance(240)
    stack.sandbox.set_load(cluster="course", service="web", cpu=384, memory=256)
    stack.sandbox.advance(120)
    assert _stat(stack, "CpuUtilized", SERVICE)[-1] == 384
    assert _stat(stack, "MemoryUtilized", CLUSTER)[-1] == 256
    stack.sandbox.set_load(cluster="course", service="web", cpu=4096)
    stack.sandbox.advance(120)
    # Each task uses at most its 256 units.
    assert _stat(stack, "CpuUtilized", FAMILY)[-1] == 512


def test_requests_through_the_load_balancer_show_as_network_bytes(stack: Stack) -> None:
    _enable(stack)
    stack.create_service(desired=1)
    stack.sandbox.advance(240)
    for _ in range(20):
        with urllib.request.urlopen(stack.url) as page:
            page.read()
    stack.sandbox.advance(60)
    # The hello page is over a kilobyte: 20 of them in a minute are more than 20 * 1000 / 60 B/s.
    assert _stat(stack, "NetworkTxBytes", SERVICE)[-1] > 20 * 1000 / 60
    assert _stat(stack, "NetworkRxBytes", SERVICE)[-1] > 0


def test_container_insights_through_the_aws_cli(aws_cli: AwsCli) -> None:
    aws_cli(
        "ecs", "create-cluster", "--cluster-name", "ci", "--settings", "name=containerInsights,value=enabled"
    )
    aws_cli.advance(120)
    listed: list[dict[str, Any]] = aws_cli("cloudwatch", "list-metrics", "--namespace", NAMESPACE)["Metrics"]
    names = {m["MetricName"] for m in listed}
    assert {"TaskCount", "ServiceCount", "ContainerInstanceCount"} <= names


def test_update_cluster_settings_turns_container_insights_on_and_off(stack: Stack) -> None:
    """UpdateClusterSettings (which moto lacks) as the guide uses it; a bad setting gets AWS's error."""
    stack.create_service(desired=1)
    answer = stack.ecs.update_cluster_settings(
        cluster="course", settings=[{"name": "containerInsights", "value": "enabled"}]
    )
    assert {"name": "containerInsights", "value": "enabled"} in answer["cluster"]["settings"]
    stack.sandbox.advance(180)
    assert _stat(stack, "RunningTaskCount", SERVICE)
    stack.ecs.update_cluster_settings(
        cluster="course", settings=[{"name": "containerInsights", "value": "disabled"}]
    )
    (cluster,) = stack.ecs.describe_clusters(clusters=["course"], include=["SETTINGS"])["clusters"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "disabled"}]
    import botocore.exceptions
    import pytest

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        stack.ecs.update_cluster_settings(
            cluster="course", settings=[{"name": "containerInsights", "value": "on"}]
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        stack.ecs.update_cluster_settings(
            cluster="nope", settings=[{"name": "containerInsights", "value": "enabled"}]
        )
    assert missing.value.response["Error"]["Code"] == "ClusterNotFoundException"
