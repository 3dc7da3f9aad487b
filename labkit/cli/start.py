"""`labkit start [LAB]`: the learner's workspace, opened in JupyterLab."""

from __future__ import annotations

from pathlib import Path

import click

from labkit.cli.output import echo


@click.command()
@click.argument("lab_id", metavar="[LAB]", required=False)
@click.option(
    "--workspace",
    type=click.Path(path_type=Path),
    default=None,
    help="Your workspace folder (env: LABKIT_WORKSPACE; default ~/labkit-workspace).",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Do not open a browser (on a remote machine: open the printed URL through an SSH tunnel).",
)
@click.option(
    "--mode",
    type=click.Choice(["embedded", "server"]),
    default="embedded",
    show_default=True,
    help="embedded: each notebook has its own sandbox; server: the notebooks share one `labkit sandbox` "
    "server (started, or the running one) that a terminal reaches with `labkit sandbox env`.",
)
def start(lab_id: str | None, workspace: Path | None, no_browser: bool, mode: str) -> None:
    """Copy the learner version of every lab into your workspace and open LAB in JupyterLab.

    Running it again keeps your work: a notebook you changed is never overwritten; a newer version of
    the lab is written beside it (LAB.new.ipynb). JupyterLab listens on 127.0.0.1 only, with a token;
    Ctrl-C stops it.
    """
    from labkit.workspace import run_workspace

    code = run_workspace(
        lab_id,
        workspace=workspace,
        browser=not no_browser,
        mode="server" if mode == "server" else "embedded",
        say=echo,
    )
    if code:
        raise click.exceptions.Exit(code)
