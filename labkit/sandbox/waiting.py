"""Waiting on a sandbox's clock: the loops behind `Sandbox.wait_until` (ARCHITECTURE.md, "The clock").

A manual clock moves only when asked, so a wait advances it `step` emulated seconds at a time.
A running clock (accelerated real time in an emulator, real time in a real account) moves by
itself, so a wait asks the condition again after the wall time `step` emulated seconds take at
the clock's speed, bounded to `MIN_POLL`..`MAX_POLL` wall seconds. Either way the wait gives up
after `limit` emulated seconds with `WaitTimeoutError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from labkit.errors import WaitTimeoutError

if TYPE_CHECKING:
    from labkit.sandbox.base import Sandbox

__all__ = ["MAX_POLL", "MIN_POLL", "advance_until", "poll_interval", "poll_until"]

T = TypeVar("T")

#: The shortest wall-clock pause between two looks on a running clock (seconds): a condition
#: makes requests, and asking more often only loads the emulator.
MIN_POLL = 0.1
#: The longest wall-clock pause between two looks (seconds): in a real account a step of minutes
#: would otherwise leave a finished wait unnoticed for minutes.
MAX_POLL = 10.0


def _check_bounds(limit: float, step: float) -> None:
    if step <= 0:
        raise ValueError(f"a wait's step must be positive, not {step}")
    if limit < 0:
        raise ValueError(f"a wait's limit cannot be negative, not {limit}")


def advance_until(
    sandbox: Sandbox, condition: Callable[[], T | None], what: str, *, limit: float, step: float
) -> T:
    """Advance a manual clock by `step` until `condition()` is truthy; return that value.

    Raises `WaitTimeoutError` when `limit` emulated seconds have been advanced and it still is not,
    `ValueError` for a step that is not positive or a negative limit.
    """
    _check_bounds(limit, step)
    waited = 0.0
    while True:
        value = condition()
        if value:
            return value
        if waited >= limit:
            raise WaitTimeoutError(what, limit)
        sandbox.advance(step)
        waited += step


def poll_interval(step: float, speed: float) -> float:
    """The wall seconds between two looks: what `step` emulated seconds take at `speed`, bounded."""
    wall = step / speed if speed > 0 else step
    return min(MAX_POLL, max(MIN_POLL, wall))


def poll_until(condition: Callable[[], T | None], what: str, *, limit: float, step: float, speed: float) -> T:
    """Ask `condition()` until it is truthy on a clock that runs by itself at `speed`; return the value.

    The clock is never moved: between two looks the wait sleeps `poll_interval(step, speed)` wall
    seconds. Raises `WaitTimeoutError` when `limit` emulated seconds (`limit / speed` wall seconds)
    pass first, `ValueError` for a step that is not positive or a negative limit.
    """
    _check_bounds(limit, step)
    interval = poll_interval(step, speed)
    wall_limit = limit / speed if speed > 0 else limit
    started = time.monotonic()
    while True:
        value = condition()
        if value:
            return value
        remaining = wall_limit - (time.monotonic() - started)
        if remaining <= 0:
            raise WaitTimeoutError(what, limit)
        time.sleep(min(interval, remaining))
