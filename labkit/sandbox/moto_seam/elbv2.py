"""moto.elbv2: target health from the simulator, target tables keyed by id and port, listener ports.

- In a sandbox account a target's health is the simulator's (moto marks every target healthy at
  once); registering and deregistering a target tells the simulator, and a deregistered target is
  listed as draining until its deregistration delay has passed; creating and deleting listeners
  opens and closes their loopback ports.
- One target per (id, port) in a target group, as on AWS: moto keeps one per id. With dynamic host
  ports one instance holds several tasks of a service, each registered as the same instance id on its
  own port; moto's `FakeTargetGroup.targets` is keyed by id alone, so each registration replaced the
  last. Here the table is keyed by `target_key(id, port)`; deregistering without a port removes every
  port of the id (in every account: the table's shape is moto's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for
from labkit.sandbox.simulator.targets import target_key

__all__ = ["find_rule", "forward_target_groups", "set_forward_weights"]

_GROUP = "moto.elbv2.models.FakeTargetGroup"
_BACKEND = "moto.elbv2.models.ELBv2Backend"

uses(
    "moto.elbv2.models.FakeHealthStatus",
    "__init__",
    ("self", "instance_id", "port", "health_port", "status", "reason", "description"),
    why="the health the simulator reports",
)
uses("moto.elbv2.exceptions", "TargetNotRunning", ("instance_id",), why="a stopped instance as target")
uses("moto.elbv2.exceptions", "InvalidTargetError", (), why="deregistering an unknown target")


# -- health and registration ----------------------------------------------------------------------


@hook(_GROUP, "health_for", ("self", "target", "ec2_backend"), why="target health comes from the simulator")
def health_for(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.elbv2.models import FakeHealthStatus

    def handler(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        sim = simulator_for(self.account_id)
        if sim is None:
            return original(self, target, ec2_backend)
        port = int(target.get("Port") or self.port)
        state, reason, description = sim.elb.state(self.arn, target["Id"], port)
        # DescribeTargetHealth shows the port checked (AWS's example: "HealthCheckPort": "80"), not `traffic-port`.
        checked = self.health_check_port
        checked = str(port) if checked in (None, "", "traffic-port") else str(checked)
        return FakeHealthStatus(target["Id"], str(port), checked, state, reason, description)

    return handler


@hook(
    _BACKEND,
    "register_targets",
    ("self", "target_group_arn", "instances"),
    why="the simulator health-checks new targets",
)
def register_targets(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, target_group_arn: str, instances: list[Any]) -> None:
        original(self, target_group_arn, instances)
        sim = simulator_for(self.account_id)
        if sim is not None:
            group = self.target_groups[target_group_arn]
            for target in instances:
                port = int(target.get("Port") or group.port)
                sim.perform(functools.partial(sim.elb.registered, target_group_arn, target["Id"], port))

    return handler


@hook(
    _BACKEND,
    "deregister_targets",
    ("self", "target_group_arn", "instances"),
    why="deregistered targets drain",
)
def deregister_targets(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, target_group_arn: str, instances: list[dict[str, Any]]) -> None:
        group = self.target_groups.get(target_group_arn)
        kept = {
            key: dict(value)
            for key, value in (group.targets.items() if group else [])
            for t in instances
            if value["Id"] == t["Id"] and (not t.get("Port") or int(value["Port"]) == int(t["Port"]))
        }
        original(self, target_group_arn, instances)
        sim = simulator_for(self.account_id)
        if sim is not None and group is not None:
            for target in instances:
                port = int(target["Port"]) if target.get("Port") else None
                sim.perform(functools.partial(sim.elb.deregistered, target_group_arn, target["Id"], port))
            # Listed as draining until the deregistration delay has passed.
            group.targets.update(kept)

    return handler


# -- listeners ------------------------------------------------------------------------------------

uses("moto.elbv2.exceptions", "ELBClientError", why="ELBv2's error with AWS's code and message")


def _refuse_unissued_certificate(self: Any, certificate: str | None) -> None:
    """An ACM certificate a listener names must exist and be ISSUED; AWS answers CertificateNotFound.

    (A pending certificate is "not found" too: aws-cdk issue 6081 shows AWS's answer for one still
    PENDING_VALIDATION, `Certificate '<arn>' not found`.)
    """
    from moto.elbv2.exceptions import ELBClientError

    if not certificate or ":acm:" not in str(certificate):
        return
    from labkit.sandbox.moto_seam.core import backend

    parts = str(certificate).split(":")
    status = None
    # A load balancer uses certificates of its own region only (and a learner's ARN names no other backend).
    if len(parts) > 4 and parts[3] == self.region_name and parts[4] == self.account_id:
        try:
            status = backend("acm", self.account_id, self.region_name).get_certificate(certificate).status
        except Exception:  # noqa: BLE001 - moto's ACM CertificateNotFound
            status = None
    if status != "ISSUED":
        raise ELBClientError("CertificateNotFound", f"Certificate '{certificate}' not found")


@hook(
    _BACKEND,
    "create_listener",
    ("self", "load_balancer_arn", "protocol", "port", "ssl_policy", "certificate"),
    why="a listener gets a loopback port; an ACM certificate that is not ISSUED is refused",
)
def create_listener(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
        if simulator_for(self.account_id) is not None:
            certificate = kwargs.get("certificate") if "certificate" in kwargs else (args[4:5] or [None])[0]
            _refuse_unissued_certificate(self, certificate)
        listener = original(self, *args, **kwargs)
        sim = simulator_for(self.account_id)
        if sim is not None:
            sim.elb.listener_created(listener)
        return listener

    return handler


@hook(_BACKEND, "delete_listener", ("self", "listener_arn"), why="a deleted listener's port closes")
def delete_listener(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, listener_arn: str) -> Any:
        listener = original(self, listener_arn)
        sim = simulator_for(self.account_id)
        if sim is not None:
            sim.elb.listener_deleted(listener_arn)
        return listener

    return handler


@hook(_BACKEND, "delete_load_balancer", ("self", "arn"), why="a deleted load balancer's ports close")
def delete_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, arn: str) -> None:
        lb = self.load_balancers.get(arn)
        sim = simulator_for(self.account_id)
        if sim is not None and lb is not None and _deletion_protected(lb):
            raise _elb_error(
                "OperationNotPermitted",
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
            )
        listeners = list(lb.listeners) if lb is not None else []
        original(self, arn)
        if sim is not None:
            sim.elb.load_balancer_deleted(arn, listeners)

    return handler


# -- target tables keyed by id and port -----------------------------------------------------------


def _register(self: Any, targets: list[dict[str, Any]]) -> None:
    from moto.elbv2.exceptions import TargetNotRunning

    for target in targets:
        instance = self.ec2_backend.get_instance_by_id(target["Id"])
        if instance and instance.state != "running":
            raise TargetNotRunning(instance_id=target["Id"])
        port = target.get("Port") or self.port
        self.targets[target_key(target["Id"], port)] = {"Id": target["Id"], "Port": port}
        self.deregistered_targets.pop(target["Id"], None)


def _deregister(self: Any, targets: list[dict[str, Any]]) -> None:
    from moto.elbv2.exceptions import InvalidTargetError

    for target in targets:
        keys = [
            key
            for key, value in self.targets.items()
            if value["Id"] == target["Id"]
            and (not target.get("Port") or int(value["Port"]) == int(target["Port"]))
        ]
        if not keys:
            raise InvalidTargetError()
        for key in keys:
            self.deregistered_targets[target["Id"]] = self.targets.pop(key)


def _deregister_terminated_instances(self: Any, instance_ids: list[str]) -> None:
    sim = simulator_for(self.account_id)
    for key, value in list(self.targets.items()):
        if value["Id"] in instance_ids:
            self.terminated_targets[value["Id"]] = self.targets.pop(key)
            if sim is not None:
                # AWS deregisters a terminated instance: no longer listed, but asked for by id it is
                # draining (Target.DeregistrationInProgress) for the deregistration delay.
                sim.perform(
                    functools.partial(sim.elb.deregistered, self.arn, value["Id"], int(value["Port"]))
                )


hook(_GROUP, "register", ("self", "targets"), why="one target per (id, port), as on AWS")(
    lambda original: _register
)
hook(_GROUP, "deregister", ("self", "targets"), why="one target per (id, port), as on AWS")(
    lambda original: _deregister
)
hook(
    _GROUP,
    "deregister_terminated_instances",
    ("self", "instance_ids"),
    why="one target per (id, port), as on AWS; a terminated instance's targets drain",
)(lambda original: _deregister_terminated_instances)


# -- deletes AWS refuses --------------------------------------------------------------------------

uses("moto.elbv2.exceptions", "ELBClientError", why="ELB's errors by code (code, message)")
uses("moto.elbv2.models.FakeLoadBalancer", "attrs", why="a load balancer's attributes", instance=True)
uses(_BACKEND, "_any_listener_using", ("self", "target_group_arn"), why="a target group in use")


def _elb_error(code: str, message: str) -> Exception:
    from moto.elbv2.exceptions import ELBClientError

    return ELBClientError(code, message)


def _deletion_protected(lb: Any) -> bool:
    return str(lb.attrs.get("deletion_protection.enabled", "false")).lower() == "true"


@hook(
    _BACKEND,
    "delete_target_group",
    ("self", "target_group_arn"),
    why="a target group in use is refused in AWS's words (moto's differ)",
)
def delete_target_group(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, target_group_arn: str) -> Any:
        if simulator_for(self.account_id) is not None and self._any_listener_using(target_group_arn):
            # AWS's words, as in hashicorp/terraform#13076.
            raise _elb_error(
                "ResourceInUse",
                f"Target group '{target_group_arn}' is currently in use by a listener or a rule",
            )
        return original(self, target_group_arn)

    return handler


# -- a new load balancer: its scheme, and provisioning before active -------------------------------

#: Emulated seconds a new load balancer is `provisioning` before it is `active`. AWS gives no figure;
#: users see "no more than 5 minutes" on most runs (hashicorp/terraform#24799) and botocore's
#: `load_balancer_available` waiter polls every 15 s for up to 10 minutes: 3 minutes is in between.
PROVISIONING_SECONDS = 180.0

_SCHEMES = ("internet-facing", "internal")
_LOAD_BALANCER = "moto.elbv2.models.FakeLoadBalancer"
uses(_LOAD_BALANCER, "state", why="provisioning, then active", instance=True)
uses(_LOAD_BALANCER, "scheme", why="internet-facing unless asked", instance=True)


def active_from(lb: Any) -> Any:
    """When a sandbox's load balancer becomes active (a datetime), or None when it is not provisioning."""
    return getattr(lb, "labkit_active_from", None) if lb.state == "provisioning" else None


@hook(
    _BACKEND,
    "create_load_balancer",
    ("self", "name", "security_groups", "subnet_ids"),
    why="Scheme defaults to internet-facing (moto leaves it out) and a new load balancer provisions first",
)
def create_load_balancer(original: Callable[..., Any]) -> Callable[..., Any]:
    import datetime as dt

    def handler(self: Any, *args: Any, **kwargs: Any) -> Any:
        sim = simulator_for(self.account_id)
        if sim is None:
            return original(self, *args, **kwargs)
        scheme = kwargs.get("scheme") or "internet-facing"
        if scheme not in _SCHEMES:
            raise _elb_error(
                "ValidationError",
                f"1 validation error detected: Value '{scheme}' at 'scheme' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(_SCHEMES)}]",
            )
        kwargs["scheme"] = scheme
        lb = original(self, *args, **kwargs)
        lb.labkit_active_from = sim.now() + dt.timedelta(seconds=PROVISIONING_SECONDS)
        # Wake the simulator when it becomes active (health checks wait for it).
        sim.after(PROVISIONING_SECONDS, lambda: None, f"load balancer {lb.name} active")
        return lb

    return handler


@hook(_LOAD_BALANCER, "activate", ("self",), why="a load balancer is active only after provisioning")
def activate(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any) -> None:
        active_at = getattr(self, "labkit_active_from", None)
        if active_at is not None:
            sim = simulator_for(self.arn.split(":")[4])
            if sim is not None and sim.now() < active_at:
                return
        original(self)

    return handler


# -- listener rules ECS rewrites (blue/green, linear and canary deployments) ------------------------

uses("moto.elbv2.models.FakeAction", "__init__", ("self", "data"), why="a weighted forward action ECS writes")
uses(
    "moto.elbv2.models.FakeListener",
    "_default_rule",
    why="a listener's default rule (its ARN can be a deployment's production or test listener rule)",
    instance=True,
)


def find_rule(elb_backend: Any, arn: str) -> tuple[Any, Any] | None:
    """(listener, rule) for a listener rule ARN (a listener ARN: its default rule), or None.

    ECS's `advancedConfiguration.productionListenerRule`/`testListenerRule` name a rule of an
    Application Load Balancer (or a listener of a Network Load Balancer).
    """
    for lb in list(elb_backend.load_balancers.values()):
        for listener_arn, listener in list(lb.listeners.items()):
            if listener_arn == arn:
                return listener, listener._default_rule[0]
            for rule in list(listener.rules.values()):
                if rule.arn == arn:
                    return listener, rule
    return None


def forward_target_groups(rule: Any) -> list[str]:
    """The target groups a rule's forward actions name (simple or weighted)."""
    groups: list[str] = []
    for action in rule.actions:
        data = action.data if hasattr(action, "data") else action
        if data.get("TargetGroupArn"):
            groups.append(data["TargetGroupArn"])
        for tg in (data.get("ForwardConfig") or {}).get("TargetGroups", []) or []:
            groups.append(tg["TargetGroupArn"])
    return groups


def set_forward_weights(elb_backend: Any, arn: str, weights: list[tuple[str, int]]) -> bool:
    """Make a rule (or a listener's default rule) forward to `weights`' target groups by weight.

    What ECS does to the production and test listener rules at each traffic shift (ModifyRule
    with a weighted `forward` action). Returns False when the rule no longer exists.
    """
    from moto.elbv2.models import FakeAction

    found = find_rule(elb_backend, arn)
    if found is None:
        return False
    listener, rule = found
    action = FakeAction(
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": tg, "Weight": int(w)} for tg, w in weights],
            },
        }
    )
    rule.actions = [action]
    if getattr(rule, "is_default", False):
        listener.default_actions = [action]
    return True
