"""A workshop server: one emulator process serving every learner of a roster, each in an account of their own.

moto's backends are process-global and indexed by account, so one process holds every learner's
state while loading moto once. A learner's account is chosen only by the learner's credentials:
each learner has an access key and a secret key, every AWS request must carry a SigV4 signature
made with that secret (`labkit.workshop.auth`) within 15 minutes of the server's wall clock (a
presigned URL: until it expires), and the account header moto would read is then overwritten with
the learner's account. A request naming another learner's account (an ARN, a queue URL, a bucket
of theirs) is refused as AWS refuses it without a resource policy (`labkit.sandbox.walls`).
Control calls (`/_labkit/...`) need the learner's token and act on the learner's own sandbox only;
the instructor's token reads everyone's progress.

`start_workshop()` spawns `python -m labkit.workshop.server`, which writes a state file (mode
0600: it holds every secret) in labkit's state folder, and one connection file per learner.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hmac
import io
import json
import os
import secrets
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from labkit.config import load_config, state_dir
from labkit.errors import LabkitError, PortInUseError
from labkit.sandbox.base import new_account_id, new_session_id
from labkit.sandbox.clock import CLOCK_MODES, DEFAULT_SPEED, ClockMode, SandboxClock
from labkit.sandbox.emulator import CONTROL_PREFIX, TOKEN_HEADER, Emulator, StartResponse, WSGIApp, _json
from labkit.sandbox.hermetic import LOOPBACK_HOSTS
from labkit.sandbox.process import (
    PORT_IN_USE_EXIT,
    pid_alive,
    read_state,
    spawn_and_wait,
    stop_process,
    write_private,
)
from labkit.sandbox.workshop_client import LEARNER_KEY_PREFIX
from labkit.workshop.auth import SignatureProblem, check_request_time, parse_authorization, verify_signature
from labkit.workshop.progress import EventLog, validate_event
from labkit.workshop.roster import Learner, read_roster

__all__ = [
    "LearnerAccess",
    "WorkshopApp",
    "WorkshopInfo",
    "WorkshopNotRunningError",
    "running_workshop",
    "start_workshop",
    "stop_workshop",
    "workshop_report",
    "workshop_state_path",
    "workshop_status",
]

WORKSHOP_PREFIX = "/workshop"


class WorkshopNotRunningError(LabkitError):
    """A command needs a running workshop server and there is none."""

    def __init__(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"no workshop server is running{extra}; start one with `labkit workshop start --roster FILE`"
        )
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class LearnerAccess:
    """What one learner needs to reach their sandbox: their account, credentials and progress token."""

    learner: str
    name: str
    account_id: str
    session_id: str
    access_key_id: str
    secret_access_key: str
    token: str

    def connection(self, endpoint_url: str, region: str) -> dict[str, str]:
        """The learner's connection details (secrets included: for the learner's eyes only)."""
        return {
            "workshop_url": endpoint_url,
            "region": region,
            **dataclasses.asdict(self),
        }


def new_learner_access(learner: Learner) -> LearnerAccess:
    """Make fresh credentials, a token and an account for one learner."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = LEARNER_KEY_PREFIX + "".join(
        secrets.choice(alphabet) for _ in range(20 - len(LEARNER_KEY_PREFIX))
    )
    return LearnerAccess(
        learner=learner.id,
        name=learner.name,
        account_id=new_account_id(),
        session_id=new_session_id(),
        access_key_id=key_id,
        secret_access_key=secrets.token_urlsafe(30),
        token=secrets.token_urlsafe(24),
    )


def _aws_error(
    start_response: StartResponse, code: str, message: str, *, status: int = 403, xml: bool = False
) -> list[bytes]:
    if xml:
        # S3 (and a presigned URL opened in a browser) reads an XML error.
        from xml.sax.saxutils import escape

        text = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        content_type = "application/xml"
    else:
        # JSON and query clients both read the code from x-amzn-ErrorType or the body's __type/Code.
        text = json.dumps({"__type": code, "message": message, "Error": {"Code": code, "Message": message}})
        content_type = "application/x-amz-json-1.1"
    body = text.encode()
    reason = "Forbidden" if status == 403 else "Bad Request"
    start_response(
        f"{status} {reason}",
        [("Content-Type", content_type), ("x-amzn-ErrorType", code), ("Content-Length", str(len(body)))],
    )
    return [body]


def _wants_xml(environ: dict[str, Any]) -> bool:
    """Does the client read errors as XML (S3's REST protocol, a presigned URL)?"""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    query = str(environ.get("QUERY_STRING", ""))
    return "/s3/aws4_request" in auth or "X-Amz-Credential=" in query or "AWSAccessKeyId=" in query


class WorkshopApp:
    """The WSGI application of a workshop server: it routes each request to its learner's emulator."""

    def __init__(
        self,
        learners: list[LearnerAccess],
        *,
        region: str,
        clock: ClockMode = "realtime",
        speed: float = DEFAULT_SPEED,
        instructor_token: str,
        events: EventLog,
        inner: WSGIApp | None = None,
        on_shutdown: Any = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.region = region
        #: The server's clock for signature times (seconds since the epoch), never a sandbox's clock.
        self.wall_clock = wall_clock
        self.instructor_token = instructor_token
        self.events = events
        self._on_shutdown = on_shutdown
        self.learners = {a.learner: a for a in learners}
        self._by_key = {a.access_key_id: a for a in learners}
        self.emulators: dict[str, Emulator] = {}
        for access in learners:
            self.emulators[access.learner] = Emulator(
                account_id=access.account_id,
                region=region,
                clock=SandboxClock(clock, speed=speed),
                session_id=access.session_id,
                token=access.token,
                inner=inner,
            )

    def close(self) -> None:
        """Stop every learner's simulator and forget their accounts."""
        for emulator in self.emulators.values():
            emulator.close()

    def _learner_by_token(self, given: str) -> LearnerAccess | None:
        found = None
        for access in self.learners.values():
            # Compare with every token (constant time each) so timing says nothing about which matched.
            if hmac.compare_digest(given.encode(), access.token.encode()):
                found = access
        return found

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", "") or "")
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            return self._control(environ, start_response, path[len(CONTROL_PREFIX) :])
        try:
            parts = parse_authorization(environ)
            access = self._by_key.get(parts["key"])
            if access is None:
                raise SignatureProblem(
                    "UnrecognizedClientException", "The security token included in the request is invalid."
                )
            check_request_time(parts, self.wall_clock())
            presigned = "expires" in parts or parts.get("version") == "2"
            body = b"" if presigned else _read_body(environ)
            verify_signature(environ, body, parts, access.secret_access_key)
        except SignatureProblem as problem:
            return _aws_error(
                start_response, problem.code, problem.message, status=problem.status, xml=_wants_xml(environ)
            )
        # The emulator overwrites x-moto-account-id with the learner's account.
        return self.emulators[access.learner](environ, start_response)

    def _control(self, environ: dict[str, Any], start_response: StartResponse, route: str) -> Iterable[bytes]:
        if route in ("", "/", "/health"):
            return _json(start_response, 200, {"status": "ok", "service": "labkit-sandbox", "workshop": True})
        given = str(environ.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"), ""))
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if route.startswith(WORKSHOP_PREFIX + "/"):
            return self._workshop_route(environ, start_response, route[len(WORKSHOP_PREFIX) :], method, given)
        access = self._learner_by_token(given)
        if access is None:
            return _json(start_response, 403, {"error": "a valid X-Labkit-Token header is required"})
        if route == "/faults":
            # A learner's token is their emulator's control token: faults are the instructor's.
            return _json(start_response, 403, {"error": "faults are the instructor's: /workshop/faults"})
        # The learner's own emulator checks the same token again and serves its control routes.
        return self.emulators[access.learner](environ, start_response)

    def _workshop_route(
        self, environ: dict[str, Any], start_response: StartResponse, route: str, method: str, given: str
    ) -> Iterable[bytes]:
        if route == "/progress" and method == "POST":
            access = self._learner_by_token(given)
            if access is None:
                return _json(start_response, 403, {"error": "a learner's token is required"})
            try:
                payload = json.loads(_read_body(environ) or b"{}")
                event = validate_event(payload)
            except ValueError as exc:
                return _json(start_response, 400, {"error": str(exc)})
            # The learner comes from the token, never from the body: nobody reports for another.
            event["learner"] = access.learner
            event["received_at"] = dt.datetime.now(dt.UTC).isoformat()
            self.events.append(event)
            return _json(start_response, 200, {"recorded": True})
        if not hmac.compare_digest(given.encode(), self.instructor_token.encode()):
            return _json(start_response, 403, {"error": "the instructor's token is required"})
        if route == "/status" and method == "GET":
            return _json(start_response, 200, self.status())
        if route == "/progress" and method == "GET":
            return _json(start_response, 200, {"events": self.events.read()})
        if route == "/faults" and method == "POST":
            return self._inject_fault(environ, start_response)
        if route == "/shutdown" and method == "POST" and self._on_shutdown is not None:
            threading.Thread(target=self._on_shutdown, name="labkit-shutdown", daemon=True).start()
            return _json(start_response, 200, {"stopping": True})
        return _json(start_response, 404, {"error": f"no workshop endpoint {method} {route}"})

    def _inject_fault(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Break a service in one learner's account (`labkit.sandbox.faults`), signed as that learner."""
        try:
            payload = json.loads(_read_body(environ) or b"{}")
        except ValueError as exc:
            return _json(start_response, 400, {"error": str(exc)})
        access = self.learners.get(str(payload.get("learner")))
        fault, service = payload.get("fault"), payload.get("service")
        cluster = payload.get("cluster") or "default"
        if access is None or not all(isinstance(v, str) for v in (fault, service, cluster)):
            return _json(start_response, 400, {"error": "learner, fault and service (strings) are required"})
        port = str(environ.get("SERVER_PORT") or "")
        answer = self.emulators[access.learner].fault_answer(
            str(fault),
            str(service),
            str(cluster),
            f"http://127.0.0.1:{port}",
            credentials=(access.access_key_id, access.secret_access_key),
        )
        return _json(start_response, 400 if "error" in answer else 200, answer)

    def status(self) -> dict[str, Any]:
        """Who is in the workshop and where each learner is (no secrets)."""
        latest: dict[str, dict[str, Any]] = {}
        counts: dict[str, int] = {}
        for event in self.events.read():
            latest[event["learner"]] = event
            counts[event["learner"]] = counts.get(event["learner"], 0) + 1
        return {
            "region": self.region,
            "learners": [
                {
                    "learner": a.learner,
                    "name": a.name,
                    "account_id": a.account_id,
                    "events": counts.get(a.learner, 0),
                    "last_event": latest.get(a.learner),
                }
                for a in self.learners.values()
            ],
        }


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body once and put it back for whoever reads it next."""
    cached = environ.get("labkit.body")
    if isinstance(cached, bytes):
        return cached
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    environ["labkit.body"] = body
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# -- state and process management --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WorkshopInfo:
    """What the workshop's state file records (it holds secrets: mode 0600)."""

    pid: int
    endpoint_url: str
    port: int
    region: str
    clock: str
    instructor_token: str
    events_path: str
    connections_dir: str
    log_path: str
    started_at: str
    learners: list[dict[str, str]]

    def public(self) -> dict[str, Any]:
        """The description without any secret."""
        return {
            "pid": self.pid,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "clock": self.clock,
            "events_path": self.events_path,
            "connections_dir": self.connections_dir,
            "started_at": self.started_at,
            "learners": [
                {"learner": a["learner"], "name": a["name"], "account_id": a["account_id"]}
                for a in self.learners
            ],
        }

    def request(self, method: str, route: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call a workshop endpoint with the instructor's token."""
        from labkit.sandbox.control import ControlClient

        client = ControlClient(self.endpoint_url, self.instructor_token)
        try:
            return client.request(method, WORKSHOP_PREFIX + route, payload)
        except LabkitError as exc:
            if "does not answer" in str(exc):
                raise WorkshopNotRunningError(str(exc)) from exc
            raise


def workshop_state_path() -> Path:
    """Return the state file of the machine's workshop server."""
    return state_dir() / "workshop.json"


def workshop_report(out: Path, *, path: Path | None = None) -> dict[str, Path]:
    """Write the dashboard (HTML) and the CSV export of the last workshop run here into `out`."""
    from labkit.workshop.report import write_report

    path = path or workshop_state_path()
    return write_report(out, path.with_name("workshop-events.jsonl"), path.with_name("workshop-roster.json"))


def _read_info(path: Path) -> WorkshopInfo | None:
    return read_state(path, WorkshopInfo)


def running_workshop(path: Path | None = None) -> WorkshopInfo | None:
    """Return the running workshop's info (removing a stale state file); None when none runs."""
    path = path or workshop_state_path()
    info = _read_info(path)
    if info is None:
        return None
    if pid_alive(info.pid):
        return info
    path.unlink(missing_ok=True)
    return None


def write_connection_files(
    folder: Path, endpoint_url: str, region: str, learners: list[LearnerAccess]
) -> None:
    """Write `<learner>.json` and `<learner>.env` (mode 0600) with each learner's connection details."""
    folder.mkdir(parents=True, exist_ok=True)
    for access in learners:
        details = access.connection(endpoint_url, region)
        write_private(folder / f"{access.learner}.json", json.dumps(details, indent=2) + "\n")
        values = {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_ACCESS_KEY_ID": access.access_key_id,
            "AWS_SECRET_ACCESS_KEY": access.secret_access_key,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "",
            "LABKIT_WORKSHOP": str((folder / f"{access.learner}.json").resolve()),
        }
        lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
        # The workshop server is on loopback: never through the learner's HTTP(S)_PROXY.
        loopback = ",".join(LOOPBACK_HOSTS)
        lines.append(
            f'export NO_PROXY="${{NO_PROXY:+$NO_PROXY,}}{loopback}" no_proxy="${{no_proxy:+$no_proxy,}}{loopback}"'
        )
        lines.append(
            "unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_CA_BUNDLE"
            " AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
        )
        write_private(folder / f"{access.learner}.env", "\n".join(lines) + "\n")


def start_workshop(
    roster: Path,
    *,
    out: Path | None = None,
    port: int = 0,
    clock: ClockMode = "realtime",
    speed: float = DEFAULT_SPEED,
    region: str | None = None,
    timeout: float = 60.0,
    path: Path | None = None,
) -> WorkshopInfo:
    """Start a workshop server for every learner of `roster` and wait until it answers.

    Connection files go to `out` (default: `connections/` beside the state file). Raises
    `RosterError`, `LabkitError` when a workshop runs already, `PortInUseError`, `SandboxStartError`.
    """
    if clock not in CLOCK_MODES:
        raise LabkitError(f"unknown clock {clock!r}; expected one of {', '.join(CLOCK_MODES)}")
    read_roster(roster)  # fail here, with the roster's own error, not in the child
    path = path or workshop_state_path()
    existing = running_workshop(path)
    if existing is not None:
        raise LabkitError(
            f"a workshop server is already running at {existing.endpoint_url} (pid {existing.pid}); "
            "`labkit workshop stop` stops it"
        )
    out = out or path.with_name("workshop-connections")
    command = [
        sys.executable, "-m", "labkit.workshop.server", "--roster", str(roster), "--out", str(out),
        "--port", str(port), "--clock", clock, "--speed", str(speed),
        "--region", region or load_config().region, "--state-file", str(path),
    ]  # fmt: skip
    return spawn_and_wait(
        command,
        state_path=path,
        log_path=path.with_name("workshop.log"),
        read=_read_info,
        port=port,
        timeout=timeout,
        what="workshop",
    )


def stop_workshop(path: Path | None = None, timeout: float = 15.0) -> WorkshopInfo:
    """Stop the running workshop server; raises `WorkshopNotRunningError` when none runs."""
    path = path or workshop_state_path()
    info = running_workshop(path)
    if info is None:
        raise WorkshopNotRunningError()
    stop_process(
        info,
        state_path=path,
        read=_read_info,
        shutdown=lambda: info.request("POST", "/shutdown", {}),
        timeout=timeout,
    )
    return info


def workshop_status(path: Path | None = None) -> dict[str, Any]:
    """Return who is in the running workshop and each learner's latest event; raises `WorkshopNotRunningError`."""
    info = running_workshop(path)
    if info is None:
        raise WorkshopNotRunningError()
    return {**info.public(), **info.request("GET", "/status")}


# -- the server process ---------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run a workshop server until SIGTERM, SIGINT or the instructor's shutdown call."""
    from labkit.sandbox.emulator import moto_application
    from labkit.sandbox.limits import RequestBodyLimit
    from labkit.sandbox.serving import LoopbackServer

    parser = argparse.ArgumentParser(prog="python -m labkit.workshop.server")
    parser.add_argument("--roster", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--clock", choices=CLOCK_MODES, default="realtime")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED)
    parser.add_argument("--region", default=None)
    parser.add_argument("--state-file", type=Path, default=None)
    args = parser.parse_args(argv)

    state_path: Path = args.state_file or workshop_state_path()
    region = args.region or load_config().region
    learners = [new_learner_access(learner) for learner in read_roster(args.roster)]
    stop = threading.Event()
    events = EventLog(state_path.with_name("workshop-events.jsonl"))
    roster_public = [{"learner": a.learner, "name": a.name} for a in learners]
    state_path.with_name("workshop-roster.json").write_text(
        json.dumps(roster_public, indent=2), encoding="utf-8"
    )
    app = WorkshopApp(
        learners,
        region=region,
        clock=args.clock,
        speed=args.speed,
        instructor_token=secrets.token_urlsafe(24),
        events=events,
        on_shutdown=stop.set,
    )
    try:
        # Bodies are capped before the app reads (and signs) them: see labkit/sandbox/limits.py.
        server = LoopbackServer(RequestBodyLimit(app), args.port, name="labkit-workshop")
    except PortInUseError as exc:
        print(f"labkit: {exc}", file=sys.stderr, flush=True)
        return PORT_IN_USE_EXIT
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    moto_application()
    write_connection_files(args.out, server.url, region, learners)
    info = WorkshopInfo(
        pid=os.getpid(),
        endpoint_url=server.url,
        port=server.port,
        region=region,
        clock=args.clock,
        instructor_token=app.instructor_token,
        events_path=str(events.path),
        connections_dir=str(args.out),
        log_path=str(state_path.with_name("workshop.log")),
        started_at=dt.datetime.now(dt.UTC).isoformat(),
        learners=[dataclasses.asdict(a) for a in learners],
    )
    write_private(state_path, json.dumps(dataclasses.asdict(info), indent=2))
    print(
        f"labkit: workshop of {len(learners)} learners serving on {server.url} (pid {info.pid})", flush=True
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        app.close()
        current = _read_info(state_path)
        if current is not None and current.pid == info.pid:
            state_path.unlink(missing_ok=True)
        print("labkit: workshop stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
