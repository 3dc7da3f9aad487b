"""`labkit workshop ...` and `labkit teardown` as an instructor types them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

import labkit
from labkit.sandbox.aws import SESSION_TAG, session_tags_hook
from labkit.sandbox.guards import isolated_botocore_session
from labkit.sandbox.server import running_server
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_a_workshop_from_start_to_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """start writes each learner's connection files; a learner's checks reach status and the report; stop stops."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nada,Ada Lovelace\nbob,Bob\n")
    out = tmp_path / "connections"
    started = run_labkit("workshop", "start", "--roster", str(roster), "--out", str(out), "--clock", "manual")
    assert started.returncode == 0, started.stderr
    assert "workshop of 2 learners at http://127.0.0.1:" in started.stdout
    try:
        env_text = (out / "ada.env").read_text()
        assert "export AWS_ACCESS_KEY_ID=AKIALABKITW" in env_text
        # A learner's shell: source the .env file, then the AWS CLI works in their own account.
        shell = subprocess.run(
            [
                "bash",
                "-c",
                f"source {out / 'ada.env'} && {sys.executable} -m awscli sts get-caller-identity --output json",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr
        ada_account = json.loads((out / "ada.json").read_text())["account_id"]
        assert json.loads(shell.stdout)["Account"] == ada_account
        monkeypatch.setenv("LABKIT_WORKSHOP", str(out / "ada.json"))
        with labkit.open_lab("nginx-alb", mode="workshop") as lab:
            lab.check("cluster-created", display=False)
            lab.catch_up(to="cluster-created")
            lab.check("cluster-created", display=False)
        status = run_labkit("workshop", "status", "--json")
        assert status.returncode == 0, status.stderr
        rows = {r["learner"]: r for r in json.loads(status.stdout)["learners"]}
        assert rows["ada"]["events"] >= 4
        assert rows["ada"]["last_event"]["status"] == "passed"
        assert rows["bob"]["events"] == 0
        assert "secret" not in status.stdout
        report = run_labkit("workshop", "report", "--out", str(tmp_path / "report"))
        assert report.returncode == 0, report.stderr
        csv_text = (tmp_path / "report" / "workshop-progress.csv").read_text()
        assert "ada,Ada Lovelace,nginx-alb,cluster-created,caught-up" in csv_text
    finally:
        stopped = run_labkit("workshop", "stop")
    assert stopped.returncode == 0, stopped.stderr
    again = run_labkit("workshop", "status")
    assert again.returncode != 0
    assert "no workshop server is running" in again.stderr
    assert "Traceback" not in again.stderr


def test_teardown_against_a_server_sandbox_offline() -> None:
    """In server mode: a dry run lists and keeps, --yes deletes only the session's, a second run finds nothing."""
    assert run_labkit("sandbox", "start", "--clock", "manual").returncode == 0
    info = running_server()
    assert info is not None
    core = isolated_botocore_session(info.region)
    core.register("before-parameter-build", session_tags_hook({SESSION_TAG: "lk-demo00001"}))
    session = boto3.Session(botocore_session=core, region_name=info.region)
    ecs = session.client("ecs", endpoint_url=info.endpoint_url)
    logs = session.client("logs", endpoint_url=info.endpoint_url)
    ecs.create_cluster(clusterName="tagged")
    logs.create_log_group(logGroupName="/tagged")
    plain = boto3.Session(botocore_session=isolated_botocore_session(info.region), region_name=info.region)
    plain.client("ecs", endpoint_url=info.endpoint_url).create_cluster(clusterName="untagged")

    dry = run_labkit("teardown", "--mode", "server", "--session", "lk-demo00001")
    assert dry.returncode == 0, dry.stderr
    assert "would delete ecs:cluster" in dry.stdout
    assert "dry run" in dry.stdout
    assert len(ecs.list_clusters()["clusterArns"]) == 2

    done = run_labkit("teardown", "--mode", "server", "--session", "lk-demo00001", "--yes")
    assert done.returncode == 0, done.stderr
    assert "a fresh listing finds nothing" in done.stdout
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    assert sorted(c["clusterName"] for c in clusters if c["status"] == "ACTIVE") == ["untagged"]
    assert logs.describe_log_groups()["logGroups"] == []

    again = run_labkit("teardown", "--mode", "server", "--session", "lk-demo00001", "--yes")
    assert again.returncode == 0
    assert "nothing carries its tag" in again.stdout


def test_teardown_without_a_session_is_one_line_and_non_zero() -> None:
    """In aws mode with no recorded session, teardown says so in one line and exits non-zero."""
    result = run_labkit("teardown")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "no aws session is recorded" in result.stderr


def test_a_bad_roster_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    """A roster with a repeated id is refused in one line naming the line, and no workshop runs."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\nada,Ada\nada,Ada again\n")
    result = run_labkit("workshop", "start", "--roster", str(roster))
    assert result.returncode == 2
    assert result.stderr.strip() == f"labkit: roster {roster}: line 3: id 'ada' appears twice"
    assert run_labkit("workshop", "status").returncode != 0
