"""AWS schedule expressions: `at(...)`, `rate(...)` and 6-field `cron(...)`, for Application Auto
Scaling's scheduled actions and (rate and cron, in UTC) EventBridge's schedule rules.

`cron(Minutes Hours Day-of-month Month Day-of-week Year)` as AWS writes it: `*`, lists, ranges,
steps (`0/15`, `*/5`, `1-5/2`), month and weekday names (`JAN`, `MON-FRI`), `?` in one of the
two day fields, `L` (last day of the month; in the weekday field alone, Saturday; `6L` the last
Friday), `nW` (the weekday nearest day n), `n#k` (the k-th weekday n). Weekdays count 1..7 from
Sunday. Times are in the action's `Timezone` (IANA name, UTC by default; a rule's are UTC).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field

__all__ = ["Schedule", "ScheduleError", "parse_schedule"]

_MONTHS = {
    n: i
    for i, n in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1
    )
}
_DAYS = {n: i for i, n in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
#: How far ahead the next cron time is looked for (a year field may push it out).
_HORIZON_DAYS = 366 * 8


class ScheduleError(ValueError):
    """A schedule expression or time zone AWS would refuse."""


def _numbers(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ScheduleError(f"bad increment in {text!r}")
            step = int(step_text)
            if part in ("*", ""):
                part = f"{low}-{high}"
            elif "-" not in part:
                part = f"{part}-{high}"
        if part == "*":
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _one(first, low, high, names), _one(last, low, high, names)
        else:
            start = end = _one(part, low, high, names)
        if start > end:
            raise ScheduleError(f"range {part!r} goes backwards")
        values.update(range(start, end + 1, step))
    return values


def _one(text: str, low: int, high: int, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    if not text.isdigit():
        raise ScheduleError(f"{text!r} is not a value between {low} and {high}")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{value} is outside {low}..{high}")
    return value


@dataclass
class _Cron:
    minutes: list[int]
    hours: list[int]
    months: set[int]
    years: set[int]
    dom: str
    dow: str
    dom_values: set[int] = field(default_factory=set)
    dow_values: set[int] = field(default_factory=set)

    def day_matches(self, day: dt.date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        last = calendar.monthrange(day.year, day.month)[1]
        aws_weekday = (day.weekday() + 1) % 7 + 1  # 1 = Sunday .. 7 = Saturday
        if self.dom != "?":
            if self.dom == "L":
                return day.day == last
            if self.dom == "LW":
                return day == _nearest_weekday(day.replace(day=last))
            if self.dom.endswith("W"):
                wanted = min(int(self.dom[:-1]), last)
                return day == _nearest_weekday(day.replace(day=wanted))
            return day.day in self.dom_values
        if self.dow == "L":
            return aws_weekday == 7
        if self.dow.endswith("L"):
            return aws_weekday == _one(self.dow[:-1], 1, 7, _DAYS) and day.day + 7 > last
        if "#" in self.dow:
            weekday, nth = self.dow.split("#", 1)
            return aws_weekday == _one(weekday, 1, 7, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
        return aws_weekday in self.dow_values


def _nearest_weekday(day: dt.date) -> dt.date:
    """The weekday nearest `day` in its month (the `W` rule)."""
    if day.weekday() == 5:  # Saturday: Friday, unless that is in the previous month
        return day - dt.timedelta(days=1) if day.day > 1 else day + dt.timedelta(days=2)
    if day.weekday() == 6:
        last = calendar.monthrange(day.year, day.month)[1]
        return day + dt.timedelta(days=1) if day.day < last else day - dt.timedelta(days=2)
    return day


@dataclass
class Schedule:
    """A parsed schedule: `next_after(instant)` is when it fires next (None: never again)."""

    expression: str
    timezone: zoneinfo.ZoneInfo
    at: dt.datetime | None = None
    every: float | None = None
    cron: _Cron | None = None

    def next_after(self, after: dt.datetime, first: dt.datetime | None = None) -> dt.datetime | None:
        """The first firing strictly after `after` (a `rate` fires at `first`, then every interval)."""
        if self.at is not None:
            return self.at if self.at > after else None
        if self.every is not None:
            start = first or after + dt.timedelta(seconds=self.every)
            if start > after:
                return start
            steps = int((after - start).total_seconds() // self.every) + 1
            return start + dt.timedelta(seconds=steps * self.every)
        assert self.cron is not None
        local = after.astimezone(self.timezone)
        day = local.date()
        for _ in range(_HORIZON_DAYS):
            if self.cron.day_matches(day):
                for hour in self.cron.hours:
                    for minute in self.cron.minutes:
                        candidate = dt.datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=self.timezone
                        )
                        if candidate.astimezone(dt.UTC) > after:
                            return candidate.astimezone(dt.UTC)
            day += dt.timedelta(days=1)
            if day.year > 2199:
                break
        return None


def parse_schedule(expression: str, timezone: str | None = None) -> Schedule:
    """Parse a PutScheduledAction `Schedule`; raises `ScheduleError` for what AWS refuses."""
    try:
        zone = zoneinfo.ZoneInfo(timezone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"time zone {timezone!r} is not an IANA time zone") from exc
    text = (expression or "").strip()
    match = re.fullmatch(r"(at|rate|cron)\((.*)\)", text)
    if not match:
        raise ScheduleError("a schedule is at(...), rate(...) or cron(...)")
    kind, body = match.group(1), match.group(2).strip()
    if kind == "at":
        try:
            moment = dt.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S")
        except ValueError as exc:
            raise ScheduleError("at(...) takes yyyy-mm-ddThh:mm:ss") from exc
        return Schedule(text, zone, at=moment.replace(tzinfo=zone).astimezone(dt.UTC))
    if kind == "rate":
        parts = body.split()
        if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < 1 or parts[1] not in _UNITS:
            raise ScheduleError("rate(...) takes a positive whole number and minute(s), hour(s) or day(s)")
        value, unit = int(parts[0]), parts[1]
        if (value == 1) != (unit in ("minute", "hour", "day")):
            raise ScheduleError("rate(1 unit) is singular, other values plural")
        return Schedule(text, zone, every=float(value * _UNITS[unit]))
    fields = body.split()
    if len(fields) != 6:
        raise ScheduleError("cron(...) has six fields: minutes hours day-of-month month day-of-week year")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleError("exactly one of day-of-month and day-of-week must be ?")
    cron = _Cron(
        minutes=sorted(_numbers(minutes, 0, 59)),
        hours=sorted(_numbers(hours, 0, 23)),
        months=_numbers(month, 1, 12, _MONTHS),
        years=_numbers(year, 1970, 2199),
        dom=dom.upper(),
        dow=dow.upper(),
    )
    if dom != "?" and not (cron.dom in ("L", "LW") or cron.dom.endswith("W")):
        cron.dom_values = _numbers(dom, 1, 31)
    elif cron.dom.endswith("W") and cron.dom != "LW":
        _one(cron.dom[:-1], 1, 31, None)
    if dow != "?" and cron.dow != "L" and not cron.dow.endswith("L") and "#" not in cron.dow:
        cron.dow_values = _numbers(dow, 1, 7, _DAYS)
    elif "#" in cron.dow:
        weekday, nth = cron.dow.split("#", 1)
        _one(weekday, 1, 7, _DAYS)
        _one(nth, 1, 5, None)
    return Schedule(text, zone, cron=cron)
