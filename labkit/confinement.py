"""Where a graded notebook's kernel runs: confined, so the learner's code cannot reach the grader.

`labkit grade` and `labkit validate` run a learner's notebook, which may try anything a Python
process can. `Confinement` says how its kernel is launched; `Confinement.choose()` picks the
strongest this machine offers, and `LABKIT_CONFINEMENT` (`bwrap`, `user`, `none`) overrides it:

- `bwrap` (Linux with bubblewrap, `/usr/bin/bwrap`): the kernel sees a read-only system (`/usr`,
  `/etc`), the Python environment and the labkit package, and, writable, only its own private
  folder (home, working folder, labkit state, Jupyter runtime, `/tmp`). Not the repository, not the
  labs (only a copy of its lab's checks and data files, never `reference.py` or `lab.ipynb`), not
  other notebooks, results or the grader's state. Its own pid, IPC and UTS namespaces; the network
  namespace is shared (the kernel reaches its sandbox and its ZMQ ports on loopback); no
  controlling terminal. A root grader's kernel also runs as `nobody`.
- `user` (no usable bwrap: macOS, Windows, no user namespaces): the same private folder, environment
  and streams, and a root grader's kernel runs as `nobody`; but a kernel of the grader's own user can
  still read (and write) what that user can.
- `none`: the kernel runs as the grader, with the grader's environment (self-paced `labkit run`, the
  benchmark's baseline).

In every mode the kernel's environment names its own sandbox with a scoped token (never the
grader's control token), and its stdout and stderr go to a log file, never to the grader's streams.
See ARCHITECTURE.md, "Grading: who is trusted", and README.md, "What grading guarantees".
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from labkit.errors import LabkitError

__all__ = [
    "CONFINEMENT_MODES",
    "LAB_FILES_NEVER_COPIED",
    "Confinement",
    "ConfinementError",
    "KernelJail",
]

Mode = Literal["bwrap", "user", "none"]
CONFINEMENT_MODES: tuple[Mode, ...] = ("bwrap", "user", "none")

#: Files of a lab folder a graded kernel never gets: the reference steps and the source notebook
#: (which holds the solutions between markers).
LAB_FILES_NEVER_COPIED = ("reference.py", "lab.ipynb", "__pycache__", "*.pyc")

#: The user a root grader's kernel runs as.
UNPRIVILEGED_USER = "nobody"

#: Grader variables a kernel keeps (everything else is left out: AWS keys, tokens, LABKIT_*).
_KEPT_VARIABLES = ("LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "SYSTEMROOT")


class ConfinementError(LabkitError):
    """The asked-for confinement cannot be had on this machine (what is missing is in the message)."""

    exit_code = 2


def _nobody() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(UNPRIVILEGED_USER)
    return entry.pw_uid, entry.pw_gid


@functools.cache
def bwrap_problem(path: str | None = None) -> str | None:
    """None when bubblewrap can start a confined process here, else why not (probed once)."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap exists only on Linux, not on {sys.platform}"
    found = path or shutil.which("bwrap")
    if not found:
        return "bubblewrap (`bwrap`) is not installed (Debian: apt-get install bubblewrap)"
    probe = [found, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid"]
    probe += ["--new-session", "--die-with-parent", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{found} does not run: {exc}"
    if done.returncode != 0:
        return f"{found} cannot confine a process here: {done.stderr.strip() or done.returncode}"
    return None


@dataclass(frozen=True)
class Confinement:
    """How a graded kernel is launched: `mode`, and the user it runs as (`run_as`, None: the grader's)."""

    mode: Mode
    run_as: tuple[int, int] | None = None
    bwrap: str = "bwrap"

    @classmethod
    def choose(cls, environ: Mapping[str, str] | None = None) -> Confinement:
        """The confinement for `grade`/`validate`: `LABKIT_CONFINEMENT` if set, else the strongest here.

        Raises `ConfinementError` for an unknown mode, for `bwrap` where bubblewrap cannot run, and
        when a root grader's kernel cannot run as `nobody` (its Python is not readable by that user).
        """
        environ = os.environ if environ is None else environ
        wanted = environ.get("LABKIT_CONFINEMENT", "").strip().lower() or "auto"
        if wanted not in (*CONFINEMENT_MODES, "auto"):
            raise ConfinementError(
                f"LABKIT_CONFINEMENT={wanted!r} is not a confinement; use bwrap, user or none"
            )
        if wanted == "none":
            return cls("none")
        run_as = _nobody() if hasattr(os, "geteuid") and os.geteuid() == 0 else None
        if wanted in ("bwrap", "auto"):
            problem = bwrap_problem()
            if problem is None:
                return cls("bwrap", run_as, shutil.which("bwrap") or "bwrap")
            if wanted == "bwrap":
                raise ConfinementError(f"LABKIT_CONFINEMENT=bwrap, but {problem}")
        if run_as is not None:
            unreadable = unreadable_by_others(python_roots())
            if unreadable:
                raise ConfinementError(
                    f"the grader runs as root, so the kernel must run as {UNPRIVILEGED_USER}, which cannot "
                    f"read {unreadable}; install bubblewrap, install Python where every user can read it, "
                    "or set LABKIT_CONFINEMENT=none to grade unconfined"
                )
        return cls("user", run_as)

    def prepare(
        self,
        *,
        lab_id: str,
        lab_path: Path,
        notebook: Path,
        sandbox_env: Mapping[str, str | None],
        kernel_state: str,
        log_path: Path,
    ) -> KernelJail:
        """Make the kernel's private folder and its environment; return how to launch it.

        `sandbox_env` holds the variables that point AWS clients at the sandbox (None: unset);
        `kernel_state` is the sandbox description the kernel gets (`ServerInfo.for_kernel`), written
        as `server.json` in its private state folder.
        """
        root = Path(tempfile.mkdtemp(prefix="labkit-kernel-")).resolve()
        jail = KernelJail(self, root, lab_id, log_path)
        for folder in (jail.home, jail.work, jail.state, jail.runtime, jail.tmp, jail.labs):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(lab_path, jail.labs / lab_id, ignore=shutil.ignore_patterns(*LAB_FILES_NEVER_COPIED))
        if self.mode != "none":
            shutil.copy2(notebook, jail.work / notebook.name)
        state_file = jail.state / "server.json"
        fd = os.open(state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(kernel_state)
        jail.env = jail.environment(sandbox_env)
        if self.run_as is not None:
            for path in (root, *root.rglob("*")):
                os.chown(path, *self.run_as, follow_symlinks=False)
        return jail


def python_roots() -> list[Path]:
    """The folders a kernel needs to read to run this Python and import labkit (outside /usr)."""
    candidates = {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
        Path(sys.base_exec_prefix),
        Path(os.path.realpath(sys.executable)).parent.parent,
        Path(__file__).resolve().parent,  # the labkit package
    }
    roots: list[Path] = []
    for path in sorted(candidates, key=lambda p: len(p.parts)):
        if path == Path("/") or path.is_relative_to("/usr"):
            continue
        if not any(path.is_relative_to(kept) for kept in roots):
            roots.append(path)
    return roots


def unreadable_by_others(paths: list[Path]) -> str | None:
    """The first folder on the way to `paths` that a user other than its owner cannot enter, else None."""
    import stat

    for path in paths:
        for part in (path, *path.parents):
            try:
                mode = part.stat().st_mode
            except OSError:
                return str(part)
            if not mode & stat.S_IXOTH:
                return str(part)
    return None


@dataclass
class KernelJail:
    """One kernel's private folder (home, working folder, state, runtime, tmp, a copy of its lab)
    and how to launch it: `wrap(argv)`, `env`, `work` (its working folder), `log_path`."""

    confinement: Confinement
    root: Path
    lab_id: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def runtime(self) -> Path:
        return self.root / "runtime"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def labs(self) -> Path:
        return self.root / "labs"

    def environment(self, sandbox_env: Mapping[str, str | None]) -> dict[str, str]:
        """The kernel's whole environment: what the lab needs, nothing of the grader's (except in `none`)."""
        from labkit.sandbox.hermetic import loopback_no_proxy

        own = {
            "LABKIT_STATE_DIR": str(self.state),
            "LABKIT_LABS_DIR": str(self.labs),
            "LABKIT_LAB": self.lab_id,
        }
        if self.confinement.mode == "none":
            env = {**os.environ, **own}
            env["NO_PROXY"] = env["no_proxy"] = loopback_no_proxy(env)
            return env
        env = {name: os.environ[name] for name in _KEPT_VARIABLES if name in os.environ}
        env.setdefault("LANG", "C.UTF-8")
        python_bin = str(Path(sys.executable).parent)
        env.update(
            {
                "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
                "HOME": str(self.home),
                "USER": UNPRIVILEGED_USER if self.confinement.run_as else "learner",
                "TMPDIR": str(self.tmp),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_CACHE_HOME": str(self.home / ".cache"),
                "XDG_DATA_HOME": str(self.home / ".local" / "share"),
                "XDG_STATE_HOME": str(self.home / ".local" / "state"),
                "JUPYTER_RUNTIME_DIR": str(self.runtime),
                "JUPYTER_DATA_DIR": str(self.home / ".local" / "share" / "jupyter"),
                "JUPYTER_CONFIG_DIR": str(self.home / ".jupyter"),
                "IPYTHONDIR": str(self.home / ".ipython"),
                "MPLCONFIGDIR": str(self.home / ".cache" / "matplotlib"),
                "LABKIT_CONFIG": str(self.home / ".config" / "labkit" / "config.toml"),
                "PYTHONNOUSERSITE": "1",
                **own,
            }
        )
        for name, value in sandbox_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        env["NO_PROXY"] = env["no_proxy"] = loopback_no_proxy(env)
        return env

    def wrap(self, argv: list[str]) -> list[str]:
        """The command that runs the kernel command `argv` confined."""
        mode = self.confinement.mode
        if mode == "none":
            return list(argv)
        drop = self._drop_privileges()
        if mode == "user":
            return [*drop, *argv]
        return [*self._bwrap(), *drop, *argv]

    def _drop_privileges(self) -> list[str]:
        if self.confinement.run_as is None:
            return []
        uid, gid = self.confinement.run_as
        setpriv = shutil.which("setpriv")
        if setpriv:
            return [
                setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs",
                "--inh-caps=-all", "--bounding-set=-all", "--",
            ]  # fmt: skip
        snippet = (
            "import os, sys; os.setgroups([]); os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[1])); "
            "os.execv(sys.argv[3], sys.argv[3:])"
        )
        return [sys.executable, "-c", snippet, str(uid), str(gid)]

    def _bwrap(self) -> list[str]:
        args = [self.confinement.bwrap, "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            path = Path("/") / top
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        readable = python_roots()
        made: set[Path] = {Path("/"), Path("/tmp")}

        def parents_of(target: Path) -> list[str]:
            # bwrap (as root) makes missing parents 0700: make them enterable by the kernel's user.
            out: list[str] = []
            for parent in reversed(target.parents):
                if parent not in made and not parent.is_relative_to("/usr"):
                    made.add(parent)
                    out += ["--perms", "0755", "--dir", str(parent)]
            return out

        # /tmp's tmpfs first: a mount made before it under /tmp (a checkout or virtual environment
        # in /tmp, the private folder) would be hidden by it.
        args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
        for path in readable:
            args += [*parents_of(path), "--ro-bind", str(path), str(path)]
        args += [*parents_of(self.root), "--bind", str(self.root), str(self.root)]
        args += [
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            # The kernel reaches its sandbox and the grader's ZMQ sockets on loopback.
            "--share-net",
            "--die-with-parent", "--new-session",
            # ipykernel would watch a parent pid that is not in its pid namespace.
            "--unsetenv", "JPY_PARENT_PID",
            "--chdir", str(self.work),
        ]  # fmt: skip
        return args

    def close(self) -> None:
        """Remove the private folder."""
        shutil.rmtree(self.root, ignore_errors=True)
