"""The AWS CLI sets up EventBridge rules against a server sandbox, and they fire on its clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.simulator.conftest import AwsCli

pytestmark = pytest.mark.slow


def test_put_rule_and_put_targets_with_the_aws_cli_deliver_on_schedule_and_on_events(
    tmp_path: Path, aws_cli: AwsCli
) -> None:
    """`aws events put-rule` (a schedule and a pattern) + `put-targets` to SQS: messages arrive when due."""

    def aws(*args: str) -> Any:
        # The CLI's SQS commands skip AWS_ENDPOINT_URL (legacy queue.amazonaws.com endpoint): be explicit.
        return aws_cli(*args, "--endpoint-url", aws_cli.env["AWS_ENDPOINT_URL"])

    advance = aws_cli.advance

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
