"""`labkit teardown`: delete what a sandbox session made (by its tag), dry run unless --yes."""

from __future__ import annotations

import json

import click

from labkit.cli.output import echo


@click.command()
@click.option(
    "--mode",
    type=click.Choice(["aws", "server"]),
    default="aws",
    show_default=True,
    help="aws: the allow-listed account of the labkit config; server: the running sandbox server.",
)
@click.option(
    "--session",
    default=None,
    help="The session whose labkit:session tag to delete (default in aws mode: every session recorded here).",
)
@click.option("--yes", is_flag=True, help="Delete; without it nothing is changed (a dry run).")
@click.option("--json", "as_json", is_flag=True, help="Print only the reports, as JSON.")
def teardown(mode: str, session: str | None, yes: bool, as_json: bool) -> None:
    """List what a session created and, with --yes, delete it in dependency order.

    Exits non-zero, listing what remains, when a fresh listing after deleting still finds anything.
    """
    from labkit.teardown import run_teardown

    reports = run_teardown(mode=mode, session=session, yes=yes, on_event=None if as_json else echo)
    if as_json:
        echo(json.dumps([r.to_dict() for r in reports], indent=2))
