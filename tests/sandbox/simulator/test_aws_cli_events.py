"""The AWS CLI sets up EventBridge rules against a server sandbox, and they fire on its clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labkit.sandbox.server import start_server
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_put_rule_and_put_targets_with_the_aws_cli_deliver_on_schedule_and_on_events(tmp_path: Path) -> None:
    """`aws events put-rule` (a schedule and a pattern) + `put-targets` to SQS: messages arrive when due."""
    start_server(clock="manual")
    exported = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({k: v for k, v in exported.items() if v is not None})

    def aws(*args: str) -> Any:
        done = subprocess.run(
            # The CLI's SQS commands skip AWS_ENDPOINT_URL (legacy queue.amazonaws.com endpoint): be explicit.
            [sys.executable, "-m", "awscli", *args, "--output", "json", "--endpoint-url", env["AWS_ENDPOINT_URL"]],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def advance(seconds: int) -> None:
        assert run_labkit("sandbox", "advance", str(seconds)).returncode == 0

    def received() -> list[dict[str, Any]]:
        answer = aws("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10")
        for message in answer.get("Messages", []):
            aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", message["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    url = aws("sqs", "create-queue", "--queue-name", "ticks")["QueueUrl"]
    queue_arn = aws("sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "QueueArn")[
        "Attributes"
    ]["QueueArn"]
    aws("events", "put-rule", "--name", "every-minute", "--schedule-expression", "rate(1 minute)")
    aws("events", "put-targets", "--rule", "every-minute", "--targets", f"Id=q,Arn={queue_arn}")
    advance(59)
    assert received() == []
    advance(1)
    [tick] = received()
    assert tick["detail-type"] == "Scheduled Event"
    aws("events", "disable-rule", "--name", "every-minute")

    pattern = tmp_path / "pattern.json"
    pattern.write_text(json.dumps({"source": ["course.app"], "detail": {"level": ["error"]}}))
    aws("events", "put-rule", "--name", "errors", "--event-pattern", f"file://{pattern}")
    targets = tmp_path / "targets.json"
    targets.write_text(
        json.dumps(
            [
                {
                    "Id": "q",
                    "Arn": queue_arn,
                    "InputTransformer": {
                        "InputPathsMap": {"msg": "$.detail.message"},
                        "InputTemplate": '{"alert": <msg>}',
                    },
                }
            ]
        )
    )
    aws("events", "put-targets", "--rule", "errors", "--targets", f"file://{targets}")
    entries = tmp_path / "entries.json"
    entries.write_text(
        json.dumps(
            [
                {
                    "Source": "course.app",
                    "DetailType": "Log",
                    "Detail": json.dumps({"level": level, "message": text}),
                }
                for level, text in (("info", "all good"), ("error", "disk full"))
            ]
        )
    )
    assert aws("events", "put-events", "--entries", f"file://{entries}")["FailedEntryCount"] == 0
    advance(120)
    assert received() == [{"alert": "disk full"}]
