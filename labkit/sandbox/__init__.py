"""Sandboxes: one interface, modes registered by name (`embedded`, `server`, `aws`, `workshop`).

`open_sandbox()` is the only way labkit makes boto3 sessions and clients; everything else receives
a `Sandbox`. A mode is a factory registered with `register_mode(name, factory)`; `get_mode(name)`
raises `UnknownModeError` for a name that is not registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.config import load_config
from labkit.errors import ClockNotAvailableError, UnknownModeError
from labkit.sandbox.base import EmulatedSandbox, Sandbox
from labkit.sandbox.clock import DEFAULT_SPEED, ClockMode, SandboxClock

__all__ = [
    "DEFAULT_SPEED",
    "EmulatedSandbox",
    "Sandbox",
    "SandboxClock",
    "available_modes",
    "get_mode",
    "open_sandbox",
    "register_lifecycle_hook",
    "register_mode",
    "unregister_lifecycle_hook",
]

SandboxFactory = Callable[..., Sandbox]
_MODES: dict[str, SandboxFactory] = {}


def register_mode(name: str, factory: SandboxFactory) -> None:
    """Register a sandbox mode; a later registration under the same name replaces the earlier one."""
    _MODES[name] = factory


def get_mode(name: str) -> SandboxFactory:
    """Return the factory of a mode; raises `UnknownModeError` naming the known modes."""
    try:
        return _MODES[name]
    except KeyError:
        raise UnknownModeError(name, sorted(_MODES)) from None


def register_lifecycle_hook(function_arn: str, handler: Callable[[dict[str, Any], Any], Any]) -> None:
    """Make `handler(event, context)` the Lambda function `function_arn` of ECS deployment lifecycle hooks.

    In an emulated sandbox a `lifecycleHooks` entry's `hookTargetArn` calls the handler registered for
    it (in the emulator's process: an embedded sandbox's is this one), with the payload ECS sends; it
    answers `{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}` (optionally `callBackDelay`,
    `hookDetails`). An ARN with no handler fails its hook and the deployment rolls back, as a missing
    function does on AWS. See `labkit.sandbox.simulator.deployments.register_lifecycle_hook`.
    """
    from labkit.sandbox.simulator.deployments import register_lifecycle_hook as register

    register(function_arn, handler)


def unregister_lifecycle_hook(function_arn: str) -> None:
    """Forget the handler of `function_arn` (KeyError when there is none)."""
    from labkit.sandbox.simulator.deployments import unregister_lifecycle_hook as unregister

    unregister(function_arn)


def available_modes() -> list[str]:
    """Return the registered mode names."""
    return sorted(_MODES)


def _embedded(
    *,
    clock: ClockMode | None,
    speed: float,
    region: str | None,
    lab: str | None,
    **options: Any,
) -> Sandbox:
    from labkit.sandbox.embedded import EmbeddedSandbox

    return EmbeddedSandbox(
        region=region or load_config().region, clock=clock or "realtime", speed=speed, lab=lab, **options
    )


def _server(
    *,
    clock: ClockMode | None,
    speed: float,
    region: str | None,
    lab: str | None,
    **options: Any,
) -> Sandbox:
    from labkit.sandbox.server import ServerSandbox

    return ServerSandbox(region=region or load_config().region, clock=clock, speed=speed, lab=lab, **options)


def _aws(
    *,
    clock: ClockMode | None,
    speed: float,
    region: str | None,
    lab: str | None,
    **options: Any,
) -> Sandbox:
    from labkit.sandbox.aws import AwsSandbox

    if clock is not None:
        raise ClockNotAvailableError("aws")
    if region is not None:
        raise ValueError("aws mode takes its region from aws.region in the labkit configuration")
    return AwsSandbox(lab=lab, **options)


def _workshop(
    *,
    clock: ClockMode | None,
    speed: float,
    region: str | None,
    lab: str | None,
    **options: Any,
) -> Sandbox:
    from labkit.sandbox.workshop_client import WorkshopSandbox

    if clock is not None or region is not None:
        raise ValueError("a workshop sandbox takes its clock and region from the workshop server")
    return WorkshopSandbox(lab=lab, **options)


register_mode("embedded", _embedded)
register_mode("server", _server)
register_mode("aws", _aws)
register_mode("workshop", _workshop)


def open_sandbox(
    mode: str = "embedded",
    clock: ClockMode | None = None,
    *,
    speed: float = DEFAULT_SPEED,
    region: str | None = None,
    lab: str | None = None,
    **options: Any,
) -> Sandbox:
    """Open a sandbox of the named mode (a context manager).

    `clock` is `"realtime"` (default: accelerated by `speed`) or `"manual"` (moves only through
    `advance`) in the emulated modes; the `aws` mode has no clock. `lab` names the lab the sandbox is
    for (it tags what `aws` mode creates). Raises `UnknownModeError`, `PortInUseError`,
    `AccountNotAllowedError`, `ConfigError`, `SandboxStartError`, `CredentialsMismatchError` (a
    profile or credentials given to an emulated mode).
    """
    factory = get_mode(mode)
    if mode != "aws":
        from labkit.sandbox.guards import refuse_credentials_in_emulated_mode

        refuse_credentials_in_emulated_mode(mode, options)
    return factory(clock=clock, speed=speed, region=region, lab=lab, **options)
