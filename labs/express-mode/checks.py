"""Checkpoints of the express-mode lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: roles `express-mode-execution` (task execution) and `express-mode-infrastructure`
(Express Mode's infrastructure role); Express services `hello-express` (kept) and `second-express`
(made, then deleted) in the `default` cluster; the SSM parameter `/express-mode/mapping`, where the
learner writes which resource Express Mode made for each part of the nginx-alb lab's hand-built
service (ARNs and ids, which the checks compare with the account's real resources).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, failed, passed, settling

checkpoints = CheckpointSet("express-mode")

CLUSTER = "default"
SERVICE = "hello-express"
SECOND = "second-express"
EXECUTION_ROLE = "express-mode-execution"
INFRASTRUCTURE_ROLE = "express-mode-infrastructure"
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
INFRASTRUCTURE_POLICY = (
    "arn:aws:iam::aws:policy/service-role/AmazonECSInfrastructureRoleforExpressGatewayServices"
)
MAPPING_PARAMETER = "/express-mode/mapping"
IMAGE = "nginxdemos/hello"
UPDATED_IMAGE = "nginxdemos/hello:plain-text"

#: The mapping's keys: each part of the nginx-alb lab's service, and what the learner built there.
PARTS: dict[str, str] = {
    "cluster": "the cluster (nginx-lab): its ARN",
    "task_definition": "the task definition (nginx-demo-hello): a revision's ARN",
    "service": "the ECS service (nginx-demo-hello): its ARN",
    "load_balancer": "the application load balancer (nginx-alb): its ARN",
    "listener": "the listener: its ARN",
    "listener_rule": "the listener rule that sends this service's requests to its target group: its ARN",
    "target_group": "the target group (nginx-tg): its ARN",
    "load_balancer_security_group": "the load balancer's security group (nginx-alb-sg): its id",
    "tasks_security_group": "the tasks' security group (nginx-tasks-sg): its id",
    "scaling_policy": "the target tracking scaling policy: its ARN",
}

_IMAGE = re.compile(r"^(docker\.io/)?(library/)?nginxdemos/hello(?P<tag>:[\w.-]+)?$")
SERVER_ADDRESS = re.compile(r"Server(?:&nbsp;| )address:(?:</span>)?\s*(?:<span>)?\s*([\d.]+:\d+)")


def _tag(image: str) -> str | None:
    """The tag of an nginxdemos/hello reference (`latest` when none), or None for another image."""
    found = _IMAGE.match(image)
    if found is None:
        return None
    return (found.group("tag") or ":latest")[1:]


# -- what Express Mode made, read back through the ordinary APIs -----------------------------------


def ecs_service(client: Callable[[str], Any], name: str) -> dict[str, Any] | None:
    """The ECS service `name` of the default cluster, whatever its status, or None."""
    try:
        found = client("ecs").describe_services(cluster=CLUSTER, services=[name], include=["TAGS"])[
            "services"
        ]
    except ClientError:
        return None
    return dict(found[0]) if found else None


def express_service(client: Callable[[str], Any], service_arn: str) -> dict[str, Any] | None:
    """DescribeExpressGatewayService's answer for `service_arn`, or None when it is no Express service."""
    try:
        return dict(client("ecs").describe_express_gateway_service(serviceArn=service_arn)["service"])
    except ClientError:
        return None


def current_configuration(express: dict[str, Any]) -> dict[str, Any]:
    """The newest of an Express service's active configurations (empty when it has none)."""
    configurations = express.get("activeConfigurations") or []
    if not configurations:
        return {}
    return dict(max(configurations, key=lambda c: str(c.get("createdAt") or "")))


def endpoint_of(express: dict[str, Any]) -> str | None:
    """The service's URL as AWS gives it: the `endpoint` of its current configuration's ingress path."""
    for path in current_configuration(express).get("ingressPaths") or []:
        if path.get("endpoint"):
            return str(path["endpoint"])
    return None


def _forwards_to(action: dict[str, Any]) -> set[str]:
    groups = {str(action["TargetGroupArn"])} if action.get("TargetGroupArn") else set()
    for group in (action.get("ForwardConfig") or {}).get("TargetGroups") or []:
        groups.add(str(group.get("TargetGroupArn")))
    return groups


def made_for(client: Callable[[str], Any], service: dict[str, Any]) -> dict[str, set[str]]:
    """What stands behind an ECS service, read from ECS, ELB, EC2 and Application Auto Scaling.

    Each part of `PARTS` maps to the set of ARNs or ids that are right for it (a set: a service may
    have had several task definition revisions, a load balancer several security groups).
    """
    elbv2 = client("elbv2")
    made: dict[str, set[str]] = {part: set() for part in PARTS}
    made["cluster"] = {str(service.get("clusterArn"))}
    made["service"] = {str(service.get("serviceArn"))}
    definition = str(service.get("taskDefinition") or "")
    family = definition.rsplit("/", 1)[-1].rsplit(":", 1)[0]
    if family:
        # Any revision of the service's family: the mapping may predate an update (an old revision,
        # perhaps deregistered since, still names the task definition Express Mode made).
        for status in ("ACTIVE", "INACTIVE"):
            listed = client("ecs").list_task_definitions(familyPrefix=family, status=status)
            for arn in listed["taskDefinitionArns"]:
                if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
                    made["task_definition"].add(str(arn))
        made["task_definition"].add(definition)
    groups = {
        str(lb["targetGroupArn"]) for lb in service.get("loadBalancers") or [] if lb.get("targetGroupArn")
    }
    made["target_group"] = groups
    if groups:
        described = elbv2.describe_target_groups(TargetGroupArns=sorted(groups))["TargetGroups"]
        for group in described:
            made["load_balancer"].update(str(arn) for arn in group.get("LoadBalancerArns") or [])
    for lb_arn in sorted(made["load_balancer"]):
        lbs = elbv2.describe_load_balancers(LoadBalancerArns=[lb_arn])["LoadBalancers"]
        for lb in lbs:
            made["load_balancer_security_group"].update(str(g) for g in lb.get("SecurityGroups") or [])
        for listener in elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
            for rule in elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
                if rule.get("IsDefault"):
                    continue
                if any(_forwards_to(a) & groups for a in rule.get("Actions") or []):
                    made["listener"].add(str(listener["ListenerArn"]))
                    made["listener_rule"].add(str(rule["RuleArn"]))
    network = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    made["tasks_security_group"] = {str(g) for g in network.get("securityGroups") or []}
    resource_id = f"service/{CLUSTER}/{service.get('serviceName')}"
    policies = client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId=resource_id
    )["ScalingPolicies"]
    made["scaling_policy"] = {
        str(p["PolicyARN"]) for p in policies if p.get("PolicyType") == "TargetTrackingScaling"
    }
    return made


def the_express_service(
    ctx: CheckContext, name: str = SERVICE
) -> tuple[dict[str, Any], dict[str, Any]] | Outcome:
    """The ACTIVE ECS service `name` and its Express Mode description, or the failed outcome saying why not."""
    service = ctx.service(CLUSTER, name)
    if service is None:
        return failed(
            f"There is no ACTIVE service {name} in the {CLUSTER} cluster: create it with "
            "ecs.create_express_gateway_service(serviceName=...)."
        )
    express = express_service(ctx.client, str(service["serviceArn"]))
    if express is None:
        return failed(
            f"{name} is an ECS service, but not an Express Mode service: DescribeExpressGatewayService does not "
            "know it. Make it with create_express_gateway_service, not create_service."
        )
    if (express.get("status") or {}).get("statusCode") != "ACTIVE":
        return failed(
            f"The Express service {name} is {(express.get('status') or {}).get('statusCode')}, not ACTIVE."
        )
    return service, express


# -- checkpoints --------------------------------------------------------------------------------


def _role(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    try:
        role = ctx.client("iam").get_role(RoleName=name)["Role"]
    except ClientError:
        return None
    return dict(role) if ctx.ours(role.get("Tags")) else None


def _trusts(role: dict[str, Any], principal: str) -> bool:
    document = role.get("AssumeRolePolicyDocument") or {}
    if isinstance(document, str):
        document = json.loads(unquote(document))
    for statement in document.get("Statement") or []:
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        services = (statement.get("Principal") or {}).get("Service")
        services = [services] if isinstance(services, str) else services or []
        if "sts:AssumeRole" in actions and principal in services:
            return True
    return False


def _attached(ctx: CheckContext, name: str) -> set[str]:
    policies = ctx.client("iam").list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    return {str(p["PolicyArn"]) for p in policies}


@checkpoints.checkpoint(
    "roles-ready",
    "A task execution role and an infrastructure role for Express Mode",
    points=2,
    hints=[
        f"{EXECUTION_ROLE} trusts ecs-tasks.amazonaws.com (the tasks' agent) and has the managed policy "
        "AmazonECSTaskExecutionRolePolicy: pull the image, write the logs.",
        f"{INFRASTRUCTURE_ROLE} trusts ecs.amazonaws.com (ECS itself, which builds the load balancer and the rest) "
        "and has the managed policy AmazonECSInfrastructureRoleforExpressGatewayServices.",
        "iam.create_role(RoleName=..., AssumeRolePolicyDocument=json.dumps(trust)), then "
        "iam.attach_role_policy(RoleName=..., PolicyArn='arn:aws:iam::aws:policy/service-role/...').",
    ],
)
def roles_ready(ctx: CheckContext) -> Outcome:
    for name, principal, policy in (
        (EXECUTION_ROLE, "ecs-tasks.amazonaws.com", EXECUTION_POLICY),
        (INFRASTRUCTURE_ROLE, "ecs.amazonaws.com", INFRASTRUCTURE_POLICY),
    ):
        role = _role(ctx, name)
        if role is None:
            return failed(f"There is no IAM role named {name} made in this lab.")
        if not _trusts(role, principal):
            return failed(f"{name} does not let {principal} assume it (its trust policy).")
        if policy not in _attached(ctx, name):
            return failed(f"{name} does not have the managed policy {policy.rsplit('/', 1)[-1]} attached.")
    return passed(f"{EXECUTION_ROLE} (for the tasks) and {INFRASTRUCTURE_ROLE} (for Express Mode) are ready.")


@checkpoints.checkpoint(
    "service-created",
    "One call made the Express service hello-express from nginxdemos/hello",
    points=3,
    hints=[
        f"ecs.create_express_gateway_service(serviceName='{SERVICE}', executionRoleArn=..., "
        "infrastructureRoleArn=..., primaryContainer={'image': 'nginxdemos/hello', 'containerPort': 80}, ...).",
        "Set healthCheckPath='/': Express Mode's default is /ping, which nginxdemos/hello does not serve, so "
        "no task would ever turn healthy.",
        "cpu='256', memory='512' and scalingTarget={'minTaskCount': 1, 'maxTaskCount': 3} keep it small.",
    ],
)
def service_created(ctx: CheckContext) -> Outcome:
    found = the_express_service(ctx)
    if isinstance(found, Outcome):
        return found
    _service, express = found
    if str(express.get("infrastructureRoleArn", "")).rsplit("/", 1)[-1] != INFRASTRUCTURE_ROLE:
        return failed(f"{SERVICE}'s infrastructure role is not {INFRASTRUCTURE_ROLE}.")
    config = current_configuration(express)
    if str(config.get("executionRoleArn", "")).rsplit("/", 1)[-1] != EXECUTION_ROLE:
        return failed(f"{SERVICE}'s task execution role is not {EXECUTION_ROLE}.")
    container = config.get("primaryContainer") or {}
    if _tag(str(container.get("image", ""))) is None:
        return failed(f"{SERVICE} runs {container.get('image')!r}; the lab deploys {IMAGE}.")
    if int(container.get("containerPort") or 80) != 80:
        return failed(
            f"{SERVICE} sends traffic to port {container.get('containerPort')}; nginx listens on 80."
        )
    if config.get("healthCheckPath") != "/":
        return failed(
            f"{SERVICE} health-checks {config.get('healthCheckPath')!r}; nginxdemos/hello answers on '/'. "
            "(Express Mode's default, /ping, answers 404 here.)"
        )
    scaling = config.get("scalingTarget") or {}
    if (scaling.get("minTaskCount"), scaling.get("maxTaskCount")) != (1, 3):
        return failed(
            f"{SERVICE} scales between {scaling.get('minTaskCount')} and {scaling.get('maxTaskCount')} tasks; "
            "the lab asks for 1 to 3."
        )
    return passed(
        f"The Express service {SERVICE} runs nginxdemos/hello, health-checked on '/', 1 to 3 tasks."
    )


def _url(ctx: CheckContext, express: dict[str, Any]) -> str | None:
    """The URL that reaches the service: the sandbox's loopback URL for it, or AWS's endpoint."""
    endpoint = endpoint_of(express)
    find = getattr(ctx.sandbox, "express_url", None)
    if find is not None and ctx.sandbox.endpoint_url is not None:
        try:
            return str(find(str(express["serviceArn"])))
        except Exception:  # noqa: BLE001 - no URL yet is the learner's state, said in their terms
            return None
    if endpoint is None:
        return None
    return endpoint if endpoint.startswith("http") else f"https://{endpoint}/"


def _steady(ctx: CheckContext, service: dict[str, Any]) -> Outcome | None:
    """None when the service runs its desired count in one deployment; else why not (settling)."""
    deployments = service.get("deployments") or []
    if len(deployments) > 1:
        return settling(f"{service['serviceName']} is still deploying ({len(deployments)} deployments).")
    if int(service.get("runningCount", 0)) < max(1, int(service.get("desiredCount", 0))):
        return settling(
            f"{service.get('runningCount')} of {service.get('desiredCount')} tasks of {service['serviceName']} RUNNING so far."
        )
    return None


@checkpoints.checkpoint(
    "url-answers",
    "The service's URL answers with the nginxdemos/hello page",
    points=2,
    hints=[
        "describe_express_gateway_service(serviceArn=...)['service']['activeConfigurations'][0]['ingressPaths'] "
        "holds the endpoint, AWS's URL; in the sandbox sb.express_url(service_arn) gives the loopback URL that "
        "reaches it (labkit sandbox urls lists it too).",
        f"Wait first: ecs.get_waiter('services_stable').wait(cluster='{CLUSTER}', services=['{SERVICE}']). Until "
        "a task is registered in the target group the URL answers 503.",
    ],
)
def url_answers(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        found = the_express_service(ctx)
        if isinstance(found, Outcome):
            return found
        service, express = found
        url = _url(ctx, express)
        if url is None:
            return settling(f"{SERVICE} has no URL yet.")
        status, body = ctx.http_get(url)
        if status in (502, 503, 504):
            # No healthy target yet: tasks starting, or health checks still passing.
            return _steady(ctx, service) or settling(
                f"{SERVICE}'s URL answered HTTP {status}: no healthy task serves it yet."
            )
        if status != 200:
            return failed(f"{SERVICE}'s URL answered HTTP {status}.")
        served = SERVER_ADDRESS.search(body)
        if served is None:
            return failed(f"{SERVICE}'s URL answered, but not with the nginxdemos/hello page.")
        return passed(f"{SERVICE}'s URL answers: served by the task at {served.group(1)}.")

    return ctx.eventually(look)


def _mapping(ctx: CheckContext) -> dict[str, Any] | Outcome:
    try:
        value = ctx.client("ssm").get_parameter(Name=MAPPING_PARAMETER)["Parameter"]["Value"]
    except ClientError:
        return failed(f"There is no SSM parameter {MAPPING_PARAMETER}: write your mapping there as JSON.")
    if not ctx.parameter_ours(MAPPING_PARAMETER):
        return failed(f"{MAPPING_PARAMETER} was not written in this lab.")
    try:
        mapping = json.loads(value)
    except ValueError:
        return failed(f"{MAPPING_PARAMETER} is not JSON: write json.dumps(mapping).")
    if not isinstance(mapping, dict):
        return failed(f"{MAPPING_PARAMETER} holds a JSON {type(mapping).__name__}; write an object (a dict).")
    return mapping


@checkpoints.checkpoint(
    "resources-mapped",
    "Each part of the hand-built nginx-alb service is mapped to the resource Express Mode made",
    points=4,
    hints=[
        "describe_services gives the cluster ARN, the task definition, the target group (loadBalancers) and the "
        "tasks' security group (networkConfiguration).",
        "elbv2: describe_target_groups gives the load balancer (LoadBalancerArns); describe_load_balancers its "
        "security groups; describe_listeners, then describe_rules, the rule that forwards to the target group "
        "(not the default rule).",
        "application-autoscaling.describe_scaling_policies(ServiceNamespace='ecs', "
        f"ResourceId='service/{CLUSTER}/{SERVICE}') gives the policy's PolicyARN.",
        f"ssm.put_parameter(Name='{MAPPING_PARAMETER}', Value=json.dumps(mapping), Type='String', Overwrite=True).",
    ],
)
def resources_mapped(ctx: CheckContext) -> Outcome:
    mapping = _mapping(ctx)
    if isinstance(mapping, Outcome):
        return mapping
    missing = [part for part in PARTS if not mapping.get(part)]
    if missing:
        return failed(f"The mapping has nothing for: {', '.join(missing)}.")
    found = the_express_service(ctx)
    if isinstance(found, Outcome):
        return found
    service, _express = found
    made = made_for(ctx.client, service)
    wrong = [part for part in PARTS if str(mapping[part]) not in made[part]]
    if wrong:
        return failed(
            f"{len(wrong)} of {len(PARTS)} parts do not name what Express Mode made for {SERVICE}: "
            f"{', '.join(wrong)}. Read them from the service, not from the nginx-alb lab."
        )
    return passed(f"All {len(PARTS)} parts name the resources Express Mode made for {SERVICE}.")


@checkpoints.checkpoint(
    "update-rolled-out",
    "An update rolled the service out to nginxdemos/hello:plain-text",
    points=3,
    hints=[
        "ecs.update_express_gateway_service(serviceArn=..., primaryContainer={'image': "
        "'nginxdemos/hello:plain-text', 'containerPort': 80}): image is required in primaryContainer, so pass "
        "the port again too.",
        "Update the Express service, not the ECS service: update_service with a task definition of your own "
        "leaves Express Mode's configuration behind.",
        f"Wait for the rollout: the services_stable waiter on {SERVICE}; then the URL answers in plain text.",
    ],
)
def update_rolled_out(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        found = the_express_service(ctx)
        if isinstance(found, Outcome):
            return found
        service, express = found
        container = current_configuration(express).get("primaryContainer") or {}
        if _tag(str(container.get("image", ""))) != "plain-text":
            return failed(
                f"Express Mode's configuration of {SERVICE} still runs {container.get('image')!r}; update the "
                f"Express service to {UPDATED_IMAGE}."
            )
        definition = ctx.client("ecs").describe_task_definition(taskDefinition=str(service["taskDefinition"]))
        images = [str(c.get("image", "")) for c in definition["taskDefinition"]["containerDefinitions"]]
        if not any(_tag(image) == "plain-text" for image in images):
            return settling(f"{SERVICE} has not switched to the new task definition yet.")
        not_steady = _steady(ctx, service)
        if not_steady is not None:
            return not_steady
        url = _url(ctx, express)
        if url is None:
            return settling(f"{SERVICE} has no URL yet.")
        status, body = ctx.http_get(url)
        if status != 200 or "<html" in body.lower() or SERVER_ADDRESS.search(body) is None:
            return settling(f"{SERVICE}'s URL does not answer in plain text yet (HTTP {status}).")
        return passed(f"{SERVICE} rolled out to {UPDATED_IMAGE}: its URL answers in plain text.")

    return ctx.eventually(look)


def _gone(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError:
        return True
    return False


@checkpoints.checkpoint(
    "second-service-deleted",
    "A second Express service shared the load balancer, and deleting it removed what it made",
    points=3,
    hints=[
        f"Create {SECOND} like {SERVICE} (same roles, image nginxdemos/hello, healthCheckPath='/'): it gets "
        "a listener rule and a target group on the same load balancer, and a URL of its own.",
        "ecs.delete_express_gateway_service(serviceArn=...) drains it; the ECS service turns INACTIVE and its "
        "rule, target group, scaling policy and security group go. The shared load balancer stays: "
        f"{SERVICE} still uses it.",
        "Wait until describe_express_gateway_service shows it INACTIVE before you check: the ECS service turns "
        "INACTIVE first, the Express service once what it made is gone.",
    ],
)
def second_service_deleted(ctx: CheckContext) -> Outcome:
    def look() -> Outcome:
        second = ecs_service(ctx.client, SECOND)
        if second is None or not ctx.ours(second.get("tags")):
            return failed(
                f"There has been no service {SECOND} in the {CLUSTER} cluster: create it, then delete it."
            )
        status = second.get("status")
        if status == "ACTIVE":
            return failed(f"{SECOND} is still ACTIVE: delete it with delete_express_gateway_service.")
        if status == "DRAINING":
            return settling(f"{SECOND} is DRAINING: its tasks are stopping.")
        described = express_service(ctx.client, str(second["serviceArn"]))
        if described is not None and (described.get("status") or {}).get("statusCode") == "DRAINING":
            return settling(f"The Express service {SECOND} is DRAINING: what it made is being removed.")
        groups = [
            str(lb["targetGroupArn"]) for lb in second.get("loadBalancers") or [] if lb.get("targetGroupArn")
        ]
        if not groups:
            return failed(
                f"{SECOND} had no load balancer: it was not an Express service (create_express_gateway_service)."
            )
        elbv2 = ctx.client("elbv2")
        left = [g for g in groups if not _gone(lambda g=g: elbv2.describe_target_groups(TargetGroupArns=[g]))]
        if left:
            return settling(f"{SECOND}'s target group is still there.")
        targets = ctx.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[f"service/{CLUSTER}/{SECOND}"]
        )["ScalableTargets"]
        if targets:
            return settling(f"{SECOND}'s scalable target is still registered.")
        first = the_express_service(ctx)
        if isinstance(first, Outcome):
            return failed(
                f"{SECOND} is gone, but so is {SERVICE}: keep {SERVICE} running (it shares the load balancer)."
            )
        made = made_for(ctx.client, first[0])
        if not made["load_balancer"]:
            return failed(f"{SERVICE} has no load balancer left.")
        network = (second.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
        ec2 = ctx.client("ec2")
        own = [g for g in network.get("securityGroups") or [] if g not in made["tasks_security_group"]]
        if any(not _gone(lambda g=g: ec2.describe_security_groups(GroupIds=[g])) for g in own):
            return settling(f"The security group Express Mode made for {SECOND}'s tasks is still there.")
        return passed(
            f"{SECOND} is INACTIVE and its target group, rule and scaling are gone; the shared load balancer "
            f"still serves {SERVICE}."
        )

    return ctx.eventually(look)
