"""Elastic Load Balancing in the simulator: target health on the clock, and listeners on loopback.

A target is `initial` until `HealthyThresholdCount` consecutive checks pass at the target group's
interval, `unhealthy` after `UnhealthyThresholdCount` failures, and `draining` for the
deregistration delay once deregistered. A check is a real HTTP request to the stand-in server of
the task behind the target, on the target group's health check path and matcher. Each listener
has a loopback port that forwards requests round-robin to the healthy targets of the target
group its rules choose: rules in priority order, the first whose conditions all match (path-pattern
and host-header; a rule with another condition type never matches here), else the default action.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.dataplane.listener import ListenerProxy, Target
    from labkit.sandbox.simulator.core import Simulator
    from labkit.sandbox.simulator.ecs import TaskRuntime

__all__ = ["ElbSimulator", "TargetRecord"]

TargetKey = tuple[str, str, int]  # (target group arn, target id, port)

#: The ECS service scheduler acts on an unhealthy target this many seconds after ELB reports it
#: (it polls target health; on AWS a learner sees the target `unhealthy` before the task stops).
UNHEALTHY_NOTICE_SECONDS = 15.0


@dataclass
class TargetRecord:
    """The health state of one registered target."""

    key: TargetKey
    registered_at: dt.datetime
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    passes: int = 0
    failures: int = 0
    draining_until: dt.datetime | None = None
    unhealthy_since: dt.datetime | None = None
    active: bool = True


class ElbSimulator:
    """Health checks, draining and listeners for one sandbox's load balancers."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.records: dict[TargetKey, TargetRecord] = {}
        self.listeners: dict[str, ListenerProxy] = {}
        self._round_cache: dict[tuple[str, str, str], tuple[bool, str | None, str]] | None = None

    @property
    def backend(self) -> Any:
        return moto_seam.backend("elbv2", self.sim.account_id, self.sim.region)

    # -- rounds: one HTTP check per target per catch-up, whatever the clock jumped ----------

    def begin_round(self) -> None:
        self._round_cache = {}

    def end_round(self) -> None:
        self._round_cache = None

    # -- registration -----------------------------------------------------------------------

    def registered(self, target_group_arn: str, target_id: str, port: int) -> None:
        """A target was registered (by a client or by ECS): start its health checks."""
        key = (target_group_arn, target_id, int(port))
        record = TargetRecord(key=key, registered_at=self.sim.now())
        previous = self.records.get(key)
        if previous is not None:
            previous.active = False
        self.records[key] = record
        group = self.backend.target_groups.get(target_group_arn)
        interval = int(getattr(group, "health_check_interval_seconds", 30) or 30)
        # The first check follows registration closely; later ones come at the interval.
        self._check_later(record, min(interval, 5))

    def _check_later(self, record: TargetRecord, seconds: float) -> None:
        self.sim.after(
            seconds,
            lambda: self._check(record),
            f"health check of {record.key[1]}:{record.key[2]}",
            on_error=functools.partial(self._check_failed, record),
        )

    def _check_failed(self, record: TargetRecord, exc: Exception) -> None:
        """A health check raised: the target is unhealthy with AWS's `Elb.InternalError`, checked again later."""
        if not record.active or record.state == "draining" or self.records.get(record.key) is not record:
            return
        if record.state != "unhealthy":
            record.unhealthy_since = self.sim.now()
            self.sim.ecs.touch_all()
        record.state, record.reason = "unhealthy", "Elb.InternalError"
        record.description = (
            f"Health checks failed due to an internal error (labkit fault: {type(exc).__name__})"
        )
        group = self.backend.target_groups.get(record.key[0])
        interval = int(getattr(group, "health_check_interval_seconds", 30) or 30)
        # Back off: a check that keeps failing runs at most every 5 intervals.
        self._check_later(record, interval * 5)

    def deregistered(self, target_group_arn: str, target_id: str, port: int | None) -> float:
        """A target was deregistered: it drains for the deregistration delay; returns that delay."""
        delay = self._deregistration_delay(target_group_arn)
        for key, record in list(self.records.items()):
            if (
                key[0] == target_group_arn
                and key[1] == target_id
                and (port is None or key[2] == port)
                and record.active
            ):
                record.state, record.reason = "draining", "Target.DeregistrationInProgress"
                record.description = "Target deregistration is in progress"
                record.draining_until = self.sim.now() + dt.timedelta(seconds=delay)
                self.sim.after(delay, functools.partial(self._forget, record), "draining-done")
        return delay

    def _forget(self, record: TargetRecord) -> None:
        if self.records.get(record.key) is record and record.state == "draining":
            record.active = False
            del self.records[record.key]
            group = self.backend.target_groups.get(record.key[0])
            if group is not None:
                from labkit.sandbox.simulator.targets import target_key

                group.targets.pop(target_key(record.key[1], record.key[2]), None)

    def _deregistration_delay(self, target_group_arn: str) -> float:
        group = self.backend.target_groups.get(target_group_arn)
        if group is None:
            return 0.0
        return float(group.attributes.get("deregistration_delay.timeout_seconds", 300))

    def unhealthy_for(self, target_group_arn: str, target_id: str, port: int) -> float:
        """Seconds a target has been unhealthy (0 when it is not)."""
        record = self.records.get((target_group_arn, target_id, int(port)))
        if record is None or record.state != "unhealthy" or record.unhealthy_since is None:
            return 0.0
        return (self.sim.now() - record.unhealthy_since).total_seconds()

    def state(self, target_group_arn: str, target_id: str, port: int) -> tuple[str, str | None, str | None]:
        """Return (state, reason code, description) of a target, as DescribeTargetHealth shows it."""
        record = self.records.get((target_group_arn, target_id, int(port)))
        if record is None:
            return ("unused", "Target.NotRegistered", "Target is not registered to the target group")
        instance_state = self._instance_state(target_id)
        if instance_state in ("stopping", "stopped"):
            # AWS does not health-check a stopped instance: it is unused until it runs again.
            return ("unused", "Target.InvalidState", f"Target is in the {instance_state} state")
        return (record.state, record.reason, record.description)

    # -- health checks ----------------------------------------------------------------------

    def _check(self, record: TargetRecord) -> None:
        if not record.active or record.state == "draining" or self.records.get(record.key) is not record:
            return
        group = self.backend.target_groups.get(record.key[0])
        if group is None:
            return
        provisioning = self._provisioning_until(group)
        if provisioning is not None:
            # A load balancer still provisioning sends no health checks: the target stays `initial`.
            self._check_later(record, max(1.0, (provisioning - self.sim.now()).total_seconds()))
            return
        healthy, reason, description = self._probe(group, record.key)
        before = record.state
        healthy_threshold = int(group.healthy_threshold_count or 5)
        unhealthy_threshold = int(group.unhealthy_threshold_count or 2)
        if healthy:
            record.passes += 1
            record.failures = 0
            if record.passes >= healthy_threshold:
                record.state, record.reason, record.description = "healthy", None, None
                record.unhealthy_since = None
        else:
            record.failures += 1
            record.passes = 0
            if record.failures >= unhealthy_threshold:
                if record.state != "unhealthy":
                    record.unhealthy_since = self.sim.now()
                    # Wake the service scheduler when it notices (it polls target health).
                    self.sim.after(UNHEALTHY_NOTICE_SECONDS, lambda: None, "scheduler-notices-unhealthy")
                record.state, record.reason, record.description = "unhealthy", reason, description
        if record.state != before:
            self.sim.ecs.touch_all()
        interval = int(group.health_check_interval_seconds or 30)
        self._check_later(record, interval)

    def _provisioning_until(self, group: Any) -> dt.datetime | None:
        """When the last still-provisioning load balancer of `group` becomes active (None: none is)."""
        until = None
        for arn in list(getattr(group, "load_balancer_arns", []) or []):
            lb = self.backend.load_balancers.get(arn)
            if lb is None:
                continue
            lb.activate()
            active_from = moto_seam.elbv2.active_from(lb)
            if active_from is not None and (until is None or active_from > until):
                until = active_from
        return until

    def _probe(self, group: Any, key: TargetKey) -> tuple[bool, str | None, str]:
        from labkit.dataplane.health import check_target

        url = self._target_url(key)
        if url is None:
            return self._plain_instance_health(key[1]) or (False, "Target.Timeout", "Request timed out")
        path = group.health_check_path or "/"
        matcher = (group.matcher or {}).get("HttpCode", "200")
        cache_key = (url, path, matcher)
        if self._round_cache is not None and cache_key in self._round_cache:
            return self._round_cache[cache_key]
        result = check_target(url, path=path, matcher=matcher)
        answer = (result.healthy, result.reason_code, result.description)
        if self._round_cache is not None:
            self._round_cache[cache_key] = answer
        return answer

    def _instance_state(self, target_id: str) -> str | None:
        """The state of the EC2 instance `target_id` names (`running`, `stopped`, ...); None for any other target."""
        if not target_id.startswith("i-"):
            return None
        ec2 = moto_seam.loaded_backend("ec2", self.sim.account_id, self.sim.region)
        if ec2 is None:
            return None
        instance = next(
            (i for r in ec2.reservations.values() for i in r.instances if i.id == target_id), None
        )
        return None if instance is None else str(instance.state)

    def _plain_instance_health(self, target_id: str) -> tuple[bool, str | None, str] | None:
        """The health of an EC2 instance that is not an ECS container instance; None for any other target.

        The sandbox runs no software on a plain instance, so a running one is taken to answer its
        health check; one that is not running fails it (`state` shows it `unused`, as AWS does).
        """
        instance_state = self._instance_state(target_id)
        if instance_state is None:
            return None
        for instances in self.sim.ecs.backend.container_instances.values():
            if any(ci.ec2_instance_id == target_id for ci in instances.values()):
                return None  # a container instance answers only on its tasks' host ports
        if instance_state == "running":
            return (True, None, "")
        return (False, "Target.InvalidState", f"Target is in the {instance_state} state")

    def _target_url(self, key: TargetKey) -> str | None:
        _, target_id, port = key
        for runtime in self.sim.ecs.tasks.values():
            if runtime.status not in ("RUNNING", "DEACTIVATING"):
                continue
            for (_, container_port), server in runtime.servers.items():
                host_port = next(
                    (hp for (n, cp), hp in runtime.host_ports.items() if cp == container_port), container_port
                )
                if target_id == runtime.private_ip and port == container_port:
                    return str(server.url)
                if target_id == runtime.ec2_instance_id and port == host_port:
                    return str(server.url)
        return None

    # -- ECS tasks as targets ---------------------------------------------------------------

    def task_running(self, runtime: TaskRuntime) -> None:
        """Register a service task in its target groups, as the ECS service scheduler does."""
        service = self.sim.ecs.services.get(runtime.service_key or "")
        if service is None:
            return
        for entry in service.service.load_balancers or []:
            arn = entry.get("targetGroupArn")
            group = self.backend.target_groups.get(arn) if arn else None
            if group is None:
                continue
            container_port = int(entry.get("containerPort", 0))
            if group.target_type == "ip":
                target_id, port = str(runtime.private_ip), container_port
            else:
                host = next(
                    (
                        hp
                        for (n, cp), hp in runtime.host_ports.items()
                        if n == entry.get("containerName") and cp == container_port
                    ),
                    container_port,
                )
                target_id, port = str(runtime.ec2_instance_id), host
            group.register([{"Id": target_id, "Port": port}])
            runtime.targets.append((arn, target_id, port))
            self.registered(arn, target_id, port)

    def task_stopping(self, runtime: TaskRuntime) -> float:
        """Deregister a stopping task's targets; return how long the task stays DEACTIVATING."""
        if not runtime.targets:
            return 1.0
        delay = 0.0
        for arn, target_id, port in runtime.targets:
            delay = max(delay, self.deregistered(arn, target_id, port))
        return max(delay, 1.0)

    # -- listeners --------------------------------------------------------------------------

    def listener_created(self, listener: Any) -> None:
        """Give a new listener a loopback port."""
        from labkit.dataplane.listener import ListenerProxy

        arn = str(listener.arn)
        # The data plane speaks HTTP; a TCP/TLS/UDP (network load balancer) listener gets no port.
        if arn in self.listeners or str(listener.protocol or "HTTP").upper() not in ("HTTP", "HTTPS"):
            return
        self.listeners[arn] = ListenerProxy(
            lambda: self.healthy_targets(arn),
            before_request=self.sim.catch_up,
            protocol=str(listener.protocol or "HTTP"),
            route=lambda host, path: self.healthy_targets(arn, path=path, host=host),
            on_forward=functools.partial(self.sim.metrics.request_forwarded, arn),
            fixed_response=lambda host, path: self.fixed_response(arn, path, host),
        )

    def listener_deleted(self, listener_arn: str) -> None:
        """Close a deleted listener's port."""
        proxy = self.listeners.pop(listener_arn, None)
        if proxy is not None:
            proxy.close()

    def load_balancer_deleted(self, load_balancer_arn: str, listener_arns: list[str]) -> None:
        """Close the ports of a deleted load balancer's listeners."""
        for arn in listener_arns:
            self.listener_deleted(arn)

    def _forward_groups(
        self, listener_arn: str, path: str | None = None, host: str | None = None
    ) -> list[str]:
        """The target groups a request to `path` on `host` is forwarded to (the default action's
        when no path is given or no rule matches)."""
        listener = next(
            (
                lb.listeners[listener_arn]
                for lb in self.backend.load_balancers.values()
                if listener_arn in lb.listeners
            ),
            None,
        )
        if listener is None:
            return []
        actions = listener.default_actions
        if path is not None:
            rules = [rule for rule in listener.rules.values() if not getattr(rule, "is_default", False)]
            for rule in sorted(rules, key=lambda r: int(r.priority)):
                if _rule_matches(rule.conditions, path, host or ""):
                    actions = rule.actions
                    break
        groups: list[str] = []
        for action in actions:
            if action.data.get("TargetGroupArn"):
                groups.append(action.data["TargetGroupArn"])
            for tg in (action.data.get("ForwardConfig") or {}).get("TargetGroups", []) or []:
                groups.append(tg["TargetGroupArn"])
        return groups

    def healthy_targets(
        self, listener_arn: str, *, path: str | None = None, host: str | None = None
    ) -> list[Target]:
        """The targets a listener forwards to (for a request to `path` on `host`, the rule's):
        healthy ones; all registered ones when none is (fail open)."""
        from labkit.dataplane.listener import Target

        with self.sim.lock:
            groups = set(self._forward_groups(listener_arn, path, host))
            candidates = [r for r in self.records.values() if r.key[0] in groups and r.active]
            healthy = [r for r in candidates if r.state == "healthy"]
            # An ALB whose targets are all unhealthy routes to all of them ("fails open").
            chosen = healthy or [r for r in candidates if r.state == "unhealthy"]
            targets = []
            for record in sorted(chosen, key=lambda r: r.registered_at):
                url = self._target_url(record.key)
                if url is not None:
                    targets.append(
                        Target(
                            target_id=record.key[1],
                            port=record.key[2],
                            url=url,
                            target_group_arn=record.key[0],
                        )
                    )
            return targets

    def listener_urls(self) -> list[dict[str, Any]]:
        """Every listener with its loopback URL."""
        rows = []
        for lb in self.backend.load_balancers.values():
            for arn, listener in lb.listeners.items():
                proxy = self.listeners.get(arn)
                if proxy is None:
                    continue
                rows.append(
                    {
                        "load_balancer_arn": lb.arn,
                        "load_balancer_name": lb.name,
                        "dns_name": lb.dns_name,
                        "listener_arn": arn,
                        "port": int(listener.port),
                        "protocol": listener.protocol,
                        "url": proxy.url,
                    }
                )
        return rows

    def fixed_response(self, listener_arn: str, path: str, host: str) -> tuple[int, str, str] | None:
        """What a `fixed-response` action answers a request to `path` on `host` (status, content type,
        body), or None when the rule it meets (else the default action) is not one."""
        with self.sim.lock:
            listener = next(
                (
                    lb.listeners[listener_arn]
                    for lb in self.backend.load_balancers.values()
                    if listener_arn in lb.listeners
                ),
                None,
            )
            if listener is None:
                return None
            actions = listener.default_actions
            rules = [rule for rule in listener.rules.values() if not getattr(rule, "is_default", False)]
            for rule in sorted(rules, key=lambda r: int(r.priority)):
                if _rule_matches(rule.conditions, path, host):
                    actions = rule.actions
                    break
            first = actions[0].data if actions else {}
        if first.get("Type") != "fixed-response":
            return None
        config = first.get("FixedResponseConfig") or {}
        return (
            int(config.get("StatusCode") or 200),
            str(config.get("ContentType") or "text/plain"),
            str(config.get("MessageBody") or ""),
        )

    def close(self) -> None:
        """Close every listener port."""
        for proxy in self.listeners.values():
            proxy.close()
        self.listeners.clear()


def _pattern(value: str, *, ignore_case: bool) -> re.Pattern[str]:
    """An ALB condition value: `*` matches any characters, `?` exactly one; nothing else is special."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value)
    return re.compile(f"^{body}$", re.IGNORECASE if ignore_case else 0)


def _rule_matches(conditions: list[dict[str, Any]], path: str, host: str) -> bool:
    """True when every condition matches (path patterns are case-sensitive, host names are not)."""
    for condition in conditions:
        field = condition.get("Field")
        if field == "path-pattern":
            values = (condition.get("PathPatternConfig") or {}).get("Values") or condition.get("Values") or []
            subject, ignore_case = path, False
        elif field == "host-header":
            values = (condition.get("HostHeaderConfig") or {}).get("Values") or condition.get("Values") or []
            subject, ignore_case = host, True
        else:
            return False  # http-header, query-string, method and source-ip are not routed here
        if not any(_pattern(str(v), ignore_case=ignore_case).match(subject) for v in values):
            return False
    return True
