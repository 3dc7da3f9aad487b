"""The one `Sandbox` interface every mode implements, and the shared part of the emulated modes."""

from __future__ import annotations

import abc
import datetime as dt
import re
import secrets
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import boto3
import botocore.session

from labkit.errors import LabkitError, LoadNotAvailableError, OutboxNotAvailableError
from labkit.sandbox.guards import (
    FAKE_ACCESS_KEY_ID,
    FAKE_SECRET_ACCESS_KEY,
    isolated_botocore_session,
    sandbox_client_config,
)
from labkit.sandbox.hermetic import loopback_no_proxy
from labkit.sandbox.waiting import advance_until, poll_until

__all__ = ["EmulatedSandbox", "Sandbox", "new_account_id", "new_session_id"]

T = TypeVar("T")

#: Variables that would point the AWS CLI or an SDK elsewhere; `exports()` unsets them.
REDIRECTING_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_CA_BUNDLE",
)


def new_session_id() -> str:
    """Return a fresh sandbox session id such as `lk-3f9a0c12d4`."""
    return "lk-" + secrets.token_hex(5)


def new_account_id() -> str:
    """Return a random 12-digit account id for an emulated sandbox (never moto's default)."""
    while True:
        account = str(secrets.randbelow(9 * 10**11) + 10**11)
        if account != "123456789012":
            return account


class Sandbox(abc.ABC):
    """An AWS account to do a lab in: emulated (`embedded`, `server`) or real (`aws`).

    Use it as a context manager; `close()` releases what the sandbox holds.
    """

    mode: ClassVar[str]
    region: str
    account_id: str
    session_id: str
    lab: str | None

    @property
    @abc.abstractmethod
    def session(self) -> boto3.Session:
        """The boto3 session of this sandbox (the only place labkit makes sessions)."""

    @property
    @abc.abstractmethod
    def endpoint_url(self) -> str | None:
        """Where the sandbox's clients send requests (None for a real account)."""

    def client(self, service: str, **kwargs: Any) -> Any:
        """Return a boto3 client for `service` in this sandbox."""
        return self.session.client(service, **kwargs)  # type: ignore[call-overload]

    def resource(self, service: str, **kwargs: Any) -> Any:
        """Return a boto3 resource for `service` in this sandbox."""
        return self.session.resource(service, **kwargs)  # type: ignore[call-overload]

    @property
    def clock_mode(self) -> str:
        """`realtime` or `manual` (a real account's clock is real time)."""
        return "realtime"

    @property
    def clock_speed(self) -> float:
        """Emulated seconds per wall-clock second: 1 for a real account, 0 for a manual clock."""
        return 1.0

    @abc.abstractmethod
    def now(self) -> dt.datetime:
        """Return the sandbox's current time (emulated time in emulated modes)."""

    @abc.abstractmethod
    def advance(self, seconds: float) -> dt.datetime:
        """Move the sandbox's clock forward; raises `ClockNotAvailableError` for a real account."""

    def wait_until(self, condition: Callable[[], T | None], what: str, *, limit: float, step: float) -> T:
        """Wait on the sandbox's clock until `condition()` returns something truthy, and return it.

        `what` says what is awaited; `limit` and `step` are emulated seconds. A manual clock is
        advanced `step` at a time; a running clock (accelerated in an emulator, real time in a real
        account) is never moved: the condition is asked again after the wall time `step` takes at
        the clock's speed (at least 0.1 s, at most 10 s). Raises `WaitTimeoutError` (carrying `what`
        and `limit`) when `limit` emulated seconds pass first, `ValueError` for a step that is not
        positive; an exception of `condition` propagates.
        """
        if self.clock_mode == "manual":
            return advance_until(self, condition, what, limit=limit, step=step)
        return poll_until(condition, what, limit=limit, step=step, speed=self.clock_speed)

    @abc.abstractmethod
    def close(self) -> None:
        """Release what the sandbox holds; safe to call twice."""

    def set_load(
        self,
        *,
        cluster: str | None = None,
        service: str | None = None,
        cpu: float | None = None,
        memory: float | None = None,
        target_group: str | None = None,
        requests_per_second: float | None = None,
    ) -> dict[str, Any]:
        """Put load on a service (`cpu` CPU units, `memory` MiB in all) or a target group; return the load model.

        The service's RUNNING tasks share the demand, which CloudWatch's metrics show each minute.
        Raises `LoadError` for an unknown service or target group, `LoadNotAvailableError` in a real
        account (there, load comes from real traffic).
        """
        raise LoadNotAvailableError(self.mode)

    def load(self) -> dict[str, Any]:
        """The load model and the requests counted per target; raises `LoadNotAvailableError` for a real account."""
        raise LoadNotAvailableError(self.mode)

    def outbox(self, topic_arn: str | None = None, *, endpoint: str | None = None) -> list[dict[str, str]]:
        """The e-mails SNS email/email-json subscriptions received, oldest first (emulated modes).

        Each is a dict with topic_arn, endpoint, protocol, subscription_arn, message_id, subject,
        message and timestamp; filter by topic and/or endpoint. Raises `OutboxNotAvailableError`
        for a real account.
        """
        raise OutboxNotAvailableError(self.mode)

    @property
    def registry_host(self) -> str:
        """The container registry host to tag images with: ECR's `<account>.dkr.ecr.<region>.amazonaws.com`.

        An emulated sandbox serves its registry on its own loopback port (`127.0.0.1:PORT`).
        """
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"

    @property
    def registry_insecure(self) -> bool:
        """True when the registry speaks plain HTTP (loopback), so clients skip TLS verification."""
        return False

    def image_uri(self, repository: str, tag: str | None = None) -> str:
        """The reference to tag and push an image with: `registry_host/repository[:tag]`."""
        return f"{self.registry_host}/{repository}" + (f":{tag}" if tag else "")

    def describe(self) -> dict[str, Any]:
        """Return what a report may show about this sandbox (never a secret)."""
        return {
            "mode": self.mode,
            "region": self.region,
            "account_id": self.account_id,
            "session_id": self.session_id,
            "endpoint_url": self.endpoint_url,
            "lab": self.lab,
        }

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.endpoint_url or "real AWS"
        return f"<{type(self).__name__} {self.session_id} account={self.account_id} {self.region} at {where}>"


class _LoopbackSession(boto3.Session):
    """A boto3 session whose clients and resources go to the sandbox's endpoint unless told otherwise."""

    def __init__(self, botocore_session: botocore.session.Session, region: str, endpoint_url: str) -> None:
        super().__init__(botocore_session=botocore_session, region_name=region)
        self._labkit_endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self._labkit_endpoint_url)
        kwargs["config"] = sandbox_client_config(kwargs.get("config"))
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self._labkit_endpoint_url)
        kwargs["config"] = sandbox_client_config(kwargs.get("config"))
        return super().resource(*args, **kwargs)


class EmulatedSandbox(Sandbox):
    """What `embedded` and `server` share: an emulator on loopback reached with fake credentials."""

    def __init__(
        self, *, endpoint_url: str, region: str, account_id: str, session_id: str, lab: str | None
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.session_id = session_id
        self.lab = lab
        self._endpoint_url = endpoint_url
        self._session = _LoopbackSession(isolated_botocore_session(region), region, endpoint_url)

    @property
    def session(self) -> boto3.Session:
        return self._session

    @property
    def endpoint_url(self) -> str:
        return self._endpoint_url

    @property
    def registry_host(self) -> str:
        """`127.0.0.1:PORT`: the emulator serves the registry (`/v2/`) on its own port."""
        from urllib.parse import urlsplit

        return urlsplit(self._endpoint_url).netloc

    @property
    def registry_insecure(self) -> bool:
        return True

    @abc.abstractmethod
    def listeners(self) -> list[dict[str, Any]]:
        """Every load balancer listener with its loopback URL (`url`), port and load balancer."""

    def listener_url(self, load_balancer_arn: str, port: int = 80) -> str:
        """Return the loopback URL of a load balancer's listener; raises `LabkitError` if it has none."""
        for row in self.listeners():
            if row["load_balancer_arn"] == load_balancer_arn and int(row["port"]) == port:
                return str(row["url"])
        raise LabkitError(f"load balancer {load_balancer_arn} has no listener on port {port}")

    def express_services(self) -> list[dict[str, Any]]:
        """Every ACTIVE ECS Express service with its `endpoint` and loopback `url` (none without a simulator)."""
        return []

    def express_url(self, service: str) -> str:
        """The loopback URL that reaches an Express service (its ARN, name or endpoint); `LabkitError` if none."""
        for row in self.express_services():
            if service in (row["service_arn"], row["service_name"], row["endpoint"]):
                return str(row["url"])
        raise LabkitError(f"no ACTIVE Express service {service} in this sandbox")

    def _load(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a load model change (empty: none) to the emulator; return the model."""
        raise LoadNotAvailableError(self.mode)

    def set_load(
        self,
        *,
        cluster: str | None = None,
        service: str | None = None,
        cpu: float | None = None,
        memory: float | None = None,
        target_group: str | None = None,
        requests_per_second: float | None = None,
    ) -> dict[str, Any]:
        given = {
            "cluster": cluster,
            "service": service,
            "cpu": cpu,
            "memory": memory,
            "target_group": target_group,
            "requests_per_second": requests_per_second,
        }
        return self._load({k: v for k, v in given.items() if v is not None})

    def load(self) -> dict[str, Any]:
        return self._load({})

    def exports(self) -> dict[str, str | None]:
        """Environment for other processes (AWS CLI, boto3) to reach this sandbox; None means unset."""
        return exports_for(self._endpoint_url, self.region)


_REGION_NAME = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-[0-9]+$")


def sandbox_config_text(region: str) -> str:
    """The AWS config file of an emulated sandbox: the default profile's region and output, nothing secret.

    Raises `LabkitError` for a region that is not a region name (it would not stay one line of the file).
    """
    if not _REGION_NAME.match(region):
        raise LabkitError(f"{region!r} is not an AWS region name (such as eu-west-1)")
    return f"# Written by labkit for its sandbox: no profile, no credentials.\n[default]\nregion = {region}\noutput = json\n"


def exports_for(
    endpoint_url: str,
    region: str,
    environ: dict[str, str] | None = None,
    *,
    config_file: str | None = None,
) -> dict[str, str | None]:
    """Return the variables to set (and, as None, to unset) to reach an emulator at `endpoint_url`.

    `config_file` is the sandbox's own AWS config file (`sandbox_config_text`), so that
    `aws configure get region` answers; without one the CLI reads no config file at all.
    """
    import os

    environ = dict(os.environ) if environ is None else environ
    values: dict[str, str | None] = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # A real profile's settings (roles, endpoints, credential processes) must not apply.
        # The sandbox's own config file holds the region only; the credentials file is never read.
        "AWS_CONFIG_FILE": config_file or "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
        # The emulator is on loopback: never through the caller's HTTP(S)_PROXY.
        "NO_PROXY": loopback_no_proxy(environ),
        "no_proxy": loopback_no_proxy(environ),
    }
    for name in REDIRECTING_VARIABLES:
        values[name] = None
    for name in sorted(environ):
        if name.startswith("AWS_ENDPOINT_URL_"):
            values[name] = None
    return values
