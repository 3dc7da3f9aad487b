"""ECS Express Mode: one call makes a web service and everything in front of it, on the sandbox clock.

`CreateExpressGatewayService` makes, through moto's own backends (so ordinary describe calls see
them), what the ECS developer guide ("Resources created by Amazon ECS Express Mode services") lists:
the `default` cluster with the FARGATE capacity provider when it is missing, a task definition
(container `Main`), an ECS service with a rolling deployment, an Application Load Balancer shared by
every Express service of a VPC with an HTTPS listener and one host-header rule per service, a target
group, security groups, the awslogs log group, and an Application Auto Scaling scalable target with a
target tracking policy. Update registers a new task definition revision and rolls the ECS service to
it; Delete drains the service, then removes what it made (the shared load balancer only when no other
Express service uses it).

Each service gets a loopback URL of its own (`urls()`): a proxy that sends every request through the
shared listener's rules as a request for the service's host name, so `curl URL` reaches the service's
rule, target group and tasks; the shared listener's own port routes by the `Host` header as an ALB does.

Not done (see book/sandboxes.md): the ACM certificate (the HTTPS listener has none and its loopback
port speaks HTTP), canary deployments (updates roll as ECS rolling updates do), the rollback alarms,
a private (PRIVATE access) ingress, and `taskDefinitionArn` services must name a task definition of
the sandbox.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.sandbox import moto_seam

if TYPE_CHECKING:
    from labkit.dataplane.listener import ListenerProxy
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["ExpressError", "ExpressService", "ExpressSimulator"]

# Developer guide, "Resources created by Amazon ECS Express Mode services", task definition defaults
# (the API reference's CreateExpressGatewayService says 256 and 512; the guide's table is newer).
DEFAULT_CPU = "1024"
DEFAULT_MEMORY = "2048"
# API reference: containerPort defaults to 80, healthCheckPath to /ping, the scaling target value to 60
# on average CPU.
DEFAULT_PORT = 80
DEFAULT_HEALTH_CHECK_PATH = "/ping"
DEFAULT_METRIC = "AVERAGE_CPU"
DEFAULT_TARGET_VALUE = 60
# The task counts when scalingTarget leaves them out. not verified against AWS
DEFAULT_MIN_TASKS = 1
DEFAULT_MAX_TASKS = 20
CONTAINER_NAME = "Main"
LISTENER_PORT = 443
#: How often a DRAINING Express service looks whether its tasks have stopped.
DRAIN_CHECK_SECONDS = 15.0

_METRICS = {
    "AVERAGE_CPU": "ECSServiceAverageCPUUtilization",
    "AVERAGE_MEMORY": "ECSServiceAverageMemoryUtilization",
    "REQUEST_COUNT_PER_TARGET": "ALBRequestCountPerTarget",
}
_SERVICE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# Options of CreateExpressGatewayService that a taskDefinitionArn replaces (API reference).
_TASK_DEFINITION_FIELDS = (
    "primaryContainer",
    "executionRoleArn",
    "taskRoleArn",
    "cpu",
    "memory",
    "cpuArchitecture",
)


class ExpressError(Exception):
    """An ECS error for the client: its code (a shape of botocore's ECS model) and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> ExpressError:
    return ExpressError("InvalidParameterException", message)


@dataclass
class SharedAlb:
    """The load balancer the Express services of one VPC share, and what belongs to it."""

    vpc_id: str
    load_balancer_arn: str
    listener_arn: str
    security_group_id: str
    users: set[str] = field(default_factory=set)


@dataclass
class ExpressService:
    """One Express service: its configurations and every resource it made."""

    arn: str
    cluster: str
    name: str
    infrastructure_role_arn: str
    endpoint: str
    vpc_id: str
    tags: list[dict[str, str]]
    created_at: dt.datetime
    updated_at: dt.datetime
    configurations: list[dict[str, Any]] = field(default_factory=list)
    status: str = "ACTIVE"
    status_reason: str | None = None
    target_group_arn: str = ""
    rule_arn: str = ""
    #: Security groups this service made (the tasks' group when the request named none).
    own_security_groups: list[str] = field(default_factory=list)
    log_group: str = ""
    policy_name: str = ""
    revisions: int = 0
    proxy: ListenerProxy | None = None

    @property
    def resource_id(self) -> str:
        return f"service/{self.cluster}/{self.name}"


class ExpressSimulator:
    """The Express services of one sandbox account (its own region)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.services: dict[str, ExpressService] = {}
        self.albs: dict[str, SharedAlb] = {}

    # -- backends ---------------------------------------------------------------------------

    def _backend(self, service: str) -> Any:
        return moto_seam.backend(service, self.sim.account_id, self.sim.region)

    @property
    def ecs(self) -> Any:
        return self._backend("ecs")

    @property
    def ec2(self) -> Any:
        return self._backend("ec2")

    @property
    def elbv2(self) -> Any:
        return self._backend("elbv2")

    def _arn(self, kind: str, rest: str) -> str:
        return f"arn:aws:ecs:{self.sim.region}:{self.sim.account_id}:{kind}/{rest}"

    # -- create -----------------------------------------------------------------------------

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        """CreateExpressGatewayService: make everything, answer the service (`ECSExpressGatewayService`).

        All or nothing: when a step fails, what the earlier steps made is removed again, so a client's
        retry finds nothing half made.
        """
        before = self._snapshot()
        try:
            return self._create(params)
        except BaseException:
            self._remove_since(before)
            raise

    def _snapshot(self) -> dict[str, set[str]]:
        """What exists now that a create could add to (to remove it again if the create fails)."""
        return {
            "lb": set(self.elbv2.load_balancers),
            "tg": set(self.elbv2.target_groups),
            "sg": {g for groups in self.ec2.groups.values() for g in groups},
            "svc": {k for k, v in self.ecs.services.items() if v.status == "ACTIVE"},
            "alb": set(self.albs),
            "express": set(self.services),
            "rules": {
                r.arn
                for lb in self.elbv2.load_balancers.values()
                for listener in lb.listeners.values()
                for r in listener.rules.values()
            },
        }

    def _remove_since(self, before: dict[str, set[str]]) -> None:
        """Remove what a failed create made (best effort: each step on its own)."""
        import contextlib

        after = self._snapshot()
        for arn in after["express"] - before["express"]:
            express = self.services.pop(arn)
            if express.proxy is not None:
                express.proxy.close()
        for key in after["svc"] - before["svc"]:
            service = self.ecs.services[key]
            with contextlib.suppress(Exception):
                self.sim.ecs.service_deleted(service)
            # A failed create leaves no service behind, not even a DRAINING one that would hold its name.
            self.ecs.services.pop(key, None)
            with contextlib.suppress(Exception):
                self._backend("applicationautoscaling").deregister_scalable_target(
                    "ecs", f"service/{service.cluster_name}/{service.name}", "ecs:service:DesiredCount"
                )
        for rule in after["rules"] - before["rules"]:
            with contextlib.suppress(Exception):
                self.elbv2.delete_rule(rule)
        for arn in after["tg"] - before["tg"]:
            with contextlib.suppress(Exception):
                self.elbv2.delete_target_group(arn)
        for vpc_id in after["alb"] - before["alb"]:
            self.albs.pop(vpc_id, None)
        for arn in after["lb"] - before["lb"]:
            with contextlib.suppress(Exception):
                self.elbv2.delete_load_balancer(arn)
        for group_id in after["sg"] - before["sg"]:
            self._delete_group(group_id)

    def _create(self, params: dict[str, Any]) -> dict[str, Any]:
        self._validate_create(params)
        cluster = self._cluster(params.get("cluster"))
        name = str(params.get("serviceName") or self._generated_name(params))
        if not _SERVICE_NAME.match(name):
            # CreateService's rule for names (the API reference gives the same for Express services)
            raise _invalid(
                "Service name must be between 1 and 255 characters long and may contain letters, "
                "numbers, hyphens, and underscores."
            )
        existing = self.ecs.services.get(f"{cluster.name}:{name}")
        if existing is not None and existing.status in ("ACTIVE", "DRAINING"):
            # CreateService's answer for a name in use (DeleteService API reference: a name is taken
            # while ACTIVE or DRAINING). message not verified against AWS for Express services
            raise _invalid("Creation of service was not idempotent.")
        subnets, vpc_id = self._subnets(params)
        now = self.sim.now()
        arn = self._arn("service", f"{cluster.name}/{name}")
        express = ExpressService(
            arn=arn,
            cluster=cluster.name,
            name=name,
            infrastructure_role_arn=str(params["infrastructureRoleArn"]),
            endpoint=self._endpoint(name),
            vpc_id=vpc_id,
            tags=list(params.get("tags") or []),
            created_at=now,
            updated_at=now,
        )
        config = self._configuration(params, subnets)
        alb = self._shared_alb(vpc_id, subnets)
        groups = list(config["networkConfiguration"].get("securityGroups") or [])
        if not groups:
            groups = [
                self._service_security_group(express, alb, int(config["primaryContainer"]["containerPort"]))
            ]
            express.own_security_groups = list(groups)
        config["networkConfiguration"] = {"securityGroups": groups, "subnets": subnets}
        self._target_group(express, config)
        self._listener_rule(express, alb)
        definition_arn = config.get("taskDefinitionArn") or self._register_task_definition(express, config)
        config["taskDefinitionArn"] = definition_arn
        self._ecs_service(express, config)
        self._scaling(express, config)
        alb.users.add(arn)
        self._add_configuration(express, config)
        self.services[arn] = express
        self._open_url(express, alb)
        return self.describe({"serviceArn": arn})

    def _validate_create(self, params: dict[str, Any]) -> None:
        if not params.get("infrastructureRoleArn"):
            raise _invalid("infrastructureRoleArn is required.")  # required in the model
        given = [f for f in _TASK_DEFINITION_FIELDS if params.get(f) is not None]
        if params.get("taskDefinitionArn"):
            if given:
                # API reference, taskDefinitionArn. message not verified against AWS
                raise _invalid(f"You cannot specify {', '.join(given)} together with taskDefinitionArn.")
        else:
            container = params.get("primaryContainer")
            if not isinstance(container, dict) or not container.get("image"):
                # API reference: the primary container must specify at least an image. message not verified
                raise _invalid(
                    "primaryContainer with an image is required when no taskDefinitionArn is given."
                )
            if not params.get("executionRoleArn"):
                # Developer guide: an Express service needs an image, an execution role and an
                # infrastructure role. message not verified against AWS
                raise _invalid("executionRoleArn is required when no taskDefinitionArn is given.")
        self._validate_common(params)
        self._role(str(params["infrastructureRoleArn"]), "infrastructureRoleArn")

    def _validate_common(self, params: dict[str, Any]) -> None:
        for key in ("executionRoleArn", "taskRoleArn"):
            if params.get(key):
                self._role(str(params[key]), key)
        path = params.get("healthCheckPath")
        if path is not None and not str(path).startswith("/"):
            # API reference, healthCheckPath: it must start with a forward slash. message not verified
            raise _invalid("healthCheckPath must start with a forward slash (/).")
        scaling = params.get("scalingTarget") or {}
        low, high = scaling.get("minTaskCount"), scaling.get("maxTaskCount")
        for key, value in (("minTaskCount", low), ("maxTaskCount", high)):
            if value is not None and int(value) < 0:
                raise _invalid(f"scalingTarget.{key} must be 0 or greater.")  # message not verified
        if low is not None and high is not None and int(low) > int(high):
            # Application Auto Scaling's own rule for the scalable target it registers
            raise _invalid("Minimum capacity cannot be greater than maximum capacity")
        metric = scaling.get("autoScalingMetric")
        if metric is not None and metric not in _METRICS:
            raise _invalid(
                f"1 validation error detected: Value '{metric}' at 'scalingTarget.autoScalingMetric' failed "
                f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(_METRICS)}]"
            )
        container = params.get("primaryContainer") or {}
        port = container.get("containerPort")
        if port is not None and not 1 <= int(port) <= 65535:
            raise _invalid("containerPort must be between 1 and 65535.")  # message not verified

    def _role(self, arn: str, what: str) -> None:
        """An IAM role of this account that exists; else ECS's InvalidParameterException."""
        iam = moto_seam.backend("iam", self.sim.account_id, "global")
        roles = list(iam.roles.values())
        # An ARN must name a role of this account exactly; a bare name, a role of this account.
        known = {r.arn for r in roles} if arn.startswith("arn:") else {r.name for r in roles}
        if arn not in known:
            # CreateService answers a role it cannot assume with InvalidParameterException.
            # message not verified against AWS for Express services
            raise _invalid(f"Unable to assume the role {arn} given as {what}. The role does not exist.")

    def _cluster(self, given: str | None) -> Any:
        """The named cluster (ClusterNotFoundException when missing), or `default`, made as AWS makes it."""
        name = str(given or "default").rsplit("/", 1)[-1]
        cluster = self.ecs.clusters.get(name)
        if cluster is not None and cluster.status == "ACTIVE":
            return cluster
        if given and name != "default":
            raise ExpressError("ClusterNotFoundException", "Cluster not found.")
        # Developer guide: the default cluster, if it does not exist, with the Fargate capacity provider.
        return self.ecs.create_cluster(
            "default",
            capacity_providers=["FARGATE"],
            default_capacity_provider_strategy=[{"capacityProvider": "FARGATE", "weight": 1, "base": 0}],
        )

    def _generated_name(self, params: dict[str, Any]) -> str:
        # API reference: without serviceName, ECS generates a unique name. The form is labkit's.
        image = str((params.get("primaryContainer") or {}).get("image") or "service")
        base = (
            re.sub(r"[^A-Za-z0-9-]", "-", image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]) or "service"
        )
        return f"{base[:40]}-{self.sim.random.getrandbits(32):08x}"

    def _endpoint(self, name: str) -> str:
        """The service's host name: two letters of its name, 32 hex digits, `.ecs.REGION.on.aws` (as AWS's look)."""
        prefix = re.sub(r"[^a-z0-9]", "", name.lower())[:2] or "ex"
        taken = {s.endpoint for s in self.services.values()}
        while True:
            host = f"{prefix}-{self.sim.random.getrandbits(128):032x}.ecs.{self.sim.region}.on.aws"
            if host not in taken:
                return host

    def _subnets(self, params: dict[str, Any]) -> tuple[list[str], str]:
        """The tasks' subnets (the request's, else the default VPC's default subnets) and their VPC."""
        from labkit.sandbox.moto_seam.ecs import known_security_group, known_subnet

        network = params.get("networkConfiguration") or {}
        subnets = [str(s) for s in network.get("subnets") or []]
        for group in network.get("securityGroups") or []:
            known_security_group(self.ec2, str(group))
        if subnets:
            for subnet_id in subnets:
                known_subnet(self.ec2, subnet_id)
            vpcs = {self.ec2.get_subnet(s).vpc_id for s in subnets}
            if len(vpcs) != 1:
                raise _invalid("The subnets must all be in the same VPC.")  # message not verified
            return subnets, vpcs.pop()
        vpc = next((v for v in self.ec2.vpcs.values() if getattr(v, "is_default", False)), None)
        if vpc is None:
            # API reference: without networkConfiguration the default VPC is used. message not verified
            raise _invalid("No default VPC found: specify networkConfiguration.subnets.")
        found = [
            s.id
            for zone in self.ec2.subnets.values()
            for s in zone.values()
            if s.vpc_id == vpc.id and getattr(s, "default_for_az", False)
        ]
        found = found or [
            s.id for zone in self.ec2.subnets.values() for s in zone.values() if s.vpc_id == vpc.id
        ]
        if not found:
            raise _invalid("No subnets found in the default VPC: specify networkConfiguration.subnets.")
        return sorted(found), str(vpc.id)

    def _configuration(self, params: dict[str, Any], subnets: list[str]) -> dict[str, Any]:
        """The service configuration a request asks for, with AWS's defaults filled in."""
        scaling = dict(params.get("scalingTarget") or {})
        scaling.setdefault("minTaskCount", DEFAULT_MIN_TASKS)
        scaling.setdefault("maxTaskCount", max(DEFAULT_MAX_TASKS, int(scaling["minTaskCount"])))
        scaling.setdefault("autoScalingMetric", DEFAULT_METRIC)
        scaling.setdefault("autoScalingTargetValue", DEFAULT_TARGET_VALUE)
        config: dict[str, Any] = {
            "healthCheckPath": params.get("healthCheckPath") or DEFAULT_HEALTH_CHECK_PATH,
            "scalingTarget": scaling,
            "networkConfiguration": {
                "securityGroups": list(
                    (params.get("networkConfiguration") or {}).get("securityGroups") or []
                ),
                "subnets": subnets,
            },
        }
        if params.get("taskDefinitionArn"):
            definition = self.ecs.describe_task_definition(str(params["taskDefinitionArn"]))
            main = next(
                (c for c in definition.container_definitions if c.get("name") == CONTAINER_NAME), None
            )
            mappings = (main or {}).get("portMappings") or []
            if main is None or len(mappings) != 1 or not mappings[0].get("containerPort"):
                # API reference, taskDefinitionArn. message not verified against AWS
                raise _invalid(
                    "The task definition must have a container named Main with a single TCP port mapping "
                    "that includes a container port and port name."
                )
            if "FARGATE" not in (definition.requires_compatibilities or []):
                raise _invalid("The task definition must have FARGATE compatibility.")  # message not verified
            config.update(
                taskDefinitionArn=definition.arn,
                # (moto sets these only when the task definition has them)
                executionRoleArn=getattr(definition, "execution_role_arn", None),
                taskRoleArn=getattr(definition, "task_role_arn", None),
                cpu=definition.cpu,
                memory=definition.memory,
                cpuArchitecture=(getattr(definition, "runtime_platform", None) or {}).get("cpuArchitecture")
                or "X86_64",
                primaryContainer={"image": main["image"], "containerPort": int(mappings[0]["containerPort"])},
            )
            return config
        container = dict(params["primaryContainer"])
        container.setdefault("containerPort", DEFAULT_PORT)
        config.update(
            executionRoleArn=params["executionRoleArn"],
            cpu=str(params.get("cpu") or DEFAULT_CPU),
            memory=str(params.get("memory") or DEFAULT_MEMORY),
            cpuArchitecture=params.get("cpuArchitecture") or "X86_64",
            primaryContainer=container,
        )
        if params.get("taskRoleArn"):
            config["taskRoleArn"] = params["taskRoleArn"]
        return config

    # -- the shared load balancer -----------------------------------------------------------

    def _shared_alb(self, vpc_id: str, subnets: list[str]) -> SharedAlb:
        """The VPC's shared load balancer (made, with its security group and HTTPS listener, when missing)."""
        alb = self.albs.get(vpc_id)
        if alb is not None and alb.load_balancer_arn in self.elbv2.load_balancers:
            return alb
        suffix = f"{self.sim.random.getrandbits(32):08x}"
        group = self.ec2.create_security_group(
            f"ecs-express-gateway-alb-{suffix}",
            "Managed by Amazon ECS Express Mode: the shared load balancer",
            vpc_id=vpc_id,
        )
        for port in (LISTENER_PORT, 80):
            self.ec2.authorize_security_group_ingress(group.id, "tcp", port, port, [{"CidrIp": "0.0.0.0/0"}])
        lb_subnets = self._one_subnet_per_zone(vpc_id, subnets)
        lb = self.elbv2.create_load_balancer(
            f"ecs-express-gateway-alb-{suffix}",
            [group.id],
            lb_subnets,
            scheme="internet-facing",
            loadbalancer_type="application",
            tags=[{"Key": "AmazonECSManaged", "Value": "true"}],
        )
        listener = self.elbv2.create_listener(
            lb.arn,
            "HTTPS",
            LISTENER_PORT,
            "ELBSecurityPolicy-TLS13-1-2-2021-06",
            None,
            [
                {
                    "Type": "fixed-response",
                    "FixedResponseConfig": {"StatusCode": "404", "ContentType": "text/plain"},
                }
            ],
        )
        alb = SharedAlb(vpc_id, lb.arn, listener.arn, group.id)
        self.albs[vpc_id] = alb
        return alb

    def _one_subnet_per_zone(self, vpc_id: str, subnets: list[str]) -> list[str]:
        """An ALB takes one subnet per Availability Zone and needs two zones: the tasks' first, then the VPC's."""
        chosen: dict[str, str] = {}
        every = [s for zone in self.ec2.subnets.values() for s in zone.values() if s.vpc_id == vpc_id]
        by_id = {s.id: s for s in every}
        for subnet_id in [*subnets, *sorted(by_id)]:
            subnet = by_id.get(subnet_id)
            if subnet is not None:
                chosen.setdefault(subnet.availability_zone, subnet.id)
        return list(chosen.values())

    def _service_security_group(self, express: ExpressService, alb: SharedAlb, port: int) -> str:
        """The tasks' security group: the container port open to the load balancer's group only."""
        group = self.ec2.create_security_group(
            f"ecs-express-{express.name[:200]}-{self.sim.random.getrandbits(24):06x}",
            f"Managed by Amazon ECS Express Mode: service {express.name}",
            vpc_id=express.vpc_id,
        )
        self.ec2.authorize_security_group_ingress(
            group.id, "tcp", port, port, [], source_groups=[{"GroupId": alb.security_group_id}]
        )
        return str(group.id)

    def _target_group(self, express: ExpressService, config: dict[str, Any]) -> None:
        port = int(config["primaryContainer"]["containerPort"])
        group = self.elbv2.create_target_group(
            f"ecs-express-{self.sim.random.getrandbits(48):012x}",
            vpc_id=express.vpc_id,
            protocol="HTTP",
            port=port,
            target_type="ip",
            healthcheck_protocol="HTTP",
            healthcheck_path=config["healthCheckPath"],
            healthcheck_enabled=True,
            matcher={"HttpCode": "200"},
        )
        express.target_group_arn = str(group.arn)

    def _listener_rule(self, express: ExpressService, alb: SharedAlb) -> None:
        listener = self._listener(alb.listener_arn)
        taken = {int(r.priority) for r in listener.rules.values() if str(r.priority).isdigit()}
        priority = next(p for p in range(1, 50001) if p not in taken)
        rule = self.elbv2.create_rule(
            alb.listener_arn,
            [{"Field": "host-header", "HostHeaderConfig": {"Values": [express.endpoint]}}],
            priority,
            [{"Type": "forward", "TargetGroupArn": express.target_group_arn}],
        )
        express.rule_arn = str(rule.arn)

    def _listener(self, listener_arn: str) -> Any:
        for lb in self.elbv2.load_balancers.values():
            if listener_arn in lb.listeners:
                return lb.listeners[listener_arn]
        raise _invalid(f"The shared load balancer's listener {listener_arn} no longer exists.")

    # -- the task definition, the service, scaling ------------------------------------------

    def _register_task_definition(self, express: ExpressService, config: dict[str, Any]) -> str:
        from labkit.ecs.validation import EcsValidationError, validate_register_task_definition

        container = config["primaryContainer"]
        logs = container.get("awsLogsConfiguration") or {
            "logGroup": f"/aws/ecs/{express.cluster}/{express.name}",
            "logStreamPrefix": "ecs",
        }
        definition: dict[str, Any] = {
            "name": CONTAINER_NAME,
            "image": container["image"],
            "essential": True,
            "portMappings": [
                {
                    "containerPort": int(container["containerPort"]),
                    "protocol": "tcp",
                    "name": f"{CONTAINER_NAME.lower()}-{int(container['containerPort'])}",
                }
            ],
            "environment": list(container.get("environment") or []),
            "secrets": list(container.get("secrets") or []),
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": logs["logGroup"],
                    "awslogs-region": self.sim.region,
                    "awslogs-stream-prefix": logs["logStreamPrefix"],
                },
            },
        }
        if container.get("command"):
            definition["command"] = list(container["command"])
        if container.get("repositoryCredentials"):
            definition["repositoryCredentials"] = dict(container["repositoryCredentials"])
        request = {
            "family": express.name,
            "containerDefinitions": [definition],
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": config["cpu"],
            "memory": config["memory"],
            "executionRoleArn": config["executionRoleArn"],
            "runtimePlatform": {
                "cpuArchitecture": config["cpuArchitecture"],
                "operatingSystemFamily": "LINUX",
            },
        }
        if config.get("taskRoleArn"):
            request["taskRoleArn"] = config["taskRoleArn"]
        try:
            validate_register_task_definition(request)
        except EcsValidationError as exc:
            raise ExpressError(exc.code, exc.message) from None
        # Developer guide: Express Mode makes a log group of the service's own.
        logs_backend = self._backend("logs")
        if logs["logGroup"] not in logs_backend.groups:
            logs_backend.create_log_group(logs["logGroup"], {})
        express.log_group = logs["logGroup"]
        registered = self.ecs.register_task_definition(
            express.name,
            [definition],
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=config["cpu"],
            memory=config["memory"],
            task_role_arn=config.get("taskRoleArn"),
            execution_role_arn=config["executionRoleArn"],
            runtime_platform=request["runtimePlatform"],
        )
        registered.registered_at = self.sim.now()
        registered.registered_by = express.infrastructure_role_arn
        return str(registered.arn)

    def _ecs_service(self, express: ExpressService, config: dict[str, Any]) -> None:
        port = int(config["primaryContainer"]["containerPort"])
        load_balancers = [
            {
                "targetGroupArn": express.target_group_arn,
                "containerName": CONTAINER_NAME,
                "containerPort": port,
            }
        ]
        network = {
            "awsvpcConfiguration": {
                "subnets": list(config["networkConfiguration"]["subnets"]),
                "securityGroups": list(config["networkConfiguration"]["securityGroups"]),
                "assignPublicIp": "ENABLED",
            }
        }
        desired = int(config["scalingTarget"]["minTaskCount"])
        created = self.ecs.create_service(
            express.cluster,
            express.name,
            desired,
            task_definition_str=config["taskDefinitionArn"],
            load_balancers=load_balancers,
            tags=list(express.tags),
            launch_type="FARGATE",
            network_configuration=network,
        )
        # ListServices' resourceManagementType: an Express service's resources are ECS's to manage.
        created.resource_management_type = "ECS"
        params = {
            "serviceName": express.name,
            "cluster": express.cluster,
            "desiredCount": desired,
            "taskDefinition": config["taskDefinitionArn"],
            "loadBalancers": load_balancers,
            "launchType": "FARGATE",
            "networkConfiguration": network,
            "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
        }
        self.sim.ecs.service_created(created, params)

    def _scaling(self, express: ExpressService, config: dict[str, Any]) -> None:
        scaling = config["scalingTarget"]
        backend = self._backend("applicationautoscaling")
        backend.register_scalable_target(
            "ecs",
            express.resource_id,
            "ecs:service:DesiredCount",
            int(scaling["minTaskCount"]),
            int(scaling["maxTaskCount"]),
            None,
            None,
        )
        metric: dict[str, Any] = {"PredefinedMetricType": _METRICS[str(scaling["autoScalingMetric"])]}
        if scaling["autoScalingMetric"] == "REQUEST_COUNT_PER_TARGET":
            lb = self.elbv2.load_balancers[self.albs[express.vpc_id].load_balancer_arn]
            lb_part = lb.arn.split(":loadbalancer/", 1)[1]
            tg_part = express.target_group_arn.rsplit(":", 1)[1]
            metric["ResourceLabel"] = f"{lb_part}/{tg_part}"
        express.policy_name = f"{express.name}-scaling-policy"
        backend.put_scaling_policy(
            express.policy_name,
            "ecs",
            express.resource_id,
            "ecs:service:DesiredCount",
            {
                "TargetValue": float(scaling["autoScalingTargetValue"]),
                "PredefinedMetricSpecification": metric,
            },
            "TargetTrackingScaling",
        )

    def _add_configuration(self, express: ExpressService, config: dict[str, Any]) -> None:
        express.revisions += 1
        entry = {
            "serviceRevisionArn": self._arn(
                "service-revision", f"{express.cluster}/{express.name}/{express.revisions}"
            ),
            **{k: v for k, v in config.items() if v is not None},
            "ingressPaths": [{"accessType": "PUBLIC", "endpoint": express.endpoint}],
            "createdAt": self.sim.now(),
        }
        express.configurations.append(entry)

    # -- the URL ----------------------------------------------------------------------------

    def _open_url(self, express: ExpressService, alb: SharedAlb) -> None:
        """A loopback port for the service: the shared listener's rules, as for a request to its host name."""
        from labkit.dataplane.listener import ListenerProxy

        listener_arn, host = alb.listener_arn, express.endpoint
        express.proxy = ListenerProxy(
            lambda: self.sim.elb.healthy_targets(listener_arn, path="/", host=host),
            before_request=self.sim.catch_up,
            protocol="HTTPS",
            route=lambda _host, path: self.sim.elb.healthy_targets(listener_arn, path=path, host=host),
            on_forward=functools.partial(self.sim.metrics.request_forwarded, listener_arn),
            fixed_response=lambda _host, path: self.sim.elb.fixed_response(listener_arn, path, host),
        )

    def urls(self) -> list[dict[str, Any]]:
        """Every Express service with a loopback URL: `public_url` is AWS's, `url` answers on loopback."""
        rows = []
        for express in self.services.values():
            if express.proxy is None or express.status != "ACTIVE":
                continue
            alb = self.albs.get(express.vpc_id)
            rows.append(
                {
                    "kind": "express",
                    "service_arn": express.arn,
                    "service_name": express.name,
                    "cluster": express.cluster,
                    "endpoint": express.endpoint,
                    "public_url": f"https://{express.endpoint}/",
                    "url": express.proxy.url,
                    "load_balancer_arn": alb.load_balancer_arn if alb else None,
                    "listener_arn": alb.listener_arn if alb else None,
                }
            )
        return rows

    # -- describe ---------------------------------------------------------------------------

    def _find(self, arn: Any, missing: str) -> ExpressService:
        express = self.services.get(str(arn or ""))
        if express is None:
            # message not verified against AWS
            raise ExpressError(
                missing,
                "Service not found."
                if missing != "ResourceNotFoundException"
                else (f"Express service {arn} not found."),
            )
        return express

    def describe(self, params: dict[str, Any]) -> dict[str, Any]:
        """DescribeExpressGatewayService."""
        express = self._find(params.get("serviceArn"), "ResourceNotFoundException")
        answer: dict[str, Any] = {
            "cluster": express.cluster,
            "serviceName": express.name,
            "serviceArn": express.arn,
            "infrastructureRoleArn": express.infrastructure_role_arn,
            "status": {"statusCode": express.status},
            "activeConfigurations": self._active_configurations(express),
            "createdAt": express.created_at,
            "updatedAt": express.updated_at,
        }
        if express.status_reason:
            answer["status"]["statusReason"] = express.status_reason
        deployment = self._primary_deployment(express)
        if deployment is not None:
            answer["currentDeployment"] = self._arn(
                "service-deployment", f"{express.cluster}/{express.name}/{deployment}"
            )
        if "TAGS" in (params.get("include") or []):
            answer["tags"] = list(express.tags)
        return {"service": answer}

    def _service(self, express: ExpressService) -> Any:
        return self.ecs.services.get(f"{express.cluster}:{express.name}")

    def _primary_deployment(self, express: ExpressService) -> str | None:
        service = self._service(express)
        for record in getattr(service, "deployments", None) or []:
            if record.get("status") == "PRIMARY":
                return str(record["id"]).rsplit("/", 1)[-1]
        return None

    def _active_configurations(self, express: ExpressService) -> list[dict[str, Any]]:
        """The configurations whose task definition a deployment of the service still runs (newest first)."""
        if express.status != "ACTIVE":
            return []
        service = self._service(express)
        running = {str(d.get("taskDefinition")) for d in getattr(service, "deployments", None) or []}
        active = [c for c in express.configurations if c["taskDefinitionArn"] in running]
        return list(reversed(active or express.configurations[-1:]))

    # -- update -----------------------------------------------------------------------------

    def update(self, params: dict[str, Any]) -> dict[str, Any]:
        """UpdateExpressGatewayService: a new configuration, rolled out as a new deployment."""
        express = self._find(params.get("serviceArn"), "ServiceNotFoundException")
        if express.status != "ACTIVE":
            # UpdateService's answer for a service that is not ACTIVE
            raise ExpressError("ServiceNotActiveException", "Service was not ACTIVE.")
        service = self._service(express)
        if service is None or service.status != "ACTIVE":
            # its ECS service was deleted on its own (DeleteService): nothing is left to roll out
            raise ExpressError("ServiceNotActiveException", "Service was not ACTIVE.")
        given = [f for f in _TASK_DEFINITION_FIELDS if params.get(f) is not None]
        if params.get("taskDefinitionArn") and given:
            raise _invalid(f"You cannot specify {', '.join(given)} together with taskDefinitionArn.")
        self._validate_common(params)
        previous = express.configurations[-1]
        merged: dict[str, Any] = {
            k: v for k, v in previous.items() if k not in ("serviceRevisionArn", "createdAt")
        }
        for key in ("executionRoleArn", "taskRoleArn", "cpu", "memory", "cpuArchitecture", "healthCheckPath"):
            if params.get(key) is not None:
                merged[key] = params[key]
        if params.get("primaryContainer"):
            container = {**previous["primaryContainer"], **params["primaryContainer"]}
            merged["primaryContainer"] = container
        if params.get("scalingTarget"):
            merged["scalingTarget"] = {**previous["scalingTarget"], **params["scalingTarget"]}
        if params.get("networkConfiguration"):
            network = params["networkConfiguration"]
            subnets, vpc_id = self._subnets({"networkConfiguration": network})
            if vpc_id != express.vpc_id:
                raise _invalid("The subnets must be in the service's VPC.")  # message not verified
            merged["networkConfiguration"] = {
                "subnets": subnets,
                "securityGroups": list(
                    network.get("securityGroups") or previous["networkConfiguration"]["securityGroups"]
                ),
            }
        if int(merged["primaryContainer"]["containerPort"]) != int(
            previous["primaryContainer"]["containerPort"]
        ):
            raise _invalid("The container port of an Express service cannot be changed.")  # not verified
        if params.get("taskDefinitionArn"):
            merged = {
                **self._configuration(
                    {**params, "networkConfiguration": merged["networkConfiguration"]},
                    merged["networkConfiguration"]["subnets"],
                ),
                "healthCheckPath": merged["healthCheckPath"],
                "scalingTarget": merged["scalingTarget"],
            }
        else:
            merged["taskDefinitionArn"] = self._register_task_definition(express, merged)
        if merged["healthCheckPath"] != previous["healthCheckPath"]:
            self.elbv2.target_groups[express.target_group_arn].healthcheck_path = merged["healthCheckPath"]
        self._roll_out(express, merged)
        if merged["scalingTarget"] != previous["scalingTarget"]:
            self._scaling(express, merged)
        self._add_configuration(express, merged)
        express.updated_at = self.sim.now()
        target = {k: v for k, v in express.configurations[-1].items()}
        return {
            "service": {
                "serviceArn": express.arn,
                "cluster": express.cluster,
                "serviceName": express.name,
                "status": {"statusCode": express.status},
                "targetConfiguration": target,
                "createdAt": express.created_at,
                "updatedAt": express.updated_at,
            }
        }

    def _roll_out(self, express: ExpressService, config: dict[str, Any]) -> None:
        service = self._service(express)
        previous = service.task_definition
        network = {
            "awsvpcConfiguration": {
                "subnets": list(config["networkConfiguration"]["subnets"]),
                "securityGroups": list(config["networkConfiguration"]["securityGroups"]),
                "assignPublicIp": "ENABLED",
            }
        }
        self.ecs.update_service(
            {
                "cluster": express.cluster,
                "service": express.name,
                "task_definition": config["taskDefinitionArn"],
                "network_configuration": network,
            }
        )
        service.task_definition = config["taskDefinitionArn"]
        self.sim.ecs.service_updated(
            service,
            {
                "cluster": express.cluster,
                "service": express.name,
                "taskDefinition": config["taskDefinitionArn"],
                "networkConfiguration": network,
            },
            previous,
        )

    # -- delete -----------------------------------------------------------------------------

    def delete(self, params: dict[str, Any]) -> dict[str, Any]:
        """DeleteExpressGatewayService: the service drains; what it made goes once its tasks stopped."""
        express = self._find(params.get("serviceArn"), "ServiceNotFoundException")
        if express.status != "ACTIVE":
            raise ExpressError("ServiceNotActiveException", "Service was not ACTIVE.")
        service = self._service(express)
        backend = self._backend("applicationautoscaling")
        try:
            backend.delete_scaling_policy(
                express.policy_name, "ecs", express.resource_id, "ecs:service:DesiredCount"
            )
        except Exception as exc:
            if not moto_seam.is_service_error(exc):
                raise
        try:
            backend.deregister_scalable_target("ecs", express.resource_id, "ecs:service:DesiredCount")
        except Exception as exc:
            if not moto_seam.is_service_error(exc):
                raise
        if express.rule_arn:
            self.elbv2.delete_rule(express.rule_arn)
        if service is not None and service.status == "ACTIVE":
            self.sim.ecs.service_deleted(service)
        express.status = "DRAINING"
        express.updated_at = self.sim.now()
        if express.proxy is not None:
            express.proxy.close()
            express.proxy = None
        self.sim.after(
            DRAIN_CHECK_SECONDS,
            functools.partial(self._finish_delete, express.arn),
            f"express service {express.name} draining",
        )
        answer = self.describe({"serviceArn": express.arn})
        return answer

    def _finish_delete(self, arn: str) -> None:
        """Once the drained service's tasks have stopped, remove its target group, groups and (if unused) the ALB."""
        express = self.services.get(arn)
        if express is None or express.status != "DRAINING":
            return
        service = self._service(express)
        if service is not None and service.status == "DRAINING":
            self.sim.after(
                DRAIN_CHECK_SECONDS,
                functools.partial(self._finish_delete, arn),
                f"express service {express.name} draining",
            )
            return
        if express.target_group_arn in self.elbv2.target_groups:
            try:
                self.elbv2.delete_target_group(express.target_group_arn)
            except Exception as exc:
                if not moto_seam.is_service_error(exc):
                    raise
        # A drained service is INACTIVE once its tasks are STOPPING, but a task's network interface is
        # released only at STOPPED: a group still in use is tried again, and the service stays
        # DRAINING until its groups are gone (AWS removes what Express Mode made).
        express.own_security_groups = [g for g in express.own_security_groups if not self._delete_group(g)]
        if express.own_security_groups:
            self.sim.after(
                DRAIN_CHECK_SECONDS,
                functools.partial(self._finish_delete, arn),
                f"express service {express.name} releasing its security groups",
            )
            return
        alb = self.albs.get(express.vpc_id)
        if alb is not None:
            alb.users.discard(arn)
            if not alb.users:
                if alb.load_balancer_arn in self.elbv2.load_balancers:
                    self.elbv2.delete_load_balancer(alb.load_balancer_arn)
                self._delete_group(alb.security_group_id)
                del self.albs[express.vpc_id]
        express.status = "INACTIVE"
        express.updated_at = self.sim.now()

    def _delete_group(self, group_id: str) -> bool:
        """Delete a security group Express Mode made; False while something still uses it."""
        try:
            self.ec2.delete_security_group(group_id=group_id)
        except Exception as exc:
            if not moto_seam.is_service_error(exc):
                raise
            return (
                getattr(exc, "code", None) != "DependencyViolation"
                and getattr(exc, "error_type", None) != "DependencyViolation"
            )
        return True

    def close(self) -> None:
        """Close every service's loopback port."""
        for express in self.services.values():
            if express.proxy is not None:
                express.proxy.close()
                express.proxy = None
