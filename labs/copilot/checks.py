"""Checkpoints of the copilot lab: what `lab.check` and the grader run (its reference steps are in reference.py).

The learner deploys application `demo`, environment `test` and the Load Balanced Web Service
`hello` (nginxdemos/hello on port 80, three tasks, path `/`) with `labkit.copilot`, which makes what
`copilot env deploy` and `copilot svc deploy` made. Checks find the resources by Copilot's tags
(`copilot-application`, `copilot-environment`, `copilot-service`) and, in a real account, only
those of this lab session (`ctx.ours`).
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.ecs.validation import fargate_size_allowed, parse_cpu, parse_memory

checkpoints = CheckpointSet("copilot")


APP = "demo"


ENV = "test"


SERVICE = "hello"


CLUSTER = f"{APP}-{ENV}-Cluster"


FAMILY = f"{APP}-{ENV}-{SERVICE}"


IMAGE = re.compile(r"^(docker\.io/)?(library/)?nginxdemos/hello(:[\w.-]+)?$")


SERVER_ADDRESS = re.compile(r"Server(?:&nbsp;| )address:(?:</span>)?\s*(?:<span>)?\s*([\d.]+:\d+)")


#: The manifest the lab starts from: four rules broken, and an image name no rule can catch.
BROKEN_MANIFEST = """\
name: Hello
type: Load Balanced Web Service

image:
  build: ./Dockerfile
  location: nginixdemos/hello
  port: 80

http:
  path: '/'
  healthcheck:
    path: /
    interval: 2s

cpu: 256
memory: 4096
count: 3
"""


def _tags(items: Any) -> dict[str, str]:
    if isinstance(items, dict):
        return {str(k): str(v) for k, v in items.items()}
    return {str(t.get("Key", t.get("key"))): str(t.get("Value", t.get("value"))) for t in items or []}


def _copilot(tags: dict[str, str], service: str | None = None) -> bool:
    if tags.get("copilot-application") != APP or tags.get("copilot-environment") != ENV:
        return False
    return service is None or tags.get("copilot-service") == service


def _elb_tags(ctx: CheckContext, arn: str) -> dict[str, str]:
    described = ctx.client("elbv2").describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return _tags(described[0].get("Tags")) if described else {}


def _load_balancer(ctx: CheckContext) -> dict[str, Any] | None:
    elbv2 = ctx.client("elbv2")
    for lb in elbv2.describe_load_balancers()["LoadBalancers"]:
        tags = _elb_tags(ctx, lb["LoadBalancerArn"])
        if _copilot(tags) and "copilot-service" not in tags and ctx.ours(tags):
            return dict(lb)
    return None


def _http_listener(ctx: CheckContext, lb: dict[str, Any]) -> dict[str, Any] | None:
    listeners = ctx.client("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    http = [item for item in listeners if item["Port"] == 80 and item["Protocol"] == "HTTP"]
    return dict(http[0]) if http else None


@checkpoints.checkpoint(
    "environment-deployed",
    "Environment test of application demo has its VPC, cluster and load balancer",
    points=2,
    hints=[
        "copilot.deploy_environment(sb, 'demo', 'test') makes what `copilot env deploy` made.",
        "Copilot tags an environment's resources copilot-application=demo and copilot-environment=test.",
    ],
)
def environment_deployed(ctx: CheckContext) -> Outcome:
    ec2 = ctx.client("ec2")
    vpcs = ec2.describe_vpcs(
        Filters=[
            {"Name": "tag:copilot-application", "Values": [APP]},
            {"Name": "tag:copilot-environment", "Values": [ENV]},
        ]
    )["Vpcs"]
    vpcs = [v for v in vpcs if ctx.ours(v.get("Tags"))]
    if not vpcs:
        return failed(f"There is no VPC tagged for environment {ENV} of application {APP}.")
    clusters = ctx.client("ecs").describe_clusters(clusters=[CLUSTER], include=["TAGS"])["clusters"]
    if not any(c.get("status") == "ACTIVE" and _copilot(_tags(c.get("tags"))) for c in clusters):
        return failed(f"There is no ACTIVE cluster {CLUSTER} tagged for the environment.")
    lb = _load_balancer(ctx)
    if lb is None:
        return failed("The environment has no load balancer tagged with Copilot's tags.")
    if _http_listener(ctx, lb) is None:
        return failed(
            f"The environment's load balancer {lb['LoadBalancerName']} has no HTTP listener on port 80."
        )
    return passed(
        f"Environment {ENV}: VPC {vpcs[0]['VpcId']}, cluster {CLUSTER}, load balancer {lb['LoadBalancerName']}."
    )


def _task_definition(ctx: CheckContext) -> dict[str, Any] | None:
    try:
        described = ctx.client("ecs").describe_task_definition(taskDefinition=FAMILY, include=["TAGS"])
    except ClientError:
        return None
    tags = _tags(described.get("tags"))
    if not _copilot(tags, SERVICE) or not ctx.ours(tags):
        return None
    return dict(described["taskDefinition"])


@checkpoints.checkpoint(
    "manifest-fixed",
    "The fixed manifest is deployed: Copilot's task definition runs nginxdemos/hello",
    points=3,
    hints=[
        "copilot.load_manifest(text) raises an error that names the field at fault; fix it and try again.",
        "Service names are lower case ('hello'); give image.location or image.build, not both; "
        "a target group checks every 5s to 300s; 256 CPU units go with 512, 1024 or 2048 MiB.",
        "No rule checks that an image exists: the image is nginxdemos/hello, not nginixdemos/hello.",
        "Then deploy it: copilot.deploy(sb, manifest, 'demo', 'test').",
    ],
)
def manifest_fixed(ctx: CheckContext) -> Outcome:
    definition = _task_definition(ctx)
    if definition is None:
        return failed(f"There is no task definition of the family {FAMILY}: deploy the fixed manifest.")
    containers = {c["name"]: c for c in definition.get("containerDefinitions", [])}
    container = containers.get(SERVICE)
    if container is None:
        return failed(f"Copilot names the container after the service; there is no container {SERVICE!r}.")
    if not IMAGE.match(container.get("image", "")):
        return failed(
            f"The container's image is {container.get('image')!r}; the service runs nginxdemos/hello."
        )
    if not any(p.get("containerPort") == 80 for p in container.get("portMappings", [])):
        return failed("The container maps no port 80: image.port is where nginx listens.")
    if not fargate_size_allowed(
        parse_cpu(definition.get("cpu", 0)), parse_memory(definition.get("memory", 0))
    ):
        return failed("The task's cpu and memory are not a Fargate size.")
    variables = {v["name"]: v["value"] for v in container.get("environment", [])}
    if variables.get("COPILOT_SERVICE_NAME") != SERVICE:
        return failed("The container lacks the COPILOT_SERVICE_NAME variable Copilot injects.")
    return passed(f"{FAMILY}:{definition['revision']} runs {container['image']} on port 80.")


def _service(ctx: CheckContext) -> dict[str, Any] | None:
    ecs = ctx.client("ecs")
    try:
        arns = ecs.list_services(cluster=CLUSTER)["serviceArns"]
    except ClientError:
        return None
    if not arns:
        return None
    for service in ecs.describe_services(cluster=CLUSTER, services=arns[:10], include=["TAGS"])["services"]:
        tags = _tags(service.get("tags"))
        if service.get("status") == "ACTIVE" and _copilot(tags, SERVICE) and ctx.ours(tags):
            return dict(service)
    return None


def _target_group(ctx: CheckContext, service: dict[str, Any]) -> dict[str, Any] | None:
    for entry in service.get("loadBalancers", []):
        if entry.get("containerName") == SERVICE and entry.get("containerPort") == 80:
            try:
                groups = ctx.client("elbv2").describe_target_groups(TargetGroupArns=[entry["targetGroupArn"]])
            except ClientError:
                return None
            return dict(groups["TargetGroups"][0])
    return None


@checkpoints.checkpoint(
    "service-behind-listener-rule",
    "The service's target group is reached by a listener rule for path / on the environment's load balancer",
    points=3,
    hints=[
        "copilot.deploy makes the ECS service, its target group and a rule on the environment's HTTP listener.",
        "http.path '/' becomes the path pattern /*; copilot.show(sb, 'demo') lists what was made.",
    ],
)
def service_behind_listener_rule(ctx: CheckContext) -> Outcome:
    service = _service(ctx)
    if service is None:
        return failed(f"There is no ACTIVE service tagged copilot-service={SERVICE} in {CLUSTER}.")
    if service.get("launchType") != "FARGATE":
        return failed("The service does not run on Fargate.")
    group = _target_group(ctx, service)
    if group is None:
        return failed(
            f"The service is not attached to a target group with container {SERVICE!r} and port 80."
        )
    lb = _load_balancer(ctx)
    listener = _http_listener(ctx, lb) if lb is not None else None
    if listener is None:
        return failed("The environment's load balancer has no HTTP listener on port 80.")
    rules = ctx.client("elbv2").describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    for rule in rules:
        forwards = {a.get("TargetGroupArn") for a in rule.get("Actions", []) if a.get("Type") == "forward"}
        if group["TargetGroupArn"] not in forwards or rule.get("IsDefault"):
            continue
        patterns = [
            value
            for condition in rule.get("Conditions", [])
            if condition.get("Field") == "path-pattern"
            for value in (
                condition.get("PathPatternConfig", {}).get("Values") or condition.get("Values") or []
            )
        ]
        if "/*" in patterns:
            return passed(f"Rule {rule['Priority']} sends /* to {group['TargetGroupName']}.")
        return failed(f"The rule to {group['TargetGroupName']} matches {patterns}, not /* (http.path '/').")
    return failed(f"No rule of the environment's listener forwards to {group['TargetGroupName']}.")


def _three_healthy(ctx: CheckContext) -> Outcome:
    service = _service(ctx)
    if service is None:
        return failed(f"There is no ACTIVE service for {SERVICE} in {CLUSTER}.")
    if service["desiredCount"] != 3:
        return failed(
            f"The service wants {counted(service['desiredCount'], 'task')}; the manifest's count is 3."
        )
    if service["runningCount"] != 3:
        return settling(f"{service['runningCount']} of 3 tasks are RUNNING so far; give it a moment.")
    group = _target_group(ctx, service)
    if group is None:
        return failed("The service has no target group.")
    health = ctx.client("elbv2").describe_target_health(TargetGroupArn=group["TargetGroupArn"])
    healthy = sum(1 for h in health["TargetHealthDescriptions"] if h["TargetHealth"]["State"] == "healthy")
    if healthy < 3:
        return settling(f"{healthy} of 3 targets are healthy so far.")
    return passed("Three tasks are RUNNING and healthy in the target group.")


@checkpoints.checkpoint(
    "three-healthy-targets",
    "Three tasks run and are healthy behind the load balancer",
    points=2,
    hints=["`count: 3` in the manifest; copilot.deploy waits until the tasks pass their health checks."],
)
def three_healthy_targets(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _three_healthy(ctx))


@checkpoints.checkpoint(
    "page-answers",
    "The page answers through the environment's load balancer, from three tasks",
    points=2,
    hints=[
        "deployment.url is the service's address; each answer names the task that served it.",
        "sb.listener_url(load_balancer_arn, 80) gives the environment's listener.",
    ],
)
def page_answers(ctx: CheckContext) -> Outcome:
    lb = _load_balancer(ctx)
    if lb is None:
        return failed("The environment has no load balancer.")
    try:
        url = ctx.sandbox.listener_url(lb["LoadBalancerArn"], 80)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - no listener is the learner's gap, said in their terms
        return failed("The environment's load balancer has no listener on port 80.")

    def not_yet(message: str) -> Outcome:
        # Worth waiting for only while the three tasks are still starting or turning healthy.
        return settling(message) if _three_healthy(ctx).settling else failed(message)

    def look() -> Outcome:
        servers = set()
        for _ in range(6):
            status, body = ctx.http_get(url)
            if status != 200:
                return not_yet(
                    f"The load balancer answered HTTP {status} at /: no healthy task of {SERVICE} yet."
                )
            found = SERVER_ADDRESS.search(body)
            if found:
                servers.add(found.group(1))
        if len(servers) < 3:
            return not_yet(
                f"Six requests reached {counted(len(servers), 'task')}; three tasks answer in turn."
            )
        return passed(f"Six requests to / reached three tasks: {', '.join(sorted(servers))}.")

    return ctx.eventually(look)
