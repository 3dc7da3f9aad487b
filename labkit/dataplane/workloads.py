"""Workloads: what a task's container *does* in the emulator, for images that do work, not serve HTTP.

`images.py` maps images to HTTP stand-ins; this module maps images to Python functions that run as
the container's process once its task is RUNNING. A workload receives a `WorkloadContext`: the
container's environment (task definition `environment`, `environmentFiles` from S3, `secrets` from
SSM Parameter Store and Secrets Manager, then `containerOverrides`), its command, boto3 clients whose
calls are authorised against the task role's IAM policies (no task role: no credentials at all,
as on AWS), and the sandbox clock (`ctx.sleep(seconds)` waits in emulated time; never `time.sleep`).
Returning ends the process with exit code 0 (or the int returned); an exception is exit code 1.
A long-running workload polls `ctx.stopping` (or the result of `ctx.sleep`) and returns when
its task is being stopped.

Register your own with `register_workload("myorg/myimage", fn)`. labkit registers:

| image | does | environment |
| --- | --- | --- |
| `public.ecr.aws/labkit/s3-to-dynamodb` | reads one S3 object, writes an item about it to DynamoDB | `BUCKET`, `KEY`, `TABLE_NAME`, `TABLE_KEY` (default `id`) |
| `public.ecr.aws/labkit/s3-summary` | reads the objects under a prefix, writes a JSON summary object | `BUCKET`, `PREFIX`, `SUMMARY_KEY` (default `summaries/<time>.json`), `SUMMARY_BUCKET` |
| `public.ecr.aws/labkit/sqs-worker` | receives, processes and deletes messages until stopped | `QUEUE_URL`, `WORK_SECONDS` (1), `WAIT_SECONDS` (20), `BATCH_SIZE` (1), `RESULTS_TABLE` |
| `public.ecr.aws/labkit/job` | waits `JOB_SECONDS` (30) and exits with `EXIT_CODE` (0) | `JOB_SECONDS`, `EXIT_CODE` |

The probe workloads (`probes.py`: containers that report what they see) register themselves too;
`labkit.dataplane` imports them, so they are there whenever this module is.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from labkit.dataplane.files import ContainerFiles
from labkit.dataplane.images import parse_image_name

__all__ = [
    "TaskChannel",
    "Workload",
    "WorkloadContext",
    "WorkloadError",
    "available_workloads",
    "job",
    "register_workload",
    "s3_summary",
    "s3_to_dynamodb",
    "sqs_worker",
    "unregister_workload",
    "workload_for",
]


class WorkloadError(Exception):
    """A workload cannot do its work (a missing variable, say); its container exits with code 1."""


class TaskChannel(Protocol):
    """How a workload reaches its sandbox: requests, the clock, the stop signal (the simulator's side)."""

    def client(self, service: str) -> Any:
        """A boto3 client with the task role's credentials (raises NoCredentialsError without a role)."""

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds` of sandbox time; False once the task is being stopped."""

    def now(self) -> dt.datetime:
        """The sandbox's current time."""

    @property
    def stopping(self) -> bool:
        """True once the task has been asked to stop (SIGTERM on a real container)."""


@dataclass
class WorkloadContext:
    """What a workload's process sees: its task, container, environment, clients and clock."""

    task_arn: str
    cluster: str
    container_name: str
    image: str
    environment: Mapping[str, str]
    command: list[str]
    channel: TaskChannel = field(repr=False)
    logs: list[str] = field(default_factory=list)
    #: The container's files: its volumes' mount points over a layer of its own.
    files: ContainerFiles = field(default_factory=ContainerFiles, repr=False)

    @property
    def task_id(self) -> str:
        """The task's id (the last part of its ARN)."""
        return self.task_arn.rsplit("/", 1)[-1]

    def client(self, service: str) -> Any:
        """A boto3 client for `service`, authorised as the task role."""
        return self.channel.client(service)

    def sleep(self, seconds: float) -> bool:
        """Wait on the sandbox clock; returns False once the task is being stopped."""
        return self.channel.sleep(seconds)

    def now(self) -> dt.datetime:
        """The sandbox's current time."""
        return self.channel.now()

    @property
    def stopping(self) -> bool:
        """True once the task has been asked to stop."""
        return self.channel.stopping

    def log(self, message: str) -> None:
        """Write a line to the container's log (kept with the task)."""
        self.logs.append(f"{self.now().isoformat()} {message}")

    def require(self, name: str) -> str:
        """The value of an environment variable; raises `WorkloadError` when it is not set."""
        value = self.environment.get(name)
        if not value:
            raise WorkloadError(f"the environment variable {name} is not set")
        return value


#: A workload: runs in the container, returns its exit code (None means 0).
Workload = Callable[[WorkloadContext], int | None]

_WORKLOADS: dict[str, Workload] = {}
_LOCK = threading.Lock()


def register_workload(pattern: str, workload: Workload) -> None:
    """Register a workload for a repository (`public.ecr.aws/labkit/job`) or a glob of them.

    The pattern names the registry too when it has one (`public.ecr.aws/...`), and no tag.
    Raises `ValueError` for an empty pattern or one with a tag, digest or whitespace.
    """
    if (
        not pattern
        or "@" in pattern
        or ":" in pattern.rsplit("/", 1)[-1]
        or any(c.isspace() for c in pattern)
    ):
        raise ValueError(
            f"a workload pattern is an image name without tag, e.g. 'public.ecr.aws/labkit/job'; got {pattern!r}"
        )
    with _LOCK:
        _WORKLOADS[pattern.lower()] = workload


def unregister_workload(pattern: str) -> None:
    """Remove the workload registered under `pattern`; raises `KeyError` when there is none."""
    with _LOCK:
        del _WORKLOADS[pattern.lower()]


def available_workloads() -> list[str]:
    """The registered image patterns, sorted."""
    with _LOCK:
        return sorted(_WORKLOADS)


def workload_for(image: str) -> Workload | None:
    """The workload of an image (exact name with registry, then without, then a glob), or None."""
    try:
        name = parse_image_name(image)
    except ValueError:
        return None
    candidates = [f"{name.registry}/{name.repository}", name.repository]
    with _LOCK:
        for candidate in candidates:
            if candidate in _WORKLOADS:
                return _WORKLOADS[candidate]
        for pattern in sorted(_WORKLOADS, key=len, reverse=True):
            if any(c in pattern for c in "*?[") and any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
                return _WORKLOADS[pattern]
    return None


# -- labkit's workloads ----------------------------------------------------------------------


def _describe_text(body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", errors="replace")
    return {
        "size": len(body),
        "lines": text.count("\n") + (1 if text and not text.endswith("\n") else 0),
        "words": len(text.split()),
        "sha256": hashlib.sha256(body).hexdigest(),
    }


def s3_to_dynamodb(ctx: WorkloadContext) -> int:
    """Read the object `BUCKET`/`KEY` and put an item describing it into the table `TABLE_NAME`."""
    bucket, key, table = ctx.require("BUCKET"), ctx.require("KEY"), ctx.require("TABLE_NAME")
    key_attribute = ctx.environment.get("TABLE_KEY") or "id"
    body = ctx.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    facts = _describe_text(body)
    item = {
        key_attribute: {"S": f"{bucket}/{key}"},
        "bucket": {"S": bucket},
        "key": {"S": key},
        "size": {"N": str(facts["size"])},
        "lines": {"N": str(facts["lines"])},
        "words": {"N": str(facts["words"])},
        "sha256": {"S": facts["sha256"]},
        "processedAt": {"S": ctx.now().isoformat()},
        "taskId": {"S": ctx.task_id},
    }
    ctx.client("dynamodb").put_item(TableName=table, Item=item)
    ctx.log(f"wrote {bucket}/{key} ({facts['size']} bytes) to {table}")
    return 0


def s3_summary(ctx: WorkloadContext) -> int:
    """Read every object under `BUCKET`/`PREFIX` and write a JSON summary object."""
    bucket = ctx.require("BUCKET")
    prefix = ctx.environment.get("PREFIX", "")
    target_bucket = ctx.environment.get("SUMMARY_BUCKET") or bucket
    stamp = ctx.now().strftime("%Y-%m-%dT%H-%M-%SZ")
    summary_key = ctx.environment.get("SUMMARY_KEY") or f"summaries/{stamp}.json"
    s3 = ctx.client("s3")
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            if entry["Key"] == summary_key:
                continue
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
            objects.append({"key": entry["Key"], **_describe_text(body)})
    summary = {
        "bucket": bucket,
        "prefix": prefix,
        "objects": len(objects),
        "bytes": sum(o["size"] for o in objects),
        "lines": sum(o["lines"] for o in objects),
        "words": sum(o["words"] for o in objects),
        "keys": [o["key"] for o in objects],
        "generatedAt": ctx.now().isoformat(),
        "taskId": ctx.task_id,
    }
    s3.put_object(
        Bucket=target_bucket,
        Key=summary_key,
        Body=json.dumps(summary, indent=2).encode(),
        ContentType="application/json",
    )
    ctx.log(
        f"summarised {len(objects)} objects under s3://{bucket}/{prefix} into s3://{target_bucket}/{summary_key}"
    )
    return 0


def sqs_worker(ctx: WorkloadContext) -> int:
    """Receive messages from `QUEUE_URL`, spend `WORK_SECONDS` on each, delete it; until stopped.

    Receives long-poll for `WAIT_SECONDS` (default 20; the wait is sandbox time, see the task's
    SQS client). With `RESULTS_TABLE`, each processed message is recorded as an item keyed by its
    MessageId.
    """
    queue_url = ctx.require("QUEUE_URL")
    work = float(ctx.environment.get("WORK_SECONDS") or 1)
    wait = max(0, min(20, int(ctx.environment.get("WAIT_SECONDS", "20") or 0)))
    batch = max(1, min(10, int(ctx.environment.get("BATCH_SIZE") or 1)))
    table = ctx.environment.get("RESULTS_TABLE")
    sqs = ctx.client("sqs")
    dynamodb = ctx.client("dynamodb") if table else None
    processed = 0
    while not ctx.stopping:
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=wait)
        messages = answer.get("Messages", [])
        for message in messages:
            if not ctx.sleep(work):
                # Stopped mid-message: it is not deleted and becomes visible again.
                return 0
            if dynamodb is not None:
                dynamodb.put_item(
                    TableName=table,
                    Item={
                        "id": {"S": message["MessageId"]},
                        "body": {"S": message["Body"]},
                        "taskId": {"S": ctx.task_id},
                        "processedAt": {"S": ctx.now().isoformat()},
                    },
                )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            processed += 1
    ctx.log(f"processed {processed} messages")
    return 0


def job(ctx: WorkloadContext) -> int:
    """Wait `JOB_SECONDS` (default 30) of sandbox time, then exit with `EXIT_CODE` (default 0)."""
    seconds = float(ctx.environment.get("JOB_SECONDS") or 30)
    code = int(ctx.environment.get("EXIT_CODE") or 0)
    if seconds > 0 and not ctx.sleep(seconds):
        return 0
    ctx.log(f"job done, exit code {code}")
    return code


register_workload("public.ecr.aws/labkit/s3-to-dynamodb", s3_to_dynamodb)
register_workload("public.ecr.aws/labkit/s3-summary", s3_summary)
register_workload("public.ecr.aws/labkit/sqs-worker", sqs_worker)
register_workload("public.ecr.aws/labkit/job", job)
