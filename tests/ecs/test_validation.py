"""The ECS checks labkit makes before moto sees a RegisterTaskDefinition or CreateService request."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from labkit.ecs.validation import (
    CLIENT_EXCEPTION,
    FARGATE_SIZES,
    INVALID_PARAMETER_EXCEPTION,
    EcsValidationError,
    fargate_size_allowed,
    parse_cpu,
    parse_memory,
    validate_create_service,
    validate_register_task_definition,
    validate_service_load_balancers,
)

Params = dict[str, Any]

EXECUTION_ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/hello/0123456789abcdef"


def nginx_hello() -> Params:
    """The course's Fargate task definition for nginxdemos/hello."""
    return {
        "family": "nginx-demo-hello",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": "nginx-demo-hello",
                "image": "nginxdemos/hello",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    }


def bridge_web() -> Params:
    """The course's EC2 bridge-mode definition: one dynamic host port, one fixed 8080 -> 80."""
    return {
        "family": "web-bridge",
        "requiresCompatibilities": ["EC2"],
        "networkMode": "bridge",
        "containerDefinitions": [
            {
                "name": "dynamic",
                "image": "nginxdemos/hello",
                "memory": 128,
                "portMappings": [{"containerPort": 80, "hostPort": 0}],
            },
            {
                "name": "fixed",
                "image": "nginxdemos/hello",
                "memory": 128,
                "portMappings": [{"containerPort": 80, "hostPort": 8080}],
            },
        ],
    }


def containers(count: int) -> list[Params]:
    """`count` small containers with distinct names."""
    return [{"name": f"c{i}", "image": "busybox", "memory": 64} for i in range(count)]


def changed(base: Callable[[], Params], **top: Any) -> Params:
    """A copy of a definition with top-level keys replaced (None deletes the key)."""
    params = copy.deepcopy(base())
    for key, value in top.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def with_container(base: Callable[[], Params], **fields: Any) -> Params:
    """A copy of a definition whose first container gets these fields (None deletes the field)."""
    params = copy.deepcopy(base())
    container = params["containerDefinitions"][0]
    for key, value in fields.items():
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    return params


def refused(call: Callable[[], None]) -> EcsValidationError:
    """Run a validation expected to fail and return its error."""
    with pytest.raises(EcsValidationError) as caught:
        call()
    return caught.value


# --- sizes and parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "units"),
    [(1024, 1024), ("256", 256), ("1 vCPU", 1024), ("1 vcpu", 1024), ("0.25 vCPU", 256), ("16vCPU", 16384)],
)
def test_cpu_is_read_in_units_or_vcpus(value: str | int, units: int) -> None:
    """Task cpu is read as CPU units, from a number or a vCPU string."""
    assert parse_cpu(value) == units


@pytest.mark.parametrize(
    ("value", "mib"),
    [(2048, 2048), ("512", 512), ("2 GB", 2048), ("2GB", 2048), ("0.5 GB", 512), ("1 gb", 1024)],
)
def test_memory_is_read_in_mib_or_gb(value: str | int, mib: int) -> None:
    """Task memory is read as MiB, from a number or a GB string."""
    assert parse_memory(value) == mib


UNREADABLE = "cannot read|not a whole number|must be a number"


@pytest.mark.parametrize("value", ["", "a lot", "1.5", "0.0001 vCPU", "2 GiB", True])
def test_unreadable_sizes_raise_value_error(value: Any) -> None:
    """A size that is not a number, a vCPU string or a GB string is a ValueError."""
    with pytest.raises(ValueError, match=UNREADABLE):
        parse_cpu(value)
    with pytest.raises(ValueError, match=UNREADABLE):
        parse_memory(value)


@pytest.mark.parametrize(
    ("cpu", "memory", "allowed"),
    [
        (256, 512, True),
        (256, 2048, True),
        (256, 3072, False),
        (512, 512, False),
        (512, 4096, True),
        (1024, 8192, True),
        (2048, 16384, True),
        (4096, 30720, True),
        (4096, 31744, False),
        (8192, 20480, True),
        (8192, 17408, False),
        (16384, 40960, True),
        (16384, 36864, False),
        (16384, 122880, True),
        (128, 512, False),
    ],
)
def test_fargate_sizes_follow_the_task_size_table(cpu: int, memory: int, allowed: bool) -> None:
    """Only the cpu/memory pairs of the Fargate task size table are offered."""
    assert fargate_size_allowed(cpu, memory) is allowed


def test_the_fargate_table_has_the_documented_ends() -> None:
    """Each cpu value's smallest and largest memory match the documented table."""
    ends = {cpu: (sizes[0], sizes[-1], len(sizes)) for cpu, sizes in FARGATE_SIZES.items()}
    assert ends == {
        256: (512, 2048, 3),
        512: (1024, 4096, 4),
        1024: (2048, 8192, 7),
        2048: (4096, 16384, 13),
        4096: (8192, 30720, 23),
        8192: (16384, 61440, 12),
        16384: (32768, 122880, 12),
    }


# --- RegisterTaskDefinition: accepted ----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(nginx_hello(), id="nginx-demo-hello on Fargate"),
        pytest.param(bridge_web(), id="bridge with hostPort 0 and 8080->80"),
        pytest.param(changed(nginx_hello, cpu="0.25 vCPU", memory="1 GB"), id="Fargate size as strings"),
        pytest.param(changed(bridge_web, containerDefinitions=containers(10)), id="10 containers"),
        pytest.param(changed(nginx_hello, ephemeralStorage={"sizeInGiB": 21}), id="ephemeral 21 GiB"),
        pytest.param(changed(nginx_hello, ephemeralStorage={"sizeInGiB": 200}), id="ephemeral 200 GiB"),
        pytest.param(
            with_container(nginx_hello, portMappings=[{"containerPort": 80, "hostPort": 80}]),
            id="awsvpc hostPort equal to containerPort",
        ),
        pytest.param(
            changed(bridge_web, memory="512", containerDefinitions=[{"name": "web", "image": "nginx"}]),
            id="EC2 container without memory under task memory",
        ),
        pytest.param(
            changed(
                bridge_web,
                containerDefinitions=[
                    {"name": "app", "image": "app", "memory": 256, "memoryReservation": 256},
                    {
                        "name": "sidecar",
                        "image": "log",
                        "memoryReservation": 64,
                        "essential": False,
                        "dependsOn": [{"containerName": "app", "condition": "START"}],
                        "links": ["app:backend"],
                        "volumesFrom": [{"sourceContainer": "app"}],
                        "mountPoints": [{"sourceVolume": "shared", "containerPath": "/data"}],
                        "environment": [{"name": "LEVEL", "value": "info"}],
                        "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/t"}],
                    },
                ],
                volumes=[{"name": "shared"}],
            ),
            id="sidecar referencing the app",
        ),
        pytest.param(
            with_container(
                nginx_hello,
                image="123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:1",
                logConfiguration={"logDriver": "awslogs", "options": {}},
            )
            | {"executionRoleArn": EXECUTION_ROLE},
            id="Fargate ECR image and awslogs with an execution role",
        ),
    ],
)
def test_valid_definitions_are_accepted(params: Params) -> None:
    """The course's definitions and other valid ones register without an error."""
    validate_register_task_definition(params)


# --- RegisterTaskDefinition: refused -----------------------------------------------------------


REGISTER_REFUSALS = [
    pytest.param(
        changed(bridge_web, containerDefinitions=[]),
        CLIENT_EXCEPTION,
        "Container list cannot be empty",
        id="none",
    ),
    pytest.param(
        changed(bridge_web, containerDefinitions=containers(11)),
        CLIENT_EXCEPTION,
        "Too many containers.",
        id="11 containers",
    ),
    pytest.param(with_container(bridge_web, name=""), CLIENT_EXCEPTION, "Container.name", id="no name"),
    pytest.param(
        with_container(bridge_web, name="fixed"),
        CLIENT_EXCEPTION,
        "Container names must be unique",
        id="duplicate names",
    ),
    pytest.param(
        changed(bridge_web, containerDefinitions=[c | {"essential": False} for c in containers(2)]),
        CLIENT_EXCEPTION,
        "doesn't have any essential container",
        id="no essential container",
    ),
    pytest.param(changed(bridge_web, cpu=""), INVALID_PARAMETER_EXCEPTION, "'cpu'", id="empty cpu"),
    pytest.param(changed(bridge_web, cpu="64"), INVALID_PARAMETER_EXCEPTION, "'cpu'", id="cpu below 128"),
    pytest.param(
        changed(bridge_web, memory="lots"), INVALID_PARAMETER_EXCEPTION, "'memory'", id="bad memory"
    ),
    pytest.param(
        changed(nginx_hello, networkMode="bridge"), CLIENT_EXCEPTION, "network mode", id="Fargate bridge"
    ),
    pytest.param(
        changed(nginx_hello, networkMode=None), CLIENT_EXCEPTION, "network mode", id="Fargate default mode"
    ),
    pytest.param(changed(nginx_hello, cpu=None), CLIENT_EXCEPTION, "'cpu' be defined", id="Fargate no cpu"),
    pytest.param(
        changed(nginx_hello, memory=None), CLIENT_EXCEPTION, "'memory' be defined", id="Fargate no memory"
    ),
    pytest.param(
        changed(nginx_hello, cpu="1024", memory="1024"),
        CLIENT_EXCEPTION,
        "No Fargate configuration exists for given values: 1024 CPU, 1024 memory.",
        id="Fargate 1024/1024",
    ),
    pytest.param(
        changed(nginx_hello, cpu="0.25 vCPU", memory="4 GB"),
        CLIENT_EXCEPTION,
        "256 CPU, 4096 memory",
        id="Fargate size given as strings",
    ),
    pytest.param(
        with_container(nginx_hello, logConfiguration={"logDriver": "awslogs", "options": {}}),
        CLIENT_EXCEPTION,
        "execution role ARN to support log driver awslogs",
        id="awslogs without execution role",
    ),
    pytest.param(
        with_container(nginx_hello, image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/hello:1"),
        CLIENT_EXCEPTION,
        "execution role ARN to support ECR images",
        id="ECR image without execution role",
    ),
    pytest.param(
        changed(nginx_hello, ephemeralStorage={"sizeInGiB": 20}),
        CLIENT_EXCEPTION,
        "EphemeralStorage size should be at least 21",
        id="ephemeral 20 GiB",
    ),
    pytest.param(
        changed(nginx_hello, ephemeralStorage={"sizeInGiB": 201}),
        CLIENT_EXCEPTION,
        "EphemeralStorage size should be at most 200",
        id="ephemeral 201 GiB",
    ),
    pytest.param(
        with_container(nginx_hello, portMappings=[{"containerPort": 80, "hostPort": 8080}]),
        CLIENT_EXCEPTION,
        "networkMode=awsvpc, the host ports and container ports",
        id="awsvpc hostPort differs",
    ),
    pytest.param(
        changed(bridge_web, networkMode="host"),
        CLIENT_EXCEPTION,
        "networkMode=host, the host ports and container ports",
        id="host hostPort differs",
    ),
    pytest.param(
        with_container(nginx_hello, hostname="web"), CLIENT_EXCEPTION, "hostname", id="hostname under awsvpc"
    ),
    pytest.param(
        with_container(bridge_web, memory=None),
        CLIENT_EXCEPTION,
        "Invalid setting for container 'dynamic'. At least one of 'memory' or 'memoryReservation'",
        id="EC2 container without any memory",
    ),
    pytest.param(
        with_container(bridge_web, memory=128, memoryReservation=256),
        CLIENT_EXCEPTION,
        "'memoryReservation' must be less than or equal to 'memory'",
        id="reservation above memory",
    ),
    pytest.param(
        with_container(nginx_hello, memory=1024),
        CLIENT_EXCEPTION,
        "The 'memory' setting for container 'nginx-demo-hello' is greater than for the task.",
        id="container memory above task memory",
    ),
    pytest.param(
        changed(
            nginx_hello,
            containerDefinitions=[
                {"name": "a", "image": "x", "memoryReservation": 300},
                {"name": "b", "image": "x", "memoryReservation": 300},
            ],
        ),
        CLIENT_EXCEPTION,
        "sum of all container 'memoryReservation'",
        id="reservations above task memory",
    ),
    pytest.param(
        with_container(bridge_web, environment=[{"value": "1"}]),
        CLIENT_EXCEPTION,
        "Environment variable name",
        id="environment without name",
    ),
    pytest.param(
        with_container(bridge_web, secrets=[{"name": " ", "valueFrom": "arn"}]),
        CLIENT_EXCEPTION,
        "Secret name",
        id="secret without name",
    ),
    pytest.param(
        with_container(bridge_web, dependsOn=[{"containerName": "db", "condition": "START"}]),
        CLIENT_EXCEPTION,
        "Cannot depend on container + 'db' because it does not exist",
        id="dependsOn unknown container",
    ),
    pytest.param(
        with_container(bridge_web, links=["db:database"]),
        CLIENT_EXCEPTION,
        "'links' setting for container 'dynamic'. Container 'db'",
        id="links unknown container",
    ),
    pytest.param(
        with_container(bridge_web, volumesFrom=[{"sourceContainer": "data"}]),
        CLIENT_EXCEPTION,
        "'volumesFrom' setting for container 'dynamic'. Container 'data'",
        id="volumesFrom unknown container",
    ),
    pytest.param(
        with_container(bridge_web, mountPoints=[{"sourceVolume": "logs", "containerPath": "/logs"}]),
        CLIENT_EXCEPTION,
        "Unknown volume 'logs'.",
        id="mountPoint unknown volume",
    ),
    pytest.param(
        with_container(bridge_web, mountPoints=[{"containerPath": "/logs"}]),
        CLIENT_EXCEPTION,
        "Unknown volume 'null'.",
        id="mountPoint without volume",
    ),
]


@pytest.mark.parametrize(("params", "code", "message"), REGISTER_REFUSALS)
def test_invalid_definitions_are_refused_with_the_aws_error(params: Params, code: str, message: str) -> None:
    """Each broken rule is refused with AWS's error code and a message naming what is wrong."""
    error = refused(lambda: validate_register_task_definition(params))
    assert error.code == code
    assert message in error.message
    assert str(error) == f"{code}: {error.message}"


def test_the_first_broken_rule_is_the_one_reported() -> None:
    """Like AWS, one call reports one problem: too many containers before a missing essential one."""
    params = changed(bridge_web, containerDefinitions=[c | {"essential": False} for c in containers(11)])
    assert refused(lambda: validate_register_task_definition(params)).message == "Too many containers."


# --- load balancers ----------------------------------------------------------------------------


def lb(**fields: Any) -> Params:
    """A loadBalancers entry for the hello container on port 80 behind a target group."""
    return {"targetGroupArn": TARGET_GROUP, "containerName": "nginx-demo-hello", "containerPort": 80} | fields


def test_a_target_group_on_a_mapped_port_is_accepted() -> None:
    """A target group for a container port the definition maps passes."""
    validate_service_load_balancers(nginx_hello(), [lb()], "FARGATE", "awsvpc")


def test_a_classic_load_balancer_on_a_fixed_host_port_is_accepted() -> None:
    """On EC2 bridge mode a Classic Load Balancer may use the fixed 8080 -> 80 mapping."""
    entry = {"loadBalancerName": "classic", "containerName": "fixed", "containerPort": 80}
    validate_service_load_balancers(bridge_web(), [entry], "EC2", "bridge")


@pytest.mark.parametrize(
    ("entry", "definition", "launch_type", "mode", "message"),
    [
        pytest.param(
            lb(containerName=""), nginx_hello, "FARGATE", "awsvpc", "Container Name", id="blank name"
        ),
        pytest.param(
            lb(containerName="web"),
            nginx_hello,
            "FARGATE",
            "awsvpc",
            "The container web does not exist in the task definition.",
            id="unknown container",
        ),
        pytest.param(
            lb(containerPort=8080),
            nginx_hello,
            "FARGATE",
            "awsvpc",
            "The container nginx-demo-hello did not have a container port 8080 defined.",
            id="unmapped port",
        ),
        pytest.param(lb(containerPort=None), nginx_hello, None, "awsvpc", "Container Port", id="no port"),
        pytest.param(
            lb(targetGroupArn=None),
            nginx_hello,
            "FARGATE",
            "awsvpc",
            "targetGroupArn or loadBalancerName",
            id="none",
        ),
        pytest.param(
            lb(loadBalancerName="classic"),
            nginx_hello,
            "FARGATE",
            "awsvpc",
            "cannot both be specified",
            id="both",
        ),
        pytest.param(
            lb(targetGroupArn=None, loadBalancerName="classic"),
            nginx_hello,
            "FARGATE",
            "bridge",
            "awsvpc network mode",
            id="classic on Fargate",
        ),
        pytest.param(
            {"loadBalancerName": "classic", "containerName": "dynamic", "containerPort": 80},
            bridge_web,
            "EC2",
            "bridge",
            "A host port mapping for the container port 80 is required.",
            id="classic on a dynamic port",
        ),
    ],
)
def test_bad_load_balancer_entries_are_refused(
    entry: Params, definition: Callable[[], Params], launch_type: str | None, mode: str, message: str
) -> None:
    """A loadBalancers entry naming no target, an unknown container or an unmapped port is refused."""
    entry = {key: value for key, value in entry.items() if value is not None}
    error = refused(lambda: validate_service_load_balancers(definition(), [entry], launch_type, mode))
    assert error.code == INVALID_PARAMETER_EXCEPTION
    assert message in error.message


# --- CreateService -----------------------------------------------------------------------------


def hello_service(**fields: Any) -> Params:
    """The course's CreateService request for nginx-demo-hello on Fargate behind a target group."""
    params: Params = {
        "cluster": "course",
        "serviceName": "hello",
        "taskDefinition": "nginx-demo-hello",
        "desiredCount": 3,
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-1", "subnet-2"], "assignPublicIp": "ENABLED"}
        },
        "deploymentConfiguration": {"minimumHealthyPercent": 100, "maximumPercent": 200},
        "loadBalancers": [lb()],
    }
    for key, value in fields.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def ec2_service(**fields: Any) -> Params:
    """A CreateService request for the bridge-mode definition on EC2 with placement rules."""
    params: Params = {
        "serviceName": "web",
        "taskDefinition": "web-bridge",
        "desiredCount": 4,
        "launchType": "EC2",
        "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        "placementConstraints": [{"type": "distinctInstance"}],
    }
    return params | fields


@pytest.mark.parametrize(
    ("params", "definition"),
    [
        pytest.param(hello_service(), nginx_hello(), id="Fargate behind a target group"),
        pytest.param(ec2_service(), bridge_web(), id="EC2 bridge with placement"),
        pytest.param(
            hello_service(deploymentConfiguration={"minimumHealthyPercent": 50, "maximumPercent": 100}),
            nginx_hello(),
            id="min 50 max 100",
        ),
        pytest.param(
            hello_service(deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 150}),
            nginx_hello(),
            id="min 100 max 150",
        ),
        pytest.param(hello_service(desiredCount=0), nginx_hello(), id="desired 0"),
        pytest.param(
            hello_service(),
            changed(nginx_hello, requiresCompatibilities=None),
            id="Fargate-shaped definition registered without compatibilities",
        ),
        pytest.param(
            ec2_service(schedulingStrategy="DAEMON", desiredCount=None, placementStrategy=[]),
            bridge_web(),
            id="daemon without desired count",
        ),
    ],
)
def test_valid_services_are_accepted(params: Params, definition: Params) -> None:
    """The course's services pass the CreateService checks."""
    validate_create_service({k: v for k, v in params.items() if v is not None}, definition)


@pytest.mark.parametrize(
    ("params", "definition", "message"),
    [
        pytest.param(
            hello_service(),
            bridge_web(),
            "Task definition does not support launch_type FARGATE.",
            id="EC2 definition on Fargate",
        ),
        pytest.param(
            hello_service(),
            changed(nginx_hello, requiresCompatibilities=None, cpu="1024", memory="1024"),
            "does not support launch_type FARGATE",
            id="definition without compatibilities and a bad size",
        ),
        pytest.param(hello_service(desiredCount=-1), nginx_hello(), "desiredCount", id="negative desired"),
        pytest.param(
            ec2_service(schedulingStrategy="DAEMON"),
            bridge_web(),
            "does not support a desired count",
            id="daemon",
        ),
        pytest.param(
            hello_service(networkConfiguration=None),
            nginx_hello(),
            "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
            id="awsvpc without network configuration",
        ),
        pytest.param(
            hello_service(networkConfiguration={"awsvpcConfiguration": {"subnets": []}}),
            nginx_hello(),
            "subnets",
            id="awsvpc without subnets",
        ),
        pytest.param(
            ec2_service(networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}}),
            bridge_web(),
            "Network Configuration is not valid for the given networkMode",
            id="network configuration in bridge mode",
        ),
        pytest.param(
            hello_service(placementConstraints=[{"type": "distinctInstance"}]),
            nginx_hello(),
            "Placement constraints are not supported with FARGATE launch type.",
            id="Fargate placement constraint",
        ),
        pytest.param(
            hello_service(placementStrategy=[{"type": "binpack", "field": "memory"}]),
            nginx_hello(),
            "Placement strategies are not supported with FARGATE launch type.",
            id="Fargate placement strategy",
        ),
        pytest.param(
            hello_service(deploymentConfiguration={"minimumHealthyPercent": -1}),
            nginx_hello(),
            "minimumHealthyPercent",
            id="negative minimum",
        ),
        pytest.param(
            hello_service(deploymentConfiguration={"maximumPercent": -5}),
            nginx_hello(),
            "maximumPercent",
            id="negative maximum",
        ),
        pytest.param(
            ec2_service(
                schedulingStrategy="DAEMON",
                desiredCount=None,
                deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 200},
            ),
            bridge_web(),
            "does not support values above 100 for maximumPercent",
            id="daemon max 200",
        ),
        pytest.param(
            hello_service(loadBalancers=[lb(containerPort=443)]),
            nginx_hello(),
            "did not have a container port 443 defined",
            id="load balancer on an unmapped port",
        ),
    ],
)
def test_invalid_services_are_refused_with_invalid_parameter(
    params: Params, definition: Params, message: str
) -> None:
    """Each broken CreateService rule is an InvalidParameterException naming the field."""
    request = {k: v for k, v in params.items() if v is not None}
    error = refused(lambda: validate_create_service(request, definition))
    assert error.code == INVALID_PARAMETER_EXCEPTION
    assert message in error.message
