"""`labkit demo`: the quick-start job."""

from __future__ import annotations

import json

import pytest

from labkit.demo import TASK_DEFINITION, format_demo, run_demo
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.conftest import run_labkit


def test_run_demo_builds_the_cluster_task_definition_and_service(sandbox: EmbeddedSandbox) -> None:
    """The demo leaves a cluster, a Fargate task definition of nginxdemos/hello and a service in the sandbox."""
    result = run_demo(sandbox)
    assert result["cluster"]["status"] == "ACTIVE"
    assert result["task_definition"]["containers"] == [
        {"name": "hello", "image": "nginxdemos/hello", "ports": [80]}
    ]
    assert result["service"]["desired"] == 1
    assert result["service"]["running"] == 1
    assert result["service"]["launch_type"] == "FARGATE"
    assert [t["status"] for t in result["tasks"]] == ["RUNNING"]
    assert result["service"]["events"][-1].endswith("has reached a steady state.")
    ecs = sandbox.client("ecs")
    assert ecs.describe_task_definition(taskDefinition="nginx-demo-hello:1")["taskDefinition"]["cpu"] == "256"
    text = format_demo(result)
    assert "nginx-demo-hello:1" in text
    assert "nginxdemos/hello" in text


def test_the_task_definition_is_valid_for_fargate() -> None:
    """Fargate needs awsvpc, task-level cpu and memory as strings of a supported pair."""
    assert TASK_DEFINITION["networkMode"] == "awsvpc"
    assert (TASK_DEFINITION["cpu"], TASK_DEFINITION["memory"]) == ("256", "512")
    assert TASK_DEFINITION["requiresCompatibilities"] == ["FARGATE"]


@pytest.mark.slow
def test_labkit_demo_prints_what_it_made() -> None:
    """`labkit demo` exits 0 and prints the cluster, task definition and service."""
    done = run_labkit("demo")
    assert done.returncode == 0, done.stderr
    for expected in (
        "cluster          labkit-demo (ACTIVE)",
        "nginx-demo-hello:1",
        "FARGATE",
        "embedded",
        "RUNNING at",
    ):
        assert expected in done.stdout


@pytest.mark.slow
def test_labkit_demo_json() -> None:
    """`labkit demo --json` prints the same facts as JSON."""
    done = run_labkit("demo", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["service"]["name"] == "nginx-demo-hello"
    assert data["sandbox"]["mode"] == "embedded"
