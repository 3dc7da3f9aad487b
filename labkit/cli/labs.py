"""`labkit labs` and `labkit check`: the course's labs, and grading a sandbox's current state."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the labs as JSON.")
def labs(as_json: bool) -> None:
    """List the labs: id, title, estimated minutes, checkpoints."""
    from labkit.labs import list_labs

    found = list_labs()
    if as_json:
        rows = [
            {"id": lab.id, "title": lab.title, "minutes": lab.minutes, "checkpoints": lab.checkpoints.ids()}
            for lab in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for lab in found:
        click.echo(f"{lab.id:<16} {lab.minutes:>3} min  {len(lab.checkpoints)} checkpoints  {lab.title}")


@click.command()
@click.argument("lab_id", metavar="LAB")
@click.option(
    "--mode",
    type=click.Choice(["server", "aws"]),
    default="server",
    show_default=True,
    help="Which sandbox to grade: the running `labkit sandbox` server, or the allow-listed AWS account.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(lab_id: str, mode: str, as_json: bool) -> None:
    """Grade the current state of a sandbox against LAB's checkpoints (exit 1 unless all pass)."""
    from labkit.lab import check_sandbox

    report = check_sandbox(lab_id, mode)
    click.echo(report.to_json() if as_json else report.summary())
    if report.score < report.possible:
        raise click.exceptions.Exit(1)
