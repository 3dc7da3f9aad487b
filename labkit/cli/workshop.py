"""`labkit workshop ...`: run a workshop (one emulator for a roster of learners) and report progress."""

from __future__ import annotations

import json
from pathlib import Path

import click

from labkit.cli.output import echo
from labkit.sandbox.clock import CLOCK_MODES, DEFAULT_SPEED
from labkit.terminal import printable


@click.group()
def workshop() -> None:
    """Give every learner of a roster an emulated account of their own, and follow their progress."""


@workshop.command()
@click.option(
    "--roster",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="CSV with an `id` column (and optionally `name`), one learner a row.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder for each learner's connection files (default: workshop-connections in the state folder).",
)
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option("--clock", type=click.Choice(CLOCK_MODES), default="realtime", show_default=True)
@click.option(
    "--speed", type=float, default=DEFAULT_SPEED, show_default=True, help="Emulated seconds per second."
)
@click.option(
    "--region", default=None, help="Region of the learners' sandboxes (default: the labkit config's)."
)
def start(roster: Path, out: Path | None, port: int, clock: str, speed: float, region: str | None) -> None:
    """Start one workshop server with a sandbox per learner; write each learner's connection files."""
    from labkit.workshop.server import start_workshop

    info = start_workshop(roster, out=out, port=port, clock=clock, speed=speed, region=region)  # type: ignore[arg-type]
    echo(f"workshop of {len(info.learners)} learners at {info.endpoint_url} (pid {info.pid})")
    for learner in info.learners:
        echo(
            f"  {printable(learner['learner'])}: account {learner['account_id']}, "
            f"connection {printable(Path(info.connections_dir) / (learner['learner'] + '.env'))}"
        )
    echo("a learner runs: source <their .env file>  (or sets LABKIT_WORKSHOP to their .json file)")


@workshop.command()
def stop() -> None:
    """Stop the workshop server (every learner's sandbox is forgotten; events stay for the report)."""
    from labkit.workshop.server import stop_workshop

    info = stop_workshop()
    echo(f"workshop at {info.endpoint_url} stopped")


@workshop.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Show every learner and their latest progress event."""
    from labkit.workshop.server import workshop_status

    state = workshop_status()
    if as_json:
        echo(json.dumps(state, indent=2))
        return
    echo(f"workshop at {state['endpoint_url']} (pid {state['pid']}), {len(state['learners'])} learners")
    for row in state["learners"]:
        last = row["last_event"]
        where = "no progress yet"
        if last:
            # Each field a learner sent is made printable on its own: none can forge a line.
            fields = (last["kind"], last.get("checkpoint") or last["lab"], last.get("status") or "")
            where = " ".join(printable(value) for value in fields) + f" at {printable(last['at'])}"
        echo(f"  {printable(row['learner']):<16} {row['events']:>4} events  {where.strip()}")


@workshop.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("workshop-report"),
    show_default=True,
    help="Folder for workshop-report.html and workshop-progress.csv.",
)
def report(out: Path) -> None:
    """Write the progress dashboard (HTML, no network needed to view) and a CSV export."""
    from labkit.workshop.server import workshop_report

    paths = workshop_report(out)
    echo(f"dashboard: {paths['html']}")
    echo(f"csv: {paths['csv']}")
