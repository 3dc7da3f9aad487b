"""`labkit hub ...`: a workshop on JupyterHub (configuration for one machine, the progress report)."""

from __future__ import annotations

from pathlib import Path

import click

from labkit.cli.output import echo


@click.group()
def hub() -> None:
    """Run a workshop on JupyterHub: each learner their own JupyterLab and sandbox, one dashboard."""


def _names(value: str) -> list[str]:
    return [name.strip() for name in value.split(",") if name.strip()]


@hub.command("config")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("jupyterhub_config.py"),
    show_default=True,
    help="Where the configuration is written.",
)
@click.option(
    "--state",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("labkit-hub"),
    show_default=True,
    help="The hub's folder (0700): database, cookie secret, progress events, trial homes.",
)
@click.option("--users", default="", help="Learners allowed to log in, comma-separated.")
@click.option(
    "--admins", default="", help="Instructors (hub admins: they see the dashboard), comma-separated."
)
@click.option(
    "--lab", default="nginx-alb", show_default=True, help="The lab each learner's JupyterLab opens."
)
@click.option("--port", type=int, default=8000, show_default=True, help="The hub's public port on 127.0.0.1.")
@click.option("--hub-port", type=int, default=8081, show_default=True)
@click.option("--proxy-api-port", type=int, default=8001, show_default=True)
@click.option("--service-port", type=int, default=10101, show_default=True, help="labkit's service.")
@click.option(
    "--authenticator",
    type=click.Choice(["pam", "fixed"]),
    default="pam",
    show_default=True,
    help="pam: the machine's users; fixed: users and passwords from --passwords (trials and tests).",
)
@click.option(
    "--passwords",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help='With --authenticator fixed: a JSON file {"user": "password"}, mode 0600.',
)
@click.option(
    "--spawner",
    type=click.Choice(["local", "simple"]),
    default="local",
    show_default=True,
    help="local: each learner's server as their own system user (hub as root); "
    "simple: all as the hub's user, homes in --state (trials and tests only).",
)
def config(
    out: Path,
    state: Path,
    users: str,
    admins: str,
    lab: str,
    port: int,
    hub_port: int,
    proxy_api_port: int,
    service_port: int,
    authenticator: str,
    passwords: Path | None,
    spawner: str,
) -> None:
    """Write a jupyterhub_config.py for a workshop on this machine (then: jupyterhub -f FILE)."""
    from labkit.workshop.hub import HubSettings, write_hub_files

    settings = HubSettings(
        state=state,
        users=_names(users),
        admins=_names(admins),
        lab=lab,
        port=port,
        hub_port=hub_port,
        proxy_api_port=proxy_api_port,
        service_port=service_port,
        authenticator="fixed" if authenticator == "fixed" else "pam",
        passwords=passwords,
        spawner="simple" if spawner == "simple" else "local",
    )
    written = write_hub_files(settings, out)
    echo(f"wrote {written} (state in {state})")
    echo(f"start the hub: jupyterhub -f {written}")
    echo(f"learners: http://127.0.0.1:{port}/   dashboard (admins): http://127.0.0.1:{port}/services/labkit/")


@hub.command("report")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--state",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("labkit-hub"),
    show_default=True,
    help="The hub's folder given to `labkit hub config`.",
)
def report(out: Path, state: Path) -> None:
    """Write the hub workshop's report (HTML and CSV) into OUT, from its progress events."""
    from labkit.workshop.report import write_report

    for kind, path in write_report(out, state / "events.jsonl").items():
        echo(f"{kind:<5} {path}")
