"""What a stand-in container prints: its image's start-up lines, and a line per request it serves.

A container's standard output and error are what the `awslogs` log driver ships to CloudWatch Logs.
The simulator (`labkit.sandbox.simulator.logs`) gives each running container a `ContainerOutput`
and writes what this module says the image prints:

- the nginx-based images (`nginx`, `nginx/nginx`, `nginxdemos/hello`): the official image's
  entrypoint lines and nginx's start-up notices (`startup_lines`); then, per request, an access-log
  line in the official image's `main` format, which is nginx's `combined` format followed by
  `"$http_x_forwarded_for"` (`/etc/nginx/nginx.conf` of the image; `access.log` is a link to
  stdout), for requests through a load balancer and for its health checks alike, as real nginx
  logs both; and, for a file the official image does not have, nginx's `open() ... failed` line
  at `[error]` (`error.log` is a link to stderr). `nginxdemos/hello` answers every path, so it
  logs no such error.

Known differences: the client address nginx logs is the peer of the loopback connection
(127.0.0.1), where on AWS it is the load balancer node's private address in the VPC; the `Host` is
the one the request carried.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, Protocol
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "NGINX_VERSION",
    "ContainerOutput",
    "access_logged",
    "nginx_access_line",
    "nginx_error_time",
    "startup_lines",
]

#: The nginx version the stand-ins report (their `Server` header says the same).
NGINX_VERSION = "1.27.4"

# The official image's entrypoint (docker-entrypoint.sh and the scripts in /docker-entrypoint.d/).
_ENTRYPOINT = "/docker-entrypoint.sh"
_IPV6 = "10-listen-on-ipv6-by-default.sh"


class ContainerOutput(Protocol):
    """Where a container's standard output and error go (the simulator's side)."""

    def now(self) -> datetime:
        """The sandbox's current time."""

    def write(self, line: str, at: datetime) -> None:
        """A line the container printed at `at` (thread-safe: servers call it from their threads)."""


def nginx_error_time(at: datetime) -> str:
    """The time at the start of an nginx error-log line: `2026/12/06 03:55:19`."""
    return at.strftime("%Y/%m/%d %H:%M:%S")


def startup_lines(flavour: str, at: datetime) -> list[str]:
    """What an nginx-based image prints as it starts; `flavour` is `nginx` or `hello` (nginxdemos/hello).

    The official image's entrypoint runs its configuration scripts, then nginx starts its workers.
    nginxdemos/hello replaces `conf.d/default.conf` with its own file, so the IPv6 script finds none.
    """
    if flavour == "hello":
        ipv6 = [f"{_IPV6}: info: /etc/nginx/conf.d/default.conf is not a file or does not exist"]
    else:
        ipv6 = [
            f"{_IPV6}: info: Getting the checksum of /etc/nginx/conf.d/default.conf",
            f"{_IPV6}: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf",
        ]
    stamp = nginx_error_time(at)
    return [
        f"{_ENTRYPOINT}: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        f"{_ENTRYPOINT}: Looking for shell scripts in /docker-entrypoint.d/",
        f"{_ENTRYPOINT}: Launching /docker-entrypoint.d/{_IPV6}",
        *ipv6,
        f"{_ENTRYPOINT}: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh",
        f"{_ENTRYPOINT}: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh",
        f"{_ENTRYPOINT}: Launching /docker-entrypoint.d/30-tune-worker-processes.sh",
        f"{_ENTRYPOINT}: Configuration complete; ready for start up",
        f'{stamp} [notice] 1#1: using the "epoll" event method',
        f"{stamp} [notice] 1#1: nginx/{NGINX_VERSION}",
        f"{stamp} [notice] 1#1: start worker processes",
        f"{stamp} [notice] 1#1: start worker process 29",
        f"{stamp} [notice] 1#1: start worker process 30",
    ]


def _quoted(value: object) -> str:
    """An nginx log variable in quotes: `-` when empty, `"` and `\\` escaped as nginx escapes them."""
    text = str(value) if value else "-"
    return '"' + text.replace("\\", "\\x5C").replace('"', "\\x22") + '"'


def _request_line(environ: WSGIEnvironment) -> str:
    uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if not uri:
        query = environ.get("QUERY_STRING", "")
        uri = str(environ.get("PATH_INFO", "/")) + (f"?{query}" if query else "")
    return f"{environ.get('REQUEST_METHOD', 'GET')} {uri} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"


def nginx_access_line(environ: WSGIEnvironment, status: int, body_bytes: int, at: datetime) -> str:
    """One line of the official image's `main` log format for a request that was answered."""
    request = _request_line(environ).replace('"', "\\x22")
    return (
        f"{environ.get('REMOTE_ADDR', '-')} - - [{at.strftime('%d/%b/%Y:%H:%M:%S %z')}] "
        f'"{request}" {status} {body_bytes} {_quoted(environ.get("HTTP_REFERER"))} '
        f"{_quoted(environ.get('HTTP_USER_AGENT'))} {_quoted(environ.get('HTTP_X_FORWARDED_FOR'))}"
    )


def _not_found_line(environ: WSGIEnvironment, document_root: str, connection: int, at: datetime) -> str:
    path = str(environ.get("PATH_INFO", "/"))
    request = _request_line(environ).replace('"', "\\x22")
    host = environ.get("HTTP_HOST", "")
    return (
        f'{nginx_error_time(at)} [error] 29#29: *{connection} open() "{document_root.rstrip("/")}{path}" '
        f"failed (2: No such file or directory), client: {environ.get('REMOTE_ADDR', '-')}, "
        f'server: localhost, request: "{request}", host: "{host}"'
    )


def access_logged(
    app: WSGIApplication, output: ContainerOutput, *, document_root: str | None = None
) -> WSGIApplication:
    """Wrap a stand-in so that each request it answers prints nginx's access-log line to `output`.

    With `document_root`, a 404 also prints nginx's `open() ... failed` error line first (the
    official image, which serves files from that root).
    """
    connections = itertools.count(1)
    lock = threading.Lock()

    def logged(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        seen: dict[str, Any] = {}

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            seen["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        with lock:
            connection = next(connections)
        body = list(app(environ, start))
        at = output.now()
        status = int(seen.get("status", 200))
        size = 0 if environ.get("REQUEST_METHOD") == "HEAD" else sum(len(chunk) for chunk in body)
        if status == 404 and document_root is not None:
            output.write(_not_found_line(environ, document_root, connection, at), at)
        output.write(nginx_access_line(environ, status, size, at), at)
        return _chunks(body)

    return logged


def _chunks(body: list[bytes]) -> Iterator[bytes]:
    yield from body
