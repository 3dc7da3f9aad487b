"""A load balancer listener on a loopback port: requests go round-robin to the healthy targets.

For each request the proxy brings the emulated world up to date (`before_request`), asks which
targets are healthy, forwards the request to the next one in turn with the headers an ALB adds
(`X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Port`, `X-Amzn-Trace-Id`) and answers with
the target's response. Like an ALB it answers 503 when no target is healthy, 502 when the target
does not answer and 504 when it answers too late; these pages carry `Server: awselb/2.0`.
"""

from __future__ import annotations

import http.client
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.wrappers import Request

from labkit.dataplane.images import serve_on_loopback
from labkit.sandbox.guards import is_loopback_url

__all__ = ["ELB_SERVER", "ListenerProxy", "Target"]

#: The `Server` header of the responses a load balancer makes itself.
ELB_SERVER = "awselb/2.0"

_logger = logging.getLogger(__name__)

# Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)

_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def _elb_page(status: int) -> bytes:
    reason = _REASONS[status]
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode()


@dataclass(frozen=True)
class Target:
    """A registered target as the listener reaches it: its id and the loopback URL standing for it."""

    target_id: str
    port: int
    #: The loopback URL of the `TaskServer` that stands for the target.
    url: str
    #: The target group the target is registered in (requests are counted per target group).
    target_group_arn: str = ""


class ListenerProxy:
    """A listener on 127.0.0.1 that forwards each request round-robin to a healthy target.

    `healthy_targets()` is asked at every request, so a target that stops or fails its health
    checks is skipped from the next request on. `before_request()` runs first (from the serving
    threads, possibly several at once). `protocol` only sets `X-Forwarded-Proto`: the loopback
    port speaks plain HTTP either way. `idle_timeout` is how long a target may take to answer
    (60 s on an ALB) before the client gets a 504. With `route`, the targets are asked per request
    as `route(host, path)` instead (listener rules choose the target group by path and host).
    (60 s on an ALB) before the client gets a 504. `on_forward(target)` is told of each request
    forwarded to a target (how the sandbox counts requests for CloudWatch). With `fixed_response`,
    `fixed_response(host, path)` is asked first: a (status, content type, body) it returns is
    answered by the listener itself, as an ALB answers a `fixed-response` action.

    Raises `ValueError` for a protocol other than HTTP or HTTPS and `PortInUseError` when `port`
    is taken.
    """

    def __init__(
        self,
        healthy_targets: Callable[[], Sequence[Target]],
        *,
        port: int = 0,
        protocol: str = "HTTP",
        before_request: Callable[[], None] | None = None,
        idle_timeout: float = 60.0,
        route: Callable[[str, str], Sequence[Target]] | None = None,
        on_forward: Callable[[Target], None] | None = None,
        fixed_response: Callable[[str, str], tuple[int, str, str] | None] | None = None,
    ) -> None:
        if protocol.upper() not in ("HTTP", "HTTPS"):
            raise ValueError(f"an Application Load Balancer listener is HTTP or HTTPS, not {protocol!r}")
        self.protocol = protocol.upper()
        self.idle_timeout = idle_timeout
        self._healthy_targets = healthy_targets
        self._route = route
        self._before_request = before_request
        self._on_forward = on_forward
        self._fixed_response = fixed_response
        self._turns = itertools.count()
        self._turns_lock = threading.Lock()
        self._server = serve_on_loopback(self._app, port, name=f"labkit-listener-{port or 'auto'}")
        self.port: int = self._server.port
        self.url: str = self._server.url

    def next_target(self, targets: Sequence[Target]) -> Target | None:
        """Return the target whose turn it is among `targets`, or None when there is none."""
        if not targets:
            return None
        with self._turns_lock:
            turn = next(self._turns)
        return targets[turn % len(targets)]

    def close(self) -> None:
        """Stop listening and free the port; safe to call twice."""
        self._server.close()

    def __enter__(self) -> ListenerProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ListenerProxy {self.protocol} {self.url}>"

    # -- WSGI -----------------------------------------------------------------------------------

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            if self._before_request is not None:
                self._before_request()
            host = str(environ.get("HTTP_HOST", "")).rsplit(":", 1)[0]
            path = str(environ.get("PATH_INFO", "/")) or "/"
            fixed = self._fixed_response(host, path) if self._fixed_response is not None else None
            if fixed is not None:
                return self._answer_fixed(fixed, start_response)
            candidates = self._route(host, path) if self._route is not None else self._healthy_targets()
            target = self.next_target(list(candidates))
        except Exception:
            # A failure of the emulator, not of a target: say so in the log, answer as an ALB would.
            _logger.exception("the listener on port %s could not choose a target", self.port)
            return self._elb_error(500, start_response)
        if target is None:
            return self._elb_error(503, start_response)
        if not is_loopback_url(target.url):
            _logger.error("refused to forward to target %s at %s: not loopback", target.target_id, target.url)
            return self._elb_error(502, start_response)
        if self._on_forward is not None:
            try:
                self._on_forward(target)
            except Exception:
                _logger.exception("the listener on port %s could not count a request", self.port)
        try:
            status, headers, body = self._forward(environ, target)
        except TimeoutError:
            return self._elb_error(504, start_response)
        except (OSError, http.client.HTTPException):
            return self._elb_error(502, start_response)
        start_response(status, headers)
        return [body]

    def _answer_fixed(self, fixed: tuple[int, str, str], start_response: StartResponse) -> list[bytes]:
        """A `fixed-response` action's answer: its status, content type and body, from the ALB itself."""
        status, content_type, body = fixed
        encoded = body.encode()
        reason = http.client.responses.get(status, "")
        start_response(
            f"{status} {reason}".strip(),
            [("Server", ELB_SERVER), ("Content-Type", content_type), ("Content-Length", str(len(encoded)))],
        )
        return [encoded]

    def _elb_error(self, status: int, start_response: StartResponse) -> list[bytes]:
        page = _elb_page(status)
        start_response(
            f"{status} {_REASONS[status]}",
            [("Server", ELB_SERVER), ("Content-Type", "text/html"), ("Content-Length", str(len(page)))],
        )
        return [page]

    def _forward(self, environ: WSGIEnvironment, target: Target) -> tuple[str, list[tuple[str, str]], bytes]:
        request = Request(environ)
        body = request.get_data()
        method = request.method
        uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        if not uri:
            query = environ.get("QUERY_STRING", "")
            uri = quote(request.path) + (f"?{query}" if query else "")
        headers = self._forwarded_headers(request, environ)
        if body or "Content-Length" in request.headers:
            headers.append(("Content-Length", str(len(body))))

        parts = urlsplit(target.url)
        # http.client never reads HTTP_PROXY and the like: the request goes straight to loopback.
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port or target.port, timeout=self.idle_timeout
        )
        try:
            connection.putrequest(method, str(uri), skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            answer = response.read()
            answer_headers = response.getheaders()
            status = f"{response.status} {response.reason}"
        finally:
            connection.close()

        # The serving handler adds its own Date and framing; everything else is the target's.
        forwarded = [
            (name, value)
            for name, value in answer_headers
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "content-length")
        ]
        if method == "HEAD":
            length = next((v for k, v in answer_headers if k.lower() == "content-length"), None)
            if length is not None:
                forwarded.append(("Content-Length", length))
        else:
            forwarded.append(("Content-Length", str(len(answer))))
        return status, forwarded, answer

    def _forwarded_headers(self, request: Request, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        client = str(environ.get("REMOTE_ADDR", "127.0.0.1"))
        forwarded_for = client
        trace_id: str | None = None
        for name, value in request.headers.items():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower == "content-length":
                continue
            if lower == "x-forwarded-for":
                forwarded_for = f"{value}, {client}"
                continue
            if lower in ("x-forwarded-proto", "x-forwarded-port"):
                continue
            if lower == "x-amzn-trace-id":
                # An ALB keeps a trace that already has a root and starts one otherwise.
                trace_id = value if "Root=" in value else None
                continue
            headers.append((name, value))
        headers.append(("X-Forwarded-For", forwarded_for))
        headers.append(("X-Forwarded-Proto", self.protocol.lower()))
        headers.append(("X-Forwarded-Port", str(self.port)))
        headers.append(("X-Amzn-Trace-Id", trace_id or _new_trace_id()))
        return headers


def _new_trace_id() -> str:
    """A new X-Ray trace header root: version 1, the epoch in hex, 96 random bits."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
