"""Checkpoints of the nginx-alb lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: security groups `nginx-alb-sg` and `nginx-tasks-sg`, cluster `nginx-lab`, task
definition family `nginx-demo-hello` (container `hello`, image `nginxdemos/hello`, port 80), load
balancer `nginx-alb`, target group `nginx-tg`, service `nginx-demo-hello`.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling
from labkit.ecs.validation import fargate_size_allowed, parse_cpu, parse_memory

checkpoints = CheckpointSet("nginx-alb")


CLUSTER = "nginx-lab"


FAMILY = "nginx-demo-hello"


SERVICE = "nginx-demo-hello"


ALB_SG = "nginx-alb-sg"


TASKS_SG = "nginx-tasks-sg"


LOAD_BALANCER = "nginx-alb"


TARGET_GROUP = "nginx-tg"


IMAGE = re.compile(r"^(docker\.io/)?(library/)?nginxdemos/hello(:[\w.-]+)?$")


SERVER_ADDRESS = re.compile(r"Server(?:&nbsp;| )address:(?:</span>)?\s*(?:<span>)?\s*([\d.]+:\d+)")


def _group(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    groups = ctx.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    found: list[dict[str, Any]] = [g for g in groups["SecurityGroups"] if ctx.ours(g.get("Tags"))]
    return found[0] if found else None


def _port_80_rules(group: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        p
        for p in group.get("IpPermissions", [])
        if p.get("IpProtocol") in ("-1", "tcp")
        and (p.get("IpProtocol") == "-1" or p.get("FromPort", 0) <= 80 <= p.get("ToPort", 0))
    ]


@checkpoints.checkpoint(
    "security-groups-chained",
    "Only the load balancer can reach the tasks",
    points=2,
    hints=[
        f"Create two security groups in the default VPC: {ALB_SG} for the load balancer, {TASKS_SG} for the tasks.",
        f"{ALB_SG} allows TCP 80 from 0.0.0.0/0 (the internet reaches the load balancer).",
        f"{TASKS_SG} allows TCP 80 from the group {ALB_SG} itself: IpPermissions=[{{'IpProtocol': 'tcp', "
        "'FromPort': 80, 'ToPort': 80, 'UserIdGroupPairs': [{'GroupId': alb_sg_id}]}], and no CIDR range.",
    ],
)
def security_groups_chained(ctx: CheckContext) -> Outcome:
    alb, tasks = _group(ctx, ALB_SG), _group(ctx, TASKS_SG)
    if alb is None or tasks is None:
        missing = [n for n, g in ((ALB_SG, alb), (TASKS_SG, tasks)) if g is None]
        return failed(f"There is no security group named {' or '.join(missing)}.")
    if not any(r.get("CidrIp") == "0.0.0.0/0" for p in _port_80_rules(alb) for r in p.get("IpRanges", [])):
        return failed(
            f"{ALB_SG} does not let HTTP (TCP 80) in from anywhere (0.0.0.0/0), so nobody reaches the load balancer."
        )
    rules = _port_80_rules(tasks)
    if any(p.get("IpRanges") or p.get("Ipv6Ranges") for p in rules):
        return failed(
            f"{TASKS_SG} lets port 80 in from an address range: anyone could bypass the load balancer."
        )
    sources = {pair.get("GroupId") for p in rules for pair in p.get("UserIdGroupPairs", [])}
    if alb["GroupId"] not in sources:
        return failed(
            f"{TASKS_SG} does not let port 80 in from {ALB_SG}, so the load balancer cannot reach the tasks."
        )
    return passed(f"{TASKS_SG} accepts port 80 only from {ALB_SG}.")


@checkpoints.checkpoint(
    "cluster-created",
    "The ECS cluster exists",
    points=1,
    hints=[f"ecs.create_cluster(clusterName='{CLUSTER}')"],
)
def cluster_created(ctx: CheckContext) -> Outcome:
    clusters = ctx.client("ecs").describe_clusters(clusters=[CLUSTER], include=["TAGS"])["clusters"]
    clusters = [c for c in clusters if ctx.ours(c.get("tags"))]
    if not clusters or clusters[0]["status"] != "ACTIVE":
        return failed(f"There is no ACTIVE cluster named {CLUSTER} made in this lab.")
    return passed(f"Cluster {CLUSTER} is ACTIVE.")


@checkpoints.checkpoint(
    "task-definition-registered",
    "A Fargate task definition runs nginxdemos/hello on port 80",
    points=2,
    hints=[
        f"Register family {FAMILY} with requiresCompatibilities=['FARGATE'] and networkMode='awsvpc'.",
        "Fargate needs task-level cpu and memory as strings of a valid pair, for example '256' and '512'.",
        "The container is named 'hello', its image is 'nginxdemos/hello' (not 'nginixdemos'), and it maps containerPort 80.",
    ],
)
def task_definition_registered(ctx: CheckContext) -> Outcome:
    definition = ctx.task_definition(FAMILY)
    if isinstance(definition, Outcome):
        return definition
    if "FARGATE" not in definition.get("requiresCompatibilities", []):
        return failed(f"{FAMILY} is not registered as compatible with FARGATE.")
    if definition.get("networkMode") != "awsvpc":
        return failed("Fargate tasks use networkMode awsvpc.")
    if not fargate_size_allowed(
        parse_cpu(definition.get("cpu", 0)), parse_memory(definition.get("memory", 0))
    ):
        return failed("The task's cpu and memory are not a Fargate size.")
    containers = {c["name"]: c for c in definition["containerDefinitions"]}
    hello = containers.get("hello")
    if hello is None:
        return failed("There is no container named 'hello' (the service's load balancer will refer to it).")
    if not IMAGE.match(hello.get("image", "")):
        return failed(f"The container's image is {hello.get('image')!r}; the lab uses nginxdemos/hello.")
    if not any(p.get("containerPort") == 80 for p in hello.get("portMappings", [])):
        return failed("The container does not map containerPort 80, where nginx listens.")
    return passed(f"{FAMILY}:{definition['revision']} runs nginxdemos/hello on Fargate.")


def _elb_named(ctx: CheckContext, operation: str, name: str, key: str, arn_key: str) -> dict[str, Any] | None:
    """The load balancer or target group called `name`, if it exists and is this lab's."""
    try:
        found: list[dict[str, Any]] = getattr(ctx.client("elbv2"), operation)(Names=[name])[key]
    except ClientError:
        return None
    return found[0] if found and ctx.elb_ours(found[0][arn_key]) else None


def _load_balancer(ctx: CheckContext) -> dict[str, Any] | None:
    return _elb_named(ctx, "describe_load_balancers", LOAD_BALANCER, "LoadBalancers", "LoadBalancerArn")


def _target_group(ctx: CheckContext) -> dict[str, Any] | None:
    return _elb_named(ctx, "describe_target_groups", TARGET_GROUP, "TargetGroups", "TargetGroupArn")


@checkpoints.checkpoint(
    "load-balancer-ready",
    "An application load balancer listens on port 80 and forwards to an ip target group",
    points=2,
    hints=[
        f"Create an application load balancer {LOAD_BALANCER} in two subnets with the security group {ALB_SG}.",
        f"Fargate tasks register by IP address: the target group {TARGET_GROUP} needs TargetType='ip', HTTP, port 80.",
        "Add a listener: Protocol HTTP, Port 80, DefaultActions=[{'Type': 'forward', 'TargetGroupArn': ...}].",
    ],
)
def load_balancer_ready(ctx: CheckContext) -> Outcome:
    lb = _load_balancer(ctx)
    if lb is None:
        return failed(f"There is no load balancer named {LOAD_BALANCER}.")
    if lb.get("Type") != "application":
        return failed(
            f"{LOAD_BALANCER} is a {lb.get('Type')} load balancer; this lab uses an application load balancer."
        )
    alb_sg = _group(ctx, ALB_SG)
    if alb_sg is None or alb_sg["GroupId"] not in lb.get("SecurityGroups", []):
        return failed(f"{LOAD_BALANCER} does not use the security group {ALB_SG}.")
    tg = _target_group(ctx)
    if tg is None:
        return failed(f"There is no target group named {TARGET_GROUP}.")
    if tg.get("TargetType") != "ip":
        return failed(
            f"{TARGET_GROUP} has target type {tg.get('TargetType')}; Fargate tasks (awsvpc) register by IP: use 'ip'."
        )
    listeners = ctx.client("elbv2").describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
    on_80 = [listener for listener in listeners if listener["Port"] == 80 and listener["Protocol"] == "HTTP"]
    if not on_80:
        return failed(f"{LOAD_BALANCER} has no HTTP listener on port 80.")
    forwards = {
        a.get("TargetGroupArn") for a in on_80[0].get("DefaultActions", []) if a.get("Type") == "forward"
    }
    if tg["TargetGroupArn"] not in forwards:
        return failed(f"The port 80 listener does not forward to {TARGET_GROUP}.")
    return passed(f"{LOAD_BALANCER} forwards HTTP:80 to {TARGET_GROUP}.")


def _http_codes(matcher: str) -> set[int]:
    """The status codes of a matcher such as "200", "200,202" or "200-299" (an empty set if unreadable)."""
    codes: set[int] = set()
    for part in matcher.replace(" ", "").split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            return set()
        codes.update(range(int(low), int(high or low) + 1))
    return codes


@checkpoints.checkpoint(
    "health-check-configured",
    "The target group's health check is set deliberately",
    points=2,
    hints=[
        f"elbv2.modify_target_group(TargetGroupArn=..., ...) changes the health check of {TARGET_GROUP}; "
        "create_target_group takes the same parameters.",
        "Check HTTP GET / every 10 seconds (HealthCheckIntervalSeconds=10) with a 5 second timeout; "
        "the default of 30 seconds takes minutes to notice a dead task.",
        "HealthyThresholdCount=2 and UnhealthyThresholdCount=2, and Matcher={'HttpCode': '200'}: "
        "the page answers 200, so a redirect or an error is not healthy.",
    ],
)
def health_check_configured(ctx: CheckContext) -> Outcome:
    tg = _target_group(ctx)
    if tg is None:
        return failed(f"There is no target group named {TARGET_GROUP}.")
    if tg.get("HealthCheckEnabled") is False:
        return failed(f"Health checks of {TARGET_GROUP} are off: the load balancer would send to dead tasks.")
    if tg.get("HealthCheckProtocol", "HTTP") != "HTTP" or tg.get("HealthCheckPath") != "/":
        return failed(
            f"{TARGET_GROUP} checks {tg.get('HealthCheckProtocol')} {tg.get('HealthCheckPath')!r}; "
            "nginxdemos/hello answers HTTP on '/'."
        )
    interval = int(tg.get("HealthCheckIntervalSeconds") or 30)
    timeout = int(tg.get("HealthCheckTimeoutSeconds") or 5)
    if not 5 <= interval <= 15:
        return failed(
            f"{TARGET_GROUP} checks every {interval} seconds; this lab checks every 10 (5 to 15 is fine), so a "
            "new task turns healthy, and a dead one unhealthy, within half a minute."
        )
    if timeout >= interval:
        return failed(f"A {timeout} second timeout must be shorter than the {interval} second interval.")
    healthy, unhealthy = (
        int(tg.get("HealthyThresholdCount") or 5),
        int(tg.get("UnhealthyThresholdCount") or 2),
    )
    if not (2 <= healthy <= 3 and 2 <= unhealthy <= 3):
        return failed(
            f"{TARGET_GROUP} wants {healthy} passes to turn healthy and {unhealthy} failures to turn unhealthy; "
            "this lab uses 2 and 2 (up to 3 is fine)."
        )
    matcher = str((tg.get("Matcher") or {}).get("HttpCode", ""))
    if _http_codes(matcher) != {200}:
        return failed(f"The matcher accepts {matcher!r}; the page answers 200, so accept exactly '200'.")
    return passed(
        f"{TARGET_GROUP} checks HTTP / every {interval} s ({timeout} s timeout), healthy after {healthy} passes, "
        f"unhealthy after {unhealthy} failures, 200 only."
    )


def _service(ctx: CheckContext) -> dict[str, Any] | None:
    return ctx.service(CLUSTER, SERVICE)


def _healthy_targets(ctx: CheckContext, tg: dict[str, Any]) -> int:
    health = ctx.client("elbv2").describe_target_health(TargetGroupArn=tg["TargetGroupArn"])
    return sum(1 for h in health["TargetHealthDescriptions"] if h["TargetHealth"]["State"] == "healthy")


def _service_at(ctx: CheckContext, count: int | None) -> Outcome:
    """The service runs `count` healthy tasks behind the target group (None: its desired count, at least 1)."""
    service = _service(ctx)
    if service is None:
        return failed(f"There is no ACTIVE service {SERVICE} in the cluster {CLUSTER}.")
    if service.get("launchType") != "FARGATE":
        return failed(f"{SERVICE} does not use the FARGATE launch type.")
    lbs = service.get("loadBalancers", [])
    tg = _target_group(ctx)
    if tg is None or not any(
        lb.get("targetGroupArn") == tg["TargetGroupArn"]
        and lb.get("containerName") == "hello"
        and lb.get("containerPort") == 80
        for lb in lbs
    ):
        return failed(f"{SERVICE} is not attached to {TARGET_GROUP} with container 'hello' and port 80.")
    groups = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {}).get("securityGroups", [])
    tasks_sg = _group(ctx, TASKS_SG)
    if tasks_sg is None or tasks_sg["GroupId"] not in groups:
        return failed(f"{SERVICE}'s tasks do not use the security group {TASKS_SG}.")
    if count is None:
        count = max(1, int(service["desiredCount"]))
    if service["desiredCount"] != count:
        return failed(f"{SERVICE} wants {counted(service['desiredCount'], 'task')}; this step needs {count}.")
    if service["runningCount"] != count:
        return settling(
            f"{service['runningCount']} of {counted(count, 'task')} RUNNING so far; give the service a moment."
        )
    healthy = _healthy_targets(ctx, tg)
    if healthy < count:
        return settling(f"{healthy} of {counted(count, 'target')} in {TARGET_GROUP} healthy so far.")
    return passed(f"{counted(count, 'task')} RUNNING and healthy behind {LOAD_BALANCER}.")


@checkpoints.checkpoint(
    "service-running",
    "A Fargate service runs one task behind the load balancer",
    points=3,
    hints=[
        f"ecs.create_service(cluster='{CLUSTER}', serviceName='{SERVICE}', taskDefinition='{FAMILY}', desiredCount=1, launchType='FARGATE', ...)",
        f"networkConfiguration: your two subnets, securityGroups=[the id of {TASKS_SG}], assignPublicIp='ENABLED'.",
        "loadBalancers=[{'targetGroupArn': ..., 'containerName': 'hello', 'containerPort': 80}]; then wait with the services_stable waiter.",
    ],
)
def service_running(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _service_at(ctx, None))


@checkpoints.checkpoint(
    "service-scaled",
    "The service runs three tasks",
    points=2,
    hints=[
        f"ecs.update_service(cluster='{CLUSTER}', service='{SERVICE}', desiredCount=3), then wait for it to be stable."
    ],
)
def service_scaled(ctx: CheckContext) -> Outcome:
    return ctx.eventually(lambda: _service_at(ctx, 3))


@checkpoints.checkpoint(
    "three-servers-answer",
    "Requests to the load balancer reach three different tasks",
    points=3,
    hints=[
        "sb.listener_url(load_balancer_arn, 80) gives the listener's address; fetch it a few times.",
        "Each answer of nginxdemos/hello names the server address of the task that served it.",
    ],
)
def three_servers_answer(ctx: CheckContext) -> Outcome:
    lb = _load_balancer(ctx)
    if lb is None:
        return failed(f"There is no load balancer named {LOAD_BALANCER}.")
    try:
        url = ctx.sandbox.listener_url(lb["LoadBalancerArn"], 80)
    except Exception:  # noqa: BLE001 - no listener is the learner's gap, said in their terms
        return failed(f"{LOAD_BALANCER} has no listener on port 80 to send requests to.")

    def not_yet(message: str) -> Outcome:
        # Worth waiting for only while three tasks are still starting or turning healthy.
        return settling(message) if _service_at(ctx, 3).settling else failed(message)

    def look() -> Outcome:
        servers = set()
        for _ in range(6):
            status, body = ctx.http_get(url)
            if status != 200:
                return not_yet(f"The load balancer answered HTTP {status}: no healthy task is serving yet.")
            found = SERVER_ADDRESS.search(body)
            if found:
                servers.add(found.group(1))
        if len(servers) < 3:
            return not_yet(
                f"Six requests reached {counted(len(servers), 'different task')}; with three tasks they reach three."
            )
        return passed(f"Six requests reached three tasks: {', '.join(sorted(servers))}.")

    return ctx.eventually(look)
