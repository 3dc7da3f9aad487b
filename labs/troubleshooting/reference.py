"""Reference steps of the troubleshooting lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
It knows each service's cause from `scenario.assignment`; the notebook's solution finds it from what
AWS shows instead.
"""

from __future__ import annotations

import functools
from typing import Any

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import STABLE_SECONDS
from .scenario import (
    ALB_SG,
    ANSWERS,
    CLUSTER,
    CONTAINER,
    ROUNDS,
    SERVICES,
    assignment,
    break_round,
    build,
    family,
    healthy,
    target_group_name,
    tasks_sg_name,
)

reference = ReferenceSteps("troubleshooting")


def _group_id(sandbox: Sandbox, name: str) -> str:
    found = sandbox.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    return str(found["SecurityGroups"][0]["GroupId"])


def fix(sandbox: Sandbox, service: str, cause: str) -> None:
    """Undo `cause` on `service` as an engineer would, and wait until it is healthy and stable."""
    ecs, elbv2 = sandbox.client("ecs"), sandbox.client("elbv2")
    tg_arn = elbv2.describe_target_groups(Names=[target_group_name(service)])["TargetGroups"][0][
        "TargetGroupArn"
    ]
    if cause in ("unpullable-image", "sidecar-exits"):
        # Back to the last revision that worked.
        ecs.update_service(cluster=CLUSTER, service=service, taskDefinition=f"{family(service)}:1")
    elif cause == "out-of-memory":
        current = ecs.describe_services(cluster=CLUSTER, services=[service])["services"][0]["taskDefinition"]
        definition = ecs.describe_task_definition(taskDefinition=current)["taskDefinition"]
        keep = ("family", "networkMode", "containerDefinitions", "requiresCompatibilities", "cpu", "memory")
        params: dict[str, Any] = {k: definition[k] for k in keep if k in definition}
        for container in params["containerDefinitions"]:
            if container["name"] == CONTAINER:
                container["memory"] = 512
        arn = ecs.register_task_definition(**params)["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster=CLUSTER, service=service, taskDefinition=arn)
    elif cause == "health-check-path":
        elbv2.modify_target_group(TargetGroupArn=tg_arn, HealthCheckPath="/")
    elif cause == "health-check-port":
        elbv2.modify_target_group(TargetGroupArn=tg_arn, HealthCheckPort="traffic-port")
    elif cause == "security-group":
        sandbox.client("ec2").authorize_security_group_ingress(
            GroupId=_group_id(sandbox, tasks_sg_name(service)),
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 80,
                    "ToPort": 80,
                    "UserIdGroupPairs": [{"GroupId": _group_id(sandbox, ALB_SG)}],
                }
            ],
        )
    else:
        raise ValueError(f"the lab injects no {cause}")

    def stable() -> bool:
        if not healthy(sandbox, [service]):
            return False
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service, desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
        now = sandbox.now()
        return any(
            t.get("startedAt") is not None and (now - t["startedAt"]).total_seconds() > STABLE_SECONDS + 5
            for t in tasks
        )

    sandbox.wait_until(stable, f"{service} to be healthy again", limit=1800, step=10)


def name_cause(sandbox: Sandbox, service: str) -> None:
    sandbox.client("ssm").put_parameter(
        Name=ANSWERS + service, Value=assignment(sandbox.account_id)[service], Type="String", Overwrite=True
    )


def _named_step(sandbox: Sandbox, service: str) -> None:
    round_number = next(r for r, services in ROUNDS.items() if service in services)
    build(sandbox)
    break_round(sandbox, round_number)
    name_cause(sandbox, service)


def _fixed_step(sandbox: Sandbox, service: str) -> None:
    fix(sandbox, service, assignment(sandbox.account_id)[service])


for _service in SERVICES:
    reference.step(f"named-{_service}")(functools.partial(_named_step, service=_service))
    reference.step(f"fixed-{_service}")(functools.partial(_fixed_step, service=_service))
