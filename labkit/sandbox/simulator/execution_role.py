"""The task execution role decides whether ECS may fetch a container's `secrets` and `environmentFiles`.

Before a container starts, ECS reads each SSM parameter (`ssm:GetParameters`), Secrets Manager
secret (`secretsmanager:GetSecretValue`) and S3 environment file (`s3:GetObject`, and
`s3:GetBucketLocation` on its bucket) with the credentials of the task definition's
`executionRoleArn`, not the task role. A role whose policies do not allow one of them stops the task
with a `ResourceInitializationError`, worded as AWS words it (aws/copilot-cli#4504 quotes the SSM
case). A task definition without an execution role is left to the caller.

`pull_failure` does the same for the image and the log stream, for every container: an image in the
sandbox's own ECR needs `ecr:GetAuthorizationToken`, then `ecr:BatchGetImage` and
`ecr:GetDownloadUrlForLayer` on its repository, then the repository and tag (or digest) must exist; a
container with the `awslogs` driver needs `logs:CreateLogStream` on its stream. The reasons are AWS's
(aws/aws-app-mesh-examples#413, doctorray117/minecraft-ondemand#12, the ECS troubleshooting guide's
"Cannot pull container image errors").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from labkit.dataplane.workloads import WorkloadError

if TYPE_CHECKING:
    from labkit.sandbox.simulator.workloads import WorkloadRunner

__all__ = ["check_execution_role", "needed_permissions", "pull_failure"]


def _parameter_arn(value_from: str, region: str, account: str) -> str:
    if value_from.startswith("arn:"):
        return value_from
    name = value_from if value_from.startswith("/") else f"/{value_from}"
    return f"arn:aws:ssm:{region}:{account}:parameter{name}"


def needed_permissions(container: dict[str, Any], region: str, account: str) -> list[tuple[str, str, str]]:
    """(source, action, resource) for every fetch ECS makes for a container: source is ssm, asm or s3."""
    needed: list[tuple[str, str, str]] = []
    for secret in container.get("secrets") or []:
        value_from = str(secret.get("valueFrom", ""))
        if ":secretsmanager:" in value_from:
            needed.append(("asm", "secretsmanager:GetSecretValue", ":".join(value_from.split(":")[:7])))
        else:
            needed.append(("ssm", "ssm:GetParameters", _parameter_arn(value_from, region, account)))
    for entry in container.get("environmentFiles") or []:
        arn = str(entry.get("value", ""))
        bucket = arn.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        needed.append(("s3", "s3:GetObject", arn))
        needed.append(("s3", "s3:GetBucketLocation", f"arn:aws:s3:::{bucket}"))
    return needed


_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


def _principal(role: str, account: str, task_arn: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role.rsplit('/', 1)[-1]}/{task_arn.rsplit('/', 1)[-1]}"


def _denied(principal: str, action: str, resource: str) -> str:
    return (
        f"AccessDeniedException: User: {principal} is not authorized to perform: {action} on resource: "
        f"{resource} because no identity-based policy allows the {action} action status code: 400"
    )


def _image_found(
    runner: WorkloadRunner, region: str, repository: str, tag: str | None, digest: str | None
) -> bool:
    from labkit.sandbox import moto_seam

    ecr = moto_seam.backend("ecr", runner.sim.account_id, region)
    found = ecr.repositories.get(repository)
    if found is None:
        return False
    for image in found.images:
        if digest is not None and image.image_digest == digest:
            return True
        if digest is None and (tag or "latest") in (image.image_tags or []):
            return True
    return False


def _known_public(image: str) -> bool:
    from labkit.dataplane.images import is_known_public_image
    from labkit.dataplane.workloads import workload_for

    return workload_for(image) is not None or is_known_public_image(image)


def _unknown_public(image: str) -> str:
    """AWS's reason for a public image that does not exist: Docker Hub denies it, other registries miss it."""
    from labkit.dataplane.images import parse_image_name
    from labkit.sandbox.simulator import reasons

    try:
        name = parse_image_name(image)
    except ValueError:
        return reasons.invalid_reference(image)
    if name.registry != "docker.io":
        return reasons.image_not_found(image)
    repository = name.repository if "/" in name.repository else f"library/{name.repository}"
    ref = f"docker.io/{repository}" + (f"@{name.digest}" if name.digest else f":{name.tag or 'latest'}")
    return reasons.unknown_public_image(ref)


def pull_failure(
    runner: WorkloadRunner, definition: Any, container: dict[str, Any], task_arn: str
) -> str | None:
    """The stoppedReason of a task whose container's image or log stream cannot be set up; None when it can.

    When it can, the container's awslogs stream is created (and its group, with `awslogs-create-group`),
    as ECS creates them before the container starts.
    """
    from labkit.dataplane.images import parse_image_name
    from labkit.sandbox.simulator import reasons
    from labkit.sandbox.simulator.workloads import policy_allows

    account = runner.sim.account_id
    role = getattr(definition, "execution_role_arn", None)
    documents = runner.role_documents(str(role)) if role else []
    principal = _principal(str(role), account, task_arn) if role else ""
    image = str(container.get("image", ""))
    try:
        name = parse_image_name(image)
    except ValueError:
        name = None
    host = _ECR_HOST.match(name.registry) if name is not None else None
    if name is not None and host is not None and host.group("account") == account:
        region = host.group("region")
        if role:
            action = "ecr:GetAuthorizationToken"
            if policy_allows(documents, action, "*") is not True:
                return reasons.registry_auth_denied(_denied(principal, action, "*"))
            repository_arn = f"arn:aws:ecr:{region}:{account}:repository/{name.repository}"
            for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
                if policy_allows(documents, action, repository_arn) is not True:
                    return reasons.pull_forbidden(image, name.registry, name.reference)
        if not _image_found(runner, region, name.repository, name.tag, name.digest):
            return reasons.image_not_found(image)
    elif host is None and not _known_public(image):
        return _unknown_public(image)
    return _log_stream_failure(runner, container, task_arn, documents, principal if role else None)


def _log_stream_failure(
    runner: WorkloadRunner,
    container: dict[str, Any],
    task_arn: str,
    documents: list[dict[str, Any]],
    principal: str | None,
) -> str | None:
    """Open an awslogs container's stream as ECS does (its group too with `awslogs-create-group`), or say why not.

    `principal` None: no execution role (an EC2 task: its container instance's role, not modelled,
    is allowed). The stream is registered with the simulator's `ContainerLogs`, which writes the
    container's output to it (dropped when the role may not `logs:PutLogEvents`).
    """
    from labkit.sandbox import moto_seam
    from labkit.sandbox.simulator import reasons
    from labkit.sandbox.simulator.logs import awslogs_stream
    from labkit.sandbox.simulator.workloads import policy_allows

    destination = awslogs_stream(container, task_arn, runner.sim.region)
    if destination is None:
        return None
    account = runner.sim.account_id
    group_arn = destination.group_arn(account)
    logs = moto_seam.backend("logs", account, destination.region)

    def allowed(action: str, resource: str) -> bool:
        return principal is None or policy_allows(documents, action, resource) is True

    if destination.group not in logs.groups:
        if not destination.create_group:
            return reasons.log_group_missing()
        action = "logs:CreateLogGroup"
        # AWS names the group's stream-less ARN (terraform-aws-modules/terraform-aws-ecs#112).
        resource = f"{group_arn}:log-stream:"
        if not allowed(action, resource):
            return reasons.log_group_denied(_denied(str(principal), action, resource))
        logs.create_log_group(destination.group, {})
    stream_arn = destination.stream_arn(account)
    action = "logs:CreateLogStream"
    if not allowed(action, stream_arn):
        return reasons.log_stream_denied(_denied(str(principal), action, stream_arn))
    if destination.stream not in logs.groups[destination.group].streams:
        logs.create_log_stream(destination.group, destination.stream)
    runner.sim.logs.opened(
        task_arn,
        str(container.get("name")),
        destination,
        may_put=allowed("logs:PutLogEvents", stream_arn),
    )
    return None


def check_execution_role(
    runner: WorkloadRunner, definition: Any, container: dict[str, Any], task_arn: str
) -> None:
    """Raise `WorkloadError` with AWS's wording when the execution role may not fetch what the container needs."""
    from labkit.sandbox.simulator.workloads import policy_allows

    role = getattr(definition, "execution_role_arn", None)
    if not role:
        return
    needed = needed_permissions(container, runner.sim.region, runner.sim.account_id)
    if not needed:
        return
    documents = runner.role_documents(str(role))
    principal = _principal(str(role), runner.sim.account_id, task_arn)
    for source, action, resource in needed:
        if policy_allows(documents, action, resource) is True:
            continue
        denied = _denied(principal, action, resource)
        if source == "ssm":
            raise WorkloadError(
                f"execution resource retrieval failed: unable to retrieve secrets from ssm: "
                f"service call has been retried 1 time(s): {denied}"
            )
        if source == "asm":
            raise WorkloadError(
                f"execution resource retrieval failed: unable to retrieve secret from asm: service call has been "
                f"retried 1 time(s): failed to fetch secret {resource} from secrets manager: {denied}"
            )
        raise WorkloadError(
            f"execution resource retrieval failed: unable to retrieve environment file {resource} from s3: {denied}"
        )
