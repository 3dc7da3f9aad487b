"""CloudWatch alarms are evaluated on the sandbox clock: M of N, missing data, state reasons, history."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox


def _minute_start(sandbox: EmbeddedSandbox) -> dt.datetime:
    now = sandbox.now()
    return dt.datetime.fromtimestamp(math.floor(now.timestamp() / 60) * 60, dt.UTC)


def _put(cw: Any, at: dt.datetime, value: float) -> None:
    cw.put_metric_data(
        Namespace="Lab",
        MetricData=[{"MetricName": "Latency", "Value": value, "Timestamp": at, "Unit": "Milliseconds"}],
    )


def _alarm(cw: Any, name: str, **extra: Any) -> None:
    cw.put_metric_alarm(
        AlarmName=name, Namespace="Lab", MetricName="Latency", Statistic="Average", Period=60,
        Threshold=50, ComparisonOperator="GreaterThanThreshold", **extra,
    )  # fmt: skip


def _state(cw: Any, name: str) -> dict[str, Any]:
    alarm: dict[str, Any] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    return alarm


def _advance_to(sandbox: EmbeddedSandbox, instant: dt.datetime) -> None:
    sandbox.advance((instant - sandbox.now()).total_seconds())


def test_a_new_alarm_has_insufficient_data(sandbox: EmbeddedSandbox) -> None:
    """Like AWS, a new alarm is INSUFFICIENT_DATA, 'Unchecked: Initial alarm creation', with a ConfigurationUpdate item."""
    cw = sandbox.client("cloudwatch")
    _alarm(cw, "latency", EvaluationPeriods=1)
    alarm = _state(cw, "latency")
    assert (alarm["StateValue"], alarm["StateReason"]) == (
        "INSUFFICIENT_DATA",
        "Unchecked: Initial alarm creation",
    )
    history = cw.describe_alarm_history(AlarmName="latency")["AlarmHistoryItems"]
    assert [(h["HistoryItemType"], h["HistorySummary"]) for h in history] == [
        ("ConfigurationUpdate", 'Alarm "latency" created')
    ]


def test_m_of_n_moves_the_alarm_and_its_history_records_each_change(sandbox: EmbeddedSandbox) -> None:
    """2 of 3: two high minutes of the last three make it ALARM, two low ones make it OK."""
    cw = sandbox.client("cloudwatch")
    base = _minute_start(sandbox)
    for minute, value in enumerate([60, 20, 70, 80, 10, 10]):
        _put(cw, base + dt.timedelta(minutes=minute, seconds=5), value)
    _alarm(cw, "latency", EvaluationPeriods=3, DatapointsToAlarm=2)
    states = []
    for minute in range(1, 7):
        _advance_to(sandbox, base + dt.timedelta(minutes=minute))
        states.append(_state(cw, "latency")["StateValue"])
    # After 1 minute: [60] (missing data: the points there decide) is ALARM; then [20, 60] is 1 of 2.
    assert states == ["ALARM", "OK", "ALARM", "ALARM", "ALARM", "OK"]
    alarm = _state(cw, "latency")
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [10.0 (")
    assert alarm["StateReason"].endswith(
        "were not greater than the threshold (50.0) (minimum 2 datapoints for ALARM -> OK transition)."
    )
    data = json.loads(alarm["StateReasonData"])
    assert (data["statistic"], data["period"], data["threshold"]) == ("Average", 60, 50.0)
    assert data["recentDatapoints"] == [80.0, 10.0, 10.0]
    history = cw.describe_alarm_history(
        AlarmName="latency", HistoryItemType="StateUpdate", ScanBy="TimestampAscending"
    )
    assert [h["HistorySummary"] for h in history["AlarmHistoryItems"]] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    item = json.loads(history["AlarmHistoryItems"][2]["HistoryData"])
    assert (item["oldState"]["stateValue"], item["newState"]["stateValue"]) == ("OK", "ALARM")
    assert "2 out of the last 3 datapoints" in item["newState"]["stateReason"]


@pytest.mark.parametrize(
    ("treatment", "expected"),
    [("missing", "OK"), ("breaching", "ALARM"), ("notBreaching", "OK"), ("ignore", "INSUFFICIENT_DATA")],
)
def test_missing_data_is_treated_as_the_alarm_says(
    sandbox: EmbeddedSandbox, treatment: str, expected: str
) -> None:
    """Datapoints [60, -, 40] for 2 of 3: breaching fills the gap as high (ALARM), ignore keeps the state."""
    cw = sandbox.client("cloudwatch")
    base = _minute_start(sandbox) + dt.timedelta(minutes=1)
    _put(cw, base + dt.timedelta(seconds=5), 60)
    _put(cw, base + dt.timedelta(minutes=2, seconds=5), 40)
    _alarm(cw, "gappy", EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData=treatment)
    # Evaluate once, when the three periods have ended (the earlier minutes had even less data).
    _advance_to(sandbox, base + dt.timedelta(minutes=3))
    # missing: the two real points decide (1 of 2 high is not 2); ignore: too few real points keep the state.
    assert _state(cw, "gappy")["StateValue"] == expected


def test_all_missing_is_insufficient_data_unless_told_otherwise(sandbox: EmbeddedSandbox) -> None:
    """With no datapoint at all, missing gives INSUFFICIENT_DATA, breaching ALARM and notBreaching OK."""
    cw = sandbox.client("cloudwatch")
    for treatment in ("missing", "breaching", "notBreaching"):
        _alarm(cw, f"empty-{treatment}", EvaluationPeriods=2, TreatMissingData=treatment)
    sandbox.advance(180)
    assert _state(cw, "empty-missing")["StateValue"] == "INSUFFICIENT_DATA"
    assert _state(cw, "empty-breaching")["StateValue"] == "ALARM"
    assert _state(cw, "empty-notBreaching")["StateValue"] == "OK"


def test_an_alarm_over_a_longer_period_is_evaluated_at_its_end(sandbox: EmbeddedSandbox) -> None:
    """A 300 s alarm uses the 5-minute average (40 + 80) / 2 = 60 > 50 at the end of the period."""
    cw = sandbox.client("cloudwatch")
    start = dt.datetime.fromtimestamp(math.floor(sandbox.now().timestamp() / 300) * 300 + 300, dt.UTC)
    _put(cw, start + dt.timedelta(minutes=1), 40)
    _put(cw, start + dt.timedelta(minutes=3), 80)
    cw.put_metric_alarm(
        AlarmName="five", Namespace="Lab", MetricName="Latency", Statistic="Average", Period=300,
        EvaluationPeriods=1, Threshold=50, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    _advance_to(sandbox, start + dt.timedelta(seconds=299))
    assert _state(cw, "five")["StateValue"] == "INSUFFICIENT_DATA"
    _advance_to(sandbox, start + dt.timedelta(seconds=300))
    alarm = _state(cw, "five")
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [60.0 (")


def test_every_comparison_operator_and_a_percentile(sandbox: EmbeddedSandbox) -> None:
    """A value of 50 against 50: >= and <= breach, > and < do not; p90 of 1..10 is 9."""
    cw = sandbox.client("cloudwatch")
    base = _minute_start(sandbox) + dt.timedelta(minutes=1)
    _put(cw, base + dt.timedelta(seconds=1), 50)
    operators = {
        "GreaterThanOrEqualToThreshold": "ALARM",
        "GreaterThanThreshold": "OK",
        "LessThanThreshold": "OK",
        "LessThanOrEqualToThreshold": "ALARM",
    }
    for operator in operators:
        cw.put_metric_alarm(
            AlarmName=operator, Namespace="Lab", MetricName="Latency", Statistic="Maximum", Period=60,
            EvaluationPeriods=1, Threshold=50, ComparisonOperator=operator,
        )  # fmt: skip
    cw.put_metric_data(
        Namespace="Lab",
        MetricData=[{"MetricName": "Spread", "Values": [float(v) for v in range(1, 11)], "Timestamp": base}],
    )
    cw.put_metric_alarm(
        AlarmName="p90", Namespace="Lab", MetricName="Spread", ExtendedStatistic="p90", Period=60,
        EvaluationPeriods=1, Threshold=8.5, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    _advance_to(sandbox, base + dt.timedelta(minutes=1))
    assert {op: _state(cw, op)["StateValue"] for op in operators} == operators
    assert _state(cw, "p90")["StateValue"] == "ALARM"
    assert json.loads(_state(cw, "p90")["StateReasonData"])["recentDatapoints"] == [9.0]


def test_set_alarm_state_runs_the_new_states_actions(sandbox: EmbeddedSandbox) -> None:
    """set_alarm_state to ALARM records a StateUpdate and publishes to the alarm's topic, as AWS does when testing an alarm."""
    cw, sns = sandbox.client("cloudwatch"), sandbox.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    _alarm(cw, "manual", EvaluationPeriods=1, AlarmActions=[topic])
    cw.set_alarm_state(AlarmName="manual", StateValue="ALARM", StateReason="testing the alarm")
    assert _state(cw, "manual")["StateValue"] == "ALARM"
    kinds = [h["HistoryItemType"] for h in cw.describe_alarm_history(AlarmName="manual")["AlarmHistoryItems"]]
    assert kinds == ["Action", "StateUpdate", "ConfigurationUpdate"]


def test_updating_an_alarm_keeps_its_state(sandbox: EmbeddedSandbox) -> None:
    """put_metric_alarm on an existing alarm changes its configuration, not its state."""
    cw = sandbox.client("cloudwatch")
    _alarm(cw, "keep", EvaluationPeriods=1)
    cw.set_alarm_state(AlarmName="keep", StateValue="OK", StateReason="fine")
    _alarm(cw, "keep", EvaluationPeriods=2)
    alarm = _state(cw, "keep")
    assert (alarm["StateValue"], alarm["EvaluationPeriods"]) == ("OK", 2)
    summaries = [
        h["HistorySummary"] for h in cw.describe_alarm_history(AlarmName="keep")["AlarmHistoryItems"]
    ]
    assert summaries[0] == 'Alarm "keep" updated'
