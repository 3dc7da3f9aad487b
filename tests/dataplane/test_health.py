"""Target group health checks: one GET judged by an ELBv2 matcher, with ELBv2's reason codes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

from labkit.dataplane import ContainerContext, TaskServer, check_target, parse_matcher, task_hostname
from labkit.dataplane.images import serve_on_loopback
from labkit.errors import EndpointRefusedError


def make_context(image: str) -> ContainerContext:
    """A container context for a task at 10.0.1.23:80 in us-east-1."""
    return ContainerContext(
        task_id="0a1b2c3d",
        task_arn="arn:aws:ecs:us-east-1:123456789012:task/labkit/0a1b2c3d",
        container_name="web",
        image=image,
        private_ip="10.0.1.23",
        container_port=80,
        hostname=task_hostname("10.0.1.23", "us-east-1"),
        environment={},
        availability_zone="us-east-1a",
    )


@pytest.fixture
def hello() -> Iterator[TaskServer]:
    """A running task of nginxdemos/hello."""
    with TaskServer(make_context("nginxdemos/hello")) as server:
        yield server


@pytest.fixture
def nginx() -> Iterator[TaskServer]:
    """A running task of the official nginx image."""
    with TaskServer(make_context("nginx:1.27")) as server:
        yield server


# -- checking a target ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/anything"])
def test_hello_passes_on_any_path(hello: TaskServer, path: str) -> None:
    """nginxdemos/hello answers 200 everywhere, so its health check passes on any path."""
    result = check_target(hello.url, path)
    assert result.healthy
    assert result.state == "healthy"
    assert result.reason_code is None
    assert result.description == ""


def test_nginx_fails_on_a_path_it_does_not_serve(nginx: TaskServer) -> None:
    """The nginx image answers 404 on /health: the check fails with ResponseCodeMismatch and [404]."""
    result = check_target(nginx.url, "/health")
    assert not result.healthy
    assert result.state == "unhealthy"
    assert result.reason_code == "Target.ResponseCodeMismatch"
    assert result.description == "Health checks failed with these codes: [404]"


def test_wider_matcher_accepts_the_404(nginx: TaskServer) -> None:
    """A matcher of 200-499 counts nginx's 404 as healthy."""
    assert check_target(nginx.url, "/health", matcher="200-499").healthy


def test_stopped_target_fails_health_checks() -> None:
    """A target that refuses the connection fails with Target.FailedHealthChecks."""
    server = TaskServer(make_context("nginxdemos/hello"))
    server.close()
    result = check_target(server.url)
    assert result.reason_code == "Target.FailedHealthChecks"
    assert result.description == "Health checks failed"


def test_slow_target_times_out() -> None:
    """A target slower than the timeout fails with Target.Timeout."""

    def slow(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(0.6)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    with serve_on_loopback(slow, name="slow-target") as server:
        result = check_target(server.url, timeout=0.2)
    assert result.reason_code == "Target.Timeout"
    assert result.description == "Request timed out"


@pytest.mark.parametrize("url", ["http://10.0.1.23:80", "http://example.com", "https://192.0.2.1:8443"])
def test_non_loopback_target_is_refused(url: str) -> None:
    """A health check never leaves loopback: any other URL raises EndpointRefusedError."""
    with pytest.raises(EndpointRefusedError):
        check_target(url)


def test_bad_path_is_refused(hello: TaskServer) -> None:
    """A health check path must start with a slash."""
    with pytest.raises(ValueError, match="starts with '/'"):
        check_target(hello.url, "health")


# -- matchers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matcher", "accepted", "refused"),
    [
        ("200", [200], [201, 302, 404]),
        ("200,302", [200, 302], [201, 301, 404]),
        ("200-399", [200, 250, 302, 399], [404, 499]),
        ("200-299, 404", [200, 299, 404], [302, 403]),
    ],
)
def test_matcher_accepts_its_codes_only(matcher: str, accepted: list[int], refused: list[int]) -> None:
    """A matcher accepts exactly the codes, lists and ranges it names."""
    accepts = parse_matcher(matcher)
    assert all(accepts(code) for code in accepted)
    assert not any(accepts(code) for code in refused)


@pytest.mark.parametrize(
    "matcher", ["", "ok", "20", "2000", "200-", "-200", "299-200", "200,,302", "100", "500-599"]
)
def test_bad_matcher_is_refused(matcher: str) -> None:
    """A matcher that is not a code, list or range of codes from 200 to 499 raises ValueError."""
    with pytest.raises(ValueError, match="invalid health check matcher"):
        parse_matcher(matcher)


def test_bad_matcher_is_refused_before_any_request(hello: TaskServer) -> None:
    """check_target raises ValueError for a bad matcher."""
    with pytest.raises(ValueError, match="invalid health check matcher"):
        check_target(hello.url, matcher="2xx")
