"""The quick-start demo: an ECS cluster, a Fargate task definition and a service in a sandbox.

It builds what the course's first hands-on builds (the `nginxdemos/hello` image on Fargate, in
`awsvpc` mode, port 80) and reads it back, so a fresh install shows that the sandbox answers like
AWS. It uses only the sandbox it is given.
"""

from __future__ import annotations

from typing import Any

from labkit.sandbox import Sandbox

__all__ = ["DEMO_NAME", "TASK_DEFINITION", "format_demo", "run_demo"]

DEMO_NAME = "nginx-demo-hello"
CLUSTER_NAME = "labkit-demo"

#: A Fargate task definition as the ECS API takes it (cpu and memory are strings of a valid pair).
TASK_DEFINITION: dict[str, Any] = {
    "family": DEMO_NAME,
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
    "containerDefinitions": [
        {
            "name": "hello",
            "image": "nginxdemos/hello",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        }
    ],
}


def run_demo(sandbox: Sandbox) -> dict[str, Any]:
    """Create the demo's network, cluster, task definition and service; return what ECS describes."""
    ec2 = sandbox.client("ec2")
    ecs = sandbox.client("ecs")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    group_id = ec2.create_security_group(
        GroupName=f"{DEMO_NAME}-tasks", Description="HTTP into the demo tasks", VpcId=vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    cluster = ecs.create_cluster(clusterName=CLUSTER_NAME)["cluster"]
    task_definition = ecs.register_task_definition(**TASK_DEFINITION)["taskDefinition"]
    ecs.create_service(
        cluster=CLUSTER_NAME,
        serviceName=DEMO_NAME,
        taskDefinition=f"{task_definition['family']}:{task_definition['revision']}",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [s["SubnetId"] for s in subnets[:2]],
                "securityGroups": [group_id],
                "assignPublicIp": "ENABLED",
            }
        },
    )
    service = _wait_until_steady(sandbox, ecs)
    task_arns = ecs.list_tasks(cluster=CLUSTER_NAME, serviceName=DEMO_NAME)["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER_NAME, tasks=task_arns)["tasks"] if task_arns else []
    return {
        "sandbox": sandbox.describe(),
        "cluster": {
            "name": cluster["clusterName"],
            "arn": cluster["clusterArn"],
            "status": cluster["status"],
        },
        "task_definition": {
            "arn": task_definition["taskDefinitionArn"],
            "family": task_definition["family"],
            "revision": task_definition["revision"],
            "cpu": task_definition.get("cpu"),
            "memory": task_definition.get("memory"),
            "network_mode": task_definition.get("networkMode"),
            "containers": [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "ports": [p["containerPort"] for p in c.get("portMappings", [])],
                }
                for c in task_definition["containerDefinitions"]
            ],
        },
        "service": {
            "name": service["serviceName"],
            "arn": service["serviceArn"],
            "status": service["status"],
            "launch_type": service.get("launchType"),
            "desired": service["desiredCount"],
            "running": service["runningCount"],
            "pending": service["pendingCount"],
            "subnets": service["networkConfiguration"]["awsvpcConfiguration"]["subnets"],
            "security_groups": service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"],
            "events": [e["message"] for e in reversed(service.get("events", []))],
        },
        "tasks": [
            {
                "id": t["taskArn"].split("/")[-1],
                "status": t["lastStatus"],
                "availability_zone": t.get("availabilityZone"),
                "private_ip": next(
                    (
                        d["value"]
                        for a in t.get("attachments", [])
                        for d in a["details"]
                        if d["name"] == "privateIPv4Address"
                    ),
                    None,
                ),
            }
            for t in tasks
        ],
    }


def _wait_until_steady(sandbox: Sandbox, ecs: Any) -> dict[str, Any]:
    """Let the service reach a steady state (on the sandbox's clock); return it.

    Raises `WaitTimeoutError` when it has not within 900 emulated seconds.
    """

    def steady() -> dict[str, Any] | None:
        service: dict[str, Any] = ecs.describe_services(cluster=CLUSTER_NAME, services=[DEMO_NAME])[
            "services"
        ][0]
        deployments = service["deployments"]
        # Steady once the deployment completed: a task with no load balancer or container health check
        # counts as healthy only 40 s after it is RUNNING, as on AWS.
        if (
            len(deployments) == 1
            and service["runningCount"] == service["desiredCount"]
            and deployments[0].get("rolloutState", "COMPLETED") == "COMPLETED"
        ):
            return service
        return None

    return sandbox.wait_until(steady, f"the service {DEMO_NAME} reaching a steady state", limit=900, step=5)


def format_demo(result: dict[str, Any]) -> str:
    """Render the demo's result as the lines the CLI prints."""
    sb, cl, td, sv = result["sandbox"], result["cluster"], result["task_definition"], result["service"]
    containers = ", ".join(
        f"{c['name']} ({c['image']}, port {'/'.join(map(str, c['ports']))})" for c in td["containers"]
    )
    lines = [
        f"sandbox          {sb['mode']} {sb['session_id']}, account {sb['account_id']}, {sb['region']}, at {sb['endpoint_url']}",
        f"cluster          {cl['name']} ({cl['status']})  {cl['arn']}",
        f"task definition  {td['family']}:{td['revision']}  cpu {td['cpu']}, memory {td['memory']} MiB, {td['network_mode']}",
        f"  containers     {containers}",
        f"service          {sv['name']} ({sv['status']}, {sv['launch_type']})  desired {sv['desired']}, "
        f"running {sv['running']}, pending {sv['pending']}",
        f"  network        subnets {', '.join(sv['subnets'])}; security groups {', '.join(sv['security_groups'])}",
    ]
    for task in result["tasks"]:
        lines.append(
            f"task             {task['id']} {task['status']} at {task['private_ip']} in {task['availability_zone']}"
        )
    lines.extend(f"  event          {message}" for message in sv["events"])
    return "\n".join(lines)
