"""ECS in the simulator: the task lifecycle, the service scheduler, rolling deployments and events.

Timings are emulated seconds (a `realtime` sandbox runs them 30 times faster by default). They are
of the order AWS shows: a Fargate task spends a few seconds PROVISIONING (its network interface is
attached), some more PENDING (the image is pulled), then RUNNING; stopping goes through
DEACTIVATING (load balancer draining), STOPPING and DEPROVISIONING to STOPPED.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import ipaddress
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.dataplane.commands import CommandPlan, interpret
from labkit.dataplane.images import task_hostname
from labkit.ecs.placement import TaskRequirements
from labkit.sandbox import moto_seam
from labkit.sandbox.simulator import ecs_events
from labkit.sandbox.simulator.addresses import documentation_public_ip, public_ips_in_use
from labkit.sandbox.simulator.capacity import Ec2Capacity
from labkit.sandbox.simulator.core import describe_exception
from labkit.sandbox.simulator.elb import UNHEALTHY_NOTICE_SECONDS
from labkit.sandbox.simulator.managed_scaling import ManagedScaling

if TYPE_CHECKING:
    from labkit.dataplane.images import TaskServer
    from labkit.sandbox.simulator.core import Simulator

__all__ = [
    "DEFAULT_TIMINGS",
    "DeploymentRuntime",
    "EcsSimulator",
    "ServiceRuntime",
    "TaskRuntime",
    "service_snapshot",
]

#: Emulated seconds spent in each phase, by launch type.
DEFAULT_TIMINGS: dict[str, dict[str, float]] = {
    "FARGATE": {"PROVISIONING": 5, "PENDING": 14, "ACTIVATING": 2, "STOPPING": 2, "DEPROVISIONING": 5},
    "EC2": {"PROVISIONING": 1, "PENDING": 4, "ACTIVATING": 1, "STOPPING": 2, "DEPROVISIONING": 1},
}

ACTIVE_STATES = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")
STARTING_STATES = ("PROVISIONING", "PENDING", "ACTIVATING")
#: A service whose reconcile raised waits this long (emulated seconds) before the next try,
#: doubling on each fault up to `RECONCILE_RETRY_MAX`.
RECONCILE_RETRY_FIRST = 10.0
RECONCILE_RETRY_MAX = 300.0
#: How often (emulated seconds) a DRAINING service is looked at to see whether it is INACTIVE yet.
DRAINING_CHECK_SECONDS = 5.0
#: AWS's limit on a task's stoppedReason.
STOPPED_REASON_MAX = 255
#: A task with no load balancer and no container health check counts toward minimumHealthyPercent
#: 40 s after it reaches RUNNING (botocore's ECS model, DeploymentConfiguration.minimumHealthyPercent:
#: "the service scheduler will wait for 40 seconds after a task reaches a RUNNING state before the
#: task is counted towards the minimum healthy percent total").
UNMONITORED_HEALTHY_SECONDS = 40.0


def _service_key(cluster: str, name: str) -> str:
    return f"{cluster}:{name}"


def container_plan(definition: dict[str, Any]) -> CommandPlan:
    """What a container definition's entryPoint and command do in the sandbox (never run on the host)."""
    return interpret(definition.get("entryPoint"), definition.get("command"))


@dataclass
class TaskRuntime:
    """What the simulator knows about one task beside moto's record of it."""

    task: Any
    cluster: str
    launch_type: str
    service_key: str | None = None
    deployment_id: str | None = None
    private_ip: str | None = None
    subnet_id: str | None = None
    availability_zone: str | None = None
    eni_id: str | None = None
    container_instance_arn: str | None = None
    ec2_instance_id: str | None = None
    # (container name, container port) -> host port
    host_ports: dict[tuple[str, int], int] = field(default_factory=dict)
    servers: dict[tuple[str, int], TaskServer] = field(default_factory=dict)
    targets: list[tuple[str, str, int]] = field(default_factory=list)
    requirements: TaskRequirements | None = None
    became_healthy: bool = False
    counted_failed: bool = False
    #: The last status the simulator set (moto's `last_status` goes through its state manager: slow).
    state: str = ""

    @property
    def arn(self) -> str:
        return str(self.task.task_arn)

    @property
    def status(self) -> str:
        return self.state or str(self.task.last_status)

    @property
    def desired(self) -> str:
        return str(self.task.desired_status)


@dataclass
class DeploymentRuntime:
    """One deployment of a service (moto keeps the dict the API returns; this keeps the rest)."""

    record: dict[str, Any]
    task_definition: str
    #: The id the deployment was created with (moto re-ids its record in place on forceNewDeployment).
    deployment_id: str = ""

    def __post_init__(self) -> None:
        self.deployment_id = self.deployment_id or str(self.record["id"])

    @property
    def id(self) -> str:
        return self.deployment_id


@dataclass
class ServiceRuntime:
    """The scheduler's view of one service."""

    key: str
    cluster: str
    name: str
    service: Any
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    circuit_breaker: bool = False
    rollback: bool = False
    grace_seconds: int = 0
    deployments: list[DeploymentRuntime] = field(default_factory=list)
    steady: bool = False
    #: Something that can change the scheduler's decision happened since the last reconcile.
    dirty: bool = True
    stall_reason: str | None = None
    placement_problem: str | None = None
    #: The last labkit fault its reconcile hit (shown once as a service event), and when to retry.
    fault_reason: str | None = None
    fault_backoff: float = 0.0
    retry_at: dt.datetime | None = None


class EcsSimulator:
    """Starts, runs and stops tasks, and keeps every service at its desired count."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.timings = {k: dict(v) for k, v in DEFAULT_TIMINGS.items()}
        self.tasks: dict[str, TaskRuntime] = {}
        # Each service's tasks whose desired status may still be RUNNING (the scheduler reads these
        # many times per step; scanning every task ever started made a day of scaling slow).
        self._service_tasks: dict[str, list[TaskRuntime]] = {}
        self.services: dict[str, ServiceRuntime] = {}
        self._used_ips: dict[str, set[str]] = {}
        self._subnet_turn: dict[str, int] = {}
        self.capacity = Ec2Capacity(sim)
        self.managed_scaling = ManagedScaling(sim)
        #: Deleted services still DRAINING, with the tasks they were running.
        self._draining: list[tuple[Any, list[TaskRuntime]]] = []

    # -- moto access ------------------------------------------------------------------------

    @property
    def backend(self) -> Any:
        return moto_seam.backend("ecs", self.sim.account_id, self.sim.region)

    @property
    def ec2(self) -> Any:
        return moto_seam.backend("ec2", self.sim.account_id, self.sim.region)

    # -- events -----------------------------------------------------------------------------

    def event(self, runtime: ServiceRuntime, message: str) -> None:
        """Add a service event (newest first, as DescribeServices returns them)."""
        runtime.service.events.insert(
            0,
            {
                "id": str(uuid.UUID(int=self.sim.random.getrandbits(128))),
                "createdAt": self.sim.now(),
                "message": message,
            },
        )
        del runtime.service.events[100:]

    # -- tasks ------------------------------------------------------------------------------

    def start_task(
        self,
        *,
        cluster: Any,
        task_definition: Any,
        launch_type: str,
        network_configuration: dict[str, Any] | None,
        group: str,
        started_by: str = "",
        overrides: dict[str, Any] | None = None,
        tags: list[dict[str, str]] | None = None,
        service_key: str | None = None,
        deployment_id: str | None = None,
        placement: tuple[str, str, dict[tuple[str, int], int]] | None = None,
        requirements: TaskRequirements | None = None,
    ) -> TaskRuntime:
        """Create a task in PROVISIONING and schedule its way to RUNNING."""
        now = self.sim.now()
        network_mode = task_definition.network_mode or ("awsvpc" if launch_type == "FARGATE" else "bridge")
        subnet_id: str | None = None
        moto_network: dict[str, Any] | None = None
        if network_mode == "awsvpc":
            awsvpc = dict((network_configuration or {}).get("awsvpcConfiguration") or {})
            subnets = list(awsvpc.get("subnets") or [])
            subnet_id = self._next_subnet(group, subnets)
            moto_network = {
                "awsvpcConfiguration": {
                    "subnets": [subnet_id],
                    "securityGroups": list(awsvpc.get("securityGroups") or []),
                }
            }
        task = moto_seam.ecs.new_task(
            cluster,
            task_definition,
            placement[0] if placement else None,
            backend=self.backend,
            group=group,
            launch_type=launch_type,
            overrides=overrides or {},
            started_by=started_by,
            tags=tags or [],
            networking_configuration=moto_network,
            platform_version="1.4.0" if launch_type == "FARGATE" else None,
        )
        runtime = TaskRuntime(
            task=task,
            cluster=cluster.name,
            launch_type=launch_type,
            service_key=service_key,
            deployment_id=deployment_id,
        )
        runtime.requirements = requirements
        if placement:
            runtime.container_instance_arn, runtime.ec2_instance_id, runtime.host_ports = placement
        if subnet_id is not None:
            self._attach_network(runtime, subnet_id, network_configuration or {})
        elif runtime.ec2_instance_id:
            instance = self.ec2.get_instance_by_id(runtime.ec2_instance_id)
            runtime.private_ip = instance.private_ip
            runtime.availability_zone = instance.availability_zone
        self._describe_new_task(runtime, task_definition, now)
        self.backend.tasks.setdefault(cluster.name, {})[runtime.arn] = task
        self.tasks[runtime.arn] = runtime
        if service_key is not None:
            self._service_tasks.setdefault(service_key, []).append(runtime)
        self._enter(runtime, "PROVISIONING")
        return runtime

    def _next_subnet(self, group: str, subnets: list[str]) -> str:
        # Spread a group's tasks over its subnets (and so over availability zones), as ECS does.
        turn = self._subnet_turn.get(group, 0)
        self._subnet_turn[group] = turn + 1
        return subnets[turn % len(subnets)]

    def _attach_network(
        self, runtime: TaskRuntime, subnet_id: str, network_configuration: dict[str, Any]
    ) -> None:
        task = runtime.task
        subnet = self.ec2.get_subnet(subnet_id)
        address = self._allocate_ip(subnet)
        eni_id = next(d["value"] for d in task.attachments[0]["details"] if d["name"] == "networkInterfaceId")
        eni = self.ec2.get_network_interface(eni_id)
        hostname = task_hostname(address, self.sim.region)
        eni.private_ip_address = address
        eni.private_dns_name = hostname
        eni.private_ip_addresses = [
            {"Primary": True, "PrivateIpAddress": address, "PrivateDnsName": hostname}
        ]
        eni.description = (
            f"arn:aws:ecs:{self.sim.region}:{self.sim.account_id}:attachment/{task.attachments[0]['id']}"
        )
        eni.requester_managed = True
        eni.interface_type = "interface"
        awsvpc = network_configuration.get("awsvpcConfiguration") or {}
        if awsvpc.get("assignPublicIp") == "ENABLED":
            # From a documentation range, never Amazon's (ARCHITECTURE.md, "The simulator").
            eni.public_ip = documentation_public_ip(self.sim.random, public_ips_in_use(self.ec2))
        for detail in task.attachments[0]["details"]:
            if detail["name"] == "privateIPv4Address":
                detail["value"] = address
            if detail["name"] == "privateDnsName":
                detail["value"] = hostname
        task.attachments[0]["status"] = "PRECREATED"
        runtime.private_ip = address
        runtime.subnet_id = subnet_id
        runtime.availability_zone = subnet.availability_zone
        runtime.eni_id = eni_id

    def _allocate_ip(self, subnet: Any) -> str:
        network = ipaddress.ip_network(subnet.cidr_block)
        used = self._used_ips.setdefault(subnet.id, set())
        # AWS reserves the first four addresses and the last one of every subnet.
        first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1
        size = last - first + 1
        if size <= len(used):
            raise moto_seam.ecs.client_error(f"The subnet {subnet.id} has no free IP address left.")
        # Start at a random low offset and take the next free address: O(1) while the subnet is roomy.
        offset = self.sim.random.randrange(min(size, 50))
        for step in range(size):
            address = str(ipaddress.IPv4Address(first + (offset + step) % size))
            if address not in used:
                used.add(address)
                return address
        raise AssertionError("unreachable: a free address was counted")

    def _describe_new_task(self, runtime: TaskRuntime, task_definition: Any, now: dt.datetime) -> None:
        task = runtime.task
        task.created_at = now
        task.version = 1
        task.health_status = "UNKNOWN"
        task.connectivity = "CONNECTED"
        task.connectivity_at = now
        task.cpu = task_definition.cpu or None
        task.memory = task_definition.memory or None
        task.availability_zone = runtime.availability_zone
        task.platform_family = "Linux" if runtime.launch_type == "FARGATE" else None
        task.container_instance_arn = runtime.container_instance_arn
        if runtime.launch_type == "FARGATE":
            # Fargate gives 20 GiB unless the task definition asks for 21..200.
            size = (task_definition.ephemeral_storage or {}).get("sizeInGiB", 20)
            task.ephemeral_storage = {"sizeInGiB": size}
        containers = []
        for definition in task_definition.container_definitions:
            name = definition.get("name")
            bindings = []
            for mapping in definition.get("portMappings") or []:
                container_port = int(mapping.get("containerPort", 0))
                host = runtime.host_ports.get(
                    (name, container_port), int(mapping.get("hostPort") or container_port)
                )
                bindings.append(
                    {
                        "bindIP": "0.0.0.0",
                        "containerPort": container_port,
                        "hostPort": host,
                        "protocol": mapping.get("protocol", "tcp"),
                    }
                )
            container: dict[str, Any] = {
                "containerArn": f"arn:aws:ecs:{self.sim.region}:{self.sim.account_id}:container/{runtime.cluster}/{task.id}/{uuid.UUID(int=self.sim.random.getrandbits(128))}",
                "taskArn": runtime.arn,
                "name": name,
                "image": definition.get("image"),
                "lastStatus": "PENDING",
                "healthStatus": "UNKNOWN",
                "cpu": str(definition.get("cpu", 0)),
                "networkBindings": bindings if runtime.launch_type != "FARGATE" else [],
                "networkInterfaces": (
                    [{"attachmentId": task.attachments[0]["id"], "privateIpv4Address": runtime.private_ip}]
                    if runtime.eni_id
                    else []
                ),
            }
            if definition.get("memory") is not None:
                container["memory"] = str(definition["memory"])
            if definition.get("memoryReservation") is not None:
                container["memoryReservation"] = str(definition["memoryReservation"])
            containers.append(container)
        task.containers = containers

    # -- the lifecycle ----------------------------------------------------------------------

    def _enter(self, runtime: TaskRuntime, status: str) -> None:
        task = runtime.task
        now = self.sim.now()
        task.last_status = status
        runtime.state = status
        self.touch(runtime.service_key)
        task.version += 1
        timing = self.timings.get(runtime.launch_type, self.timings["FARGATE"])
        if status == "PROVISIONING":
            self._step_later(runtime, timing["PROVISIONING"], "PENDING")
        elif status == "PENDING":
            if task.attachments:
                task.attachments[0]["status"] = "ATTACHED"
            task.pull_started_at = now
            self._step_later(runtime, timing["PENDING"], "ACTIVATING")
        elif status == "ACTIVATING":
            task.pull_stopped_at = now
            self.sim.workloads.task_activating(runtime)
            self._step_later(runtime, timing["ACTIVATING"], "RUNNING")
        elif status == "RUNNING":
            task.started_at = now
            if runtime.service_key and not runtime.targets:
                # Its service's scheduler looks again when the task starts to count as healthy.
                self.sim.after(
                    UNMONITORED_HEALTHY_SECONDS,
                    functools.partial(self.touch, runtime.service_key),
                    f"task {task.id} counts as healthy",
                )
            self._start_containers(runtime)
            self.sim.elb.task_running(runtime)
            self._schedule_exit(runtime)
            self.sim.workloads.task_running(runtime)
        elif status == "DEACTIVATING":
            delay = self.sim.elb.task_stopping(runtime)
            self._step_later(runtime, delay, "STOPPING")
        elif status == "STOPPING":
            task.stopping_at = now
            self.sim.workloads.task_stopping(runtime)
            self._stop_containers(runtime)
            self._step_later(runtime, timing["STOPPING"], "DEPROVISIONING")
        elif status == "DEPROVISIONING":
            task.execution_stopped_at = now
            if task.attachments:
                task.attachments[0]["status"] = "DETACHING"
            self._step_later(runtime, timing["DEPROVISIONING"], "STOPPED")
        elif status == "STOPPED":
            task.stopped_at = now
            self._release(runtime)
            # Its deployment may now be empty: the service's deployments are updated at once.
            self.touch(runtime.service_key)
        if task.last_status == status:
            # (A stop during the step already sent the newer state.)
            ecs_events.task_state_change(self.sim, runtime)

    def _step_later(self, runtime: TaskRuntime, seconds: float, status: str) -> None:
        """Move the task to `status` in `seconds`; a fault on the way stops the task (`_step_failed`)."""
        self.sim.after(
            seconds,
            functools.partial(self._advance, runtime, status),
            f"task {runtime.task.id} -> {status}",
            on_error=functools.partial(self._step_failed, runtime, status),
        )

    def _step_failed(self, runtime: TaskRuntime, toward: str, exc: Exception) -> None:
        """A step of a task's lifecycle raised: the task stops with a reason, as a failed task does on AWS.

        A task that was starting stops with `TaskFailedToStart`; one already on its way down goes
        straight to STOPPED (its stop reason stays), so no task is left half-way for ever.
        """
        detail = f"labkit simulator fault while moving to {toward}: {describe_exception(exc)}"
        if runtime.desired != "STOPPED":
            starting = toward in ("PENDING", "ACTIVATING", "RUNNING") or runtime.status in STARTING_STATES
            code = "TaskFailedToStart" if starting else "EssentialContainerExited"
            reason = f"Task failed to start ({detail})" if starting else detail
            try:
                self.stop(runtime, reason[:STOPPED_REASON_MAX], stop_code=code, failed=True)
                return
            except Exception as again:  # noqa: BLE001 - stopping failed too: stop it the short way
                self.sim.contain(f"task {runtime.task.id} (stopping after a fault)", again)
        self._force_stopped(runtime, detail)

    def _force_stopped(self, runtime: TaskRuntime, detail: str) -> None:
        """Put a task in STOPPED at once, touching as little as possible (its lifecycle failed)."""
        task = runtime.task
        now = self.sim.now()
        if runtime.desired != "STOPPED":
            task.stopped_reason = f"Task failed to start ({detail})"[:STOPPED_REASON_MAX]
            task.stop_code = "TaskFailedToStart"
        task.desired_status = "STOPPED"
        task.last_status = "STOPPED"
        runtime.state = "STOPPED"
        for stamp in ("stopping_at", "execution_stopped_at", "stopped_at"):
            if getattr(task, stamp, None) is None:
                setattr(task, stamp, now)
        for container in task.containers or []:
            container["lastStatus"] = "STOPPED"
        for server in runtime.servers.values():
            self.sim.contained(f"task {task.id} (closing a container)", server.close)
        runtime.servers.clear()
        if runtime.targets:
            self.sim.contained(f"task {task.id} (deregistering)", lambda: self.sim.elb.task_stopping(runtime))
        self.sim.contained(f"task {task.id} (releasing its network)", lambda: self._release(runtime))
        self.touch(runtime.service_key)
        self.sim.contained(
            f"task {task.id} (state change event)", lambda: ecs_events.task_state_change(self.sim, runtime)
        )

    def _advance(self, runtime: TaskRuntime, status: str) -> None:
        if runtime.desired == "STOPPED" and status in ("PENDING", "ACTIVATING", "RUNNING"):
            return  # a stop overtook the start: _begin_stop already scheduled the way down
        self._enter(runtime, status)

    def _start_containers(self, runtime: TaskRuntime) -> None:
        from labkit.dataplane.images import ContainerContext, TaskServer

        definitions = {d.get("name"): d for d in self._task_definition(runtime).container_definitions}
        for container in runtime.task.containers:
            container["lastStatus"] = "RUNNING"
            container["runtimeId"] = f"{runtime.task.id}-{self.sim.random.getrandbits(32):08x}"
            definition = definitions.get(container["name"], {})
            environment = {
                e["name"]: e.get("value", "") for e in definition.get("environment") or [] if "name" in e
            }
            for mapping in definition.get("portMappings") or []:
                port = int(mapping.get("containerPort", 0))
                context = ContainerContext(
                    task_id=runtime.task.id,
                    task_arn=runtime.arn,
                    container_name=container["name"],
                    image=str(container["image"]),
                    private_ip=runtime.private_ip or "10.0.0.1",
                    container_port=port,
                    hostname=task_hostname(runtime.private_ip or "10.0.0.1", self.sim.region),
                    environment=environment,
                    availability_zone=runtime.availability_zone or "",
                    written=container_plan(definition).files,
                )
                runtime.servers[(container["name"], port)] = TaskServer(context)

    def _schedule_exit(self, runtime: TaskRuntime) -> None:
        # The emulator runs no container command on the host: it interprets a small shell subset
        # (labkit.dataplane.commands). A container whose command ends exits with its code once its
        # sleeps have passed (at least a second after it starts); one it cannot read serves as its
        # image does, and its `reason` says so.
        containers = {c["name"]: c for c in runtime.task.containers}
        for definition in self._task_definition(runtime).container_definitions:
            name = definition.get("name")
            plan = container_plan(definition)
            if plan.not_interpreted and name in containers:
                containers[name]["reason"] = (
                    f"labkit sandbox: not interpreted: {plan.not_interpreted}"[:900]
                    + " (the container runs its image's default behaviour)"
                )
            if not plan.exits:
                continue
            code = int(plan.exit_code or 0)
            exited = self.container_exited if definition.get("essential", True) else self._sidecar_exited
            self.sim.after(
                max(plan.seconds, 1.0),
                functools.partial(exited, runtime, name, code),
                f"task {runtime.task.id} container {name} exits",
                on_error=functools.partial(self._step_failed, runtime, "STOPPED"),
            )

    @staticmethod
    def _mark_container_stopped(runtime: TaskRuntime, name: str, code: int) -> bool:
        """Show a running task's container STOPPED with its exit code; False when the task is not running."""
        if runtime.status != "RUNNING":
            return False
        for container in runtime.task.containers:
            if container["name"] == name:
                container["exitCode"] = code
                container["lastStatus"] = "STOPPED"
        return True

    def _sidecar_exited(self, runtime: TaskRuntime, name: str, code: int) -> None:
        """A non-essential container stopped: it shows STOPPED with its code; the task runs on."""
        if not self._mark_container_stopped(runtime, name, code):
            return
        for key in [k for k in runtime.servers if k[0] == name]:
            self.sim.contained(
                f"task {runtime.task.id} (closing a container)", runtime.servers.pop(key).close
            )

    def container_exited(self, runtime: TaskRuntime, name: str, code: int) -> None:
        """An essential container stopped: its task stops, and its service will replace it."""
        if not self._mark_container_stopped(runtime, name, code):
            return
        self.stop(
            runtime,
            "Essential container in task exited",
            stop_code="EssentialContainerExited",
            failed=code != 0,
        )

    def _stop_containers(self, runtime: TaskRuntime) -> None:
        for container in runtime.task.containers:
            if container.get("lastStatus") != "STOPPED":
                container["lastStatus"] = "STOPPED"
                # A stand-in stops cleanly on SIGTERM, as nginx does.
                container.setdefault("exitCode", 0)
        for server in runtime.servers.values():
            server.close()
        runtime.servers.clear()

    def _release(self, runtime: TaskRuntime) -> None:
        if runtime.eni_id:
            # Already gone with its subnet: nothing left to release.
            with contextlib.suppress(Exception):
                self.ec2.delete_network_interface(runtime.eni_id)
            if runtime.subnet_id and runtime.private_ip:
                self._used_ips.get(runtime.subnet_id, set()).discard(runtime.private_ip)
            if runtime.task.attachments:
                runtime.task.attachments[0]["status"] = "DELETED"

    def stop(
        self,
        runtime: TaskRuntime,
        reason: str,
        *,
        stop_code: str = "ServiceSchedulerInitiated",
        failed: bool = False,
    ) -> None:
        """Begin stopping a task: DEACTIVATING (drain its targets), then down to STOPPED."""
        task = runtime.task
        if runtime.desired == "STOPPED":
            return
        self.touch(runtime.service_key)
        task.desired_status = "STOPPED"
        task.stopped_reason = reason
        task.stop_code = stop_code
        task.version += 1
        if failed and not runtime.counted_failed:
            runtime.counted_failed = True
            self._count_failure(runtime)
        if runtime.status == "RUNNING":
            self._enter(runtime, "DEACTIVATING")
        elif runtime.status in ("PROVISIONING", "PENDING", "ACTIVATING"):
            self._enter(runtime, "DEPROVISIONING" if runtime.eni_id else "STOPPED")

    def _task_definition(self, runtime: TaskRuntime) -> Any:
        return self.backend.describe_task_definition(runtime.task.task_definition_arn)

    # -- services ---------------------------------------------------------------------------

    def service_created(self, service: Any, params: dict[str, Any]) -> Any:
        """Take over a service moto just created: deployment settings, first deployment, tasks.

        Returns the service as CreateService answers it (before the scheduler starts a task). An
        EXTERNAL service is left to its task sets: the scheduler starts nothing for it.
        """
        if (service.deployment_controller or {}).get("type") == "EXTERNAL":
            service.created_at = self.sim.now()
            service.created_by = f"arn:aws:iam::{self.sim.account_id}:root"
            service.running_count, service.pending_count = 0, 0
            service.events, service.deployments = [], []
            return service_snapshot(service)
        runtime = ServiceRuntime(
            key=_service_key(service.cluster_name, service.name),
            cluster=service.cluster_name,
            name=service.name,
            service=service,
        )
        self._apply_settings(runtime, params)
        service.created_at = self.sim.now()
        service.created_by = f"arn:aws:iam::{self.sim.account_id}:root"
        service.running_count = 0
        service.pending_count = 0
        service.events = []
        service.platform_family = "Linux" if (service.launch_type or "") == "FARGATE" else None
        if service.launch_type == "FARGATE" and not service.platform_version:
            service.platform_version = "LATEST"
        record = (
            service.deployments[0]
            if service.deployments
            else self._new_record(service, service.task_definition)
        )
        record.update({"runningCount": 0, "pendingCount": 0, "rolloutState": "IN_PROGRESS"})
        record["rolloutStateReason"] = "ECS deployment in progress."
        service.deployments = [record]
        runtime.deployments = [DeploymentRuntime(record, service.task_definition)]
        self.services[runtime.key] = runtime
        return service_snapshot(service)

    def _apply_settings(self, runtime: ServiceRuntime, params: dict[str, Any]) -> None:
        config = params.get("deploymentConfiguration") or {}
        if config:
            runtime.minimum_healthy_percent = int(
                config.get("minimumHealthyPercent", runtime.minimum_healthy_percent)
            )
            runtime.maximum_percent = int(config.get("maximumPercent", runtime.maximum_percent))
            breaker = config.get("deploymentCircuitBreaker") or {}
            runtime.circuit_breaker = bool(breaker.get("enable", runtime.circuit_breaker))
            runtime.rollback = bool(breaker.get("rollback", runtime.rollback))
        if params.get("healthCheckGracePeriodSeconds") is not None:
            runtime.grace_seconds = int(params["healthCheckGracePeriodSeconds"])
        runtime.service.deployment_configuration = {
            "deploymentCircuitBreaker": {"enable": runtime.circuit_breaker, "rollback": runtime.rollback},
            "maximumPercent": runtime.maximum_percent,
            "minimumHealthyPercent": runtime.minimum_healthy_percent,
        }
        if runtime.grace_seconds:
            runtime.service.health_check_grace_period_seconds = runtime.grace_seconds
        for key in ("placementStrategy", "placementConstraints"):
            if params.get(key) is not None:
                setattr(
                    runtime.service,
                    "placement_strategy" if key == "placementStrategy" else "placement_constraints",
                    params[key],
                )

    def _new_record(self, service: Any, task_definition: str) -> dict[str, Any]:
        now = self.sim.now()
        deployment_id = f"ecs-svc/{self.sim.random.randrange(10**18, 10**19)}"
        return {
            "id": deployment_id,
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "desiredCount": service.desired_count,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "launchType": service.launch_type,
            "platformVersion": service.platform_version,
            "platformFamily": "Linux" if service.launch_type == "FARGATE" else None,
            "networkConfiguration": getattr(service, "network_configuration", None) or None,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": f"ECS deployment {deployment_id} in progress.",
        }

    def service_updated(
        self, service: Any, params: dict[str, Any], previous_task_definition: str | None
    ) -> Any:
        """React to UpdateService: settings, desired count, and a new deployment when asked for one.

        Returns the service as UpdateService answers it: before the scheduler acts on the change.
        """
        runtime = self.services.get(_service_key(service.cluster_name, service.name))
        if runtime is None:
            # (an EXTERNAL service: moto copied the desired count into its running count)
            service.running_count, service.pending_count = 0, 0
            return service_snapshot(service)
        self._apply_settings(runtime, params)
        for deployment in runtime.deployments:
            # moto gives the primary record a new id on forceNewDeployment; its tasks keep the old one.
            deployment.record["id"] = deployment.id
        # moto copies desiredCount into runningCount; the scheduler owns the counts.
        service.running_count = self._count(runtime, ("RUNNING",))
        service.pending_count = self._count(runtime, ("PROVISIONING", "PENDING", "ACTIVATING"))
        new_definition = service.task_definition
        if params.get("forceNewDeployment") or (
            previous_task_definition and new_definition != previous_task_definition
        ):
            self.new_deployment(runtime, new_definition)
        else:
            runtime.deployments[0].record["desiredCount"] = service.desired_count
        runtime.steady = False
        runtime.dirty = True
        return service_snapshot(service)

    def new_deployment(self, runtime: ServiceRuntime, task_definition: str) -> DeploymentRuntime:
        """Start a deployment of `task_definition`; the previous PRIMARY becomes ACTIVE."""
        service = runtime.service
        runtime.dirty = True
        for old in runtime.deployments:
            old.record["status"] = "ACTIVE"
        record = self._new_record(service, task_definition)
        deployment = DeploymentRuntime(record, task_definition)
        runtime.deployments.insert(0, deployment)
        service.deployments = [d.record for d in runtime.deployments]
        runtime.stall_reason = None
        self.event(
            runtime,
            f"(service {runtime.name}) (deployment {record['id']}) deployment of {task_definition.split('/')[-1]} started.",
        )
        return deployment

    def service_deleted(self, service: Any) -> None:
        """Stop a deleted service's tasks; the service is DRAINING until they have stopped, then INACTIVE.

        DeleteService API reference: the status moves from ACTIVE to DRAINING, and to INACTIVE once
        every task has reached STOPPING or STOPPED.
        """
        service.status = "DRAINING"
        service.desired_count = 0
        runtime = self.services.pop(_service_key(service.cluster_name, service.name), None)
        tasks = self._tasks_of(runtime) if runtime is not None else []
        for task in tasks:
            self.stop(task, "Service deleted")
        if runtime is not None:
            service.deployments = []
        self._draining.append((service, tasks))
        self.sim.after(DRAINING_CHECK_SECONDS, self._finish_draining, f"service {service.name} draining")

    def _finish_draining(self) -> None:
        """Deleted services whose tasks have all reached STOPPING or STOPPED become INACTIVE."""
        waiting = []
        for service, tasks in self._draining:
            if service.status != "DRAINING":
                continue
            if all(t.status in ("STOPPING", "DEPROVISIONING", "STOPPED") for t in tasks):
                service.status = "INACTIVE"
                service.running_count = service.pending_count = 0
            else:
                waiting.append((service, tasks))
        self._draining = waiting
        if waiting:
            self.sim.after(DRAINING_CHECK_SECONDS, self._finish_draining, "services draining")

    def _tasks_of(
        self, runtime: ServiceRuntime, deployment: DeploymentRuntime | None = None
    ) -> list[TaskRuntime]:
        live = [t for t in self._service_tasks.get(runtime.key, []) if t.desired == "RUNNING"]
        self._service_tasks[runtime.key] = live
        return [t for t in live if deployment is None or t.deployment_id == deployment.id]

    def _count(
        self, runtime: ServiceRuntime, states: Iterable[str], deployment: DeploymentRuntime | None = None
    ) -> int:
        wanted = set(states)
        return sum(1 for t in self._tasks_of(runtime, deployment) if t.status in wanted)

    def healthy(self, task: TaskRuntime) -> bool:
        """A task counts as healthy once RUNNING and, behind a load balancer, healthy in its target groups.

        Without a load balancer or a container health check, only `UNMONITORED_HEALTHY_SECONDS`
        after it reached RUNNING (see that constant).
        """
        if task.status != "RUNNING":
            return False
        if not task.targets:
            if _has_container_health_check(self._task_definition(task)):
                return True  # container health checks are not run: counted once RUNNING
            started = task.task.started_at
            return (
                started is not None
                and (self.sim.now() - started).total_seconds()
                >= UNMONITORED_HEALTHY_SECONDS - 0.001  # the timeline rounds to microseconds
            )
        return all(self.sim.elb.state(*target)[0] == "healthy" for target in task.targets)

    def touch(self, service_key: str | None) -> None:
        """Note that something changed for a service (its next reconcile must run)."""
        runtime = self.services.get(service_key or "")
        if runtime is not None:
            runtime.dirty = True

    def touch_all(self) -> None:
        """Note that something every service may depend on changed (a target's health)."""
        for runtime in self.services.values():
            runtime.dirty = True

    def reconcile_all(self) -> None:
        """Bring every service toward its desired count and its primary deployment.

        Each service is reconciled on its own: a fault in one is contained to it (a service event
        says so, and it is retried with a backoff) while the others go on.
        """
        self.sim.contained("EC2 container instances (sync)", self.capacity.sync_instances)
        now = self.sim.now()
        for runtime in list(self.services.values()):
            if runtime.service.status != "ACTIVE" or (runtime.steady and not runtime.dirty):
                continue  # a steady service that nothing touched would decide nothing new
            if runtime.retry_at is not None and (runtime.retry_at - now).total_seconds() > 0.001:
                continue  # backing off after a fault (the timeline's instants are rounded to microseconds)
            runtime.dirty = False
            try:
                self._reconcile(runtime)
            except Exception as exc:  # noqa: BLE001 - one service's fault must not stop the others
                self.sim.contain(f"service {runtime.name} (cluster {runtime.cluster})", exc)
                self.sim.contained(
                    f"service {runtime.name} (recording its fault)",
                    functools.partial(self._reconcile_failed, runtime, exc),
                )
            else:
                runtime.fault_reason, runtime.fault_backoff, runtime.retry_at = None, 0.0, None
        for cluster in {t.cluster for t in self.tasks.values() if t.container_instance_arn}:
            self.sim.contained(
                f"EC2 container instances of cluster {cluster}",
                functools.partial(self.capacity.refresh, cluster),
            )

    def _reconcile_failed(self, runtime: ServiceRuntime, exc: Exception) -> None:
        """Back off a service whose reconcile raised, and say so in its events (once per fault)."""
        runtime.fault_backoff = min(
            RECONCILE_RETRY_MAX, max(RECONCILE_RETRY_FIRST, runtime.fault_backoff * 2)
        )
        runtime.retry_at = self.sim.now() + dt.timedelta(seconds=runtime.fault_backoff)
        runtime.steady, runtime.dirty = False, True
        # Wake the scheduler when the retry is due (a manual clock has nothing else due then).
        self.sim.schedule(runtime.retry_at, lambda: None, f"service {runtime.name} retry")
        reason = describe_exception(exc)
        if reason != runtime.fault_reason:
            runtime.fault_reason = reason
            self.event(
                runtime,
                f"(service {runtime.name}) was unable to reconcile its tasks because of a labkit simulator "
                f"fault: {reason}. The sandbox tries again in {runtime.fault_backoff:g} seconds, backing off "
                "while the fault lasts; other services are not affected.",
            )

    def _reconcile(self, runtime: ServiceRuntime) -> None:
        from labkit.ecs.rolling import RollingState, rolling_action

        service = runtime.service
        desired = int(service.desired_count)
        primary = runtime.deployments[0]
        old = runtime.deployments[1:]
        self._stop_unhealthy(runtime)
        new_tasks = self._tasks_of(runtime, primary)
        new_running = sum(1 for t in new_tasks if t.status == "RUNNING")
        new_pending = sum(1 for t in new_tasks if t.status in ("PROVISIONING", "PENDING", "ACTIVATING"))
        new_healthy = sum(1 for t in new_tasks if self.healthy(t))
        old_tasks = [t for d in old for t in self._tasks_of(runtime, d)]
        failed_out = primary.record.get("rolloutState") == "FAILED"
        if old_tasks:
            # Old tasks still starting never count as healthy: stop them first.
            for task in [t for t in old_tasks if t.status != "RUNNING"]:
                self.stop(task, f"Task stopped by deployment {primary.id}")
            old_tasks = [t for t in old_tasks if t.desired == "RUNNING"]
        old_running = sum(1 for t in old_tasks if t.status == "RUNNING")
        if failed_out:
            start, stop_old = 0, 0
        elif old_running:
            state = RollingState(
                desired=desired,
                old_running=old_running,
                new_running=new_running,
                new_healthy=new_healthy,
                new_pending=new_pending,
            )
            action = rolling_action(state, runtime.minimum_healthy_percent, runtime.maximum_percent)
            start, stop_old = action.start_new, action.stop_old
            if action.stop_new:
                # The desired count fell during the deployment: surplus new tasks go, least ready first.
                surplus = sorted(new_tasks, key=lambda t: (t.status == "RUNNING", self.healthy(t)))
                for task in surplus[: action.stop_new]:
                    self.stop(task, f"Scaling activity initiated by (deployment {primary.id})")
            if action.stalled and runtime.stall_reason != action.reason:
                runtime.stall_reason = action.reason
                self.event(
                    runtime,
                    f"(service {runtime.name}) deployment {primary.id} cannot progress: {action.reason}",
                )
        else:
            live = new_running + new_pending
            start = max(0, desired - live)
            stop_old = 0
            if live > desired:
                extra = sorted(new_tasks, key=lambda t: (t.status == "RUNNING", self.healthy(t)))[
                    : live - desired
                ]
                for task in extra:
                    self.stop(task, f"Scaling activity initiated by (deployment {primary.id})")
        stopping = sorted(old_tasks, key=lambda t: self.healthy(t))[:stop_old]
        for task in stopping:
            self.stop(task, f"Task stopped by deployment {primary.id}")
        if stopping:
            listed = " ".join(f"(task {t.task.id})" for t in stopping)
            self.event(
                runtime, f"(service {runtime.name}) has stopped {len(stopping)} running tasks: {listed}."
            )
        if start:
            self._start_service_tasks(runtime, primary, start)
        self._update_counts(runtime)

    def _stop_unhealthy(self, runtime: ServiceRuntime) -> None:
        for task in self._tasks_of(runtime):
            if task.status != "RUNNING" or not task.targets:
                continue
            started = task.task.started_at
            if runtime.grace_seconds and (self.sim.now() - started).total_seconds() < runtime.grace_seconds:
                continue
            for target in task.targets:
                if self.sim.elb.unhealthy_for(*target) >= UNHEALTHY_NOTICE_SECONDS:
                    reason = f"Task failed ELB health checks in (target-group {target[0]})"
                    self.event(
                        runtime,
                        f"(service {runtime.name}) (task {task.task.id}) failed ELB health checks in (target-group {target[0]})",
                    )
                    self.stop(task, reason, failed=True)
                    break

    def place_and_start(
        self,
        *,
        cluster: Any,
        definition: Any,
        launch_type: str,
        count: int,
        group: str,
        strategies: list[dict[str, Any]] | None,
        constraints: list[dict[str, Any]] | None,
        ec2_instances: set[str] | None = None,
        **task: Any,
    ) -> tuple[list[TaskRuntime], list[dict[str, Any]]]:
        """Place `count` tasks (on container instances for EC2; Fargate needs no placement) and start them.

        `ec2_instances`: only container instances on these EC2 instances qualify (a capacity provider's group).
        """
        slots: list[Any] = [None] * count
        failures: list[dict[str, Any]] = []
        requirements = None
        if launch_type == "EC2":
            self.capacity.sync_instances()
            slots, failures, requirements = self.capacity.place(
                cluster.name, definition, count, group, strategies, constraints, ec2_instances
            )
            slots = [slot for slot in slots if slot is not None]
        started = [
            self.start_task(
                cluster=cluster,
                task_definition=definition,
                launch_type=launch_type,
                group=group,
                placement=slot,
                requirements=requirements,
                **task,
            )
            for slot in slots
        ]
        if launch_type == "EC2":
            self.capacity.refresh(cluster.name)
        return started, failures

    def _start_service_tasks(
        self, runtime: ServiceRuntime, deployment: DeploymentRuntime, count: int
    ) -> None:
        service = runtime.service
        running: dict[str, int] = {}
        for task in self._tasks_of(runtime):
            name = getattr(task.task, "capacity_provider_name", None)
            if name:
                running[name] = running.get(name, 0) + 1
        started, failures = self.start_by_strategy(
            getattr(service, "capacity_provider_strategy", None) or [],
            running,
            cluster=moto_seam.ecs.cluster(self.backend, runtime.cluster),
            definition=self.backend.describe_task_definition(deployment.task_definition),
            launch_type=service.launch_type or "EC2",
            count=count,
            group=f"service:{runtime.name}",
            strategies=getattr(service, "placement_strategy", None),
            constraints=getattr(service, "placement_constraints", None),
            network_configuration=deployment.record.get("networkConfiguration")
            or getattr(service, "network_configuration", None),
            started_by=deployment.id,
            service_key=runtime.key,
            deployment_id=deployment.id,
        )
        problem = _placement_problem(failures)
        if problem and problem != runtime.placement_problem:
            self.event(runtime, f"(service {runtime.name}) was unable to place a task because {problem}")
            ecs_events.service_action(
                self.sim, runtime, "SERVICE_TASK_PLACEMENT_FAILURE", reason=str(failures[0]["reason"])
            )
        runtime.placement_problem = problem
        if started:
            listed = " ".join(f"(task {t.task.id})" for t in started)
            self.event(runtime, f"(service {runtime.name}) has started {len(started)} tasks: {listed}.")

    def _count_failure(self, task: TaskRuntime) -> None:
        runtime = self.services.get(task.service_key or "")
        if runtime is None:
            return
        deployment = next((d for d in runtime.deployments if d.id == task.deployment_id), None)
        if deployment is None or task.became_healthy:
            return
        deployment.record["failedTasks"] = int(deployment.record.get("failedTasks", 0)) + 1
        threshold = min(200, max(3, math.ceil(0.5 * int(runtime.service.desired_count))))
        if deployment.record["failedTasks"] == threshold:
            # ECS reports a service that cannot consistently start tasks.
            ecs_events.service_action(self.sim, runtime, "SERVICE_TASK_START_IMPAIRED")
        if not runtime.circuit_breaker or deployment is not runtime.deployments[0]:
            return
        if (
            deployment.record["failedTasks"] >= threshold
            and deployment.record.get("rolloutState") == "IN_PROGRESS"
        ):
            deployment.record["rolloutState"] = "FAILED"
            deployment.record["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
            self.event(
                runtime,
                f"(service {runtime.name}) (deployment {deployment.id}) deployment failed: tasks failed to start.",
            )
            if runtime.rollback and len(runtime.deployments) > 1:
                previous = runtime.deployments[1]
                self.event(runtime, f"(service {runtime.name}) rolling back to deployment {previous.id}.")
                runtime.service.task_definition = previous.task_definition
                rollback = self.new_deployment(runtime, previous.task_definition)
                rollback.record["rolloutStateReason"] = (
                    f"ECS deployment circuit breaker: rolling back to deploymentId {previous.id}."
                )

    def _update_counts(self, runtime: ServiceRuntime) -> None:
        service = runtime.service
        now = self.sim.now()
        service.running_count = self._count(runtime, ("RUNNING",))
        service.pending_count = self._count(runtime, ("PROVISIONING", "PENDING", "ACTIVATING"))
        for index, deployment in enumerate(list(runtime.deployments)):
            record = deployment.record
            running = self._count(runtime, ("RUNNING",), deployment)
            pending = self._count(runtime, ("PROVISIONING", "PENDING", "ACTIVATING"), deployment)
            if (record["runningCount"], record["pendingCount"]) != (running, pending):
                record["updatedAt"] = now
            record["runningCount"], record["pendingCount"] = running, pending
            if index == 0:
                record["desiredCount"] = service.desired_count
            else:
                record["desiredCount"] = running + pending
                if running + pending == 0 and not any(
                    t.deployment_id == deployment.id and t.status != "STOPPED" for t in self.tasks.values()
                ):
                    record["status"] = "INACTIVE"
                    runtime.deployments.remove(deployment)
        service.deployments = [d.record for d in runtime.deployments]
        primary = runtime.deployments[0]
        for task in self._tasks_of(runtime, primary):
            if self.healthy(task):
                task.became_healthy = True
        settled = (
            len(runtime.deployments) == 1
            and primary.record["runningCount"] == service.desired_count
            and primary.record["pendingCount"] == 0
            and all(self.healthy(t) for t in self._tasks_of(runtime, primary))
        )
        if settled and primary.record.get("rolloutState") == "IN_PROGRESS":
            primary.record["rolloutState"] = "COMPLETED"
            primary.record["rolloutStateReason"] = f"ECS deployment {primary.id} completed."
            self.event(runtime, f"(service {runtime.name}) (deployment {primary.id}) deployment completed.")
        if settled and not runtime.steady:
            self.event(runtime, f"(service {runtime.name}) has reached a steady state.")
            ecs_events.service_action(self.sim, runtime, "SERVICE_STEADY_STATE")
        runtime.steady = settled

    # -- RunTask / StopTask -----------------------------------------------------------------

    def run_task(self, params: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
        """RunTask: start `count` tasks (placed on container instances for EC2); return tasks and failures."""
        definition = self.backend.describe_task_definition(params["taskDefinition"])
        started, failures = self.start_by_strategy(
            params.get("capacityProviderStrategy") or [],
            {},
            cluster=moto_seam.ecs.cluster(self.backend, params.get("cluster") or "default"),
            definition=definition,
            launch_type=params.get("launchType") or "EC2",
            count=int(params.get("count") or 1),
            group=params.get("group") or f"family:{definition.family}",
            strategies=params.get("placementStrategy"),
            constraints=params.get("placementConstraints"),
            network_configuration=params.get("networkConfiguration"),
            started_by=params.get("startedBy") or "",
            overrides=params.get("overrides"),
            tags=params.get("tags"),
        )
        return [runtime.task for runtime in started], failures

    def start_by_strategy(
        self, strategy: list[dict[str, Any]], running: dict[str, int], *, count: int, **start: Any
    ) -> tuple[list[TaskRuntime], list[dict[str, Any]]]:
        """Start `count` tasks, shared over a capacity provider strategy's providers (none: as asked).

        FARGATE and FARGATE_SPOT tasks run on Fargate, a Managed Instances provider's as launch type
        MANAGED_INSTANCES (on no container instance the sandbox shows); an Auto Scaling group provider's
        are placed on the cluster's container instances. Each task shows its `capacityProviderName`.
        """
        from labkit.ecs.validation import FARGATE_PROVIDERS, assign_capacity_providers

        if not strategy:
            return self.place_and_start(count=count, **start)
        chosen = assign_capacity_providers(strategy, count, running)
        started: list[TaskRuntime] = []
        failures: list[dict[str, Any]] = []
        for provider in dict.fromkeys(chosen):
            launch_type = "FARGATE" if provider in FARGATE_PROVIDERS else "EC2"
            if getattr(self.backend.capacity_providers.get(provider), "type", None) == "MANAGED_INSTANCES":
                # ECS Managed Instances: ECS runs the instances; the sandbox shows none and needs no placement.
                launch_type = "MANAGED_INSTANCES"
            # An Auto Scaling group provider's tasks go only on that group's instances.
            group_instances = self.managed_scaling.instances_of(provider) if launch_type == "EC2" else None
            more, failed = self.place_and_start(
                count=chosen.count(provider),
                **{**start, "launch_type": launch_type, "ec2_instances": group_instances},
            )
            for runtime in more:
                runtime.task.capacity_provider_name = provider
            if launch_type == "EC2" and start.get("service_key"):
                # Tasks an Auto Scaling group provider could not place drive its managed scaling.
                self.managed_scaling.record(
                    start["service_key"], provider, chosen.count(provider) - len(more)
                )
            started += more
            failures += failed
        return started, failures

    def start_task_on_instances(self, params: dict[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
        """StartTask: one task on each container instance named, if it fits there; return tasks and failures."""
        cluster = moto_seam.ecs.cluster(self.backend, params.get("cluster") or "default")
        definition = self.backend.describe_task_definition(params["taskDefinition"])
        group = params.get("group") or f"family:{definition.family}"
        self.capacity.sync_instances()
        tasks: list[Any] = []
        failures: list[dict[str, Any]] = []
        for reference in params["containerInstances"]:
            slot, failed, requirements = self.capacity.place_on(cluster.name, definition, group, reference)
            failures += failed
            if slot is None:
                continue
            runtime = self.start_task(
                cluster=cluster,
                task_definition=definition,
                launch_type="EC2",
                network_configuration=params.get("networkConfiguration"),
                group=group,
                started_by=params.get("startedBy") or "",
                overrides=params.get("overrides"),
                tags=params.get("tags"),
                placement=slot,
                requirements=requirements,
            )
            tasks.append(runtime.task)
        self.capacity.refresh(cluster.name)
        return tasks, failures

    def refresh_cluster_counters(self) -> None:
        """Count each cluster's running and pending tasks and ACTIVE services from what the simulator runs."""
        running: dict[str, int] = {}
        pending: dict[str, int] = {}
        for runtime in self.tasks.values():
            if runtime.status == "RUNNING":
                running[runtime.cluster] = running.get(runtime.cluster, 0) + 1
            elif runtime.status in STARTING_STATES:
                pending[runtime.cluster] = pending.get(runtime.cluster, 0) + 1
        active: dict[str, int] = {}
        for service in self.backend.services.values():
            if service.status == "ACTIVE":
                active[service.cluster_name] = active.get(service.cluster_name, 0) + 1
        for name, cluster in self.backend.clusters.items():
            cluster.running_tasks_count = running.get(name, 0)
            cluster.pending_tasks_count = pending.get(name, 0)
            cluster.active_services_count = active.get(name, 0)

    def stop_task_by_user(self, cluster_name: str, task_ref: str, reason: str) -> Any:
        """StopTask: the task begins to stop; `UserInitiated`."""
        cluster = moto_seam.ecs.cluster(self.backend, cluster_name)
        task_id = task_ref.split("/")[-1]
        for runtime in self.tasks.values():
            if runtime.cluster == cluster.name and runtime.task.id == task_id:
                self.stop(runtime, reason or "Task stopped by user", stop_code="UserInitiated")
                return runtime.task
        return None

    def close(self) -> None:
        """Stop every stand-in container server."""
        for runtime in self.tasks.values():
            for server in runtime.servers.values():
                server.close()
            runtime.servers.clear()


def service_snapshot(service: Any) -> Any:
    """A copy of moto's service as it is now, for an answer the scheduler's later changes must not reach."""
    snapshot = copy.copy(service)
    snapshot.events = [dict(event) for event in service.events]
    snapshot.deployments = copy.deepcopy(service.deployments)
    return snapshot


def _placement_problem(failures: list[dict[str, Any]]) -> str | None:
    """The service event's wording for why a task could not be placed."""
    if not failures:
        return None
    failure = failures[0]
    reason = str(failure["reason"])
    closest = (
        f" The closest matching (container-instance {failure['arn'].split('/')[-1]})"
        if failure.get("arn")
        else ""
    )
    what = {
        "RESOURCE:CPU": "has insufficient CPU units available.",
        "RESOURCE:MEMORY": "has insufficient memory available.",
        "RESOURCE:PORTS": "is already using a port required by your task.",
    }.get(reason)
    if what and closest:
        return f"no container instance met all of its requirements.{closest} {what}"
    if not failure.get("detail"):
        return f"no container instance met all of its requirements: {reason}."
    return f"no container instance met all of its requirements ({reason}: {failure['detail']})."


def _has_container_health_check(definition: Any) -> bool:
    """Does a task definition give an essential container a health check?"""
    containers = getattr(definition, "container_definitions", None) or []
    return any(c.get("healthCheck") and c.get("essential", True) for c in containers)
