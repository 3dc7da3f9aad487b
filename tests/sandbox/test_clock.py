"""Sandbox clocks and the hook that makes moto read them."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from labkit.sandbox import clock as clocks
from labkit.sandbox import moto_seam
from labkit.sandbox.clock import SandboxClock


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 100.0

    def __call__(self) -> float:
        return self.value


START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_realtime_clock_runs_at_its_speed() -> None:
    """Ten wall seconds at speed 30 are 300 emulated seconds."""
    wall = FakeMonotonic()
    clock = SandboxClock("realtime", speed=30, start=START, monotonic=wall)
    wall.value += 10
    assert clock.now() == START + dt.timedelta(seconds=300)


def test_realtime_clock_can_also_be_advanced() -> None:
    """advance() adds to a running clock."""
    wall = FakeMonotonic()
    clock = SandboxClock("realtime", speed=2, start=START, monotonic=wall)
    clock.advance(60)
    wall.value += 1
    assert clock.elapsed() == 62


def test_manual_clock_ignores_the_wall() -> None:
    """A manual clock moves only with advance()."""
    wall = FakeMonotonic()
    clock = SandboxClock("manual", start=START, monotonic=wall)
    wall.value += 1000
    assert clock.now() == START
    assert clock.advance(5) == START + dt.timedelta(seconds=5)
    assert clock.time() == START.timestamp() + 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"mode": "hourly"}, "unknown clock mode"), ({"mode": "realtime", "speed": 0}, "positive")],
)
def test_bad_clock_settings_are_refused(kwargs: dict[str, object], message: str) -> None:
    """An unknown mode or a speed of zero is a ValueError that says what is wrong."""
    with pytest.raises(ValueError, match=message):
        SandboxClock(**kwargs)  # type: ignore[arg-type]


def test_a_clock_never_goes_back() -> None:
    """A negative advance is refused."""
    with pytest.raises(ValueError, match="only moves forward"):
        SandboxClock("manual").advance(-1)


def test_moto_reads_the_active_clock_and_the_wall_otherwise() -> None:
    """Inside using(clock) moto's utcnow is the clock's time; outside it is the wall clock's."""
    moto_seam.install()
    from moto.core import utils

    clock = SandboxClock("manual", start=START)
    with clocks.using(clock):
        assert utils.utcnow() == START.replace(tzinfo=None)
        assert utils.unix_time() == START.timestamp()
    assert abs((utils.utcnow() - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()) < 5


def test_install_rebinds_modules_that_imported_utcnow_by_name() -> None:
    """Every loaded moto module that holds utcnow by name gets the sandbox-aware one."""
    import moto.ecs.models  # noqa: F401 - loads a module that imports utcnow by name

    moto_seam.install()
    stale = [
        name
        for name, module in sys.modules.items()
        if name.startswith("moto.")
        and callable(getattr(module, "utcnow", None))
        and module.utcnow is not clocks.sandbox_utcnow
    ]
    assert stale == []
