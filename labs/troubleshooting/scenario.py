"""The troubleshooting lab's given setup: six healthy services behind one load balancer, then broken.

The notebook's setup cells call `build(sandbox)` and `break_round(sandbox, 1)` (later 2); the checks
import the names from here. Which service gets which fault depends on the sandbox's account
(`assignment`), so two learners' `web-1` are not broken the same way and the notebook says nothing
of the causes. Each fault is made through the AWS API (and the load model) by
`labkit.sandbox.faults`, as a colleague's bad change would be: nothing in the account names it.

Names: cluster `trouble`; services `web-1` ... `web-6` (one Fargate task of `nginx:1.27` each,
container `web` on port 80, task definition family `trouble-web-N`); target groups `trouble-web-N`
(health check `/`); the load balancer `trouble-alb` with one HTTP listener per service on port
8080 + N; security groups `trouble-alb-sg` and one per service, `trouble-web-N-sg`, that lets only
the load balancer in on port 80.
"""

from __future__ import annotations

import random
from typing import Any

from botocore.exceptions import ClientError

CLUSTER = "trouble"
SERVICES = [f"web-{n}" for n in range(1, 7)]
ROUNDS = {1: SERVICES[:3], 2: SERVICES[3:]}
LOAD_BALANCER = "trouble-alb"
ALB_SG = "trouble-alb-sg"
CONTAINER = "web"
IMAGE = "nginx:1.27"

#: The faults the lab injects, one per service.
INJECTED = (
    "unpullable-image",
    "health-check-path",
    "health-check-port",
    "security-group",
    "sidecar-exits",
    "out-of-memory",
)

#: The causes a learner chooses from (the injected ones and three more that would show otherwise).
CAUSES = (
    "unpullable-image",
    "execution-role",
    "task-role",
    "health-check-path",
    "health-check-port",
    "security-group",
    "sidecar-exits",
    "out-of-memory",
    "capacity",
)

#: The SSM parameter prefix where the notebook saves the causes the learner names.
ANSWERS = "/troubleshooting/causes/"


def number(service: str) -> int:
    return int(service.rsplit("-", 1)[1])


def port(service: str) -> int:
    """The load balancer listener port of a service: 8080 + its number."""
    return 8080 + number(service)


def target_group_name(service: str) -> str:
    return f"trouble-{service}"


def family(service: str) -> str:
    return f"trouble-{service}"


def tasks_sg_name(service: str) -> str:
    return f"trouble-{service}-sg"


def assignment(account_id: str) -> dict[str, str]:
    """Which fault each service gets in this account (the same for the learner and the grader)."""
    faults = list(INJECTED)
    random.Random(f"troubleshooting/{account_id}").shuffle(faults)
    return dict(zip(SERVICES, faults, strict=True))


def task_definition(service: str) -> dict[str, Any]:
    """The healthy revision 1 of a service's family."""
    return {
        "family": family(service),
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": CONTAINER,
                "image": IMAGE,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    }


def _group(ec2: Any, name: str, description: str, vpc: str) -> str:
    found = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc]}]
    )["SecurityGroups"]
    if found:
        return str(found[0]["GroupId"])
    return str(ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc)["GroupId"])


def _ingress(ec2: Any, group: str, permission: dict[str, Any]) -> None:
    try:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "InvalidPermission.Duplicate":
            raise


def healthy(sandbox: Any, services: list[str]) -> bool:
    """True when each service runs its one task, in one completed deployment, healthy in its target group."""
    ecs, elbv2 = sandbox.client("ecs"), sandbox.client("elbv2")
    described = ecs.describe_services(cluster=CLUSTER, services=services)["services"]
    if len(described) != len(services):
        return False
    for service in described:
        if service["runningCount"] != service["desiredCount"] or len(service["deployments"]) != 1:
            return False
        if service["deployments"][0].get("rolloutState") != "COMPLETED":
            return False
        arn = service["loadBalancers"][0]["targetGroupArn"]
        states = [
            d["TargetHealth"]["State"]
            for d in elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        ]
        if states.count("healthy") != service["desiredCount"] or len(states) != service["desiredCount"]:
            return False
    return True


def build(sandbox: Any) -> dict[str, Any]:
    """Build the six services, healthy; safe to run again. Returns the load balancer's ARN."""
    ec2, elbv2, ecs = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("ecs")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets, zones = [], set()
    for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]:
        if subnet["AvailabilityZone"] not in zones and len(subnets) < 2:
            zones.add(subnet["AvailabilityZone"])
            subnets.append(subnet["SubnetId"])
    alb_sg = _group(ec2, ALB_SG, "HTTP from anywhere to the troubleshooting load balancer", vpc)
    first, last = port(SERVICES[0]), port(SERVICES[-1])
    _ingress(
        ec2,
        alb_sg,
        {"IpProtocol": "tcp", "FromPort": first, "ToPort": last, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    )
    try:
        lb = elbv2.describe_load_balancers(Names=[LOAD_BALANCER])["LoadBalancers"][0]
    except ClientError:
        lb = elbv2.create_load_balancer(
            Name=LOAD_BALANCER, Subnets=subnets, SecurityGroups=[alb_sg], Type="application"
        )["LoadBalancers"][0]
    lb_arn = str(lb["LoadBalancerArn"])
    listeners = {int(x["Port"]) for x in elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]}
    ecs.create_cluster(clusterName=CLUSTER)
    existing = {
        s["serviceName"]
        for s in ecs.describe_services(cluster=CLUSTER, services=SERVICES)["services"]
        if s["status"] == "ACTIVE"
    }
    if existing == set(SERVICES):
        return {"load_balancer_arn": lb_arn}  # built before (and perhaps broken since)
    for service in SERVICES:
        tasks_sg = _group(ec2, tasks_sg_name(service), f"HTTP from the load balancer to {service}", vpc)
        _ingress(
            ec2,
            tasks_sg,
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": alb_sg}]},
        )
        tg = elbv2.create_target_group(
            Name=target_group_name(service), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
            HealthCheckPath="/", HealthCheckIntervalSeconds=10, HealthCheckTimeoutSeconds=5,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2,
        )["TargetGroups"][0]  # fmt: skip
        tg_arn = str(tg["TargetGroupArn"])
        elbv2.modify_target_group_attributes(
            TargetGroupArn=tg_arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}]
        )
        if port(service) not in listeners:
            elbv2.create_listener(
                LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port(service),
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
            )  # fmt: skip
        if service in existing:
            continue
        revision = ecs.register_task_definition(**task_definition(service))["taskDefinition"]
        ecs.create_service(
            cluster=CLUSTER, serviceName=service, taskDefinition=revision["taskDefinitionArn"],
            desiredCount=1, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": subnets, "securityGroups": [tasks_sg], "assignPublicIp": "ENABLED"}},
            loadBalancers=[{"targetGroupArn": tg_arn, "containerName": CONTAINER, "containerPort": 80}],
        )  # fmt: skip
    sandbox.wait_until(
        lambda: healthy(sandbox, SERVICES), "the six services to be healthy", limit=1200, step=10
    )
    return {"load_balancer_arn": lb_arn}


#: An SSM parameter that says which rounds were dealt (it names no service's cause).
ROUND_PARAMETER = "/troubleshooting/rounds-dealt"


def rounds_dealt(sandbox: Any) -> set[int]:
    try:
        value = sandbox.client("ssm").get_parameter(Name=ROUND_PARAMETER)["Parameter"]["Value"]
    except ClientError:
        return set()
    return {int(x) for x in str(value).split(",") if x.strip().isdigit()}


def break_round(sandbox: Any, round_number: int) -> list[str]:
    """Break the services of round 1 (web-1..3) or 2 (web-4..6), once; return their names."""
    from labkit.sandbox.faults import inject

    services = ROUNDS[round_number]
    dealt = rounds_dealt(sandbox)
    if round_number in dealt:
        return services
    faults = assignment(sandbox.account_id)
    for service in services:
        inject(sandbox, faults[service], service=service, cluster=CLUSTER)
    # Until each fault shows (a deployment that does not complete, a target that fails its checks),
    # the service still looks healthy: wait for that, so that what the learner sees is the failure.
    for service in services:
        sandbox.wait_until(
            lambda service=service: not healthy(sandbox, [service]), f"{service} to fail", limit=900, step=5
        )
    sandbox.client("ssm").put_parameter(
        Name=ROUND_PARAMETER,
        Value=",".join(str(r) for r in sorted(dealt | {round_number})),
        Type="String",
        Overwrite=True,
    )
    return services
