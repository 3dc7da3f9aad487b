"""moto.events: EventBridge rules on the sandbox clock, and PutEvents through the simulator.

In a sandbox account `PutEvents` routes through the simulator (disabled rules stay quiet, SNS and ECS
targets work, a failed delivery fails nothing); `PutRule`, `EnableRule`, `DisableRule` and
`DeleteRule` arm and disarm schedules; a schedule expression AWS would refuse is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for

__all__ = ["in_sandbox_region", "pattern_matches"]

_BACKEND = "moto.events.models.EventsBackend"

uses(
    "moto.events.exceptions",
    "ValidationException",
    ("message",),
    why="EventBridge's ValidationException",
)
uses(
    "moto.events.models.EventPattern",
    "__init__",
    ("self", "raw_pattern", "pattern"),
    why="moto's pattern matcher",
)
uses(
    "moto.events.models.EventPattern",
    "_does_event_match",
    ("self", "event_flat", "pattern_node"),
    why="moto's pattern filters over labkit's path selection",
)


def _invalid(message: str) -> Exception:
    from moto.events.exceptions import ValidationException

    return ValidationException(message)


def pattern_matches(pattern: dict[str, Any], flat: dict[str, Any]) -> bool:
    """Do the selected values of an event (`flat`, by path) pass moto's filters of `pattern`?"""
    from moto.events.models import EventPattern

    return bool(EventPattern(None, pattern)._does_event_match(flat, pattern))


def in_sandbox_region(backend: Any) -> Any:
    """The simulator of a backend's account when the backend is in the sandbox's region."""
    sim = simulator_for(backend.account_id)
    # The simulator runs its own region; another region keeps moto's behaviour.
    return sim if sim is not None and backend.region_name == sim.region else None


def _bus_name(event_bus_arn: str | None) -> str:
    return "default" if not event_bus_arn else str(event_bus_arn).split("/")[-1]


def _event_time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except (TypeError, ValueError):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@hook(
    _BACKEND,
    "put_rule",
    ("self", "name"),
    why="a schedule AWS would refuse is refused; the simulator arms schedules",
)
def put_rule(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.events import parse_schedule

    def handler(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        sim = in_sandbox_region(self)
        expression = kwargs.get("scheduled_expression")
        if sim is not None and expression:
            try:
                parse_schedule(str(expression))
            except ValueError as exc:
                raise _invalid(str(exc)) from None
        rule = original(self, name, *args, **kwargs)
        if sim is not None:
            sim.events.rule_changed(rule.event_bus_name, rule.name)
        return rule

    return handler


@hook(
    _BACKEND, "enable_rule", ("self", "name", "event_bus_arn"), why="the simulator arms the rule's schedule"
)
@hook(
    _BACKEND,
    "disable_rule",
    ("self", "name", "event_bus_arn"),
    why="the simulator disarms the rule's schedule",
)
@hook(
    _BACKEND,
    "delete_rule",
    ("self", "name", "event_bus_arn"),
    why="the simulator disarms the rule's schedule",
)
def rule_state(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, name: str, event_bus_arn: str | None) -> Any:
        result = original(self, name, event_bus_arn)
        sim = in_sandbox_region(self)
        if sim is not None:
            sim.events.rule_changed(_bus_name(event_bus_arn), name)
        return result

    return handler


@hook(
    _BACKEND,
    "put_events",
    ("self", "events"),
    why="PutEvents routes through the simulator (SNS and ECS targets work)",
)
def put_events(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sim = in_sandbox_region(self)
        if sim is None:
            result: list[dict[str, Any]] = original(self, events)
            return result
        if len(events) > 10:
            raise _invalid(
                "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to "
                "satisfy constraint: Member must have length less than or equal to 10"
            )
        entries: list[dict[str, Any]] = []
        for event in events:
            for field, label in (
                ("Source", "Source"),
                ("DetailType", "DetailType"),
                ("Detail", "Detail"),
            ):
                if not event.get(field):
                    entries.append(
                        {
                            "ErrorCode": "InvalidArgument",
                            "ErrorMessage": f"Parameter {label} is not valid. Reason: {label} is a required argument.",
                        }
                    )
                    break
            else:
                try:
                    detail = json.loads(event["Detail"])
                except ValueError:
                    detail = None
                if not isinstance(detail, dict):
                    entries.append({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
                    continue
                bus = _bus_name(event.get("EventBusName"))
                self.describe_event_bus(bus)  # ResourceNotFoundException for an unknown bus
                emitted = sim.events.emit(
                    str(event["Source"]),
                    str(event["DetailType"]),
                    detail,
                    list(event.get("Resources") or []),
                    bus=bus,
                    time=_event_time(event.get("Time")),
                )
                entries.append({"EventId": emitted["id"]})
        return entries

    return handler
