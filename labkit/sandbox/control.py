"""A small client for a sandbox server's control endpoints (`/_labkit/...`), loopback only."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from labkit.errors import EndpointRefusedError, LabkitError, SandboxNotRunningError
from labkit.sandbox.base import EmulatedSandbox
from labkit.sandbox.emulator import CONTROL_PREFIX, TOKEN_HEADER
from labkit.sandbox.guards import is_loopback_url

__all__ = ["ControlClient"]


class ControlClient:
    """Talks to one sandbox server's control endpoints with its token.

    Raises `EndpointRefusedError` for a non-loopback endpoint and `SandboxNotRunningError` when
    nothing answers.
    """

    def __init__(self, endpoint_url: str, token: str, *, timeout: float = 5.0) -> None:
        if not is_loopback_url(endpoint_url):
            raise EndpointRefusedError(endpoint_url)
        self.endpoint_url = endpoint_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def request(self, method: str, route: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call `route` under the control prefix and return its JSON answer."""
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(
            f"{self.endpoint_url}{CONTROL_PREFIX}{route}",
            data=data,
            method=method,
            headers={TOKEN_HEADER: self._token, "Content-Type": "application/json"},
        )
        # Never through a proxy: the emulator is on this machine.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=self.timeout) as response:
                raw = response.read() or b"{}"
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise LabkitError(
                f"sandbox control call {method} {route} at {self.endpoint_url} failed ({exc.code}): {detail}"
            ) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # HTTPException: the server went away mid-answer (IncompleteRead), as one that shuts down may.
            raise SandboxNotRunningError(f"{self.endpoint_url} does not answer: {exc}") from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:
            raise SandboxNotRunningError(f"{self.endpoint_url} answers, but not as a labkit sandbox") from exc
        if not isinstance(answer, dict):
            raise SandboxNotRunningError(f"{self.endpoint_url} answers, but not as a labkit sandbox") from (
                ValueError("the answer is not a JSON object")
            )
        return answer

    def health(self) -> bool:
        """Return True when the sandbox holding this token answers at the endpoint.

        The tokenless `/health` would also answer for any other labkit sandbox that took the port
        of one that is gone, so the answer is asked for with the token.
        """
        try:
            return self.identity() is not None
        except LabkitError:
            return False

    def identity(self) -> tuple[int, str] | None:
        """Return the `(pid, session_id)` the server states when asked with this token.

        None when nothing listens, or what answers is not the holder of this token (it refuses the
        token, answers 4xx, or answers something that is not a sandbox's status). Raises
        `SandboxNotRunningError` when something listens but does not answer in time, and
        `LabkitError` for a server error (5xx): neither says whose server it is.
        """
        try:
            answer = self.status()
        except SandboxNotRunningError as exc:
            reason = exc.__cause__
            if isinstance(reason, urllib.error.URLError) and isinstance(
                reason.reason, ConnectionRefusedError
            ):
                return None
            if isinstance(reason, ConnectionRefusedError | ValueError):
                return None  # refused, or an answer that is not JSON: not a labkit sandbox
            raise
        except LabkitError as exc:
            code = getattr(exc.__cause__, "code", None)
            if isinstance(code, int) and 400 <= code < 500:
                return None  # 403: whoever listens there does not hold this token
            raise
        pid, session_id = answer.get("pid"), answer.get("session_id")
        if not isinstance(pid, int) or isinstance(pid, bool) or not isinstance(session_id, str):
            return None
        return pid, session_id

    def status(self) -> dict[str, Any]:
        """Return the server's description of its sandbox."""
        return self.request("GET", "/status")

    def advance(self, seconds: float) -> dict[str, Any]:
        """Advance the server's clock and return the clock's new state."""
        return self.request("POST", "/clock/advance", {"seconds": seconds})

    def reset(self) -> dict[str, Any]:
        """Forget everything in the server's sandbox account."""
        return self.request("POST", "/reset", {})

    def shutdown(self) -> dict[str, Any]:
        """Ask the server process to stop."""
        return self.request("POST", "/shutdown", {})


class ControlledSandbox(EmulatedSandbox):
    """An emulated sandbox in another process (a sandbox or workshop server), driven by its control client.

    Subclasses set `self._control` to a `ControlClient` holding the token of their sandbox.
    """

    _control: ControlClient

    @property
    def clock_speed(self) -> float:
        return float(self._control.request("GET", "/clock")["speed"])

    def now(self) -> dt.datetime:
        return dt.datetime.fromisoformat(str(self._control.request("GET", "/clock")["now"]))

    def advance(self, seconds: float) -> dt.datetime:
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; cannot advance by {seconds}")
        return dt.datetime.fromisoformat(str(self._control.advance(seconds)["now"]))

    def reset(self) -> None:
        """Forget everything in this sandbox's account (on a workshop server: this learner's only)."""
        self._control.reset()

    def listeners(self) -> list[dict[str, Any]]:
        listeners: list[dict[str, Any]] = self._control.request("GET", "/listeners")["listeners"]
        return listeners

    def express_services(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._control.request("GET", "/listeners").get("express") or []
        return rows
