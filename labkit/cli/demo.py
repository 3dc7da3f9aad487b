"""`labkit demo`: the quick-start job on a sandbox."""

from __future__ import annotations

import json

import click

from labkit.cli.output import echo


@click.command()
@click.option(
    "--mode",
    type=click.Choice(["embedded", "server"]),
    default="embedded",
    show_default=True,
    help="Sandbox to run in: embedded (in this process) or server (the one `labkit sandbox start` runs).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def demo(mode: str, as_json: bool) -> None:
    """Create an ECS cluster, a Fargate task definition and a service in a sandbox, and print them."""
    from labkit.demo import format_demo, run_demo
    from labkit.sandbox import open_sandbox

    with open_sandbox(mode) as sandbox:
        result = run_demo(sandbox)
    echo(json.dumps(result, indent=2, default=str) if as_json else format_demo(result))
