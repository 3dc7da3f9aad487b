"""Health checks like an Application Load Balancer target group's: one HTTP GET, judged by a matcher.

The result carries the ELBv2 `TargetHealth` reason code and description a learner would see in
`describe-target-health`: `Target.ResponseCodeMismatch` ("Health checks failed with these codes:
[404]"), `Target.Timeout` ("Request timed out") or `Target.FailedHealthChecks` ("Health checks
failed", when the target refuses the connection or answers something that is not HTTP).
"""

from __future__ import annotations

import http.client
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from labkit.errors import EndpointRefusedError
from labkit.sandbox.guards import is_loopback_url

__all__ = [
    "FAILED_HEALTH_CHECKS",
    "RESPONSE_CODE_MISMATCH",
    "TIMEOUT",
    "HealthResult",
    "check_target",
    "parse_matcher",
]

#: ELBv2 reason code: the health check answered a status code the matcher does not accept.
RESPONSE_CODE_MISMATCH = "Target.ResponseCodeMismatch"
#: ELBv2 reason code: the health check request timed out.
TIMEOUT = "Target.Timeout"
#: ELBv2 reason code: the connection failed or the response was malformed.
FAILED_HEALTH_CHECKS = "Target.FailedHealthChecks"

#: The `User-Agent` an ALB's health checks send.
HEALTH_CHECKER_USER_AGENT = "ELB-HealthChecker/2.0"

# An ALB accepts HTTP codes from 200 to 499 in `Matcher.HttpCode`.
_LOWEST_CODE = 200
_HIGHEST_CODE = 499
_CODE = re.compile(r"\d{3}")


@dataclass(frozen=True)
class HealthResult:
    """The outcome of one health check, in the terms of ELBv2's `TargetHealth`.

    A healthy target has no reason code and an empty description, as on AWS.
    """

    healthy: bool
    reason_code: str | None
    description: str

    @property
    def state(self) -> str:
        """`healthy` or `unhealthy`, as `TargetHealth.State` says it."""
        return "healthy" if self.healthy else "unhealthy"


def parse_matcher(text: str) -> Callable[[int], bool]:
    """Turn an ELBv2 `Matcher.HttpCode` ("200", "200,302", "200-299") into a test of a status code.

    Raises `ValueError` for anything else, or for codes outside 200-499 as an ALB does.
    """
    ranges: list[tuple[int, int]] = []
    for raw in text.split(","):
        part = raw.strip()
        low_text, dash, high_text = part.partition("-")
        low_text, high_text = low_text.strip(), high_text.strip()
        if not _CODE.fullmatch(low_text) or (dash and not _CODE.fullmatch(high_text)):
            raise ValueError(
                f"invalid health check matcher {text!r}: use a code (200), a list (200,302) or a range (200-299)"
            )
        low = int(low_text)
        high = int(high_text) if dash else low
        if low > high:
            raise ValueError(f"invalid health check matcher {text!r}: range {part} runs backwards")
        if low < _LOWEST_CODE or high > _HIGHEST_CODE:
            raise ValueError(
                f"invalid health check matcher {text!r}: an ALB accepts codes from {_LOWEST_CODE} to {_HIGHEST_CODE}"
            )
        ranges.append((low, high))

    def matches(status: int) -> bool:
        return any(low <= status <= high for low, high in ranges)

    return matches


def check_target(url: str, path: str = "/", matcher: str = "200", timeout: float = 2.0) -> HealthResult:
    """Send one health check GET to `path` on the target at `url` (loopback only) and judge it.

    Raises `EndpointRefusedError` when `url` is not a loopback URL, `ValueError` for a bad matcher
    or a path that does not start with `/`.
    """
    if not is_loopback_url(url):
        raise EndpointRefusedError(url)
    accepts = parse_matcher(matcher)
    if not path.startswith("/"):
        raise ValueError(f"a health check path starts with '/': {path!r}")
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(
            "GET",
            path,
            headers={"User-Agent": HEALTH_CHECKER_USER_AGENT, "Connection": "close", "Accept": "*/*"},
        )
        response = connection.getresponse()
        response.read()
        status = response.status
    except TimeoutError:
        return HealthResult(False, TIMEOUT, "Request timed out")
    except (OSError, http.client.HTTPException):
        return HealthResult(False, FAILED_HEALTH_CHECKS, "Health checks failed")
    finally:
        connection.close()
    if accepts(status):
        return HealthResult(True, None, "")
    return HealthResult(False, RESPONSE_CODE_MISMATCH, f"Health checks failed with these codes: [{status}]")
