"""`server` mode: the emulator as a separate process that the CLI, the AWS CLI and other kernels share.

`start_server()` spawns `python -m labkit.sandbox.server`, which binds 127.0.0.1, warms moto and
then writes a state file (mode 0600: it holds the control token) in labkit's state folder. The
state file is how `labkit sandbox env|status|stop` and `open_sandbox("server")` find the server.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from labkit.config import load_config, state_dir
from labkit.errors import (
    LabkitError,
    PortInUseError,
    SandboxAlreadyRunningError,
    SandboxNotRunningError,
)
from labkit.sandbox.base import exports_for, new_account_id, new_session_id, sandbox_config_text
from labkit.sandbox.clock import CLOCK_MODES, DEFAULT_SPEED, ClockMode, SandboxClock
from labkit.sandbox.control import ControlClient, ControlledSandbox
from labkit.sandbox.hermetic import environment_for_sandbox_process
from labkit.sandbox.process import (
    PORT_IN_USE_EXIT,
    pid_alive,
    read_state,
    spawn_and_wait,
    stop_process,
    write_private,
)

__all__ = [
    "ServerInfo",
    "ServerSandbox",
    "advance_server",
    "checked_account_id",
    "load_server",
    "reset_server",
    "running_server",
    "sandbox_config_path",
    "server_exports",
    "server_listeners",
    "server_outbox",
    "server_state_path",
    "server_status",
    "server_urls",
    "start_server",
    "stop_server",
]

#: An AWS account id: exactly 12 ASCII digits (`\d` would also take other scripts' digits).
ACCOUNT_ID = re.compile(r"[0-9]{12}")


@dataclasses.dataclass(frozen=True)
class ServerInfo:
    """What the state file records about a running sandbox server."""

    pid: int
    endpoint_url: str
    port: int
    account_id: str
    region: str
    session_id: str
    clock: str
    speed: float
    token: str
    log_path: str
    started_at: str
    #: The scoped token a graded kernel gets instead of `token` (see `Emulator.learner_token`).
    learner_token: str = ""

    def public(self) -> dict[str, Any]:
        """Return the description without the control tokens."""
        data = dataclasses.asdict(self)
        data.pop("token")
        data.pop("learner_token")
        return data

    def for_kernel(self) -> ServerInfo:
        """The description a graded kernel gets: the learner token, no pid (`pid` 0: not its to stop)."""
        return dataclasses.replace(self, pid=0, token=self.learner_token, learner_token="")

    def control(self) -> ControlClient:
        """Return a control client for this server."""
        return ControlClient(self.endpoint_url, self.token)


def checked_account_id(value: str) -> str:
    """Return `value` when it is an AWS account id (exactly 12 ASCII digits); raises `LabkitError`."""
    if not ACCOUNT_ID.fullmatch(value):
        raise LabkitError(f"{value!r} is not an AWS account id: an account id is exactly 12 digits")
    return value


def server_state_path() -> Path:
    """Return the state file of the machine's sandbox server."""
    return state_dir() / "server.json"


def _read_state(path: Path) -> ServerInfo | None:
    # A half-written or foreign file reads as None: treat as stale.
    return read_state(path, ServerInfo)


def _write_state(path: Path, info: ServerInfo) -> None:
    write_private(path, json.dumps(dataclasses.asdict(info), indent=2))


def running_server(path: Path | None = None) -> ServerInfo | None:
    """Return the running server's info, removing a stale state file; None when none runs."""
    path = path or server_state_path()
    info = _read_state(path)
    if info is None:
        return None
    control = info.control()
    if info.pid == 0:
        # A server another process owns (a graded kernel's view of the grader's): its token is the
        # only proof, and the file is never this process's to remove.
        for attempt in range(3):
            if control.health():
                return info
            time.sleep(0.5 * (attempt + 1))
        return None
    for attempt in range(3):
        if not pid_alive(info.pid):
            break
        if control.health():
            return info
        # A live process that does not answer may only be busy (a loaded machine): ask again.
        time.sleep(0.5 * (attempt + 1))
    else:
        # Alive but silent: not ours to delete; report it as not running without removing its file.
        return None
    path.unlink(missing_ok=True)
    return None


def start_server(
    *,
    port: int = 0,
    clock: ClockMode = "realtime",
    speed: float = DEFAULT_SPEED,
    region: str | None = None,
    timeout: float = 30.0,
    path: Path | None = None,
    account_id: str | None = None,
) -> ServerInfo:
    """Start a sandbox server process and wait until it answers.

    `account_id` (12 digits) replaces the random account id: the contract run uses moto's default
    account, whose id moto's own tests expect (ARCHITECTURE.md, "The contract run").

    Raises `SandboxAlreadyRunningError` when one runs, `PortInUseError` when the port is taken,
    `SandboxStartError` when the process dies or does not answer within `timeout` seconds,
    `LabkitError` for an account id that is not 12 digits.
    """
    if clock not in CLOCK_MODES:
        raise LabkitError(f"unknown clock {clock!r}; expected one of {', '.join(CLOCK_MODES)}")
    if account_id is not None:
        account_id = checked_account_id(account_id)
    path = path or server_state_path()
    existing = running_server(path)
    if existing is not None:
        raise SandboxAlreadyRunningError(existing.endpoint_url, existing.pid)
    region = region or load_config().region
    command = [
        sys.executable, "-m", "labkit.sandbox.server",
        "--port", str(port), "--clock", clock, "--speed", str(speed),
        "--region", region, "--state-file", str(path),
    ]  # fmt: skip
    if account_id is not None:
        command += ["--account-id", account_id]
    return spawn_and_wait(
        command,
        state_path=path,
        log_path=path.with_name("server.log"),
        read=_read_state,
        port=port,
        timeout=timeout,
        what="server",
        # The server is an emulated sandbox: the caller's AWS profile, endpoints and proxies stay out.
        env=environment_for_sandbox_process(os.environ),
    )


def stop_server(path: Path | None = None, timeout: float = 10.0) -> ServerInfo:
    """Stop the running server and remove its state file; raises `SandboxNotRunningError` if none runs."""
    path = path or server_state_path()
    info = running_server(path)
    if info is None:
        raise SandboxNotRunningError()
    stop_process(info, state_path=path, read=_read_state, shutdown=info.control().shutdown, timeout=timeout)
    sandbox_config_path(path).unlink(missing_ok=True)
    return info


def _require_server(path: Path | None) -> ServerInfo:
    info = running_server(path)
    if info is None:
        raise SandboxNotRunningError()
    return info


def server_status(path: Path | None = None) -> dict[str, Any]:
    """Return the running server's description and live state; raises `SandboxNotRunningError`."""
    info = _require_server(path)
    live = info.control().status()
    return {**info.public(), "clock": live["clock"]}


def server_exports(path: Path | None = None) -> dict[str, str | None]:
    """Return the environment that points other processes at the running server (None: unset)."""
    path = path or server_state_path()
    info = _require_server(path)
    # `aws configure get region` reads a config file: the sandbox's own, beside its state file (0600).
    config = sandbox_config_path(path)
    write_private(config, sandbox_config_text(info.region))
    return exports_for(info.endpoint_url, info.region, config_file=str(config))


def sandbox_config_path(state_path: Path) -> Path:
    """The AWS config file `labkit sandbox env` points the AWS CLI at (the server's region, nothing secret)."""
    return state_path.with_name("aws-config")


def advance_server(seconds: float, path: Path | None = None) -> dict[str, Any]:
    """Advance the running server's clock; return the clock's new state."""
    return _require_server(path).control().advance(seconds)


def server_listeners(path: Path | None = None) -> list[dict[str, Any]]:
    """Return the running server's load balancer listeners with their loopback URLs."""
    listeners: list[dict[str, Any]] = (
        _require_server(path).control().request("GET", "/listeners")["listeners"]
    )
    return listeners


def server_urls(path: Path | None = None) -> list[dict[str, Any]]:
    """The running server's listeners (`kind` "listener"), Express services (`kind` "express") and tasks' public IPs (`kind` "task"), with loopback URLs."""
    answer = _require_server(path).control().request("GET", "/listeners")
    listeners = [{"kind": "listener", **row} for row in answer["listeners"]]
    return listeners + list(answer.get("express") or []) + list(answer.get("tasks") or [])


def _send_load(control: ControlClient, payload: dict[str, Any]) -> dict[str, Any]:
    from labkit.errors import LoadError

    try:
        return control.request("POST" if payload else "GET", "/load", payload or None)
    except LabkitError as exc:
        cause = exc.__cause__
        if getattr(cause, "code", None) == 400:
            try:
                answer = json.loads(exc.message.split("): ", 1)[-1])
                problem, field = str(answer["error"]), str(answer.get("field", "load"))
            except (ValueError, KeyError, TypeError):
                problem, field = exc.message, "load"
            raise LoadError(field, problem.removeprefix("cannot set the load: ")) from None
        raise


def load_server(payload: dict[str, Any], path: Path | None = None) -> dict[str, Any]:
    """Change (or, with an empty payload, read) the running server's load model; raises `LoadError`."""
    return _send_load(_require_server(path).control(), payload)


def _outbox(control: ControlClient, topic_arn: str | None, endpoint: str | None) -> list[dict[str, str]]:
    query = urllib.parse.urlencode({k: v for k, v in (("topic_arn", topic_arn), ("endpoint", endpoint)) if v})
    messages: list[dict[str, str]] = control.request("GET", "/outbox" + (f"?{query}" if query else ""))[
        "messages"
    ]
    return messages


def server_outbox(
    topic_arn: str | None = None, endpoint: str | None = None, path: Path | None = None
) -> list[dict[str, str]]:
    """Return the e-mails the running server's SNS subscriptions received (see `Sandbox.outbox`)."""
    return _outbox(_require_server(path).control(), topic_arn, endpoint)


def reset_server(path: Path | None = None) -> dict[str, Any]:
    """Forget everything in the running server's account."""
    return _require_server(path).control().reset()


class ServerSandbox(ControlledSandbox):
    """A sandbox in a server process: the running one, or one started (and stopped on close) for you.

    `clock` is the clock to start a server with; when a server runs already, a `clock` that differs
    from its clock raises `LabkitError` (None accepts the running server's).
    """

    mode = "server"

    def __init__(
        self,
        *,
        region: str,
        clock: ClockMode | None = None,
        speed: float = DEFAULT_SPEED,
        port: int = 0,
        lab: str | None = None,
        state_path: Path | None = None,
        info: ServerInfo | None = None,
    ) -> None:
        self._state_path = state_path or server_state_path()
        # `info` given: attach to that server as its owner described it, reading no state file.
        attached = info is not None
        info = info if info is not None else running_server(self._state_path)
        self.owned = info is None and not attached
        if info is None:
            info = start_server(
                port=port, clock=clock or "realtime", speed=speed, region=region, path=self._state_path
            )
        elif clock is not None and clock != info.clock:
            # A test that asked for a manual clock must not silently get a running one.
            raise LabkitError(
                f"the running sandbox server at {info.endpoint_url} has a {info.clock} clock, not {clock}; "
                "stop it (`labkit sandbox stop`) or open the sandbox without a clock"
            )
        self.info = info
        self._control = info.control()
        self._closed = False
        super().__init__(
            endpoint_url=info.endpoint_url,
            region=info.region,
            account_id=info.account_id,
            session_id=info.session_id,
            lab=lab,
        )

    @property
    def clock_mode(self) -> str:
        return self.info.clock

    def _load(self, payload: dict[str, Any]) -> dict[str, Any]:
        return _send_load(self._control, payload)

    def outbox(self, topic_arn: str | None = None, *, endpoint: str | None = None) -> list[dict[str, str]]:
        return _outbox(self._control, topic_arn, endpoint)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.owned:
            current = _read_state(self._state_path)
            if current is not None and current.pid == self.info.pid:
                stop_server(self._state_path)


# -- the server process ---------------------------------------------------------------------


def _account_id_argument(value: str) -> str:
    try:
        return checked_account_id(value)
    except LabkitError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def main(argv: list[str] | None = None) -> int:
    """Run a sandbox server until SIGTERM, SIGINT or a shutdown control call."""
    from labkit.sandbox.emulator import Emulator, moto_application
    from labkit.sandbox.limits import RequestBodyLimit
    from labkit.sandbox.serving import LoopbackServer

    parser = argparse.ArgumentParser(prog="python -m labkit.sandbox.server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--clock", choices=CLOCK_MODES, default="realtime")
    parser.add_argument("--speed", type=float, default=DEFAULT_SPEED)
    parser.add_argument("--region", default=None)
    parser.add_argument("--state-file", type=Path, default=None)
    parser.add_argument("--account-id", type=_account_id_argument, default=None)
    args = parser.parse_args(argv)

    state_path: Path = args.state_file or server_state_path()
    region = args.region or load_config().region
    stop = threading.Event()
    session_id = new_session_id()
    emulator = Emulator(
        account_id=args.account_id or new_account_id(),
        region=region,
        clock=SandboxClock(args.clock, speed=args.speed),
        session_id=session_id,
        token=secrets.token_urlsafe(24),
        learner_token=secrets.token_urlsafe(24),
        on_shutdown=stop.set,
    )
    try:
        server = LoopbackServer(RequestBodyLimit(emulator), args.port, name=f"labkit-{session_id}")
    except PortInUseError as exc:
        print(f"labkit: {exc}", file=sys.stderr, flush=True)
        return PORT_IN_USE_EXIT
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    moto_application()  # import moto now, not on the first request
    info = ServerInfo(
        pid=os.getpid(),
        endpoint_url=server.url,
        port=server.port,
        account_id=emulator.account_id,
        region=region,
        session_id=session_id,
        clock=args.clock,
        speed=emulator.clock.speed,
        token=emulator.token,
        learner_token=emulator.learner_token or "",
        log_path=str(state_path.with_name("server.log")),
        started_at=dt.datetime.now(dt.UTC).isoformat(),
    )
    _write_state(state_path, info)
    print(f"labkit: sandbox {session_id} serving on {server.url} (pid {info.pid})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.close()
        emulator.close()
        current = _read_state(state_path)
        if current is not None and current.pid == info.pid:
            state_path.unlink(missing_ok=True)
        print(f"labkit: sandbox {session_id} stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
