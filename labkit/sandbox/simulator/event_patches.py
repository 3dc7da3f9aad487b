"""Where the event simulator meets moto: EventBridge, SNS, S3 notifications and IAM, wrapped.

As in `patches.py`, each wrapper looks up the simulator of the account being served and leaves
moto's own behaviour to any account without one.

- EventBridge: `PutEvents` routes through the simulator (disabled rules stay quiet, SNS and ECS
  targets work, a failed delivery fails nothing); `PutRule`, `EnableRule`, `DisableRule` and
  `DeleteRule` arm and disarm schedules; a schedule expression AWS would refuse is refused.
- SNS: what an `email`/`email-json` subscription receives goes to the sandbox's outbox.
- S3: a bucket with EventBridge notifications enabled sends `Object Created` (PutObject, POST
  Object, CopyObject, CompleteMultipartUpload once, not also as a PutObject) and `Object Deleted`
  events to the default bus, in AWS's shape; moto's own EventBridge sending is replaced.
  GetBucketNotificationConfiguration shows the `EventBridgeConfiguration`, as AWS does.
- IAM: requests signed with a task's credentials are authorised against its task role.
- SQS: a message sent to a queue wakes the workloads long-polling it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
from collections.abc import Callable
from typing import Any

from labkit.sandbox.simulator.core import simulator_for

__all__ = ["install"]


def _wrap(owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(owner, name)
    wrapper = make(original)
    functools.update_wrapper(wrapper, original)
    wrapper.__labkit_original__ = original  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


def install() -> None:
    """Wrap moto's EventBridge, SNS, S3-notification and authorisation code (called once by patches)."""
    _install_events()
    _install_sns()
    _install_s3()
    _install_iam()
    _install_sqs()


# -- EventBridge ----------------------------------------------------------------------------


def _bus_name(event_bus_arn: str | None) -> str:
    return "default" if not event_bus_arn else str(event_bus_arn).split("/")[-1]


def _event_time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except (TypeError, ValueError):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _sandbox(backend: Any) -> Any:
    """The simulator of a backend's account when the backend is in the sandbox's region."""
    sim = simulator_for(backend.account_id)
    # The simulator runs its own region; another region keeps moto's behaviour.
    return sim if sim is not None and backend.region_name == sim.region else None


def _install_events() -> None:
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    from labkit.sandbox.simulator.events import parse_schedule

    def put_rule(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            sim = _sandbox(self)
            expression = kwargs.get("scheduled_expression")
            if sim is not None and expression:
                try:
                    parse_schedule(str(expression))
                except ValueError as exc:
                    raise ValidationException(str(exc)) from None
            rule = original(self, name, *args, **kwargs)
            if sim is not None:
                sim.events.rule_changed(rule.event_bus_name, rule.name)
            return rule

        return handler

    def rule_state(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, name: str, event_bus_arn: str | None) -> Any:
            result = original(self, name, event_bus_arn)
            sim = _sandbox(self)
            if sim is not None:
                sim.events.rule_changed(_bus_name(event_bus_arn), name)
            return result

        return handler

    def put_events(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
            sim = _sandbox(self)
            if sim is None:
                result: list[dict[str, Any]] = original(self, events)
                return result
            if len(events) > 10:
                raise ValidationException(
                    "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to "
                    "satisfy constraint: Member must have length less than or equal to 10"
                )
            entries: list[dict[str, Any]] = []
            for event in events:
                for field, label in (
                    ("Source", "Source"),
                    ("DetailType", "DetailType"),
                    ("Detail", "Detail"),
                ):
                    if not event.get(field):
                        entries.append(
                            {
                                "ErrorCode": "InvalidArgument",
                                "ErrorMessage": f"Parameter {label} is not valid. Reason: {label} is a required argument.",
                            }
                        )
                        break
                else:
                    try:
                        detail = json.loads(event["Detail"])
                    except ValueError:
                        detail = None
                    if not isinstance(detail, dict):
                        entries.append(
                            {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
                        )
                        continue
                    bus = _bus_name(event.get("EventBusName"))
                    self.describe_event_bus(bus)  # ResourceNotFoundException for an unknown bus
                    emitted = sim.events.emit(
                        str(event["Source"]),
                        str(event["DetailType"]),
                        detail,
                        list(event.get("Resources") or []),
                        bus=bus,
                        time=_event_time(event.get("Time")),
                    )
                    entries.append({"EventId": emitted["id"]})
            return entries

        return handler

    _wrap(EventsBackend, "put_rule", put_rule)
    _wrap(EventsBackend, "enable_rule", rule_state)
    _wrap(EventsBackend, "disable_rule", rule_state)
    _wrap(EventsBackend, "delete_rule", rule_state)
    _wrap(EventsBackend, "put_events", put_events)


# -- SNS ------------------------------------------------------------------------------------


def _install_sns() -> None:
    from moto.sns.models import Subscription

    from labkit.sandbox.simulator.sns import EMAIL_PROTOCOLS

    def publish(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, message: str, message_id: str, *args: Any, **kwargs: Any) -> Any:
            sim = simulator_for(self.account_id)
            if sim is None or self.protocol not in EMAIL_PROTOCOLS:
                return original(self, message, message_id, *args, **kwargs)
            subject = kwargs.get("subject", args[0] if args else None)
            attributes = kwargs.get("message_attributes")
            structure = kwargs.get("message_structure")
            # What moto does for every protocol before delivering: the filter policy, then the
            # per-protocol message of a `json` structure.
            if self._filter_policy_matcher is not None and not self._filter_policy_matcher.matches(
                attributes, message
            ):
                return None
            if structure == "json":
                message = self._parse_message_structure(message, self.protocol)
            sim.sns.delivered(self, message, message_id, subject)
            return None

        return handler

    _wrap(Subscription, "publish", publish)


# -- S3 -------------------------------------------------------------------------------------

_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "POST Object",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
    "s3:ObjectRemoved:Delete": "DeleteObject",
    "s3:ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
}


def _install_s3() -> None:
    import moto.s3.notifications as notifications

    sequencers: dict[str, int] = {}

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
            counter = sequencers.get(bucket.arn, 0) + 1
            sequencers[bucket.arn] = counter
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

    _wrap(notifications, "_send_event_bridge_message", send)

    import moto.s3.responses as responses

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

    _wrap(responses.S3Response, "get_bucket_notification", get_notification)


# -- IAM ------------------------------------------------------------------------------------


def _install_iam() -> None:
    from moto.core.authorization import ActionAuthenticatorMixin

    def authorize(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, iam_request_cls: type, resource: str = "*") -> None:
            sim = simulator_for(getattr(self, "current_account", ""))
            credentials = sim.workloads.credentials_for(self.headers) if sim is not None else None
            if sim is None or credentials is None:
                original(self, iam_request_cls, resource)
                return
            auth = str(self.headers.get("Authorization", ""))
            service = auth.split("Credential=", 1)[1].split("/")[3]
            action = self._get_action()
            sim.workloads.authorize(self, credentials, service, str(action))

        return handler

    _wrap(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", authorize)


# -- SQS ------------------------------------------------------------------------------------


def _install_sqs() -> None:
    from moto.sqs.models import SQSBackend

    def send_message(original: Callable[..., Any]) -> Callable[..., Any]:
        def handler(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
            message = original(self, queue_name, *args, **kwargs)
            sim = _sandbox(self)
            if sim is not None:
                # A workload long-polling this queue receives it now, not when its wait ends.
                sim.workloads.message_sent(str(queue_name).rstrip("/").rsplit("/", 1)[-1])
            return message

        return handler

    _wrap(SQSBackend, "send_message", send_message)
