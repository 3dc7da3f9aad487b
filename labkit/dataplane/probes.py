"""Probe workloads: containers that report what they see, where a check (or a learner) can read it.

A check runs outside the task, so what a container received (its environment, the files of its
volumes, what its task role may do) has to be written somewhere the sandbox keeps: these
workloads write it to S3 or DynamoDB with the task role's credentials, then keep running until
their task stops (like a server). Values of environment variables are never written, only their
SHA-256 and length: a secret stays secret, and a check compares hashes.

| image | does | environment |
| --- | --- | --- |
| `public.ecr.aws/labkit/env-report` | writes `{"variables": {NAME: {"sha256", "length"}}}` to S3 | `REPORT_BUCKET`, `REPORT_KEY` (default `reports/<task-id>/<container>.json`) |
| `public.ecr.aws/labkit/file-writer` | writes `<WRITE_DIR>/<task-id>.txt` (`MESSAGE` and the task id) | `WRITE_DIR`, `MESSAGE` |
| `public.ecr.aws/labkit/dir-report` | every `INTERVAL` s looks at the files of `WATCH_DIR`, writes them to S3 when they changed | `WATCH_DIR`, `REPORT_BUCKET`, `REPORT_KEY`, `INTERVAL` (10) |
| `public.ecr.aws/labkit/access-probe` | writes to `RESULTS_TO`, tries each of `ALSO_TRY`, records each answer in `RESULTS_TO` | `RESULTS_TO`, `ALSO_TRY` (comma-separated) |

A target is `s3://BUCKET/PREFIX` (an object `PREFIX<task-id>.json`) or `dynamodb://TABLE` (an item
whose key `id` is the task id).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from labkit.dataplane.workloads import WorkloadContext, WorkloadError, register_workload

__all__ = ["access_probe", "dir_report", "env_report", "file_writer", "parse_target"]

#: Sandbox seconds between two looks of an idle probe at its stop signal.
IDLE_SECONDS = 60.0


def _idle(ctx: WorkloadContext) -> int:
    """Keep running (as a server would) until the task is stopped."""
    while ctx.sleep(IDLE_SECONDS):
        pass
    return 0


def _report_key(ctx: WorkloadContext) -> str:
    return ctx.environment.get("REPORT_KEY") or f"reports/{ctx.task_id}/{ctx.container_name}.json"


def _put_json(ctx: WorkloadContext, bucket: str, key: str, document: dict[str, Any]) -> None:
    ctx.client("s3").put_object(
        Bucket=bucket, Key=key, Body=json.dumps(document, indent=2).encode(), ContentType="application/json"
    )


def env_report(ctx: WorkloadContext) -> int:
    """Write the names of the container's environment variables with each value's SHA-256 and length."""
    bucket = ctx.require("REPORT_BUCKET")
    variables = {
        name: {"sha256": hashlib.sha256(value.encode()).hexdigest(), "length": len(value)}
        for name, value in sorted(ctx.environment.items())
    }
    key = _report_key(ctx)
    _put_json(
        ctx,
        bucket,
        key,
        {
            "taskId": ctx.task_id,
            "container": ctx.container_name,
            "variables": variables,
            "at": ctx.now().isoformat(),
        },
    )
    ctx.log(f"reported {len(variables)} variables to s3://{bucket}/{key}")
    return _idle(ctx)


def file_writer(ctx: WorkloadContext) -> int:
    """Write `<WRITE_DIR>/<task-id>.txt`: the `MESSAGE` line, then the task and container."""
    folder = ctx.require("WRITE_DIR").rstrip("/") or "/"
    message = ctx.environment.get("MESSAGE") or "hello from the app container"
    path = f"{folder}/{ctx.task_id}.txt"
    try:
        ctx.files.write_text(
            path, f"{message}\nwritten by task {ctx.task_id}, container {ctx.container_name}\n"
        )
    except (OSError, ValueError) as exc:
        raise WorkloadError(f"cannot write {path}: {exc}") from None
    ctx.log(f"wrote {path}")
    return _idle(ctx)


def dir_report(ctx: WorkloadContext) -> int:
    """Every `INTERVAL` seconds look at the files of `WATCH_DIR`; write them to S3 when they changed."""
    folder = ctx.require("WATCH_DIR")
    bucket = ctx.require("REPORT_BUCKET")
    interval = float(ctx.environment.get("INTERVAL") or 10)
    key = _report_key(ctx)
    reported: dict[str, str] | None = None
    while True:
        files = {}
        try:
            names = ctx.files.listdir(folder)
        except ValueError as exc:
            raise WorkloadError(f"cannot list {folder}: {exc}") from None
        for name in names:
            path = f"{folder.rstrip('/')}/{name}"
            if ctx.files.exists(path):
                files[name] = ctx.files.read_text(path)[:4096]
        if files != reported:
            document = {
                "taskId": ctx.task_id,
                "container": ctx.container_name,
                "folder": folder,
                "files": files,
                "at": ctx.now().isoformat(),
            }
            _put_json(ctx, bucket, key, document)
            reported = files
        if not ctx.sleep(interval):
            return 0


def parse_target(target: str) -> tuple[str, str, str]:
    """Split `s3://BUCKET/PREFIX` or `dynamodb://TABLE` into (service, name, prefix); raises `WorkloadError`."""
    scheme, _, rest = target.strip().partition("://")
    if scheme not in ("s3", "dynamodb") or not rest:
        raise WorkloadError(f"a target is s3://BUCKET/PREFIX or dynamodb://TABLE; got {target!r}")
    name, _, prefix = rest.partition("/")
    return scheme, name, prefix


def _write(ctx: WorkloadContext, target: str, document: dict[str, Any]) -> None:
    service, name, prefix = parse_target(target)
    if service == "s3":
        _put_json(ctx, name, f"{prefix}{ctx.task_id}.json", document)
    else:
        ctx.client("dynamodb").put_item(
            TableName=name,
            Item={
                "id": {"S": ctx.task_id},
                "container": {"S": ctx.container_name},
                "results": {"S": json.dumps(document["results"])},
                "at": {"S": str(document["at"])},
            },
        )


def _attempt(ctx: WorkloadContext, target: str, document: dict[str, Any]) -> str:
    """Write to `target`; "ok", or the error code AWS answered (AccessDenied, say)."""
    from botocore.exceptions import ClientError, NoCredentialsError

    try:
        _write(ctx, target, document)
    except ClientError as exc:
        return str(exc.response.get("Error", {}).get("Code") or "Error")
    except NoCredentialsError:
        return "NoCredentials"
    return "ok"


def access_probe(ctx: WorkloadContext) -> int:
    """Write to `RESULTS_TO` (the task's own job), try each target of `ALSO_TRY`, record every answer there."""
    own = ctx.require("RESULTS_TO")
    others = [t.strip() for t in (ctx.environment.get("ALSO_TRY") or "").split(",") if t.strip()]
    for target in [own, *others]:
        parse_target(target)
    document: dict[str, Any] = {"taskId": ctx.task_id, "results": {}, "at": ctx.now().isoformat()}
    for target in others:
        document["results"][target] = _attempt(ctx, target, {**document, "probe": True})
        ctx.log(f"{target}: {document['results'][target]}")
    document["results"][own] = "ok"
    outcome = _attempt(ctx, own, document)
    ctx.log(f"{own}: {outcome}")
    if outcome != "ok":
        raise WorkloadError(f"cannot write the results to {own}: {outcome}")
    return _idle(ctx)


register_workload("public.ecr.aws/labkit/env-report", env_report)
register_workload("public.ecr.aws/labkit/file-writer", file_writer)
register_workload("public.ecr.aws/labkit/dir-report", dir_report)
register_workload("public.ecr.aws/labkit/access-probe", access_probe)
