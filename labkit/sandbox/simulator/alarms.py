"""CloudWatch metric alarms evaluated on the sandbox clock, with AWS's states, history and actions.

moto stores alarms and never evaluates them. Here each metric alarm is evaluated at the end of
each of its periods (aligned to the epoch, as CloudWatch's periods are), from the datapoints the
simulator publishes and the ones clients put:

- the statistic (`Statistic`, or a percentile `ExtendedStatistic` such as `p90`) of each period;
- an evaluation range a little longer than `EvaluationPeriods` (N): when it holds N real
  datapoints the most recent N are evaluated and `TreatMissingData` does not matter; otherwise
  missing points are filled as `breaching`, `notBreaching`, left out (`missing`: all missing is
  INSUFFICIENT_DATA) or keep the current state (`ignore`);
- ALARM when at least `DatapointsToAlarm` (M, default N) of them breach the threshold with the
  `ComparisonOperator`, else OK;
- a state change writes `StateReason`/`StateReasonData` as CloudWatch words them, a `StateUpdate`
  history item, and runs the new state's actions: an SNS topic gets the alarm message (published
  through moto's SNS backend), an Application Auto Scaling policy is executed. As on AWS, actions
  run on state changes only, except Auto Scaling actions, which run again every minute the alarm
  stays in the state.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam
from labkit.sandbox.simulator.metrics import Sample, dimension_key

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["AlarmSimulator", "Evaluation"]

_PHRASES = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}

#: Extra periods CloudWatch looks back over when datapoints are missing (the evaluation range).
EXTRA_PERIODS = 2


def breaches(operator: str, value: float, threshold: float) -> bool:
    """Whether `value` breaches `threshold` under a static ComparisonOperator."""
    if operator == "GreaterThanOrEqualToThreshold":
        return value >= threshold
    if operator == "GreaterThanThreshold":
        return value > threshold
    if operator == "LessThanThreshold":
        return value < threshold
    if operator == "LessThanOrEqualToThreshold":
        return value <= threshold
    raise ValueError(f"comparison operator {operator} needs an anomaly detection band")


@dataclass
class Evaluation:
    """The outcome of evaluating one alarm at one instant."""

    state: str | None  # None: keep the current state
    reason: str
    reason_data: dict[str, Any]
    values: list[float]  # the real datapoints evaluated, newest first


def _stamp(value: dt.datetime) -> str:
    """CloudWatch's timestamp form in reason data and messages: 2026-12-02T01:02:00.000+0000."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _short(value: dt.datetime) -> str:
    """The datapoint time in a StateReason: (02/12/26 01:02:00)."""
    return value.astimezone(dt.UTC).strftime("%d/%m/%y %H:%M:%S")


def _utc(epoch: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def _number(value: float) -> str:
    return repr(float(value))


class AlarmSimulator:
    """Evaluates one sandbox's metric alarms every minute and keeps their history."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.history: list[dict[str, Any]] = []
        self.evaluations = 0
        #: Called as listener(alarm, old_state, new_state, instant) on every state change (for
        #: whoever routes CloudWatch's "Alarm State Change" events).
        self.state_listeners: list[Callable[[Any, str, str, dt.datetime], None]] = []

    def _backend(self) -> Any | None:
        return self.sim.metrics._loaded("cloudwatch")

    # -- evaluation -------------------------------------------------------------------------

    def evaluate(self, now: dt.datetime) -> None:
        """Evaluate every alarm whose period ends now; repeat Auto Scaling actions of the others."""
        backend = self._backend()
        if backend is None or not backend.alarms:
            return
        at = int(now.timestamp())
        for alarm in list(backend.alarms.values()):
            if alarm.rule is not None or alarm.metric_data_queries or not alarm.metric_name:
                continue  # composite and metric math alarms are not evaluated by the sandbox
            # One alarm's fault leaves the others evaluated (it is tried again next period).
            self.sim.contained(f"alarm {alarm.name}", functools.partial(self._evaluate_one, alarm, at, now))

    def _evaluate_one(self, alarm: Any, at: int, now: dt.datetime) -> None:
        period = int(alarm.period or 60)
        changed = False
        if period < 60 or at % period == 0:
            changed = self._evaluate_alarm(alarm, at, now)
        if not changed:
            self._repeat_scaling_actions(alarm, now)

    def _evaluate_alarm(self, alarm: Any, at: int, now: dt.datetime) -> bool:
        self.evaluations += 1
        try:
            result = self.evaluation(alarm, at, describe=False)
            if result.state is None or result.state == alarm.state_value:
                return False
            result = self.evaluation(alarm, at)
        except ValueError:
            return False
        assert result.state is not None
        self.set_state(alarm, result.state, result.reason, result.reason_data, now)
        return True

    def evaluation(self, alarm: Any, at: int, *, describe: bool = True) -> Evaluation:
        """Evaluate `alarm` for the periods that end at epoch second `at` (before it).

        Without `describe`, the reason and its data are left empty (most evaluations change nothing).
        """
        plan = getattr(alarm, "labkit_plan", None)
        if plan is None:
            # An alarm's settings do not change (PutMetricAlarm makes a new object): read them once.
            n = int(alarm.evaluation_periods or 1)
            plan = alarm.labkit_plan = (
                int(alarm.period or 60),
                n,
                int(alarm.datapoints_to_alarm or n),
                float(alarm.threshold),
                str(alarm.comparison_operator),
                alarm.extended_statistic or alarm.statistic or "Average",
                alarm.treat_missing_data or "missing",
                dimension_key(
                    alarm.namespace, alarm.metric_name, [(d.name, d.value) for d in alarm.dimensions or []]
                ),
            )
        period, n, m, threshold, operator, statistic, treat, key = plan
        end = at - at % period if period >= 60 else at - at % 10
        points: list[tuple[int, Sample | None, float | None]] = []
        found = 0
        for k in range(1, n + EXTRA_PERIODS + 1):
            start = end - k * period
            sample = self.sim.metrics.index.window(key, start, period, alarm.unit)
            value = sample.statistic(statistic) if sample is not None else None
            points.append((start, sample, value))
            if value is not None:
                found += 1
                if found >= n:
                    break  # the most recent N real datapoints are all that is evaluated
        real = [p for p in points if p[2] is not None]
        # (epoch second, value or None, breaching)
        evaluated: list[tuple[int, float | None, bool]] = []
        state: str | None
        if len(real) >= n:
            evaluated = [(t, v, breaches(operator, v, threshold)) for t, _, v in real[:n] if v is not None]
        else:
            evaluated = [(t, v, breaches(operator, v, threshold)) for t, _, v in real if v is not None]
            filled = [p for p in points[:n] if p[2] is None][: n - len(real)]
            if treat in ("breaching", "notBreaching"):
                evaluated += [(t, None, treat == "breaching") for t, _, _ in filled]
                evaluated.sort(key=lambda e: e[0], reverse=True)
        breaching = sum(1 for e in evaluated if e[2])
        good = sum(1 for e in evaluated if not e[2])
        if len(real) >= n or treat in ("breaching", "notBreaching"):
            state = "ALARM" if breaching >= m else "OK"
        elif treat == "missing":
            # With only some datapoints missing, the ones there decide; with none, nothing is known.
            needed = min(m, len(real))
            state = "INSUFFICIENT_DATA" if not real else ("ALARM" if breaching >= needed else "OK")
        else:  # ignore: only enough real datapoints move the alarm
            state = "ALARM" if breaching >= m else ("OK" if good >= n - m + 1 else None)
        values = [v for _, v, _ in evaluated if v is not None]
        if not describe:
            return Evaluation(state, "", {}, values)
        reason = self._reason(state, evaluated, n, m, operator, threshold, alarm.state_value)
        data: dict[str, Any] = {
            "version": "1.0",
            "queryDate": _stamp(dt.datetime.fromtimestamp(at, dt.UTC)),
            "startDate": _stamp(dt.datetime.fromtimestamp(end - n * period, dt.UTC)),
        }
        if alarm.unit:
            data["unit"] = alarm.unit
        if alarm.extended_statistic:
            data["extendedStatistic"] = alarm.extended_statistic
        else:
            data["statistic"] = statistic
        data["period"] = period
        data["recentDatapoints"] = [v for _, _, v in reversed(points[:n]) if v is not None]
        data["threshold"] = threshold
        data["evaluatedDatapoints"] = [
            {
                "timestamp": _stamp(_utc(t)),
                **({"sampleCount": s.count, "value": v} if s and v is not None else {}),
            }
            for t, s, v in points[:n]
        ]
        return Evaluation(state, reason, data, values)

    def _reason(
        self,
        state: str | None,
        evaluated: list[tuple[int, float | None, bool]],
        n: int,
        m: int,
        operator: str,
        threshold: float,
        current: str,
    ) -> str:
        if state == "INSUFFICIENT_DATA":
            return f"Insufficient Data: {n} datapoint{'s were' if n != 1 else ' was'} unknown."
        phrase = _PHRASES.get(operator, operator)
        wanted = state == "ALARM"
        chosen = [e for e in evaluated if e[2] == wanted]
        shown = ", ".join(
            f"{_number(v) if v is not None else 'null'} ({_short(_utc(t))})" for t, v, _ in chosen
        )
        verb = ("was" if len(chosen) == 1 else "were") + ("" if wanted else " not")
        if m == n:
            return (
                f"Threshold Crossed: {len(chosen)} datapoint{'s' if len(chosen) != 1 else ''} [{shown}] "
                f"{verb} {phrase} the threshold ({_number(threshold)})."
            )
        needed = m if wanted else n - m + 1
        transition = f"{current} -> {state}" if state else current
        return (
            f"Threshold Crossed: {len(chosen)} out of the last {n} datapoints [{shown}] {verb} {phrase} "
            f"the threshold ({_number(threshold)}) (minimum {needed} datapoint{'s' if needed != 1 else ''} "
            f"for {transition} transition)."
        )

    # -- state changes ----------------------------------------------------------------------

    def set_state(
        self, alarm: Any, state: str, reason: str, reason_data: dict[str, Any] | str | None, now: dt.datetime
    ) -> None:
        """Move `alarm` to `state`: reason, history, and the new state's actions."""
        old_state, old_reason = alarm.state_value, alarm.state_reason
        data = reason_data if isinstance(reason_data, str) else json.dumps(reason_data or {})
        alarm.state_value = state
        alarm.state_reason = reason
        alarm.state_reason_data = data
        alarm.state_updated_timestamp = now.astimezone(dt.UTC).replace(tzinfo=None)
        alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
        new_state: dict[str, Any] = {"stateValue": state, "stateReason": reason}
        if reason_data:
            new_state["stateReasonData"] = json.loads(data)
        self.record(
            alarm.name,
            "StateUpdate",
            f"Alarm updated from {old_state} to {state}",
            {
                "version": "1.0",
                "oldState": {"stateValue": old_state, "stateReason": old_reason},
                "newState": new_state,
            },
            now,
        )
        for listener in list(self.state_listeners):
            self.sim.contained(
                f"alarm {alarm.name} (state change event)",
                functools.partial(listener, alarm, old_state, state, now),
            )
        if alarm.actions_enabled:
            for arn in self._actions_for(alarm, state):
                self._run_action(alarm, arn, old_state, now)

    @staticmethod
    def _actions_for(alarm: Any, state: str) -> list[str]:
        if state == "ALARM":
            return list(alarm.alarm_actions or [])
        if state == "OK":
            return list(alarm.ok_actions or [])
        return list(alarm.insufficient_data_actions or [])

    def _repeat_scaling_actions(self, alarm: Any, now: dt.datetime) -> None:
        if not alarm.actions_enabled:
            return
        for arn in self._actions_for(alarm, alarm.state_value):
            if ":scalingPolicy:" in arn:
                self._run_action(alarm, arn, alarm.state_value, now)

    def _run_action(self, alarm: Any, arn: str, old_state: str, now: dt.datetime) -> None:
        """Run one of an alarm's actions; a fault is a failed action in the alarm's history, as on AWS."""

        def failed(exc: Exception) -> None:
            self.record(
                alarm.name,
                "Action",
                f'Failed to execute action {arn}. Received error: "labkit simulator fault: '
                f'{type(exc).__name__}: {exc}"',
                {"actionState": "Failed", "notificationResource": arn, "stateUpdateTimestamp": _stamp(now)},
                now,
            )

        self.sim.contained(
            f"alarm {alarm.name} (action {arn})",
            lambda: self._run_action_unguarded(alarm, arn, old_state, now),
            failed,
        )

    def _run_action_unguarded(self, alarm: Any, arn: str, old_state: str, now: dt.datetime) -> None:
        if arn.split(":")[2:3] == ["sns"]:
            self._notify(alarm, arn, old_state, now)
        elif ":scalingPolicy:" in arn:
            outcome = self.sim.autoscaling.alarm_invoked(arn, alarm)
            if outcome is not None:
                self.record(
                    alarm.name,
                    "Action",
                    f"Successfully executed action {arn}",
                    {
                        "actionState": "Succeeded",
                        "notificationResource": arn,
                        "stateUpdateTimestamp": _stamp(now),
                    },
                    now,
                )
        else:
            self.record(
                alarm.name,
                "Action",
                f'Failed to execute action {arn}. Received error: "the labkit sandbox does not run this kind of action"',
                {"actionState": "Failed", "notificationResource": arn, "stateUpdateTimestamp": _stamp(now)},
                now,
            )

    def message(self, alarm: Any, old_state: str, now: dt.datetime) -> dict[str, Any]:
        """The JSON message CloudWatch publishes to an SNS topic when an alarm changes state."""
        trigger: dict[str, Any] = {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "ExtendedStatistic" if alarm.extended_statistic else "Statistic",
        }
        if alarm.extended_statistic:
            trigger["ExtendedStatistic"] = alarm.extended_statistic
        else:
            trigger["Statistic"] = str(alarm.statistic or "Average").upper()
        trigger.update(
            {
                "Unit": alarm.unit,
                "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions or []],
                "Period": int(alarm.period or 60),
                "EvaluationPeriods": int(alarm.evaluation_periods or 1),
                "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods or 1),
                "ComparisonOperator": alarm.comparison_operator,
                "Threshold": float(alarm.threshold),
                "TreatMissingData": alarm.treat_missing_data or "missing",
                "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
            }
        )
        return {
            "AlarmName": alarm.name,
            "AlarmDescription": alarm.description,
            "AWSAccountId": self.sim.account_id,
            "AlarmConfigurationUpdatedTimestamp": _stamp(
                alarm.configuration_updated_timestamp.replace(tzinfo=dt.UTC)
            ),
            "NewStateValue": alarm.state_value,
            "NewStateReason": alarm.state_reason,
            "StateChangeTime": _stamp(now),
            "Region": region_description(self.sim.region),
            "AlarmArn": alarm.alarm_arn,
            "OldStateValue": old_state,
            "OKActions": list(alarm.ok_actions or []),
            "AlarmActions": list(alarm.alarm_actions or []),
            "InsufficientDataActions": list(alarm.insufficient_data_actions or []),
            "Trigger": trigger,
        }

    def _notify(self, alarm: Any, topic_arn: str, old_state: str, now: dt.datetime) -> None:
        message = self.message(alarm, old_state, now)
        subject = f'{alarm.state_value}: "{alarm.name}" in {message["Region"]}'[:100]
        details = {
            "actionState": "Succeeded",
            "notificationResource": topic_arn,
            "stateUpdateTimestamp": _stamp(now),
        }
        try:
            region = topic_arn.split(":")[3]
            sns = moto_seam.backend("sns", self.sim.account_id, region)
            sns.get_topic(topic_arn)
            message_id = sns.publish(json.dumps(message), arn=topic_arn, subject=subject)
            details["publishedMessage"] = json.dumps({"messageId": message_id})
            summary = f"Successfully executed action {topic_arn}"
        except Exception as exc:  # noqa: BLE001 - any failure is the action's, recorded in its history
            details["actionState"] = "Failed"
            details["error"] = str(getattr(exc, "message", exc))
            summary = f'Failed to execute action {topic_arn}. Received error: "{details["error"]}"'
        self.record(alarm.name, "Action", summary, details, now)

    # -- history ----------------------------------------------------------------------------

    def record(self, name: str, kind: str, summary: str, data: dict[str, Any], now: dt.datetime) -> None:
        """Add an alarm history item (DescribeAlarmHistory returns them)."""
        self.history.append(
            {
                "AlarmName": name,
                "AlarmType": "MetricAlarm",
                "Timestamp": now.astimezone(dt.UTC),
                "HistoryItemType": kind,
                "HistorySummary": summary,
                "HistoryData": json.dumps(data),
            }
        )

    def configured(self, name: str, created: bool, now: dt.datetime) -> None:
        """Record a PutMetricAlarm that created or updated an alarm."""
        self.record(
            name,
            "ConfigurationUpdate",
            f'Alarm "{name}" {"created" if created else "updated"}',
            {"version": "1.0", "type": "Create" if created else "Update"},
            now,
        )

    def describe_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeAlarmHistory over the recorded items."""
        items = list(self.history)
        name = params.get("AlarmName")
        if name:
            items = [i for i in items if i["AlarmName"] == name]
        kind = params.get("HistoryItemType")
        if kind:
            items = [i for i in items if i["HistoryItemType"] == kind]
        types = params.get("AlarmTypes")
        if types:
            items = [i for i in items if i["AlarmType"] in types]
        start, end = params.get("StartDate"), params.get("EndDate")
        if start is not None:
            items = [i for i in items if i["Timestamp"] >= _aware(start)]
        if end is not None:
            items = [i for i in items if i["Timestamp"] <= _aware(end)]
        # Items recorded at one instant keep the order they happened in.
        order = {id(item): index for index, item in enumerate(items)}
        items.sort(
            key=lambda i: (i["Timestamp"], order[id(i)]), reverse=params.get("ScanBy") != "TimestampAscending"
        )
        offset = int(params.get("NextToken") or 0)
        limit = int(params.get("MaxRecords") or 100)
        page = items[offset : offset + limit]
        result: dict[str, Any] = {"AlarmHistoryItems": page}
        if offset + limit < len(items):
            result["NextToken"] = str(offset + limit)
        return result


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=32)
def region_description(region: str) -> str:
    """A region's long name as CloudWatch writes it in alarm messages (botocore's endpoint data)."""
    import botocore.loaders

    data = botocore.loaders.Loader().load_data("endpoints")
    for partition in data.get("partitions", []):
        described = partition.get("regions", {}).get(region)
        if described is not None:
            return str(described.get("description", region))
    return region
