"""The emulator wrapper: crashes become AWS-style errors every SDK protocol can parse.

An action the emulator lacks is a 501 `NotImplemented` (a limit of the sandbox); any other crash is
a 500 server error that says it is a labkit fault, never "a limit of the sandbox's emulator".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.base import EmulatedSandbox
from labkit.sandbox.clock import SandboxClock
from labkit.sandbox.emulator import Emulator
from labkit.sandbox.serving import LoopbackServer


def _raising_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    raise KeyError("memory")


def _not_implemented_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    raise NotImplementedError("The frobnicate action has not been implemented")


def _html_500_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "text/html; charset=utf-8")])
    return [b"<!doctype html><title>500 Internal Server Error</title><p>Traceback ...</p>"]


class _Sandbox(EmulatedSandbox):
    """A sandbox around an emulator with a stand-in for moto."""

    mode = "embedded"

    def __init__(self, inner: Callable[..., Iterable[bytes]]) -> None:
        self.emulator = Emulator(
            account_id="210987654321",
            region="us-east-1",
            clock=SandboxClock("manual"),
            session_id="lk-test",
            token="token",
            inner=inner,
            simulate=False,
        )
        self._server = LoopbackServer(self.emulator)
        super().__init__(
            endpoint_url=self._server.url,
            region="us-east-1",
            account_id="210987654321",
            session_id="lk-test",
            lab=None,
        )

    def now(self) -> Any:
        return self.emulator.clock.now()

    def advance(self, seconds: float) -> Any:
        return self.emulator.clock.advance(seconds)

    def listeners(self) -> list[dict[str, Any]]:
        return []

    def close(self) -> None:
        self._server.close()


@pytest.fixture(params=[_raising_app, _html_500_app], ids=["exception", "html-500"])
def crashing(request: pytest.FixtureRequest) -> Iterator[_Sandbox]:
    with _Sandbox(request.param) as sb:
        yield sb  # type: ignore[misc]


@pytest.fixture
def lacking() -> Iterator[_Sandbox]:
    with _Sandbox(_not_implemented_app) as sb:
        yield sb


# One call per AWS protocol family: json (ECS), query (ELBv2), ec2 (EC2), rest-xml (S3), rest-json (EFS),
# with the server error code each service documents.
CALLS: list[tuple[str, str, dict[str, Any], str]] = [
    ("ecs", "list_clusters", {}, "ServerException"),
    ("elbv2", "describe_load_balancers", {}, "InternalFailure"),
    ("ec2", "describe_vpcs", {}, "InternalError"),
    ("s3", "list_buckets", {}, "InternalError"),
    ("efs", "describe_file_systems", {}, "InternalFailure"),
]


@pytest.mark.parametrize(("service", "operation", "params", "code"), CALLS, ids=[c[0] for c in CALLS])
def test_a_crash_is_a_labkit_fault_in_every_protocol(
    crashing: _Sandbox, service: str, operation: str, params: dict[str, Any], code: str
) -> None:
    """Whatever the protocol, the SDK raises a 500 server error that says it is a labkit fault."""
    client = crashing.client(service)
    with pytest.raises(ClientError) as caught:
        getattr(client, operation)(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == code
    assert "labkit fault" in error["Message"]
    assert "limit of the sandbox" not in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


@pytest.mark.parametrize(("service", "operation", "params", "code"), CALLS, ids=[c[0] for c in CALLS])
def test_an_action_the_emulator_lacks_is_not_implemented_in_every_protocol(
    lacking: _Sandbox, service: str, operation: str, params: dict[str, Any], code: str
) -> None:
    """moto's NotImplementedError is a 501 NotImplemented that says it is the sandbox's limit, never retried."""
    with pytest.raises(ClientError) as caught:
        getattr(lacking.client(service), operation)(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert "limit of the sandbox" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_the_crash_message_names_the_python_error(crashing: _Sandbox) -> None:
    """The message carries the exception's type (useful in a bug report) but never a traceback."""
    with pytest.raises(ClientError) as caught:
        crashing.client("ecs").list_clusters()
    message = caught.value.response["Error"]["Message"]
    assert "ListClusters" in message
    assert "Traceback" not in message


def test_a_crash_message_names_the_exception_type() -> None:
    """A Python exception's type and message reach the client, so a bug report can name it."""
    with _Sandbox(_raising_app) as sb, pytest.raises(ClientError) as caught:
        sb.client("ecs").list_clusters()
    assert "KeyError: 'memory'" in caught.value.response["Error"]["Message"]


def test_a_crash_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """The emulator logs a labkit fault (logger labkit.emulator) with the traceback the client never sees."""
    with (
        _Sandbox(_raising_app) as sb,
        caplog.at_level("WARNING", logger="labkit.emulator"),
        pytest.raises(ClientError),
    ):
        sb.client("ecs").list_clusters()
    faults = [r for r in caplog.records if r.name == "labkit.emulator" and "labkit fault" in r.getMessage()]
    assert faults
    assert faults[0].exc_info is not None
