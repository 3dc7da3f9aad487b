"""What AWS ECS checks in RegisterTaskDefinition and CreateService, as pure functions.

moto 5.2 accepts almost any task definition (11 containers, a Fargate size that does not exist,
ephemeral storage out of range), so the emulator calls these functions before it hands a request
to moto and turns an `EcsValidationError` into the AWS error response: same error code, same
message where the message could be found.

Where a message is AWS's own text it cites where it was seen: an AWS error quoted in a public
issue thread (repository#number). `# message not verified against AWS` marks a message written in
AWS's style because no AWS response with that text could be found; the rule itself is still the
documented one (botocore's ECS service model, the ECS API reference).
AWS reports one problem per call, so each function raises at the first rule broken.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "CLIENT_EXCEPTION",
    "FARGATE_PROVIDERS",
    "FARGATE_SIZES",
    "INVALID_PARAMETER_EXCEPTION",
    "LAUNCH_TYPES",
    "MANAGED_INSTANCES_NETWORK_MODES",
    "MAX_CONTAINERS",
    "MAX_EPHEMERAL_STORAGE_GIB",
    "MIN_EPHEMERAL_STORAGE_GIB",
    "EcsValidationError",
    "assign_capacity_providers",
    "check_launch_choice",
    "fargate_size_allowed",
    "managed_instances_compatible",
    "parse_cpu",
    "parse_memory",
    "validate_create_service",
    "validate_register_task_definition",
    "validate_run_task",
    "validate_service_load_balancers",
]

# Both are error shapes in botocore's ECS model. RegisterTaskDefinition answers ClientException for
# almost everything; CreateService answers InvalidParameterException for its parameters.
CLIENT_EXCEPTION = "ClientException"
INVALID_PARAMETER_EXCEPTION = "InvalidParameterException"

# Containers per task definition: "Too many containers." above 10 (aws/amazon-ecs-cli#184, #951;
# the limit is still 10: aws/containers-roadmap#368 asks to raise it and is open).
MAX_CONTAINERS = 10

# EphemeralStorage.sizeInGiB in botocore's ECS model: "The minimum supported value is 21 GiB and
# the maximum supported value is 200 GiB." 20 GiB is what a Fargate task gets without the setting
# (developer guide, "Fargate task ephemeral storage"), so 20 itself is refused.
MIN_EPHEMERAL_STORAGE_GIB = 21
MAX_EPHEMERAL_STORAGE_GIB = 200

# Task-level cpu range for EC2/external in RegisterTaskDefinition.cpu: "between 128 CPU units
# (0.125 vCPUs) and 196608 CPU units (192 vCPUs)".
_MIN_TASK_CPU = 128
_MAX_TASK_CPU = 196608


def _mib_range(first_gib: int, last_gib: int, step_gib: int) -> tuple[int, ...]:
    return tuple(gib * 1024 for gib in range(first_gib, last_gib + 1, step_gib))


# Fargate task sizes, cpu units -> allowed memory in MiB. Taken from RegisterTaskDefinition.memory
# in botocore's ECS model (the API reference's copy of the developer guide's "Task size" table):
# 256 -> 512, 1024, 2048; 512 -> 1-4 GB; 1024 -> 2-8 GB; 2048 -> 4-16 GB and 4096 -> 8-30 GB in
# 1 GB steps; 8192 -> 16-60 GB in 4 GB steps; 16384 -> 32-120 GB in 8 GB steps (the last two need
# Linux platform 1.4.0, which is LATEST).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: _mib_range(1, 4, 1),
    1024: _mib_range(2, 8, 1),
    2048: _mib_range(4, 16, 1),
    4096: _mib_range(8, 30, 1),
    8192: _mib_range(16, 60, 4),
    16384: _mib_range(32, 120, 8),
}

_VCPU = re.compile(r"^(\d+(?:\.\d+)?)\s*vcpu$", re.IGNORECASE)
_GB = re.compile(r"^(\d+(?:\.\d+)?)\s*gb$", re.IGNORECASE)
_ECR_IMAGE = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/")


class EcsValidationError(Exception):
    """A request AWS ECS would refuse: the AWS error code and the message AWS gives.

    Not a `LabkitError`: it is the emulator's answer to a learner's request, sent back as an AWS
    error response, never a failure of labkit itself.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _client_error(message: str) -> EcsValidationError:
    return EcsValidationError(CLIENT_EXCEPTION, message)


def _parameter_error(message: str) -> EcsValidationError:
    return EcsValidationError(INVALID_PARAMETER_EXCEPTION, message)


def _scaled(value: str | int, pattern: re.Pattern[str], factor: int, what: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number or a string, not {value!r}")
    if isinstance(value, int):
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    match = pattern.match(text)
    if match is None:
        raise ValueError(f"cannot read {value!r} as {what}")
    try:
        scaled = Decimal(match.group(1)) * factor
    except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
        raise ValueError(f"cannot read {value!r} as {what}") from exc
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of {what}")
    return int(scaled)


def parse_cpu(value: str | int) -> int:
    """Read a task cpu value as CPU units: 1024, "1024", "1 vCPU", "0.25 vcpu".

    RegisterTaskDefinition.cpu accepts CPU units or a string in vCPUs, converted at registration.
    Raises ValueError for anything else, or a vCPU value that is not a whole number of units.
    """
    return _scaled(value, _VCPU, 1024, "CPU units")


def parse_memory(value: str | int) -> int:
    """Read a task memory value as MiB: 2048, "2048", "2 GB", "2GB", "0.5 GB".

    RegisterTaskDefinition.memory accepts MiB or a string in GB ("1GB or 1 GB"), 1 GB = 1024 MiB.
    Raises ValueError for anything else, or a GB value that is not a whole number of MiB.
    """
    return _scaled(value, _GB, 1024, "MiB")


def fargate_size_allowed(cpu: int, memory: int) -> bool:
    """Tell whether Fargate offers this task size (cpu units, memory MiB); raises nothing."""
    return memory in FARGATE_SIZES.get(cpu, ())


def _containers(params: dict[str, Any]) -> list[dict[str, Any]]:
    containers = params.get("containerDefinitions") or []
    return [c for c in containers if isinstance(c, dict)]


def _quoted(value: Any) -> str:
    # AWS prints a missing name as 'null' ("Unknown volume 'null'.", blinkist/
    # terraform-aws-airship-ecs-service#46).
    return "null" if value is None else str(value)


def _port_mappings(container: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in container.get("portMappings") or [] if isinstance(m, dict)]


def validate_register_task_definition(params: dict[str, Any]) -> None:
    """Check a RegisterTaskDefinition request (boto3's camelCase parameters) as AWS does.

    Raises EcsValidationError with the AWS code and message at the first rule the request breaks.
    """
    containers = _containers(params)
    _check_container_list(containers)
    names = _check_container_names(containers)
    _check_essential(containers)
    task_cpu, task_memory = _task_size(params)
    if "FARGATE" in (params.get("requiresCompatibilities") or []):
        _check_fargate(params, containers, task_cpu, task_memory)
    if "MANAGED_INSTANCES" in (params.get("requiresCompatibilities") or []):
        _check_managed_instances(params)
    _check_ephemeral_storage(params)
    _check_port_mappings(params, containers)
    _check_container_memory(containers, task_memory)
    _check_environment(containers)
    _check_references(params, containers, names)


def _check_container_list(containers: list[dict[str, Any]]) -> None:
    if not containers:
        # awsdocs/aws-cloudformation-user-guide#454
        raise _client_error("Container list cannot be empty.")
    if len(containers) > MAX_CONTAINERS:
        # aws/amazon-ecs-cli#184
        raise _client_error("Too many containers.")


def _check_container_names(containers: list[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for container in containers:
        name = container.get("name")
        if not name:
            # awsdocs/aws-cloudformation-user-guide#612, hashicorp/terraform#2888
            raise _client_error("Container.name should not be null or empty.")
        if name in names:
            # Shippable/support#2946, metaps/genova#291
            raise _client_error("Container names must be unique within a Task Definition.")
        names.add(name)
    return names


def _check_essential(containers: list[dict[str, Any]]) -> None:
    # A container is essential unless it says essential: false (ContainerDefinition.essential).
    # The AWS text is not cfn-lint's "At least one essential container is required" (E3042):
    # eagletmt/hako#68 quotes ECS; aws-cloudformation/cfn-lint#4536 confirms the wording.
    if all(container.get("essential", True) is False for container in containers):
        raise _client_error("Task definition doesn't have any essential container.")


def _task_size(params: dict[str, Any]) -> tuple[int | None, int | None]:
    cpu: int | None = None
    memory: int | None = None
    if params.get("cpu") is not None:
        try:
            cpu = parse_cpu(params["cpu"])
        except ValueError:
            cpu = -1
        if not _MIN_TASK_CPU <= cpu <= _MAX_TASK_CPU:
            # oranmoshai/ecsServiceRestart#2 (an empty cpu string): InvalidParameterException.
            raise _parameter_error("Invalid 'cpu' setting for task.")
    if params.get("memory") is not None:
        try:
            memory = parse_memory(params["memory"])
        except ValueError:
            memory = -1
        if memory <= 0:
            # message not verified against AWS (written like the 'cpu' one above)
            raise _parameter_error("Invalid 'memory' setting for task.")
    return cpu, memory


def _check_fargate(
    params: dict[str, Any],
    containers: list[dict[str, Any]],
    cpu: int | None,
    memory: int | None,
) -> None:
    # No networkMode means bridge (RegisterTaskDefinition.networkMode), which Fargate refuses.
    if params.get("networkMode", "bridge") != "awsvpc":
        # aws/amazon-ecs-cli#1145, awslabs/ecs-nginx-reverse-proxy#1 (AWS's curly quotes)
        raise _client_error("Fargate only supports network mode \u2018awsvpc\u2019.")
    if cpu is None:
        # mongodb/terraform-aws-ecs-task-definition#38, hashicorp/terraform-provider-aws#6879
        raise _client_error("Fargate requires that 'cpu' be defined at the task level.")
    if memory is None:
        # aws/amazon-ecs-cli#982
        raise _client_error("Fargate requires that 'memory' be defined at the task level.")
    if not fargate_size_allowed(cpu, memory):
        # aws-games/cloud-game-development-toolkit#737 (2025 wording; before 2019 it stopped at
        # "values.", aws/amazon-ecs-cli#463)
        raise _client_error(
            f"No Fargate configuration exists for given values: {cpu} CPU, {memory} memory. "
            "See the Amazon ECS documentation for the valid values."
        )
    if params.get("executionRoleArn"):
        return
    for container in containers:
        log_driver = (container.get("logConfiguration") or {}).get("logDriver")
        if log_driver == "awslogs":
            # virtual-kubelet/virtual-kubelet#193
            raise _client_error(
                "Fargate requires task definition to have execution role ARN to support log driver awslogs."
            )
        if _ECR_IMAGE.match(str(container.get("image", ""))):
            # jenkinsci/amazon-ecs-plugin#53
            raise _client_error(
                "Fargate requires task definition to have execution role ARN to support ECR images."
            )


def _check_ephemeral_storage(params: dict[str, Any]) -> None:
    storage = params.get("ephemeralStorage")
    if not isinstance(storage, dict):
        return
    size = storage.get("sizeInGiB")
    if not isinstance(size, int) or isinstance(size, bool):
        return  # botocore refuses a missing or non-integer sizeInGiB before sending
    if size < MIN_EPHEMERAL_STORAGE_GIB:
        # guardian/cdk#1101 quotes this through CloudFormation; the code is not shown there.
        raise _client_error(f"EphemeralStorage size should be at least {MIN_EPHEMERAL_STORAGE_GIB}")
    if size > MAX_EPHEMERAL_STORAGE_GIB:
        # message not verified against AWS (the counterpart of the one above)
        raise _client_error(f"EphemeralStorage size should be at most {MAX_EPHEMERAL_STORAGE_GIB}")


def _check_port_mappings(params: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    mode = params.get("networkMode", "bridge")
    if mode not in ("awsvpc", "host"):
        return
    for container in containers:
        if mode == "awsvpc" and container.get("hostname"):
            # labd/ecs-deplojo#26
            raise _client_error("hostname is not supported on container when networkMode=awsvpc.")
        for mapping in _port_mappings(container):
            host_port = mapping.get("hostPort")
            container_port = mapping.get("containerPort")
            # A blank hostPort is filled with the containerPort; 0 also means "not given" here
            # (turnerlabs/terraform-ecs-fargate#11 quotes the docs of the time: "0 or equal").
            if host_port in (None, 0) or container_port is None or host_port == container_port:
                continue
            if mode == "awsvpc":
                # pulumi/pulumi-awsx#935, aws/amazon-ecs-cli#1014
                raise _client_error(
                    "When networkMode=awsvpc, the host ports and container ports in port mappings must match."
                )
            # message not verified against AWS (the host-mode rule is ContainerDefinition.portMappings)
            raise _client_error(
                "When networkMode=host, the host ports and container ports in port mappings must match."
            )


def _check_container_memory(containers: list[dict[str, Any]], task_memory: int | None) -> None:
    reserved = 0
    for container in containers:
        name = container["name"]
        hard = container.get("memory")
        soft = container.get("memoryReservation")
        if task_memory is None and not hard and not soft:
            # ContainerDefinition.memory: without task-level memory (the EC2 case) a container needs
            # memory or memoryReservation. sil-org/ecs-deploy#59, aws/aws-cli#4453
            raise _client_error(
                f"Invalid setting for container '{name}'. At least one of 'memory' or 'memoryReservation' must be specified."
            )
        if isinstance(hard, int) and isinstance(soft, int) and soft > hard:
            # The model says memory "must be greater than" memoryReservation; equal values are
            # accepted (awsdocs/amazon-ecs-developer-guide#242), so only a larger reservation fails.
            # message not verified against AWS
            raise _client_error(
                f"Invalid setting for container '{name}'. 'memoryReservation' must be less than or equal to 'memory'."
            )
        if task_memory is not None and isinstance(hard, int) and hard > task_memory:
            # pulumi/pulumi-awsx#1220
            raise _client_error(f"The 'memory' setting for container '{name}' is greater than for the task.")
        reserved += soft if isinstance(soft, int) else 0
    if task_memory is not None and reserved > task_memory:
        # cloudnativedaysjp/dreamkast-infra#4766
        raise _client_error(
            "The sum of all container 'memoryReservation' values cannot be greater than the value of the task 'memory'."
        )


def _check_environment(containers: list[dict[str, Any]]) -> None:
    for container in containers:
        for variable in container.get("environment") or []:
            if not str(variable.get("name") or "").strip():
                # thnery/terraform-aws-template#2
                raise _client_error("Environment variable name cannot be null or blank.")
        for secret in container.get("secrets") or []:
            if not str(secret.get("name") or "").strip():
                # Secret.name is required in the model, so botocore refuses it before sending;
                # this answers clients that skip that check.
                # message not verified against AWS
                raise _client_error("Secret name cannot be null or blank.")


def _check_references(params: dict[str, Any], containers: list[dict[str, Any]], names: set[str]) -> None:
    volumes = {volume.get("name") for volume in params.get("volumes") or [] if isinstance(volume, dict)}
    for container in containers:
        name = container["name"]
        for dependency in container.get("dependsOn") or []:
            target = dependency.get("containerName")
            if target not in names:
                # AWS's text, with its stray "+ " (dagster-io/dagster#6926, eagletmt/hako#99).
                raise _client_error(
                    f"Cannot depend on container + '{_quoted(target)}' because it does not exist"
                )
        for link in container.get("links") or []:
            target = str(link).split(":", 1)[0]
            if target not in names:
                # Docker cannot link to a container the task does not have; that ECS refuses it at
                # registration (rather than at launch) is assumed.
                # message not verified against AWS
                raise _client_error(
                    f"Invalid 'links' setting for container '{name}'. Container '{target}' does not exist in the task definition."
                )
        for source in container.get("volumesFrom") or []:
            target = source.get("sourceContainer")
            if target not in names:
                # VolumeFrom.sourceContainer: "another container within the same task definition";
                # enforcement at registration is assumed, like links.
                # message not verified against AWS
                raise _client_error(
                    f"Invalid 'volumesFrom' setting for container '{name}'. Container '{_quoted(target)}' does not exist in the task definition."
                )
        for mount in container.get("mountPoints") or []:
            if mount.get("sourceVolume") not in volumes:
                # ansible/ansible#35751, wellcomecollection/platform#677
                raise _client_error(f"Unknown volume '{_quoted(mount.get('sourceVolume'))}'.")


def validate_service_load_balancers(
    task_definition: dict[str, Any],
    load_balancers: list[dict[str, Any]],
    launch_type: str | None,
    network_mode: str,
) -> None:
    """Check the loadBalancers of CreateService/UpdateService against the task definition.

    Raises EcsValidationError (InvalidParameterException) at the first entry AWS would refuse.
    """
    containers = {c.get("name"): c for c in _containers(task_definition)}
    # A Fargate task always has its own ENI, whatever the caller passed as the mode.
    awsvpc = network_mode == "awsvpc" or launch_type == "FARGATE"
    for entry in load_balancers:
        name = entry.get("containerName")
        port = entry.get("containerPort")
        target_group = entry.get("targetGroupArn")
        classic = entry.get("loadBalancerName")
        if not name:
            # aws/amazon-ecs-cli#359
            raise _parameter_error("Container Name can not be blank.")
        if not target_group and not classic:
            # message not verified against AWS
            raise _parameter_error(
                f"Either targetGroupArn or loadBalancerName must be specified for the load balancer of container {name}."
            )
        if target_group and classic:
            # LoadBalancer.loadBalancerName: "should be omitted" with a target group.
            # message not verified against AWS
            raise _parameter_error(
                f"targetGroupArn and loadBalancerName cannot both be specified for the load balancer of container {name}."
            )
        if classic and awsvpc:
            # Developer guide, service load balancing: tasks with the awsvpc network mode (so every
            # Fargate task) support only Application and Network Load Balancers.
            # message not verified against AWS
            raise _parameter_error(
                f"Classic Load Balancer {classic} is not supported for tasks that use the awsvpc network mode."
            )
        container = containers.get(name)
        if container is None:
            # aws/amazon-ecs-agent#1276
            raise _parameter_error(f"The container {name} does not exist in the task definition.")
        if port is None:
            # message not verified against AWS (written like "Container Name can not be blank.")
            raise _parameter_error("Container Port can not be blank.")
        mappings = [m for m in _port_mappings(container) if m.get("containerPort") == port]
        if not mappings:
            # pulumi/pulumi-awsx#1172
            raise _parameter_error(f"The container {name} did not have a container port {port} defined.")
        if classic and not awsvpc and all(m.get("hostPort") in (None, 0) for m in mappings):
            # A Classic Load Balancer needs a fixed host port: aws/aws-sdk-js#1397.
            raise _parameter_error(f"A host port mapping for the container port {port} is required.")


#: The network modes a task on ECS Managed Instances may use (developer guide, "Amazon ECS task networking
#: for Amazon ECS Managed Instances": awsvpc and host; the API reference's
#: ManagedInstancesNetworkConfiguration adds none).
MANAGED_INSTANCES_NETWORK_MODES = ("awsvpc", "host", "none")


def _check_managed_instances(params: dict[str, Any]) -> None:
    """A task definition for Managed Instances names its network mode, and not bridge (developer guide)."""
    mode = params.get("networkMode")
    if not mode:
        # Developer guide: "You must specify a network mode in the task definition. You can't run tasks
        # on Amazon ECS Managed Instances with a task definition that doesn't specify a network mode."
        # message not verified against AWS
        raise _client_error("A network mode must be specified for the MANAGED_INSTANCES compatibility.")
    if mode not in MANAGED_INSTANCES_NETWORK_MODES:
        # message not verified against AWS
        raise _client_error(
            f"Network mode {mode} is not supported for the MANAGED_INSTANCES compatibility. "
            f"Use one of: {', '.join(MANAGED_INSTANCES_NETWORK_MODES)}."
        )


def managed_instances_compatible(task_definition: dict[str, Any]) -> bool:
    """Can the task definition run on ECS Managed Instances (launch type or capacity provider)?"""
    declared = set(task_definition.get("compatibilities") or []) | set(
        task_definition.get("requiresCompatibilities") or []
    )
    if "MANAGED_INSTANCES" in declared:
        return True
    if task_definition.get("requiresCompatibilities"):
        return False
    return task_definition.get("networkMode") in MANAGED_INSTANCES_NETWORK_MODES


def _fargate_compatible(task_definition: dict[str, Any]) -> bool:
    declared = set(task_definition.get("compatibilities") or []) | set(
        task_definition.get("requiresCompatibilities") or []
    )
    if "FARGATE" in declared:
        return True
    if task_definition.get("requiresCompatibilities"):
        return False
    # Registered without requiresCompatibilities: AWS still lists FARGATE in compatibilities when
    # the definition would pass as one (fabfuel/ecs-deploy#50); moto lists only EC2, so decide here.
    try:
        cpu = parse_cpu(task_definition["cpu"])
        memory = parse_memory(task_definition["memory"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return False  # no task-level cpu or memory (None): not a Fargate task definition
    return task_definition.get("networkMode") == "awsvpc" and fargate_size_allowed(cpu, memory)


def validate_create_service(params: dict[str, Any], task_definition: dict[str, Any]) -> None:
    """Check a CreateService request (boto3's parameters) against its registered task definition.

    Raises EcsValidationError (InvalidParameterException) at the first rule the request breaks.
    """
    launch_type = params.get("launchType")
    network_mode = task_definition.get("networkMode") or "bridge"
    daemon = params.get("schedulingStrategy") == "DAEMON"

    if launch_type == "FARGATE" and not _fargate_compatible(task_definition):
        # oranmoshai/ecsServiceRestart#2
        raise _parameter_error("Task definition does not support launch_type FARGATE.")
    if launch_type == "MANAGED_INSTANCES" and not managed_instances_compatible(task_definition):
        # The same rule as FARGATE's; message not verified against AWS
        raise _parameter_error("Task definition does not support launch_type MANAGED_INSTANCES.")
    _check_desired_count(params, daemon)
    _check_network_configuration(params, network_mode)
    if launch_type == "FARGATE":
        # GetSimpl/cloudlift#138; aws-cloudformation/cloudformation-coverage-roadmap#2369
        if params.get("placementConstraints"):
            raise _parameter_error("Placement constraints are not supported with FARGATE launch type.")
        if params.get("placementStrategy"):
            raise _parameter_error("Placement strategies are not supported with FARGATE launch type.")
    _check_deployment_configuration(params.get("deploymentConfiguration") or {}, daemon)
    if params.get("loadBalancers"):
        validate_service_load_balancers(task_definition, params["loadBalancers"], launch_type, network_mode)


def _check_desired_count(params: dict[str, Any], daemon: bool) -> None:
    desired = params.get("desiredCount")
    if daemon and desired is not None:
        # kayac/ecspresso#20
        raise _parameter_error(
            "The daemon scheduling strategy does not support a desired count for services. "
            "Remove the desired count value and try again"
        )
    if isinstance(desired, int) and desired < 0:
        # message not verified against AWS
        raise _parameter_error("Invalid desiredCount: the desired count must be 0 or more.")


def _check_network_configuration(params: dict[str, Any], network_mode: str) -> None:
    configuration = params.get("networkConfiguration")
    awsvpc = (configuration or {}).get("awsvpcConfiguration")
    if network_mode != "awsvpc":
        if configuration:
            # crossplane-contrib/provider-aws#2233, muya/amazon-ecs-run-task#7
            raise _parameter_error(
                "Network Configuration is not valid for the given networkMode of this task definition."
            )
        return
    if not awsvpc:
        # tryretool/retool-onpremise#84 (CreateService), PasseiDireto/gh-runner-task-action#8 (RunTask)
        raise _parameter_error(
            "Network Configuration must be provided when networkMode 'awsvpc' is specified."
        )
    if not awsvpc.get("subnets"):
        # AwsVpcConfiguration.subnets is required; an empty list passes botocore.
        # message not verified against AWS
        raise _parameter_error("subnets can not be empty.")


def _check_deployment_configuration(configuration: dict[str, Any], daemon: bool) -> None:
    # The API reference gives no range for either value; these are the refusals that can be
    # pinned down. Other pairs are accepted, and a pair that allows no progress stalls the
    # deployment in the simulator, as it does on AWS.
    minimum = configuration.get("minimumHealthyPercent")
    maximum = configuration.get("maximumPercent")
    for field, value in (("minimumHealthyPercent", minimum), ("maximumPercent", maximum)):
        if isinstance(value, int) and value < 0:
            # message not verified against AWS
            raise _parameter_error(f"Invalid deploymentConfiguration: {field} must be 0 or more.")
    if daemon and isinstance(maximum, int) and maximum > 100:
        # aws/aws-cdk#2209
        raise _parameter_error(
            "The daemon scheduling strategy does not support values above 100 for maximumPercent on a "
            "deployment configuration. Change the maximumPercent value to 100, and try again"
        )
    # 100/100 is accepted: it stalls a rolling deployment, and the service's events say why (see
    # ARCHITECTURE.md, "ECS rules the simulator follows"); no AWS source shows CreateService refusing it.


#: botocore's ECS model, shape LaunchType.
LAUNCH_TYPES = ("EC2", "FARGATE", "EXTERNAL", "MANAGED_INSTANCES")
#: The capacity providers every cluster can use without creating them (they run tasks on Fargate).
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


def check_launch_choice(params: dict[str, Any], cluster_providers: list[str] | None = None) -> None:
    """Check a RunTask or CreateService request's launch type and capacity provider strategy.

    `cluster_providers` are the capacity providers associated with the cluster (None: not checked).
    Raises EcsValidationError (InvalidParameterException) at the first rule the request breaks.
    """
    launch_type = params.get("launchType")
    if launch_type is not None and launch_type not in LAUNCH_TYPES:
        # botocore does not check enums, so a raw request (or the AWS CLI) reaches the service with it;
        # message not verified against AWS (the rule is botocore's LaunchType enum)
        raise _parameter_error(f"launchType should be one of [{','.join(LAUNCH_TYPES)}].")
    strategy = params.get("capacityProviderStrategy") or []
    if launch_type and strategy:
        # RunTask / CreateService API reference: "If a capacityProviderStrategy is specified, the
        # launchType parameter must be omitted."; message: terraform-linters/tflint-ruleset-aws#349,
        # pulumi/pulumi-awsx#599
        raise _parameter_error(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again."
        )
    _check_strategy(strategy, cluster_providers)


def _check_strategy(strategy: list[dict[str, Any]], cluster_providers: list[str] | None) -> None:
    # CapacityProviderStrategyItem: base 0..100000, weight 0..1000, at most 20 items (API reference).
    if len(strategy) > 20:
        # message not verified against AWS
        raise _parameter_error("A capacity provider strategy can contain a maximum of 20 capacity providers.")
    with_base = [item for item in strategy if int(item.get("base") or 0) > 0]
    if len(with_base) > 1:
        # API reference, CapacityProviderStrategyItem.base: "Only one capacity provider in a capacity
        # provider strategy can have a base defined." message not verified against AWS
        raise _parameter_error(
            "Only one capacity provider in a capacity provider strategy can have a base defined."
        )
    for item in strategy:
        base, weight = int(item.get("base") or 0), int(item.get("weight") or 0)
        if not 0 <= base <= 100000 or not 0 <= weight <= 1000:
            # message not verified against AWS
            raise _parameter_error(
                "The capacity provider strategy's base must be 0..100000 and weight 0..1000."
            )
        name = str(item.get("capacityProvider") or "")
        if cluster_providers is not None and name not in cluster_providers:
            # API reference, CapacityProviderStrategyItem: "Only capacity providers that are already
            # associated with a cluster ... can be used"; FARGATE and FARGATE_SPOT "only need to be
            # associated with a cluster" (PutClusterCapacityProviders). message not verified against AWS
            raise _parameter_error(
                "The specified capacity provider strategy cannot contain a capacity provider that is not "
                "associated with the cluster. Associate the capacity provider with the cluster or specify "
                "a valid capacity provider and try again."
            )
    if strategy and not any(int(i.get("weight") or 0) > 0 or int(i.get("base") or 0) > 0 for i in strategy):
        # message not verified against AWS
        raise _parameter_error(
            "At least one capacity provider in a capacity provider strategy must have a weight greater than zero."
        )
    providers = {str(item.get("capacityProvider")) for item in strategy}
    if providers & set(FARGATE_PROVIDERS) and providers - set(FARGATE_PROVIDERS):
        # Developer guide, "Capacity provider strategies": a strategy mixes no Fargate and Auto Scaling
        # group providers. message not verified against AWS
        raise _parameter_error(
            "A capacity provider strategy cannot contain a mix of capacity providers using Auto Scaling "
            "groups and Fargate providers. Specify one or the other and try again."
        )


def assign_capacity_providers(
    strategy: list[dict[str, Any]], count: int, running: dict[str, int] | None = None
) -> list[str]:
    """Which provider of `strategy` each of `count` new tasks goes to, given the tasks each already has.

    As the developer guide's "Capacity provider strategies" describes: the one provider with a base
    gets tasks until it has `base`; the rest are shared in proportion to the weights (a provider of
    weight 0 gets none beyond its base). Ties go to the provider listed first.
    """
    counts = {
        str(i["capacityProvider"]): (running or {}).get(str(i["capacityProvider"]), 0) for i in strategy
    }
    base = {str(i["capacityProvider"]): int(i.get("base") or 0) for i in strategy}
    weight = {str(i["capacityProvider"]): int(i.get("weight") or 0) for i in strategy}
    order = list(counts)
    chosen: list[str] = []
    for _ in range(count):
        short = [p for p in order if counts[p] < base[p]]
        if short:
            pick = short[0]
        else:
            weighted = [p for p in order if weight[p] > 0]
            if not weighted:
                break
            pick = min(
                weighted, key=lambda p: ((max(0, counts[p] - base[p]) + 1) / weight[p], order.index(p))
            )
        counts[pick] += 1
        chosen.append(pick)
    return chosen


def validate_run_task(params: dict[str, Any], task_definition: dict[str, Any], launch_type: str) -> None:
    """Check a RunTask request against its task definition, once its launch type is known.

    Raises EcsValidationError (InvalidParameterException) at the first rule the request breaks.
    """
    network_mode = task_definition.get("networkMode") or "bridge"
    if launch_type == "FARGATE" and not _fargate_compatible(task_definition):
        # sil-org/ecs-deploy#134 (the same check on UpdateService)
        raise _parameter_error("Task definition does not support launch_type FARGATE.")
    if launch_type == "MANAGED_INSTANCES" and not managed_instances_compatible(task_definition):
        # The same rule as FARGATE's; message not verified against AWS
        raise _parameter_error("Task definition does not support launch_type MANAGED_INSTANCES.")
    _check_network_configuration(params, network_mode)
    count = params.get("count")
    if isinstance(count, int) and not 1 <= count <= 10:
        # RunTask API reference: count, "You can specify up to 10 tasks for each call."
        # message not verified against AWS
        raise _parameter_error("count must be between 1 and 10.")
