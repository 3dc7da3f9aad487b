"""Guards that keep an emulated sandbox's clients on loopback, whatever the environment says.

A learner's machine may have `AWS_PROFILE`, `AWS_ENDPOINT_URL_*`, a config file with real
credentials or `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` set. An emulated sandbox's botocore session
reads none of them (every session variable's environment name is removed, the config and
credentials files are the null device), every client gets the sandbox's endpoint explicitly, and a
`before-send` hook refuses any request whose host is not a loopback address before it leaves.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import socket
import unicodedata
from typing import Any
from urllib.parse import urlsplit

import botocore.loaders
import botocore.session
from botocore.config import Config

from labkit.errors import EndpointRefusedError, LabkitError

__all__ = [
    "EMULATED_KEY_PREFIX",
    "FAKE_ACCESS_KEY_ID",
    "FAKE_SECRET_ACCESS_KEY",
    "CredentialsMismatchError",
    "is_loopback_host",
    "is_loopback_url",
    "isolated_botocore_session",
    "refuse_non_loopback",
    "sandbox_client_config",
]

#: Every emulated access key id labkit makes starts with this (real AWS keys never do).
EMULATED_KEY_PREFIX = "AKIALABKIT"

#: The fixed fake credentials of every emulated sandbox (they open nothing anywhere).
FAKE_ACCESS_KEY_ID = "AKIALABKITSANDBOX000"
FAKE_SECRET_ACCESS_KEY = "labkit-sandbox-fake-secret-key-0000000000"


def is_loopback_host(host: str) -> bool:
    """Return True when a connection to `host` stays on this machine; never resolves a name.

    Every textual form an address can take in a URL counts: IPv4 in any form `inet_aton` takes
    (`127.1`, `0x7f000001`, `2130706433`, `0177.0.0.1`), IPv6 in brackets or not, with a zone
    (`::1%lo`) or IPv4-mapped (`::ffff:127.0.0.1`), the unspecified addresses (`0.0.0.0`, `::`:
    connecting to them reaches this machine), and the names `localhost` and `*.localhost`
    (RFC 6761 reserves them for loopback), in any case, with or without a trailing dot.
    """
    # Full-width digits and letters become ASCII, as IDNA encoding does before a client connects.
    name = unicodedata.normalize("NFKC", host).strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    name = name.split("%", 1)[0]  # an IPv6 zone (`%lo`, `%25lo` in a URL) names an interface, not a host
    name = name.removesuffix(".")
    if not name:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = _inet_aton_address(name)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


def _inet_aton_address(name: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address the C library reads from `name` (`127.1`, hex, octal, one integer), if any."""
    if not name.isascii():
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


def is_loopback_url(url: str) -> bool:
    """Return True when `url`'s host is a loopback host (see `is_loopback_host`)."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return False
    return host is not None and is_loopback_host(host)


def refuse_non_loopback(**kwargs: Any) -> None:
    """botocore `before-send` hook: raise `EndpointRefusedError` for any non-loopback request."""
    url = str(kwargs["request"].url)
    if not is_loopback_url(url):
        raise EndpointRefusedError(url)


def isolated_botocore_session(region: str) -> botocore.session.Session:
    """Return a botocore session that reads no environment variable and no AWS config file.

    The session has the sandbox's fake credentials and region, and the loopback guard.
    """
    variables: dict[str, Any] = {}
    for name, (config_name, _env, default, converter) in botocore.session.Session.SESSION_VARIABLES.items():
        variables[name] = (config_name, None, default, converter)
    variables["config_file"] = (None, None, os.devnull, None)
    variables["credentials_file"] = (None, None, os.devnull, None)
    session = botocore.session.Session(session_vars=variables)
    # Service models are read once per process, not once per sandbox.
    session.register_component("data_loader", _shared_loader())
    session.set_config_variable("region", region)
    session.set_credentials(FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY)
    session.register("before-send", refuse_non_loopback, unique_id="labkit-loopback-guard")
    return session


@functools.cache
def _shared_loader() -> Any:
    return botocore.loaders.create_loader()


#: No proxy, whatever the environment says. The mapping must be non-empty (botocore reads the
#: environment's proxies when a client's `proxies` is empty) and must not name `http`: botocore sends
#: an absolute-form request target (`POST http://127.0.0.1:PORT/ HTTP/1.1`) whenever the `http` entry
#: is not None, even "", and the workshop server's SigV4 check then sees another path. The sandbox's
#: endpoints are plain http, so `http` falls through to None (no proxy); `https` maps to "" (none).
NO_PROXIES = {"https": ""}


def sandbox_client_config(given: Config | None = None) -> Config:
    """Client settings for an emulated sandbox: path-style S3, few retries, short timeouts, no proxy.

    Settings in `given` (a caller's own `Config`) win over these.
    """
    config = Config(
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        proxies=dict(NO_PROXIES),
    )
    return config.merge(given) if given is not None else config


class CredentialsMismatchError(LabkitError):
    """Credentials that do not belong to the sandbox's mode: real ones in an emulated mode, or the reverse."""

    exit_code = 3

    def __init__(self, mode: str, reason: str) -> None:
        super().__init__(f"refused to open a sandbox in mode {mode!r}: {reason}")
        self.mode = mode
        self.reason = reason


#: Options that would hand an emulated sandbox credentials of its own.
CREDENTIAL_OPTIONS = (
    "profile",
    "botocore_session",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
)


def refuse_credentials_in_emulated_mode(mode: str, options: dict[str, Any]) -> None:
    """Raise `CredentialsMismatchError` when an emulated mode is given a profile or credentials."""
    given = sorted(k for k in CREDENTIAL_OPTIONS if options.get(k) is not None)
    if given:
        raise CredentialsMismatchError(
            mode,
            f"{', '.join(given)} given, but an emulated sandbox uses only its own emulated credentials "
            "(use mode 'aws' for a real account)",
        )
