"""Clean-up of what one sandbox session made: find it by its `labkit:session` tag, delete it in order.

The rails are those of aws-nuke and cloud-nuke: a dry run unless `yes=True`; only resources that
carry the session's tag (untagged resources and other sessions' are never touched); deletion in
dependency order; throttling and transient errors retried with bounded backoff, dependency errors
(`DependencyViolation`, `ResourceInUse`, a cluster that still has services) retried while what
they wait on goes away; and "done" means a fresh listing finds nothing with the tag. A run that was
killed half way is finished by the next one, and a run with nothing to do says so.

What is found, and how: per-service listings with their tags for every kind labkit deletes
(application auto scaling targets of the session's services, EventBridge rules and their targets,
ECS services, clusters and active task definitions, load balancers with their listeners, target
groups, ECR repositories, security groups, CloudWatch log groups and alarms, IAM roles and
customer-managed policies), and the Resource
Groups Tagging API for anything else carrying the tag, which is reported and left (labkit does not
delete kinds it does not know). The tagging API is not trusted for known kinds: it can return a
resource for a while after it is deleted.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from labkit.errors import LabkitError, WaitTimeoutError
from labkit.sandbox.aws import SESSION_TAG

__all__ = [
    "DELETION_ORDER",
    "Resource",
    "TeardownIncompleteError",
    "TeardownReport",
    "discover",
    "recorded_sessions",
    "run_teardown",
    "teardown",
]

#: The kinds labkit deletes, in the order it deletes them.
DELETION_ORDER = (
    "application-autoscaling:scalable-target",
    "events:rule",
    "ecs:service",
    "elasticloadbalancing:listener",
    "elasticloadbalancing:loadbalancer",
    "elasticloadbalancing:targetgroup",
    "ecr:repository",
    "ecs:task-definition",
    "ecs:cluster",
    "ec2:security-group",
    "logs:log-group",
    "cloudwatch:alarm",
    "iam:role",
    "iam:policy",
)

THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "ServerException",
    }
)
#: Errors that mean "something else must go first": retried while the other thing goes.
DEPENDENCY = frozenset(
    {
        "DependencyViolation",
        "ResourceInUse",
        "ResourceInUseException",
        "ClusterContainsServicesException",
        "ClusterContainsTasksException",
        "ClusterContainsContainerInstancesException",
        "DeleteConflict",
    }
)
#: Errors that mean the resource is already gone: deleting it again is done.
GONE = frozenset(
    {
        "ResourceNotFoundException",
        "ResourceNotFound",
        "NoSuchEntity",
        "ClusterNotFoundException",
        "ServiceNotFoundException",
        "ServiceNotActiveException",
        "LoadBalancerNotFound",
        "ListenerNotFound",
        "TargetGroupNotFound",
        "RepositoryNotFoundException",
        "InvalidGroup.NotFound",
        "ObjectNotFoundException",
    }
)

_CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)


@dataclass(frozen=True)
class Resource:
    """One thing the session made: its kind (service:type), its id (an ARN, name or group id) and extra data."""

    kind: str
    id: str
    name: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def get(self, key: str) -> str:
        """A value of `extra` by key ('' when absent)."""
        return dict(self.extra).get(key, "")

    def __str__(self) -> str:
        label = f" ({self.name})" if self.name and self.name != self.id else ""
        return f"{self.kind} {self.id}{label}"


class TeardownIncompleteError(LabkitError):
    """A clean-up that finished with resources of the session still there (listed in `remaining`)."""

    def __init__(
        self, session_id: str, remaining: list[Resource], report: TeardownReport | None = None
    ) -> None:
        listed = "; ".join(str(r) for r in remaining[:10])
        more = f" and {len(remaining) - 10} more" if len(remaining) > 10 else ""
        super().__init__(
            f"teardown of session {session_id} left {len(remaining)} resource(s): {listed}{more}"
        )
        self.session_id = session_id
        self.remaining = remaining
        self.report = report


@dataclass
class TeardownReport:
    """What a teardown found, deleted and left; `done` is True when a fresh listing found nothing."""

    session_id: str
    dry_run: bool
    found: list[Resource] = field(default_factory=list)
    deleted: list[Resource] = field(default_factory=list)
    remaining: list[Resource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """True when nothing of the session remains (for a dry run: when nothing was found)."""
        return not self.remaining if not self.dry_run else not self.found

    def summary(self) -> str:
        """One line for a person."""
        if not self.found:
            return f"session {self.session_id}: nothing carries its tag; nothing to delete"
        if self.dry_run:
            return (
                f"session {self.session_id}: {len(self.found)} resource(s) would be deleted "
                "(dry run; run again with --yes to delete them)"
            )
        if self.remaining:
            return f"session {self.session_id}: deleted {len(self.deleted)}, {len(self.remaining)} remain"
        return f"session {self.session_id}: deleted {len(self.deleted)} resource(s); a fresh listing finds nothing"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "session_id": self.session_id,
            "dry_run": self.dry_run,
            "done": self.done,
            "found": [str(r) for r in self.found],
            "deleted": [str(r) for r in self.deleted],
            "remaining": [str(r) for r in self.remaining],
            "problems": self.problems,
        }


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class _Calls:
    """Every AWS call of a teardown: bounded retries on throttling (and, when asked, on dependencies)."""

    def __init__(
        self,
        sandbox: Any,
        *,
        sleep: Callable[[float], Any],
        attempts: int,
        base_delay: float,
        max_delay: float,
    ) -> None:
        self.sandbox = sandbox
        self._clients: dict[str, Any] = {}
        self.sleep = sleep
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._random = random.Random(0)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            # No botocore retries: this class retries, with a sleep a test can replace.
            self._clients[service] = self.sandbox.client(service, config=_CLIENT_CONFIG)
        return self._clients[service]

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff, capped."""
        return float(self._random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt)))

    def __call__(
        self, service: str, operation: str, /, *, retry_on: frozenset[str] = frozenset(), **params: Any
    ) -> Any:
        method = getattr(self.client(service), operation)
        for attempt in range(self.attempts):
            try:
                return method(**params)
            except ClientError as exc:
                code = _code(exc)
                status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
                transient = code in THROTTLING or (status >= 500 and code != "NotImplemented")
                if (transient or code in retry_on) and attempt + 1 < self.attempts:
                    self.sleep(self.backoff(attempt))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def pages(self, service: str, operation: str, key: str, /, **params: Any) -> Iterator[Any]:
        """Every item of a paginated listing (each page retried on throttling)."""
        paginator = self.client(service).get_paginator(operation)
        token: Any = None
        token_in = paginator._pagination_cfg["input_token"]
        token_out = paginator._pagination_cfg["output_token"]
        token_in = token_in[0] if isinstance(token_in, list) else token_in
        token_out = token_out[0] if isinstance(token_out, list) else token_out
        while True:
            request: dict[str, Any] = {**params, token_in: token} if token else dict(params)
            page = self(service, operation, **request)
            yield from page.get(key, [])
            token = page.get(token_out)
            if not token:
                return


def _tagged(tags: Any, session_id: str) -> bool:
    """Whether a tag list or map has labkit:session = session_id."""
    if isinstance(tags, dict):
        return tags.get(SESSION_TAG) == session_id
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        value = tag.get("Value", tag.get("value"))
        if key == SESSION_TAG and value == session_id:
            return True
    return False


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- discovery ---------------------------------------------------------------------------------


def _ecs(calls: _Calls, session_id: str) -> list[Resource]:
    found: list[Resource] = []
    cluster_arns = list(calls.pages("ecs", "list_clusters", "clusterArns"))
    service_arns: list[str] = []
    for chunk in _chunks(cluster_arns, 100):
        for cluster in calls("ecs", "describe_clusters", clusters=chunk, include=["TAGS"])["clusters"]:
            if cluster.get("status") == "INACTIVE":
                continue
            if _tagged(cluster.get("tags"), session_id):
                found.append(Resource("ecs:cluster", cluster["clusterArn"], cluster["clusterName"]))
            arns = list(calls.pages("ecs", "list_services", "serviceArns", cluster=cluster["clusterArn"]))
            for part in _chunks(arns, 10):
                answer = calls(
                    "ecs", "describe_services", cluster=cluster["clusterArn"], services=part, include=["TAGS"]
                )
                for service in answer["services"]:
                    if service.get("status") not in ("ACTIVE", "DRAINING"):
                        continue
                    if _tagged(service.get("tags"), session_id):
                        service_arns.append(service["serviceArn"])
                        found.append(
                            Resource(
                                "ecs:service",
                                service["serviceArn"],
                                service["serviceName"],
                                (("cluster", cluster["clusterArn"]), ("status", service["status"])),
                            )
                        )
    for arn in calls.pages("ecs", "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        answer = calls("ecs", "describe_task_definition", taskDefinition=arn, include=["TAGS"])
        if _tagged(answer.get("tags"), session_id):
            found.append(Resource("ecs:task-definition", arn, arn.rsplit("/", 1)[-1]))
    return found


def _autoscaling(calls: _Calls, services: list[Resource]) -> list[Resource]:
    """Scalable targets of the session's services (they belong to the service, tagged or not)."""
    wanted = {}
    for service in services:
        cluster_name = service.get("cluster").rsplit("/", 1)[-1]
        wanted[f"service/{cluster_name}/{service.name}"] = service
    if not wanted:
        return []
    found = []
    for target in calls.pages(
        "application-autoscaling", "describe_scalable_targets", "ScalableTargets", ServiceNamespace="ecs"
    ):
        if target["ResourceId"] in wanted:
            found.append(
                Resource(
                    "application-autoscaling:scalable-target",
                    target["ResourceId"],
                    target["ResourceId"],
                    (("dimension", target["ScalableDimension"]),),
                )
            )
    return found


def _events(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for rule in calls.pages("events", "list_rules", "Rules"):
        tags = calls("events", "list_tags_for_resource", ResourceARN=rule["Arn"]).get("Tags", [])
        if _tagged(tags, session_id):
            bus = rule.get("EventBusName", "default")
            found.append(Resource("events:rule", rule["Arn"], rule["Name"], (("bus", bus),)))
    return found


def _elb(calls: _Calls, session_id: str) -> list[Resource]:
    found: list[Resource] = []
    balancers = list(calls.pages("elbv2", "describe_load_balancers", "LoadBalancers"))
    groups = list(calls.pages("elbv2", "describe_target_groups", "TargetGroups"))
    tagged: set[str] = set()
    arns = [b["LoadBalancerArn"] for b in balancers] + [g["TargetGroupArn"] for g in groups]
    for chunk in _chunks(arns, 20):
        for description in calls("elbv2", "describe_tags", ResourceArns=chunk)["TagDescriptions"]:
            if _tagged(description.get("Tags"), session_id):
                tagged.add(description["ResourceArn"])
    for balancer in balancers:
        arn = balancer["LoadBalancerArn"]
        if arn not in tagged:
            continue
        found.append(Resource("elasticloadbalancing:loadbalancer", arn, balancer["LoadBalancerName"]))
        for listener in calls.pages("elbv2", "describe_listeners", "Listeners", LoadBalancerArn=arn):
            found.append(
                Resource("elasticloadbalancing:listener", listener["ListenerArn"], f"port {listener['Port']}")
            )
    for group in groups:
        if group["TargetGroupArn"] in tagged:
            found.append(
                Resource(
                    "elasticloadbalancing:targetgroup", group["TargetGroupArn"], group["TargetGroupName"]
                )
            )
    return found


def _ecr(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for repo in calls.pages("ecr", "describe_repositories", "repositories"):
        tags = calls("ecr", "list_tags_for_resource", resourceArn=repo["repositoryArn"]).get("tags", [])
        if _tagged(tags, session_id):
            found.append(Resource("ecr:repository", repo["repositoryArn"], repo["repositoryName"]))
    return found


def _ec2(calls: _Calls, session_id: str) -> list[Resource]:
    groups = calls.pages(
        "ec2",
        "describe_security_groups",
        "SecurityGroups",
        Filters=[{"Name": f"tag:{SESSION_TAG}", "Values": [session_id]}],
    )
    return [Resource("ec2:security-group", g["GroupId"], g.get("GroupName", "")) for g in groups]


def _logs(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for group in calls.pages("logs", "describe_log_groups", "logGroups"):
        tags = calls("logs", "list_tags_log_group", logGroupName=group["logGroupName"]).get("tags", {})
        if _tagged(tags, session_id):
            found.append(Resource("logs:log-group", group["logGroupName"], group["logGroupName"]))
    return found


def _iam(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for role in calls.pages("iam", "list_roles", "Roles"):
        if role.get("Path", "/").startswith("/aws-service-role/"):
            continue  # AWS's own service-linked roles are never ours
        tags = calls("iam", "list_role_tags", RoleName=role["RoleName"]).get("Tags", [])
        if _tagged(tags, session_id):
            found.append(Resource("iam:role", role["Arn"], role["RoleName"]))
    return found


def _alarms(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for alarm in calls.pages("cloudwatch", "describe_alarms", "MetricAlarms"):
        tags = calls("cloudwatch", "list_tags_for_resource", ResourceARN=alarm["AlarmArn"]).get("Tags", [])
        if _tagged(tags, session_id):
            found.append(Resource("cloudwatch:alarm", alarm["AlarmArn"], alarm["AlarmName"]))
    return found


def _policies(calls: _Calls, session_id: str) -> list[Resource]:
    found = []
    for policy in calls.pages("iam", "list_policies", "Policies", Scope="Local"):
        tags = calls("iam", "list_policy_tags", PolicyArn=policy["Arn"]).get("Tags", [])
        if _tagged(tags, session_id):
            found.append(Resource("iam:policy", policy["Arn"], policy["PolicyName"]))
    return found


def _kind_of_arn(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "unknown"
    service, rest = parts[2], parts[5]
    resource_type = rest.split("/", 1)[0].split(":", 1)[0]
    return f"{service}:{resource_type}"


def _others(calls: _Calls, session_id: str, report: TeardownReport) -> list[Resource]:
    """Anything else with the tag (kinds labkit does not delete), from the Resource Groups Tagging API."""
    known = {
        "ecs",
        "elasticloadbalancing",
        "ecr",
        "logs",
        "iam",
        "events",
        "application-autoscaling",
        "cloudwatch",
    }
    found = []
    try:
        for mapping in calls.pages(
            "resourcegroupstaggingapi",
            "get_resources",
            "ResourceTagMappingList",
            TagFilters=[{"Key": SESSION_TAG, "Values": [session_id]}],
        ):
            kind = _kind_of_arn(mapping["ResourceARN"])
            if kind.split(":", 1)[0] in known or kind == "ec2:security-group":
                continue
            found.append(Resource(kind, mapping["ResourceARN"]))
    except ClientError as exc:
        report.problems.append(f"the Resource Groups Tagging API could not be read: {exc}")
    return found


def discover(
    sandbox: Any,
    session_id: str,
    *,
    report: TeardownReport | None = None,
    calls: Any = None,
    tagging_api: bool = True,
) -> list[Resource]:
    """List every resource carrying `labkit:session = session_id`, in deletion order (reads only).

    `tagging_api=False` skips the Resource Groups Tagging API (kinds labkit does not delete go unseen).
    """
    report = report or TeardownReport(session_id, dry_run=True)
    calls = calls or _Calls(sandbox, sleep=time.sleep, attempts=6, base_delay=0.5, max_delay=8.0)
    ecs = _ecs(calls, session_id)
    services = [r for r in ecs if r.kind == "ecs:service"]
    found = (
        _autoscaling(calls, services)
        + _events(calls, session_id)
        + ecs
        + _elb(calls, session_id)
        + _ecr(calls, session_id)
        + _ec2(calls, session_id)
        + _logs(calls, session_id)
        + _alarms(calls, session_id)
        + _iam(calls, session_id)
        + _policies(calls, session_id)
    )
    order = {kind: i for i, kind in enumerate(DELETION_ORDER)}
    found.sort(key=lambda r: order.get(r.kind, len(order)))
    return found + (_others(calls, session_id, report) if tagging_api else [])


# -- deletion -------------------------------------------------------------------------------------


def _wait(calls: _Calls, what: str, gone: Callable[[], bool], timeout: float, interval: float) -> bool:
    """Wait on the sandbox's clock (`Sandbox.wait_until`) until `gone()`; False when `timeout` s pass first."""
    try:
        calls.sandbox.wait_until(gone, f"{what} going away", limit=timeout, step=interval)
    except WaitTimeoutError:
        return False
    return True


def _delete(calls: _Calls, r: Resource, *, wait_timeout: float, interval: float) -> None:
    kind = r.kind
    if kind == "application-autoscaling:scalable-target":
        calls(
            "application-autoscaling",
            "deregister_scalable_target",
            ServiceNamespace="ecs",
            ResourceId=r.id,
            ScalableDimension=r.get("dimension"),
        )
    elif kind == "events:rule":
        bus = r.get("bus") or "default"
        targets = calls("events", "list_targets_by_rule", Rule=r.name, EventBusName=bus).get("Targets", [])
        if targets:
            calls(
                "events",
                "remove_targets",
                Rule=r.name,
                EventBusName=bus,
                Ids=[t["Id"] for t in targets],
                Force=True,
            )
        calls("events", "delete_rule", Name=r.name, EventBusName=bus, Force=True)
    elif kind == "ecs:service":
        cluster = r.get("cluster")
        if r.get("status") == "ACTIVE":
            calls("ecs", "update_service", cluster=cluster, service=r.id, desiredCount=0)
            calls("ecs", "delete_service", cluster=cluster, service=r.id, force=True)

        def inactive() -> bool:
            answer = calls("ecs", "describe_services", cluster=cluster, services=[r.id])
            return all(s.get("status") == "INACTIVE" for s in answer.get("services", []))

        if not _wait(calls, str(r), inactive, wait_timeout, interval):
            raise _StillThere(f"{r} did not become INACTIVE within {wait_timeout:g} s")
    elif kind == "elasticloadbalancing:listener":
        calls("elbv2", "delete_listener", ListenerArn=r.id)
    elif kind == "elasticloadbalancing:loadbalancer":
        attributes = calls("elbv2", "describe_load_balancer_attributes", LoadBalancerArn=r.id)["Attributes"]
        if any(a["Key"] == "deletion_protection.enabled" and a["Value"] == "true" for a in attributes):
            # Ours (it carries the session's tag): the protection was the lab's, not someone else's.
            calls(
                "elbv2",
                "modify_load_balancer_attributes",
                LoadBalancerArn=r.id,
                Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
            )
        calls("elbv2", "delete_load_balancer", LoadBalancerArn=r.id)

        def balancer_gone() -> bool:
            try:
                calls("elbv2", "describe_load_balancers", LoadBalancerArns=[r.id])
            except ClientError as exc:
                if _code(exc) == "LoadBalancerNotFound":
                    return True
                raise
            return False

        if not _wait(calls, str(r), balancer_gone, wait_timeout, interval):
            raise _StillThere(f"{r} was still there {wait_timeout:g} s after its deletion")
    elif kind == "elasticloadbalancing:targetgroup":
        calls("elbv2", "delete_target_group", TargetGroupArn=r.id, retry_on=DEPENDENCY)
    elif kind == "ecr:repository":
        calls("ecr", "delete_repository", repositoryName=r.name, force=True)
    elif kind == "ecs:task-definition":
        calls("ecs", "deregister_task_definition", taskDefinition=r.id)
    elif kind == "ecs:cluster":

        def no_tasks() -> bool:
            if calls("ecs", "list_tasks", cluster=r.id, desiredStatus="RUNNING")["taskArns"]:
                return False
            stopping = calls("ecs", "list_tasks", cluster=r.id, desiredStatus="STOPPED")["taskArns"]
            for chunk in _chunks(stopping, 100):
                tasks = calls("ecs", "describe_tasks", cluster=r.id, tasks=chunk)["tasks"]
                if any(t.get("lastStatus") != "STOPPED" for t in tasks):
                    return False
            return True

        # A deleted service's tasks take a while to stop (a load balancer drains them first), and
        # DeleteCluster refuses while any task is not STOPPED (ClusterContainsTasksException).
        _wait(calls, str(r), no_tasks, wait_timeout, interval)
        calls("ecs", "delete_cluster", cluster=r.id, retry_on=DEPENDENCY)
    elif kind == "ec2:security-group":

        def unused() -> bool:
            filters = [{"Name": "group-id", "Values": [r.id]}]
            return not calls("ec2", "describe_network_interfaces", Filters=filters)["NetworkInterfaces"]

        # Task and load balancer network interfaces are released some time after what used them.
        _wait(calls, str(r), unused, wait_timeout, interval)
        calls("ec2", "delete_security_group", GroupId=r.id, retry_on=DEPENDENCY)
    elif kind == "logs:log-group":
        calls("logs", "delete_log_group", logGroupName=r.name)
    elif kind == "iam:role":
        for policy in calls.pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=r.name):
            calls("iam", "detach_role_policy", RoleName=r.name, PolicyArn=policy["PolicyArn"])
        for name in calls.pages("iam", "list_role_policies", "PolicyNames", RoleName=r.name):
            calls("iam", "delete_role_policy", RoleName=r.name, PolicyName=name)
        for profile in calls.pages(
            "iam", "list_instance_profiles_for_role", "InstanceProfiles", RoleName=r.name
        ):
            calls(
                "iam",
                "remove_role_from_instance_profile",
                InstanceProfileName=profile["InstanceProfileName"],
                RoleName=r.name,
            )
        calls("iam", "delete_role", RoleName=r.name, retry_on=DEPENDENCY)
    elif kind == "cloudwatch:alarm":
        calls("cloudwatch", "delete_alarms", AlarmNames=[r.name])
    elif kind == "iam:policy":
        entities = calls("iam", "list_entities_for_policy", PolicyArn=r.id)
        for role in entities.get("PolicyRoles", []):
            calls("iam", "detach_role_policy", RoleName=role["RoleName"], PolicyArn=r.id)
        for user in entities.get("PolicyUsers", []):
            calls("iam", "detach_user_policy", UserName=user["UserName"], PolicyArn=r.id)
        for group in entities.get("PolicyGroups", []):
            calls("iam", "detach_group_policy", GroupName=group["GroupName"], PolicyArn=r.id)
        for version in calls("iam", "list_policy_versions", PolicyArn=r.id).get("Versions", []):
            if not version.get("IsDefaultVersion"):
                calls("iam", "delete_policy_version", PolicyArn=r.id, VersionId=version["VersionId"])
        calls("iam", "delete_policy", PolicyArn=r.id, retry_on=DEPENDENCY)
    else:
        raise _StillThere(f"labkit does not delete {kind}; delete {r.id} yourself")


class _StillThere(Exception):
    """A resource that could not be deleted in this run (the reason is the message)."""


def _unlink_security_groups(calls: _Calls, groups: list[Resource]) -> None:
    """Revoke rules of the session's groups that reference another group (a reference blocks deletion)."""
    ids = [g.id for g in groups]
    if not ids:
        return
    for group in calls.pages("ec2", "describe_security_groups", "SecurityGroups", GroupIds=ids):
        for direction, field_name in (("ingress", "IpPermissions"), ("egress", "IpPermissionsEgress")):
            referencing = [p for p in group.get(field_name, []) if p.get("UserIdGroupPairs")]
            if not referencing:
                continue
            permissions = [
                {k: v for k, v in p.items() if k in ("IpProtocol", "FromPort", "ToPort", "UserIdGroupPairs")}
                for p in referencing
            ]
            for permission in permissions:
                permission["UserIdGroupPairs"] = [
                    {"GroupId": pair["GroupId"]} for pair in permission["UserIdGroupPairs"]
                ]
            operation = (
                "revoke_security_group_ingress" if direction == "ingress" else "revoke_security_group_egress"
            )
            try:
                calls("ec2", operation, GroupId=group["GroupId"], IpPermissions=permissions)
            except ClientError as exc:
                if _code(exc) not in ("InvalidPermission.NotFound",):
                    raise


def teardown(
    sandbox: Any,
    session_id: str,
    *,
    yes: bool = False,
    sleep: Callable[[float], Any] = time.sleep,
    attempts: int = 8,
    base_delay: float = 0.5,
    max_delay: float = 10.0,
    wait_timeout: float = 600.0,
    wait_interval: float = 5.0,
    on_event: Callable[[str], Any] | None = None,
    tagging_api: bool = True,
) -> TeardownReport:
    """List what `session_id` made in `sandbox` and, with `yes=True`, delete it in dependency order.

    Without `yes` nothing mutating is sent (a dry run). `sleep` is how the teardown waits between
    retries (a test passes a manual clock's advance); a wait for something to go away (a service to
    become INACTIVE, tasks to stop) is `Sandbox.wait_until` on the sandbox's clock, asking every
    `wait_interval` and giving up after `wait_timeout` (emulated) seconds; `tagging_api=False` skips the
    Resource Groups Tagging API (see `discover`). Returns the report; raises
    `TeardownIncompleteError` listing what remains when a fresh listing after deleting still finds
    resources of the session, and `LabkitError` for an empty session id.
    """
    if not session_id:
        raise LabkitError("teardown needs a session id (the value of the labkit:session tag)")
    say = on_event or (lambda _: None)
    calls = _Calls(sandbox, sleep=sleep, attempts=attempts, base_delay=base_delay, max_delay=max_delay)
    report = TeardownReport(session_id, dry_run=not yes)
    report.found = discover(sandbox, session_id, report=report, calls=calls, tagging_api=tagging_api)
    for resource in report.found:
        say(("would delete " if not yes else "found ") + str(resource))
    if not yes or not report.found:
        say(report.summary())
        return report
    _unlink_security_groups(calls, [r for r in report.found if r.kind == "ec2:security-group"])
    for resource in report.found:
        try:
            _delete(calls, resource, wait_timeout=wait_timeout, interval=wait_interval)
        except ClientError as exc:
            if _code(exc) in GONE:
                report.deleted.append(resource)
                continue
            report.problems.append(f"{resource}: {_code(exc) or exc}: {exc}")
            say(f"could not delete {resource}: {exc}")
            continue
        except _StillThere as exc:
            report.problems.append(str(exc))
            say(str(exc))
            continue
        report.deleted.append(resource)
        say(f"deleted {resource}")
    # Done means a fresh listing finds nothing with the session's tag.
    report.remaining = discover(sandbox, session_id, report=report, calls=calls, tagging_api=tagging_api)
    report.deleted = [r for r in report.deleted if r not in report.remaining]
    say(report.summary())
    if report.remaining:
        raise TeardownIncompleteError(session_id, report.remaining, report)
    return report


def recorded_sessions() -> list[str]:
    """The aws sessions that labs opened on this machine (from the learner's progress files)."""
    import json

    from labkit.config import state_dir

    sessions: list[str] = []
    for path in sorted((state_dir() / "progress").glob("*.json")):
        try:
            value = json.loads(path.read_text(encoding="utf-8")).get("aws_session")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value not in sessions:
            sessions.append(value)
    return sessions


def run_teardown(
    *,
    mode: str = "aws",
    session: str | None = None,
    yes: bool = False,
    on_event: Callable[[str], Any] | None = None,
    **options: Any,
) -> list[TeardownReport]:
    """Tear down `session` (default: every aws session recorded here) in the account of `mode`.

    `mode` is `aws` (behind the account guards) or `server` (the running sandbox server, where
    `session` is required). Raises `LabkitError` when there is no session to tear down,
    `SandboxNotRunningError`, `AccountNotAllowedError`, and `TeardownIncompleteError` listing what
    remains of every session when anything does.
    """
    from labkit.sandbox import open_sandbox

    if mode not in ("aws", "server"):
        raise LabkitError(f"teardown works in mode aws or server, not {mode!r}")
    if session:
        sessions = [session]
    elif mode == "aws":
        sessions = recorded_sessions()
        if not sessions:
            raise LabkitError("no aws session is recorded on this machine; name one with --session")
    else:
        raise LabkitError("in server mode name the session whose tag to delete with --session")
    if mode == "server":
        from labkit.errors import SandboxNotRunningError
        from labkit.sandbox.server import running_server

        if running_server() is None:
            raise SandboxNotRunningError("`labkit teardown --mode server` cleans the running server")
    reports: list[TeardownReport] = []
    remaining: list[Resource] = []
    with open_sandbox(mode, **options) as sandbox:
        for session_id in sessions:
            try:
                reports.append(teardown(sandbox, session_id, yes=yes, on_event=on_event))
            except TeardownIncompleteError as exc:
                remaining.extend(exc.remaining)
                if exc.report is not None:
                    reports.append(exc.report)
    if remaining:
        raise TeardownIncompleteError(", ".join(sessions), remaining)
    return reports
