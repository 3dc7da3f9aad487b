"""Image stand-ins: image names, the registry, what each stand-in answers, and a task's server."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from labkit.dataplane import (
    ContainerContext,
    TaskServer,
    available_images,
    image_factory,
    parse_image_name,
    register_image,
    task_hostname,
    unregister_image,
)
from labkit.dataplane.images import default_stand_in, nginx_hello, nginx_official


def make_context(
    image: str, *, task_id: str = "0a1b2c3d", ip: str = "10.0.1.23", port: int = 80
) -> ContainerContext:
    """A container context for a task in us-east-1 with the given image."""
    return ContainerContext(
        task_id=task_id,
        task_arn=f"arn:aws:ecs:us-east-1:123456789012:task/labkit/{task_id}",
        container_name="web",
        image=image,
        private_ip=ip,
        container_port=port,
        hostname=task_hostname(ip, "us-east-1"),
        environment={"GREETING": "hello"},
        availability_zone="us-east-1a",
    )


def fetch(url: str, path: str = "/", method: str = "GET") -> tuple[int, http.client.HTTPResponse, str]:
    """GET (or `method`) a path from a loopback URL; return status, response and body text."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path)
        response = connection.getresponse()
        return response.status, response, response.read().decode()
    finally:
        connection.close()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        elif tag in ("p", "br", "div", "h1"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def rendered_text(page: str) -> str:
    """The text a browser shows for an HTML page, one line per block, spaces normalised."""
    parser = _Text()
    parser.feed(page)
    lines = "".join(parser.parts).replace("\xa0", " ").splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


@pytest.fixture
def hello() -> Iterator[TaskServer]:
    """A running task of nginxdemos/hello at 10.0.1.23:80."""
    with TaskServer(make_context("nginxdemos/hello")) as server:
        yield server


# -- image names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "registry", "repository", "tag"),
    [
        ("nginxdemos/hello", "docker.io", "nginxdemos/hello", None),
        ("nginxdemos/hello:latest", "docker.io", "nginxdemos/hello", "latest"),
        ("docker.io/nginxdemos/hello:plain-text", "docker.io", "nginxdemos/hello", "plain-text"),
        ("nginx", "docker.io", "nginx", None),
        ("docker.io/library/nginx:1.27", "docker.io", "nginx", "1.27"),
        ("public.ecr.aws/nginx/nginx:1.27", "public.ecr.aws", "nginx/nginx", "1.27"),
        ("public.ecr.aws/docker/library/httpd:2.4", "public.ecr.aws", "httpd", "2.4"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:v2",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "hello",
            "v2",
        ),
        ("localhost:5000/team/app", "localhost:5000", "team/app", None),
    ],
)
def test_image_names_split_into_registry_repository_and_tag(
    image: str, registry: str, repository: str, tag: str | None
) -> None:
    """Every usual form of image reference yields its registry, repository name and tag."""
    name = parse_image_name(image)
    assert (name.registry, name.repository, name.tag) == (registry, repository, tag)


def test_image_digest_is_kept_apart_from_the_repository() -> None:
    """A digest reference keeps the repository name and reports the digest."""
    name = parse_image_name("nginxdemos/hello@sha256:0123abcd")
    assert name.repository == "nginxdemos/hello"
    assert name.digest == "sha256:0123abcd"
    assert name.reference == "sha256:0123abcd"


@pytest.mark.parametrize("image", ["", "  ", "nginx:", "nginx@", "team//app", "my image"])
def test_malformed_image_reference_is_refused(image: str) -> None:
    """A malformed image reference raises ValueError."""
    with pytest.raises(ValueError, match="not an image reference"):
        parse_image_name(image)


# -- the registry --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "factory"),
    [
        ("nginxdemos/hello", nginx_hello),
        ("docker.io/nginxdemos/hello:plain-text", nginx_hello),
        ("nginx:1.27", nginx_official),
        ("public.ecr.aws/nginx/nginx:1.27", nginx_official),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:v2", default_stand_in),
    ],
)
def test_image_gets_its_stand_in(image: str, factory: Any) -> None:
    """An image gets the stand-in registered for its repository, or the default one."""
    assert image_factory(image) is factory


def test_labkit_registers_its_stand_ins() -> None:
    """The stand-ins labkit ships are listed by name."""
    assert {"nginxdemos/hello", "nginx", "httpd"} <= set(available_images())


def test_exact_repository_beats_a_glob_which_beats_the_default() -> None:
    """The most specific registration wins: exact name, then the glob with most literal text."""
    register_image("*/hello", nginx_official)
    register_image("team/*", default_stand_in)
    register_image("team/hello", nginx_hello)
    try:
        assert image_factory("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/hello:v1") is nginx_hello
        assert image_factory("other/hello") is nginx_official
        assert image_factory("team/other") is default_stand_in
    finally:
        for pattern in ("*/hello", "team/*", "team/hello"):
            unregister_image(pattern)
    assert "team/hello" not in available_images()


def test_pattern_with_a_tag_is_refused() -> None:
    """A pattern names a repository; one carrying a tag raises ValueError."""
    with pytest.raises(ValueError, match="without registry or tag"):
        register_image("nginx:latest", nginx_official)


@pytest.mark.parametrize(
    ("region", "hostname"),
    [
        ("us-east-1", "ip-10-0-1-23.ec2.internal"),
        ("eu-west-1", "ip-10-0-1-23.eu-west-1.compute.internal"),
    ],
)
def test_task_hostname_follows_the_region(region: str, hostname: str) -> None:
    """A task's hostname is ec2.internal in us-east-1 and <region>.compute.internal elsewhere."""
    assert task_hostname("10.0.1.23", region) == hostname


# -- what the stand-ins answer -------------------------------------------------------------------


def test_hello_page_shows_the_task_address_hostname_and_uri(hello: TaskServer) -> None:
    """nginxdemos/hello shows the task's private IP:port, its hostname and the URI requested."""
    status, response, page = fetch(hello.url, "/shop/cart?item=42")
    text = rendered_text(page)
    assert status == 200
    assert response.getheader("Content-Type") == "text/html"
    assert response.getheader("Server", "").startswith("nginx/1.")
    assert "Server address: 10.0.1.23:80" in text
    assert "Server name: ip-10-0-1-23.ec2.internal" in text
    assert "URI: /shop/cart?item=42" in text
    assert "Date: " in text
    assert "Request ID: " in text


def test_hello_answers_every_path_with_a_new_request_id(hello: TaskServer) -> None:
    """Any path answers 200, and each response carries its own request ID."""
    ids = set()
    for path in ("/", "/health", "/no/such/page"):
        status, _, page = fetch(hello.url, path)
        assert status == 200
        line = next(line for line in rendered_text(page).splitlines() if line.startswith("Request ID:"))
        ids.add(line)
    assert len(ids) == 3


def test_hello_plain_text_tag_answers_text_lines() -> None:
    """The plain-text tag answers text/plain with the address, name, date, URI and request ID lines."""
    with TaskServer(make_context("nginxdemos/hello:plain-text", ip="10.0.2.7", port=8080)) as server:
        status, response, body = fetch(server.url, "/api")
    assert status == 200
    assert response.getheader("Content-Type") == "text/plain"
    lines = body.splitlines()
    assert lines[0] == "Server address: 10.0.2.7:8080"
    assert lines[1] == "Server name: ip-10-0-2-7.ec2.internal"
    assert lines[2].startswith("Date: ")
    assert lines[3] == "URI: /api"
    assert lines[4].startswith("Request ID: ")
    assert len(lines[4].removeprefix("Request ID: ")) == 32


def test_official_nginx_welcomes_on_root_and_404s_elsewhere() -> None:
    """The nginx image answers its welcome page on / and nginx's 404 page elsewhere."""
    with TaskServer(make_context("nginx:1.27")) as server:
        status, response, page = fetch(server.url, "/")
        missing_status, missing, missing_page = fetch(server.url, "/health")
    assert status == 200
    assert "Welcome to nginx!" in rendered_text(page)
    assert response.getheader("Server", "").startswith("nginx/")
    assert missing_status == 404
    assert "404 Not Found" in rendered_text(missing_page)
    assert missing.getheader("Server", "").startswith("nginx/")


def test_httpd_says_it_works() -> None:
    """The httpd image answers "It works!" with an Apache Server header."""
    with TaskServer(make_context("public.ecr.aws/docker/library/httpd:2.4")) as server:
        status, response, page = fetch(server.url, "/")
    assert status == 200
    assert rendered_text(page) == "It works!"
    assert response.getheader("Server", "").startswith("Apache/2.4")


def test_image_without_stand_in_names_itself_on_root_only() -> None:
    """An image labkit has no stand-in for answers one line naming it on /, and 404 elsewhere."""
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hello:v2"
    with TaskServer(make_context(image, task_id="feedbeef")) as server:
        status, _, body = fetch(server.url, "/")
        missing, _, _ = fetch(server.url, "/health")
    assert status == 200
    assert body == f"labkit stand-in for {image} (task feedbeef, container web)\n"
    assert missing == 404


def test_only_one_server_header_reaches_the_client(hello: TaskServer) -> None:
    """A stand-in's response names its image's server only, not the Python server behind it."""
    _, response, _ = fetch(hello.url, "/")
    servers = [value for name, value in response.getheaders() if name.lower() == "server"]
    assert len(servers) == 1
    assert "Werkzeug" not in servers[0]


# -- a task's server -----------------------------------------------------------------------------


def test_closing_a_task_server_frees_its_port() -> None:
    """A stopped task's server no longer answers and its port can be bound again."""
    server = TaskServer(make_context("nginxdemos/hello"))
    assert not server.stopped
    port = server.port
    assert server.url == f"http://127.0.0.1:{port}"
    server.close()
    server.close()
    assert server.stopped
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
    with pytest.raises(ConnectionRefusedError):
        fetch(server.url, "/")


def test_task_server_keeps_its_context(hello: TaskServer) -> None:
    """A task's server says which task and image it stands for."""
    assert hello.context.task_id == "0a1b2c3d"
    assert "nginxdemos/hello" in repr(hello)
