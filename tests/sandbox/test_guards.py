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
