"""moto.cloudwatch: alarms the simulator evaluates, metrics it publishes, and the alarm history.

In a sandbox account an updated alarm keeps its state, a state change goes through the simulator
(history, actions), custom metric data is indexed for alarm evaluation, ListMetrics lists each metric
once, and DescribeAlarmHistory (missing in moto) answers from the simulator's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.core import action_result, request_param
from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for

__all__ = ["aggregated_datum", "datum"]

_BACKEND = "moto.cloudwatch.models.CloudWatchBackend"

uses(
    "moto.cloudwatch.models.MetricDatum",
    "__init__",
    ("self", "namespace", "name", "value", "dimensions", "timestamp", "unit"),
    why="the simulator publishes ECS, ELB and SQS metrics",
)
uses(
    "moto.cloudwatch.models.MetricAggregatedDatum",
    "__init__",
    (
        "self",
        "namespace",
        "name",
        "min_stat",
        "max_stat",
        "sample_count",
        "sum_stat",
        "dimensions",
        "timestamp",
        "unit",
    ),
    why="the simulator publishes minute statistics",
)


def datum(
    namespace: str, name: str, value: float, dimensions: list[dict[str, str]], stamp: dt.datetime, unit: Any
) -> Any:
    """moto's record of one metric value."""
    from moto.cloudwatch.models import MetricDatum

    return MetricDatum(namespace, name, value, dimensions, stamp, unit)


def aggregated_datum(
    namespace: str,
    name: str,
    statistics: tuple[float, float, float, float],
    dimensions: list[dict[str, str]],
    stamp: dt.datetime,
    unit: Any,
) -> Any:
    """moto's record of a minute's statistics (minimum, maximum, sample count, sum)."""
    from moto.cloudwatch.models import MetricAggregatedDatum

    minimum, maximum, count, total = statistics
    return MetricAggregatedDatum(namespace, name, minimum, maximum, count, total, dimensions, stamp, unit)


@hook(
    _BACKEND,
    "put_metric_alarm",
    ("self", "name"),
    why="an updated alarm keeps its state; the simulator evaluates alarms",
)
def put_metric_alarm(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        sim = simulator_for(self.account_id)
        previous = self.alarms.get(name)
        alarm = original(self, name, *args, **kwargs)
        if sim is None:
            return alarm
        now = sim.now()
        if previous is not None and previous is not alarm:
            # An update keeps the alarm's state; only the configuration changes.
            alarm.state_value = previous.state_value
            alarm.state_reason = previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
            alarm.state_updated_timestamp = now.astimezone(dt.UTC).replace(tzinfo=None)
        sim.alarms.configured(name, previous is None, now)
        return alarm

    return handler


@hook(
    _BACKEND,
    "put_metric_data",
    ("self", "namespace", "metric_data"),
    why="the simulator indexes custom metrics",
)
def put_metric_data(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        original(self, namespace, metric_data)
        sim = simulator_for(self.account_id)
        if sim is not None:
            sim.metrics.custom_data(namespace, metric_data)

    return handler


@hook(
    _BACKEND,
    "set_alarm_state",
    ("self", "alarm_name", "reason", "reason_data", "state_value"),
    why="the simulator writes history and runs the actions",
)
def set_alarm_state(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        sim = simulator_for(self.account_id)
        if sim is None:
            return original(self, alarm_name, reason, reason_data, state_value)  # type: ignore[no-any-return]
        alarm = self.alarms.get(alarm_name)
        previous = alarm.state_value if alarm is not None else None
        original(self, alarm_name, reason, reason_data, state_value)
        if alarm is not None and previous != state_value:
            # moto has already changed it; let the simulator write history and run the actions.
            alarm.state_value = previous
            sim.alarms.set_state(alarm, state_value, reason, reason_data, sim.now())
        return None

    return handler


@hook(
    _BACKEND,
    "get_filtered_metrics",
    ("self", "metric_name", "namespace", "dimensions"),
    why="ListMetrics lists each metric once",
)
def get_filtered_metrics(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, metric_name: str, namespace: str, dimensions: list[dict[str, str]]) -> Any:
        if simulator_for(self.account_id) is None:
            return original(self, metric_name, namespace, dimensions)
        # ListMetrics lists each metric (namespace, name, dimension set) once; moto repeats
        # metrics with two or more dimensions, comparing every datapoint with every metric.
        seen: set[Any] = set()
        unique = []
        for datum in self.get_all_metrics():
            if not datum.filter(namespace=namespace, name=metric_name, dimensions=dimensions):
                continue
            key = (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))
            if key not in seen:
                seen.add(key)
                unique.append(datum)
        return unique

    return handler


def _describe_alarm_history(self: Any) -> Any:
    sim = simulator_for(self.current_account)
    if sim is None:
        raise NotImplementedError("The describe_alarm_history action has not been implemented")
    params = {
        name: request_param(self, name)
        for name in (
            "AlarmName",
            "AlarmTypes",
            "HistoryItemType",
            "StartDate",
            "EndDate",
            "MaxRecords",
            "NextToken",
            "ScanBy",
        )
    }
    return action_result(sim.alarms.describe_history(params))


hook(
    "moto.cloudwatch.responses.CloudWatchResponse",
    "describe_alarm_history",
    why="DescribeAlarmHistory (missing in moto) answers from the simulator's history",
    adds=True,
)(lambda original: _describe_alarm_history)


class _ExactDimensions:
    """The backend as `get_metric_statistics` sees it: only the datapoints of one exact dimension set."""

    def __init__(self, backend: Any, data: list[Any]) -> None:
        self._backend = backend
        self._data = data

    def get_all_metrics(self) -> list[Any]:
        return self._data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


@hook(
    _BACKEND,
    "get_metric_statistics",
    ("self", "namespace", "metric_name", "start_time", "end_time", "period", "stats", "dimensions", "unit"),
    why="GetMetricStatistics matches a metric's exact dimension set, as CloudWatch does (moto: any superset)",
)
def get_metric_statistics(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(
        self: Any,
        namespace: str,
        metric_name: str,
        start_time: Any,
        end_time: Any,
        period: int,
        stats: list[str],
        dimensions: list[dict[str, str]],
        unit: str | None = None,
    ) -> Any:
        if simulator_for(self.account_id) is None:
            return original(
                self, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit
            )
        # CloudWatch identifies a metric by its namespace, name and whole dimension set: asking for
        # ClusterName alone does not add up the ClusterName+ServiceName datapoints (Container Insights
        # publishes one metric name under several dimension sets).
        wanted = sorted((str(d["Name"]), str(d.get("Value"))) for d in dimensions or [])
        exact = [
            datum
            for datum in self.get_all_metrics()
            if datum.namespace == namespace
            and datum.name == metric_name
            and sorted((d.name, d.value) for d in datum.dimensions) == wanted
        ]
        view = _ExactDimensions(self, exact)
        return original(view, namespace, metric_name, start_time, end_time, period, stats, dimensions, unit)

    return handler
