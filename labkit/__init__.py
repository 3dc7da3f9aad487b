"""labkit: sandboxes, checkpoints and headless runs for the labkit course (containers on AWS)."""

from __future__ import annotations

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
)
from labkit.sandbox import Sandbox, available_modes, open_sandbox, register_mode

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
    "__version__",
    "available_modes",
    "open_sandbox",
    "register_mode",
]
