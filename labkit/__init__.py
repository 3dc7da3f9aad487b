"""labkit: sandboxes, checkpoints and headless runs for the labkit course (containers on AWS)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.errors import (
    AccountNotAllowedError,
    ClockNotAvailableError,
    ConfigError,
    EndpointRefusedError,
    LabkitError,
    PortInUseError,
    SandboxAlreadyRunningError,
    SandboxNotRunningError,
    SandboxStartError,
    UnknownModeError,
    WaitTimeoutError,
)
from labkit.sandbox import Sandbox, available_modes, open_sandbox, register_mode


def open_lab(lab_id: str, mode: str = "embedded", **options: object) -> LabSession:
    """Open a lab in a new sandbox of `mode` (see `labkit.lab.open_lab`)."""
    from labkit.lab import open_lab as _open_lab

    return _open_lab(lab_id, mode, **options)  # type: ignore[arg-type]


if TYPE_CHECKING:
    from labkit.lab import LabSession

__version__ = "0.1.0"

__all__ = [
    "AccountNotAllowedError",
    "ClockNotAvailableError",
    "ConfigError",
    "EndpointRefusedError",
    "LabkitError",
    "PortInUseError",
    "Sandbox",
    "SandboxAlreadyRunningError",
    "SandboxNotRunningError",
    "SandboxStartError",
    "UnknownModeError",
    "WaitTimeoutError",
    "__version__",
    "available_modes",
    "open_lab",
    "open_sandbox",
    "register_mode",
]
