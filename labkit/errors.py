"""The exceptions labkit raises: one root, subclasses that carry the data a message needs.

A learner's mistake is never one of these (it is a failed checkpoint); these are for a sandbox
that cannot be opened or reached, a refused account, a bad configuration. The CLI turns any
`LabkitError` into one line on stderr and the exit code in `exit_code`.
"""

from __future__ import annotations

__all__ = [
    "AccountNotAllowedError",
    "ClockNotAvailableError",
    "ConfigError",
    "EndpointRefusedError",
    "LabkitError",
    "LoadError",
    "LoadNotAvailableError",
    "OutboxNotAvailableError",
    "PortInUseError",
    "SandboxAlreadyRunningError",
    "SandboxNotRunningError",
    "SandboxStartError",
    "StaleServerStateError",
    "UnknownModeError",
    "WaitTimeoutError",
]


class LabkitError(Exception):
    """Root of every error labkit raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(LabkitError):
    """The user's labkit configuration file is missing a setting or cannot be read."""

    exit_code = 2

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"labkit configuration {path}: {problem}")
        self.path = path
        self.problem = problem


class UnknownModeError(LabkitError):
    """A sandbox mode was asked for by a name that is not registered."""

    exit_code = 2

    def __init__(self, mode: str, known: list[str]) -> None:
        super().__init__(f"unknown sandbox mode {mode!r}; known modes: {', '.join(known)}")
        self.mode = mode
        self.known = known


class PortInUseError(LabkitError):
    """The emulator could not bind its port on 127.0.0.1 because something else holds it."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port {port} on 127.0.0.1 is already in use; choose another with --port "
            "or leave it out to get a free one"
        )
        self.port = port


class SandboxStartError(LabkitError):
    """A sandbox server process did not come up."""

    def __init__(self, reason: str, log_path: str | None = None) -> None:
        where = f" (log: {log_path})" if log_path else ""
        super().__init__(f"the sandbox server did not start: {reason}{where}")
        self.reason = reason
        self.log_path = log_path


class SandboxAlreadyRunningError(LabkitError):
    """`labkit sandbox start` found a server that is already running."""

    def __init__(self, endpoint_url: str, pid: int) -> None:
        super().__init__(
            f"a sandbox server is already running at {endpoint_url} (pid {pid}); "
            "`labkit sandbox stop` stops it"
        )
        self.endpoint_url = endpoint_url
        self.pid = pid


class SandboxNotRunningError(LabkitError):
    """A command needs a running sandbox server and there is none."""

    def __init__(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(f"no sandbox server is running{extra}; start one with `labkit sandbox start`")
        self.detail = detail


class StaleServerStateError(SandboxNotRunningError):
    """A server's state file names a server that is gone; the file was removed and nothing was signalled."""

    exit_code = 0

    def __init__(self, path: str, pid: int, reason: str) -> None:
        LabkitError.__init__(
            self,
            f"no sandbox server was running; removed the stale state file {path} "
            f"(it named pid {pid}: {reason}; that process was not signalled)",
        )
        self.detail = reason
        self.path = path
        self.pid = pid
        self.reason = reason


class EndpointRefusedError(LabkitError):
    """An emulated sandbox's client was about to send a request somewhere other than loopback."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"refused to send a request to {url}: an emulated sandbox only talks to 127.0.0.1 "
            "(use mode 'aws' to reach a real account)"
        )
        self.url = url


class AccountNotAllowedError(LabkitError):
    """`aws` mode was refused: the account is not allow-listed, is block-listed, or is not the expected one."""

    exit_code = 3

    def __init__(self, account_id: str | None, reason: str) -> None:
        who = f"account {account_id}" if account_id else "this account"
        super().__init__(f"refused to use {who} in aws mode: {reason}")
        self.account_id = account_id
        self.reason = reason


class ClockNotAvailableError(LabkitError):
    """The sandbox has no clock labkit can move (a real AWS account)."""

    def __init__(self, mode: str) -> None:
        super().__init__(f"a sandbox in mode {mode!r} has no emulated clock to advance")
        self.mode = mode


class LoadError(LabkitError):
    """A sandbox's load model was given something it cannot apply (an unknown service, a negative rate)."""

    exit_code = 2

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"cannot set the load: {problem}")
        self.field = field
        self.problem = problem


class LoadNotAvailableError(LabkitError):
    """Load cannot be set on this sandbox: in a real account it comes from real traffic."""

    def __init__(self, mode: str) -> None:
        super().__init__(
            f"a sandbox in mode {mode!r} has no load model: load on a real account comes from real "
            "traffic (send requests to the load balancer, messages to the queue)"
        )
        self.mode = mode


class OutboxNotAvailableError(LabkitError):
    """A sandbox that sends real e-mail (a real account) has no outbox to read."""

    def __init__(self, mode: str) -> None:
        super().__init__(
            f"a {mode} sandbox has no outbox: SNS e-mail goes to real inboxes there; "
            "read the message in the subscribed mailbox instead"
        )
        self.mode = mode


class WaitTimeoutError(LabkitError, TimeoutError):
    """A `Sandbox.wait_until` condition did not hold within its limit of emulated seconds.

    It is also a `TimeoutError`, so code that waited with `labkit.testing.advance_until` and caught
    that still catches it.
    """

    def __init__(self, what: str, limit: float) -> None:
        super().__init__(f"{what} did not happen within {limit:g} emulated seconds")
        self.what = what
        self.limit = limit
