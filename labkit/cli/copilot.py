"""`labkit copilot`: Copilot's verbs against the running sandbox (Copilot itself reached end of support)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from labkit.cli.output import echo

_MODE = click.option(
    "--mode",
    type=click.Choice(["server", "aws"]),
    default="server",
    show_default=True,
    help="The running `labkit sandbox` server, or the allow-listed AWS account.",
)


@click.group()
def copilot() -> None:
    """Validate Copilot manifests and deploy what Copilot would, to a sandbox.

    AWS Copilot CLI reached end of support on June 12, 2026; AWS points to Amazon ECS Express
    Mode and the AWS CDK instead.
    """


@copilot.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--env", default=None, help="Apply this environment's overrides first.")
def validate(manifest: Path, env: str | None) -> None:
    """Check MANIFEST against Copilot's rules (exit 2 and the field at fault when it breaks one)."""
    from labkit.copilot.commands import validate_file

    found = validate_file(manifest, env)
    where = f" for environment {env}" if env else ""
    echo(f"{manifest}: a valid {found.type} named {found.name}{where}")


@copilot.group()
def env() -> None:
    """Environments: a VPC, a cluster and a public load balancer."""


@env.command("deploy")
@click.option("--app", required=True, help="The application's name.")
@click.option("--env", "env_name", required=True, help="The environment's name.")
@_MODE
def env_deploy(app: str, env_name: str, mode: str) -> None:
    """Create (or find) environment --env of application --app, as `copilot env deploy` does."""
    from labkit.copilot.commands import deploy_environment_in_sandbox

    made = deploy_environment_in_sandbox(app, env_name, mode)
    echo(
        f"environment {app}/{env_name}: vpc {made.vpc_id}, cluster {made.cluster}, load balancer {made.load_balancer_dns}"
    )


@copilot.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--app", required=True, help="The application's name.")
@click.option("--env", "env_name", required=True, help="The environment to deploy to (its overrides apply).")
@click.option("--no-wait", is_flag=True, help="Return without waiting for the service to be stable.")
@_MODE
def deploy(manifest: Path, app: str, env_name: str, no_wait: bool, mode: str) -> None:
    """Validate MANIFEST and deploy it to --env, as `copilot svc deploy` (or `copilot job deploy`) does."""
    from labkit.copilot.commands import deploy_in_sandbox, format_deployment

    echo(format_deployment(deploy_in_sandbox(manifest, app, env_name, mode, wait=not no_wait)))


@copilot.command()
@click.option("--app", default=None, help="Only this application (default: every one).")
@click.option("--env", "env_name", default=None, help="Only this environment.")
@click.option("--name", default=None, help="Only this service or job.")
@click.option("--json", "as_json", is_flag=True, help="Print the resources as JSON.")
@_MODE
def show(app: str | None, env_name: str | None, name: str | None, as_json: bool, mode: str) -> None:
    """List what Copilot's tags (copilot-application, -environment, -service) tie together."""
    from labkit.copilot.commands import format_resources, show_in_sandbox

    found = show_in_sandbox(app, env_name, name, mode)
    echo(json.dumps([r.to_dict() for r in found], indent=2) if as_json else format_resources(found))


@copilot.command()
@click.option("--app", required=True, help="The application.")
@click.option(
    "--env", "env_name", default=None, help="Only this environment (and then the environment itself)."
)
@click.option("--name", default=None, help="Only this service or job.")
@_MODE
def delete(app: str, env_name: str | None, name: str | None, mode: str) -> None:
    """Delete a workload (--name), an environment (--env) or the whole application, in dependency order."""
    from labkit.copilot.commands import delete_in_sandbox

    gone = delete_in_sandbox(app, env_name, name, mode)
    echo(f"deleted {len(gone)} resource{'s' if len(gone) != 1 else ''}")
