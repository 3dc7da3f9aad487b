"""EventBridge in the simulator: schedule rules on the sandbox clock, event routing, targets.

moto stores rules and never runs a schedule; its `put_events` sends to a few target kinds and raises
for SNS and ECS targets; it fires disabled rules. Here every event (from `PutEvents`, from a
schedule, from S3 and ECS in the emulator) goes through `EventsSimulator.emit`: the enabled rules of
its bus whose pattern matches it deliver it to each target (SQS, SNS, ECS RunTask, another bus,
CloudWatch Logs), after `Input`, `InputPath` or `InputTransformer`. Delivery happens on the
simulator's timeline at the event's instant (EventBridge is asynchronous); a failed delivery is
recorded in `failed_invocations` and never fails the request that caused it.

Schedules follow the EventBridge rules: `rate(value unit)` (minute/minutes, hour/hours, day/days,
singular only for 1) fires one period after the rule is created or enabled, then every period;
`cron(minutes hours day-of-month month day-of-week year)` in UTC with `, - * / ?` in every field,
`L` and `W` in day-of-month, `L` and `#` in day-of-week (1-7 = SUN-SAT), one of the two day fields
`?`. A rule fires exactly when due by the sandbox clock.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam
from labkit.sandbox.simulator import schedules

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator, _Due

__all__ = [
    "EventSchedule",
    "EventsSimulator",
    "matches_pattern",
    "parse_schedule",
    "target_input",
]

log = logging.getLogger("labkit.simulator.events")

INVALID_SCHEDULE = "Parameter ScheduleExpression is not valid."


# -- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSchedule:
    """A rule's `rate(...)` or `cron(...)` (UTC), parsed by the one schedule grammar the sandbox has
    (`labkit.sandbox.simulator.schedules`, shared with Application Auto Scaling); a rate counts from
    when the rule was created or enabled."""

    schedule: schedules.Schedule

    def next_after(self, instant: dt.datetime, anchor: dt.datetime) -> dt.datetime | None:
        """The first firing strictly after `instant` for a rule anchored (created or enabled) at `anchor`."""
        every = self.schedule.every
        first = anchor + dt.timedelta(seconds=every) if every is not None else None
        return self.schedule.next_after(instant, first)


def parse_schedule(expression: str) -> EventSchedule:
    """Parse a rule's `rate(...)` or `cron(...)` expression; raises `ValueError` with AWS's message
    (EventBridge rules take no `at(...)`)."""
    text = expression.strip()
    if not text.startswith(("rate(", "cron(")):
        raise ValueError(INVALID_SCHEDULE)
    try:
        return EventSchedule(schedules.parse_schedule(text))
    except schedules.ScheduleError:
        raise ValueError(INVALID_SCHEDULE) from None


# -- patterns -------------------------------------------------------------------------------


def _select(pattern: dict[str, Any], node: Any, prefix: str, result: dict[str, Any]) -> None:
    """Collect the event's values at the paths `pattern` names, as dotted keys for moto's matcher.

    An array of objects on the way contributes each member's field (ECS events' `containers`),
    as AWS matches them; an object where the pattern expects values is no value (AWS matches leaves).
    """
    for key, sub in pattern.items():
        if key == "$or" and isinstance(sub, list):
            for alternative in sub:
                if isinstance(alternative, dict):
                    _select(alternative, node, prefix, result)
            continue
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(node, dict):
            children = [node[key]] if key in node else []
        elif isinstance(node, list):
            children = [member[key] for member in node if isinstance(member, dict) and key in member]
        else:
            children = []
        for child in children:
            if isinstance(sub, dict):
                _select(sub, child, path, result)
                continue
            if isinstance(child, dict) and child:
                continue
            if isinstance(child, list):
                scalars = [v for v in child if not isinstance(v, dict)]
                if child and not scalars:
                    continue
                child = scalars
            if path not in result:
                result[path] = child
            else:
                existing = result[path]
                merged = list(existing) if isinstance(existing, list) else [existing]
                merged.extend(child if isinstance(child, list) else [child])
                result[path] = merged


def matches_pattern(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """Does `event` match an EventBridge event pattern (moto's filters over labkit's path selection)?

    moto's matcher is used for the filters (exact values, prefix, suffix, anything-but, numeric,
    exists, cidr, wildcard, equals-ignore-case, `$or`); its flattening skips arrays of objects
    (ECS events' `containers`), which AWS matches member by member, so labkit selects the values.
    """
    if not pattern:
        return True
    flat: dict[str, Any] = {}
    _select(pattern, event, "", flat)
    return moto_seam.events.pattern_matches(pattern, flat)


# -- target input ---------------------------------------------------------------------------


def _json_path(document: Any, path: str) -> tuple[bool, Any]:
    """Evaluate the JSON path subset EventBridge supports; return (found, value)."""
    from jsonpath_ng.ext.parser import parse

    if path.strip() == "$":
        return True, document
    matches = parse(path).find(document)
    if not matches:
        return False, None
    if len(matches) == 1 and "*" not in path:
        return True, matches[0].value
    return True, [m.value for m in matches]


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _transform(transformer: dict[str, Any], event: dict[str, Any], rule: Any, ingested: dt.datetime) -> str:
    """Fill an InputTemplate with InputPathsMap values, as EventBridge does.

    A placeholder inside a JSON string gets the value's text (a string unquoted, anything else as
    JSON), JSON-escaped; elsewhere it gets the value as JSON (a string in quotes). A path that is
    not in the event gives null outside a string and nothing inside one.
    """
    values: dict[str, tuple[bool, Any]] = {}
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        values[name] = _json_path(event, path)
    without_detail = {k: v for k, v in event.items() if k != "detail"}
    values["aws.events.rule-arn"] = (True, rule.arn)
    values["aws.events.rule-name"] = (True, rule.name)
    values["aws.events.event.ingestion-time"] = (True, _iso(ingested))
    values["aws.events.event"] = (True, without_detail)
    values["aws.events.event.json"] = (True, event)
    template = str(transformer.get("InputTemplate") or "")
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "\\" and i + 1 < len(template):
            out.append(template[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        elif ch == "<":
            end = template.find(">", i + 1)
            name = template[i + 1 : end] if end > i else ""
            if name in values:
                found, value = values[name]
                if in_string:
                    text = "" if not found else value if isinstance(value, str) else json.dumps(value)
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(json.dumps(value) if found else "null")
                i = end + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Any, ingested: dt.datetime) -> str:
    """The text a target receives: `Input`, the `InputPath` value, the transformed template, or the event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        found, value = _json_path(event, str(target["InputPath"]))
        return json.dumps(value if found else None)
    transformer = target.get("InputTransformer")
    if transformer:
        return _transform(transformer, event, rule, ingested)
    return json.dumps(event)


# -- the router -----------------------------------------------------------------------------


@dataclass
class _ScheduledRule:
    key: tuple[str, str]
    expression: str
    schedule: EventSchedule
    anchor: dt.datetime
    due: _Due | None = None


@dataclass
class FailedInvocation:
    """A delivery that did not reach its target (what CloudWatch counts as FailedInvocations)."""

    rule_arn: str
    target_id: str
    target_arn: str
    time: dt.datetime
    error: str


@dataclass
class EventsSimulator:
    """Routes one account's events to its rules' targets and fires its schedule rules on the clock."""

    sim: Simulator
    schedules: dict[tuple[str, str], _ScheduledRule] = field(default_factory=dict)
    failed_invocations: list[FailedInvocation] = field(default_factory=list)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    _alarm_states: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def backend(self) -> Any:
        return moto_seam.backend("events", self.sim.account_id, self.sim.region)

    # -- rules on the clock ---------------------------------------------------------------

    def rule_changed(self, bus: str, name: str) -> None:
        """A rule was put, enabled, disabled or deleted: (re)arm or drop its schedule."""
        # Alarm state changes become events once a rule could hear them.
        self._hook_alarms()
        key = (bus, name)
        rule = self._rule(bus, name)
        current = self.schedules.get(key)
        active = rule is not None and rule.scheduled_expression and rule.state == "ENABLED"
        if current is not None and (not active or current.expression != rule.scheduled_expression):
            if current.due is not None:
                current.due.cancelled = True
            del self.schedules[key]
            current = None
        if active and current is None:
            assert rule is not None
            expression = str(rule.scheduled_expression)
            entry = _ScheduledRule(key, expression, parse_schedule(expression), self.sim.now())
            self.schedules[key] = entry
            self._arm(entry, self.sim.now())

    # -- CloudWatch alarms -----------------------------------------------------------------

    def _hook_alarms(self) -> None:
        """Listen to the alarm simulator's state changes (once), when the simulator has one."""
        alarms = getattr(self.sim, "alarms", None)
        listeners = getattr(alarms, "state_listeners", None)
        if isinstance(listeners, list) and self.alarm_state_changed not in listeners:
            listeners.append(self.alarm_state_changed)

    def alarm_state_changed(self, alarm: Any, old_state: str, new_state: str, instant: dt.datetime) -> None:
        """Put a `CloudWatch Alarm State Change` event (source `aws.cloudwatch`) on the default bus."""

        def stamp(moment: Any) -> str:
            if isinstance(moment, dt.datetime):
                aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
                return str(aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]) + "+0000"
            return ""

        previous = self._alarm_states.get(alarm.alarm_arn) or {
            "reason": "Unchecked: Initial alarm creation",
            "timestamp": stamp(getattr(alarm, "configuration_updated_timestamp", None)),
            "value": old_state,
        }
        state: dict[str, Any] = {
            "reason": str(alarm.state_reason or ""),
            "timestamp": stamp(instant),
            "value": new_state,
        }
        if alarm.state_reason_data and alarm.state_reason_data != "{}":
            state["reasonData"] = str(alarm.state_reason_data)
        self._alarm_states[alarm.alarm_arn] = state
        configuration: dict[str, Any] = {"description": alarm.description or ""}
        if alarm.metric_name:
            configuration["metrics"] = [
                {
                    "id": str(uuid.UUID(int=self.sim.random.getrandbits(128))),
                    "metricStat": {
                        "metric": {
                            "dimensions": {d.name: d.value for d in alarm.dimensions or []},
                            "name": alarm.metric_name,
                            "namespace": alarm.namespace,
                        },
                        "period": int(alarm.period or 60),
                        "stat": alarm.statistic or alarm.extended_statistic,
                    },
                    "returnData": True,
                }
            ]
        detail = {
            "alarmName": alarm.name,
            "configuration": configuration,
            "previousState": {**previous, "value": old_state},
            "state": state,
        }
        if self.has_rules():
            self.emit(
                "aws.cloudwatch", "CloudWatch Alarm State Change", detail, [alarm.alarm_arn], time=instant
            )

    def _rule(self, bus: str, name: str) -> Any:
        event_bus = self.backend.event_buses.get(bus)
        return None if event_bus is None else event_bus.rules.get(name)

    def _arm(self, entry: _ScheduledRule, after: dt.datetime) -> None:
        moment = entry.schedule.next_after(after, entry.anchor)
        if moment is None:
            entry.due = None
            return
        entry.due = self.sim.schedule(moment, lambda: self._fire(entry, moment), f"schedule:{entry.key[1]}")

    def _fire(self, entry: _ScheduledRule, moment: dt.datetime) -> None:
        if self.schedules.get(entry.key) is not entry:
            return
        try:
            rule = self._rule(*entry.key)
            if rule is not None and rule.state == "ENABLED":
                event = self._event(
                    source="aws.events",
                    detail_type="Scheduled Event",
                    detail={},
                    resources=[rule.arn],
                    time=moment,
                )
                self._deliver_to_rule(rule, event, moment)
        finally:
            # A firing that failed (contained by the timeline) does not end the schedule.
            self.sim.contained(
                f"schedule of rule {entry.key[1]} (next firing)", lambda: self._arm(entry, moment)
            )

    # -- events ---------------------------------------------------------------------------

    def _event(
        self,
        *,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str],
        time: dt.datetime | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "version": "0",
            "id": event_id or str(uuid.UUID(int=self.sim.random.getrandbits(128))),
            "detail-type": detail_type,
            "source": source,
            "account": self.sim.account_id,
            "time": _iso(time or self.sim.now()),
            "region": self.sim.region,
            "resources": list(resources),
            "detail": detail,
        }

    def emit(
        self,
        source: str,
        detail_type: str,
        detail: dict[str, Any],
        resources: list[str] | None = None,
        *,
        bus: str = "default",
        time: dt.datetime | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """Put an event on a bus; matching enabled rules deliver it on the timeline, at once."""
        event = self._event(
            source=source,
            detail_type=detail_type,
            detail=detail,
            resources=resources or [],
            time=time,
            event_id=event_id,
        )
        if self.has_rules(bus):
            self.sim.after(0, functools.partial(self._route_later, event, bus), f"event:{detail_type}")
        return event

    def has_rules(self, bus: str = "default") -> bool:
        """Does `bus` have any rule (events for a bus without rules go nowhere)?"""
        event_bus = self.backend.event_buses.get(bus)
        return bool(event_bus is not None and event_bus.rules)

    def _route_later(self, event: dict[str, Any], bus: str) -> None:
        self.route(event, bus)

    def route(self, event: dict[str, Any], bus: str = "default") -> int:
        """Deliver an event to every enabled rule of `bus` whose pattern matches; return how many matched."""
        event_bus = self.backend.event_buses.get(bus)
        if event_bus is None:
            return 0
        matched = 0
        now = self.sim.now()
        for rule in list(event_bus.rules.values()):
            if rule.state != "ENABLED" or (
                rule.scheduled_expression and not rule.event_pattern.get_pattern()
            ):
                continue
            try:
                if not matches_pattern(rule.event_pattern.get_pattern(), event):
                    continue
            except Exception as exc:  # noqa: BLE001 - one rule's fault leaves the others matched
                self.sim.contain(f"rule {rule.name} (matching an event)", exc)
                continue
            matched += 1
            self._deliver_to_rule(rule, event, now)
        return matched

    def _deliver_to_rule(self, rule: Any, event: dict[str, Any], now: dt.datetime) -> None:
        for target in list(rule.targets):
            try:
                payload = target_input(target, event, rule, now)
                self._deliver(rule, target, payload, event)
                self.delivered.append({"rule": rule.name, "target": target["Id"], "input": payload})
            except Exception as exc:  # noqa: BLE001 - any failure is a failed invocation
                # EventBridge retries and then counts a failed invocation; the event's source never sees it.
                log.info("delivery of %s to %s failed: %s", event.get("id"), target.get("Arn"), exc)
                self.failed_invocations.append(
                    FailedInvocation(rule.arn, str(target.get("Id")), str(target.get("Arn")), now, str(exc))
                )

    def _deliver(self, rule: Any, target: dict[str, Any], payload: str, event: dict[str, Any]) -> None:
        arn = str(target["Arn"])
        parts = arn.split(":", 5)
        service = parts[2] if len(parts) > 2 else ""
        resource = parts[5] if len(parts) > 5 else ""
        handler: Callable[[Any, dict[str, Any], str, str, dict[str, Any]], None] | None = {
            "sqs": self._to_sqs,
            "sns": self._to_sns,
            "ecs": self._to_ecs,
            "events": self._to_bus,
            "logs": self._to_logs,
        }.get(service)
        if handler is None:
            raise ValueError(f"the sandbox does not deliver to {service or arn} targets")
        handler(rule, target, payload, resource, event)

    def _to_sqs(self, rule: Any, target: dict[str, Any], payload: str, resource: str, event: Any) -> None:
        group = (target.get("SqsParameters") or {}).get("MessageGroupId")
        moto_seam.backend("sqs", self.sim.account_id, self.sim.region).send_message(
            queue_name=resource, message_body=payload, group_id=group
        )

    def _to_sns(self, rule: Any, target: dict[str, Any], payload: str, resource: str, event: Any) -> None:
        moto_seam.backend("sns", self.sim.account_id, self.sim.region).publish(
            message=payload, arn=str(target["Arn"])
        )

    def _to_bus(self, rule: Any, target: dict[str, Any], payload: str, resource: str, event: Any) -> None:
        if not resource.startswith("event-bus/"):
            raise ValueError(f"the sandbox does not deliver to {target['Arn']}")
        self.route(event, resource.split("/", 1)[1])

    def _to_logs(self, rule: Any, target: dict[str, Any], payload: str, resource: str, event: Any) -> None:
        group = resource.split(":", 1)[1] if resource.startswith("log-group:") else resource
        group = group.removesuffix(":*")
        backend = moto_seam.backend("logs", self.sim.account_id, self.sim.region)
        stream = str(uuid.UUID(int=self.sim.random.getrandbits(128)))
        backend.create_log_stream(group, stream)
        millis = int(self.sim.now().timestamp() * 1000)
        backend.put_log_events(group, stream, [{"timestamp": millis, "message": payload}])

    def _to_ecs(self, rule: Any, target: dict[str, Any], payload: str, resource: str, event: Any) -> None:
        """RunTask with the target's EcsParameters; the input, when JSON, is the task's overrides."""
        params = target.get("EcsParameters") or {}
        if not params.get("TaskDefinitionArn"):
            raise ValueError("an ECS target needs EcsParameters.TaskDefinitionArn")
        backend = self.sim.ecs.backend
        cluster = moto_seam.ecs.cluster(backend, resource.split("/", 1)[-1])
        definition = backend.describe_task_definition(params["TaskDefinitionArn"])
        overrides: dict[str, Any] = {}
        if target.get("Input") is not None or target.get("InputPath") or target.get("InputTransformer"):
            try:
                parsed = json.loads(payload)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                overrides = {
                    k: v
                    for k, v in parsed.items()
                    if k
                    in (
                        "containerOverrides",
                        "cpu",
                        "memory",
                        "taskRoleArn",
                        "executionRoleArn",
                        "ephemeralStorage",
                    )
                }
        awsvpc = (params.get("NetworkConfiguration") or {}).get("awsvpcConfiguration") or {}
        network = None
        if awsvpc:
            network = {
                "awsvpcConfiguration": {
                    "subnets": list(awsvpc.get("Subnets") or []),
                    "securityGroups": list(awsvpc.get("SecurityGroups") or []),
                    "assignPublicIp": awsvpc.get("AssignPublicIp", "DISABLED"),
                }
            }
            if (
                not network["awsvpcConfiguration"]["securityGroups"]
                and network["awsvpcConfiguration"]["subnets"]
            ):
                ec2 = self.sim.ecs.ec2
                subnet = ec2.get_subnet(network["awsvpcConfiguration"]["subnets"][0])
                default = ec2.get_default_security_group(subnet.vpc_id)
                network["awsvpcConfiguration"]["securityGroups"] = [default.id] if default else []
        launch_type = params.get("LaunchType") or "EC2"
        if (definition.network_mode or "") == "awsvpc" and network is None:
            raise ValueError("the task definition uses awsvpc, so the target needs NetworkConfiguration")
        tags = [{"key": t["Key"], "value": t["Value"]} for t in params.get("Tags") or []]
        started, failures = self.sim.ecs.place_and_start(
            cluster=cluster,
            definition=definition,
            launch_type=launch_type,
            count=int(params.get("TaskCount") or 1),
            group=params.get("Group") or f"family:{definition.family}",
            strategies=[
                {"type": s["type"], "field": s.get("field")} for s in params.get("PlacementStrategy") or []
            ]
            or None,
            constraints=[
                {k: v for k, v in c.items() if v is not None}
                for c in params.get("PlacementConstraints") or []
            ]
            or None,
            network_configuration=network,
            started_by=f"events-rule/{rule.name}"[:128],
            overrides=copy.deepcopy(overrides),
            tags=tags,
        )
        for runtime in started:
            if params.get("PlatformVersion") and launch_type == "FARGATE":
                runtime.task.platform_version = params["PlatformVersion"]
        if failures and not started:
            raise ValueError(f"RunTask placed no task: {failures[0].get('reason')}")
