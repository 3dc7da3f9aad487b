"""What AWS tells you when something fails, worded as AWS words it: one place for every message.

The simulator takes its stop reasons, stop codes, container reasons, service event messages and
target health descriptions from here, so the lab checks and the book can quote the same words.
Each entry names where its wording comes from; "observed" means the words were seen in AWS
answers quoted in public issues (cited), not in AWS's documentation, and "not confirmed" marks
words no source at hand settles exactly.

Where the sandbox produces each: image and registry reasons before a task runs
(`execution_role.pull_failure`), logger reasons there too, secrets and environment files
(`workloads.task_activating`), an essential container's exit (`ecs.container_exited`), OOM
(`memory.kill_over_limit`), ELB health checks (`ecs._stop_unhealthy`, `elb.unhealthy_event`),
placement (`ecs._start_service_tasks`), steady state (`ecs._update_counts`), target health
(`elb.py`, `labkit.dataplane.health`, whose codes and descriptions these are). Not produced:
`Target.NotInUse` (the sandbox health-checks the targets of a group no load balancer uses, where
AWS shows them `unused`), `Elb.InternalError` only for a labkit fault.

Task stop codes (`stopCode`, botocore's ECS model, `TaskStopCode`): `TaskFailedToStart`,
`EssentialContainerExited`, `UserInitiated`, `ServiceSchedulerInitiated`, `SpotInterruption`,
`TerminationNotice`.

Sources:

- [stopped] AWS, "Amazon ECS stopped task error messages" and the pages it links
  ("CannotPullContainer task errors", "ResourceInitializationError", "OutOfMemoryError",
  "CannotStartContainerError") in the ECS Developer Guide.
- [events] AWS, "Amazon ECS service event messages" (ECS Developer Guide).
- [health] AWS, Elastic Load Balancing API Reference, `TargetHealth` (reason codes); the
  descriptions beside them are what `describe-target-health` answers (observed).
- [logger-missing] aws-samples/ and community reports of the Fargate platform 1.4 message
  "ResourceInitializationError: failed to validate logger args: create stream has been retried 1
  times: failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group
  does not exist. : exit status 1" (observed; older platforms said
  "CannotStartContainerError: Error response from daemon: failed to initialize logging driver:
  ...", e.g. Rayraegah/terraform-aws-hasura#25).
- [logger-denied] terraform-aws-modules/terraform-aws-ecs#112 quotes the CreateLogGroup denial:
  "ResourceInitializationError: failed to validate logger args: create stream has been retried 1
  times: failed to create Cloudwatch log group: AccessDeniedException: User: ... is not authorized
  to perform: logs:CreateLogGroup on resource: arn:aws:logs:...:log-group:NAME:log-stream: because
  no identity-based policy allows the logs:CreateLogGroup action status code: 400, request id: ...
  : exit status 1" (observed). The CreateLogStream denial is worded the same way with "failed to
  create Cloudwatch log stream" (not confirmed word for word). The sandbox leaves out the request id.
- [pull] the ECS troubleshooting guide's "CannotPullContainer task errors" (the "pull image
  manifest has been retried" form of platform 1.4: observed in aws/containers-roadmap and
  aws/aws-app-mesh-examples#413 for the ECR auth case); Docker Hub's "pull access denied,
  repository does not exist or may require authorization" (observed).
- [secrets] aws/copilot-cli#4504 quotes "ResourceInitializationError: unable to pull secrets or
  registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: ..."
  (observed); the Secrets Manager and S3 environment file forms follow it (not confirmed word
  for word).
- [oom] AWS, "Troubleshooting Amazon ECS OutOfMemoryError errors": "OutOfMemoryError: Container
  killed due to memory usage" is the container's reason; exit code 137 (SIGKILL). The task's
  stoppedReason is then "Essential container in task exited" (observed in the console and
  DescribeTasks; the page names the container reason only).
- [placement] AWS, "Amazon ECS service event messages": "(service service-name) was unable to
  place a task because no container instance met all of its requirements. The closest matching
  (container-instance container-instance-id) has insufficient CPU units available. For more
  information, see the Troubleshooting section." (also "insufficient memory available", "is already
  using a port required by your task"); without instances, "... met all of its requirements.
  Reason: No Container Instances were found in your cluster." For other reasons (attribute,
  constraint) the sandbox words the cause as RunTask's `failures` reason (not confirmed).
- [unhealthy] AWS, "Amazon ECS service unhealthy event messages": Fargate "(service service-name)
  (task task-id) (port port-number) is unhealthy in (target-group target-group-name) due to (reason
  failure-reason)"; EC2 adds "(instance instance-id)" after the task. The sandbox names the target
  group by ARN, as the failed-health-check event does, and ends with a period as other events do
  (not confirmed). The reason is the target's health description.
- [elb-stop] the ECS troubleshooting guide ("Checking stopped tasks for errors", "Task failed ELB
  health checks in (target-group ...)") and the service event "(service x) (task y) failed ELB
  health checks in (target-group z)" (observed, e.g. aws/amazon-ecs-agent issues).
- [steady] AWS, "Amazon ECS service event messages": "(service service-name) has reached a steady
  state."
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ESSENTIAL_CONTAINER_EXITED",
    "HEALTH_DESCRIPTIONS",
    "LOGGER_ARGS",
    "OOM_EXIT_CODE",
    "OUT_OF_MEMORY",
    "STOP_CODES",
    "elb_health_checks_failed",
    "image_not_found",
    "log_group_denied",
    "log_group_missing",
    "log_stream_denied",
    "placement_problem",
    "pull_forbidden",
    "registry_auth_denied",
    "response_code_mismatch",
    "secrets_failed",
    "service_failed_elb_health_checks",
    "service_steady",
    "service_target_unhealthy",
    "service_unable_to_place",
    "unknown_public_image",
]

#: `stopCode` values (botocore's ECS model, `TaskStopCode`).
STOP_CODES = (
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
)

#: A task's stoppedReason when an essential container exits (stopCode EssentialContainerExited).
ESSENTIAL_CONTAINER_EXITED = "Essential container in task exited"
#: The container `reason` of a container the kernel killed for exceeding its memory [oom].
OUT_OF_MEMORY = "OutOfMemoryError: Container killed due to memory usage"
#: Its exit code: SIGKILL [oom].
OOM_EXIT_CODE = 137

#: Target health reason code -> the description `describe-target-health` gives with it [health].
#: `Target.ResponseCodeMismatch` names the codes: "Health checks failed with these codes: [404]".
HEALTH_DESCRIPTIONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
}


def response_code_mismatch(code: int) -> str:
    """The description of `Target.ResponseCodeMismatch` [health]."""
    return f"Health checks failed with these codes: [{code}]"


# -- stopped tasks ------------------------------------------------------------------------------

_PULL = "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref"


def image_not_found(image: str) -> str:
    """stoppedReason: the image (or its tag) is not in the registry [pull]."""
    return f"{_PULL} {image}: {image}: not found"


def pull_forbidden(image: str, host: str, reference: str) -> str:
    """stoppedReason: the execution role may not read the ECR repository [pull]."""
    return f"{_PULL} {image}: pulling from host {host} failed with status code [manifests {reference}]: 403 Forbidden"


def unknown_public_image(ref: str) -> str:
    """stoppedReason: a Docker Hub repository that does not exist (Docker Hub denies, it does not say 404) [pull]."""
    return (
        f"{_PULL} {ref}: pull access denied, repository does not exist or may require authorization: "
        "server message: insufficient_scope: authorization failed"
    )


def invalid_reference(image: str) -> str:
    """stoppedReason: a malformed image reference [pull] (not confirmed word for word)."""
    return f"{_PULL} {image}: invalid reference format"


def registry_auth_denied(denied: str) -> str:
    """stoppedReason: the execution role may not `ecr:GetAuthorizationToken` (aws/aws-app-mesh-examples#413)."""
    return (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        f"retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): {denied}"
    )


def secrets_failed(detail: str) -> str:
    """stoppedReason: a secret or environment file could not be fetched [secrets]; `detail` says which and why."""
    return f"ResourceInitializationError: unable to pull secrets or registry auth: {detail}"


def elb_health_checks_failed(target_group_arn: str) -> str:
    """stoppedReason of a service task its scheduler replaced for failing ELB health checks [elb-stop]."""
    return f"Task failed ELB health checks in (target-group {target_group_arn})"


# -- service events -----------------------------------------------------------------------------


def service_steady(service: str) -> str:
    """The event of a service whose deployment is done and tasks healthy [steady]."""
    return f"(service {service}) has reached a steady state."


def service_failed_elb_health_checks(service: str, task_id: str, target_group_arn: str) -> str:
    """The event of a task the scheduler stops for failing ELB health checks [elb-stop]."""
    return (
        f"(service {service}) (task {task_id}) failed ELB health checks in (target-group {target_group_arn})"
    )


def service_target_unhealthy(
    service: str, task_id: str, port: int, target_group_arn: str, reason: str, instance: str | None = None
) -> str:
    """The event of a task whose target ELB reports unhealthy [unhealthy]; `instance` for EC2."""
    where = f"(task {task_id})" + (f" (instance {instance})" if instance else "")
    return (
        f"(service {service}) {where} (port {port}) is unhealthy in (target-group {target_group_arn}) "
        f"due to (reason {reason})."
    )


def service_unable_to_place(service: str, problem: str) -> str:
    """The event of a service that cannot place a task; `problem` from `placement_problem` [placement]."""
    return f"(service {service}) was unable to place a task because {problem}"


_INSUFFICIENT = {
    "RESOURCE:CPU": "has insufficient CPU units available.",
    "RESOURCE:MEMORY": "has insufficient memory available.",
    "RESOURCE:PORTS": "is already using a port required by your task.",
}
_NO_INSTANCES = "No Container Instances were found in your cluster."


def placement_problem(failures: list[dict[str, Any]]) -> str | None:
    """Why a task could not be placed, as the service event words it (None: nothing failed) [placement]."""
    if not failures:
        return None
    failure = failures[0]
    reason = str(failure["reason"])
    what = _INSUFFICIENT.get(reason)
    if what and failure.get("arn"):
        instance = str(failure["arn"]).split("/")[-1]
        return (
            "no container instance met all of its requirements. The closest matching "
            f"(container-instance {instance}) {what} For more information, see the Troubleshooting section."
        )
    if reason == _NO_INSTANCES:
        return f"no container instance met all of its requirements. Reason: {_NO_INSTANCES}"
    if not failure.get("detail"):
        return f"no container instance met all of its requirements: {reason.rstrip('.')}."
    return f"no container instance met all of its requirements ({reason}: {failure['detail']})."


#: The prefix of a task stopped because its awslogs stream could not be opened [logger-missing].
LOGGER_ARGS = (
    "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
)


def log_group_missing() -> str:
    """stoppedReason: the awslogs group does not exist and `awslogs-create-group` is not "true" [logger-missing]."""
    return (
        f"{LOGGER_ARGS}failed to create Cloudwatch log stream: ResourceNotFoundException: "
        "The specified log group does not exist. : exit status 1"
    )


def log_group_denied(denied: str) -> str:
    """stoppedReason: the execution role may not `logs:CreateLogGroup` [logger-denied]; `denied` is the AccessDeniedException."""
    return f"{LOGGER_ARGS}failed to create Cloudwatch log group: {denied} : exit status 1"


def log_stream_denied(denied: str) -> str:
    """stoppedReason: the execution role may not `logs:CreateLogStream` [logger-denied] (not confirmed word for word)."""
    return f"{LOGGER_ARGS}failed to create Cloudwatch log stream: {denied} : exit status 1"
