"""Headless execution of a notebook with papermill, with faults that say which cell and why.

`run_notebook` returns an `ExecutionResult` for every run that reached the kernel: a cell that
raises, a cell that runs past its timeout and a kernel that dies are reported in `result.error`
(`result.raise_for_error()` raises it). It raises only when the notebook cannot be run at all: a
file that is not a notebook (`NotebookError`), a kernel that is not installed
(`KernelNotFoundError`), a parameter that looks like a secret (`SecretParameterError`).

The output notebook is always written, also after a fault, and always scrubbed of anything that
looks like a credential (`scrub_secrets`).
"""

from __future__ import annotations

import errno
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbformat import NotebookNode

from labkit.errors import LabkitError
from labkit.notebooks import NotebookError, read_notebook, write_notebook
from labkit.sandbox.guards import FAKE_SECRET_ACCESS_KEY

if TYPE_CHECKING:
    from labkit.confinement import KernelJail

__all__ = [
    "CellFailedError",
    "CellTimeoutError",
    "ExecutionError",
    "ExecutionResult",
    "KernelDiedError",
    "KernelNotFoundError",
    "NotebookError",
    "SecretParameterError",
    "run_notebook",
    "scrub_secrets",
    "scrub_text",
]

REDACTED = "***"


class ExecutionError(LabkitError):
    """A notebook run did not complete; `path` is the input notebook, `cell` the cell index or None."""

    def __init__(self, path: str, cell: int | None, problem: str, first_line: str | None = None) -> None:
        where = path
        if cell is not None:
            where += f", cell {cell}"
            if first_line:
                where += f" ({first_line!r})"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.cell = cell
        self.first_line = first_line
        self.problem = problem


class CellFailedError(ExecutionError):
    """A cell raised an exception; `ename` and `evalue` are its type name and message."""

    def __init__(self, path: str, cell: int | None, first_line: str | None, ename: str, evalue: str) -> None:
        problem = f"{ename}: {evalue}" if evalue else ename
        super().__init__(path, cell, f"the cell raised {problem}", first_line)
        self.ename = ename
        self.evalue = evalue


class CellTimeoutError(ExecutionError):
    """A cell ran longer than the per-cell timeout."""

    def __init__(self, path: str, cell: int | None, first_line: str | None, timeout: float) -> None:
        super().__init__(
            path, cell, f"the cell did not finish within {timeout:g} s and was stopped", first_line
        )
        self.timeout = timeout


class KernelDiedError(ExecutionError):
    """The kernel process exited while starting or while running a cell."""

    def __init__(self, path: str, cell: int | None, first_line: str | None, detail: str) -> None:
        during = "while running the cell" if cell is not None else "before running any cell"
        super().__init__(path, cell, f"the kernel died {during} ({detail})", first_line)
        self.detail = detail


class KernelNotFoundError(ExecutionError):
    """No kernelspec of the requested name is installed."""

    exit_code = 2

    def __init__(self, path: str, kernel_name: str) -> None:
        super().__init__(
            path,
            None,
            f"no Jupyter kernel named {kernel_name!r} is installed (`jupyter kernelspec list` shows those that are)",
        )
        self.kernel_name = kernel_name


class SecretParameterError(ExecutionError):
    """A parameter looks like a credential; papermill would store it in the notebook's metadata."""

    exit_code = 2

    def __init__(self, path: str, name: str) -> None:
        super().__init__(
            path,
            None,
            f"parameter {name!r} looks like a credential; papermill stores parameters in the output "
            "notebook, so pass secrets through the environment instead",
        )
        self.name = name


@dataclass
class ExecutionResult:
    """What a run produced: the output notebook, how long it took, and the fault if there was one."""

    output_path: Path
    duration: float
    failed_cell: int | None = None
    error: ExecutionError | None = None
    secrets_scrubbed: int = 0

    @property
    def ok(self) -> bool:
        """True when every cell ran without a fault."""
        return self.error is None

    def raise_for_error(self) -> None:
        """Raise the run's `ExecutionError` if it had one; otherwise do nothing."""
        if self.error is not None:
            raise self.error


# --- secrets -----------------------------------------------------------------------------------

_VALUE_SEPARATOR = r"""(["']?\s*[:=]\s*["']?)"""
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    # An AWS access key id (long-term AKIA, temporary ASIA): the whole match goes.
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), 0),
    # A secret access key or session token written next to its name.
    (
        re.compile(
            r"(?i)(?<![a-z0-9])(aws_secret_access_key|secret_access_key|secretaccesskey|aws_secret_key"
            r"|aws_session_token|session_token|sessiontoken|x-amz-security-token)"
            + _VALUE_SEPARATOR
            + r"(?!\*\*\*)([A-Za-z0-9/+=_%.\-]{8,})"
        ),
        3,
    ),
    # password=..., token=..., passwd: ... in any output or parameter.
    (
        re.compile(
            r"(?i)(?<![a-z0-9])(password|passwd|pwd|token)" + _VALUE_SEPARATOR + r"(?!\*\*\*)([^\s\"',;&<>]+)"
        ),
        3,
    ),
    # The emulated sandbox's fixed fake secret, wherever it shows.
    (re.compile(re.escape(FAKE_SECRET_ACCESS_KEY)), 0),
)
_SECRET_NAME = re.compile(r"(?i)(secret|password|passwd|token|credential|access_key|private_key)")


def scrub_text(text: str) -> tuple[str, int]:
    """Return `text` with every credential-like value replaced by `***`, and how many were replaced."""
    count = 0
    for pattern, group in _SECRET_PATTERNS:

        def replace(match: re.Match[str], group: int = group) -> str:
            nonlocal count
            count += 1
            if group == 0:
                return REDACTED
            start, end = match.span(group)
            offset = match.start()
            whole = match.group(0)
            return whole[: start - offset] + REDACTED + whole[end - offset :]

        text = pattern.sub(replace, text)
    return text, count


def _scrub_value(value: Any) -> tuple[Any, int]:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, list):
        total = 0
        for index, item in enumerate(value):
            value[index], found = _scrub_value(item)
            total += found
        return value, total
    if isinstance(value, dict):
        total = 0
        for key in list(value):
            value[key], found = _scrub_value(value[key])
            total += found
        return value, total
    return value, 0


def _scrub_parameters(parameters: dict[str, Any]) -> int:
    total = 0
    for name in list(parameters):
        if _SECRET_NAME.search(name) and parameters[name] not in (None, "", REDACTED):
            parameters[name] = REDACTED
            total += 1
        else:
            parameters[name], found = _scrub_value(parameters[name])
            total += found
    return total


def scrub_secrets(nb: NotebookNode) -> int:
    """Replace credential-like values in outputs, papermill parameters and injected parameters with `***`.

    Changes `nb` in place and returns how many values were replaced. It looks for AWS access key ids
    (`AKIA`/`ASIA` and 16 characters, the sandbox's fake `AKIALABKITSANDBOX000` included), secret
    access keys and session tokens next to their names, and `password=` / `token=` values.
    """
    total = 0
    papermill = nb.get("metadata", {}).get("papermill")
    if isinstance(papermill, dict) and isinstance(papermill.get("parameters"), dict):
        total += _scrub_parameters(papermill["parameters"])
    for cell in nb.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell.source) if isinstance(cell.source, list) else cell.source
            cell.source, found = scrub_text(source)
            total += found
        if cell.get("cell_type") == "code":
            _, found = _scrub_value(cell.get("outputs", []))
            total += found
    return total


# --- running -----------------------------------------------------------------------------------


def run_notebook(
    input_path: str | Path,
    output_path: str | Path,
    *,
    parameters: Mapping[str, Any],
    cell_timeout: float = 120,
    kernel_name: str = "python3",
    cwd: str | Path | None = None,
    jail: KernelJail | None = None,
    kernel_log: str | Path | None = None,
) -> ExecutionResult:
    """Run a notebook headless with papermill, write the executed (scrubbed) notebook, report the outcome.

    `cwd` defaults to the notebook's folder, as in Jupyter. `jail` (see `labkit.confinement`) runs
    the kernel confined, in its private folder, with its environment. The kernel's own stdout and
    stderr (what it writes to file descriptors 1 and 2, beyond what Jupyter captures) go to
    `kernel_log` (default: the jail's log, else `<output>.kernel.log`), never to this process's. Cell indices in faults are those of the
    input notebook. A cell fault (`CellFailedError`, `CellTimeoutError`, `KernelDiedError`) is
    returned in `ExecutionResult.error`, never raised. Raises `NotebookError` for a file that is not
    a valid notebook, `KernelNotFoundError` for an unknown kernel and `SecretParameterError` for a
    parameter that looks like a credential.
    """
    shown = str(input_path)
    source = read_notebook(input_path)
    for name, value in parameters.items():
        if _SECRET_NAME.search(name) or (isinstance(value, str) and scrub_text(value)[1]):
            raise SecretParameterError(shown, name)
    _require_kernel(shown, kernel_name)
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    workdir = str(cwd) if cwd is not None else str(Path(input_path).resolve().parent)
    if jail is not None and cwd is None:
        workdir = str(jail.work) if jail.confinement.mode != "none" else workdir
    log = (
        Path(kernel_log)
        if kernel_log
        else (jail.log_path if jail else output.with_name(output.name + ".kernel.log"))
    )

    started = time.monotonic()
    fault: BaseException | None = None
    for attempt in (1, 2):
        fault = _execute(
            str(input_path), str(output), dict(parameters), cell_timeout, kernel_name, workdir, jail, log
        )
        # A kernel that cannot bind its ports dies before running any cell: start it once more.
        if fault is None or attempt == 2 or not _is_startup_clash(fault, output):
            break
    duration = time.monotonic() - started

    executed = read_notebook(output)
    scrubbed = scrub_secrets(executed)
    write_notebook(executed, output)

    error = _classify(fault, shown, source, executed, cell_timeout) if fault is not None else None
    return ExecutionResult(
        output_path=output,
        duration=duration,
        failed_cell=error.cell if error is not None else None,
        error=error,
        secrets_scrubbed=scrubbed,
    )


def _require_kernel(path: str, kernel_name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise KernelNotFoundError(path, kernel_name) from None


def _execute(
    input_path: str,
    output_path: str,
    parameters: dict[str, Any],
    timeout: float,
    kernel: str,
    cwd: str,
    jail: KernelJail | None,
    log: Path,
) -> BaseException | None:
    import papermill

    try:
        papermill.execute_notebook(
            input_path,
            output_path,
            parameters=parameters,
            kernel_name=kernel,
            cwd=cwd,
            progress_bar=False,
            execution_timeout=timeout,
            # Graceful shutdown waits up to 3 s for a kernel that is about to be thrown away.
            shutdown_kernel="immediate",
            kernel_manager_class=_kernel_manager(jail, log),
        )
    except Exception as exc:  # noqa: BLE001 - every fault is classified below, none is lost
        return exc
    return None


def _kernel_manager(jail: KernelJail | None, log: Path) -> type[Any]:
    """A kernel manager whose kernels reach loopback never through a proxy, and write to `log`.

    Without a jail the kernel gets this process's environment with the loopback hosts added to
    `NO_PROXY`, so `urllib`, `requests` or the AWS CLI in a notebook reach a sandbox's endpoint and
    listeners directly even when `HTTP_PROXY`/`HTTPS_PROXY` are set (AWS settings are left as they
    are: a notebook in `aws` mode uses the caller's real profile). With a jail the kernel gets the
    jail's environment, working folder and connection file, and its command is wrapped by the jail
    (`KernelJail.wrap`). Either way its stdin is empty and its stdout and stderr go to `log`.
    """
    import os
    import uuid

    from jupyter_client.manager import AsyncKernelManager

    from labkit.sandbox.hermetic import loopback_no_proxy

    class LabkitKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            if jail is not None:
                kw["env"] = dict(jail.env)
                if jail.confinement.mode != "none":
                    kw["cwd"] = str(jail.work)
                # The connection file (ports, HMAC key) in the kernel's own runtime folder.
                self.connection_file = str(jail.runtime / f"kernel-{uuid.uuid4()}.json")
            elif kw.get("env") is None:
                env = dict(os.environ)
                env["NO_PROXY"] = env["no_proxy"] = loopback_no_proxy(env)
                kw["env"] = env
            self.transport_encryption = transport_encryption()
            log.parent.mkdir(parents=True, exist_ok=True)
            with open(log, "ab") as stream:
                kw["stdin"] = subprocess.DEVNULL
                kw["stdout"] = kw["stderr"] = stream
                await AsyncKernelManager.start_kernel(self, **kw)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command: list[str] = AsyncKernelManager.format_kernel_cmd(self, extra_arguments)
            if jail is None:
                return command
            run_as = jail.confinement.run_as
            if run_as is not None and os.path.exists(self.connection_file):
                # Written (0600) by this process just before: the kernel's user must read it.
                os.chown(self.connection_file, *run_as)
            return jail.wrap(command)

    return LabkitKernelManager


def transport_encryption() -> str:
    """The `KernelManager.transport_encryption` policy for the kernels labkit starts: `auto` where
    pyzmq has CurveZMQ, else `disabled`.

    With `auto`, jupyter_client (8.10 and later) gives a kernel whose kernelspec declares
    `supported_encryption = ["curve"]` (ipykernel 7.4 does) a CurveZMQ key pair in its connection
    file, so its ZMQ sockets are encrypted even on loopback, and ipykernel no longer warns that it
    "is running over TCP without encryption". A kernel that does not declare it runs as before.
    For a kernel started by a Jupyter server, the same setting is
    `--KernelManager.transport_encryption=auto`.
    """
    import zmq

    return "auto" if zmq.has("curve") else "disabled"


def _started_cells(nb: NotebookNode) -> list[int]:
    return [
        index
        for index, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("papermill", {}).get("start_time") is not None
    ]


def _is_startup_clash(fault: BaseException, output: Path) -> bool:
    text = str(fault)
    clash = getattr(fault, "errno", None) == errno.EADDRINUSE or "Address already in use" in text
    died_at_start = isinstance(fault, RuntimeError) and "Kernel died before replying to kernel_info" in text
    if not (clash or died_at_start):
        return False
    try:
        return not _started_cells(read_notebook(output))
    except NotebookError:
        return True


#: papermill's tag on the cells it adds to a failed run's output (a banner at the top, an anchor).
_ERROR_MARKER_TAG = "papermill-error-cell-tag"


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _without_error_markers(executed: NotebookNode) -> list[NotebookNode]:
    # papermill numbers a failed cell before it inserts its markers, so count without them.
    return [cell for cell in executed.cells if _ERROR_MARKER_TAG not in _tags(cell)]


def _input_index(cells: list[NotebookNode], index: int) -> int:
    # papermill adds an `injected-parameters` cell; count only the cells of the input notebook.
    injected = sum(1 for cell in cells[:index] if "injected-parameters" in _tags(cell))
    return index - injected


def _first_line(cell: NotebookNode) -> str:
    source = "".join(cell.source) if isinstance(cell.source, list) else str(cell.source)
    for line in source.splitlines():
        if line.strip():
            return scrub_text(line.strip())[0]
    return ""


def _classify(
    fault: BaseException, path: str, source: NotebookNode, executed: NotebookNode, timeout: float
) -> ExecutionError:
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError as NbclientTimeout
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    cells = _without_error_markers(executed)
    cell: int | None = None
    if isinstance(fault, PapermillExecutionError):
        cell = _input_index(cells, fault.cell_index)
    else:
        started = [
            index
            for index, one in enumerate(cells)
            if one.get("metadata", {}).get("papermill", {}).get("start_time") is not None
        ]
        if started:
            cell = _input_index(cells, started[-1])
    first_line = _first_line(source.cells[cell]) if cell is not None and cell < len(source.cells) else None

    if isinstance(fault, PapermillExecutionError):
        return CellFailedError(path, cell, first_line, str(fault.ename), scrub_text(str(fault.evalue))[0])
    if isinstance(fault, NbclientTimeout) or (isinstance(fault, TimeoutError) and cell is not None):
        return CellTimeoutError(path, cell, first_line, timeout)
    if isinstance(fault, NoSuchKernel):
        return KernelNotFoundError(path, str(fault))
    if isinstance(fault, DeadKernelError | RuntimeError):
        return KernelDiedError(
            path, cell, first_line, scrub_text(str(fault).strip() or type(fault).__name__)[0]
        )
    detail = scrub_text(str(fault).strip().splitlines()[0] if str(fault).strip() else "")[0]
    return ExecutionError(path, cell, f"the run stopped: {type(fault).__name__}: {detail}", first_line)
