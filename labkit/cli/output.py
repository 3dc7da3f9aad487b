"""What every `labkit` command prints goes through `echo`: learners' strings never drive the terminal."""

from __future__ import annotations

import click

from labkit.terminal import printable

__all__ = ["echo"]


def echo(text: object = "", *, err: bool = False) -> None:
    """Print `text` (lines kept, every other control character shown as an escape) to stdout or stderr."""
    click.echo(printable(text, keep_newlines=True), err=err)
