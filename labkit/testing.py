"""Helpers for tests of code that uses labkit, including `aws` mode without any network.

`FakeAws` plugs into a botocore session's `before-send` event: it records every request that
would have left the machine and answers it itself (STS `GetCallerIdentity` with a chosen account,
anything else with an empty success), so a test can assert exactly which calls were made.

`StrictAws` goes the other way: on an emulated sandbox (real state, moto's answers) it adds the
refusals AWS makes and moto does not (deleting a cluster with active services, a protected load
balancer, a target group in use, a referenced security group), AWS's page sizes, and injected
throttling, errors and crashes, so clean-up code can be tested against AWS's ordering rules.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

__all__ = [
    "ECS_PAGE_SIZES",
    "READ_ONLY_PREFIXES",
    "FakeAws",
    "InjectedCrash",
    "RecordedRequest",
    "StrictAws",
    "advance_until",
    "is_mutating",
]

#: Operation-name prefixes of calls that only read.
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search", "Lookup", "Query", "Scan")


def is_mutating(operation: str) -> bool:
    """Return True when an operation name is not a read-only call."""
    return not operation.startswith(READ_ONLY_PREFIXES)


@dataclass
class RecordedRequest:
    """One request a client tried to send."""

    service: str
    operation: str
    url: str
    body: bytes

    @property
    def params(self) -> dict[str, Any]:
        """The request's parameters: the JSON body, or the query-protocol form fields."""
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class FakeAws:
    """A stand-in for AWS on a botocore session: records requests, answers them, sends nothing."""

    account_id: str = "111122223333"
    requests: list[RecordedRequest] = field(default_factory=list)
    sts_fails: bool = False
    #: What iam:ListAccountAliases answers (an alias containing "prod" makes aws mode refuse).
    account_aliases: list[str] = field(default_factory=list)

    def session(self) -> botocore.session.Session:
        """Return a botocore session with fake credentials whose requests this fake answers."""
        core = botocore.session.Session()
        core.set_credentials("AKIAFAKEFAKEFAKEFAKE", "fake-secret")
        # A before-send handler that returns a response is how botocore lets one answer a request.
        core.register("before-send", self._answer, unique_id="labkit-fake-aws")  # type: ignore[arg-type]
        return core

    @property
    def operations(self) -> list[str]:
        """The operation names of the recorded requests, in order."""
        return [r.operation for r in self.requests]

    @property
    def mutating(self) -> list[RecordedRequest]:
        """The recorded requests that would have changed something."""
        return [r for r in self.requests if is_mutating(r.operation)]

    def _answer(self, **kwargs: Any) -> AWSResponse:
        request = kwargs["request"]
        # event_name is "before-send.<service-id>.<Operation>"
        _, service, operation = str(kwargs["event_name"]).split(".", 2)
        raw_body = request.body or b""
        body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
        self.requests.append(RecordedRequest(service, operation, request.url, body))
        if service == "sts" and operation == "GetCallerIdentity":
            if self.sts_fails:
                return _response(
                    request.url,
                    403,
                    b"<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                    b"<Message>The security token included in the request is invalid.</Message>"
                    b"</Error></ErrorResponse>",
                    "text/xml",
                )
            xml = (
                "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                f"<Arn>arn:aws:iam::{self.account_id}:user/learner</Arn>"
                "<UserId>AIDAFAKE</UserId>"
                f"<Account>{self.account_id}</Account>"
                "</GetCallerIdentityResult></GetCallerIdentityResponse>"
            )
            return _response(request.url, 200, xml.encode(), "text/xml")
        if service == "iam" and operation == "ListAccountAliases":
            members = "".join(f"<member>{escape(a)}</member>" for a in self.account_aliases)
            xml = (
                "<ListAccountAliasesResponse><ListAccountAliasesResult>"
                f"<AccountAliases>{members}</AccountAliases><IsTruncated>false</IsTruncated>"
                "</ListAccountAliasesResult></ListAccountAliasesResponse>"
            )
            return _response(request.url, 200, xml.encode(), "text/xml")
        content_type = str(request.headers.get("Content-Type", b""))
        if "x-www-form-urlencoded" in content_type:
            # query and ec2 protocols answer XML
            xml = f"<{operation}Response><{operation}Result/></{operation}Response>"
            return _response(request.url, 200, xml.encode(), "text/xml")
        return _response(request.url, 200, b"{}", "application/x-amz-json-1.1")


def _response(url: str, status: int, body: bytes, content_type: str) -> AWSResponse:
    return AWSResponse(url, status, HTTPHeaders.from_dict({"Content-Type": content_type}), _Raw(body))


def advance_until(
    sandbox: Any, condition: Any, *, step: float = 5.0, limit: float = 3600.0, what: str = "the condition"
) -> float:
    """Wait with `sandbox.wait_until` (a manual clock advances by `step`); return the emulated seconds it took.

    Raises `WaitTimeoutError` (a `TimeoutError`) naming `what` when `limit` emulated seconds pass first.
    """
    started = sandbox.now()
    sandbox.wait_until(condition, what, limit=limit, step=step)
    return float((sandbox.now() - started).total_seconds())


# -- a strict AWS on an emulated sandbox ----------------------------------------------------------


class InjectedCrash(Exception):
    """The crash a `StrictAws` was told to cause: a stand-in for a process killed half way."""


#: ECS listings that AWS pages (default page size, largest allowed); moto answers them in one page.
ECS_PAGE_SIZES = {"ListServices": (10, 100), "ListTaskDefinitions": (100, 100), "ListClusters": (100, 100)}
_ECS_LIST_KEYS = {
    "ListServices": "serviceArns",
    "ListTaskDefinitions": "taskDefinitionArns",
    "ListClusters": "clusterArns",
}
_THROTTLE_CODES = {"ec2": "RequestLimitExceeded", "query": "Throttling", "json": "ThrottlingException"}


class StrictAws:
    """AWS's refusals that moto does not make, and injected faults, on an emulated sandbox's clients.

    moto accepts some deletions AWS refuses. Installed on a sandbox (`StrictAws(sb).install()`), this
    answers like AWS for clients made from the sandbox afterwards:

    - `ecs:DeleteCluster` while the cluster has ACTIVE or DRAINING services
      (`ClusterContainsServicesException`) or running tasks (`ClusterContainsTasksException`);
    - `elbv2:DeleteLoadBalancer` with deletion protection on (`OperationNotPermitted`);
    - `elbv2:DeleteTargetGroup` while a listener or rule forwards to it (`ResourceInUse`);
    - `ec2:DeleteSecurityGroup` while another group's rule references it or a network interface
      uses it (`DependencyViolation`);
    - `ecs:ListServices`, `ListTaskDefinitions`, `ListClusters` in pages of AWS's sizes (10, 100, 100).

    Faults: `throttle(operation, times)` answers the next calls with the service's throttling error,
    `fail(operation, code, times)` with any error, and `crash_after(n)` raises `InjectedCrash` at the
    mutating call after `n` have gone through. `calls` records every call, `refused` every refusal.

    It is a rule layer on moto rather than a model of its own: moto (through the sandbox's
    emulator) already keeps real state and answers in every protocol, so the layer only adds the
    few refusals AWS makes that moto does not, and clean-up code is tested against real listings,
    tags and pagination tokens. The rules read the sandbox through clients that bypass the layer.
    """

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.calls: list[RecordedRequest] = []
        self.refused: list[tuple[str, str]] = []  # (operation, error code)
        self._faults: list[tuple[str, str, str, list[int]]] = []  # (operation, code, message, [times left])
        self._crash_after: int | None = None
        self.mutations = 0
        self._local = threading.local()
        self._inspectors: dict[str, Any] = {}

    def install(self) -> StrictAws:
        """Answer for the sandbox's clients made from now on; returns self."""
        core = self.sandbox.session._session
        core.register("before-send", self._answer, unique_id="labkit-strict-aws")
        return self

    def throttle(self, operation: str, times: int = 1) -> None:
        """Answer the next `times` calls of `operation` with the service's throttling error."""
        self._faults.append((operation, "", "Rate exceeded", [times]))

    def fail(self, operation: str, code: str, message: str = "injected", times: int = 1) -> None:
        """Answer the next `times` calls of `operation` with the error `code`."""
        self._faults.append((operation, code, message, [times]))

    def crash_after(self, mutating_calls: int) -> None:
        """Raise `InjectedCrash` at the mutating call after `mutating_calls` more have gone through."""
        self._crash_after = self.mutations + mutating_calls

    @property
    def operations(self) -> list[str]:
        """The operation names of every call, in order."""
        return [c.operation for c in self.calls]

    def _inspector(self, service: str) -> Any:
        # Clients made inside the handler pass straight through it (see `_local.busy`).
        if service not in self._inspectors:
            self._inspectors[service] = self.sandbox.client(service)
        return self._inspectors[service]

    def _answer(self, **kwargs: Any) -> AWSResponse | None:
        if getattr(self._local, "busy", False):
            return None
        request = kwargs["request"]
        _, service, operation = str(kwargs["event_name"]).split(".", 2)
        raw = request.body or b""
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
        recorded = RecordedRequest(service, operation, request.url, body)
        self.calls.append(recorded)
        content_type = str(request.headers.get("Content-Type", b""))
        protocol = (
            "ec2" if service == "ec2" else "query" if "x-www-form-urlencoded" in content_type else "json"
        )
        for op, code, message, left in self._faults:
            if op == operation and left[0] > 0:
                left[0] -= 1
                return self._error(
                    request.url, protocol, operation, code or _THROTTLE_CODES[protocol], message
                )
        self._local.busy = True
        try:
            refusal = self._rule(service, operation, recorded.params)
            if isinstance(refusal, AWSResponse):
                return refusal
        finally:
            self._local.busy = False
        if refusal is not None:
            return self._error(request.url, protocol, operation, refusal[0], refusal[1])
        if is_mutating(operation):
            if self._crash_after is not None and self.mutations >= self._crash_after:
                self._crash_after = None
                raise InjectedCrash(f"injected crash before {operation}")
            self.mutations += 1
        return None

    def _error(self, url: str, protocol: str, operation: str, code: str, message: str) -> AWSResponse:
        self.refused.append((operation, code))
        if protocol == "json":
            body = json.dumps({"__type": code, "message": message}).encode()
            response = _response(url, 400, body, "application/x-amz-json-1.1")
            response.headers["x-amzn-ErrorType"] = code
            return response
        text = escape(message)
        if protocol == "ec2":
            xml = f"<Response><Errors><Error><Code>{code}</Code><Message>{text}</Message></Error></Errors><RequestID>strict</RequestID></Response>"
        else:
            xml = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{text}</Message></Error><RequestId>strict</RequestId></ErrorResponse>"
        return _response(url, 400, xml.encode(), "text/xml")

    def _rule(
        self, service: str, operation: str, params: dict[str, Any]
    ) -> tuple[str, str] | AWSResponse | None:
        if service == "ecs" and operation in ECS_PAGE_SIZES:
            return self._ecs_page(operation, params)
        if service == "ecs" and operation == "DeleteCluster":
            return self._cluster_in_use(str(params.get("cluster", "default")))
        if service == "elastic-load-balancing-v2" and operation == "DeleteLoadBalancer":
            arn = str(params.get("LoadBalancerArn", ""))
            attrs = self._inspector("elbv2").describe_load_balancer_attributes(LoadBalancerArn=arn)[
                "Attributes"
            ]
            if any(a["Key"] == "deletion_protection.enabled" and a["Value"] == "true" for a in attrs):
                return (
                    "OperationNotPermitted",
                    f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled",
                )
        if service == "elastic-load-balancing-v2" and operation == "DeleteTargetGroup":
            arn = str(params.get("TargetGroupArn", ""))
            if arn in self._forwarded_target_groups():
                return "ResourceInUse", f"Target group '{arn}' is currently in use by a listener or a rule"
        if service == "ec2" and operation == "DeleteSecurityGroup":
            return self._group_in_use(str(params.get("GroupId", "")))
        return None

    def _ecs_page(self, operation: str, params: dict[str, Any]) -> AWSResponse:
        ecs = self._inspector("ecs")
        default, largest = ECS_PAGE_SIZES[operation]
        size = min(int(params.get("maxResults") or default), largest)
        offset = int(params.get("nextToken") or 0)
        rest = {k: v for k, v in params.items() if k not in ("maxResults", "nextToken")}
        key = _ECS_LIST_KEYS[operation]
        method = {"ListServices": ecs.list_services, "ListTaskDefinitions": ecs.list_task_definitions}.get(
            operation, ecs.list_clusters
        )
        everything = method(**rest)[key]
        page: dict[str, Any] = {key: everything[offset : offset + size]}
        if offset + size < len(everything):
            page["nextToken"] = str(offset + size)
        return _response("", 200, json.dumps(page).encode(), "application/x-amz-json-1.1")

    def _cluster_in_use(self, cluster: str) -> tuple[str, str] | None:
        ecs = self._inspector("ecs")
        try:
            arns = ecs.list_services(cluster=cluster)["serviceArns"]
        except ClientError:
            return None  # let the emulator answer (e.g. ClusterNotFoundException)
        for i in range(0, len(arns), 10):
            services = ecs.describe_services(cluster=cluster, services=arns[i : i + 10])["services"]
            if any(s.get("status") in ("ACTIVE", "DRAINING") for s in services):
                return (
                    "ClusterContainsServicesException",
                    "The Cluster cannot be deleted while Services are active.",
                )
        if ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]:
            return "ClusterContainsTasksException", "The Cluster cannot be deleted while Tasks are active."
        return None

    def _forwarded_target_groups(self) -> set[str]:
        elbv2 = self._inspector("elbv2")
        used: set[str] = set()

        def collect(actions: list[dict[str, Any]]) -> None:
            for action in actions:
                if action.get("TargetGroupArn"):
                    used.add(action["TargetGroupArn"])
                for group in action.get("ForwardConfig", {}).get("TargetGroups", []):
                    used.add(group["TargetGroupArn"])

        for balancer in elbv2.describe_load_balancers()["LoadBalancers"]:
            for listener in elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])[
                "Listeners"
            ]:
                collect(listener.get("DefaultActions", []))
                for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                    collect(rule.get("Actions", []))
        return used

    def _group_in_use(self, group_id: str) -> tuple[str, str] | None:
        ec2 = self._inspector("ec2")
        message = f"resource {group_id} has a dependent object"
        for group in ec2.describe_security_groups()["SecurityGroups"]:
            if group["GroupId"] == group_id:
                continue
            for permission in group.get("IpPermissions", []) + group.get("IpPermissionsEgress", []):
                if any(pair.get("GroupId") == group_id for pair in permission.get("UserIdGroupPairs", [])):
                    return "DependencyViolation", message
        interfaces = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [group_id]}])
        if interfaces["NetworkInterfaces"]:
            return "DependencyViolation", message
        return None
