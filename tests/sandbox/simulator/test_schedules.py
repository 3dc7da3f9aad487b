"""Schedule expressions of Application Auto Scaling scheduled actions: at, rate and 6-field cron."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from labkit.sandbox.simulator.schedules import ScheduleError, parse_schedule

UTC = dt.UTC
AFTER = dt.datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # a Wednesday


def _next(expression: str, zone: str | None = None, after: dt.datetime = AFTER) -> dt.datetime | None:
    return parse_schedule(expression, zone).next_after(after)


def test_cron_in_a_time_zone_is_converted_to_utc() -> None:
    """09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer."""
    assert _next("cron(0 9 * * ? *)", "Europe/Paris") == dt.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    summer = dt.datetime(2026, 7, 1, tzinfo=UTC)
    assert _next("cron(0 9 * * ? *)", "Europe/Paris", summer) == dt.datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_weekday_names_ranges_and_steps() -> None:
    """MON-FRI skips the weekend; 0/15 is every quarter hour; weekdays count from Sunday = 1."""
    friday_evening = dt.datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert _next("cron(0 8 ? * MON-FRI *)", after=friday_evening) == dt.datetime(
        2026, 12, 7, 8, 0, tzinfo=UTC
    )
    assert _next("cron(0/15 * * * ? *)") == dt.datetime(2026, 12, 2, 1, 45, tzinfo=UTC)
    assert _next("cron(0 12 ? * 1 *)") == dt.datetime(2026, 12, 6, 12, 0, tzinfo=UTC)  # Sunday


def test_last_day_nth_weekday_and_year() -> None:
    """L is the month's last day, 6#1 the first Friday, 6L the last Friday; a year outside the range never fires."""
    assert _next("cron(30 23 L * ? *)") == dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert _next("cron(0 10 ? * 6#1 *)") == dt.datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert _next("cron(0 10 ? * 6L *)") == dt.datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    assert _next("cron(0 10 * * ? 2025)") is None


def test_at_and_rate() -> None:
    """at() fires once at its local time; rate() every interval from its first time."""
    assert _next("at(2026-12-24T18:00:00)", "America/New_York") == dt.datetime(
        2026, 12, 24, 23, 0, tzinfo=UTC
    )
    assert _next("at(2020-01-01T00:00:00)") is None
    schedule = parse_schedule("rate(5 minutes)")
    first = dt.datetime(2026, 12, 2, 1, 35, tzinfo=UTC)
    assert schedule.next_after(AFTER, first) == first
    assert schedule.next_after(first, first) == dt.datetime(2026, 12, 2, 1, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "zone"),
    [
        ("cron(0 9 * * MON *)", None),  # both day fields set
        ("cron(0 9 * * ?)", None),  # five fields
        ("cron(61 9 * * ? *)", None),
        ("rate(1 minutes)", None),
        ("rate(0 hours)", None),
        ("at(2026-12-24 18:00)", None),
        ("every day", None),
        ("cron(0 9 * * ? *)", "Nowhere/Town"),
    ],
)
def test_what_aws_refuses(expression: str, zone: str | None) -> None:
    """Malformed expressions and unknown time zones raise ScheduleError."""
    with pytest.raises(ScheduleError):
        parse_schedule(expression, zone)


class TestStepArithmetic:
    """Step adjustments and capacity changes as Application Auto Scaling computes them."""

    STEPS: typing.ClassVar[list[dict[str, float]]] = [
        {"MetricIntervalUpperBound": -10, "ScalingAdjustment": -2},
        {"MetricIntervalLowerBound": -10, "MetricIntervalUpperBound": 0, "ScalingAdjustment": -1},
        {"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 10, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 10, "ScalingAdjustment": 3},
    ]

    def test_bounds_are_inclusive_on_the_side_of_the_threshold_aws_says(self) -> None:
        """Above the threshold the lower bound is inclusive; below it the upper bound is."""
        from labkit.sandbox.simulator.autoscaling import choose_step

        def pick(metric: float) -> int:
            step = choose_step(self.STEPS, metric, 50.0)
            assert step is not None
            return int(step["ScalingAdjustment"])

        assert [pick(m) for m in (50, 59.9, 60, 100, 49.9, 40.1, 40, 0)] == [1, 1, 3, 3, -1, -1, -2, -2]

    def test_percent_change_rounds_toward_zero_but_moves_at_least_one(self) -> None:
        """+25 % of 10 is +2; +5 % of 10 is +1 (0.5 rounds to 1); -25 % of 10 is -2; a minimum magnitude of 3 wins."""
        from labkit.sandbox.simulator.autoscaling import adjusted

        assert adjusted(10, "PercentChangeInCapacity", 25) == 12
        assert adjusted(10, "PercentChangeInCapacity", 5) == 11
        assert adjusted(10, "PercentChangeInCapacity", -25) == 8
        assert adjusted(10, "PercentChangeInCapacity", 25, 3) == 13
        assert adjusted(10, "ChangeInCapacity", -3) == 7
        assert adjusted(10, "ExactCapacity", 4) == 4
