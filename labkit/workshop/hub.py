"""Workshops on JupyterHub: the hub's configuration, the learner's single-user server, fixed passwords.

A shared workshop server (`labkit.workshop.server`) holds every learner's account in one emulator
process. On JupyterHub each learner has a single-user server of their own (JupyterLab on their
workspace, `labkit.workspace.prepare_workspace`), and each notebook's kernel its own embedded sandbox,
so nothing is shared and it scales with the hub. Progress goes to labkit's JupyterHub service
(`labkit.workshop.hub_service`), authenticated with the learner's own JupyterHub token, which the hub
gives every single-user server (`JUPYTERHUB_API_TOKEN`); its dashboard is at `/services/labkit/`,
for the hub's admins only.

- `hub_config(...)` writes a `jupyterhub_config.py` for one machine (`labkit hub config`).
- `singleuser_main()` is the spawner's command (`python -m labkit.workshop.hub_singleuser`): it
  prepares the learner's workspace in their home, as the learner, then becomes `jupyterhub-singleuser`.
- `labkit.workshop.hub_auth.FixedPasswordAuthenticator`: users and passwords from a JSON file (0600,
  `read_passwords`), for trials and tests; a real workshop uses PAM (system users) or one of
  JupyterHub's OAuth authenticators.

See ARCHITECTURE.md, "Workshops, clean-up, Copilot, CLI".
"""

from __future__ import annotations

import ipaddress
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from labkit.errors import LabkitError
from labkit.labs import load_lab
from labkit.sandbox.workshop_client import HUB_PROGRESS_VARIABLE

__all__ = [
    "PROGRESS_VARIABLE",
    "SERVICE_NAME",
    "HubConfigError",
    "HubSettings",
    "hub_config",
    "read_passwords",
    "singleuser_main",
    "write_hub_files",
]

#: The JupyterHub service's name: its pages are under /services/labkit/.
SERVICE_NAME = "labkit"
#: Where a learner's kernel posts progress events (set by the hub in each single-user server).
PROGRESS_VARIABLE = HUB_PROGRESS_VARIABLE


class HubConfigError(LabkitError):
    """A hub configuration that cannot work (bad address, unknown lab, unreadable passwords file)."""

    exit_code = 2


@dataclass
class HubSettings:
    """What `labkit hub config` writes into a `jupyterhub_config.py`.

    `state` holds the hub's database, cookie secret, the progress events and (with the `simple`
    spawner) the learners' homes. `authenticator` is `pam` (system users: a real one-machine workshop)
    or `fixed` (users and passwords from `passwords`, a JSON file). `spawner` is `local`
    (LocalProcessSpawner: each learner's server runs as their own system user; the hub runs as root)
    or `simple` (SimpleLocalProcessSpawner: every server runs as the hub's user, homes under
    `state/homes`; for trials and tests only, as JupyterHub says: no isolation between learners'
    files on the machine).
    """

    state: Path
    users: list[str] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    lab: str = "nginx-alb"
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_port: int = 8081
    proxy_api_port: int = 8001
    service_port: int = 10101
    authenticator: Literal["pam", "fixed"] = "pam"
    passwords: Path | None = None
    spawner: Literal["local", "simple"] = "local"
    proxy_command: list[str] = field(default_factory=list)
    start_timeout: int = 120

    def check(self) -> None:
        """Refuse what cannot work, before anything is written."""
        load_lab(self.lab)  # an unknown lab is refused (with the known ones named)
        if not _is_loopback_address(self.ip):
            raise HubConfigError(
                f"the hub binds 127.0.0.1 here, not {self.ip}: put a TLS-terminating reverse proxy in "
                "front of it to reach it from other machines (README.md, 'Workshops on JupyterHub')"
            )
        ports = [self.port, self.hub_port, self.proxy_api_port, self.service_port]
        if len(set(ports)) != len(ports) or not all(0 < p < 65536 for p in ports):
            raise HubConfigError(f"the four ports must be distinct and valid: {ports}")
        if self.authenticator == "fixed":
            if self.passwords is None:
                raise HubConfigError("--authenticator fixed needs --passwords FILE")
            known = read_passwords(self.passwords)
            missing = sorted((set(self.users) | set(self.admins)) - set(known))
            if missing:
                raise HubConfigError(f"{self.passwords} has no password for {', '.join(missing)}")

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.service_port}"

    @property
    def events(self) -> Path:
        return self.state / "events.jsonl"


def _is_loopback_address(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def hub_config(settings: HubSettings) -> str:
    """The text of a `jupyterhub_config.py` for `settings` (checked first)."""
    settings.check()
    state = settings.state.resolve()
    progress_url = f"{settings.service_url}/services/{SERVICE_NAME}/progress"
    authenticator = (
        '"pam"'
        if settings.authenticator == "pam"
        else '"labkit.workshop.hub_auth.FixedPasswordAuthenticator"'
    )
    lines = [
        "# jupyterhub_config.py written by `labkit hub config` (labkit.workshop.hub).",
        "# Run: jupyterhub -f jupyterhub_config.py   (configurable-http-proxy from npm must be on PATH)",
        "import sys",
        "",
        "c = get_config()  # noqa: F821 - JupyterHub provides it",
        "",
        "# Every server binds 127.0.0.1: put a TLS-terminating reverse proxy in front to reach the hub.",
        f"c.JupyterHub.ip = {settings.ip!r}",
        f"c.JupyterHub.port = {settings.port}",
        'c.JupyterHub.hub_ip = "127.0.0.1"',
        f"c.JupyterHub.hub_port = {settings.hub_port}",
        f'c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{settings.proxy_api_port}"',
    ]
    if settings.proxy_command:
        lines.append(f"c.ConfigurableHTTPProxy.command = {settings.proxy_command!r}")
    lines += [
        f"c.JupyterHub.db_url = {('sqlite:///' + str(state / 'jupyterhub.sqlite'))!r}",
        f"c.JupyterHub.cookie_secret_file = {str(state / 'jupyterhub_cookie_secret')!r}",
        f"c.JupyterHub.pid_file = {str(state / 'jupyterhub.pid')!r}",
        "c.JupyterHub.cleanup_servers = True",
        "",
        "# Who may log in, and who sees the labkit dashboard (the hub's admins).",
        f"c.JupyterHub.authenticator_class = {authenticator}",
        f"c.Authenticator.allowed_users = set({sorted(set(settings.users) | set(settings.admins))!r})",
        f"c.Authenticator.admin_users = set({sorted(set(settings.admins))!r})",
    ]
    if settings.authenticator == "fixed":
        assert settings.passwords is not None
        lines.append(f"c.FixedPasswordAuthenticator.passwords_file = {str(settings.passwords.resolve())!r}")
    if settings.spawner == "simple":
        lines += [
            "# SimpleLocalProcessSpawner: for trials and tests only (no isolation between learners).",
            'c.JupyterHub.spawner_class = "simple"',
            f"c.SimpleLocalProcessSpawner.home_dir_template = {str(state / 'homes' / '{username}')!r}",
        ]
    else:
        lines.append('c.JupyterHub.spawner_class = "localprocess"')
    lines += [
        "",
        "# Each learner: JupyterLab on their own workspace, the lab open, their own sandbox per kernel.",
        'c.Spawner.cmd = [sys.executable, "-m", "labkit.workshop.hub_singleuser"]',
        'c.Spawner.notebook_dir = "~/labkit-workspace"',
        f'c.Spawner.default_url = "/lab/tree/{settings.lab}.ipynb"',
        f"c.Spawner.environment = {{{PROGRESS_VARIABLE!r}: {progress_url!r}}}",
        f"c.Spawner.start_timeout = {settings.start_timeout}",
        f"c.Spawner.http_timeout = {settings.start_timeout}",
        "",
        "# labkit's workshop service: progress from the learners' kernels (their own JupyterHub token),",
        f"# the dashboard at /services/{SERVICE_NAME}/ for admins only.",
        "c.JupyterHub.services = [",
        "    {",
        f'        "name": {SERVICE_NAME!r},',
        f'        "url": {settings.service_url!r},',
        f'        "command": [sys.executable, "-m", "labkit.workshop.hub_service", "--events", {str(settings.events.resolve())!r}],',
        '        "display": False,',
        '        "oauth_no_confirm": True,',
        "    }",
        "]",
        "",
    ]
    return "\n".join(lines)


def write_hub_files(settings: HubSettings, out: Path) -> Path:
    """Write the configuration to `out` and create the state folder (0700); return `out`."""
    text = hub_config(settings)
    settings.state.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state, 0o700)
    (settings.state / "homes").mkdir(exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def read_passwords(path: Path) -> dict[str, str]:
    """Users and passwords of a `FixedPasswordAuthenticator` file: a JSON object, readable by its owner only."""
    try:
        mode = path.stat().st_mode
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HubConfigError(f"the passwords file {path} cannot be read: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise HubConfigError(f"the passwords file {path} is readable by others: chmod 600 {path}")
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise HubConfigError(f"the passwords file {path} must be a JSON object of user name to password")
    return dict(data)


def singleuser_main(argv: list[str] | None = None) -> int:
    """The spawner's command: prepare the workspace (as the learner, in their home), then run
    `jupyterhub-singleuser` with the arguments the hub gave, and CurveZMQ kernels."""
    from labkit.execute import transport_encryption
    from labkit.workspace import prepare_workspace

    args = list(sys.argv[1:] if argv is None else argv)
    root = Path(os.environ.get("LABKIT_WORKSPACE") or Path.home() / "labkit-workspace")
    prepare_workspace(root)
    command = [
        sys.executable,
        "-m",
        "jupyterhub.singleuser",
        f"--KernelManager.transport_encryption={transport_encryption()}",
        *args,
    ]
    if os.geteuid() == 0:
        # Only the `simple` spawner runs a learner's server as the hub's user; a hub run as root (a
        # container, CI) would otherwise see Jupyter refuse to start. The `local` spawner never does.
        command.append("--ServerApp.allow_root=True")
    os.execv(sys.executable, command)
    return 0  # not reached
