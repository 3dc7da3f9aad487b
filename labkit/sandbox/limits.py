"""A cap on API request bodies, as WSGI middleware in front of a sandbox or workshop server.

A request whose body is larger than the cap gets HTTP 413 with an AWS-shaped error, and its body is
never read into memory: a `Content-Length` over the cap is refused before a byte of the body is
read; a chunked body is read only up to the cap plus one byte. The registry protocol (`/v2/...`,
image layers) is not an API call and is left alone. The cap is `LABKIT_MAX_REQUEST_BYTES` bytes
(default 10 MiB), read when the server starts.

(The server, werkzeug's, closes every connection after its answer and first discards what the
client still sends, so a client sees the 413 rather than a reset connection.)
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from labkit.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "EXEMPT_PREFIXES",
    "MAX_REQUEST_BYTES_VARIABLE",
    "RequestBodyLimit",
    "max_request_bytes",
]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: The default cap: 10 MiB, far above any API call a lab makes (S3 objects in labs are small).
DEFAULT_MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: The environment variable that changes the cap (a whole number of bytes > 0).
MAX_REQUEST_BYTES_VARIABLE = "LABKIT_MAX_REQUEST_BYTES"
#: Paths whose bodies are not capped: the registry protocol's blob and manifest uploads.
EXEMPT_PREFIXES = ("/v2/",)

_READ_SIZE = 64 * 1024


def max_request_bytes() -> int:
    """The cap from `LABKIT_MAX_REQUEST_BYTES`, else the default; raises `ConfigError` for a bad value."""
    raw = os.environ.get(MAX_REQUEST_BYTES_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_MAX_REQUEST_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(MAX_REQUEST_BYTES_VARIABLE, f"must be a whole number of bytes > 0, not {raw!r}")
    return value


class RequestBodyLimit:
    """WSGI middleware: refuse a request body over `max_bytes` with 413 before reading it."""

    def __init__(
        self, app: WSGIApp, max_bytes: int | None = None, *, exempt: tuple[str, ...] = EXEMPT_PREFIXES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes if max_bytes is not None else max_request_bytes()
        self.exempt = exempt

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "")
        if path.startswith(self.exempt):
            return self.app(environ, start_response)
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return _too_large(environ, start_response, self.max_bytes, status="400 Bad Request")
            if length > self.max_bytes:
                return _too_large(environ, start_response, self.max_bytes)
            return self.app(environ, start_response)
        if (
            environ.get("wsgi.input_terminated")
            or "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
        ):
            # A chunked body says its size only at its end: read it up to one byte past the cap.
            stream = environ["wsgi.input"]
            body = bytearray()
            while len(body) <= self.max_bytes:
                piece = stream.read(min(_READ_SIZE, self.max_bytes + 1 - len(body)))
                if not piece:
                    break
                body += piece
            if len(body) > self.max_bytes:
                return _too_large(environ, start_response, self.max_bytes)
            # What follows sees an ordinary body of known length.
            environ["wsgi.input"] = io.BytesIO(bytes(body))
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)


def _too_large(
    environ: dict[str, Any],
    start_response: StartResponse,
    limit: int,
    *,
    status: str = "413 Request Entity Too Large",
) -> list[bytes]:
    """An error in the shape the caller's protocol expects: JSON for JSON APIs, XML otherwise."""
    request_id = str(uuid.uuid4())
    bad_length = status.startswith("400")
    code = "InvalidRequest" if bad_length else "RequestEntityTooLarge"
    message = (
        "The Content-Length header is not a number."
        if bad_length
        else f"The request body is larger than the {limit} bytes this sandbox accepts "
        f"(set {MAX_REQUEST_BYTES_VARIABLE} to change the limit)."
    )
    content_type = str(environ.get("CONTENT_TYPE") or "")
    headers = [("x-amzn-RequestId", request_id), ("Connection", "close")]
    if "json" in content_type or environ.get("HTTP_X_AMZ_TARGET"):
        error_type = code if bad_length else "RequestEntityTooLargeException"
        body = json.dumps({"__type": error_type, "message": message}).encode()
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", error_type)]
    else:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"<MaxSizeAllowed>{limit}</MaxSizeAllowed></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]
