"""Sandbox clocks, and the time moto reads while it serves a sandbox.

Two kinds of clock (see ARCHITECTURE.md, "The clock"): `realtime` runs accelerated real time
(`speed` emulated seconds per wall-clock second, so a learner does not wait minutes for a deployment)
and `manual` moves only when `advance(seconds)` is called, for deterministic tests. Both can be
advanced.

moto stamps times with `moto.core.utils.utcnow`, which each service imports by name. The moto seam
(`labkit.sandbox.moto_seam.core`) replaces that function everywhere with `sandbox_utcnow`, which asks
the clock of the sandbox currently being served (a context variable the emulator sets per request)
and falls back to the wall clock.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from typing import Literal

__all__ = ["DEFAULT_SPEED", "ClockMode", "SandboxClock", "active_clock", "sandbox_utcnow", "using"]

ClockMode = Literal["realtime", "manual"]
CLOCK_MODES: tuple[ClockMode, ...] = ("realtime", "manual")

#: Emulated seconds per wall-clock second of a `realtime` clock.
DEFAULT_SPEED = 30.0


class SandboxClock:
    """A sandbox's notion of now: accelerated real time, or manual time moved by `advance`.

    Raises `ValueError` for an unknown mode, a speed that is not positive, or a negative advance.
    """

    def __init__(
        self,
        mode: ClockMode = "realtime",
        *,
        speed: float = DEFAULT_SPEED,
        start: dt.datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in CLOCK_MODES:
            raise ValueError(f"unknown clock mode {mode!r}; expected one of {', '.join(CLOCK_MODES)}")
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, not {speed}")
        self.mode: ClockMode = mode
        self.speed = float(speed) if mode == "realtime" else 0.0
        self._start = (start or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        self._monotonic = monotonic
        self._mono0 = monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Return emulated seconds since the clock was made."""
        with self._lock:
            running = (self._monotonic() - self._mono0) * self.speed
            return running + self._offset

    def now(self) -> dt.datetime:
        """Return the emulated time as an aware UTC datetime."""
        return self._start + dt.timedelta(seconds=self.elapsed())

    def time(self) -> float:
        """Return the emulated time as seconds since the epoch."""
        return self.now().timestamp()

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward by `seconds` and return the new now; raises `ValueError` if negative."""
        if seconds < 0:
            raise ValueError(f"a clock only moves forward; cannot advance by {seconds}")
        with self._lock:
            self._offset += float(seconds)
        return self.now()

    def describe(self) -> dict[str, object]:
        """Return the clock as JSON-ready data (what the control endpoint answers)."""
        return {
            "mode": self.mode,
            "speed": self.speed,
            "now": self.now().isoformat(),
            "elapsed": self.elapsed(),
        }


_active: contextvars.ContextVar[SandboxClock | None] = contextvars.ContextVar(
    "labkit_sandbox_clock", default=None
)


def active_clock() -> SandboxClock | None:
    """Return the clock of the sandbox being served in this context, if any."""
    return _active.get()


@contextlib.contextmanager
def using(clock: SandboxClock) -> Iterator[SandboxClock]:
    """Make `clock` the one moto reads for the duration of the block (in this thread or task)."""
    token = _active.set(clock)
    try:
        yield clock
    finally:
        _active.reset(token)


def sandbox_utcnow() -> dt.datetime:
    """Now by the active sandbox clock (the wall clock outside one), naive UTC as moto uses it."""
    clock = _active.get()
    if clock is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # moto works with naive UTC datetimes.
    return clock.now().replace(tzinfo=None)
