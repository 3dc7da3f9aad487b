"""Walls between the sandboxes of one process: a request never names another sandbox's account.

moto keeps every account of the process in the same backends, and some of its lookups follow an ARN,
a queue URL or a registry id into the account it names (SNS topics, EventBridge buses, STS roles,
...). A workshop serves every learner's account from one process, so one learner who knows another's
ARN would reach their resources. AWS refuses such a request unless a resource policy allows it, and
labkit's sandboxes have no cross-account policies: so a request that names the account id of another
sandbox open in this process (as a 12-digit number anywhere in its path, query, headers or
parameters: an ARN, a queue URL, a registry id, a repository URI, an account id) is refused before
moto sees it, with the access-denied error each service gives (`refusal`). S3 bucket names carry no
account: that wall is a hook on moto's bucket lookup (`moto_seam.s3`).

The rule is deliberately blunt: a free-text value that happens to hold another learner's account id
(an SNS message, say) is refused too. An S3 object's content (the body of PutObject, UploadPart) is
data, not a parameter, and is not read.

Sandboxes register their account while open (`open_account`, `close_account`); an account no sandbox
holds (moto used on its own in the process) is never a wall.
"""

from __future__ import annotations

import html
import io
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Refusal",
    "action_name",
    "close_account",
    "foreign_account",
    "is_walled",
    "open_account",
    "open_accounts",
    "refusal",
]

_lock = threading.Lock()
# account id -> how many open sandboxes hold it
_open: dict[str, int] = {}

_ACCOUNT = re.compile(r"(?<!\d)(\d{12})(?!\d)")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):[^\s\"'<>&,]*")
# Headers that never name a resource (the signature; the account header the emulator sets itself).
_SKIPPED_HEADERS = frozenset({"HTTP_AUTHORIZATION", "HTTP_X_MOTO_ACCOUNT_ID", "HTTP_X_AMZ_CONTENT_SHA256"})


def open_account(account_id: str) -> None:
    """Record that a sandbox of this process serves `account_id` (others may not name it)."""
    with _lock:
        _open[account_id] = _open.get(account_id, 0) + 1


def close_account(account_id: str) -> None:
    """Record that a sandbox serving `account_id` has closed."""
    with _lock:
        count = _open.get(account_id, 0) - 1
        if count > 0:
            _open[account_id] = count
        else:
            _open.pop(account_id, None)


def open_accounts() -> frozenset[str]:
    """The accounts served by the sandboxes open in this process."""
    with _lock:
        return frozenset(_open)


def is_walled(own: str, other: str) -> bool:
    """May a request served in account `own` not reach account `other`? (Both sandboxes' accounts.)"""
    if own == other:
        return False
    with _lock:
        return own in _open and other in _open


def _s3_object_request(environ: dict[str, Any]) -> bool:
    """Does this S3 request carry an object's content (PutObject, UploadPart, ...) as its body?"""
    path = [p for p in str(environ.get("PATH_INFO", "")).split("/") if p]
    host = str(environ.get("HTTP_HOST", "")).split(":", 1)[0].lower()
    virtual = ".s3." in host or ".s3-" in host or host.endswith(".localhost")
    return len(path) >= (1 if virtual else 2)


def _body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for whoever reads it next."""
    cached = environ.get("labkit.body")
    if isinstance(cached, bytes):
        return cached
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    chunked = environ.get("wsgi.input_terminated") or "chunked" in str(
        environ.get("HTTP_TRANSFER_ENCODING", "")
    )
    if declared:
        try:
            length = int(declared)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
    elif chunked:
        # A chunked body (the servers' size cap has usually made it a sized one already): read it all,
        # or moto would read what the wall never saw.
        body = environ["wsgi.input"].read()
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
    else:
        body = b""
    environ["labkit.body"] = body
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _texts(environ: dict[str, Any], service: str) -> list[str]:
    texts = [str(environ.get("PATH_INFO", "")), str(environ.get("QUERY_STRING", ""))]
    texts += [str(v) for k, v in environ.items() if k.startswith("HTTP_") and k not in _SKIPPED_HEADERS]
    if not (service == "s3" and _s3_object_request(environ)):
        body = _body(environ).decode("utf-8", "replace")
        texts.append(body)
        texts += _json_strings(body)
    # What the service decodes, decoded here too: URL encoding (query protocol, query strings: an ARN
    # is `arn%3Aaws%3A...`) and XML character references (`&#49;`).
    texts += [urllib.parse.unquote_plus(t) for t in texts if "%" in t or "+" in t]
    return texts + [html.unescape(t) for t in texts if "&" in t]


def _json_strings(body: str) -> list[str]:
    """Every string (key or value) of a JSON body, decoded: `\\u0031` escapes hide no digit."""
    if not body.lstrip().startswith(("{", "[")):
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str | int):
            found.append(str(value))

    walk(document)
    return found


def action_name(environ: dict[str, Any]) -> str:
    """The API action a request names (`Publish`, `ListClusters`), or "" when it does not say."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.rsplit(".", 1)[-1]
    for text in (str(environ.get("QUERY_STRING", "")), _body(environ).decode("utf-8", "replace")):
        found = urllib.parse.parse_qs(text).get("Action")
        if found:
            return found[0]
    return ""


def foreign_account(environ: dict[str, Any], own: str, service: str = "") -> tuple[str, str] | None:
    """(account, resource) when the request names another open sandbox's account, else None.

    `resource` is the ARN that names it when there is one, else the account id.
    """
    others = open_accounts() - {own}
    if not others or own not in open_accounts():
        return None
    for text in _texts(environ, service):
        for match in _ACCOUNT.finditer(text):
            account = match.group(1)
            if account in others:
                arn = next((m.group(0) for m in _ARN.finditer(text) if m.group(1) == account), account)
                return account, arn
    return None


@dataclass(frozen=True)
class Refusal:
    """The access-denied answer of one service: HTTP status, error code, message."""

    status: int
    code: str
    message: str


#: Services whose access-denied error is not the protocol's default (code, HTTP status).
_CODES: dict[str, tuple[str, int]] = {
    "s3": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "sqs": ("AccessDenied", 403),
    "ec2": ("UnauthorizedOperation", 403),
    "lambda": ("AccessDeniedException", 403),
}


def refusal(service: str, protocol: str, own: str, action: str, resource: str) -> Refusal:
    """AWS's access-denied answer when a caller of account `own` names a resource of another account."""
    if service in _CODES:
        code, status = _CODES[service]
    elif protocol in ("json", "rest-json"):
        code, status = "AccessDeniedException", 400
    else:
        code, status = "AccessDenied", 403
    if service == "s3":
        return Refusal(status, code, "Access Denied")
    name = f"{service or 'aws'}:{action}" if action and " " not in action else f"{service or 'aws'}:*"
    message = (
        f"User: arn:aws:iam::{own}:root is not authorized to perform: {name} on resource: {resource} "
        f"because no resource-based policy allows the {name} action"
    )
    return Refusal(status, code, message)
