"""AWS's own CLI tutorials, command by command through the AWS CLI against a server sandbox (issue 16).

Each test runs the real `aws` (awscli from PyPI) in the environment `labkit sandbox env` prints, and
names the AWS documentation the behaviour it asserts comes from.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.sandbox.server import advance_server, server_exports, start_server, stop_server
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


class AwsShell:
    """A shell set up by `labkit sandbox env`: runs `aws ...` against one server sandbox."""

    def __init__(self, state: Path) -> None:
        self.state = state
        exports = server_exports(state)
        env = {k: v for k, v in os.environ.items() if k not in exports or exports[k] is not None}
        env.update({k: v for k, v in exports.items() if v is not None})
        self.env = env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["aws", *args], capture_output=True, text=True, env=self.env, timeout=120, check=False
        )

    def json(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    def error(self, *args: str) -> str:
        done = self.run(*args)
        assert done.returncode != 0, done.stdout
        return done.stderr

    def advance(self, seconds: float) -> None:
        advance_server(seconds, self.state)


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsShell]:
    """One server sandbox on a manual clock (us-east-1) for the module, and a shell pointed at it."""
    state = tmp_path_factory.mktemp("tutorials") / "server.json"
    start_server(clock="manual", region="us-east-1", path=state)
    try:
        yield AwsShell(state)
    finally:
        stop_server(state)


def test_configure_get_region_in_a_sandbox_env_shell() -> None:
    """`aws configure get region` prints the sandbox's region (the ECR tutorial's first line).

    AWS CLI user guide, "Configuration and credential file settings": `aws configure get` reads the
    config file; the sandbox's holds the region only (mode 0600), no profile, no credentials.
    """
    assert run_labkit("sandbox", "start", "--clock", "manual", "--region", "eu-west-1").returncode == 0
    exports = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    config = Path(exports["AWS_CONFIG_FILE"])
    assert config.parent == Path(os.environ["LABKIT_STATE_DIR"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    text = config.read_text()
    assert "region = eu-west-1" in text
    assert "aws_access_key_id" not in text and "aws_secret" not in text
    assert exports["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert exports["AWS_PROFILE"] is None
    env = {k: v for k, v in os.environ.items() if k not in exports or exports[k] is not None}
    env.update({k: v for k, v in exports.items() if v is not None})
    got = subprocess.run(
        ["aws", "configure", "get", "region"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "eu-west-1"
    assert run_labkit("sandbox", "stop").returncode == 0
    assert not config.exists()


def test_ecs_optimized_ami_recommended_parameter_is_json(aws: AwsShell) -> None:
    """The `recommended` parameter is a JSON document whose `image_id` is the `.../image_id` child.

    ECS developer guide, "Retrieving Amazon ECS-optimized Linux AMI metadata": `aws ssm get-parameters
    --names /aws/service/ecs/optimized-ami/amazon-linux-2/recommended` returns a JSON value with
    `image_id`, `image_name`, `ecs_agent_version`, ... (the tutorials pipe it to `jq -r '.image_id'`).
    """
    name = "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"
    value = aws.json("ssm", "get-parameter", "--name", name, "--query", "Parameter.Value", "--output", "json")
    document = json.loads(value)
    child = aws.json("ssm", "get-parameter", "--name", f"{name}/image_id", "--query", "Parameter.Value")
    assert document["image_id"] == child
    assert document["image_id"].startswith("ami-")
    assert {"image_name", "ecs_agent_version", "os"} <= set(document)
