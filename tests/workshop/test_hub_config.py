"""`labkit hub config`: what it writes, what it refuses; the learner's reporter on JupyterHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from traitlets.config import Config

from labkit.cli import cli
from labkit.sandbox.workshop_client import ProgressReporter, reporter_from_env
from labkit.workshop.hub import HubConfigError, HubSettings, hub_config, read_passwords


def _load(text: str) -> Config:
    """Run a jupyterhub_config.py as JupyterHub does: `get_config()` gives the Config it fills."""
    config = Config()
    exec(compile(text, "jupyterhub_config.py", "exec"), {"get_config": lambda: config})
    return config


def _passwords(tmp_path: Path, **users: str) -> Path:
    path = tmp_path / "passwords.json"
    path.write_text(json.dumps(users), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_the_config_runs_the_learners_servers_the_service_and_binds_loopback(tmp_path: Path) -> None:
    settings = HubSettings(
        state=tmp_path / "state",
        users=["bob", "alice"],
        admins=["teacher"],
        authenticator="fixed",
        passwords=_passwords(tmp_path, alice="a", bob="b", teacher="t"),
        spawner="simple",
        service_port=12345,
    )
    c = _load(hub_config(settings))
    assert c.JupyterHub.ip == "127.0.0.1"
    assert c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.ConfigurableHTTPProxy.api_url.startswith("http://127.0.0.1:")
    assert c.Authenticator.allowed_users == {"alice", "bob", "teacher"}
    assert c.Authenticator.admin_users == {"teacher"}
    assert c.JupyterHub.authenticator_class == "labkit.workshop.hub_auth.FixedPasswordAuthenticator"
    assert c.Spawner.cmd[1:] == ["-m", "labkit.workshop.hub_singleuser"]
    assert c.Spawner.default_url == "/lab/tree/nginx-alb.ipynb"
    assert c.Spawner.environment == {
        "LABKIT_HUB_PROGRESS_URL": "http://127.0.0.1:12345/services/labkit/progress"
    }
    (service,) = c.JupyterHub.services
    assert service["name"] == "labkit"
    assert service["url"] == "http://127.0.0.1:12345"
    assert service["command"][1:3] == ["-m", "labkit.workshop.hub_service"]
    # The text is the same each time (users sorted), so an instructor can keep it under version control.
    assert hub_config(settings) == hub_config(settings)


def test_pam_and_the_local_spawner_are_the_default(tmp_path: Path) -> None:
    c = _load(hub_config(HubSettings(state=tmp_path, users=["alice"], admins=["teacher"])))
    assert c.JupyterHub.authenticator_class == "pam"
    assert c.JupyterHub.spawner_class == "localprocess"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ip": "0.0.0.0"}, "binds 127.0.0.1"),
        ({"lab": "no-such-lab"}, "no-such-lab"),
        ({"port": 8081}, "distinct"),
        ({"authenticator": "fixed"}, "--passwords"),
    ],
)
def test_a_config_that_cannot_work_is_refused(tmp_path: Path, change: dict[str, object], words: str) -> None:
    settings = HubSettings(state=tmp_path, users=["alice"], **change)  # type: ignore[arg-type]
    with pytest.raises(Exception, match=words):
        hub_config(settings)


def test_a_passwords_file_others_can_read_or_missing_a_user_is_refused(tmp_path: Path) -> None:
    path = _passwords(tmp_path, alice="a")
    path.chmod(0o644)
    with pytest.raises(HubConfigError, match="chmod 600"):
        read_passwords(path)
    path.chmod(0o600)
    settings = HubSettings(state=tmp_path, users=["alice", "bob"], authenticator="fixed", passwords=path)
    with pytest.raises(HubConfigError, match="no password for bob"):
        hub_config(settings)


def test_the_command_writes_the_file_and_says_how_to_start(tmp_path: Path) -> None:
    out = tmp_path / "jupyterhub_config.py"
    result = CliRunner().invoke(
        cli,
        [
            "hub",
            "config",
            "--out",
            str(out),
            "--state",
            str(tmp_path / "s"),
            "--users",
            "alice",
            "--admins",
            "t",
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"jupyterhub -f {out}" in result.output
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o700
    refused = CliRunner().invoke(cli, ["hub", "config", "--out", str(out), "--lab", "nope"])
    assert refused.exit_code == 2


def test_on_jupyterhub_the_kernel_reports_with_the_servers_own_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LABKIT_WORKSHOP", raising=False)
    monkeypatch.setenv("LABKIT_HUB_PROGRESS_URL", "http://127.0.0.1:1/services/labkit/progress")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-servers-token")
    reporter = reporter_from_env()
    assert isinstance(reporter, ProgressReporter)
    assert reporter.url == "http://127.0.0.1:1/services/labkit/progress"
    # Nothing answers on port 1: the event is dropped, the lab goes on.
    assert reporter.send("open", "nginx-alb") is False
    monkeypatch.delenv("JUPYTERHUB_API_TOKEN")
    assert reporter_from_env() is None
