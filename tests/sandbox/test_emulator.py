"""The emulator wrapper: crashes become AWS-style errors every SDK protocol can parse."""

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


# One call per AWS protocol family: json (ECS), query (ELBv2), ec2 (EC2), rest-xml (S3), rest-json (EFS).
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("ecs", "list_clusters", {}),
    ("elbv2", "describe_load_balancers", {}),
    ("ec2", "describe_vpcs", {}),
    ("s3", "list_buckets", {}),
    ("efs", "describe_file_systems", {}),
]


@pytest.mark.parametrize(("service", "operation", "params"), CALLS, ids=[c[0] for c in CALLS])
def test_a_crash_is_a_not_implemented_error_in_every_protocol(
    crashing: _Sandbox, service: str, operation: str, params: dict[str, Any]
) -> None:
    """Whatever the protocol, the SDK raises ClientError NotImplemented saying it is the sandbox's limit."""
    client = crashing.client(service)
    with pytest.raises(ClientError) as caught:
        getattr(client, operation)(**params)
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert "limit of the sandbox" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_the_crash_message_names_the_python_error(crashing: _Sandbox) -> None:
    """The message carries the exception's type (useful in a bug report) but never a traceback."""
    with pytest.raises(ClientError) as caught:
        crashing.client("ecs").list_clusters()
    message = caught.value.response["Error"]["Message"]
    assert "ListClusters" in message
    assert "Traceback" not in message
