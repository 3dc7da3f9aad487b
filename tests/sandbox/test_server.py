"""`server` mode: a sandbox in its own process, shared by the CLI, the AWS CLI and other kernels."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import labkit
from labkit.sandbox.server import (
    ServerSandbox,
    running_server,
    server_state_path,
    server_status,
    start_server,
    stop_server,
)
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


class TestLifeCycle:
    def test_start_status_stop(self) -> None:
        """A started server answers, is described by status, and is gone after stop."""
        info = start_server(clock="manual")
        assert info.endpoint_url.startswith("http://127.0.0.1:")
        status = server_status()
        assert status["pid"] == info.pid
        assert status["clock"]["mode"] == "manual"
        assert "token" not in status
        stop_server()
        assert running_server() is None
        assert not server_state_path().exists()
        with pytest.raises(labkit.SandboxNotRunningError):
            server_status()

    def test_the_state_file_is_private(self) -> None:
        """The state file holds the control token, so only its owner may read it."""
        start_server(clock="manual")
        mode = stat.S_IMODE(server_state_path().stat().st_mode)
        assert mode == 0o600

    def test_a_second_start_says_one_is_running(self) -> None:
        """Starting twice raises SandboxAlreadyRunningError naming the running server."""
        info = start_server(clock="manual")
        with pytest.raises(labkit.SandboxAlreadyRunningError) as caught:
            start_server(clock="manual")
        assert caught.value.endpoint_url == info.endpoint_url
        assert running_server() == info

    def test_a_busy_port_is_a_clear_error_within_ten_seconds(self) -> None:
        """A port held by another program gives PortInUseError, fast, and leaves no state file."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            started = time.monotonic()
            with pytest.raises(labkit.PortInUseError):
                start_server(port=port, clock="manual")
            assert time.monotonic() - started < 10
        assert running_server() is None

    def test_a_stale_state_file_is_cleaned_up(self) -> None:
        """A state file whose process is gone does not count as a running server."""
        info = start_server(clock="manual")
        stop_server()
        server_state_path().write_text(json.dumps({**info.public(), "token": "x", "pid": 2**22 + 7}))
        assert running_server() is None
        assert not server_state_path().exists()


class TestServerSandbox:
    def test_open_sandbox_server_starts_and_stops_its_own(self) -> None:
        """With no server running, open_sandbox('server') starts one and stops it on close."""
        with labkit.open_sandbox("server", clock="manual") as sb:
            assert isinstance(sb, ServerSandbox)
            assert sb.owned
            sb.client("ecs").create_cluster(clusterName="owned")
            assert running_server() is not None
        assert running_server() is None

    def test_open_sandbox_server_attaches_to_a_running_one(self) -> None:
        """With a server running, open_sandbox('server') uses it and leaves it running on close."""
        info = start_server(clock="manual")
        with labkit.open_sandbox("server") as sb:
            assert isinstance(sb, ServerSandbox)
            assert not sb.owned
            assert sb.account_id == info.account_id
            sb.client("ecs").create_cluster(clusterName="shared")
        assert running_server() == info
        with labkit.open_sandbox("server") as again:
            assert len(again.client("ecs").list_clusters()["clusterArns"]) == 1

    def test_asking_for_another_clock_than_the_running_one_is_an_error(self) -> None:
        """A sandbox that needs a manual clock is not silently given a realtime server."""
        start_server(clock="realtime")
        with pytest.raises(labkit.LabkitError, match="has a realtime clock, not manual"):
            labkit.open_sandbox("server", clock="manual")
        with labkit.open_sandbox("server", clock="realtime") as sb:
            assert sb.mode == "server"

    def test_another_process_advances_the_clock(self) -> None:
        """`labkit sandbox advance` in another process moves the clock this sandbox reads."""
        start_server(clock="manual")
        with labkit.open_sandbox("server") as sb:
            before = sb.now()
            done = run_labkit("sandbox", "advance", "90")
            assert done.returncode == 0, done.stderr
            assert (sb.now() - before).total_seconds() == 90
            assert (sb.advance(10) - before).total_seconds() == 100

    def test_reset_empties_the_server_account(self) -> None:
        """reset() through the control endpoint forgets the account's resources."""
        with labkit.open_sandbox("server", clock="manual") as sb:
            assert isinstance(sb, ServerSandbox)
            sb.client("ecs").create_cluster(clusterName="gone")
            sb.reset()
            assert sb.client("ecs").list_clusters()["clusterArns"] == []


def test_the_aws_cli_and_boto3_share_a_server_sandbox(labkit_home: Path) -> None:
    """The exports of `labkit sandbox env` point the AWS CLI at the server; boto3 sees what it made."""
    start_server(clock="manual")
    exported = run_labkit("sandbox", "env", "--json")
    assert exported.returncode == 0, exported.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # A real profile in the caller's environment must not matter.
    env["AWS_PROFILE"] = "real"
    for name, value in json.loads(exported.stdout).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value

    def aws(*args: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "awscli", *args, "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result

    created = aws("ecs", "create-cluster", "--cluster-name", "from-the-cli")
    assert created["cluster"]["clusterName"] == "from-the-cli"  # type: ignore[index]
    listed = aws("ecs", "list-clusters")
    with labkit.open_sandbox("server") as sb:
        arns = sb.client("ecs").list_clusters()["clusterArns"]
        assert arns == listed["clusterArns"]
        assert arns == [f"arn:aws:ecs:{sb.region}:{sb.account_id}:cluster/from-the-cli"]


def test_a_kernels_view_of_a_server_names_no_pid_and_holds_the_learner_token(tmp_path: Path) -> None:
    """What a graded kernel is given (`ServerInfo.for_kernel`) reaches the server by its learner token,
    is never removed as stale, and cannot stop the server."""
    import dataclasses
    import json

    from labkit.errors import LabkitError
    from labkit.sandbox.server import ServerSandbox, running_server, start_server, stop_server

    grader = tmp_path / "server.json"
    info = start_server(clock="manual", path=grader)
    try:
        kernel = info.for_kernel()
        assert (kernel.pid, kernel.token, kernel.learner_token) == (0, info.learner_token, "")
        assert info.learner_token
        assert info.learner_token != info.token
        assert "learner_token" not in info.public()
        assert "token" not in info.public()
        path = tmp_path / "kernel" / "server.json"
        path.parent.mkdir()
        path.write_text(json.dumps(dataclasses.asdict(kernel)))
        assert running_server(path) == kernel
        with ServerSandbox(region="us-east-1", state_path=path) as sandbox:
            assert not sandbox.owned
            assert sandbox.client("ecs").list_clusters()["clusterArns"] == []
        with pytest.raises(LabkitError, match="not yours to stop"):
            stop_server(path)
        assert path.exists()
        assert running_server(grader) is not None
    finally:
        stop_server(grader)
