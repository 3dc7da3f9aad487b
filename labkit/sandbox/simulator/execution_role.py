"""The task execution role decides whether ECS may fetch a container's `secrets` and `environmentFiles`.

Before a container starts, ECS reads each SSM parameter (`ssm:GetParameters`), Secrets Manager
secret (`secretsmanager:GetSecretValue`) and S3 environment file (`s3:GetObject`, and
`s3:GetBucketLocation` on its bucket) with the credentials of the task definition's
`executionRoleArn`, not the task role. A role whose policies do not allow one of them stops the task
with a `ResourceInitializationError`, worded as AWS words it (aws/copilot-cli#4504 quotes the SSM
case). A task definition without an execution role is left to the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.dataplane.workloads import WorkloadError

if TYPE_CHECKING:
    from labkit.sandbox.simulator.workloads import WorkloadRunner

__all__ = ["check_execution_role", "needed_permissions"]


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
    principal = f"arn:aws:sts::{runner.sim.account_id}:assumed-role/{str(role).rsplit('/', 1)[-1]}/{task_arn.rsplit('/', 1)[-1]}"
    for source, action, resource in needed:
        if policy_allows(documents, action, resource) is True:
            continue
        denied = (
            f"AccessDeniedException: User: {principal} is not authorized to perform: {action} on resource: "
            f"{resource} because no identity-based policy allows the {action} action status code: 400"
        )
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
