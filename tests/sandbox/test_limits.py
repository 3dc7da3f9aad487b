"""Request bodies over the cap get HTTP 413 with an AWS-shaped error, and are never read into memory."""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.errors import ConfigError
from labkit.sandbox.limits import DEFAULT_MAX_REQUEST_BYTES, RequestBodyLimit, max_request_bytes
from labkit.sandbox.serving import LoopbackServer

CAP = 64 * 1024


class Recorder:
    """A WSGI app that records the bodies it was given."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not str(environ.get("PATH_INFO", "")).startswith("/v2/"):
            self.bodies.append(environ["wsgi.input"].read(length) if length else b"")
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


@pytest.fixture
def served() -> Iterator[tuple[LoopbackServer, Recorder]]:
    app = Recorder()
    with LoopbackServer(RequestBodyLimit(app, CAP)) as server:
        yield server, app


def connect(server: LoopbackServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)


def test_a_content_length_over_the_cap_is_refused_before_the_body_is_sent(
    served: tuple[LoopbackServer, Recorder],
) -> None:
    """Only the headers are sent, announcing 1 GiB: the 413 comes at once, so nothing waited for the body."""
    server, app = served
    conn = connect(server)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Type", "application/x-www-form-urlencoded")
    conn.putheader("Content-Length", str(1024**3))
    conn.endheaders()
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 413
    assert "<Code>RequestEntityTooLarge</Code>" in body
    assert f"<MaxSizeAllowed>{CAP}</MaxSizeAllowed>" in body
    assert app.bodies == []


def test_a_json_api_gets_a_json_error(served: tuple[LoopbackServer, Recorder]) -> None:
    """A JSON-protocol call (X-Amz-Target) gets `__type` and x-amzn-ErrorType, as AWS JSON errors have."""
    server, _ = served
    conn = connect(server)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Type", "application/x-amz-json-1.1")
    conn.putheader("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition")
    conn.putheader("Content-Length", str(CAP + 1))
    conn.endheaders()
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    assert response.status == 413
    assert answer["__type"] == "RequestEntityTooLargeException"
    assert response.getheader("x-amzn-ErrorType") == "RequestEntityTooLargeException"


def send_chunked(port: int, total: int, path: str = "/") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("PUT", path)
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    piece = b"x" * 16384
    sent = 0
    try:
        while sent < total:
            chunk = piece[: total - sent]
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sent += len(chunk)
        conn.send(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before everything is sent
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_a_chunked_body_over_the_cap_is_refused(served: tuple[LoopbackServer, Recorder]) -> None:
    """A chunked body (no Content-Length) is read up to the cap and refused past it."""
    server, app = served
    status, body = send_chunked(server.port, CAP * 4)
    assert status == 413
    assert b"RequestEntityTooLarge" in body
    assert app.bodies == []


def test_a_chunked_body_under_the_cap_reaches_the_app_whole(served: tuple[LoopbackServer, Recorder]) -> None:
    """Under the cap, the app sees the whole body with its length."""
    server, app = served
    status, _ = send_chunked(server.port, CAP - 10)
    assert status == 200
    assert app.bodies == [b"x" * (CAP - 10)]


def test_a_body_at_the_cap_is_accepted(served: tuple[LoopbackServer, Recorder]) -> None:
    """Exactly the cap is allowed."""
    server, app = served
    conn = connect(server)
    conn.request("POST", "/", body=b"y" * CAP)
    assert conn.getresponse().status == 200
    conn.close()
    assert app.bodies == [b"y" * CAP]


def test_registry_uploads_are_not_capped(served: tuple[LoopbackServer, Recorder]) -> None:
    """/v2/ (image layers) is the registry protocol, not an API call: its bodies pass."""
    server, _ = served
    status, _ = send_chunked(server.port, CAP * 2, "/v2/app/blobs/uploads/1")
    assert status == 200


def test_the_cap_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """LABKIT_MAX_REQUEST_BYTES sets the cap; 10 MiB without it; a bad value is a ConfigError."""
    monkeypatch.delenv("LABKIT_MAX_REQUEST_BYTES", raising=False)
    assert max_request_bytes() == DEFAULT_MAX_REQUEST_BYTES == 10 * 1024 * 1024
    monkeypatch.setenv("LABKIT_MAX_REQUEST_BYTES", "2048")
    assert max_request_bytes() == 2048
    for bad in ("lots", "0", "-1"):
        monkeypatch.setenv("LABKIT_MAX_REQUEST_BYTES", bad)
        with pytest.raises(ConfigError, match="LABKIT_MAX_REQUEST_BYTES"):
            max_request_bytes()


@pytest.mark.slow
def test_the_sandbox_server_caps_request_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server sandbox started with a 1 MiB cap: a 2 MiB S3 put is a 413 ClientError, a small one works."""
    import labkit

    monkeypatch.setenv("LABKIT_MAX_REQUEST_BYTES", str(1024 * 1024))
    with labkit.open_sandbox("server", clock="manual") as sb:
        s3 = sb.client("s3")
        s3.create_bucket(Bucket="capped")
        s3.put_object(Bucket="capped", Key="small", Body=b"s" * 1024)
        with pytest.raises(ClientError) as caught:
            s3.put_object(Bucket="capped", Key="big", Body=b"b" * (2 * 1024 * 1024))
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
        assert caught.value.response["Error"]["Code"] == "RequestEntityTooLarge"
        conn = http.client.HTTPConnection("127.0.0.1", int(sb.endpoint_url.rsplit(":", 1)[1]), timeout=10)
        conn.putrequest("POST", "/")
        conn.putheader("Content-Length", str(50 * 1024 * 1024))
        conn.endheaders()
        assert conn.getresponse().status == 413
        conn.close()
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="capped").get("Contents", [])] == ["small"]
    assert os.environ["LABKIT_MAX_REQUEST_BYTES"] == str(1024 * 1024)


@pytest.mark.slow
def test_the_workshop_server_caps_request_bodies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A workshop server started with a 1 MiB cap answers 413 to a bigger body, declared or chunked."""
    from labkit.workshop.server import start_workshop, stop_workshop

    monkeypatch.setenv("LABKIT_MAX_REQUEST_BYTES", str(1024 * 1024))
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nada,Ada\n")
    info = start_workshop(roster, out=tmp_path / "out", clock="manual")
    try:
        port = int(info.endpoint_url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/")
        conn.putheader("Content-Length", str(50 * 1024 * 1024))
        conn.endheaders()
        response = conn.getresponse()
        assert response.status == 413
        assert b"RequestEntityTooLarge" in response.read()
        conn.close()

        status, _ = send_chunked(port, 2 * 1024 * 1024)
        assert status == 413
    finally:
        stop_workshop()
