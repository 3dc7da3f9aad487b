"""Serve a WSGI application on 127.0.0.1 (never another address) in a background thread."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from labkit.errors import PortInUseError

__all__ = ["LOOPBACK", "LoopbackServer"]

#: The only address labkit's servers bind.
LOOPBACK = "127.0.0.1"


class _QuietHandler(WSGIRequestHandler):
    """A request handler that does not print a line per request into a learner's notebook."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def log(self, type: str, message: str, *args: Any) -> None:
        return None

    def send_response(self, code: int, message: str | None = None) -> None:
        # Leave the Server header to the application: http.server would add
        # "Werkzeug/... Python/..." beside it (an AWS endpoint or an nginx stand-in names itself).
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


class LoopbackServer:
    """A threaded HTTP server for `app` on 127.0.0.1; port 0 picks a free port.

    Raises `PortInUseError` when the port is taken.
    """

    def __init__(self, app: Any, port: int = 0, *, name: str = "labkit-sandbox") -> None:
        # Bind here rather than in werkzeug, which prints to stderr and calls sys.exit on failure.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((LOOPBACK, port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(port) from exc
            raise
        try:
            self._server: BaseWSGIServer = make_server(
                LOOPBACK,
                listener.getsockname()[1],
                app,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            # werkzeug works on a duplicate of the descriptor.
            listener.close()
        # Keep-alive connections from a client must not keep close() waiting.
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.port: int = int(self._server.server_address[1])
        self.url = f"http://{LOOPBACK}:{self.port}"
        # A long poll interval keeps a thousand idle task servers from waking the process all the
        # time; close() wakes the loop with a connection instead of waiting for the poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 2.0}, name=name, daemon=True
        )
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        stopper = threading.Thread(target=self._server.shutdown, name="labkit-server-stop", daemon=True)
        stopper.start()
        while stopper.is_alive():
            # A connection wakes serve_forever's select, so it sees the shutdown request now.
            with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), timeout=1):
                pass
            stopper.join(0.05)
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
