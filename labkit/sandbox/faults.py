"""Faults: break a running ECS service on purpose, as a real misconfiguration would break it.

For an instructor (`labkit sandbox fault`, `Sandbox.inject_fault`) or a lab's setup. Each fault is
a change made through the AWS API (a new task definition revision, a changed target group, a revoked
security group rule, a detached policy) or through the load model (`set_load`), never a flag: what a
learner can read back is what AWS would show, and the symptoms are the simulator's ordinary answers
to that change (stop reasons, service events, target health, the container's log). Nothing an
injection leaves in the account names labkit or a fault.

`inject(driver, fault, service=..., cluster=...)` performs one on anything with `client(service)`
and `set_load(...)` (a `Sandbox`, or the emulator's own driver behind the grader-only control
endpoint `/_labkit/faults`). `FAULTS` is the catalogue: what each one changes, where it shows, how it
is fixed. The book's chapter "Operating a service" quotes the symptoms; `tests/sandbox/test_faults.py`
checks each against the simulator.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from labkit.errors import LabkitError

__all__ = [
    "FAULTS",
    "Fault",
    "FaultDriver",
    "FaultError",
    "catalogue",
    "inject",
    "typo",
]


class FaultError(LabkitError):
    """A fault cannot be injected: unknown, or the service lacks what it breaks (exit code 2)."""

    exit_code = 2


class FaultDriver(Protocol):
    """What a fault needs of a sandbox: clients of its account and its load model."""

    def client(self, service: str, **kwargs: Any) -> Any: ...

    def set_load(
        self,
        *,
        cluster: str | None = None,
        service: str | None = None,
        cpu: float | None = None,
        memory: float | None = None,
        target_group: str | None = None,
        requests_per_second: float | None = None,
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Fault:
    """One kind of misconfiguration: what it changes, where it shows, how it is fixed."""

    name: str
    changes: str
    symptoms: str
    fix: str
    apply: Callable[[_Service], dict[str, Any]]

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "changes": self.changes, "symptoms": self.symptoms, "fix": self.fix}


#: The fields of a task definition RegisterTaskDefinition takes back.
_REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
)


class _Service:
    """The service a fault breaks, with what the faults need to read and change of it."""

    def __init__(self, driver: FaultDriver, cluster: str, service: str) -> None:
        self.driver = driver
        self.cluster = cluster
        self.ecs = driver.client("ecs")
        try:
            found = self.ecs.describe_services(cluster=cluster, services=[service])
        except ClientError as exc:
            raise FaultError(f"cannot read service {service} in cluster {cluster}: {exc}") from exc
        active = [s for s in found.get("services", []) if s.get("status") == "ACTIVE"]
        if not active:
            raise FaultError(f"no active service {service} in cluster {cluster}")
        self.service = active[0]
        self.name = str(self.service["serviceName"])
        described = self.ecs.describe_task_definition(
            taskDefinition=self.service["taskDefinition"], include=["TAGS"]
        )
        self.definition: dict[str, Any] = described["taskDefinition"]
        self.tags: list[dict[str, str]] = list(described.get("tags") or [])

    @property
    def containers(self) -> list[dict[str, Any]]:
        return list(self.definition.get("containerDefinitions") or [])

    def main_container(self) -> dict[str, Any]:
        """The container behind the load balancer, else the first essential one."""
        names = [lb.get("containerName") for lb in self.service.get("loadBalancers") or []]
        for container in self.containers:
            if container.get("name") in names:
                return container
        for container in self.containers:
            if container.get("essential", True):
                return container
        raise FaultError(f"service {self.name}'s task definition has no essential container")

    def target_group_arns(self) -> list[str]:
        arns = [
            str(lb["targetGroupArn"])
            for lb in self.service.get("loadBalancers") or []
            if lb.get("targetGroupArn")
        ]
        if not arns:
            raise FaultError(
                f"service {self.name} has no target group: this fault breaks a load-balanced service"
            )
        return arns

    def deploy(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Register a revision with `change` applied to a copy of the current one and deploy it."""
        params = {k: copy.deepcopy(v) for k, v in self.definition.items() if k in _REGISTER_FIELDS and v}
        change(params)
        if self.tags:
            params["tags"] = self.tags
        arn = self.ecs.register_task_definition(**params)["taskDefinition"]["taskDefinitionArn"]
        self.ecs.update_service(cluster=self.cluster, service=self.name, taskDefinition=arn)
        return {"taskDefinition": arn}

    def redeploy(self) -> None:
        """Start new tasks of the same revision (what a routine deployment does)."""
        self.ecs.update_service(cluster=self.cluster, service=self.name, forceNewDeployment=True)


def typo(image: str) -> str:
    """`image` with the last two letters of its repository's name swapped (`nginx` -> `ngixn`)."""
    digest = ""
    if "@" in image:
        image, digest = image.split("@", 1)
        digest = "@" + digest
    head, _, last = image.rpartition("/")
    name, colon, tag = last.partition(":")
    swappable = len(name) >= 2 and name[-1] != name[-2]
    name = name[:-2] + name[-1] + name[-2] if swappable else name + "x"
    return f"{head}{'/' if head else ''}{name}{colon}{tag}{digest}"


# -- the faults -------------------------------------------------------------------------------


def _unpullable_image(target: _Service) -> dict[str, Any]:
    main = target.main_container()
    bad = typo(str(main["image"]))

    def change(params: dict[str, Any]) -> None:
        for container in params["containerDefinitions"]:
            if container["name"] == main["name"]:
                container["image"] = bad

    return {**target.deploy(change), "image": bad}


def _execution_role(target: _Service) -> dict[str, Any]:
    role_arn = target.definition.get("executionRoleArn")
    if not role_arn:
        raise FaultError(
            f"service {target.name}'s task definition has no execution role to take permissions from"
        )
    uses_role = any(
        ".dkr.ecr." in str(c.get("image", ""))
        or (c.get("logConfiguration") or {}).get("logDriver") == "awslogs"
        for c in target.containers
    )
    if not uses_role:
        raise FaultError(
            f"service {target.name} pulls no image from ECR and sends no awslogs: "
            "its execution role has nothing to fail at"
        )
    iam = target.driver.client("iam")
    role = str(role_arn).rsplit("/", 1)[-1]
    detached = []
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        detached.append(policy["PolicyArn"])
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
        detached.append(name)
    target.redeploy()
    return {"role": role, "removed": detached}


def _task_role(target: _Service) -> dict[str, Any]:
    role_arn = target.definition.get("taskRoleArn")
    if not role_arn:
        raise FaultError(f"service {target.name}'s task definition has no task role to take permissions from")
    iam = target.driver.client("iam")
    role = str(role_arn).rsplit("/", 1)[-1]
    removed = []
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
        removed.append(policy["PolicyArn"])
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
        removed.append(name)
    if not removed:
        raise FaultError(f"task role {role} has no policy to remove")
    return {"role": role, "removed": removed}


HEALTH_CHECK_PATH = "/healthz"
HEALTH_CHECK_PORT = "8080"


def _health_check_path(target: _Service) -> dict[str, Any]:
    elbv2 = target.driver.client("elbv2")
    for arn in target.target_group_arns():
        elbv2.modify_target_group(TargetGroupArn=arn, HealthCheckPath=HEALTH_CHECK_PATH)
    return {"targetGroups": target.target_group_arns(), "healthCheckPath": HEALTH_CHECK_PATH}


def _health_check_port(target: _Service) -> dict[str, Any]:
    elbv2 = target.driver.client("elbv2")
    ports = {
        int(lb["containerPort"])
        for lb in target.service.get("loadBalancers") or []
        if lb.get("containerPort")
    }
    port = HEALTH_CHECK_PORT if int(HEALTH_CHECK_PORT) not in ports else "8081"
    for arn in target.target_group_arns():
        elbv2.modify_target_group(TargetGroupArn=arn, HealthCheckPort=port)
    return {"targetGroups": target.target_group_arns(), "healthCheckPort": port}


def _security_group(target: _Service) -> dict[str, Any]:
    ec2, elbv2 = target.driver.client("ec2"), target.driver.client("elbv2")
    sources: set[str] = set()
    for arn in target.target_group_arns():
        group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        if group.get("LoadBalancerArns"):
            for lb in elbv2.describe_load_balancers(LoadBalancerArns=group["LoadBalancerArns"])[
                "LoadBalancers"
            ]:
                sources.update(lb.get("SecurityGroups") or [])
    vpc = (target.service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    groups = list(vpc.get("securityGroups") or [])
    if not groups or not sources:
        raise FaultError(
            f"service {target.name} has no task security groups and load balancer security groups to come between"
        )
    revoked: list[dict[str, Any]] = []
    for group in ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]:
        for permission in group.get("IpPermissions") or []:
            pairs = [p for p in permission.get("UserIdGroupPairs") or [] if p.get("GroupId") in sources]
            ranges = list(permission.get("IpRanges") or [])
            if not pairs and not ranges:
                continue
            rule = {k: v for k, v in permission.items() if k in ("IpProtocol", "FromPort", "ToPort")}
            if pairs:
                rule["UserIdGroupPairs"] = [{"GroupId": p["GroupId"]} for p in pairs]
            if ranges:
                rule["IpRanges"] = [{"CidrIp": r["CidrIp"]} for r in ranges]
            ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[rule])
            revoked.append({"GroupId": group["GroupId"], **rule})
    if not revoked:
        raise FaultError(
            f"the security groups of service {target.name} have no rule letting the load balancer in"
        )
    return {"revoked": revoked}


SIDECAR_NAME = "config-agent"
SIDECAR_IMAGE = "public.ecr.aws/docker/library/busybox:1.36"
SIDECAR_COMMAND = ["sh", "-c", "echo 'config-agent: cannot open /etc/agent/agent.yaml'; exit 1"]


def _sidecar_exits(target: _Service) -> dict[str, Any]:
    def change(params: dict[str, Any]) -> None:
        params["containerDefinitions"] = [
            c for c in params["containerDefinitions"] if c.get("name") != SIDECAR_NAME
        ] + [
            {
                "name": SIDECAR_NAME,
                "image": SIDECAR_IMAGE,
                "essential": True,
                "command": SIDECAR_COMMAND,
                **({"memory": 32} if params.get("memory") is None else {}),
            }
        ]

    return {**target.deploy(change), "container": SIDECAR_NAME}


#: The hard limit the out-of-memory fault gives the main container, and what each task then needs.
OOM_LIMIT_MIB = 128
OOM_NEED_MIB = 300


def _out_of_memory(target: _Service) -> dict[str, Any]:
    main = target.main_container()

    def change(params: dict[str, Any]) -> None:
        for container in params["containerDefinitions"]:
            if container["name"] == main["name"]:
                container["memory"] = OOM_LIMIT_MIB
                reservation = container.get("memoryReservation")
                if reservation is not None and int(reservation) > OOM_LIMIT_MIB:
                    container["memoryReservation"] = OOM_LIMIT_MIB

    deployed = target.deploy(change)
    desired = max(int(target.service.get("desiredCount") or 1), 1)
    target.driver.set_load(cluster=target.cluster, service=target.name, memory=float(OOM_NEED_MIB * desired))
    return {
        **deployed,
        "container": main["name"],
        "memoryLimit": OOM_LIMIT_MIB,
        "load": OOM_NEED_MIB * desired,
    }


def _capacity(target: _Service) -> dict[str, Any]:
    if target.service.get("launchType") == "FARGATE" or any(
        s.get("capacityProvider") in ("FARGATE", "FARGATE_SPOT")
        for s in target.service.get("capacityProviderStrategy") or []
    ):
        raise FaultError(
            f"service {target.name} runs on Fargate: capacity faults need a service on EC2 instances"
        )
    largest = 0
    arns = target.ecs.list_container_instances(cluster=target.cluster)["containerInstanceArns"]
    if arns:
        described = target.ecs.describe_container_instances(cluster=target.cluster, containerInstances=arns)
        for instance in described["containerInstances"]:
            for resource in instance.get("registeredResources") or []:
                if resource.get("name") == "MEMORY":
                    largest = max(largest, int(resource.get("integerValue") or 0))
    memory = max(largest, 1024) * 2

    def change(params: dict[str, Any]) -> None:
        params["memory"] = str(memory)

    return {**target.deploy(change), "memory": memory}


FAULTS: dict[str, Fault] = {
    fault.name: fault
    for fault in (
        Fault(
            "unpullable-image",
            "a new revision whose main container's image name has a typo; the service deploys it",
            "stopped tasks: stoppedReason CannotPullContainerError; service events: tasks keep starting",
            "deploy a revision with the right image name",
            _unpullable_image,
        ),
        Fault(
            "execution-role",
            "every policy of the task definition's execution role is removed; the service redeploys",
            "stopped tasks: stoppedReason ResourceInitializationError / CannotPullContainerError with AccessDenied",
            "attach AmazonECSTaskExecutionRolePolicy (ECR pull, CloudWatch Logs) to the execution role",
            _execution_role,
        ),
        Fault(
            "task-role",
            "every policy of the task definition's task role is removed",
            "the container's log: AccessDenied; stopped tasks: Essential container in task exited, exit code 1",
            "give the task role the permission the application uses",
            _task_role,
        ),
        Fault(
            "health-check-path",
            f"the target group's health check path becomes {HEALTH_CHECK_PATH}, which the application does not serve",
            "target health: unhealthy, Target.ResponseCodeMismatch, Health checks failed with these codes: [404]; "
            "service events: failed ELB health checks",
            "set the health check path to one the application answers with 200",
            _health_check_path,
        ),
        Fault(
            "health-check-port",
            f"the target group health-checks port {HEALTH_CHECK_PORT}, where the container does not listen",
            "target health: unhealthy, Target.Timeout, Request timed out; service events: failed ELB health checks",
            "set the health check port back to traffic-port (the container port)",
            _health_check_port,
        ),
        Fault(
            "security-group",
            "the tasks' security group rule that lets the load balancer in is revoked",
            "target health: unhealthy, Target.Timeout, Request timed out; service events: failed ELB health checks",
            "authorize ingress on the container port from the load balancer's security group",
            _security_group,
        ),
        Fault(
            "sidecar-exits",
            f"a new revision adds an essential sidecar {SIDECAR_NAME} whose command exits 1",
            "stopped tasks: Essential container in task exited, stopCode EssentialContainerExited, "
            f"container {SIDECAR_NAME} exitCode 1",
            "make the sidecar non-essential or fix its command (or deploy the revision without it)",
            _sidecar_exits,
        ),
        Fault(
            "out-of-memory",
            f"a new revision gives the main container a hard memory limit of {OOM_LIMIT_MIB} MiB, "
            f"and the service gets load that needs {OOM_NEED_MIB} MiB a task",
            "stopped tasks: Essential container in task exited; container exitCode 137, "
            "reason OutOfMemoryError: Container killed due to memory usage",
            "raise the container's memory limit above what it needs (or run more tasks)",
            _out_of_memory,
        ),
        Fault(
            "capacity",
            "a new revision needs twice the memory of the cluster's largest container instance",
            "service events: was unable to place a task because no container instance met all of its requirements",
            "size the task for the instances, or add larger instances",
            _capacity,
        ),
    )
}


def catalogue() -> list[dict[str, str]]:
    """Every fault: name, what it changes, where it shows, how it is fixed."""
    return [fault.describe() for fault in FAULTS.values()]


def inject(driver: FaultDriver, fault: str, *, service: str, cluster: str = "default") -> dict[str, Any]:
    """Break `service` of `cluster` with `fault`; return what was changed.

    Raises `FaultError` for an unknown fault or a service that lacks what the fault breaks.
    """
    kind = FAULTS.get(fault)
    if kind is None:
        raise FaultError(f"no fault {fault!r}; the faults are: {', '.join(FAULTS)}")
    target = _Service(driver, cluster, service)
    changed = kind.apply(target)
    return {"fault": fault, "cluster": cluster, "service": target.name, "changed": changed}
