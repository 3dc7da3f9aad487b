"""The learner's workspace and JupyterLab on it: what `labkit start [LAB]` does.

The workspace is a folder the learner owns, outside the repository: `--workspace DIR`, else
`$LABKIT_WORKSPACE`, else `~/labkit-workspace`. It holds the learner version of every lab
(`notebooks.make_learner_version`), named `<lab>.ipynb`, and the files a lab gives its learner
(everything in `labs/<lab>/` but the lab's own machinery: `lab.ipynb`, `checks.py`, `reference.py`,
`lab.toml`), under `<lab>/`. Never a solution: no solution version, no `reference.py`, no checks.

A manifest (`.labkit-workspace.json`) records the digest of every file as labkit last wrote it, so a
second run keeps the learner's work: a file the learner changed is never overwritten; when the lab's
source changed since, the new learner version is written beside it (`<lab>.new.ipynb`) and reported.

`start_jupyterlab` runs `jupyter lab` of this Python as a child process: 127.0.0.1 only, a random token
(passed through a private file deleted once the server answers, never in an environment a kernel
inherits), the workspace as root, the chosen lab open. Its log is kept with the token scrubbed.
`run_workspace` is the whole command: workspace, optional shared sandbox server, JupyterLab, until
Ctrl-C (or SIGTERM) stops JupyterLab cleanly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import nbformat

from labkit.config import state_dir
from labkit.errors import LabkitError
from labkit.labs import lab_folder, lab_ids, labs_root, load_lab
from labkit.notebooks import check_lab_notebook, make_learner_version, read_notebook

__all__ = [
    "MANIFEST",
    "SANDBOX_MODE_VARIABLE",
    "WORKSPACE_VARIABLE",
    "JupyterLab",
    "Placed",
    "Workspace",
    "WorkspaceError",
    "prepare_workspace",
    "run_workspace",
    "start_jupyterlab",
    "workspace_path",
]

#: The environment variable naming the workspace folder (`--workspace` wins over it).
WORKSPACE_VARIABLE = "LABKIT_WORKSPACE"
#: The environment variable `labkit start --mode server` sets for JupyterLab's kernels: `open_lab`
#: then opens the shared sandbox server where a notebook asks for the default `embedded` sandbox.
SANDBOX_MODE_VARIABLE = "LABKIT_SANDBOX_MODE"
DEFAULT_WORKSPACE = Path("~") / "labkit-workspace"
#: The record of what labkit wrote into a workspace (relative path -> sha256 of the bytes written).
MANIFEST = ".labkit-workspace.json"
#: A lab folder's files that are the lab's machinery (or its solutions), never the learner's.
_NOT_FOR_LEARNERS = {"lab.ipynb", "checks.py", "reference.py", "lab.toml"}
_SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}

Action = Literal["created", "updated", "unchanged", "kept", "new-beside"]


class WorkspaceError(LabkitError):
    """The workspace cannot be made or used (a file in its place, a folder that cannot be written)."""

    exit_code = 2


@dataclass(frozen=True)
class Placed:
    """What happened to one file of the workspace on this run."""

    path: Path
    action: Action
    #: Where the new version went when the learner's file was kept (`new-beside`).
    beside: Path | None = None


@dataclass
class Workspace:
    """A prepared workspace: its folder and what this run did to each file."""

    root: Path
    placed: list[Placed] = field(default_factory=list)

    def notebook(self, lab_id: str) -> Path:
        """The learner's notebook of a lab in this workspace."""
        return self.root / f"{lab_id}.ipynb"

    def news(self) -> list[str]:
        """One line per file a learner should hear about (created, updated, or a new version beside)."""
        lines = []
        for item in self.placed:
            name = item.path.relative_to(self.root)
            if item.action == "new-beside" and item.beside is not None:
                lines.append(
                    f"{name} has your changes and the lab changed since: the new version is "
                    f"{item.beside.relative_to(self.root)} (yours is kept as it is)"
                )
            elif item.action in ("created", "updated"):
                lines.append(f"{item.action} {name}")
        return lines


def workspace_path(given: str | Path | None = None) -> Path:
    """The workspace folder: `given`, else `$LABKIT_WORKSPACE`, else `~/labkit-workspace` (absolute)."""
    raw = given if given not in (None, "") else os.environ.get(WORKSPACE_VARIABLE) or DEFAULT_WORKSPACE
    return Path(raw).expanduser().absolute()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _learner_files(lab_id: str, root: Path) -> dict[str, bytes]:
    """The files a lab gives its learner, by their path in the workspace."""
    folder = lab_folder(lab_id, root)
    source_path = folder / "lab.ipynb"
    source = read_notebook(source_path)
    check_lab_notebook(source, source_path)
    learner = make_learner_version(source, path=source_path)
    # `labkit grade` finds the lab of the learner's copy from this, whatever the file is renamed to.
    learner.metadata["labkit"] = {"lab": lab_id}
    files = {f"{lab_id}.ipynb": (nbformat.writes(learner) + "\n").encode("utf-8")}  # type: ignore[no-untyped-call]
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if (
            path.is_symlink()
            or not path.is_file()
            # A lab's own modules (checks, reference steps, a scenario's set-up) are imported by
            # `open_lab` as the package `labkit_labs.<id>`; they are the lab's code, not the learner's.
            or (len(relative.parts) == 1 and (relative.name in _NOT_FOR_LEARNERS or path.suffix == ".py"))
            or any(part in _SKIPPED_PARTS or part.startswith(".") for part in relative.parts)
            or path.suffix == ".pyc"
        ):
            continue
        files[f"{lab_id}/{relative.as_posix()}"] = path.read_bytes()
    return files


def _read_manifest(root: Path) -> dict[str, str]:
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        written = data.get("written", {})
        return {str(k): str(v) for k, v in written.items()} if isinstance(written, dict) else {}
    except (OSError, ValueError, AttributeError):
        return {}


def _beside(path: Path) -> Path:
    """`nginx-alb.ipynb` -> `nginx-alb.new.ipynb`; `app/app.py` -> `app/app.new.py`."""
    return path.with_name(f"{path.stem}.new{path.suffix}")


def _place(root: Path, name: str, data: bytes, manifest: dict[str, str]) -> Placed:
    """Write one file unless that would lose the learner's work (see the module's docstring)."""
    target = root / name
    new = _digest(data)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise WorkspaceError(f"{target} is in the way (not a regular file); move it and run again")
    if not target.exists():
        action: Action = "created"
    else:
        current = _digest(target.read_bytes())
        written = manifest.get(name)
        if current == new:
            manifest[name] = new
            return Placed(target, "unchanged")
        if written is not None and current == written:
            action = "updated"  # untouched by the learner: the lab's new version replaces it
        elif written == new:
            return Placed(target, "kept")  # the learner's changes; the lab did not change since
        else:
            other = _beside(target)
            beside_name = other.relative_to(root).as_posix()
            if other.exists() and _digest(other.read_bytes()) not in (manifest.get(beside_name), new):
                return Placed(target, "kept")  # the learner works in the .new file too: leave both
            _write_file(other, data)
            manifest[beside_name] = new
            return Placed(target, "new-beside", other)
    _write_file(target, data)
    manifest[name] = new
    return Placed(target, action)


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def prepare_workspace(root: str | Path | None = None, *, labs: Path | None = None) -> Workspace:
    """Create or refresh the learner's workspace with every lab's learner version and files.

    Raises `WorkspaceError` when the path is a file, lies inside the labs folder, or cannot be
    written, and `NotebookError` for a lab source that is not a valid lab notebook.
    """
    folder = workspace_path(root)
    labs = labs or labs_root()
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(
            f"the workspace {folder} is a file, not a folder; choose another with --workspace"
        )
    if folder.resolve().is_relative_to(labs.resolve()):
        raise WorkspaceError(
            f"the workspace {folder} is inside the labs folder {labs}; choose a folder of your own"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        manifest = _read_manifest(folder)
        workspace = Workspace(folder)
        for lab_id in lab_ids(labs):
            for name, data in _learner_files(lab_id, labs).items():
                workspace.placed.append(_place(folder, name, data, manifest))
        _write_file(folder / MANIFEST, (json.dumps({"written": manifest}, indent=2) + "\n").encode())
    except OSError as exc:
        raise WorkspaceError(f"cannot write the workspace {folder}: {exc.strerror or exc}") from None
    return workspace


# -- JupyterLab -------------------------------------------------------------------------------------


@dataclass
class JupyterLab:
    """A running JupyterLab child process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    token: str
    #: The address of the chosen notebook, with the token.
    url: str
    log_path: Path
    _log_thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/`, without the token."""
        return f"http://127.0.0.1:{self.port}/"

    def stop(self, timeout: float = 15.0) -> int:
        """Ask JupyterLab to shut down (SIGTERM: it stops its kernels), kill it if it does not go.

        Returns its exit code.
        """
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self._log_thread is not None:
            self._log_thread.join(5)
        return self.process.returncode


def _copy_log(stream: Iterator[bytes], log: Path, token: str) -> None:
    """Copy JupyterLab's output to its log, the token replaced (its URLs carry it)."""
    secret = token.encode()
    with log.open("ab") as out:
        for line in stream:
            out.write(line.replace(secret, b"<token>"))
            out.flush()


def _runtime_dir(env: dict[str, str]) -> Path:
    """Where JupyterLab will describe itself (`jpserver-PID.json`: port, url), pinned in `env`."""
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(env.setdefault("JUPYTER_RUNTIME_DIR", jupyter_runtime_dir()))


def start_jupyterlab(
    root: Path,
    open_path: str | None = None,
    *,
    browser: bool = True,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    timeout: float = 90.0,
) -> JupyterLab:
    """Start `jupyter lab` on 127.0.0.1 with a random token, `root` as its root, `open_path` open.

    Raises `WorkspaceError` when JupyterLab is not installed, dies, or does not answer within
    `timeout` seconds (the message names its log).
    """
    import importlib.util

    from labkit.execute import transport_encryption

    if importlib.util.find_spec("jupyterlab") is None:
        raise WorkspaceError(
            "JupyterLab is not installed in this Python; reinstall labkit (pip install -e .)"
        )
    token = secrets.token_hex(24)
    child_env = dict(env if env is not None else os.environ)
    for name in ("JUPYTER_TOKEN", "JUPYTER_TOKEN_FILE"):
        child_env.pop(name, None)  # never a token of someone else's, never one a kernel inherits
    private = Path(tempfile.mkdtemp(prefix="labkit-jupyterlab-"))  # mode 0700
    token_file = private / "token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
    log_path = log_path or state_dir() / "jupyterlab.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    default_url = "/lab/tree/" + open_path if open_path else "/lab"
    command = [
        sys.executable, "-m", "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.default_url={default_url}",
        "--ServerApp.allow_remote_access=False",
        # No traffic beyond loopback: no update check, no news feed.
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly",
        # Kernels talk to the server over CurveZMQ where pyzmq has it, as labkit's own kernels do
        # (labkit.execute.transport_encryption), so ipykernel has no "without encryption" warning.
        f"--KernelManager.transport_encryption={transport_encryption()}",
        "--no-browser" if not browser else "--ServerApp.open_browser=True",
    ]  # fmt: skip
    if os.geteuid() == 0:
        # JupyterLab refuses root unless told; labkit's own containers and CI run as root.
        command.append("--allow-root")
    # The token reaches JupyterLab through a private file, so no kernel inherits it in its environment.
    runtime = _runtime_dir(child_env)
    launch_env = {**child_env, "JUPYTER_TOKEN_FILE": str(token_file)}
    process = subprocess.Popen(
        command,
        cwd=root,
        env=launch_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Its own process group: the terminal's Ctrl-C reaches labkit, which stops JupyterLab cleanly.
        start_new_session=True,
    )
    assert process.stdout is not None
    log_path.write_bytes(b"")
    thread = threading.Thread(target=_copy_log, args=(process.stdout, log_path, token), daemon=True)
    thread.start()
    try:
        port = _wait_for_server(process, runtime / f"jpserver-{process.pid}.json", token, log_path, timeout)
    except BaseException:
        JupyterLab(process, 0, token, "", log_path, thread).stop()
        raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
    url = f"http://127.0.0.1:{port}{default_url}?token={token}"
    return JupyterLab(process, port, token, url, log_path, thread)


def _wait_for_server(
    process: subprocess.Popen[bytes], runtime: Path, token: str, log_path: Path, timeout: float
) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WorkspaceError(
                f"JupyterLab stopped as it started (exit code {process.returncode}); see its log {log_path}"
            )
        port = _answering_port(runtime, token)
        if port is not None:
            return port
        time.sleep(0.2)
    raise WorkspaceError(f"JupyterLab did not answer within {timeout:g} s; see its log {log_path}")


def _answering_port(runtime: Path, token: str) -> int | None:
    try:
        port = int(json.loads(runtime.read_text(encoding="utf-8"))["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"}
    )
    try:
        with _loopback_opener().open(request, timeout=5) as answer:
            return port if answer.status == 200 else None
    except (OSError, urllib.error.URLError):
        return None


def _loopback_opener() -> urllib.request.OpenerDirector:
    # A proxy set in the environment must not carry a loopback request (or the token) anywhere.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


# -- the command ------------------------------------------------------------------------------------


def _shared_sandbox(say: Callable[[str], None]) -> Callable[[], None]:
    """Reuse the running sandbox server or start one; return how to stop what was started here."""
    from labkit.sandbox.server import running_server, start_server, stop_server

    info = running_server()
    if info is not None:
        say(f"sharing the running sandbox server at {info.endpoint_url} (a terminal reaches it too)")
        return lambda: None
    info = start_server()
    say(f'started a sandbox server at {info.endpoint_url}; in a terminal: eval "$(labkit sandbox env)"')

    def stop() -> None:
        with contextlib.suppress(LabkitError):
            stop_server()
            say("stopped the sandbox server this command started")

    return stop


def run_workspace(
    lab_id: str | None = None,
    *,
    workspace: str | Path | None = None,
    browser: bool = True,
    mode: Literal["embedded", "server"] = "embedded",
    say: Callable[[str], None] = print,
) -> int:
    """`labkit start`: prepare the workspace, start JupyterLab on it with the lab open, wait for Ctrl-C.

    Returns JupyterLab's exit code (0 after Ctrl-C). Raises `UnknownLabError` for an unknown lab,
    `WorkspaceError` for a workspace that cannot be used or a JupyterLab that does not start.
    """
    if lab_id is not None:
        load_lab(lab_id)  # an unknown lab is refused before anything is written
    prepared = prepare_workspace(workspace)
    for line in prepared.news():
        say(line)
    say(f"your workspace: {prepared.root}")
    env = dict(os.environ)
    stop_sandbox: Callable[[], None] = lambda: None  # noqa: E731 - nothing to stop in embedded mode
    if mode == "server":
        stop_sandbox = _shared_sandbox(say)
        env[SANDBOX_MODE_VARIABLE] = "server"
    else:
        env.pop(SANDBOX_MODE_VARIABLE, None)
    try:
        open_path = f"{lab_id}.ipynb" if lab_id else None
        lab = start_jupyterlab(prepared.root, open_path, browser=browser, env=env)
        say(f"JupyterLab is running on 127.0.0.1 (log: {lab.log_path}). Open:")
        say(f"    {lab.url}")
        say("Press Ctrl-C to stop it (your notebooks stay in the workspace).")
        return _wait_for_interrupt(lab, say)
    finally:
        stop_sandbox()


def _wait_for_interrupt(lab: JupyterLab, say: Callable[[str], None]) -> int:
    """Wait until JupyterLab exits or Ctrl-C / SIGTERM arrives; then stop it cleanly."""

    def terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        code = lab.process.wait()
        say(f"JupyterLab stopped (exit code {code}); see its log {lab.log_path}")
        return code
    except KeyboardInterrupt:
        say("stopping JupyterLab...")
        lab.stop()
        say("JupyterLab stopped.")
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
