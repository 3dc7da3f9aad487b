"""`labkit sandbox ...` as a user types it."""

from __future__ import annotations

import socket

import pytest

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
