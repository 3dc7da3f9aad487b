"""moto.s3: EventBridge notifications in AWS's shape, and the notification configuration as AWS shows it.

A bucket with EventBridge notifications enabled sends `Object Created` (PutObject, POST Object,
CopyObject, CompleteMultipartUpload once, not also as a PutObject) and `Object Deleted` events to
the default bus, in AWS's shape; moto's own EventBridge sending is replaced in sandbox accounts.
GetBucketNotificationConfiguration shows the `EventBridgeConfiguration`, as AWS does.

Bucket names are global, as in AWS: moto keeps one name table for every account and, when a bucket
is not the caller's, follows the name into the owner's account. Between sandboxes' accounts (see
`labkit.sandbox.walls`) that lookup is a wall: a bucket of another sandbox is `AccessDenied`, as AWS
answers without a bucket policy, and CreateBucket of its name is `BucketAlreadyExists` (409).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from labkit.sandbox import walls
from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for

__all__: list[str] = []

# Per bucket ARN, the last sequencer number handed out.
_sequencers: dict[str, int] = {}

_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete": "DeleteObject",
    "s3:ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
}


@hook(
    "moto.s3.notifications",
    "_send_event_bridge_message",
    ("account_id", "bucket", "event_name", "key"),
    why="S3 sends Object Created/Deleted events in AWS's shape, through the simulator",
)
def send(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        sim = simulator_for(account_id)
        if sim is None or bucket.region_name != sim.region:
            original(account_id, bucket, event_name, key)
            return
        name = str(getattr(event_name, "value", event_name))
        reason = _REASONS.get(name)
        if reason is None:
            # labkit sends Object Created and Object Deleted; moto's other kinds are not sent.
            return
        if name == "s3:ObjectCreated:Put" and getattr(key, "multipart", None) is not None:
            # CompleteMultipartUpload stores the object with put_object first: one event, not two.
            return
        counter = _sequencers.get(bucket.arn, 0) + 1
        _sequencers[bucket.arn] = counter
        obj: dict[str, Any] = {"key": key.name}
        created = name.startswith("s3:ObjectCreated")
        if created:
            obj["size"] = int(key.size)
            obj["etag"] = str(key.etag).replace('"', "")
        if bucket.is_versioned and getattr(key, "version_id", None) not in (None, "null"):
            obj["version-id"] = key.version_id
        obj["sequencer"] = f"{sim.random.getrandbits(32):08X}{counter:08X}"
        detail: dict[str, Any] = {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRSTVWXYZ") for _ in range(16)),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": reason,
        }
        if not created:
            detail["deletion-type"] = (
                "Delete Marker Created" if name.endswith("DeleteMarkerCreated") else "Permanently Deleted"
            )
        sim.events.emit(
            "aws.s3",
            "Object Created" if created else "Object Deleted",
            detail,
            [f"arn:aws:s3:::{bucket.name}"],
        )

    return handler


@hook(
    "moto.s3.responses.S3Response",
    "get_bucket_notification",
    ("self",),
    why="GetBucketNotificationConfiguration shows the EventBridgeConfiguration, as AWS does",
)
def get_notification(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any) -> Any:
        # moto stores EventBridgeConfiguration but leaves it out of the answer; AWS includes it.
        status, headers, body = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if status != 200 or getattr(config, "event_bridge", None) is None or not isinstance(body, str):
            return status, headers, body
        element = "<EventBridgeConfiguration></EventBridgeConfiguration>"
        if body.rstrip().endswith("/>"):
            opened = body.rstrip()[:-2]
            return status, headers, f"{opened}>{element}</NotificationConfiguration>"
        return (
            status,
            headers,
            body.replace("</NotificationConfiguration>", f"{element}</NotificationConfiguration>"),
        )

    return handler


uses("moto.s3.models", "s3_backends", why="moto's global table of bucket names and their accounts")


@hook(
    "moto.s3.models.S3Backend",
    "get_bucket",
    ("self", "bucket_name"),
    why="a bucket of another sandbox's account is AccessDenied (moto follows the name there)",
)
def get_bucket(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.s3.models import s3_backends

    from labkit.sandbox.moto_seam.core import access_denied

    def handler(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        if bucket_name not in self.buckets:
            owner = s3_backends.bucket_accounts.get(bucket_name)
            if owner is not None and walls.is_walled(self.account_id, owner[1]):
                raise access_denied("s3", "Access Denied")
        return original(self, bucket_name, *args, **kwargs)

    return handler


_TAKEN = (
    "The requested bucket name is not available. The bucket namespace is shared by all users of the "
    "system. Please select a different name and try again."
)


@hook(
    "moto.s3.models.S3Backend",
    "create_bucket",
    ("self", "bucket_name", "region_name"),
    why="CreateBucket of a name another sandbox's account holds is BucketAlreadyExists",
)
def create_bucket(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import s3_backends

    def handler(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
        owner = s3_backends.bucket_accounts.get(bucket_name)
        if owner is not None and walls.is_walled(self.account_id, owner[1]):
            # Not moto's BucketAlreadyExists: moto's handler catches that and looks the bucket up
            # (to tell its owner apart), which the wall refuses.
            raise S3ClientError("BucketAlreadyExists", _TAKEN)
        return original(self, bucket_name, *args, **kwargs)

    return handler
