"""Hermetic emulated sandboxes: the caller's AWS profile, config files, endpoints and proxies never apply.

An `embedded` or `server` sandbox talks to an emulator on loopback with its own fake credentials.
What the caller's environment says about AWS (`AWS_PROFILE`, `AWS_CONFIG_FILE`, `AWS_ENDPOINT_URL*`,
`AWS_CA_BUNDLE`, ...) or about proxies (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, either case) is
for real AWS, not for the sandbox. This module holds the three pieces that keep it out:

- `environment_for_sandbox_process`: the environment of a process the sandbox starts (the server);
- `loopback_no_proxy`: the `NO_PROXY` value that makes any HTTP client bypass proxies for loopback,
  for the environment handed to the AWS CLI and to notebook kernels;
- `ModelSession` / `model_botocore_session`: the sessions moto (in this process) builds to read
  botocore's models (regions, partitions, services) read no profile or config file; the moto seam
  (`labkit.sandbox.moto_seam.core`) binds them where moto binds `Session`.

`aws` mode is not hermetic: it uses the caller's real profile on purpose, and nothing here touches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3.session
import botocore.session

__all__ = [
    "CALLER_AWS_VARIABLES",
    "LOOPBACK_HOSTS",
    "PROXY_VARIABLES",
    "ModelSession",
    "environment_for_sandbox_process",
    "loopback_no_proxy",
    "model_botocore_session",
]

#: The caller's AWS settings that would send an SDK elsewhere or make it fail (a missing profile).
CALLER_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CA_BUNDLE",
    "AWS_DATA_PATH",
    "AWS_ENDPOINT_URL",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)

#: Proxy variables, both cases (urllib, requests, curl and botocore read them).
PROXY_VARIABLES = tuple(
    name for base in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY") for name in (base, base.lower())
)

#: Hosts that are never reached through a proxy.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def loopback_no_proxy(environ: Mapping[str, str]) -> str:
    """The caller's `NO_PROXY` (`no_proxy` first, as urllib reads it) with the loopback hosts added."""
    current = environ.get("no_proxy") or environ.get("NO_PROXY") or ""
    names = [n.strip() for n in current.split(",") if n.strip()]
    if "*" in names:
        return current
    names += [host for host in LOOPBACK_HOSTS if host not in names]
    return ",".join(names)


def environment_for_sandbox_process(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a process an emulated sandbox starts: no caller AWS settings, no proxy for loopback.

    Proxy variables stay (the process may fetch images through them); loopback bypasses them.
    `MOTO_ACCOUNT_ID` goes too: it would put every sandbox of the process in one account.
    """
    dropped = set(CALLER_AWS_VARIABLES) | {"MOTO_ACCOUNT_ID"}
    env = {k: v for k, v in environ.items() if k not in dropped and not k.startswith("AWS_ENDPOINT_URL_")}
    no_proxy = loopback_no_proxy(environ)
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


# -- moto's own sessions --------------------------------------------------------------------------


def model_botocore_session() -> botocore.session.Session:
    """A botocore session for reading botocore's models only: no environment, profile or config file."""
    from labkit.sandbox.guards import isolated_botocore_session

    return isolated_botocore_session("us-east-1")


class ModelSession(boto3.session.Session):
    """boto3's `Session` as moto calls it (no arguments): for models only, blind to the caller's profile."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args and kwargs.get("botocore_session") is None and kwargs.get("profile_name") is None:
            kwargs["botocore_session"] = model_botocore_session()
        super().__init__(*args, **kwargs)
