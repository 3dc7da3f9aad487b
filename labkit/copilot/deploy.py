"""What `copilot env deploy` and `copilot svc deploy` create, made through the AWS API in a sandbox.

Copilot itself cannot run against the emulator: its CloudFormation templates depend on
Lambda-backed custom resources (the rule priority, desired count and env controller functions).
This module creates the resources those templates end in, named and tagged as Copilot tags them
(`copilot-application`, `copilot-environment`, `copilot-service`), and records the application,
environments and workloads in SSM Parameter Store under `/copilot/applications/...` as Copilot's
config store does:

- an environment: a VPC (10.0.0.0/16) with two public and two private subnets, an internet
  gateway and a public route table, an ECS cluster, the environment security group, a public
  application load balancer with an HTTP listener on port 80 whose default action forwards to an
  empty default target group;
- a Load Balanced Web Service: a target group, a listener rule on the environment's listener
  (path patterns from `http.path`), a Fargate task definition (family `<app>-<env>-<svc>`, one
  container named after the service with Copilot's `COPILOT_*` variables), an ECS service, and
  for `count.range` an Application Auto Scaling scalable target with target-tracking policies;
- a Backend Service: the task definition and the service; a Worker Service: the same and an SQS
  queue (subscribed to the SNS topics of `subscribe.topics`); a Scheduled Job: the task definition
  and an EventBridge rule whose target runs the task on the cluster;
- `image.build`: an ECR repository `<app>/<svc>` (labkit builds no image: push one yourself).

Each workload also gets Copilot's two IAM roles for its tasks: an execution role (allowed
what AmazonECSTaskExecutionRolePolicy allows, so Fargate can pull from ECR and read secrets) and a task role.

What Copilot makes and this does not: the CloudFormation stacks and their Lambda functions, the
autoscaling and EventBridge roles, CloudWatch log groups, the service discovery namespace, NAT
gateways, the Step Functions state machine between a job's rule and its task (the rule here
targets ECS directly), and Fargate Spot (`count.range.spot_from` is validated; tasks run on FARGATE).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from labkit.copilot.manifest import (
    LOAD_BALANCED_WEB_SERVICE,
    SCHEDULED_JOB,
    WORKER_SERVICE,
    Manifest,
    validate_name,
)
from labkit.errors import LabkitError
from labkit.sandbox import Sandbox

__all__ = [
    "APP_TAG",
    "ENV_TAG",
    "SERVICE_TAG",
    "CopilotError",
    "CopilotResource",
    "Deployment",
    "Environment",
    "delete",
    "deploy",
    "deploy_environment",
    "find_environment",
    "service_url",
    "show",
]

#: Copilot's tag keys (internal/pkg/deploy/deploy.go).
APP_TAG = "copilot-application"
ENV_TAG = "copilot-environment"
SERVICE_TAG = "copilot-service"

VPC_CIDR = "10.0.0.0/16"
PUBLIC_CIDRS = ("10.0.0.0/24", "10.0.1.0/24")
PRIVATE_CIDRS = ("10.0.2.0/24", "10.0.3.0/24")
#: Copilot's rule priority function gives root-path rules priorities from here downward, so they
#: are evaluated after every more specific path.
ROOT_RULE_PRIORITY = 50000


class CopilotError(LabkitError):
    """A Copilot deployment cannot go ahead (no environment, a missing topic or export)."""


@dataclass(frozen=True)
class Environment:
    """A deployed environment: its network, cluster and public load balancer."""

    app: str
    name: str
    vpc_id: str
    public_subnets: tuple[str, ...]
    private_subnets: tuple[str, ...]
    cluster: str
    cluster_arn: str
    security_group: str
    load_balancer_security_group: str
    load_balancer_arn: str
    load_balancer_dns: str
    listener_arn: str
    default_target_group_arn: str


@dataclass(frozen=True)
class CopilotResource:
    """One resource Copilot's tags (or its config store) tie to an application."""

    kind: str
    name: str
    arn: str
    application: str
    environment: str | None = None
    service: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The resource as a plain dictionary (for JSON)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "application": self.application,
            "environment": self.environment,
            "service": self.service,
        }


@dataclass
class Deployment:
    """What one `deploy` made or updated."""

    manifest: Manifest
    environment: Environment
    task_definition_arn: str
    service_arn: str | None = None
    target_group_arn: str | None = None
    listener_rule_arn: str | None = None
    scalable_target: str | None = None
    scaling_policies: list[str] = field(default_factory=list)
    rule_arn: str | None = None
    queue_url: str | None = None
    repository_uri: str | None = None
    url: str | None = None


# -- names --------------------------------------------------------------------------------------


def _elb_name(*parts: str) -> str:
    """An ELB name (at most 32 letters, digits and hyphens, no leading or trailing hyphen)."""
    return "-".join(parts)[:32].strip("-")


def _cluster_name(app: str, env: str) -> str:
    return f"{app}-{env}-Cluster"


def _family(app: str, env: str, name: str) -> str:
    # fargate-taskdef-base-properties.yml: Family: !Join ['', [AppName, '-', EnvName, '-', WorkloadName]]
    return f"{app}-{env}-{name}"


def _service_name(app: str, env: str, name: str) -> str:
    return f"{app}-{env}-{name}-Service"


def _tags(app: str, env: str | None = None, service: str | None = None) -> dict[str, str]:
    tags = {APP_TAG: app}
    if env is not None:
        tags[ENV_TAG] = env
    if service is not None:
        tags[SERVICE_TAG] = service
    return tags


def _kv(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in tags.items()]


def _as_dict(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    result: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            result[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return result


def _not_found(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return any(word in code for word in ("NotFound", "NoSuch", "ResourceNotFound", "ClusterNotFound"))


# -- the config store ---------------------------------------------------------------------------


def _store(sandbox: Sandbox, path: str, value: dict[str, Any], tags: dict[str, str]) -> None:
    ssm = sandbox.client("ssm")
    body = json.dumps(value, sort_keys=True)
    try:
        ssm.put_parameter(Name=path, Value=body, Type="String", Tags=_kv(tags))
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise
        ssm.put_parameter(Name=path, Value=body, Type="String", Overwrite=True)


def _app_path(app: str) -> str:
    return f"/copilot/applications/{app}"


# -- environments -------------------------------------------------------------------------------


def find_environment(sandbox: Sandbox, app: str, env: str) -> Environment | None:
    """The deployed environment `env` of `app`, found by Copilot's tags; None when there is none."""
    ec2, ecs, elbv2 = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    vpcs = ec2.describe_vpcs(
        Filters=[{"Name": f"tag:{APP_TAG}", "Values": [app]}, {"Name": f"tag:{ENV_TAG}", "Values": [env]}]
    )["Vpcs"]
    if not vpcs:
        return None
    vpc_id = vpcs[0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    by_cidr = {s["CidrBlock"]: s["SubnetId"] for s in subnets}
    groups = {
        g["GroupName"]: g["GroupId"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "SecurityGroups"
        ]
    }
    clusters = ecs.describe_clusters(clusters=[_cluster_name(app, env)])["clusters"]
    clusters = [c for c in clusters if c.get("status") == "ACTIVE"]
    try:
        lb = elbv2.describe_load_balancers(Names=[_elb_name(app, env, "lb")])["LoadBalancers"][0]
        listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        default_tg = elbv2.describe_target_groups(Names=[_elb_name(app, env, "default")])["TargetGroups"][0]
    except ClientError:
        return None
    http = [listener for listener in listeners if listener["Port"] == 80]
    if not clusters or not http:
        return None
    return Environment(
        app=app,
        name=env,
        vpc_id=vpc_id,
        public_subnets=tuple(by_cidr[c] for c in PUBLIC_CIDRS if c in by_cidr),
        private_subnets=tuple(by_cidr[c] for c in PRIVATE_CIDRS if c in by_cidr),
        cluster=clusters[0]["clusterName"],
        cluster_arn=clusters[0]["clusterArn"],
        security_group=groups.get(f"{app}-{env}-EnvironmentSecurityGroup", ""),
        load_balancer_security_group=groups.get(f"{app}-{env}-PublicHTTPLoadBalancerSecurityGroup", ""),
        load_balancer_arn=lb["LoadBalancerArn"],
        load_balancer_dns=lb["DNSName"],
        listener_arn=http[0]["ListenerArn"],
        default_target_group_arn=default_tg["TargetGroupArn"],
    )


def deploy_environment(sandbox: Sandbox, app: str, env: str) -> Environment:
    """Create environment `env` of application `app` (what `copilot env deploy` makes); idempotent.

    Raises `CopilotError` for an application or environment name Copilot would refuse.
    """
    for value, what in ((app, "application"), (env, "environment")):
        try:
            validate_name(value, what)
        except ValueError as exc:
            raise CopilotError(str(exc)) from None
    found = find_environment(sandbox, app, env)
    if found is not None:
        return found
    tags = _tags(app, env)
    ec2, ecs, elbv2 = sandbox.client("ec2"), sandbox.client("ecs"), sandbox.client("elbv2")
    _store(sandbox, _app_path(app), {"name": app, "version": "labkit"}, _tags(app))
    region = sandbox.region
    _store(
        sandbox,
        f"{_app_path(app)}/environments/{env}",
        {"app": app, "name": env, "region": region, "accountID": sandbox.account_id},
        tags,
    )

    def tag_spec(kind: str, name: str) -> list[dict[str, Any]]:
        return [{"ResourceType": kind, "Tags": _kv({**tags, "Name": name})}]

    prefix = f"copilot-{app}-{env}"
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=tag_spec("vpc", prefix))["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    public = []
    for index, cidr in enumerate(PUBLIC_CIDRS):
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=zones[index % len(zones)],
            TagSpecifications=tag_spec("subnet", f"{prefix}-pub{index}"),
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        public.append(subnet)
    for index, cidr in enumerate(PRIVATE_CIDRS):
        ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=zones[index % len(zones)],
            TagSpecifications=tag_spec("subnet", f"{prefix}-priv{index}"),
        )
    gateway = ec2.create_internet_gateway(TagSpecifications=tag_spec("internet-gateway", prefix))[
        "InternetGateway"
    ]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc_id)
    table = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=tag_spec("route-table", f"{prefix}-public")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    for subnet in public:
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)

    lb_group = ec2.create_security_group(
        GroupName=f"{app}-{env}-PublicHTTPLoadBalancerSecurityGroup",
        Description="HTTP access to the public facing load balancer",
        VpcId=vpc_id,
        TagSpecifications=tag_spec("security-group", f"{prefix}-lb"),
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=lb_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    env_group = ec2.create_security_group(
        GroupName=f"{app}-{env}-EnvironmentSecurityGroup",
        Description=f"{app}-{env}-EnvironmentSecurityGroup",
        VpcId=vpc_id,
        TagSpecifications=tag_spec("security-group", f"{prefix}-env"),
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=env_group,
        IpPermissions=[
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": lb_group}]},
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": env_group}]},
        ],
    )
    ecs.create_cluster(
        clusterName=_cluster_name(app, env),
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        tags=_kv(tags, "key", "value"),
    )
    lb = elbv2.create_load_balancer(
        Name=_elb_name(app, env, "lb"),
        Subnets=public,
        SecurityGroups=[lb_group],
        Scheme="internet-facing",
        Type="application",
        Tags=_kv(tags),
    )["LoadBalancers"][0]
    default_tg = elbv2.create_target_group(
        Name=_elb_name(app, env, "default"),
        Protocol="HTTP",
        Port=80,
        VpcId=vpc_id,
        TargetType="ip",
        HealthCheckIntervalSeconds=10,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=2,
        UnhealthyThresholdCount=2,
        Tags=_kv(tags),
    )["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": default_tg["TargetGroupArn"]}],
        Tags=_kv(tags),
    )
    if sandbox.mode == "aws":
        elbv2.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]])
    environment = find_environment(sandbox, app, env)
    if environment is None:  # pragma: no cover - the calls above either made it or raised
        raise CopilotError(f"environment {env} of {app} was created but cannot be found")
    return environment


# -- workloads ----------------------------------------------------------------------------------


def _exports(sandbox: Sandbox) -> dict[str, str]:
    """The account's CloudFormation exports, by name (what `from_cfn` reads)."""
    return {
        e["Name"]: e["Value"]
        for page in sandbox.client("cloudformation").get_paginator("list_exports").paginate()
        for e in page.get("Exports", [])
    }


def _container_environment(
    sandbox: Sandbox, manifest: Manifest, environment: Environment, queue_url: str | None
) -> list[dict[str, str]]:
    # envvars-common.yml: the variables Copilot injects into every workload's main container.
    values = {
        "COPILOT_APPLICATION_NAME": environment.app,
        "COPILOT_SERVICE_DISCOVERY_ENDPOINT": f"{environment.name}.{environment.app}.local",
        "COPILOT_ENVIRONMENT_NAME": environment.name,
        "COPILOT_SERVICE_NAME": manifest.name,
    }
    if manifest.type == LOAD_BALANCED_WEB_SERVICE:
        values["COPILOT_LB_DNS"] = environment.load_balancer_dns
    if manifest.type == WORKER_SERVICE and queue_url is not None:
        values["COPILOT_QUEUE_URI"] = queue_url
    values.update(manifest.variables)
    if manifest.variable_imports:
        exports = _exports(sandbox)
        for name, export in manifest.variable_imports.items():
            if export not in exports:
                raise CopilotError(f"variables.{name}.from_cfn: no CloudFormation export named {export}")
            values[name] = exports[export]
    return [{"name": k, "value": v} for k, v in values.items()]


def _container_secrets(sandbox: Sandbox, manifest: Manifest) -> list[dict[str, str]]:
    secrets = []
    for name, secret in manifest.secrets.items():
        value = secret["value"]
        if secret["kind"] == "secretsmanager" and not value.startswith("arn:"):
            value = f"arn:aws:secretsmanager:{sandbox.region}:{sandbox.account_id}:secret:{value}"
        elif secret["kind"] == "from_cfn":
            exports = _exports(sandbox)
            if value not in exports:
                raise CopilotError(f"secrets.{name}.from_cfn: no CloudFormation export named {value}")
            value = exports[value]
        secrets.append({"name": name, "valueFrom": value})
    return secrets


def _image(sandbox: Sandbox, manifest: Manifest, app: str, tags: dict[str, str]) -> tuple[str, str | None]:
    if manifest.image is not None:
        return manifest.image, None
    ecr = sandbox.client("ecr")
    name = f"{app}/{manifest.name}"
    try:
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    except ClientError as exc:
        if not _not_found(exc):
            raise
        repo = ecr.create_repository(
            repositoryName=name, tags=_kv({APP_TAG: app, SERVICE_TAG: manifest.name})
        )["repository"]
    return f"{repo['repositoryUri']}:latest", str(repo["repositoryUri"])


_TASKS_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
# What AmazonECSTaskExecutionRolePolicy grants (ECR pulls, log writes), and the secret reads
# Copilot adds. Written inline: the emulator does not load AWS managed policies.
_EXECUTION_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ssm:GetParameters",
                    "secretsmanager:GetSecretValue",
                ],
                "Resource": "*",
            }
        ],
    }
)


def _role(sandbox: Sandbox, name: str, tags: dict[str, str], policy: str | None) -> str:
    """An IAM role ECS tasks assume (Copilot's ExecutionRole and TaskRole); created once."""
    iam = sandbox.client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchEntity":
            raise
    arn = str(
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_TASKS_TRUST, Tags=_kv(tags))["Role"]["Arn"]
    )
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="ExecutionRolePolicy", PolicyDocument=policy)
    return arn


def _register_task_definition(
    sandbox: Sandbox, manifest: Manifest, environment: Environment, image: str, queue_url: str | None
) -> str:
    container: dict[str, Any] = {
        "name": manifest.name,
        "image": image,
        "essential": True,
        "environment": _container_environment(sandbox, manifest, environment, queue_url),
    }
    if manifest.port is not None:
        container["portMappings"] = [{"containerPort": manifest.port, "protocol": "tcp"}]
    secrets = _container_secrets(sandbox, manifest)
    if secrets:
        container["secrets"] = secrets
    tags = _tags(environment.app, environment.name, manifest.name)
    prefix = _family(environment.app, environment.name, manifest.name)
    # Fargate needs an execution role to pull from ECR and to read secrets; the task role is the
    # identity the application's own AWS calls use.
    execution_role = _role(sandbox, f"{prefix}-ExecutionRole"[:64], tags, _EXECUTION_POLICY)
    task_role = _role(sandbox, f"{prefix}-TaskRole"[:64], tags, None)
    definition = sandbox.client("ecs").register_task_definition(
        family=_family(environment.app, environment.name, manifest.name),
        executionRoleArn=execution_role,
        taskRoleArn=task_role,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=str(manifest.cpu),
        memory=str(manifest.memory),
        containerDefinitions=[container],
        tags=_kv(tags, "key", "value"),
    )["taskDefinition"]
    return str(definition["taskDefinitionArn"])


def _target_group(sandbox: Sandbox, manifest: Manifest, environment: Environment) -> str:
    elbv2 = sandbox.client("elbv2")
    check = manifest.healthcheck
    assert check is not None
    assert manifest.port is not None
    settings: dict[str, Any] = {"HealthCheckPath": check.path, "Matcher": {"HttpCode": check.success_codes}}
    for key, value in (
        ("HealthyThresholdCount", check.healthy_threshold),
        ("UnhealthyThresholdCount", check.unhealthy_threshold),
        ("HealthCheckIntervalSeconds", check.interval),
        ("HealthCheckTimeoutSeconds", check.timeout),
    ):
        if value is not None:
            settings[key] = value
    if check.port is not None:
        settings["HealthCheckPort"] = str(check.port)
    name = _elb_name(environment.app, environment.name, manifest.name)
    try:
        arn = str(elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"])
        elbv2.modify_target_group(TargetGroupArn=arn, **settings)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TargetGroupNotFound":
            raise
        arn = str(
            elbv2.create_target_group(
                Name=name,
                Protocol="HTTP",
                Port=manifest.port,
                VpcId=environment.vpc_id,
                TargetType="ip",
                Tags=_kv(_tags(environment.app, environment.name, manifest.name)),
                **settings,
            )["TargetGroups"][0]["TargetGroupArn"]
        )
    elbv2.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(check.deregistration_delay)},
            {"Key": "stickiness.enabled", "Value": "true" if check.stickiness else "false"},
        ],
    )
    return arn


def _listener_rule(sandbox: Sandbox, manifest: Manifest, environment: Environment, target_group: str) -> str:
    elbv2 = sandbox.client("elbv2")
    rules = elbv2.describe_rules(ListenerArn=environment.listener_arn)["Rules"]
    conditions = [{"Field": "path-pattern", "PathPatternConfig": {"Values": manifest.path_patterns}}]
    actions = [{"Type": "forward", "TargetGroupArn": target_group}]
    for rule in rules:
        if any(a.get("TargetGroupArn") == target_group for a in rule.get("Actions", [])) and not rule.get(
            "IsDefault"
        ):
            elbv2.modify_rule(RuleArn=rule["RuleArn"], Conditions=conditions, Actions=actions)
            return str(rule["RuleArn"])
    taken = {int(r["Priority"]) for r in rules if str(r.get("Priority", "")).isdigit()}
    if manifest.rule_path == "/":
        priority = ROOT_RULE_PRIORITY
        while priority in taken:
            priority -= 1
    else:
        priority = max([p for p in taken if p < ROOT_RULE_PRIORITY - 1000] or [0]) + 1
    return str(
        elbv2.create_rule(
            ListenerArn=environment.listener_arn,
            Conditions=conditions,
            Priority=priority,
            Actions=actions,
            Tags=_kv(_tags(environment.app, environment.name, manifest.name)),
        )["Rules"][0]["RuleArn"]
    )


def _service(
    sandbox: Sandbox,
    manifest: Manifest,
    environment: Environment,
    task_definition: str,
    target_group: str | None,
) -> str:
    ecs = sandbox.client("ecs")
    name = _service_name(environment.app, environment.name, manifest.name)
    existing = ecs.describe_services(cluster=environment.cluster, services=[name])["services"]
    if any(s.get("status") == "ACTIVE" for s in existing):
        updated = ecs.update_service(
            cluster=environment.cluster,
            service=name,
            taskDefinition=task_definition,
            desiredCount=manifest.count.desired,
        )["service"]
        return str(updated["serviceArn"])
    params: dict[str, Any] = {
        "cluster": environment.cluster,
        "serviceName": name,
        "taskDefinition": task_definition,
        "desiredCount": manifest.count.desired,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(environment.public_subnets),
                "securityGroups": [environment.security_group],
                "assignPublicIp": "ENABLED",
            }
        },
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
        },
        "propagateTags": "SERVICE",
        "tags": _kv(_tags(environment.app, environment.name, manifest.name), "key", "value"),
    }
    if target_group is not None and manifest.healthcheck is not None:
        params["loadBalancers"] = [
            {"targetGroupArn": target_group, "containerName": manifest.name, "containerPort": manifest.port}
        ]
        params["healthCheckGracePeriodSeconds"] = manifest.healthcheck.grace_period
    return str(ecs.create_service(**params)["service"]["serviceArn"])


def _autoscaling(
    sandbox: Sandbox, manifest: Manifest, environment: Environment, target_group: str | None
) -> tuple[str | None, list[str]]:
    count = manifest.count
    if not count.autoscaling:
        return None, []
    aas = sandbox.client("application-autoscaling")
    resource = (
        f"service/{environment.cluster}/{_service_name(environment.app, environment.name, manifest.name)}"
    )
    dimension = "ecs:service:DesiredCount"
    aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource,
        ScalableDimension=dimension,
        MinCapacity=count.minimum,
        MaxCapacity=count.maximum,
    )
    policies: list[tuple[str, dict[str, Any]]] = []
    cooldowns = {"ScaleInCooldown": count.scale_in_cooldown, "ScaleOutCooldown": count.scale_out_cooldown}
    for metric, target in (
        ("ECSServiceAverageCPUUtilization", count.cpu_percentage),
        ("ECSServiceAverageMemoryUtilization", count.memory_percentage),
    ):
        if target is not None:
            policies.append(
                (
                    f"{manifest.name}-{metric}-ScalingPolicy",
                    {
                        "TargetValue": target,
                        "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                    },
                )
            )
    if target_group is not None:
        lb_full = environment.load_balancer_arn.split(":loadbalancer/", 1)[-1]
        tg_full = target_group.split(":", 5)[-1]
        for metric, statistic, target, policy in (
            ("RequestCountPerTarget", "Sum", count.requests, "ALBSumRequestCountPerTarget"),
            ("TargetResponseTime", "Average", count.response_time, "ALBAverageResponseTime"),
        ):
            if target is not None:
                policies.append(
                    (
                        f"{manifest.name}-{policy}-ScalingPolicy",
                        {
                            "TargetValue": target,
                            "CustomizedMetricSpecification": {
                                "MetricName": metric,
                                "Namespace": "AWS/ApplicationELB",
                                "Statistic": statistic,
                                "Dimensions": [
                                    {"Name": "LoadBalancer", "Value": lb_full},
                                    {"Name": "TargetGroup", "Value": tg_full},
                                ],
                            },
                        },
                    )
                )
    arns = []
    for name, configuration in policies:
        arns.append(
            str(
                aas.put_scaling_policy(
                    PolicyName=name,
                    ServiceNamespace="ecs",
                    ResourceId=resource,
                    ScalableDimension=dimension,
                    PolicyType="TargetTrackingScaling",
                    TargetTrackingScalingPolicyConfiguration={**configuration, **cooldowns},
                )["PolicyARN"]
            )
        )
    return resource, arns


def _queue(sandbox: Sandbox, manifest: Manifest, environment: Environment) -> str:
    sqs = sandbox.client("sqs")
    tags = _tags(environment.app, environment.name, manifest.name)
    url = str(
        sqs.create_queue(
            QueueName=f"{environment.app}-{environment.name}-{manifest.name}-EventsQueue"[:80], tags=tags
        )["QueueUrl"]
    )
    if not manifest.subscribe:
        return url
    sns = sandbox.client("sns")
    topics = {
        t["TopicArn"].rsplit(":", 1)[-1]: t["TopicArn"]
        for page in sns.get_paginator("list_topics").paginate()
        for t in page.get("Topics", [])
    }
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for topic in manifest.subscribe:
        # publish.yml: a topic is named <app>-<env>-<svc>-<topic>.
        name = f"{environment.app}-{environment.name}-{topic.service}-{topic.name}"
        if name not in topics:
            raise CopilotError(f"SNS topic {name} does not exist in environment {environment.name}")
        sns.subscribe(TopicArn=topics[name], Protocol="sqs", Endpoint=queue_arn)
    return url


def _job_rule(sandbox: Sandbox, manifest: Manifest, environment: Environment, task_definition: str) -> str:
    events = sandbox.client("events")
    name = f"{environment.app}-{environment.name}-{manifest.name}"[:64]
    tags = _tags(environment.app, environment.name, manifest.name)
    expression = manifest.aws_schedule or "rate(5 minutes)"
    rule = events.put_rule(
        Name=name,
        ScheduleExpression="rate(5 minutes)" if expression == "none" else expression,
        State="DISABLED" if expression == "none" else "ENABLED",
        Tags=_kv(tags),
    )["RuleArn"]
    events.put_targets(
        Rule=name,
        Targets=[
            {
                "Id": f"{manifest.name}-task"[:64],
                "Arn": environment.cluster_arn,
                "RoleArn": f"arn:aws:iam::{sandbox.account_id}:role/{environment.app}-{environment.name}-{manifest.name}-RuleRole"[
                    :2048
                ],
                "EcsParameters": {
                    "TaskDefinitionArn": task_definition,
                    "TaskCount": 1,
                    "LaunchType": "FARGATE",
                    "NetworkConfiguration": {
                        "awsvpcConfiguration": {
                            "Subnets": list(environment.public_subnets),
                            "SecurityGroups": [environment.security_group],
                            "AssignPublicIp": "ENABLED",
                        }
                    },
                },
            }
        ],
    )
    return str(rule)


def service_url(sandbox: Sandbox, environment: Environment, manifest: Manifest) -> str | None:
    """Where a Load Balanced Web Service answers: the listener's URL and the service's path."""
    if manifest.type != LOAD_BALANCED_WEB_SERVICE:
        return None
    rule = manifest.rule_path or "/"
    suffix = "/" if rule == "/" else f"/{rule}"
    if sandbox.endpoint_url is None:
        return f"http://{environment.load_balancer_dns}{suffix}"
    base = sandbox.listener_url(environment.load_balancer_arn, 80)  # type: ignore[attr-defined]
    return f"{str(base).rstrip('/')}{suffix}"


def deploy(sandbox: Sandbox, manifest: Manifest, app: str, env: str, *, wait: bool = True) -> Deployment:
    """Deploy a validated manifest to environment `env` of `app`, as `copilot svc deploy` would.

    With `wait`, returns once the service runs its desired count (and, behind the load balancer,
    every task is healthy). Raises `CopilotError` when the environment is not deployed, a topic
    or export is missing, or the service does not settle.
    """
    environment = find_environment(sandbox, app, env)
    if environment is None:
        raise CopilotError(
            f"environment {env} of application {app} is not deployed; "
            f"run `labkit copilot env deploy --app {app} --env {env}` first"
        )
    tags = _tags(app, env, manifest.name)
    _store(
        sandbox,
        f"{_app_path(app)}/components/{manifest.name}",
        {"app": app, "name": manifest.name, "type": manifest.type},
        _tags(app, service=manifest.name),
    )
    image, repository = _image(sandbox, manifest, app, tags)
    queue_url = _queue(sandbox, manifest, environment) if manifest.type == WORKER_SERVICE else None
    task_definition = _register_task_definition(sandbox, manifest, environment, image, queue_url)
    result = Deployment(
        manifest=manifest,
        environment=environment,
        task_definition_arn=task_definition,
        queue_url=queue_url,
        repository_uri=repository,
    )
    if manifest.type == SCHEDULED_JOB:
        result.rule_arn = _job_rule(sandbox, manifest, environment, task_definition)
        return result
    if manifest.type == LOAD_BALANCED_WEB_SERVICE:
        result.target_group_arn = _target_group(sandbox, manifest, environment)
        result.listener_rule_arn = _listener_rule(sandbox, manifest, environment, result.target_group_arn)
    result.service_arn = _service(sandbox, manifest, environment, task_definition, result.target_group_arn)
    result.scalable_target, result.scaling_policies = _autoscaling(
        sandbox, manifest, environment, result.target_group_arn
    )
    if wait:
        sandbox.wait_until(
            lambda: _stable(sandbox, environment, manifest, result),
            f"{manifest.name} becoming stable",
            limit=1800,
            step=5,
        )
    result.url = service_url(sandbox, environment, manifest)
    return result


def _stable(sandbox: Sandbox, environment: Environment, manifest: Manifest, result: Deployment) -> bool:
    """True once the service settled; raises `CopilotError` when a task of this deployment failed to start."""
    ecs = sandbox.client("ecs")
    service = ecs.describe_services(cluster=environment.cluster, services=[result.service_arn])["services"][0]
    stopped = ecs.list_tasks(
        cluster=environment.cluster, serviceName=service["serviceName"], desiredStatus="STOPPED"
    )["taskArns"]
    for task in ecs.describe_tasks(cluster=environment.cluster, tasks=stopped)["tasks"] if stopped else []:
        if (
            task.get("stopCode") == "TaskFailedToStart"
            and task.get("taskDefinitionArn") == result.task_definition_arn
        ):
            # As `copilot svc deploy` does, the deployment stops on the first task ECS could not start.
            raise CopilotError(f"{manifest.name}: a task failed to start: {task.get('stoppedReason')}")
    if len(service.get("deployments", [])) != 1 or service["runningCount"] != service["desiredCount"]:
        return False
    if result.target_group_arn is None:
        return True
    health = sandbox.client("elbv2").describe_target_health(TargetGroupArn=result.target_group_arn)
    healthy = sum(1 for h in health["TargetHealthDescriptions"] if h["TargetHealth"]["State"] == "healthy")
    return healthy >= int(service["desiredCount"])


# -- show ---------------------------------------------------------------------------------------


def _all(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item of a listing, through its paginator where the API has one."""
    if client.can_paginate(operation):
        return [
            item for page in client.get_paginator(operation).paginate(**kwargs) for item in page.get(key, [])
        ]
    return list(getattr(client, operation)(**kwargs).get(key, []))


def _matches(tags: dict[str, str], app: str | None, env: str | None, name: str | None) -> bool:
    if APP_TAG not in tags:
        return False
    if app is not None and tags.get(APP_TAG) != app:
        return False
    if env is not None and tags.get(ENV_TAG, env) != env:
        return False
    return name is None or tags.get(SERVICE_TAG) == name


def _resource(kind: str, name: str, arn: str, tags: dict[str, str]) -> CopilotResource:
    return CopilotResource(kind, name, arn, tags[APP_TAG], tags.get(ENV_TAG), tags.get(SERVICE_TAG))


def _elb_tags(elbv2: Any, arns: list[str]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        for description in elbv2.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
            found[description["ResourceArn"]] = _as_dict(description.get("Tags"))
    return found


def show(
    sandbox: Sandbox, app: str | None = None, env: str | None = None, name: str | None = None
) -> list[CopilotResource]:
    """Every resource Copilot's tags tie to `app` (all applications when None), in creation order."""
    found: list[CopilotResource] = []

    def keep(kind: str, res_name: str, arn: str, tags: dict[str, str]) -> None:
        if _matches(tags, app, env, name):
            found.append(_resource(kind, res_name, arn, tags))

    ssm = sandbox.client("ssm")
    for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path="/copilot/applications", Recursive=True
    ):
        for parameter in page.get("Parameters", []):
            tags = _as_dict(
                ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter["Name"]).get(
                    "TagList"
                )
            )
            keep("ssm-parameter", parameter["Name"], parameter.get("ARN", parameter["Name"]), tags)

    ec2 = sandbox.client("ec2")
    tag_filter = [{"Name": "tag-key", "Values": [APP_TAG]}]
    for kind, call, key, id_key in (
        ("vpc", ec2.describe_vpcs, "Vpcs", "VpcId"),
        ("subnet", ec2.describe_subnets, "Subnets", "SubnetId"),
        ("internet-gateway", ec2.describe_internet_gateways, "InternetGateways", "InternetGatewayId"),
        ("route-table", ec2.describe_route_tables, "RouteTables", "RouteTableId"),
        ("security-group", ec2.describe_security_groups, "SecurityGroups", "GroupId"),
    ):
        for item in call(Filters=tag_filter)[key]:
            tags = _as_dict(item.get("Tags"))
            keep(kind, tags.get("Name", item.get("GroupName", item[id_key])), item[id_key], tags)

    ecs = sandbox.client("ecs")
    cluster_arns = _all(ecs, "list_clusters", "clusterArns")
    clusters = (
        ecs.describe_clusters(clusters=cluster_arns, include=["TAGS"])["clusters"] if cluster_arns else []
    )
    for cluster in clusters:
        tags = _as_dict(cluster.get("tags"))
        if APP_TAG not in tags or cluster.get("status") != "ACTIVE":
            continue
        keep("cluster", cluster["clusterName"], cluster["clusterArn"], tags)
        service_arns = _all(ecs, "list_services", "serviceArns", cluster=cluster["clusterArn"])
        for start in range(0, len(service_arns), 10):
            for service in ecs.describe_services(
                cluster=cluster["clusterArn"], services=service_arns[start : start + 10], include=["TAGS"]
            )["services"]:
                if service.get("status") == "ACTIVE":
                    keep(
                        "service",
                        service["serviceName"],
                        service["serviceArn"],
                        _as_dict(service.get("tags")),
                    )

    for arn in _all(ecs, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        # Copilot's families are <app>-<env>-<svc>: skip describing the others.
        if app is not None and not arn.rsplit("/", 1)[-1].startswith(f"{app}-"):
            continue
        described = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
        keep("task-definition", arn.rsplit("/", 1)[-1], arn, _as_dict(described.get("tags")))

    elbv2 = sandbox.client("elbv2")
    lbs = _all(elbv2, "describe_load_balancers", "LoadBalancers")
    lb_tags = _elb_tags(elbv2, [lb["LoadBalancerArn"] for lb in lbs])
    for lb in lbs:
        tags = lb_tags.get(lb["LoadBalancerArn"], {})
        if APP_TAG not in tags:
            continue
        keep("load-balancer", lb["LoadBalancerName"], lb["LoadBalancerArn"], tags)
        listeners = elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
        listener_tags = _elb_tags(elbv2, [listener["ListenerArn"] for listener in listeners])
        for listener in listeners:
            keep(
                "listener",
                f"{listener['Protocol']}:{listener['Port']}",
                listener["ListenerArn"],
                listener_tags.get(listener["ListenerArn"], {}),
            )
            rules = [
                r
                for r in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
                if not r.get("IsDefault")
            ]
            rule_tags = _elb_tags(elbv2, [r["RuleArn"] for r in rules])
            for rule in rules:
                patterns = [
                    v
                    for c in rule.get("Conditions", [])
                    for v in (c.get("PathPatternConfig", {}).get("Values") or c.get("Values") or [])
                ]
                keep(
                    "listener-rule",
                    " ".join(patterns) or str(rule["Priority"]),
                    rule["RuleArn"],
                    rule_tags.get(rule["RuleArn"], {}),
                )
    groups = _all(elbv2, "describe_target_groups", "TargetGroups")
    group_tags = _elb_tags(elbv2, [g["TargetGroupArn"] for g in groups])
    for group in groups:
        keep(
            "target-group",
            group["TargetGroupName"],
            group["TargetGroupArn"],
            group_tags.get(group["TargetGroupArn"], {}),
        )

    services = {r.arn.rsplit("/", 1)[-1]: r for r in found if r.kind == "service"}
    aas = sandbox.client("application-autoscaling")
    for target in _all(aas, "describe_scalable_targets", "ScalableTargets", ServiceNamespace="ecs"):
        owner = services.get(target["ResourceId"].rsplit("/", 1)[-1])
        if owner is None:
            continue
        found.append(
            CopilotResource(
                "scalable-target",
                target["ResourceId"],
                target.get("ScalableTargetARN", target["ResourceId"]),
                owner.application,
                owner.environment,
                owner.service,
            )
        )
        for policy in aas.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=target["ResourceId"])[
            "ScalingPolicies"
        ]:
            found.append(
                CopilotResource(
                    "scaling-policy",
                    policy["PolicyName"],
                    policy["PolicyARN"],
                    owner.application,
                    owner.environment,
                    owner.service,
                )
            )

    events = sandbox.client("events")
    for rule in _all(events, "list_rules", "Rules"):
        tags = _as_dict(events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags"))
        keep("events-rule", rule["Name"], rule["Arn"], tags)

    sqs = sandbox.client("sqs")
    for url in _all(sqs, "list_queues", "QueueUrls"):
        keep(
            "sqs-queue", url.rsplit("/", 1)[-1], url, _as_dict(sqs.list_queue_tags(QueueUrl=url).get("Tags"))
        )

    ecr = sandbox.client("ecr")
    for repo in _all(ecr, "describe_repositories", "repositories"):
        tags = _as_dict(ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags"))
        keep("ecr-repository", repo["repositoryName"], repo["repositoryArn"], tags)

    iam = sandbox.client("iam")
    for page in iam.get_paginator("list_roles").paginate():
        for role in page.get("Roles", []):
            tags = _as_dict(iam.list_role_tags(RoleName=role["RoleName"]).get("Tags"))
            keep("iam-role", role["RoleName"], role["Arn"], tags)
    return found


# -- delete -------------------------------------------------------------------------------------


def _ignore_missing(call: Callable[..., Any], **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as exc:
        if not _not_found(exc) and exc.response["Error"]["Code"] not in ("InvalidParameterException",):
            raise


def delete(
    sandbox: Sandbox, app: str, env: str | None = None, name: str | None = None
) -> list[CopilotResource]:
    """Delete what Copilot's tags tie to `app` (one environment, one workload), in dependency order.

    With `name`, only that workload (`copilot svc delete`); without, every workload and then the
    environments themselves (`copilot env delete`, `copilot app delete`). Returns what it deleted;
    a second call deletes nothing.
    """
    resources = show(sandbox, app, env, name)
    by_kind: dict[str, list[CopilotResource]] = {}
    for resource in resources:
        if name is None or resource.kind not in (
            "vpc",
            "subnet",
            "internet-gateway",
            "route-table",
            "security-group",
            "cluster",
            "load-balancer",
            "listener",
        ):
            by_kind.setdefault(resource.kind, []).append(resource)
    workload_only = name is not None

    def of(kind: str) -> list[CopilotResource]:
        items = by_kind.get(kind, [])
        if workload_only:
            return [r for r in items if r.service == name]
        return items

    aas = sandbox.client("application-autoscaling")
    for policy in of("scaling-policy"):
        # A policy ARN ends ":resource/ecs/<resource id>:policyName/<name>".
        resource_id = policy.arn.split(":resource/ecs/", 1)[-1].rsplit(":policyName/", 1)[0]
        _ignore_missing(
            aas.delete_scaling_policy,
            PolicyName=policy.name,
            ServiceNamespace="ecs",
            ResourceId=resource_id,
            ScalableDimension="ecs:service:DesiredCount",
        )
    for target in of("scalable-target"):
        _ignore_missing(
            aas.deregister_scalable_target,
            ServiceNamespace="ecs",
            ResourceId=target.name,
            ScalableDimension="ecs:service:DesiredCount",
        )

    events = sandbox.client("events")
    for rule in of("events-rule"):
        ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule.name)["Targets"]]
        if ids:
            events.remove_targets(Rule=rule.name, Ids=ids)
        _ignore_missing(events.delete_rule, Name=rule.name)

    ecs = sandbox.client("ecs")
    clusters = {arn.rsplit("/", 1)[-1] for arn in _all(ecs, "list_clusters", "clusterArns")}
    stopping: list[tuple[str, str]] = []
    for service in of("service"):
        cluster = service.arn.split("/")[-2]
        if cluster not in clusters:
            continue
        ecs.update_service(cluster=cluster, service=service.arn, desiredCount=0)
        ecs.delete_service(cluster=cluster, service=service.arn, force=True)
        stopping.append((cluster, service.arn))

    elbv2 = sandbox.client("elbv2")
    for rule in of("listener-rule"):
        _ignore_missing(elbv2.delete_rule, RuleArn=rule.arn)
    for definition in of("task-definition"):
        ecs.deregister_task_definition(taskDefinition=definition.arn)
        ecs.delete_task_definitions(taskDefinitions=[definition.arn])
    iam = sandbox.client("iam")
    for role in of("iam-role"):
        for policy_name in iam.list_role_policies(RoleName=role.name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role.name, PolicyName=policy_name)
        _ignore_missing(iam.delete_role, RoleName=role.name)

    sqs, sns = sandbox.client("sqs"), sandbox.client("sns")
    for queue in of("sqs-queue"):
        arn = sqs.get_queue_attributes(QueueUrl=queue.arn, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for page in sns.get_paginator("list_subscriptions").paginate():
            for subscription in page.get("Subscriptions", []):
                if subscription.get("Endpoint") == arn:
                    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])
        sqs.delete_queue(QueueUrl=queue.arn)
    ecr = sandbox.client("ecr")
    for repo in of("ecr-repository"):
        if workload_only or env is None:
            _ignore_missing(ecr.delete_repository, repositoryName=repo.name, force=True)

    def tasks_gone() -> bool:
        for cluster, service in stopping:
            name = service.rsplit("/", 1)[-1]
            # A stopping task's desired status is already STOPPED: list both, as DeleteCluster counts both.
            arns = [
                arn
                for desired in ("RUNNING", "STOPPED")
                for arn in ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus=desired)[
                    "taskArns"
                ]
            ]
            for start in range(0, len(arns), 100):
                described = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])["tasks"]
                if any(t["lastStatus"] != "STOPPED" for t in described):
                    return False
        return True

    if stopping:
        sandbox.wait_until(tasks_gone, "the deleted services' tasks stopping", limit=1800, step=5)
    for group in of("target-group"):
        if workload_only or group.service is not None:
            _ignore_missing(elbv2.delete_target_group, TargetGroupArn=group.arn)

    ssm = sandbox.client("ssm")
    deleted_params = []
    for parameter in of("ssm-parameter"):
        is_component = "/components/" in parameter.name
        is_env = "/environments/" in parameter.name
        if (workload_only and is_component) or (
            not workload_only and ((env is None) or (is_env and parameter.environment == env))
        ):
            _ignore_missing(ssm.delete_parameter, Name=parameter.name)
            deleted_params.append(parameter)

    if not workload_only:
        _delete_environments(sandbox, of)
    remaining = {r.arn for r in show(sandbox, app, env, name)}
    return [r for r in resources if r.arn not in remaining]


def _delete_environments(sandbox: Sandbox, of: Callable[[str], list[CopilotResource]]) -> None:
    elbv2, ecs, ec2 = sandbox.client("elbv2"), sandbox.client("ecs"), sandbox.client("ec2")
    for listener in of("listener"):
        _ignore_missing(elbv2.delete_listener, ListenerArn=listener.arn)
    for lb in of("load-balancer"):
        _ignore_missing(elbv2.delete_load_balancer, LoadBalancerArn=lb.arn)
    for group in of("target-group"):
        _ignore_missing(elbv2.delete_target_group, TargetGroupArn=group.arn)
    for cluster in of("cluster"):
        _ignore_missing(ecs.delete_cluster, cluster=cluster.arn)
    groups = of("security-group")
    # The environment group's rules name the load balancer's group: revoke them before deleting.
    for group in groups:
        described = ec2.describe_security_groups(GroupIds=[group.arn])["SecurityGroups"]
        permissions = described[0].get("IpPermissions", []) if described else []
        if permissions:
            ec2.revoke_security_group_ingress(GroupId=group.arn, IpPermissions=permissions)
    for group in groups:
        ec2.delete_security_group(GroupId=group.arn)
    for table in of("route-table"):
        described = ec2.describe_route_tables(RouteTableIds=[table.arn])["RouteTables"]
        for association in described[0].get("Associations", []) if described else []:
            if not association.get("Main"):
                ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        ec2.delete_route_table(RouteTableId=table.arn)
    vpcs = [v.arn for v in of("vpc")]
    for gateway in of("internet-gateway"):
        for vpc in vpcs:
            try:
                ec2.detach_internet_gateway(InternetGatewayId=gateway.arn, VpcId=vpc)
            except ClientError:
                continue
        ec2.delete_internet_gateway(InternetGatewayId=gateway.arn)
    for subnet in of("subnet"):
        ec2.delete_subnet(SubnetId=subnet.arn)
    for vpc in vpcs:
        ec2.delete_vpc(VpcId=vpc)
