"""A listener port: round-robin over healthy targets, the headers an ALB adds, and its error pages."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from wsgiref.types import StartResponse, WSGIEnvironment

import pytest

from labkit.dataplane import ContainerContext, ListenerProxy, Target, TaskServer, task_hostname
from labkit.dataplane.images import serve_on_loopback

ALB_503 = "<center><h1>503 Service Temporarily Unavailable</h1></center>"
ALB_502 = "<center><h1>502 Bad Gateway</h1></center>"


def make_context(image: str, task_id: str, ip: str) -> ContainerContext:
    """A container context for a task in us-east-1 listening on port 80."""
    return ContainerContext(
        task_id=task_id,
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/labkit/{task_id}",
        container_name="web",
        image=image,
        private_ip=ip,
        container_port=80,
        hostname=task_hostname(ip, "us-east-1"),
        environment={},
        availability_zone="us-east-1a",
    )


def request(
    url: str,
    path: str = "/",
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, http.client.HTTPResponse, str]:
    """Send one request to a loopback URL; return status, response and body text."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response, response.read().decode()
    finally:
        connection.close()


def server_address(page: str) -> str:
    """The "Server address" the hello page shows."""
    found = re.search(r"Server&nbsp;address:</span> <span>([^<]+)</span>", page)
    assert found is not None, page
    return found.group(1)


def as_target(server: TaskServer) -> Target:
    """The target a task's server stands for."""
    return Target(target_id=server.context.task_id, port=server.port, url=server.url)


@pytest.fixture
def hello_tasks() -> Iterator[list[TaskServer]]:
    """Three running tasks of nginxdemos/hello at 10.0.1.11, 10.0.2.12 and 10.0.3.13."""
    servers = [TaskServer(make_context("nginxdemos/hello", f"task{n}", f"10.0.{n}.1{n}")) for n in (1, 2, 3)]
    yield servers
    for server in servers:
        server.close()


def _echo(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A target that answers with what it received, as JSON."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    seen = {
        "method": environ["REQUEST_METHOD"],
        "uri": environ.get("REQUEST_URI"),
        "body": environ["wsgi.input"].read(length).decode(),
        "headers": {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")},
    }
    payload = json.dumps(seen).encode()
    start_response(
        "201 Created",
        [
            ("Content-Type", "application/json"),
            ("Server", "echo/1.0"),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ],
    )
    return [payload]


# -- round-robin ---------------------------------------------------------------------------------


def test_three_tasks_answer_in_turn(hello_tasks: list[TaskServer]) -> None:
    """Six requests through one listener reach three tasks in rotation, each twice."""
    targets = [as_target(server) for server in hello_tasks]
    with ListenerProxy(lambda: targets) as listener:
        seen = [server_address(request(listener.url, "/")[2]) for _ in range(6)]
    assert seen[:3] == seen[3:]
    assert sorted(seen[:3]) == ["10.0.1.11:80", "10.0.2.12:80", "10.0.3.13:80"]


def test_removed_target_gets_no_more_requests(hello_tasks: list[TaskServer]) -> None:
    """A target taken out of the healthy set between requests is skipped from the next request."""
    targets = [as_target(server) for server in hello_tasks]
    with ListenerProxy(lambda: list(targets)) as listener:
        request(listener.url)
        targets.pop(0)
        seen = {server_address(request(listener.url)[2]) for _ in range(4)}
    assert seen == {"10.0.2.12:80", "10.0.3.13:80"}


def test_concurrent_requests_are_shared_evenly(hello_tasks: list[TaskServer]) -> None:
    """Thirty requests sent at once are split ten per task."""
    targets = [as_target(server) for server in hello_tasks]
    counts: dict[str, int] = {}
    lock = threading.Lock()
    with ListenerProxy(lambda: targets) as listener:

        def one() -> None:
            address = server_address(request(listener.url)[2])
            with lock:
                counts[address] = counts.get(address, 0) + 1

        threads = [threading.Thread(target=one) for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    assert counts == {"10.0.1.11:80": 10, "10.0.2.12:80": 10, "10.0.3.13:80": 10}


def test_before_request_runs_before_targets_are_chosen(hello_tasks: list[TaskServer]) -> None:
    """The listener brings the world up to date before it asks for the healthy targets."""
    calls: list[str] = []
    targets = [as_target(hello_tasks[0])]

    def before() -> None:
        calls.append("before")

    def healthy() -> Sequence[Target]:
        calls.append("targets")
        return targets

    with ListenerProxy(healthy, before_request=before) as listener:
        request(listener.url)
        request(listener.url)
    assert calls == ["before", "targets", "before", "targets"]


# -- what is forwarded ---------------------------------------------------------------------------


def test_request_is_forwarded_with_alb_headers() -> None:
    """Method, path, query, headers and body reach the target, with the X-Forwarded-* and trace headers."""
    with serve_on_loopback(_echo, name="echo") as echo:
        target = Target("echo", echo.port, echo.url)
        with ListenerProxy(lambda: [target]) as listener:
            status, response, body = request(
                listener.url,
                "/orders?id=7&x=a%20b",
                method="POST",
                body=b'{"qty": 2}',
                headers={
                    "Content-Type": "application/json",
                    "X-Custom": "yes",
                    "X-Forwarded-For": "203.0.113.9",
                },
            )
            port = listener.port
    seen = json.loads(body)
    assert status == 201
    assert seen["method"] == "POST"
    assert seen["uri"] == "/orders?id=7&x=a%20b"
    assert seen["body"] == '{"qty": 2}'
    headers = seen["headers"]
    assert headers["Host"] == f"127.0.0.1:{port}"
    assert headers["X-Custom"] == "yes"
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Port"] == str(port)
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    assert response.getheader("Server") == "echo/1.0"
    assert response.getheader("Content-Type") == "application/json"
    assert [v for k, v in response.getheaders() if k == "Set-Cookie"] == ["a=1", "b=2"]


def test_https_listener_says_so_in_x_forwarded_proto() -> None:
    """An HTTPS listener tells the target the client used https."""
    with (
        serve_on_loopback(_echo, name="echo") as echo,
        ListenerProxy(lambda: [Target("echo", echo.port, echo.url)], protocol="https") as listener,
    ):
        _, _, body = request(listener.url)
    assert json.loads(body)["headers"]["X-Forwarded-Proto"] == "https"


def test_proxy_environment_variables_are_ignored(
    hello_tasks: list[TaskServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY and friends never divert a forwarded request away from loopback."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    with ListenerProxy(lambda: [as_target(hello_tasks[0])]) as listener:
        status, _, page = request(listener.url)
    assert status == 200
    assert server_address(page) == "10.0.1.11:80"


def test_target_status_and_server_header_pass_through() -> None:
    """A target's 404 reaches the client as the target made it."""
    with (
        TaskServer(make_context("nginx", "t1", "10.0.1.5")) as nginx,
        ListenerProxy(lambda: [as_target(nginx)]) as listener,
    ):
        status, response, page = request(listener.url, "/missing")
    assert status == 404
    assert response.getheader("Server", "").startswith("nginx/")
    assert "404 Not Found" in page


# -- error pages ---------------------------------------------------------------------------------


def test_no_healthy_target_answers_503() -> None:
    """With no healthy target the listener answers the ALB's 503 page with Server: awselb/2.0."""
    with ListenerProxy(list) as listener:
        status, response, page = request(listener.url, "/")
    assert status == 503
    assert response.getheader("Server") == "awselb/2.0"
    assert response.getheader("Content-Type") == "text/html"
    assert ALB_503 in page


def test_dead_target_answers_502() -> None:
    """A target that does not answer gets the client the ALB's 502 page."""
    stopped = TaskServer(make_context("nginxdemos/hello", "dead", "10.0.1.99"))
    stopped.close()
    with ListenerProxy(lambda: [as_target(stopped)]) as listener:
        status, response, page = request(listener.url, "/")
    assert status == 502
    assert response.getheader("Server") == "awselb/2.0"
    assert ALB_502 in page


def test_slow_target_answers_504() -> None:
    """A target slower than the idle timeout gets the client a 504."""

    def slow(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(0.6)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    target = serve_on_loopback(slow, name="slow-target")
    with (
        target,
        ListenerProxy(lambda: [Target("slow", target.port, target.url)], idle_timeout=0.2) as listener,
    ):
        status, response, page = request(listener.url)
    assert status == 504
    assert response.getheader("Server") == "awselb/2.0"
    assert "504 Gateway Time-out" in page


def test_failing_simulator_answers_500() -> None:
    """When bringing the world up to date fails, the client gets a 500 page, not a hung connection."""

    def broken() -> None:
        raise RuntimeError("simulator broke")

    with ListenerProxy(list, before_request=broken) as listener:
        status, response, _ = request(listener.url)
    assert status == 500
    assert response.getheader("Server") == "awselb/2.0"


def test_non_loopback_target_is_never_contacted() -> None:
    """A target whose URL is not loopback gets a 502, not a request."""
    with ListenerProxy(lambda: [Target("far", 80, "http://192.0.2.10:80")]) as listener:
        status, _, _ = request(listener.url)
    assert status == 502


def test_unknown_protocol_is_refused() -> None:
    """A listener protocol other than HTTP or HTTPS raises ValueError."""
    with pytest.raises(ValueError, match="HTTP or HTTPS"):
        ListenerProxy(list, protocol="TCP")


def test_closing_a_listener_frees_its_port() -> None:
    """A closed listener's port can be listened on again."""
    listener = ListenerProxy(list)
    port = listener.port
    listener.close()
    with ListenerProxy(list, port=port) as again:
        assert again.url == f"http://127.0.0.1:{port}"


def test_a_route_chooses_the_targets_per_request_by_host_and_path() -> None:
    """With `route`, each request's targets come from route(host, path): here /api and / reach different tasks."""
    api = TaskServer(make_context("nginxdemos/hello", "api", "10.0.0.5"))
    web = TaskServer(make_context("nginxdemos/hello", "web", "10.0.0.6"))
    seen: list[tuple[str, str]] = []

    def route(host: str, path: str) -> list[Target]:
        seen.append((host, path))
        chosen = api if path.startswith("/api") else web
        return [Target(target_id=chosen.context.private_ip, port=80, url=chosen.url)]

    try:
        with ListenerProxy(lambda: [], route=route) as proxy:
            _, _, page = request(proxy.url, "/api/items?x=1")
            assert server_address(page) == "10.0.0.5:80"
            _, _, page = request(proxy.url, "/", headers={"Host": "demo.example.com"})
            assert server_address(page) == "10.0.0.6:80"
        assert seen == [("127.0.0.1", "/api/items"), ("demo.example.com", "/")]
    finally:
        api.close()
        web.close()
