"""`Sandbox.wait_until`: the one way labkit waits, on the sandbox's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import labkit
from labkit.checkpoints import CheckContext, Outcome, failed, passed, settling
from labkit.errors import LabkitError, WaitTimeoutError
from labkit.sandbox import Sandbox, waiting
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.testing import advance_until


class FakeTime:
    """A wall clock whose `sleep` moves `monotonic` on at once, recording each pause."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RealTimeAccount(Sandbox):
    """A sandbox whose clock is real time at speed 1, as a real account's is; its clock cannot be moved."""

    mode = "aws"
    region = "us-east-1"
    account_id = "111122223333"
    session_id = "lk-test"
    lab = None

    def __init__(self, clock: FakeTime) -> None:
        self._clock = clock

    @property
    def session(self) -> boto3.Session:
        raise NotImplementedError

    @property
    def endpoint_url(self) -> None:
        return None

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=self._clock.now)

    def advance(self, seconds: float) -> dt.datetime:
        raise AssertionError("a running clock is never advanced by a wait")

    def close(self) -> None:
        return None


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The wall clock `labkit.sandbox.waiting` sees, under the test's control."""
    clock = FakeTime()
    monkeypatch.setattr(waiting, "time", clock)
    return clock


@pytest.fixture
def realtime() -> Iterator[EmbeddedSandbox]:
    """An embedded sandbox whose clock runs at 600 emulated seconds per wall second."""
    with EmbeddedSandbox(region="us-east-1", clock="realtime", speed=600) as sb:
        yield sb


def _elapsed(sandbox: Sandbox, since: dt.datetime) -> float:
    return (sandbox.now() - since).total_seconds()


class TestManualClock:
    def test_it_advances_by_step_until_the_condition_holds_and_returns_its_value(
        self, sandbox: EmbeddedSandbox
    ) -> None:
        """On a manual clock the wait advances `step` seconds at a time and returns what the condition returned."""
        start = sandbox.now()
        value = sandbox.wait_until(
            lambda: "twelve" if _elapsed(sandbox, start) >= 12 else None, "twelve seconds", limit=60, step=5
        )
        assert value == "twelve"
        assert _elapsed(sandbox, start) == 15

    def test_a_condition_that_holds_at_once_does_not_move_the_clock(self, sandbox: EmbeddedSandbox) -> None:
        """A wait whose condition already holds returns without advancing the clock."""
        start = sandbox.now()
        assert sandbox.wait_until(lambda: 7, "anything", limit=60, step=5) == 7
        assert sandbox.now() == start

    def test_a_timeout_names_what_was_awaited(self, sandbox: EmbeddedSandbox) -> None:
        """A condition still false after `limit` emulated seconds raises WaitTimeoutError naming `what`."""
        start = sandbox.now()
        with pytest.raises(
            WaitTimeoutError, match="the impossible did not happen within 20 emulated seconds"
        ) as caught:
            sandbox.wait_until(lambda: False, "the impossible", limit=20, step=5)
        assert caught.value.what == "the impossible"
        assert caught.value.limit == 20
        assert isinstance(caught.value, LabkitError)
        assert isinstance(caught.value, TimeoutError)
        assert _elapsed(sandbox, start) == 20

    def test_the_conditions_exception_propagates(self, sandbox: EmbeddedSandbox) -> None:
        """An exception raised by the condition reaches the caller unchanged."""

        def broken() -> bool:
            raise KeyError("runningCount")

        with pytest.raises(KeyError, match="runningCount"):
            sandbox.wait_until(broken, "a broken condition", limit=60, step=5)

    def test_a_step_that_is_not_positive_is_refused(self, sandbox: EmbeddedSandbox) -> None:
        """A step of zero would never reach the limit: ValueError."""
        with pytest.raises(ValueError, match="step"):
            sandbox.wait_until(lambda: False, "nothing", limit=60, step=0)

    def test_the_testing_helper_is_a_thin_wrapper_that_returns_the_seconds_waited(
        self, sandbox: EmbeddedSandbox
    ) -> None:
        """`labkit.testing.advance_until` waits with wait_until and returns the emulated seconds it took."""
        start = sandbox.now()
        waited = advance_until(sandbox, lambda: _elapsed(sandbox, start) >= 50, step=20, limit=100)
        assert waited == 60
        with pytest.raises(TimeoutError, match="never did not happen within 40 emulated seconds"):
            advance_until(sandbox, lambda: False, step=20, limit=40, what="never")


class TestRunningClock:
    def test_it_polls_without_moving_the_clock(
        self, realtime: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On an accelerated clock the wait asks again as time passes by itself; it never advances the clock."""
        monkeypatch.setattr(realtime, "advance", _refuse_advance)
        start = realtime.now()
        calls: list[float] = []

        def after_two_minutes() -> float | None:
            calls.append(_elapsed(realtime, start))
            return calls[-1] if calls[-1] >= 120 else None

        value = realtime.wait_until(after_two_minutes, "two emulated minutes", limit=3600, step=30)
        assert value is not None
        assert value >= 120
        assert len(calls) > 2

    def test_it_times_out_after_limit_emulated_seconds(self, realtime: EmbeddedSandbox) -> None:
        """On an accelerated clock `limit` counts emulated seconds: 60 of them at speed 600 pass in 0.1 s."""
        start = realtime.now()
        with pytest.raises(WaitTimeoutError, match="the impossible"):
            realtime.wait_until(lambda: False, "the impossible", limit=60, step=5)
        assert 60 <= _elapsed(realtime, start) < 600

    def test_the_conditions_exception_propagates(self, realtime: EmbeddedSandbox) -> None:
        """An exception raised by the condition reaches the caller on a running clock too."""

        def broken() -> bool:
            raise RuntimeError("emulator gone")

        with pytest.raises(RuntimeError, match="emulator gone"):
            realtime.wait_until(broken, "a broken condition", limit=60, step=5)

    def test_a_real_account_sleeps_step_seconds_bounded_and_stops_at_the_limit(
        self, fake_time: FakeTime
    ) -> None:
        """At speed 1 the pause is `step` real seconds, at most MAX_POLL; the last pause ends at the limit."""
        account = RealTimeAccount(fake_time)
        with pytest.raises(WaitTimeoutError, match="a scale-in did not happen within 25 emulated seconds"):
            account.wait_until(lambda: False, "a scale-in", limit=25, step=60)
        assert fake_time.sleeps == [waiting.MAX_POLL, waiting.MAX_POLL, 5.0]

    def test_a_tiny_step_is_bounded_below(self, fake_time: FakeTime) -> None:
        """A step shorter than MIN_POLL wall seconds is stretched to MIN_POLL (no busy loop)."""
        account = RealTimeAccount(fake_time)
        ready_at = 0.35
        assert account.wait_until(lambda: fake_time.now >= ready_at, "soon", limit=10, step=0.01) is True
        assert fake_time.sleeps == [waiting.MIN_POLL] * 4

    def test_the_pause_is_step_over_speed(self) -> None:
        """The wall pause is what `step` emulated seconds take at the clock's speed."""
        assert waiting.poll_interval(30, 30) == 1.0
        assert waiting.poll_interval(5, 30) == pytest.approx(5 / 30)
        assert waiting.poll_interval(3600, 30) == waiting.MAX_POLL
        assert waiting.poll_interval(1, 600) == waiting.MIN_POLL


class TestServerSandbox:
    @pytest.mark.slow
    def test_a_server_sandbox_reports_its_clock_speed_and_waits_on_it(self) -> None:
        """A sandbox in another process tells its speed through its control endpoint; waits poll it."""
        with labkit.open_sandbox("server", clock="realtime", speed=600) as sb:
            assert sb.clock_speed == 600
            start = sb.now()
            assert sb.wait_until(lambda: _elapsed(sb, start) >= 60, "a minute", limit=600, step=30)

    @pytest.mark.slow
    def test_a_manual_server_sandbox_is_advanced_through_its_control_endpoint(self) -> None:
        """On a server's manual clock the wait advances it (speed 0) `step` at a time."""
        with labkit.open_sandbox("server", clock="manual") as sb:
            assert sb.clock_speed == 0
            start = sb.now()
            sb.wait_until(lambda: _elapsed(sb, start) >= 20, "twenty seconds", limit=60, step=10)
            assert _elapsed(sb, start) == 20


class TestCheckpointWaits:
    def test_a_check_on_a_manual_clock_looks_once_and_never_advances(self, sandbox: EmbeddedSandbox) -> None:
        """Checkpoints never change the sandbox: `eventually` on a manual clock is one look, clock untouched."""
        start = sandbox.now()
        looks: list[Outcome] = []

        def look() -> Outcome:
            looks.append(failed("not yet"))
            return looks[-1]

        outcome = CheckContext(sandbox, wait_seconds=5).eventually(look)
        assert not outcome.passed
        assert len(looks) == 1
        assert sandbox.now() == start

    def test_a_check_on_a_running_clock_polls_wall_seconds(
        self, realtime: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On a running clock `eventually` asks again (never advancing) while the outcome is settling."""
        monkeypatch.setattr(realtime, "advance", _refuse_advance)
        looks: list[int] = []

        def look() -> Outcome:
            looks.append(1)
            return passed("there") if len(looks) >= 3 else settling("not yet")

        outcome = CheckContext(realtime, wait_seconds=5).eventually(look)
        assert outcome.passed
        assert len(looks) == 3

    def test_a_check_that_never_passes_returns_its_last_outcome(self, realtime: EmbeddedSandbox) -> None:
        """When the wait runs out, `eventually` gives the last (settling, so failed) outcome rather than raising."""
        outcome = CheckContext(realtime, wait_seconds=0.3).eventually(lambda: settling("still not"))
        assert not outcome.passed
        assert outcome.message == "still not"


def _refuse_advance(*_: Any) -> dt.datetime:
    raise AssertionError("a running clock is never advanced by a wait")
