"""The IAM action a request is authorized as, by AWS's names."""

from __future__ import annotations

import pytest

from labkit.sandbox.simulator.iam_actions import iam_action, iam_prefix


@pytest.mark.parametrize(
    ("operation", "query", "expected"),
    [
        ("ListObjectsV2", None, "s3:ListBucket"),
        ("ListObjects", None, "s3:ListBucket"),
        ("HeadBucket", None, "s3:ListBucket"),
        ("HeadObject", None, "s3:GetObject"),
        ("GetObject", None, "s3:GetObject"),
        ("GetObject", {"versionId": ["3"]}, "s3:GetObjectVersion"),
        ("DeleteObject", {"versionId": ["3"]}, "s3:DeleteObjectVersion"),
        ("DeleteObjects", None, "s3:DeleteObject"),
        ("CreateMultipartUpload", None, "s3:PutObject"),
        ("CompleteMultipartUpload", None, "s3:PutObject"),
        ("CopyObject", None, "s3:PutObject"),
        ("ListObjectVersions", None, "s3:ListBucketVersions"),
        ("ListBuckets", None, "s3:ListAllMyBuckets"),
        ("PutBucketCors", None, "s3:PutBucketCORS"),
        ("DeleteBucketLifecycle", None, "s3:PutLifecycleConfiguration"),
        ("PutBucketNotificationConfiguration", None, "s3:PutBucketNotification"),
        ("PutObject", None, "s3:PutObject"),
    ],
)
def test_s3_operations_map_to_aws_iam_actions(
    operation: str, query: dict[str, list[str]] | None, expected: str
) -> None:
    """Each S3 operation is authorized as the action its API Reference page names."""
    assert iam_action("s3", operation, query) == expected


def test_other_services_are_authorized_under_the_operation_name() -> None:
    """DynamoDB, SQS and SNS operations are their own IAM actions; Lambda's Invoke is InvokeFunction."""
    assert iam_action("dynamodb", "PutItem") == "dynamodb:PutItem"
    assert iam_action("sqs", "ReceiveMessage") == "sqs:ReceiveMessage"
    assert iam_action("sns", "Publish") == "sns:Publish"
    assert iam_action("lambda", "Invoke") == "lambda:InvokeFunction"


def test_a_signing_name_that_differs_uses_the_iam_prefix() -> None:
    """CloudWatch signs as `monitoring`; its actions are `cloudwatch:...`."""
    assert iam_prefix("monitoring") == "cloudwatch"
    assert iam_action("monitoring", "PutMetricData") == "cloudwatch:PutMetricData"
