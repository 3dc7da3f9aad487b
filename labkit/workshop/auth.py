"""Who sent an AWS request to a workshop server: the learner whose secret signed it (SigV4).

A learner's credentials are the only thing that selects a learner's account. The access key id in
the `Authorization` header names a learner; the signature is then recomputed with that learner's
secret key (botocore's own SigV4 signer, over the signed headers as received) and must match. A
request with no signature, an unknown key, a presigned URL or a wrong signature is refused.
"""

from __future__ import annotations

import hmac
import re
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = ["SignatureProblem", "parse_authorization", "verify_signature"]

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<headers>[^,]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)


class SignatureProblem(Exception):
    """Why a request's signature was not accepted (an AWS error code and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_authorization(environ: dict[str, Any]) -> dict[str, str]:
    """Return the parts of a SigV4 `Authorization` header; raises `SignatureProblem` when there is none."""
    header = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
    if not header:
        if "X-Amz-Credential" in str(environ.get("QUERY_STRING", "")):
            raise SignatureProblem(
                "AccessDenied", "presigned requests are not accepted by a workshop sandbox"
            )
        raise SignatureProblem("MissingAuthenticationToken", "Request is missing Authentication Token")
    match = _AUTHORIZATION.match(header)
    if match is None:
        raise SignatureProblem("IncompleteSignature", "the Authorization header is not a SigV4 signature")
    return match.groupdict()


def _header(environ: dict[str, Any], name: str) -> str | None:
    if name == "content-type":
        return environ.get("CONTENT_TYPE")
    if name == "content-length":
        return environ.get("CONTENT_LENGTH")
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return None if value is None else str(value)


def verify_signature(environ: dict[str, Any], body: bytes, parts: dict[str, str], secret_key: str) -> None:
    """Recompute the request's signature with `secret_key`; raises `SignatureProblem` when it differs."""
    timestamp = _header(environ, "x-amz-date")
    if not timestamp or not timestamp.startswith(parts["date"]):
        raise SignatureProblem("IncompleteSignature", "the request has no X-Amz-Date matching its credential")
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if not raw_uri:
        path = quote(str(environ.get("PATH_INFO", "/")), safe="/~")
        query = str(environ.get("QUERY_STRING", ""))
        raw_uri = path + (f"?{query}" if query else "")
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
    signer_class = S3SigV4Auth if parts["service"] == "s3" else SigV4Auth
    signer = signer_class(Credentials(parts["key"], secret_key), parts["service"], parts["region"])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, parts["sig"]):
        raise SignatureProblem(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
