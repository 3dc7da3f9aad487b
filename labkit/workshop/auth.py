"""Who sent an AWS request to a workshop server: the learner whose secret signed it (SigV4).

A learner's credentials are the only thing that selects a learner's account. The access key id in
the `Authorization` header names a learner; the signature is then recomputed with that learner's
secret key (botocore's own SigV4 signer, over the signed headers as received) and must match. A
request with no signature, an unknown key or a wrong signature is refused.

A signature is good for a limited time, as in AWS, measured on the server's wall clock (never a
sandbox's emulated clock): a request whose `X-Amz-Date` is more than 15 minutes off is
`RequestTimeTooSkewed`, so a captured request cannot be replayed later. A presigned URL (the
signature in the query string) is good from its `X-Amz-Date` for `X-Amz-Expires` seconds (at most
7 days); after that it is `AccessDenied` "Request has expired". S3's older presigned URLs
(Signature Version 2: `AWSAccessKeyId`, `Expires`, `Signature`), which boto3 still makes for
us-east-1 unless told otherwise, are checked the same way, against their `Expires` time.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from botocore.auth import HmacV1Auth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = [
    "MAX_PRESIGNED_SECONDS",
    "MAX_SKEW_SECONDS",
    "SignatureProblem",
    "check_request_time",
    "parse_authorization",
    "verify_signature",
]

#: How far a signed request's `X-Amz-Date` may be from the server's clock (AWS's 15 minutes).
MAX_SKEW_SECONDS = 15 * 60
#: The longest a presigned URL may be valid (AWS's 7 days).
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
_PRESIGNED = re.compile(r"^(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)


class SignatureProblem(Exception):
    """Why a request's signature was not accepted (an AWS error code, message and HTTP status)."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _signing_time(timestamp: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        raise SignatureProblem(
            "IncompleteSignature", f"X-Amz-Date {timestamp!r} is not a SigV4 time"
        ) from None


def check_request_time(parts: dict[str, str], now: float) -> None:
    """Refuse a request signed too long ago (or ahead): `RequestTimeTooSkewed`, or an expired presigned URL.

    `now` is the server's wall clock (seconds since the epoch). Raises `SignatureProblem`.
    """
    if parts.get("version") == "2":
        try:
            expires_at = int(parts["expires_at"])
        except ValueError:
            raise SignatureProblem(
                "AccessDenied", "Expires must be a number of seconds since the epoch"
            ) from None
        if now > expires_at:
            raise SignatureProblem("AccessDenied", "Request has expired")
        return
    signed = _signing_time(parts["timestamp"]).timestamp()
    if "expires" in parts:
        try:
            expires = int(parts["expires"])
        except ValueError:
            raise SignatureProblem(
                "AuthorizationQueryParametersError", "X-Amz-Expires must be a number"
            ) from None
        if not 0 < expires <= MAX_PRESIGNED_SECONDS:
            raise SignatureProblem(
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires "
                "must be less than 604800 seconds",
            )
        if now > signed + expires:
            raise SignatureProblem("AccessDenied", "Request has expired")
        if signed - now > MAX_SKEW_SECONDS:
            raise SignatureProblem("AccessDenied", "Request is not yet valid")
        return
    if abs(now - signed) > MAX_SKEW_SECONDS:
        raise SignatureProblem(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )


def parse_authorization(environ: dict[str, Any]) -> dict[str, str]:
    """Return the parts of a SigV4 `Authorization` header; raises `SignatureProblem` when there is none."""
    header = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
    if not header:
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        if "X-Amz-Credential" in query:
            return _presigned_parts(query)
        if {"AWSAccessKeyId", "Signature", "Expires"} <= set(query):
            return {
                "version": "2",
                "key": query["AWSAccessKeyId"],
                "sig": query["Signature"],
                "expires_at": query["Expires"],
                "service": "s3",
            }
        raise SignatureProblem("MissingAuthenticationToken", "Request is missing Authentication Token")
    match = _AUTHORIZATION.match(header)
    if match is None:
        raise SignatureProblem("IncompleteSignature", "the Authorization header is not a SigV4 signature")
    parts = match.groupdict()
    timestamp = _header(environ, "x-amz-date")
    if not timestamp or not timestamp.startswith(parts["date"]):
        raise SignatureProblem("IncompleteSignature", "the request has no X-Amz-Date matching its credential")
    parts["timestamp"] = timestamp
    return parts


def _presigned_parts(query: dict[str, str]) -> dict[str, str]:
    """The parts of a presigned URL's query-string signature."""
    needed = ("X-Amz-Algorithm", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")
    missing = [name for name in needed if name not in query]
    match = _PRESIGNED.match(query["X-Amz-Credential"])
    if missing or match is None or query.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
        raise SignatureProblem(
            "AuthorizationQueryParametersError",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            400,
        )
    parts = match.groupdict()
    if not query["X-Amz-Date"].startswith(parts["date"]):
        raise SignatureProblem("IncompleteSignature", "the request has no X-Amz-Date matching its credential")
    return {
        **parts,
        "timestamp": query["X-Amz-Date"],
        "expires": query["X-Amz-Expires"],
        "headers": query["X-Amz-SignedHeaders"],
        "sig": query["X-Amz-Signature"],
    }


def _header(environ: dict[str, Any], name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return None if value is None else str(value)


class _PresignedV2(HmacV1Auth):
    """S3's Signature Version 2 for a presigned URL: its `Expires` stands where the Date header would."""

    def __init__(self, credentials: Credentials, expires_at: str) -> None:
        super().__init__(credentials)
        self._expires_at = expires_at

    def _get_date(self) -> str:
        return self._expires_at


def _verify_v2(environ: dict[str, Any], parts: dict[str, str], secret_key: str) -> None:
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if not raw_uri:
        path = quote(str(environ.get("PATH_INFO", "/")), safe="/~")
        raw_uri = path + (f"?{environ.get('QUERY_STRING')}" if environ.get("QUERY_STRING") else "")
    path, _, query = raw_uri.partition("?")
    signing = {"AWSAccessKeyId", "Signature", "Expires"}
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in signing]
    split = urlsplit(path + (f"?{urlencode(kept, quote_via=quote)}" if kept else ""))
    headers: dict[str, str] = {}
    for name in ("content-md5", "content-type"):
        value = _header(environ, name)
        if value:
            headers[name] = value
    expected = _PresignedV2(Credentials(parts["key"], secret_key), parts["expires_at"]).get_signature(
        str(environ.get("REQUEST_METHOD", "GET")), split, headers
    )
    if not hmac.compare_digest(str(expected), parts["sig"]):
        raise SignatureProblem(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


def verify_signature(environ: dict[str, Any], body: bytes, parts: dict[str, str], secret_key: str) -> None:
    """Recompute the request's signature with `secret_key`; raises `SignatureProblem` when it differs."""
    if parts.get("version") == "2":
        _verify_v2(environ, parts, secret_key)
        return
    timestamp = parts["timestamp"]
    presigned = "expires" in parts
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if not raw_uri:
        path = quote(str(environ.get("PATH_INFO", "/")), safe="/~")
        query = str(environ.get("QUERY_STRING", ""))
        raw_uri = path + (f"?{query}" if query else "")
    if presigned:
        # The signature covers the query string without itself.
        path, _, query = raw_uri.partition("?")
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "X-Amz-Signature"]
        raw_uri = path + (f"?{urlencode(kept, quote_via=quote)}" if kept else "")
    host = str(environ.get("HTTP_HOST", ""))
    headers: dict[str, str] = {}
    for name in parts["headers"].split(";"):
        value = host if name == "host" else _header(environ, name)
        if value is None:
            raise SignatureProblem("IncompleteSignature", f"the signed header {name} is missing")
        headers[name] = value
    request = AWSRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")), url=f"http://{host}{raw_uri}", data=body
    )
    for name, value in headers.items():
        request.headers[name] = value
    request.context["timestamp"] = timestamp
    signer_class: type[SigV4Auth]
    if presigned:
        signer_class = S3SigV4QueryAuth if parts["service"] == "s3" else SigV4QueryAuth
    else:
        signer_class = S3SigV4Auth if parts["service"] == "s3" else SigV4Auth
    signer = signer_class(Credentials(parts["key"], secret_key), parts["service"], parts["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, parts["sig"]):
        raise SignatureProblem(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
