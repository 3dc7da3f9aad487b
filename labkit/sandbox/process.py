"""The process half of a background server: spawn it, wait for its state file, stop it, reap it.

The sandbox server (`labkit.sandbox.server`) and the workshop server (`labkit.workshop.server`) are
both a `python -m ...` child that binds 127.0.0.1 and then writes a private state file (mode 0600)
naming its pid; the parent waits for that file, and `stop` asks the server to shut down, waits, and
kills it if it does not go. What differs between them (the state's fields, how to ask for shutdown)
is passed in.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from labkit.errors import (
    LabkitError,
    PortInUseError,
    SandboxNotRunningError,
    SandboxStartError,
    StaleServerStateError,
)

if TYPE_CHECKING:
    from labkit.sandbox.control import ControlClient

__all__ = [
    "PORT_IN_USE_EXIT",
    "pid_alive",
    "read_state",
    "reap",
    "server_identity_problem",
    "spawn_and_wait",
    "stop_confirmed",
    "stop_process",
    "write_private",
]

#: The exit code of a server process whose port was taken.
PORT_IN_USE_EXIT = 3


class _HasPid(Protocol):
    @property
    def pid(self) -> int: ...


InfoT = TypeVar("InfoT", bound=_HasPid)


class _ControlledServer(Protocol):
    @property
    def pid(self) -> int: ...
    @property
    def session_id(self) -> str: ...
    @property
    def endpoint_url(self) -> str: ...
    def control(self) -> ControlClient: ...


ServerT = TypeVar("ServerT", bound=_ControlledServer)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically with mode 0600 (it may hold tokens or secrets)."""
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def read_state(path: Path, factory: Callable[..., InfoT]) -> InfoT | None:
    """Return `factory(**json)` of the state file, or None when it is missing, half-written or foreign."""
    try:
        return factory(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """Say whether a process with this pid exists (one of another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap(pid: int) -> None:
    """Collect a child's exit status if the server is our own child (else it is not ours to wait)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def spawn_and_wait(
    command: Sequence[str],
    *,
    state_path: Path,
    log_path: Path,
    read: Callable[[Path], InfoT | None],
    port: int,
    timeout: float,
    what: str,
    env: Mapping[str, str] | None = None,
) -> InfoT:
    """Start `command` detached (output to `log_path`) and return its state once it has written it.

    `env` is the child's environment (default: this process's), `MOTO_ACCOUNT_ID` always removed.
    Raises `PortInUseError` when the child exits with `PORT_IN_USE_EXIT`, `SandboxStartError` when it
    exits otherwise or writes no state of its own pid within `timeout` seconds (it is killed then).
    """
    environment = {k: v for k, v in (os.environ if env is None else env).items() if k != "MOTO_ACCOUNT_ID"}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=environment,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            if code == PORT_IN_USE_EXIT:
                raise PortInUseError(port)
            raise SandboxStartError(f"the {what} process exited with code {code}", str(log_path))
        info = read(state_path)
        if info is not None and info.pid == process.pid:
            return info
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    raise SandboxStartError(f"no answer within {timeout:.0f} s", str(log_path))


def stop_process(
    info: InfoT, *, state_path: Path, read: Callable[[Path], Any], shutdown: Callable[[], Any], timeout: float
) -> None:
    """Ask a server to shut down, wait up to `timeout` s, kill it if it stays, then remove its state file.

    `shutdown` may raise `LabkitError` (a server already going) or be cut short by a server that
    exits before its answer is complete (it has done what was asked); the file is removed only if it
    still names this server's pid. Raises `LabkitError` for pid 0 (a server another process owns).
    """
    if info.pid <= 0:
        raise LabkitError(
            "this sandbox server belongs to another process (the grader); it is not yours to stop"
        )
    with contextlib.suppress(LabkitError, http.client.HTTPException, ConnectionError):
        shutdown()
    deadline = time.monotonic() + timeout
    while pid_alive(info.pid) and time.monotonic() < deadline:
        reap(info.pid)
        time.sleep(0.05)
    if pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(info.pid, 0)
    current = read(state_path)
    if current is not None and current.pid == info.pid:
        state_path.unlink(missing_ok=True)


def server_identity_problem(info: _ControlledServer, *, attempts: int = 3) -> str | None:
    """Return None when the server a state file names answers as itself, else why it does not.

    "As itself": asked with the file's token, it states the file's pid and session id. A pid alone
    proves nothing (pids are reused). Raises `LabkitError` when something listens at the endpoint
    but never answers (a hung or very busy server: not ours to judge stale).
    """
    if info.pid <= 0:
        return "the state file names no process (a server another process owns)"
    if not pid_alive(info.pid):
        return "no process has that pid"
    control = info.control()
    for attempt in range(attempts):
        try:
            identity = control.identity()
        except SandboxNotRunningError:
            # Connected but no answer in time: a loaded machine may only be slow. Ask again.
            time.sleep(0.5 * (attempt + 1))
            continue
        if identity is None:
            return f"nothing at {info.endpoint_url} answers to its token"
        if identity != (info.pid, info.session_id):
            pid, session_id = identity
            return f"the server at {info.endpoint_url} is pid {pid}, session {session_id}"
        return None
    raise LabkitError(
        f"the sandbox server at {info.endpoint_url} (pid {info.pid}) does not answer; "
        "nothing was signalled and its state file is kept"
    )


def stop_confirmed(path: Path, read: Callable[[Path], ServerT | None], *, timeout: float) -> ServerT:
    """Stop the server `path` names once it has proved who it is, then remove the file.

    Raises `SandboxNotRunningError` when there is no state file, `StaleServerStateError` (after
    removing the file, signalling nothing) when the server it names is gone, and `LabkitError` when
    the server does not answer at all.
    """
    info = read(path)
    if info is None:
        raise SandboxNotRunningError()
    problem = server_identity_problem(info)
    if problem is not None:
        current = read(path)
        if current is not None and current.pid == info.pid:
            path.unlink(missing_ok=True)
        raise StaleServerStateError(str(path), info.pid, problem)
    stop_process(info, state_path=path, read=read, shutdown=info.control().shutdown, timeout=timeout)
    return info
