"""The control client: a server that goes away in the middle of its answer is a server that is not running."""

from __future__ import annotations

import socket
import threading

import pytest

from labkit.errors import SandboxNotRunningError
from labkit.sandbox.control import ControlClient


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
