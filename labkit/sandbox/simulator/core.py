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

A fault (an exception) while the simulator advances one resource is contained to that resource:
it is logged (logger `labkit.simulator`) and recorded in `Simulator.faults`, the action that
raised is dropped (its owner's `on_error` decides what AWS would show: a task stops with
`TaskFailedToStart`, a service gets an event), and every other action and request goes on. A fault
inside a request (`perform`) reaches that request's client as `SimulatorFault`, which the emulator
answers with HTTP 500 `InternalFailure`.
"""

from __future__ import annotations

import datetime as dt
import functools
import heapq
import itertools
import logging
import os
import random
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

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

__all__ = ["Fault", "FrozenClock", "Simulator", "SimulatorFault", "fault_origin", "simulator_for"]

log = logging.getLogger("labkit.simulator")

T = TypeVar("T")

#: How many contained faults a simulator remembers (the oldest go first).
FAULTS_KEPT = 100

_LABKIT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fault_origin(exc: BaseException) -> str:
    """Where `exc` was raised: `EcsSimulator.start_task (sandbox/simulator/ecs.py:197)`.

    The innermost frame in labkit's own code (past the emulator's request plumbing) names the
    labkit step that failed, even when the exception came from deeper down; without one, the
    innermost frame in moto is named (`moto/ecs/models.py:1388 in _calculate_...`). Empty when
    neither is on the traceback.
    """
    labkit_where = moto_where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        filename = os.path.abspath(frame.f_code.co_filename)
        name = frame.f_code.co_name
        if filename.startswith(_LABKIT_ROOT + os.sep):
            relative = os.path.relpath(filename, _LABKIT_ROOT)
            if relative in _PLUMBING:
                continue
            owner = frame.f_locals.get("self")
            if owner is not None and name != "<lambda>":
                name = f"{type(owner).__name__}.{name}"
            labkit_where = f"{name} ({relative}:{line})"
        elif f"{os.sep}moto{os.sep}" in filename:
            moto_where = f"moto/{filename.rsplit(os.sep + 'moto' + os.sep, 1)[1]}:{line} in {name}"
    return labkit_where or moto_where


#: labkit's request plumbing: on every traceback of a request, so it names nothing.
_PLUMBING = {os.path.join("sandbox", "emulator.py"), os.path.join("sandbox", "serving.py")}


def describe_exception(exc: BaseException) -> str:
    """`TypeName: message`, and where in labkit it happened when known."""
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    origin = fault_origin(exc)
    return f"{text} (in {origin})" if origin else text


class SimulatorFault(Exception):
    """The simulator failed while reacting to a request: a labkit bug, contained to that request.

    `what` names the resource or step, `cause` is the exception. The emulator answers the request
    with HTTP 500 `InternalFailure` and this message.
    """

    def __init__(self, what: str, cause: BaseException) -> None:
        super().__init__(
            f"labkit fault: the sandbox's simulator failed while {what}: {describe_exception(cause)}. "
            "This is a bug in labkit, not a problem with your request or a limit of AWS; "
            "the rest of the sandbox keeps working."
        )
        self.what = what
        self.cause = cause


@dataclass(frozen=True)
class Fault:
    """One contained fault: when (sandbox time), what it hit, and the exception as text."""

    at: dt.datetime
    what: str
    error: str


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
    #: What the action's owner does when the action raises (the fault is logged either way).
    on_error: Callable[[Exception], None] | None = field(compare=False, default=None)


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
        #: The faults contained so far, oldest first (at most `FAULTS_KEPT`).
        self.faults: deque[Fault] = deque(maxlen=FAULTS_KEPT)
        self._logged: set[tuple[str, str]] = set()
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
        from labkit.sandbox.simulator.express import ExpressSimulator

        self.express: ExpressSimulator = ExpressSimulator(self)
        with _REGISTRY_LOCK:
            _REGISTRY[account_id] = self

    # -- time -------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        """The simulator's current instant: an action's own time while it runs, else the clock's."""
        return self._now if self._now is not None else self.clock.now()

    def schedule(
        self,
        at: dt.datetime,
        action: Callable[[], None],
        label: str = "",
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> _Due:
        """Run `action` once the sandbox clock reaches `at` (immediately due if `at` is past).

        If `action` raises, the fault is contained (logged, recorded) and `on_error(exc)` runs.
        """
        due = _Due(at.timestamp(), next(self._seq), action, label, on_error=on_error)
        heapq.heappush(self._timeline, due)
        return due

    def after(
        self,
        seconds: float,
        action: Callable[[], None],
        label: str = "",
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> _Due:
        """Run `action` `seconds` emulated seconds from now (see `schedule`)."""
        return self.schedule(self.now() + dt.timedelta(seconds=seconds), action, label, on_error=on_error)

    # -- faults -----------------------------------------------------------------------------

    def contain(self, what: str, exc: BaseException) -> Fault:
        """Record a fault that hit `what` (logged once per kind at warning, its traceback at debug)."""
        fault = Fault(self.now(), what, describe_exception(exc))
        self.faults.append(fault)
        kind = (what, type(exc).__name__)
        if kind not in self._logged:
            self._logged.add(kind)
            log.warning("sandbox %s: contained a labkit fault in %s: %s", self.account_id, what, fault.error)
        else:
            log.debug("sandbox %s: the fault in %s again: %s", self.account_id, what, fault.error)
        log.debug("traceback of the fault in %s", what, exc_info=exc)
        return fault

    def contained(
        self, what: str, action: Callable[[], T], on_error: Callable[[Exception], None] | None = None
    ) -> T | None:
        """Run `action`; if it raises, contain the fault to `what`, run `on_error(exc)`, return None."""
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - a fault in one resource must not stop the others
            self.contain(what, exc)
            if on_error is not None:
                try:
                    on_error(exc)
                except Exception as again:  # noqa: BLE001 - the fallback failed too: logged, dropped
                    self.contain(f"{what} (while handling its fault)", again)
            return None

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
                            # A failing action is dropped (never retried), so it cannot block the rest.
                            self._run_at(
                                instant,
                                functools.partial(
                                    self.contained, due.label or "a timeline action", due.action, due.on_error
                                ),
                            )
                    self._settle(instant)
            finally:
                self.elb.end_round()

    def _run_at(self, instant: dt.datetime, action: Callable[[], object]) -> None:
        previous = self._now
        self._now = instant
        try:
            with clocks.using(FrozenClock(instant)):
                action()
        finally:
            self._now = previous

    def _settle(self, instant: dt.datetime) -> None:
        """Let the schedulers react to what changed (services reconcile, deployments move)."""
        # Each service is guarded on its own inside; this guards what is shared (capacity sync).
        self._run_at(instant, lambda: self.contained("the ECS service scheduler", self.ecs.reconcile_all))

    def perform(self, action: Callable[[], Any]) -> Any:
        """Run an API-driven change now (inside a request), then let the schedulers react.

        An AWS error the change raises on purpose (a moto client error) reaches the client as is;
        any other exception is contained and raised as `SimulatorFault`.
        """
        with self.lock:
            try:
                result = action()
            except Exception as exc:
                if _is_client_error(exc):
                    raise
                what = "reacting to this request"
                origin = fault_origin(exc)
                self.contain(f"{what} ({origin})" if origin else what, exc)
                raise SimulatorFault(what, exc) from exc
            finally:
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
            self.express.close()
            self.elb.close()
            self.workloads.close()
            self._timeline.clear()
        with _REGISTRY_LOCK:
            if _REGISTRY.get(self.account_id) is self:
                del _REGISTRY[self.account_id]


def _is_client_error(exc: BaseException) -> bool:
    """Is `exc` an answer for the client (a moto service error, or an action moto lacks), not a crash?"""
    from labkit.sandbox.moto_seam import is_service_error

    return is_service_error(exc) or isinstance(exc, NotImplementedError)
