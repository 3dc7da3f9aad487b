"""SNS in the simulator: the outbox of what e-mail subscriptions would have received.

A sandbox sends no e-mail. Every message that reaches moto's SNS backend for a topic with an
`email` or `email-json` subscription (a `Publish` call, an EventBridge target, an alarm action)
is kept here, per topic and endpoint, with its subject, message and timestamp, so a lab can show
the learner their inbox and a checkpoint can grade it. E-mail subscriptions need no confirmation
in the sandbox (moto confirms every subscription at once).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.sandbox.simulator.core import Simulator

__all__ = ["DEFAULT_EMAIL_SUBJECT", "OutboxMessage", "SnsSimulator"]

#: The subject SNS gives an e-mail when the publisher gave none.
DEFAULT_EMAIL_SUBJECT = "AWS Notification Message"
EMAIL_PROTOCOLS = ("email", "email-json")


@dataclass(frozen=True)
class OutboxMessage:
    """One e-mail an `email`/`email-json` subscription would have received."""

    topic_arn: str
    endpoint: str
    protocol: str
    subscription_arn: str
    message_id: str
    subject: str
    message: str
    timestamp: str

    def to_dict(self) -> dict[str, str]:
        """The message as JSON-ready data (what `/_labkit/outbox` answers)."""
        return {
            "topic_arn": self.topic_arn,
            "endpoint": self.endpoint,
            "protocol": self.protocol,
            "subscription_arn": self.subscription_arn,
            "message_id": self.message_id,
            "subject": self.subject,
            "message": self.message,
            "timestamp": self.timestamp,
        }


@dataclass
class SnsSimulator:
    """Keeps one account's outbox."""

    sim: Simulator
    messages: list[OutboxMessage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(
        self,
        subscription: Any,
        message: str,
        message_id: str,
        subject: str | None,
    ) -> None:
        """Record what an e-mail subscription receives for one published message."""
        timestamp = self.sim.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        body = message
        if subscription.protocol == "email-json":
            # email-json delivers the notification document, as an HTTP endpoint receives it.
            body = json.dumps(
                {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": subscription.topic.arn,
                    **({"Subject": subject} if subject else {}),
                    "Message": message,
                    "Timestamp": timestamp,
                    "UnsubscribeURL": (
                        f"https://sns.{self.sim.region}.amazonaws.com/?Action=Unsubscribe"
                        f"&SubscriptionArn={subscription.arn}"
                    ),
                }
            )
        entry = OutboxMessage(
            topic_arn=subscription.topic.arn,
            endpoint=subscription.endpoint,
            protocol=subscription.protocol,
            subscription_arn=subscription.arn,
            message_id=message_id,
            subject=subject or DEFAULT_EMAIL_SUBJECT,
            message=body,
            timestamp=timestamp,
        )
        with self._lock:
            self.messages.append(entry)

    def outbox(self, topic_arn: str | None = None, endpoint: str | None = None) -> list[OutboxMessage]:
        """The messages sent so far, oldest first, for one topic and/or one endpoint if given."""
        with self._lock:
            return [
                m
                for m in self.messages
                if (topic_arn is None or m.topic_arn == topic_arn)
                and (endpoint is None or m.endpoint == endpoint)
            ]
