"""Emulated sandboxes ignore the caller's AWS profile, config files, endpoints, CA bundle and proxies.

Every test here runs with a hostile environment: a profile that does not exist, a config file with
a bogus region and endpoint, `AWS_ENDPOINT_URL*` and every proxy variable pointing at a closed
loopback port (127.0.0.1:9). Nothing ever leaves loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.hermetic import (
    PROXY_VARIABLES,
    environment_for_sandbox_process,
    loopback_no_proxy,
)
from labkit.sandbox.server import ServerSandbox, start_server
from tests.conftest import run_labkit

CLOSED = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set the hostile variables in this process; yield them (for subprocesses)."""
    config = tmp_path / "aws-config"
    config.write_text(
        f"[default]\nregion = eu-bogus-9\nendpoint_url = {CLOSED}\n"
        f"[profile other]\nregion = eu-bogus-9\nendpoint_url = {CLOSED}\n"
    )
    credentials = tmp_path / "aws-credentials"
    credentials.write_text("[default]\naws_access_key_id = AKIAREALLOOKING00000\naws_secret_access_key = x\n")
    values = {
        "AWS_PROFILE": "does-not-exist",
        "AWS_DEFAULT_PROFILE": "does-not-exist-either",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CA_BUNDLE": str(tmp_path / "no-such-ca.pem"),
        "AWS_ENDPOINT_URL": CLOSED,
        "AWS_ENDPOINT_URL_ECS": CLOSED,
        "AWS_ENDPOINT_URL_S3": CLOSED,
        **dict.fromkeys(PROXY_VARIABLES, CLOSED),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return values


def _use(sandbox: EmbeddedSandbox | ServerSandbox) -> list[str]:
    """Create a cluster, list clusters, and touch EC2 and S3 (with an S3 client error on the way)."""
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="hermetic")
    assert sandbox.client("ec2").describe_vpcs()["Vpcs"]
    s3 = sandbox.client("s3")
    with pytest.raises(s3.exceptions.NoSuchBucket):
        s3.list_objects_v2(Bucket="not-there")
    return [arn.split("/")[-1] for arn in ecs.list_clusters()["clusterArns"]]


def test_an_embedded_sandbox_works_in_a_hostile_environment(hostile: dict[str, str]) -> None:
    """Missing profile, bogus config file, endpoint and proxies: the embedded sandbox's calls all work."""
    with EmbeddedSandbox(region="us-east-1", clock="manual") as sandbox:
        assert _use(sandbox) == ["hermetic"]
        assert sandbox.client("ecs").meta.region_name == "us-east-1"


def test_a_fresh_process_opens_an_embedded_sandbox_in_a_hostile_environment(hostile: dict[str, str]) -> None:
    """moto is first loaded in that environment (the case that made every call a 501 before)."""
    script = (
        "import json, labkit\n"
        "with labkit.open_sandbox(clock='manual') as sb:\n"
        "    ecs = sb.client('ecs')\n"
        "    ecs.create_cluster(clusterName='hermetic')\n"
        "    sb.client('s3').create_bucket(Bucket='hermetic-bucket')\n"
        "    try:\n"
        "        ecs.delete_cluster(cluster='missing')\n"
        "        missing = None\n"
        "    except ecs.exceptions.ClientError as exc:\n"
        "        missing = exc.response['Error']['Code']\n"
        "    print(json.dumps({'clusters': ecs.list_clusters()['clusterArns'], 'missing': missing}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert [arn.split("/")[-1] for arn in answer["clusters"]] == ["hermetic"]
    assert answer["missing"] == "ClusterNotFoundException"
    assert "limit of the sandbox" not in done.stderr


def test_a_server_sandbox_works_in_a_hostile_environment(hostile: dict[str, str]) -> None:
    """The server process and this process's clients of it both ignore the caller's settings."""
    with ServerSandbox(region="us-east-1", clock="manual") as sandbox:
        assert _use(sandbox) == ["hermetic"]


def _aws_cli() -> list[str]:
    script = Path(sys.executable).with_name("aws")
    return [str(script)] if script.exists() else [sys.executable, "-m", "awscli"]


def test_sandbox_env_leads_the_aws_cli_to_the_server_through_the_proxy_variables(
    hostile: dict[str, str],
) -> None:
    """`labkit sandbox env` output, applied to the hostile environment, makes `aws` reach the sandbox."""
    start_server(clock="manual")
    exported = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    assert "127.0.0.1" in exported["NO_PROXY"].split(",")
    assert exported["no_proxy"] == exported["NO_PROXY"]
    env = dict(os.environ)
    for name, value in exported.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    # The proxies are still set: NO_PROXY is what keeps the CLI's requests off them.
    assert env["HTTPS_PROXY"] == env["http_proxy"] == CLOSED

    def aws(*args: str) -> dict[str, object]:
        done = subprocess.run(
            [*_aws_cli(), *args, "--output", "json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer: dict[str, object] = json.loads(done.stdout) if done.stdout.strip() else {}
        return answer

    aws("ecs", "create-cluster", "--cluster-name", "from-the-cli")
    clusters = aws("ecs", "list-clusters")["clusterArns"]
    assert isinstance(clusters, list)
    assert [str(arn).split("/")[-1] for arn in clusters] == ["from-the-cli"]


def test_a_callers_own_config_keeps_the_sandbox_off_proxies(hostile: dict[str, str]) -> None:
    """A client made with the caller's own botocore Config still bypasses proxies and keeps its settings."""
    from botocore.config import Config

    with EmbeddedSandbox(region="us-east-1", clock="manual") as sandbox:
        ecs = sandbox.client("ecs", config=Config(read_timeout=7))
        assert ecs.list_clusters()["clusterArns"] == []
        assert ecs.meta.config.read_timeout == 7
        assert ecs.meta.config.s3 == {"addressing_style": "path"}


# -- the environment helpers ----------------------------------------------------------------------


def test_loopback_no_proxy_adds_the_loopback_hosts_once() -> None:
    """The caller's entries stay first; loopback hosts are added once; `*` already covers everything."""
    assert loopback_no_proxy({}) == "127.0.0.1,localhost,::1"
    assert (
        loopback_no_proxy({"NO_PROXY": "corp.example, localhost"}) == "corp.example,localhost,127.0.0.1,::1"
    )
    assert loopback_no_proxy({"no_proxy": "a", "NO_PROXY": "b"}) == "a,127.0.0.1,localhost,::1"
    assert loopback_no_proxy({"NO_PROXY": "*"}) == "*"


def test_a_sandbox_process_gets_no_caller_aws_settings(hostile: dict[str, str]) -> None:
    """Profile, config files, endpoints, CA bundle and credentials go; proxies stay, bypassed for loopback."""
    env = environment_for_sandbox_process({**os.environ, "MOTO_ACCOUNT_ID": "123456789012", "PATH": "/bin"})
    assert not [name for name in env if name.startswith("AWS_")]
    assert "MOTO_ACCOUNT_ID" not in env
    assert env["PATH"] == "/bin"
    assert env["HTTP_PROXY"] == CLOSED
    assert "127.0.0.1" in env["NO_PROXY"].split(",")
    assert env["no_proxy"] == env["NO_PROXY"]
