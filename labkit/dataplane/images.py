"""Image stand-ins: a small local HTTP server per running task, answering like the task's image.

A stand-in is a factory that takes a `ContainerContext` (the task's emulated IP, hostname, port...)
and returns a WSGI application. Factories are registered by repository name with
`register_image(pattern, factory)`; `image_app(context)` picks the most specific one for an image
reference such as `public.ecr.aws/nginx/nginx:1.27`. labkit registers:

- `nginxdemos/hello`: the NGINX demo page (server address and name, date, URI, request ID) on every
  path; the `plain-text` tag answers `text/plain` with the same lines.
- `nginx` (also `nginx/nginx`, the ECR Public copy): "Welcome to nginx!" on `/`, nginx's 404 page
  elsewhere.
- `httpd`: "It works!" on `/`, Apache's 404 page elsewhere.

An image without a stand-in gets the default one: `/` answers 200 `text/plain`
"labkit stand-in for <image> (task <id>, container <name>)" and any other path 404.

`TaskServer(context)` serves a task's stand-in on a free port of 127.0.0.1.

`is_known_public_image(image)` says whether a public image (Docker Hub, ECR Public or another registry)
is one the sandbox can pull: one with a stand-in registered for its exact repository or a glob, or one
of `PUBLIC_IMAGES`, well-known public images that get the default stand-in. The simulator stops a task
whose image is none of these (nor a workload's, nor pushed to the sandbox's ECR) as ECS stops a task
whose image does not exist.
"""

from __future__ import annotations

import fnmatch
import html
import ipaddress
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from werkzeug.wrappers import Response

from labkit.dataplane.stdout import ContainerOutput, access_logged
from labkit.sandbox.serving import LoopbackServer

__all__ = [
    "PUBLIC_IMAGES",
    "ContainerContext",
    "ImageFactory",
    "ImageName",
    "TaskServer",
    "WSGIApp",
    "available_images",
    "default_stand_in",
    "httpd_official",
    "image_app",
    "image_factory",
    "is_known_public_image",
    "nginx_flavour",
    "nginx_hello",
    "nginx_official",
    "parse_image_name",
    "register_image",
    "register_image_resolver",
    "serve_on_loopback",
    "task_hostname",
    "unregister_image",
]

#: A WSGI application, as a stand-in factory returns it.
WSGIApp = WSGIApplication
#: A stand-in: builds the WSGI application of one container from its context.
ImageFactory = Callable[["ContainerContext"], WSGIApp]

#: The `Server` header of the nginx-based stand-ins (nginxdemos/hello is built on nginx mainline).
NGINX_SERVER = "nginx/1.27.4"
#: The `Server` header of the httpd stand-in (the official image's default `ServerTokens Full`).
HTTPD_SERVER = "Apache/2.4.62 (Unix)"
#: The `Server` header of the default stand-in, which stands for no particular server.
DEFAULT_SERVER = "labkit-stand-in"

_DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


# -- what a container knows about itself ---------------------------------------------------------


@dataclass(frozen=True)
class ContainerContext:
    """What a container of a running task sees of itself: its task, image, address and environment."""

    task_id: str
    task_arn: str
    container_name: str
    image: str
    #: The task's emulated private IPv4 address in its subnet, e.g. 10.0.1.23.
    private_ip: str
    container_port: int
    #: The container's hostname, e.g. ip-10-0-1-23.ec2.internal (see `task_hostname`).
    hostname: str
    environment: Mapping[str, str] = field(hash=False)
    availability_zone: str
    #: Files the container's command wrote (absolute path -> text; `labkit.dataplane.commands`).
    written: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: Where the container's standard output goes (the awslogs driver's source); None: nowhere.
    output: ContainerOutput | None = field(default=None, hash=False, compare=False)
    #: Told (bytes received, bytes sent) for each request served, HTTP/1.1 framing included; None: not counted.
    traffic: Callable[[int, int], None] | None = field(default=None, hash=False, compare=False)

    def written_page(self, document_root: str, path: str) -> str | None:
        """The file the command wrote that a server with `document_root` serves at URL `path` (`/` is index.html)."""
        if not self.written:
            return None
        relative = path.lstrip("/")
        if relative == "" or relative.endswith("/"):
            relative += "index.html"
        if ".." in relative.split("/"):
            return None
        return self.written.get(f"{document_root.rstrip('/')}/{relative}")


def task_hostname(private_ip: str, region: str) -> str:
    """Return the hostname an awsvpc task with this IP has on AWS, e.g. `ip-10-0-1-23.ec2.internal`.

    us-east-1 uses `ec2.internal`, every other region `<region>.compute.internal`.
    Raises `ValueError` when `private_ip` is not an IPv4 address.
    """
    address = ipaddress.IPv4Address(private_ip)
    name = "ip-" + str(address).replace(".", "-")
    if region == "us-east-1":
        return f"{name}.ec2.internal"
    return f"{name}.{region}.compute.internal"


# -- image references ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageName:
    """An image reference split into registry, repository, tag and digest.

    Docker Hub's official images lose their `library/` prefix (`docker.io/library/nginx` is
    `nginx`), as do ECR Public's copies of them (`public.ecr.aws/docker/library/nginx`).
    """

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """The tag, the digest, or `latest` when the reference names neither."""
        return self.tag or self.digest or "latest"


def parse_image_name(image: str) -> ImageName:
    """Split an image reference (`nginx`, `docker.io/nginxdemos/hello:plain-text`, an ECR URI...).

    Raises `ValueError` for an empty reference or one with whitespace or an empty path component.
    """
    text = image.strip()
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"not an image reference: {image!r}")
    digest: str | None = None
    if "@" in text:
        text, digest = text.split("@", 1)
        if not digest:
            raise ValueError(f"not an image reference (empty digest): {image!r}")
    parts = text.split("/")
    registry = _DOCKER_HUB
    # As Docker does: the first component is a registry when it has a dot or a port, or is localhost.
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts.pop(0)
    tag: str | None = None
    if ":" in parts[-1]:
        parts[-1], tag = parts[-1].split(":", 1)
        if not tag:
            raise ValueError(f"not an image reference (empty tag): {image!r}")
    if any(not part for part in parts):
        raise ValueError(f"not an image reference (empty path component): {image!r}")
    repository = "/".join(parts).lower()
    if registry in _DOCKER_HUB_ALIASES:
        registry = _DOCKER_HUB
        repository = repository.removeprefix("library/")
    elif registry == "public.ecr.aws":
        repository = repository.removeprefix("docker/library/")
    return ImageName(registry=registry, repository=repository, tag=tag, digest=digest)


# -- the registry --------------------------------------------------------------------------------

_IMAGES: dict[str, ImageFactory] = {}
_IMAGES_LOCK = threading.Lock()


def register_image(pattern: str, factory: ImageFactory) -> None:
    """Register a stand-in for a repository name (`nginxdemos/hello`) or a glob of them (`*/hello`).

    A later registration under the same pattern replaces the earlier one. Raises `ValueError` for
    a pattern that is empty or carries a tag, a digest or whitespace.
    """
    if not pattern or any(ch in pattern for ch in ":@") or any(ch.isspace() for ch in pattern):
        raise ValueError(
            f"an image pattern is a repository name without registry or tag, e.g. 'nginxdemos/hello'; got {pattern!r}"
        )
    with _IMAGES_LOCK:
        _IMAGES[pattern.lower()] = factory


def unregister_image(pattern: str) -> None:
    """Remove the stand-in registered under `pattern`; raises `KeyError` when there is none."""
    with _IMAGES_LOCK:
        del _IMAGES[pattern.lower()]


def available_images() -> list[str]:
    """Return the registered patterns, sorted (an image matching none gets the default stand-in)."""
    with _IMAGES_LOCK:
        return sorted(_IMAGES)


#: Functions that say which image another one stands for (None: no opinion), asked in order.
ImageResolver = Callable[[str], "str | None"]
_RESOLVERS: list[ImageResolver] = []


def register_image_resolver(resolver: ImageResolver) -> None:
    """Ask `resolver(image)` which image a reference stands for before picking its stand-in.

    The sandbox registry registers one: an image pushed to the sandbox's ECR that says what it is
    (its config's `org.opencontainers.image.base.name` label, e.g. `nginxdemos/hello`) gets that
    image's stand-in when a task runs it by its ECR URI. Registering the same function twice is a no-op.
    """
    with _IMAGES_LOCK:
        if resolver not in _RESOLVERS:
            _RESOLVERS.append(resolver)


def image_factory(image: str) -> ImageFactory:
    """Return the most specific stand-in for an image: exact repository, then a glob, then the default.

    Among globs the one with the most literal characters wins. Raises `ValueError` for a
    malformed image reference.
    """
    with _IMAGES_LOCK:
        resolvers = list(_RESOLVERS)
    for resolver in resolvers:
        standing_for = resolver(image)
        if standing_for and standing_for != image:
            image = standing_for
            break
    repository = parse_image_name(image).repository
    with _IMAGES_LOCK:
        exact = _IMAGES.get(repository)
        if exact is not None:
            return exact
        globs = [p for p in _IMAGES if _is_glob(p) and fnmatch.fnmatchcase(repository, p)]
        if globs:
            best = max(globs, key=lambda p: (sum(ch not in "*?[]" for ch in p), p))
            return _IMAGES[best]
    return default_stand_in


#: Public repositories (as `parse_image_name` names them) that exist on Docker Hub or ECR Public and
#: that the course, AWS's tutorials or moto's tests run: they start with the default stand-in.
PUBLIC_IMAGES = frozenset(
    {
        # Docker Hub official images (also on ECR Public as public.ecr.aws/docker/library/NAME).
        *("hello-world", "busybox", "alpine", "ubuntu", "debian", "centos", "amazonlinux", "python", "node"),
        *("golang", "openjdk", "eclipse-temurin", "ruby", "php", "redis", "postgres", "mysql", "mariadb"),
        *("mongo", "memcached", "rabbitmq", "traefik", "haproxy", "tomcat", "wordpress", "registry"),
        # Docker Hub images of organisations, as AWS's tutorials and moto's tests name them.
        *("docker/hello-world", "amazon/amazon-ecs-sample", "amazon/aws-cli", "amazon/cloudwatch-agent"),
        "amazon/aws-for-fluent-bit",
        # ECR Public repositories of AWS's samples and agents.
        *("amazonlinux/amazonlinux", "aws-cli/aws-cli", "ecs-sample-image/amazon-ecs-sample"),
        *("aws-observability/aws-otel-collector", "aws-observability/aws-for-fluent-bit"),
        *("cloudwatch-agent/cloudwatch-agent", "xray/aws-xray-daemon", "appmesh/aws-appmesh-envoy"),
    }
)
_PUBLIC_REGISTRIES = frozenset({_DOCKER_HUB, "public.ecr.aws"})


def is_known_public_image(image: str) -> bool:
    """True when the sandbox can pull `image`: a registered stand-in's repository, or one of `PUBLIC_IMAGES`.

    A malformed reference is not known.
    """
    try:
        name = parse_image_name(image)
    except ValueError:
        return False
    if name.registry in _PUBLIC_REGISTRIES and name.repository in PUBLIC_IMAGES:
        return True
    with _IMAGES_LOCK:
        if name.repository in _IMAGES:
            return True
        return any(_is_glob(p) and fnmatch.fnmatchcase(name.repository, p) for p in _IMAGES)


def image_app(context: ContainerContext) -> WSGIApp:
    """Return the WSGI application standing in for `context.image` in this container.

    With `context.output`, an nginx-based stand-in prints nginx's log lines there (`stdout.py`).
    Raises `ValueError` for a malformed image reference.
    """
    factory = image_factory(context.image)
    app = factory(context)
    if context.output is not None and factory in (nginx_official, nginx_hello):
        root = _NGINX_ROOT if factory is nginx_official else None
        app = access_logged(app, context.output, document_root=root)
    if context.traffic is not None:
        app = _metered(app, context.traffic)
    return app


def _metered(app: WSGIApp, traffic: Callable[[int, int], None]) -> WSGIApp:
    """Count the bytes of each request and response as HTTP/1.1 frames them (Container Insights' network bytes)."""

    def metered(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        sent = {"head": 0}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent["head"] = len(f"HTTP/1.1 {status}\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in headers) + 2
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = list(app(environ, start))
        request_line = f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')} HTTP/1.1\r\n"
        headers = sum(
            len(f"{k[5:].replace('_', '-')}: {v}\r\n") for k, v in environ.items() if k.startswith("HTTP_")
        )
        received = len(request_line) + headers + 2 + int(environ.get("CONTENT_LENGTH") or 0)
        traffic(received, sent["head"] + sum(len(chunk) for chunk in body))
        return body

    return metered


def nginx_flavour(image: str) -> str | None:
    """`nginx` or `hello` for an image whose stand-in is nginx-based (what it prints), else None."""
    try:
        factory = image_factory(image)
    except ValueError:
        return None
    if factory is nginx_official:
        return "nginx"
    return "hello" if factory is nginx_hello else None


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


# -- stand-ins -----------------------------------------------------------------------------------


def _request_uri(environ: WSGIEnvironment) -> str:
    """The request line's target, as nginx's `$request_uri` shows it."""
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw:
        return str(raw)
    query = environ.get("QUERY_STRING", "")
    path = quote(str(environ.get("PATH_INFO", "/")))
    return f"{path}?{query}" if query else path


def _nginx_error_page(status: int, reason: str) -> bytes:
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n"
        f"<hr><center>{NGINX_SERVER}</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def _nginx_error(status: int, reason: str) -> Response:
    return Response(
        _nginx_error_page(status, reason),
        status=status,
        content_type="text/html",
        headers={"Server": NGINX_SERVER},
    )


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


_HELLO_STYLE = """\
body { margin: 0px; font: 20px 'RobotoRegular', Arial, sans-serif; font-weight: 100;
       height: 100%; color: #0f1419; }
div.info { display: table; background: #e8eaec; padding: 20px; border: 1px dashed black;
           border-radius: 10px; margin: 0px auto auto auto; }
div.info p { display: table-row; margin: 5px auto auto auto; }
div.info p span { display: table-cell; padding: 10px; }
div.smaller p span { color: #3D5266; }
h1 { font-weight: 100; text-align: center; color: #009900; margin: 36px auto; }
#footer { position: fixed; bottom: 36px; width: 100%; }
#center { width: 400px; margin: 0 auto; font: 12px Courier; }"""


def _hello_html(lines: Mapping[str, str]) -> str:
    def row(label: str, value: str, css: str = "") -> str:
        cls = f' class="{css}"' if css else ""
        return f"<p{cls}><span>{label.replace(' ', '&nbsp;')}:</span> <span>{html.escape(value)}</span></p>\n"

    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Hello World</title>\n"
        f"<style>\n{_HELLO_STYLE}\n</style>\n</head>\n<body>\n<h1>NGINX</h1>\n"
        '<div class="info">\n'
        + row("Server name", lines["Server name"])
        + row("Server address", lines["Server address"])
        + row("URI", lines["URI"], "smaller")
        + row("Date", lines["Date"], "smaller")
        + row("Client IP", lines["Client IP"], "smaller")
        + "</div>\n"
        '<div id="footer">\n<div id="center" align="center">\n'
        f"Request ID: {html.escape(lines['Request ID'])}<br/>\n"
        "&copy; NGINX, Inc. 2016\n</div>\n</div>\n</body>\n</html>\n"
    )


def nginx_hello(context: ContainerContext) -> WSGIApp:
    """Stand-in for `nginxdemos/hello`: the demo page about the task that answered, on every path."""
    plain_text = parse_image_name(context.image).tag == "plain-text"

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        now = datetime.now(UTC)
        lines = {
            "Server address": f"{context.private_ip}:{context.container_port}",
            "Server name": context.hostname,
            "Date": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "URI": _request_uri(environ),
            "Client IP": f"{environ.get('REMOTE_ADDR', '-')}:{environ.get('REMOTE_PORT', '-')}",
            "Request ID": secrets.token_hex(16),
        }
        # `expires -1` in the image's configuration.
        headers = {
            "Server": NGINX_SERVER,
            "Expires": _http_date(now - timedelta(seconds=1)),
            "Cache-Control": "no-cache",
        }
        if plain_text:
            # The plain-text variant `return`s its text for every method.
            body = "".join(
                f"{key}: {lines[key]}\n"
                for key in ("Server address", "Server name", "Date", "URI", "Request ID")
            )
            response = Response(body, status=200, content_type="text/plain", headers=headers)
        elif environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            # The HTML variant serves a static file, which nginx refuses to POST and the like.
            response = _nginx_error(405, "Not Allowed")
        else:
            response = Response(_hello_html(lines), status=200, content_type="text/html", headers=headers)
        return response(environ, start_response)

    return app


_NGINX_WELCOME = """\
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

_NGINX_50X = """\
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""


def nginx_official(context: ContainerContext) -> WSGIApp:
    """Stand-in for the official `nginx` image: the welcome page on `/`, nginx's 404 page elsewhere."""
    pages = {"/": _NGINX_WELCOME, "/index.html": _NGINX_WELCOME, "/50x.html": _NGINX_50X}

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        path = str(environ.get("PATH_INFO", "/"))
        # A page the container's command wrote under nginx's root is served instead of the image's.
        page = context.written_page(_NGINX_ROOT, path) or pages.get(path)
        if page is None:
            response = _nginx_error(404, "Not Found")
        elif environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            response = _nginx_error(405, "Not Allowed")
        else:
            response = Response(page, status=200, content_type="text/html", headers={"Server": NGINX_SERVER})
        return response(environ, start_response)

    return app


_HTTPD_INDEX = "<html><body><h1>It works!</h1></body></html>\n"
_HTTPD_ROOT = "/usr/local/apache2/htdocs"
_NGINX_ROOT = "/usr/share/nginx/html"


def _content_type(path: str) -> str:
    """The type a web server gives a static file by its extension (HTML for `/` and unknown ones)."""
    import mimetypes

    guessed = mimetypes.guess_type(path if not path.endswith("/") else path + "index.html")[0]
    return guessed or "text/html"


_HTTPD_404 = """\
<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>404 Not Found</title>
</head><body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
</body></html>
"""


def httpd_official(context: ContainerContext) -> WSGIApp:
    """Stand-in for the official `httpd` image: "It works!" on `/`, Apache's 404 page elsewhere."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        headers = {"Server": HTTPD_SERVER}
        path = str(environ.get("PATH_INFO", "/"))
        # A page the container's command wrote under htdocs (the tutorials' sample app) replaces the image's.
        written = context.written_page(_HTTPD_ROOT, path)
        if written is not None:
            response = Response(written, status=200, content_type=_content_type(path), headers=headers)
        elif path in ("/", "/index.html"):
            response = Response(_HTTPD_INDEX, status=200, content_type="text/html", headers=headers)
        else:
            response = Response(
                _HTTPD_404, status=404, content_type="text/html; charset=iso-8859-1", headers=headers
            )
        return response(environ, start_response)

    return app


def default_stand_in(context: ContainerContext) -> WSGIApp:
    """Stand-in for an image labkit has none for: one line naming the image and task on `/`, else 404."""
    text = (
        f"labkit stand-in for {context.image} (task {context.task_id}, container {context.container_name})\n"
    )

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        headers = {"Server": DEFAULT_SERVER}
        if environ.get("PATH_INFO", "/") == "/":
            response = Response(text, status=200, content_type="text/plain", headers=headers)
        else:
            response = Response("404 Not Found\n", status=404, content_type="text/plain", headers=headers)
        return response(environ, start_response)

    return app


register_image("nginxdemos/hello", nginx_hello)
register_image("nginx", nginx_official)
register_image("nginx/nginx", nginx_official)
register_image("httpd", httpd_official)


# -- serving -------------------------------------------------------------------------------------


def serve_on_loopback(app: WSGIApp, port: int = 0, *, name: str) -> LoopbackServer:
    """Serve `app` on 127.0.0.1 with a `LoopbackServer` whose responses carry only the app's `Server`.

    Raises `PortInUseError` when the port is taken.
    """
    return LoopbackServer(app, port, name=name)


class TaskServer:
    """The local HTTP server standing in for one container of a running task, on a free loopback port.

    Raises `ValueError` for a malformed image reference and `PortInUseError` when `port` is taken.
    """

    def __init__(self, context: ContainerContext, *, port: int = 0) -> None:
        self.context = context
        self._server = serve_on_loopback(image_app(context), port, name=f"labkit-task-{context.task_id}")
        self.port: int = self._server.port
        self.url: str = self._server.url
        self._stopped = False

    @property
    def stopped(self) -> bool:
        """True once the task's server is closed (its port is then free)."""
        return self._stopped

    def close(self) -> None:
        """Stop the stand-in and free its port; safe to call twice."""
        self._stopped = True
        self._server.close()

    def __enter__(self) -> TaskServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else self.url
        return f"<TaskServer {self.context.task_id} {self.context.image} {state}>"
