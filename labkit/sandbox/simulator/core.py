"""The control-plane simulator's core: a timeline of due actions on the sandbox clock.

moto stores what a client asks for and runs nothing. Each emulated sandbox has one `Simulator`
that makes things happen: tasks start and stop, services keep their desired count, deployments
roll, load balancer targets are health-checked. Nothing runs in the background: before the
emulator serves a request (and before a listener forwards one), `catch_up()` performs every action
that is due by the sandbox's clock, in time order, with moto seeing each action's own time. The
same code therefore serves the accelerated real-time clock and the manual clock of tests.

Simulators are registered by account id, which is how the moto seam's hooks
(`labkit.sandbox.moto_seam`) find the simulator of the account a request is served in (each
sandbox has its own account).
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.sandbox import clock as clocks
from labkit.sandbox.clock import SandboxClock

if TYPE_CHECKING:
    from labkit.sandbox.simulator.alarms import AlarmSimulator
    from labkit.sandbox.simulator.autoscaling import AutoScalingSimulator
    from labkit.sandbox.simulator.ecs import EcsSimulator
    from labkit.sandbox.simulator.elb import ElbSimulator
    from labkit.sandbox.simulator.events import EventsSimulator
    from labkit.sandbox.simulator.metrics import MetricsSimulator
    from labkit.sandbox.simulator.sns import SnsSimulator
    from labkit.sandbox.simulator.workloads import WorkloadRunner

__all__ = ["FrozenClock", "Simulator", "simulator_for"]

_REGISTRY: dict[str, Simulator] = {}
_REGISTRY_LOCK = threading.Lock()


def simulator_for(account_id: str) -> Simulator | None:
    """Return the simulator of the sandbox that owns `account_id`, if any."""
    return _REGISTRY.get(account_id)


class FrozenClock(SandboxClock):
    """A clock that reads a fixed instant: what moto sees while the simulator performs an action."""

    def __init__(self, instant: dt.datetime) -> None:
        super().__init__("manual", start=instant)


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    label: str = field(compare=False, default="")
    cancelled: bool = field(compare=False, default=False)


class Simulator:
    """Runs one sandbox's account: a timeline of actions, and the ECS and ELB behaviour on it."""

    def __init__(self, *, account_id: str, region: str, clock: SandboxClock, seed: int | None = None) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = clock
        self.random = random.Random(seed if seed is not None else int(account_id))
        self.lock = threading.RLock()
        self._timeline: list[_Due] = []
        self._seq = itertools.count()
        self._now: dt.datetime | None = None
        self._closed = False
        #: How many timeline actions have been performed (for benchmarks).
        self.performed = 0
        #: The clock instant (epoch seconds) of the last catch-up.
        self.caught_up_to: float | None = None
        from labkit.sandbox.simulator.ecs import EcsSimulator
        from labkit.sandbox.simulator.elb import ElbSimulator

        self.ecs: EcsSimulator = EcsSimulator(self)
        self.elb: ElbSimulator = ElbSimulator(self)
        from labkit.sandbox.simulator.alarms import AlarmSimulator
        from labkit.sandbox.simulator.autoscaling import AutoScalingSimulator
        from labkit.sandbox.simulator.metrics import MetricsSimulator

        self.metrics: MetricsSimulator = MetricsSimulator(self)
        self.alarms: AlarmSimulator = AlarmSimulator(self)
        self.autoscaling: AutoScalingSimulator = AutoScalingSimulator(self)
        from labkit.sandbox.simulator.events import EventsSimulator
        from labkit.sandbox.simulator.sns import SnsSimulator
        from labkit.sandbox.simulator.workloads import WorkloadRunner

        self.events: EventsSimulator = EventsSimulator(self)
        self.sns: SnsSimulator = SnsSimulator(self)
        self.workloads: WorkloadRunner = WorkloadRunner(self)
        with _REGISTRY_LOCK:
            _REGISTRY[account_id] = self

    # -- time -------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The simulator's current instant: an action's own time while it runs, else the clock's."""
        return self._now if self._now is not None else self.clock.now()

    def schedule(self, at: dt.datetime, action: Callable[[], None], label: str = "") -> _Due:
        """Run `action` once the sandbox clock reaches `at` (immediately due if `at` is past)."""
        due = _Due(at.timestamp(), next(self._seq), action, label)
        heapq.heappush(self._timeline, due)
        return due

    def after(self, seconds: float, action: Callable[[], None], label: str = "") -> _Due:
        """Run `action` `seconds` emulated seconds from now."""
        return self.schedule(self.now() + dt.timedelta(seconds=seconds), action, label)

    def catch_up(self) -> None:
        """Perform every action due by the sandbox clock, in time order; then settle the services."""
        with self.lock:
            if self._closed:
                return
            target = self.clock.now()
            limit = target.timestamp()
            self.caught_up_to = limit
            self.elb.begin_round()
            try:
                self._settle(target)
                while self._timeline and self._timeline[0].at <= limit:
                    at = self._timeline[0].at
                    instant = dt.datetime.fromtimestamp(at, dt.UTC)
                    # Everything due at one instant happens together; then the schedulers react once.
                    while self._timeline and self._timeline[0].at == at:
                        due = heapq.heappop(self._timeline)
                        if not due.cancelled:
                            self.performed += 1
                            self._run_at(instant, due.action)
                    self._settle(instant)
            finally:
                self.elb.end_round()

    def _run_at(self, instant: dt.datetime, action: Callable[[], None]) -> None:
        previous = self._now
        self._now = instant
        try:
            with clocks.using(FrozenClock(instant)):
                action()
        finally:
            self._now = previous

    def _settle(self, instant: dt.datetime) -> None:
        """Let the schedulers react to what changed (services reconcile, deployments move)."""
        self._run_at(instant, self.ecs.reconcile_all)

    def perform(self, action: Callable[[], Any]) -> Any:
        """Run an API-driven change now (inside a request), then let the schedulers react."""
        with self.lock:
            result = action()
            self._settle(self.now())
            return result

    def pending_actions(self) -> int:
        """How many actions are waiting on the timeline (for tests and benchmarks)."""
        return sum(1 for d in self._timeline if not d.cancelled)

    def close(self) -> None:
        """Stop every task server and listener this simulator runs, and unregister it."""
        with self.lock:
            self._closed = True
            self.ecs.close()
            self.elb.close()
            self.workloads.close()
            self._timeline.clear()
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.account_id) is self:
                del _REGISTRY[self.account_id]
