"""A real JupyterHub on 127.0.0.1 for tests: configured by `labkit hub config`, proxied by
configurable-http-proxy from npm (`.ci/npm`, installed by `.ci/run`), fixed test passwords, the
simple local process spawner (every learner's server as this user, homes under the hub's folder).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

PROXY = REPO / ".ci" / "npm" / "node_modules" / ".bin" / "configurable-http-proxy"


def proxy_command() -> str | None:
    """configurable-http-proxy: the locked one in .ci/npm, else one on PATH."""
    if PROXY.exists():
        return str(PROXY)
    return shutil.which("configurable-http-proxy")


def require_hub() -> str:
    """Skip, with the reason, where the hub cannot run; else the proxy's command."""
    proxy = proxy_command()
    if proxy is None:
        pytest.skip("configurable-http-proxy is absent (npm ci --prefix .ci/npm, as .ci/run does)")
    if shutil.which("node") is None:
        pytest.skip("node is absent (configurable-http-proxy runs on Node.js)")
    return proxy


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports on 127.0.0.1."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass
class Hub:
    """A running hub: its public URL, folder, passwords, log and service port."""

    url: str
    root: Path
    state: Path
    passwords: dict[str, str]
    log: Path
    service_port: int
    process: subprocess.Popen[bytes]

    @property
    def events(self) -> Path:
        return self.state / "events.jsonl"

    def token(self, user: str) -> str:
        """A new API token of `user` (as `jupyterhub token` makes one)."""
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyterhub",
                "token",
                "-f",
                str(self.root / "jupyterhub_config.py"),
                user,
            ],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=self._env(),
        )
        return done.stdout.strip().splitlines()[-1]

    def _env(self) -> dict[str, str]:
        return hub_env(self.root, Path(proxy_command() or PROXY))


def hub_env(root: Path, proxy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "LABKIT_", "AWS_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), str(proxy.parent), env.get("PATH", "")])
    env["HOME"] = str(root / "hub-home")
    (root / "hub-home").mkdir(exist_ok=True)
    return env


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


@contextmanager
def running_hub(root: Path, users: list[str], admins: list[str], *, lab: str = "nginx-alb") -> Iterator[Hub]:
    """Write the configuration with `labkit hub config`, start `jupyterhub`, wait for its health check."""
    proxy = require_hub()
    root.mkdir(parents=True, exist_ok=True)
    passwords = {name: f"test-password-{name}" for name in [*users, *admins]}
    secret = root / "passwords.json"
    secret.write_text(json.dumps(passwords), encoding="utf-8")
    secret.chmod(0o600)
    port, hub_port, api_port, service_port = free_ports(4)
    state = root / "state"
    env = hub_env(root, Path(proxy))
    subprocess.run(
        [
            str(Path(sys.executable).parent / "labkit"),
            "hub",
            "config",
            "--out",
            str(root / "jupyterhub_config.py"),
            "--state",
            str(state),
            "--users",
            ",".join(users),
            "--admins",
            ",".join(admins),
            "--lab",
            lab,
            "--port",
            str(port),
            "--hub-port",
            str(hub_port),
            "--proxy-api-port",
            str(api_port),
            "--service-port",
            str(service_port),
            "--authenticator",
            "fixed",
            "--passwords",
            str(secret),
            "--spawner",
            "simple",
        ],
        check=True,
        cwd=root,
        env=env,
        capture_output=True,
        timeout=120,
    )
    log = root / "hub.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(root / "jupyterhub_config.py")],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(f"http://127.0.0.1:{port}", root, state, passwords, log, service_port, process)
    try:
        deadline = time.monotonic() + 120
        while not (
            _answers(f"{hub.url}/hub/health")
            and _answers(f"http://127.0.0.1:{service_port}/services/labkit/health")
        ):
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"the hub did not start; its log:\n{log.read_text(errors='replace')[-4000:]}"
                )
            time.sleep(0.5)
        yield hub
    finally:
        # SIGTERM to the hub's process group: the hub, the proxy, the service and every learner's server.
        with_group = os.getpgid(process.pid) if process.poll() is None else None
        if with_group is not None:
            os.killpg(with_group, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(with_group, signal.SIGKILL)
                process.wait(timeout=10)
