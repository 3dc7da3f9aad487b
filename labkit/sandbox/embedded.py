"""`embedded` mode: the emulator in a thread of the current process, on 127.0.0.1 and a free port."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from labkit.sandbox.base import EmulatedSandbox, new_account_id, new_session_id
from labkit.sandbox.clock import DEFAULT_SPEED, ClockMode, SandboxClock
from labkit.sandbox.emulator import Emulator, moto_application
from labkit.sandbox.serving import LoopbackServer

__all__ = ["EmbeddedSandbox"]


class EmbeddedSandbox(EmulatedSandbox):
    """An emulated account served from this process; each one has its own account id, port and clock.

    Raises `PortInUseError` when a port is given and taken, and `MotoSeamError` when the installed
    moto lacks something labkit hooks.
    """

    mode = "embedded"

    def __init__(
        self,
        *,
        region: str,
        clock: ClockMode = "realtime",
        speed: float = DEFAULT_SPEED,
        port: int = 0,
        lab: str | None = None,
        account_id: str | None = None,
    ) -> None:
        # Load and hook moto now (as the server does): a moto that does not fit labkit's hooks is a
        # clear error when the sandbox opens, not 501s on later requests.
        moto_application()
        session_id = new_session_id()
        account_id = account_id or new_account_id()
        self.clock = SandboxClock(clock, speed=speed)
        self.emulator = Emulator(
            account_id=account_id,
            region=region,
            clock=self.clock,
            session_id=session_id,
            token=secrets.token_urlsafe(24),
        )
        self._server = LoopbackServer(self.emulator, port, name=f"labkit-{session_id}")
        self.port = self._server.port
        self._closed = False
        super().__init__(
            endpoint_url=self._server.url,
            region=region,
            account_id=account_id,
            session_id=session_id,
            lab=lab,
        )

    @property
    def clock_mode(self) -> str:
        return self.clock.mode

    @property
    def clock_speed(self) -> float:
        return self.clock.speed

    def now(self) -> dt.datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> dt.datetime:
        return self.clock.advance(seconds)

    def reset(self) -> None:
        """Forget everything in this sandbox's account (other sandboxes are untouched)."""
        self.emulator.reset()

    def listeners(self) -> list[dict[str, Any]]:
        return self.emulator.listeners()

    def express_services(self) -> list[dict[str, Any]]:
        return self.emulator.express_urls()

    def _load(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.emulator.set_load(payload)

    def outbox(self, topic_arn: str | None = None, *, endpoint: str | None = None) -> list[dict[str, str]]:
        return self.emulator.outbox(topic_arn, endpoint)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.close()
        self.emulator.close()
