"""The emulator: moto's WSGI application wrapped by labkit, one `Emulator` per sandbox.

What the wrapper adds to moto (why each matters: see ARCHITECTURE.md,
"The emulator: what labkit adds to moto"):
- every request is served in the sandbox's own account (the `x-moto-account-id` header is set
  here, overwriting whatever a client sent), so sandboxes in one process share no state;
- while a request is served, moto reads the sandbox's clock;
- moto's own `/moto-api/` endpoints (reset, state, dashboard) are unreachable; labkit's control
  endpoints live under `/_labkit/` and need the sandbox's control token;
- an exception while serving a request reaches the client as an AWS-style error: an action moto
  lacks (`NotImplementedError`) is HTTP 501 `NotImplemented`, "a limit of the sandbox's emulator";
  anything else (a crash in moto or in labkit's simulator) is HTTP 500 `InternalFailure` (or the
  service's own server error code) saying it is a labkit fault, with the exception's type, and is
  logged; the simulator contains its own faults, so the account keeps answering;
- unsigned `/v2/...` requests go to the account's container registry (`labkit.registry.app`);
- a request naming another open sandbox's account (an ARN, a queue URL, a registry id) is refused
  with the service's access-denied error before moto sees it (`labkit.sandbox.walls`).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import os
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from labkit.sandbox import clock as clocks
from labkit.sandbox import moto_seam, walls
from labkit.sandbox.clock import SandboxClock
from labkit.sandbox.simulator.core import Simulator, SimulatorFault, describe_exception

__all__ = ["CONTROL_PREFIX", "LEARNER_ROUTES", "Emulator", "moto_application", "reset_account"]

log = logging.getLogger("labkit.emulator")

CONTROL_PREFIX = "/_labkit"
TOKEN_HEADER = "X-Labkit-Token"

#: What a graded kernel's (learner) token may call: what labs use (the clock, listeners, the load
#: model, the e-mail outbox), never what only the grader does (`/reset`, `/shutdown`).
LEARNER_ROUTES = frozenset(
    {
        ("GET", "/status"),
        ("GET", "/clock"),
        ("POST", "/clock/advance"),
        ("GET", "/listeners"),
        ("GET", "/load"),
        ("POST", "/load"),
        ("GET", "/outbox"),
    }
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
StartResponse = Callable[..., Any]

_moto_lock = threading.Lock()
_moto_app: WSGIApp | None = None


def moto_application() -> WSGIApp:
    """Return the process's one moto WSGI application, creating it (and hooking moto) once.

    Raises `MotoSeamError` when the installed moto lacks something labkit hooks (nothing is patched).
    """
    global _moto_app
    with _moto_lock:
        if _moto_app is None:
            # An account forced through the environment would put every sandbox in one account.
            if os.environ.pop("MOTO_ACCOUNT_ID", None) is not None:
                log.warning("MOTO_ACCOUNT_ID was set; labkit removed it so sandboxes stay isolated")
            moto_seam.install()
            app: WSGIApp = moto_seam.wsgi_application()
            _moto_app = app
        return _moto_app


def reset_account(account_id: str) -> int:
    """Delete every moto backend of one account (all services, all regions); return how many went."""
    return moto_seam.drop_account(account_id)


class Emulator:
    """labkit's WSGI application for one sandbox: an account, a region, a clock and a control token."""

    def __init__(
        self,
        *,
        account_id: str,
        region: str,
        clock: SandboxClock,
        session_id: str,
        token: str,
        learner_token: str | None = None,
        inner: WSGIApp | None = None,
        on_shutdown: Callable[[], None] | None = None,
        simulate: bool = True,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.session_id = session_id
        self.token = token  # the control token: never logged, never in a report
        # A graded kernel's token: only the control endpoints a lab uses (LEARNER_ROUTES), never
        # the grader's (shutdown, reset). None: there is no such token.
        self.learner_token = learner_token
        self._inner = inner
        self._on_shutdown = on_shutdown
        self.started_at = clock.now()
        self._simulate = simulate
        self.simulator: Simulator | None = self._new_simulator()
        from labkit.registry.app import RegistryApp

        self.registry = RegistryApp(self)  # the `/v2/` registry over this account's ECR repositories
        walls.open_account(account_id)  # no other sandbox of this process may name it (sandbox/walls.py)
        self._closed = False

    def _new_simulator(self) -> Simulator | None:
        if not self._simulate:
            return None
        return Simulator(account_id=self.account_id, region=self.region, clock=self.clock)

    def listeners(self) -> list[dict[str, Any]]:
        """Every load balancer listener of this sandbox with its loopback URL."""
        if self.simulator is None:
            return []
        with self.simulator.lock:
            self.simulator.catch_up()
            return self.simulator.elb.listener_urls()

    def public_task_urls(self) -> list[dict[str, Any]]:
        """Every running task with a public IP and a port mapping, with the loopback URL that stands in for it."""
        if self.simulator is None:
            return []
        from labkit.sandbox.simulator.addresses import public_task_urls

        with self.simulator.lock:
            self.simulator.catch_up()
            return public_task_urls(self.simulator)

    def express_urls(self) -> list[dict[str, Any]]:
        """Every ACTIVE ECS Express service with its endpoint and the loopback URL that reaches it."""
        if self.simulator is None:
            return []
        with self.simulator.lock:
            self.simulator.catch_up()
            return self.simulator.express.urls()

    def set_load(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Apply a load model change (see `Sandbox.set_load`); raises `LoadError`. Empty: just read it."""
        from labkit.errors import LoadError

        if self.simulator is None:
            raise LoadError("sandbox", "this emulator runs no simulator")
        known = {"cluster", "service", "cpu", "memory", "target_group", "requests_per_second"}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise LoadError(
                unknown[0], f"unknown load setting {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        with clocks.using(self.clock), self.simulator.lock:
            # The load applies from now: what was due before happens under the old load. A manual
            # clock that has not moved since the last catch-up has nothing to catch up on.
            if self.simulator.caught_up_to != self.clock.now().timestamp():
                self.simulator.catch_up()
            if not payload:
                return self.simulator.metrics.describe()
            return self.simulator.metrics.set_load(**payload)

    def outbox(self, topic_arn: str | None = None, endpoint: str | None = None) -> list[dict[str, str]]:
        """What this sandbox's SNS e-mail subscriptions received (after catching up with the clock)."""
        if self.simulator is None:
            return []
        with clocks.using(self.clock), self.simulator.lock:
            self.simulator.catch_up()
            return [m.to_dict() for m in self.simulator.sns.outbox(topic_arn, endpoint)]

    def close(self) -> None:
        """Stop the simulator (its task servers and listener ports) and forget the account."""
        if self.simulator is not None:
            self.simulator.close()
            self.simulator = None
        self.registry.close()
        reset_account(self.account_id)
        if not self._closed:
            self._closed = True
            walls.close_account(self.account_id)

    def ensure_moto(self) -> None:
        """Load moto (and labkit's patches of it) if no request has yet."""
        self.inner  # noqa: B018

    @property
    def inner(self) -> WSGIApp:
        """The application behind the wrapper (moto's, unless a test gave another)."""
        if self._inner is None:
            self._inner = moto_application()
        return self._inner

    def status(self) -> dict[str, Any]:
        """Describe this sandbox (no secrets): what `/_labkit/status` answers."""
        return {
            "account_id": self.account_id,
            "region": self.region,
            "session_id": self.session_id,
            "clock": self.clock.describe(),
            "started_at": self.started_at.isoformat(),
            "pid": os.getpid(),
        }

    def reset(self) -> int:
        """Forget everything this sandbox's account holds (its tasks and listeners stop)."""
        if self.simulator is not None:
            self.simulator.close()
        removed = reset_account(self.account_id)
        self.registry.forget()
        self.simulator = self._new_simulator()
        return removed

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        host = str(environ.get("HTTP_HOST", "")).lower()
        if path.startswith("/moto-api") or host.startswith("motoapi."):
            return _json(start_response, 404, {"__type": "NotFound", "message": "not found"})
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.account_id
        if _registry_request(environ, path):
            return self.registry(environ, start_response)
        return self._serve_aws(environ, start_response)

    def _serve_aws(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        protocol = _protocol(environ)
        action = _action(environ)
        service = _service(environ)
        named = walls.foreign_account(environ, self.account_id, service)
        if named is not None:
            # Another sandbox's resource: refused before moto, which would follow some ARNs there.
            refused = walls.refusal(service, protocol, self.account_id, walls.action_name(environ), named[1])
            return _error(start_response, protocol, refused.status, refused.code, refused.message)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        simulator = self.simulator
        with clocks.using(self.clock), simulator.lock if simulator else contextlib.nullcontext():
            try:
                # moto is loaded (and hooked) before the simulator first reads its backends.
                inner = self.inner
                if simulator is not None:
                    simulator.catch_up()
                result = inner(environ, capture)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except Exception as exc:  # noqa: BLE001 - every fault becomes an AWS-shaped answer
                return fault_error(start_response, environ, action, exc)
        status = str(captured.get("status", "500 INTERNAL SERVER ERROR"))
        headers = list(captured.get("headers", []))
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        if status.startswith("5") and "html" in content_type.lower():
            log.warning("the emulator answered %s with an HTML page (HTTP %s)", action, status)
            if status.startswith("501"):
                return _error(start_response, protocol, 501, "NotImplemented", _limit_message(action, status))
            message = (
                f"labkit fault: the sandbox's emulator failed while serving {action} "
                f"(it answered HTTP {status} with an HTML page). {_NOT_YOUR_FAULT}"
            )
            return _error(start_response, protocol, 500, _server_error_code(environ), message)
        start_response(status, headers)
        return [body]

    # -- control endpoints ----------------------------------------------------------------

    def _control(self, environ: dict[str, Any], start_response: StartResponse, route: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if route in ("", "/", "/health"):
            return _json(start_response, 200, {"status": "ok", "service": "labkit-sandbox"})
        given = str(environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), "")).encode()
        grader = hmac.compare_digest(given, self.token.encode())
        learner = self.learner_token is not None and hmac.compare_digest(given, self.learner_token.encode())
        if not (grader or learner):
            return _json(start_response, 403, {"error": "a valid X-Labkit-Token header is required"})
        if not grader and (method, route) not in LEARNER_ROUTES:
            return _json(
                start_response, 403, {"error": f"{method} {route} is the grader's, not the notebook's"}
            )
        try:
            payload = _read_json(environ)
        except ValueError as exc:
            return _json(start_response, 400, {"error": str(exc)})
        if route == "/status" and method == "GET":
            return _json(start_response, 200, self.status())
        if route == "/clock" and method == "GET":
            return _json(start_response, 200, self.clock.describe())
        if route == "/clock/advance" and method == "POST":
            seconds = payload.get("seconds")
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
                return _json(start_response, 400, {"error": "seconds must be a number >= 0"})
            self.clock.advance(float(seconds))
            return _json(start_response, 200, self.clock.describe())
        if route == "/listeners" and method == "GET":
            return _json(
                start_response,
                200,
                {
                    "listeners": self.listeners(),
                    "tasks": self.public_task_urls(),
                    "express": self.express_urls(),
                },
            )
        if route == "/load" and method in ("GET", "POST"):
            from labkit.errors import LoadError

            try:
                return _json(start_response, 200, self.set_load(payload if method == "POST" else {}))
            except LoadError as exc:
                return _json(start_response, 400, {"error": exc.message, "field": exc.field})
        if route == "/outbox" and method == "GET":
            query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
            topic, endpoint = (query.get(k, [None])[0] for k in ("topic_arn", "endpoint"))
            return _json(start_response, 200, {"messages": self.outbox(topic, endpoint)})
        if route == "/reset" and method == "POST":
            return _json(start_response, 200, {"reset": True, "backends_removed": self.reset()})
        if route == "/shutdown" and method == "POST" and self._on_shutdown is not None:
            # Later than the answer: a process that stops at once can kill the thread still writing it.
            stopper = threading.Timer(0.5, self._on_shutdown)
            stopper.name, stopper.daemon = "labkit-shutdown", True
            stopper.start()
            return _json(start_response, 200, {"stopping": True})
        return _json(start_response, 404, {"error": f"no control endpoint {method} {route}"})


# -- helpers --------------------------------------------------------------------------------


def _json(start_response: StartResponse, code: int, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        f"{code} {_REASONS.get(code, 'OK')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    501: "Not Implemented",
}


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if not length:
        return {}
    raw = environ["wsgi.input"].read(length)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _registry_request(environ: dict[str, Any], path: str) -> bool:
    """A container registry client's request (`/v2/...` without AWS's SigV4 signature).

    API Gateway v2, AppSync, MSK and SES v2 also have `/v2/` paths, but their requests are signed.
    """
    if path != "/v2" and not path.startswith("/v2/"):
        return False
    if str(environ.get("HTTP_AUTHORIZATION", "")).startswith("AWS4-"):
        return False
    return "X-Amz-Signature=" not in str(environ.get("QUERY_STRING", ""))


def _protocol(environ: dict[str, Any]) -> str:
    """Guess the AWS protocol of a request, to shape an error the client's parser understands."""
    content_type = str(environ.get("CONTENT_TYPE", "")).lower()
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in content_type:
        return "json"
    if content_type.startswith("application/x-www-form-urlencoded") or "Action=" in str(
        environ.get("QUERY_STRING", "")
    ):
        return "query"
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    if "/s3/aws4_request" in auth or "/s3control/" in auth:
        return "rest-xml"
    return "rest-json"


def _action(environ: dict[str, Any]) -> str:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.rsplit(".", 1)[-1]
    return f"{environ.get('REQUEST_METHOD', 'GET')} {environ.get('PATH_INFO', '/')}"


_NOT_YOUR_FAULT = (
    "This is a bug in labkit (or in moto as labkit runs it), not a problem with your request or a "
    "limit of AWS; the rest of the sandbox keeps working."
)

#: The server error code each service's API documents (others use AWS's common `InternalFailure`).
_SERVER_ERROR_CODES = {"ecs": "ServerException", "s3": "InternalError", "ec2": "InternalError"}


def _service(environ: dict[str, Any]) -> str:
    """The service a SigV4-signed request is for (from its credential scope), or ""."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0] if "Credential=" in auth else ""
    if not scope:
        query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
        scope = (query.get("X-Amz-Credential") or [""])[0]
    parts = scope.split("/")
    return parts[3] if len(parts) > 3 else ""


def _server_error_code(environ: dict[str, Any]) -> str:
    return _SERVER_ERROR_CODES.get(_service(environ), "InternalFailure")


def _limit_message(action: str, detail: str) -> str:
    return (
        f"The labkit sandbox cannot do {action}: this is a limit of the sandbox's emulator, "
        f"not of AWS ({detail})"
    )


def fault_answer(environ: dict[str, Any], action: str, exc: BaseException) -> tuple[int, str, str]:
    """The (HTTP status, error code, message) a client gets for `exc` raised while serving `action`.

    An action moto lacks (`NotImplementedError`) is the sandbox's limit: 501 `NotImplemented`.
    Anything else is a labkit fault: 500 with the service's server error code, logged with its
    traceback.
    """
    if isinstance(exc, NotImplementedError):
        log.info("the emulator does not implement %s: %s", action, exc)
        return 501, "NotImplemented", _limit_message(action, f"{type(exc).__name__}: {exc}")
    code = _server_error_code(environ)
    if isinstance(exc, SimulatorFault):
        # Already logged (with its traceback) where the simulator contained it.
        return 500, code, f"{action} failed: {exc}"
    log.warning("labkit fault while serving %s: %s", action, describe_exception(exc), exc_info=exc)
    message = (
        f"labkit fault: the sandbox's emulator failed while serving {action}: "
        f"{describe_exception(exc)}. {_NOT_YOUR_FAULT}"
    )
    return 500, code, message


def fault_error(
    start_response: StartResponse, environ: dict[str, Any], action: str, exc: BaseException
) -> list[bytes]:
    """Answer a request whose serving raised `exc` with the AWS-shaped error of `fault_answer`."""
    status, code, message = fault_answer(environ, action, exc)
    return _error(start_response, _protocol(environ), status, code, message)


def _error(start_response: StartResponse, protocol: str, status: int, code: str, message: str) -> list[bytes]:
    request_id = str(uuid.uuid4())
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
    elif protocol == "query":
        body = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error></Errors><RequestId>{request_id}</RequestId></Response>"
        ).encode()
        headers = [("Content-Type", "text/xml")]
    else:
        body = (
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml")]
    headers.append(("Content-Length", str(len(body))))
    # 501 for what the emulator lacks (SDKs do not retry it); 500 for a fault (SDKs retry it once
    # with the sandbox's client settings: the simulator has contained the fault, so that is safe).
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [body]
