"""Emulated sandboxes' clients reach loopback only, whatever the environment says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.httpsession
import pytest

import labkit
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.guards import is_loopback_url


class SentRequests:
    """Records the URL of every HTTP request botocore actually sends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.urls: list[str] = []
        original = botocore.httpsession.URLLib3Session.send

        def send(session: Any, request: Any) -> Any:
            self.urls.append(request.url)
            return original(session, request)

        monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", send)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> SentRequests:
    return SentRequests(monkeypatch)


@pytest.fixture
def hostile_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment that points everything at a real account and real endpoints."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile real]\nregion = eu-west-1\nendpoint_url = https://ecs.eu-west-1.amazonaws.com\n"
        "[default]\nregion = eu-west-1\n"
    )
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("[real]\naws_access_key_id = AKIAREALREALREALREAL\naws_secret_access_key = real\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_PROFILE", "real")
    monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.com")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECS", "https://ecs.eu-west-1.amazonaws.com")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALREALREALREAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


@pytest.mark.usefixtures("hostile_environment")
def test_clients_reach_loopback_only_whatever_the_environment_says(sent: SentRequests) -> None:
    """AWS_PROFILE, AWS_ENDPOINT_URL_*, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: requests still go to 127.0.0.1."""
    with labkit.open_sandbox(clock="manual") as sb:
        sb.client("ecs").create_cluster(clusterName="safe")
        sb.session.client("ecs").list_clusters()
        sb.client("sts").get_caller_identity()
        sb.resource("s3").create_bucket(Bucket="safe-bucket")
        assert sb.region == "us-east-1"
    assert sent.urls, "the calls above must have sent requests"
    assert all(is_loopback_url(url) for url in sent.urls), sent.urls


@pytest.mark.usefixtures("hostile_environment")
def test_the_sandbox_uses_its_fake_credentials(sandbox: EmbeddedSandbox) -> None:
    """The access key in the environment is not the one the sandbox's clients sign with."""
    credentials = sandbox.session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "AKIALABKITSANDBOX000"
    identity = sandbox.client("sts").get_caller_identity()
    assert identity["Account"] == sandbox.account_id


def test_a_non_loopback_endpoint_is_refused_before_any_request(
    sandbox: EmbeddedSandbox, sent: SentRequests
) -> None:
    """A client pointed at AWS by hand raises EndpointRefusedError and sends nothing."""
    ecs = sandbox.client("ecs", endpoint_url="https://ecs.us-east-1.amazonaws.com")
    with pytest.raises(labkit.EndpointRefusedError, match=r"only talks to 127\.0\.0\.1"):
        ecs.list_clusters()
    assert sent.urls == []


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://127.8.9.10/", True),
        ("http://[::1]:80/", True),
        ("http://localhost:1/", True),
        ("https://ecs.us-east-1.amazonaws.com", False),
        ("http://10.0.0.1/", False),
        ("http://127.0.0.1.nip.io/", False),
        ("not a url", False),
    ],
)
def test_is_loopback_url(url: str, loopback: bool) -> None:
    """Only 127.0.0.0/8, ::1 and localhost count as loopback."""
    assert is_loopback_url(url) is loopback


LOOPBACK_HOSTS = [
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "127.255.255.254",
    "0x7f000001",
    "0X7F000001",
    "2130706433",
    "0177.0.0.1",
    "0x7f.0.0.1",
    "017700000001",
    "127.0.0.1.",
    "::1",
    "[::1]",
    "::1%lo",
    "0:0:0:0:0:0:0:1",
    "::ffff:127.0.0.1",
    "[::ffff:127.0.0.1]",
    "::ffff:7f00:1",
    "localhost",
    "localhost.",
    "LOCALHOST",
    "LocalHost.",
    "emulator.localhost",
    "\uff2c\uff2f\uff23\uff21\uff2c\uff28\uff2f\uff33\uff34",  # full-width LOCALHOST
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # full-width 127.0.0.1
    "0.0.0.0",
    "0",
    "::",
]

REMOTE_HOSTS = [
    "10.0.0.1",
    "128.0.0.1",
    "0x80000001",
    "1.2.3.4",
    "::2",
    "::ffff:10.0.0.1",
    "2001:db8::1",
    "example.com",
    "localhost.example.com",
    "mylocalhost",
    "127.0.0.1.example.com",
    "sts.amazonaws.com",
    "",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_every_textual_form_of_loopback_is_loopback(host: str) -> None:
    """IPv4 shorthand, integer, hex and octal forms, IPv6 and IPv4-mapped, localhost names: all loopback."""
    from labkit.sandbox.guards import is_loopback_host

    assert is_loopback_host(host)


@pytest.mark.parametrize("host", REMOTE_HOSTS)
def test_other_hosts_are_not_loopback(host: str) -> None:
    """Addresses outside 127.0.0.0/8 and ::1, and names that merely contain `localhost`, are not loopback."""
    from labkit.sandbox.guards import is_loopback_host

    assert not is_loopback_host(host)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1:4566",
        "http://0x7f000001:4566/",
        "http://2130706433:4566",
        "http://[::ffff:127.0.0.1]:4566",
        "http://[::1]:4566",
        "http://[::1%25lo]:4566",
        "http://localhost.:4566",
        "http://LOCALHOST:4566",
        "https://sandbox.localhost",
    ],
)
def test_loopback_urls_in_every_form(url: str) -> None:
    """A URL's host is judged as `is_loopback_host` judges it."""
    assert is_loopback_url(url)


@pytest.mark.parametrize("url", ["https://ecs.us-east-1.amazonaws.com", "http://[::1", "not a url", ""])
def test_non_loopback_or_broken_urls_are_not_loopback(url: str) -> None:
    """A remote host, or a URL that does not parse, is never loopback."""
    assert not is_loopback_url(url)


def test_no_name_is_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deciding never asks DNS: names are judged by name alone."""
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a name was resolved")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    from labkit.sandbox.guards import is_loopback_host

    assert is_loopback_host("localhost")
    assert not is_loopback_host("example.com")
