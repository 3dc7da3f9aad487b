"""Helpers for tests of code that uses labkit, including `aws` mode without any network.

`FakeAws` plugs into a botocore session's `before-send` event: it records every request that
would have left the machine and answers it itself (STS `GetCallerIdentity` with a chosen account,
anything else with an empty success), so a test can assert exactly which calls were made.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders

__all__ = ["READ_ONLY_PREFIXES", "FakeAws", "RecordedRequest", "advance_until", "is_mutating"]

#: Operation-name prefixes of calls that only read.
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Search", "Lookup", "Query", "Scan")


def is_mutating(operation: str) -> bool:
    """Return True when an operation name is not a read-only call."""
    return not operation.startswith(READ_ONLY_PREFIXES)


@dataclass
class RecordedRequest:
    """One request a client tried to send."""

    service: str
    operation: str
    url: str
    body: bytes

    @property
    def params(self) -> dict[str, Any]:
        """The request's parameters: the JSON body, or the query-protocol form fields."""
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class FakeAws:
    """A stand-in for AWS on a botocore session: records requests, answers them, sends nothing."""

    account_id: str = "111122223333"
    requests: list[RecordedRequest] = field(default_factory=list)
    sts_fails: bool = False

    def session(self) -> botocore.session.Session:
        """Return a botocore session with fake credentials whose requests this fake answers."""
        core = botocore.session.Session()
        core.set_credentials("AKIAFAKEFAKEFAKEFAKE", "fake-secret")
        # A before-send handler that returns a response is how botocore lets one answer a request.
        core.register("before-send", self._answer, unique_id="labkit-fake-aws")  # type: ignore[arg-type]
        return core

    @property
    def operations(self) -> list[str]:
        """The operation names of the recorded requests, in order."""
        return [r.operation for r in self.requests]

    @property
    def mutating(self) -> list[RecordedRequest]:
        """The recorded requests that would have changed something."""
        return [r for r in self.requests if is_mutating(r.operation)]

    def _answer(self, **kwargs: Any) -> AWSResponse:
        request = kwargs["request"]
        # event_name is "before-send.<service-id>.<Operation>"
        _, service, operation = str(kwargs["event_name"]).split(".", 2)
        raw_body = request.body or b""
        body = raw_body.encode() if isinstance(raw_body, str) else bytes(raw_body)
        self.requests.append(RecordedRequest(service, operation, request.url, body))
        if service == "sts" and operation == "GetCallerIdentity":
            if self.sts_fails:
                return _response(
                    request.url,
                    403,
                    b"<ErrorResponse><Error><Code>InvalidClientTokenId</Code>"
                    b"<Message>The security token included in the request is invalid.</Message>"
                    b"</Error></ErrorResponse>",
                    "text/xml",
                )
            xml = (
                "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                f"<Arn>arn:aws:iam::{self.account_id}:user/learner</Arn>"
                "<UserId>AIDAFAKE</UserId>"
                f"<Account>{self.account_id}</Account>"
                "</GetCallerIdentityResult></GetCallerIdentityResponse>"
            )
            return _response(request.url, 200, xml.encode(), "text/xml")
        content_type = str(request.headers.get("Content-Type", b""))
        if "x-www-form-urlencoded" in content_type:
            # query and ec2 protocols answer XML
            xml = f"<{operation}Response><{operation}Result/></{operation}Response>"
            return _response(request.url, 200, xml.encode(), "text/xml")
        return _response(request.url, 200, b"{}", "application/x-amz-json-1.1")


def _response(url: str, status: int, body: bytes, content_type: str) -> AWSResponse:
    return AWSResponse(url, status, HTTPHeaders.from_dict({"Content-Type": content_type}), _Raw(body))


def advance_until(
    sandbox: Any, condition: Any, *, step: float = 5.0, limit: float = 3600.0, what: str = "the condition"
) -> float:
    """Advance a manual-clock sandbox by `step` until `condition()` is true; return the seconds it took.

    Raises `TimeoutError` naming `what` when `limit` emulated seconds pass first.
    """
    waited = 0.0
    while not condition():
        if waited >= limit:
            raise TimeoutError(f"{what} did not happen within {limit:g} emulated seconds")
        sandbox.advance(step)
        waited += step
    return waited
