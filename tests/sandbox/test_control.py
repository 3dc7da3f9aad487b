"""The control client: a server that goes away in the middle of its answer is a server that is not running."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from labkit.errors import LabkitError, SandboxNotRunningError
from labkit.sandbox.control import ControlClient
from labkit.sandbox.embedded import EmbeddedSandbox


def test_an_answer_cut_short_is_sandbox_not_running() -> None:
    """A server that promises 18 bytes and closes (a shutdown racing its reply) raises SandboxNotRunningError."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_half() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n"
            )
        listener.close()

    server = threading.Thread(target=answer_half, daemon=True)
    server.start()
    with pytest.raises(SandboxNotRunningError, match="does not answer"):
        ControlClient(f"http://127.0.0.1:{port}", "token").shutdown()
    server.join(timeout=5)


def test_identity_is_asked_with_the_token(sandbox: EmbeddedSandbox) -> None:
    """The sandbox holding the token states its pid and session; with another token, nothing is stated."""
    token = sandbox.emulator.token
    assert ControlClient(sandbox.endpoint_url, token).identity() == (os.getpid(), sandbox.session_id)
    assert ControlClient(sandbox.endpoint_url, token).health()
    assert ControlClient(sandbox.endpoint_url, "not-its-token").identity() is None
    assert not ControlClient(sandbox.endpoint_url, "not-its-token").health()


def test_a_closed_port_has_no_identity() -> None:
    """Nothing listening is no identity, at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert ControlClient(f"http://127.0.0.1:{port}", "t").identity() is None


def test_stop_server_never_signals_a_pid_another_sandbox_does_not_own(
    sandbox: EmbeddedSandbox, labkit_home: Path
) -> None:
    """A stale state file naming a reused pid, on a port another sandbox took: stop_server signals nothing."""
    from labkit.sandbox.server import server_state_path, stop_server

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        path = server_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "pid": bystander.pid, "endpoint_url": sandbox.endpoint_url, "port": sandbox.port,
                    "account_id": "123456789012", "region": "us-east-1", "session_id": "lk-gone",
                    "clock": "manual", "speed": 1.0, "token": "gone", "log_path": os.devnull,
                    "started_at": "2026-01-01T00:00:00+00:00",
                }
            )
        )  # fmt: skip
        with pytest.raises(SandboxNotRunningError):
            stop_server(timeout=1)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize(
    ("status", "body"), [(404, b"<h1>not here</h1>"), (200, b"<html>hello</html>"), (200, b"[1]")]
)
def test_a_foreign_http_server_has_no_identity(status: int, body: bytes) -> None:
    """Whatever else took the port (a 404, an HTML page, JSON that is not a status) is not the sandbox."""
    import http.server

    class Foreign(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Foreign)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = ControlClient(f"http://127.0.0.1:{server.server_address[1]}", "t")
        assert client.identity() is None
        assert not client.health()
    finally:
        server.shutdown()
        server.server_close()


def test_a_learner_token_opens_only_the_control_endpoints_labs_use() -> None:
    """A graded kernel's learner token reads the clock, listeners, load and outbox and moves the clock;
    the grader's endpoints (`/reset`, `/shutdown`) refuse it with 403, and the grader's token opens all."""
    import urllib.error

    from labkit.sandbox.clock import SandboxClock
    from labkit.sandbox.emulator import Emulator
    from labkit.sandbox.serving import LoopbackServer

    stopped = threading.Event()
    emulator = Emulator(
        account_id="123456789012",
        region="us-east-1",
        clock=SandboxClock("manual"),
        session_id="s-learner",
        token="grader-token",
        learner_token="learner-token",
        on_shutdown=stopped.set,
    )
    server = LoopbackServer(emulator, 0, name="learner-token-test")
    try:
        learner = ControlClient(server.url, "learner-token")
        assert learner.identity() is not None
        assert "now" in learner.request("GET", "/clock")
        assert learner.advance(60)["now"]
        assert learner.request("GET", "/listeners") == {"listeners": [], "tasks": [], "express": []}
        assert learner.request("GET", "/outbox") == {"messages": []}
        for call in (learner.reset, learner.shutdown):
            with pytest.raises(LabkitError, match="403") as refused:
                call()
            assert isinstance(refused.value.__cause__, urllib.error.HTTPError)
        assert not stopped.is_set()
        assert ControlClient(server.url, "grader-token").reset()["reset"] is True
    finally:
        server.close()
        emulator.close()
