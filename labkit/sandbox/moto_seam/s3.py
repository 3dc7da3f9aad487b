"""moto.s3: EventBridge notifications in AWS's shape, and the notification configuration as AWS shows it.

A bucket with EventBridge notifications enabled sends `Object Created` (PutObject, POST Object,
CopyObject, CompleteMultipartUpload once, not also as a PutObject) and `Object Deleted` events to
the default bus, in AWS's shape; moto's own EventBridge sending is replaced in sandbox accounts.
GetBucketNotificationConfiguration shows the `EventBridgeConfiguration`, as AWS does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook
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
