"""The `labkit` command: a thin layer over the library, one module per command group.

Every `LabkitError` (and an AWS error from the sandbox) becomes one line on stderr and a non-zero
exit code, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from labkit import __version__
from labkit.cli.output import echo
from labkit.errors import LabkitError

__all__ = ["cli", "main"]


class LabkitGroup(click.Group):
    """A command group that turns labkit's errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LabkitError as exc:
            echo(f"labkit: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (ClientError, BotoCoreError) as exc:
            echo(f"labkit: the sandbox answered with an error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=LabkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="labkit")
def cli() -> None:
    """labkit: sandboxes and labs for the course on containers on AWS (Docker, ECS, Fargate, ECR)."""


def _register() -> None:
    from labkit.cli.copilot import copilot
    from labkit.cli.demo import demo
    from labkit.cli.hub import hub
    from labkit.cli.labs import assign, check, grade, labs, run, validate
    from labkit.cli.sandbox import sandbox
    from labkit.cli.start import start
    from labkit.cli.teardown import teardown
    from labkit.cli.workshop import workshop

    cli.add_command(start)
    cli.add_command(demo)
    cli.add_command(labs)
    cli.add_command(check)
    cli.add_command(run)
    cli.add_command(grade)
    cli.add_command(validate)
    cli.add_command(assign)
    cli.add_command(sandbox)
    cli.add_command(copilot)
    cli.add_command(teardown)
    cli.add_command(workshop)
    cli.add_command(hub)


_register()


def main() -> None:
    """Entry point of the `labkit` console script."""
    cli(prog_name="labkit")
