"""`labkit copilot`: exit codes, one-line errors, and the verbs against the running sandbox server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.sandbox.server import start_server
from tests.conftest import run_labkit

MANIFEST = """\
name: web
type: Load Balanced Web Service
image:
  location: nginxdemos/hello
  port: 80
http:
  path: '/'
  healthcheck:
    healthy_threshold: 2
    interval: 10s
count: 2
environments:
  test:
    count: 1
"""


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.yml"
    path.write_text(MANIFEST)
    return path


def test_validate_a_good_manifest(manifest: Path) -> None:
    """A valid manifest exits 0 and says what it is."""
    done = run_labkit("copilot", "validate", str(manifest), "--env", "test")
    assert done.returncode == 0, done.stderr
    assert "a valid Load Balanced Web Service named web for environment test" in done.stdout


def test_validate_a_broken_manifest_is_one_line_naming_the_field(manifest: Path) -> None:
    """A broken rule exits 2 with one line on stderr that names the file and the field, no traceback."""
    manifest.write_text(MANIFEST.replace("interval: 10s", "interval: 1s"))
    done = run_labkit("copilot", "validate", str(manifest))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"labkit: {manifest}: http.healthcheck.interval: 1s is out of range: a target group checks every 5s to 300s"
    ]
    missing = run_labkit("copilot", "validate", str(manifest.parent / "nope.yml"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("labkit: ")
    assert "Traceback" not in missing.stderr


def test_deploy_without_a_server_says_how_to_start_one(manifest: Path) -> None:
    """Without a running sandbox server the command fails in one line that names `labkit sandbox start`."""
    done = run_labkit("copilot", "deploy", str(manifest), "--app", "demo", "--env", "test")
    assert done.returncode == 1
    assert done.stderr.startswith("labkit: no sandbox server is running")
    assert "labkit sandbox start" in done.stderr


@pytest.mark.slow
def test_env_deploy_deploy_show_and_delete_against_the_server(manifest: Path) -> None:
    """The verbs work in order against the server sandbox, and delete leaves nothing with Copilot's tags."""
    start_server(clock="manual")
    missing_env = run_labkit("copilot", "deploy", str(manifest), "--app", "demo", "--env", "test")
    assert missing_env.returncode == 1
    assert "run `labkit copilot env deploy --app demo --env test` first" in missing_env.stderr

    env = run_labkit("copilot", "env", "deploy", "--app", "demo", "--env", "test")
    assert env.returncode == 0, env.stderr
    assert "cluster demo-test-Cluster" in env.stdout
    deployed = run_labkit("copilot", "deploy", str(manifest), "--app", "demo", "--env", "test", timeout=180)
    assert deployed.returncode == 0, deployed.stderr
    assert "deployed Load Balanced Web Service web to demo/test" in deployed.stdout
    assert "/* (" in deployed.stdout

    shown = run_labkit("copilot", "show", "--app", "demo", "--json")
    assert shown.returncode == 0, shown.stderr
    kinds = {row["kind"] for row in json.loads(shown.stdout)}
    assert {"service", "listener-rule", "target-group", "task-definition", "load-balancer"} <= kinds
    table = run_labkit("copilot", "show", "--app", "demo", "--name", "web")
    assert table.stdout.splitlines()[0].split() == ["KIND", "NAME", "ENV", "SERVICE"]

    deleted = run_labkit("copilot", "delete", "--app", "demo", timeout=180)
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith("deleted ")
    after = run_labkit("copilot", "show", "--json")
    assert json.loads(after.stdout) == []
