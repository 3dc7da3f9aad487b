"""The sandbox publishes AWS's CloudWatch metrics each minute from its load model and real traffic."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import labkit
from labkit.errors import LoadError, LoadNotAvailableError
from labkit.sandbox.aws import AwsSandbox
from tests.sandbox.simulator.conftest import Stack

SERVICE_DIMENSIONS = [{"Name": "ClusterName", "Value": "course"}, {"Name": "ServiceName", "Value": "web"}]


def _statistics(stack: Stack, metric: str, statistics: list[str]) -> list[dict[str, Any]]:
    end = stack.sandbox.now()
    points: list[dict[str, Any]] = stack.sandbox.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ECS", MetricName=metric, Dimensions=SERVICE_DIMENSIONS,
        StartTime=end - dt.timedelta(minutes=10), EndTime=end, Period=60, Statistics=statistics,
    )["Datapoints"]  # fmt: skip
    return sorted(points, key=lambda p: p["Timestamp"])


def test_service_cpu_is_the_demand_shared_by_running_tasks(stack: Stack) -> None:
    """384 CPU units over two 256-unit tasks is 75 % each: Average 75, SampleCount 2, unit Percent."""
    stack.create_service(desired=2, load_balanced=False)
    stack.sandbox.advance(60)
    stack.sandbox.set_load(cluster="course", service="web", cpu=384, memory=256)
    stack.sandbox.advance(120)
    cpu = _statistics(stack, "CPUUtilization", ["Average", "SampleCount", "Maximum"])[-1]
    assert (cpu["Average"], cpu["SampleCount"], cpu["Maximum"], cpu["Unit"]) == (75.0, 2.0, 75.0, "Percent")
    memory = _statistics(stack, "MemoryUtilization", ["Average"])[-1]
    assert memory["Average"] == 25.0


def test_a_saturated_task_reports_at_most_100_percent(stack: Stack) -> None:
    """Four vCPUs of demand on one 0.25 vCPU task shows 100 %, not 1600 %."""
    stack.create_service(desired=1, load_balanced=False)
    stack.sandbox.set_load(cluster="course", service="web", cpu=4096)
    stack.sandbox.advance(180)
    assert _statistics(stack, "CPUUtilization", ["Maximum"])[-1]["Maximum"] == 100.0


def test_a_service_without_running_tasks_publishes_nothing(stack: Stack) -> None:
    """Before its task runs, a service has no CPUUtilization datapoint (missing data, as on AWS)."""
    stack.create_service(desired=1, load_balanced=False)
    stack.sandbox.set_load(cluster="course", service="web", cpu=128)
    assert _statistics(stack, "CPUUtilization", ["Average"]) == []


def test_list_metrics_and_get_metric_data_show_aws_names(stack: Stack) -> None:
    """list_metrics finds AWS/ECS CPUUtilization with ClusterName and ServiceName; get_metric_data reads it."""
    stack.create_service(desired=1, load_balanced=False)
    stack.sandbox.set_load(cluster="course", service="web", cpu=128)
    stack.sandbox.advance(150)
    cw = stack.sandbox.client("cloudwatch")
    listed = cw.list_metrics(Namespace="AWS/ECS", MetricName="CPUUtilization")["Metrics"]
    assert [sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in listed] == [
        [("ClusterName", "course"), ("ServiceName", "web")]
    ]
    end = stack.sandbox.now()
    result = cw.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "cpu",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ECS",
                        "MetricName": "CPUUtilization",
                        "Dimensions": SERVICE_DIMENSIONS,
                    },
                    "Period": 60,
                    "Stat": "Average",
                },
            }
        ],
        StartTime=end - dt.timedelta(minutes=5),
        EndTime=end,
    )["MetricDataResults"][0]
    assert set(result["Values"]) == {50.0}


def test_request_rate_gives_request_count_per_load_balancer(stack: Stack) -> None:
    """2 requests per second on the target group is RequestCount 120 a minute on the load balancer."""
    stack.create_service(desired=2)
    stack.sandbox.set_load(target_group="web", requests_per_second=2)
    stack.sandbox.advance(240)
    end = stack.sandbox.now()
    lb = stack.load_balancer_arn.split(":loadbalancer/")[-1]
    points = stack.sandbox.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/ApplicationELB", MetricName="RequestCount", Dimensions=[{"Name": "LoadBalancer", "Value": lb}],
        StartTime=end - dt.timedelta(minutes=2), EndTime=end, Period=60, Statistics=["Sum"],
    )["Datapoints"]  # fmt: skip
    assert {p["Sum"] for p in points} == {120.0}


def test_an_unknown_service_or_target_group_is_a_load_error(stack: Stack) -> None:
    """set_load names what it cannot find, with a LoadError."""
    with pytest.raises(LoadError, match="no active service 'nope' in cluster 'course'"):
        stack.sandbox.set_load(cluster="course", service="nope", cpu=10)
    with pytest.raises(LoadError, match="no target group 'nope'"):
        stack.sandbox.set_load(target_group="nope", requests_per_second=1)
    with pytest.raises(LoadError, match="cpu must be a number >= 0"):
        stack.sandbox.set_load(cluster="course", service="web", cpu=-1)


def test_a_real_account_has_no_load_model() -> None:
    """In aws mode set_load says load comes from real traffic there."""
    sandbox = AwsSandbox.__new__(AwsSandbox)
    with pytest.raises(LoadNotAvailableError, match="load on a real account comes from real traffic"):
        sandbox.set_load(cluster="c", service="s", cpu=1)


def test_load_is_set_over_http_in_server_mode() -> None:
    """A server sandbox takes the load model through its token-protected /_labkit/load endpoint."""
    with labkit.open_sandbox("server", clock="manual") as sb:
        with pytest.raises(LoadError, match="no active service 'web'"):
            sb.set_load(cluster="course", service="web", cpu=100)
        assert sb.load()["services"] == []
