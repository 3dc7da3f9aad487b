"""The IAM action a request needs, as AWS names it (not as an emulator routes it).

A task role's policy is evaluated against IAM actions, and an IAM action is not always the API
operation's name: S3's `ListObjectsV2` is authorized as `s3:ListBucket`, `HeadObject` as
`s3:GetObject`, a multipart upload as `s3:PutObject`, and a request naming an object version needs the
`...Version` action. The S3 table below follows the "Permissions" section of each operation's page in
the Amazon S3 API Reference; an operation it does not list is authorized under its own name, as it is
for the other services a lab's workloads call (DynamoDB, SQS, SNS, CloudWatch Logs, SSM, Secrets
Manager). Lambda's `Invoke` is `lambda:InvokeFunction`.

The service is named by the request's SigV4 signing name; where that differs from the IAM prefix
(CloudWatch signs as `monitoring`), the prefix is used.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["iam_action", "iam_prefix"]

# Signing name -> IAM service prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}

# S3 API operation -> IAM action (general purpose buckets).
_S3: dict[str, str] = {
    # Listing
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "ListBuckets": "ListAllMyBuckets",
    # Objects
    "HeadObject": "GetObject",
    "GetObjectAttributes": "GetObjectAttributes",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
    "SelectObjectContent": "GetObject",
    "GetPart": "GetObject",
    # Bucket configuration: the action keeps the older name
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketLifecycle": "GetLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "DeleteBucketTagging": "PutBucketTagging",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "PutBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "DeleteBucketAnalyticsConfiguration": "PutAnalyticsConfiguration",
    "ListBucketAnalyticsConfigurations": "GetAnalyticsConfiguration",
    "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "DeleteBucketInventoryConfiguration": "PutInventoryConfiguration",
    "ListBucketInventoryConfigurations": "GetInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "GetMetricsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "GetIntelligentTieringConfiguration",
    "PutBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
    "ListBucketIntelligentTieringConfigurations": "GetIntelligentTieringConfiguration",
}

# S3 object operations that need the version action when the request names a version (`versionId`).
_S3_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "HeadObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectAcl": "GetObjectVersionAcl",
    "PutObjectAcl": "PutObjectVersionAcl",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
    "GetObjectAttributes": "GetObjectVersionAttributes",
}

_OTHER: dict[str, dict[str, str]] = {"lambda": {"Invoke": "InvokeFunction", "InvokeAsync": "InvokeFunction"}}


def iam_prefix(signing_name: str) -> str:
    """The IAM service prefix for a SigV4 signing name (`monitoring` -> `cloudwatch`)."""
    return _PREFIX.get(signing_name, signing_name)


def iam_action(service: str, operation: str, query: Mapping[str, object] | None = None) -> str:
    """The IAM action (`prefix:Action`) that authorizes `operation` of `service` (a signing name);
    `query` is the request's query string, read for S3's `versionId`."""
    prefix = iam_prefix(service)
    if prefix == "s3":
        if query and query.get("versionId") and operation in _S3_VERSIONED:
            return f"s3:{_S3_VERSIONED[operation]}"
        return f"s3:{_S3.get(operation, operation)}"
    return f"{prefix}:{_OTHER.get(prefix, {}).get(operation, operation)}"
