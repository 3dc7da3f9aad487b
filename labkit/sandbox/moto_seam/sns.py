"""moto.sns: what an `email`/`email-json` subscription receives goes to the sandbox's outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook, uses
from labkit.sandbox.simulator.core import simulator_for

__all__: list[str] = []

uses(
    "moto.sns.models.Subscription",
    "_filter_policy_matcher",
    why="the subscription's filter policy",
    instance=True,
)
uses(
    "moto.sns.models.Subscription",
    "_parse_message_structure",
    ("self", "message", "protocol"),
    why="a json message",
)


@hook(
    "moto.sns.models.Subscription",
    "publish",
    ("self", "message", "message_id", "subject", "message_attributes"),
    why="e-mail subscriptions deliver to the sandbox's outbox",
)
def publish(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.sns import EMAIL_PROTOCOLS

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
