"""What AWS tells you when something fails, worded as AWS words it: one place for every message.

The simulator takes its stop reasons, stop codes, container reasons, service event messages and
target health descriptions from here, so the lab checks and the book can quote the same words.
Each entry names where its wording comes from; "observed" means the words were seen in AWS
answers quoted in public issues (cited), not in AWS's documentation, and "not confirmed" marks
words no source at hand settles exactly.

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
"""

from __future__ import annotations

__all__ = [
    "LOGGER_ARGS",
    "log_group_denied",
    "log_group_missing",
    "log_stream_denied",
]

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
