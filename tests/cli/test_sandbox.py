"""`labkit sandbox ...` as a user types it."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_start_env_status_stop() -> None:
    """start prints the endpoint, env prints exports, status describes it, stop stops it."""
    started = run_labkit("sandbox", "start", "--clock", "manual")
    assert started.returncode == 0, started.stderr
    assert "running at http://127.0.0.1:" in started.stdout

    env = run_labkit("sandbox", "env")
    assert env.returncode == 0
    lines = env.stdout.splitlines()
    assert any(line.startswith("export AWS_ENDPOINT_URL=http://127.0.0.1:") for line in lines)
    assert "unset AWS_PROFILE" in lines
    assert any(line.startswith("export AWS_DEFAULT_REGION=") for line in lines)

    status = run_labkit("sandbox", "status")
    assert status.returncode == 0
    assert "clock manual" in status.stdout

    advanced = run_labkit("sandbox", "advance", "60")
    assert advanced.returncode == 0
    assert "clock now" in advanced.stdout

    stopped = run_labkit("sandbox", "stop")
    assert stopped.returncode == 0
    assert "stopped" in stopped.stdout


def test_a_second_start_says_one_is_running() -> None:
    """The second start exits 1 with one line naming the running server."""
    assert run_labkit("sandbox", "start", "--clock", "manual").returncode == 0
    second = run_labkit("sandbox", "start")
    assert second.returncode == 1
    assert second.stderr.startswith("labkit: a sandbox server is already running at http://127.0.0.1:")
    assert len(second.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["status", "env", "stop", "reset"])
def test_commands_without_a_server_say_so_in_one_line(command: str) -> None:
    """With no server, each command exits 1 with a one-line hint to start one, never a traceback."""
    done = run_labkit("sandbox", command)
    assert done.returncode == 1
    assert (
        done.stderr.strip() == "labkit: no sandbox server is running; start one with `labkit sandbox start`"
    )


def test_a_busy_port_is_one_line() -> None:
    """start on a taken port exits non-zero with one line naming the port."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run_labkit("sandbox", "start", "--port", str(port))
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_negative_advance_is_a_usage_error() -> None:
    """advance takes a number of seconds >= 0."""
    done = run_labkit("sandbox", "advance", "--", "-5")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


class TestStopWithAStaleStateFile:
    """A state file left by a server that is gone names a pid some other process may now have."""

    @staticmethod
    def write_state(pid: int, port: int) -> Path:
        from labkit.sandbox.server import server_state_path

        path = server_state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    "pid": pid,
                    "endpoint_url": f"http://127.0.0.1:{port}",
                    "port": port,
                    "account_id": "123456789012",
                    "region": "us-east-1",
                    "session_id": "lk-gone",
                    "clock": "manual",
                    "speed": 1.0,
                    "token": "the-token-of-a-server-that-is-gone",
                    "log_path": "/dev/null",
                    "started_at": "2026-01-01T00:00:00+00:00",
                }
            )
        )
        return path

    @staticmethod
    def closed_port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        return port

    @pytest.fixture
    def bystander(self) -> Iterator[subprocess.Popen[bytes]]:
        """A harmless process that now has the pid the stale file names."""
        process = subprocess.Popen(["sleep", "60"])
        yield process
        process.kill()
        process.wait()

    def test_a_closed_port_kills_nothing_and_removes_the_file(
        self, bystander: subprocess.Popen[bytes]
    ) -> None:
        """The pid belongs to `sleep`, nothing listens: stop signals nothing and says the file was stale."""
        path = self.write_state(bystander.pid, self.closed_port())
        done = run_labkit("sandbox", "stop")
        assert done.returncode == 0, done.stderr
        assert "no sandbox server was running; removed the stale state file" in done.stdout
        assert str(path) in done.stdout
        time.sleep(0.2)
        assert bystander.poll() is None, "stop killed a process that is not a sandbox server"
        assert not path.exists()

    def test_another_sandbox_on_the_port_is_not_taken_for_it(
        self, bystander: subprocess.Popen[bytes], sandbox: EmbeddedSandbox
    ) -> None:
        """A different labkit sandbox now on that port answers /health but not to this token: nothing is signalled."""
        path = self.write_state(bystander.pid, sandbox.port)
        done = run_labkit("sandbox", "stop")
        assert done.returncode == 0, done.stderr
        assert "no sandbox server was running; removed the stale state file" in done.stdout
        time.sleep(0.2)
        assert bystander.poll() is None, "stop killed a process that is not a sandbox server"
        assert not path.exists()
        sandbox.client("sts").get_caller_identity()  # the other sandbox still serves

    def test_a_dead_pid_removes_the_file(self) -> None:
        """The server's pid is gone: the file is removed and stop says so, exit 0."""
        finished = subprocess.Popen(["true"])
        finished.wait()
        path = self.write_state(finished.pid, self.closed_port())
        done = run_labkit("sandbox", "stop")
        assert done.returncode == 0, done.stderr
        assert "no sandbox server was running; removed the stale state file" in done.stdout
        assert not path.exists()
