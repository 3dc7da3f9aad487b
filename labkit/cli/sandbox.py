"""`labkit sandbox ...`: start, inspect, drive and stop the machine's shared sandbox server.

The server's state file lives in `$LABKIT_STATE_DIR` (default `~/.local/state/labkit`).
"""

from __future__ import annotations

import json
import shlex

import click

from labkit.cli.output import echo
from labkit.sandbox.clock import CLOCK_MODES, DEFAULT_SPEED


@click.group()
def sandbox() -> None:
    """Run an emulated AWS account that the AWS CLI, boto3 and notebooks can share."""


@sandbox.command()
@click.option("--port", type=int, default=0, help="Port on 127.0.0.1 (default: a free one).")
@click.option(
    "--clock",
    type=click.Choice(CLOCK_MODES),
    default="realtime",
    show_default=True,
    help="realtime runs accelerated real time; manual moves only with `labkit sandbox advance`.",
)
@click.option(
    "--speed",
    type=float,
    default=DEFAULT_SPEED,
    show_default=True,
    help="Emulated seconds per second (realtime).",
)
@click.option(
    "--region",
    default=None,
    help="Region of the sandbox (default: `region` in the labkit config, else us-east-1).",
)
def start(port: int, clock: str, speed: float, region: str | None) -> None:
    """Start the sandbox server and print its endpoint."""
    from labkit.sandbox.server import start_server

    info = start_server(port=port, clock=clock, speed=speed, region=region)  # type: ignore[arg-type]
    echo(
        f"sandbox {info.session_id} running at {info.endpoint_url} (pid {info.pid}, account {info.account_id}, {info.region}, clock {info.clock})"
    )
    echo('reach it from a shell with: eval "$(labkit sandbox env)"')


@sandbox.command()
def stop() -> None:
    """Stop the sandbox server (everything in it is forgotten).

    The pid in the state file is signalled only after the server, asked with its token, answers
    with that pid and session; a stale file is removed and nothing is signalled.
    """
    from labkit.errors import StaleServerStateError
    from labkit.sandbox.process import read_state, stop_confirmed
    from labkit.sandbox.server import ServerInfo, sandbox_config_path, server_state_path

    try:
        info = stop_confirmed(server_state_path(), lambda path: read_state(path, ServerInfo), timeout=10.0)
    except StaleServerStateError as exc:
        echo(str(exc))
        return
    finally:
        # The AWS config file `labkit sandbox env` wrote goes with the server.
        sandbox_config_path(server_state_path()).unlink(missing_ok=True)
    echo(f"sandbox {info.session_id} at {info.endpoint_url} stopped")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Say whether the sandbox server runs, where, and what its clock says."""
    from labkit.sandbox.server import server_status

    state = server_status()
    if as_json:
        echo(json.dumps(state, indent=2))
        return
    clock = state["clock"]
    echo(f"running at {state['endpoint_url']} (pid {state['pid']})")
    echo(f"session {state['session_id']}, account {state['account_id']}, region {state['region']}")
    echo(f"clock {clock['mode']} (speed {clock['speed']:g}), now {clock['now']}")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="Print the variables as JSON (null means unset).")
def env(as_json: bool) -> None:
    """Print the shell exports that point the AWS CLI and boto3 at the sandbox server."""
    from labkit.sandbox.server import server_exports

    values = server_exports()
    if as_json:
        echo(json.dumps(values, indent=2))
        return
    for name, value in values.items():
        echo(f"unset {name}" if value is None else f"export {name}={shlex.quote(value)}")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="Print the listeners as JSON.")
def urls(as_json: bool) -> None:
    """List the sandbox server's load balancer listeners, Express services and tasks' public IPs with loopback URLs.

    An ECS Express service is listed as `LOOPBACK_URL  express service NAME  (https://ENDPOINT/)`: the
    loopback URL goes through the shared load balancer's rule for the service's host name.

    A task with a public IP and a port mapping is listed as `PUBLIC_URL -> LOOPBACK_URL`: the public
    IP is from a documentation range (nothing answers it), the loopback URL is the task's stand-in.
    """
    from labkit.sandbox.server import server_urls

    rows = server_urls()
    if as_json:
        echo(json.dumps(rows, indent=2))
        return
    if not rows:
        echo("no load balancer listener or task with a public IP yet")
    for row in rows:
        if row.get("kind") == "express":
            echo(f"{row['url']}  express service {row['service_name']}  ({row['public_url']})")
            continue
        if row.get("kind") == "task":
            task_id = str(row["task_arn"]).rsplit("/", 1)[-1]
            echo(f"{row['url']}  task {task_id} {row['container_name']}  ({row['public_url']})")
            continue
        echo(
            f"{row['url']}  {row['load_balancer_name']} {row['protocol']}:{row['port']}  ({row['dns_name']})"
        )


@sandbox.command()
@click.option("--topic", "topic_arn", default=None, help="Only e-mails of this topic ARN.")
@click.option("--endpoint", default=None, help="Only e-mails to this address.")
@click.option("--json", "as_json", is_flag=True, help="Print the e-mails as JSON.")
def outbox(topic_arn: str | None, endpoint: str | None, as_json: bool) -> None:
    """List the e-mails SNS email/email-json subscriptions received (the sandbox sends none)."""
    from labkit.sandbox.server import server_outbox

    messages = server_outbox(topic_arn, endpoint)
    if as_json:
        echo(json.dumps(messages, indent=2))
        return
    if not messages:
        echo("the outbox is empty")
    for message in messages:
        echo(
            f"{message['timestamp']}  to {message['endpoint']}  [{message['subject']}]  {message['message']}"
        )


@sandbox.command()
@click.argument("seconds", type=click.FloatRange(min=0))
def advance(seconds: float) -> None:
    """Move the sandbox server's clock forward by SECONDS."""
    from labkit.sandbox.server import advance_server

    clock = advance_server(seconds)
    echo(f"clock now {clock['now']}")


@sandbox.command()
def reset() -> None:
    """Forget everything in the sandbox server's account (the server keeps running)."""
    from labkit.sandbox.server import reset_server

    reset_server()
    echo("sandbox reset: the account is empty")


@sandbox.command()
@click.option("--cluster", default=None, help="Cluster of the service (default: default).")
@click.option("--service", default=None, help="Service to put CPU and memory demand on.")
@click.option(
    "--cpu",
    type=click.FloatRange(min=0),
    default=None,
    help="CPU units the service needs in all (1024 = 1 vCPU).",
)
@click.option("--memory", type=click.FloatRange(min=0), default=None, help="MiB the service needs in all.")
@click.option("--target-group", default=None, help="Target group (name or ARN) to send requests to.")
@click.option(
    "--requests-per-second",
    "--rps",
    "rps",
    type=click.FloatRange(min=0),
    default=None,
    help="Requests per second.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the load model as JSON.")
def load(
    cluster: str | None,
    service: str | None,
    cpu: float | None,
    memory: float | None,
    target_group: str | None,
    rps: float | None,
    as_json: bool,
) -> None:
    """Put load on a service or a target group of the sandbox server (no option: show the load)."""
    from labkit.sandbox.server import load_server

    given = {
        "cluster": cluster,
        "service": service,
        "cpu": cpu,
        "memory": memory,
        "target_group": target_group,
        "requests_per_second": rps,
    }
    model = load_server({k: v for k, v in given.items() if v is not None})
    if as_json:
        echo(json.dumps(model, indent=2))
        return
    if not model["services"] and not model["target_groups"]:
        echo("no load set: tasks are idle")
    for row in model["services"]:
        echo(
            f"service {row['cluster']}/{row['service']}: cpu {row['cpu']:g} units, memory {row['memory']:g} MiB"
        )
    for row in model["target_groups"]:
        echo(f"target group {row['name']}: {row['requests_per_second']:g} requests per second")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="Print the registry's description as JSON.")
def registry(as_json: bool) -> None:
    """Say where the sandbox server's container registry is and how to log in and push to it."""
    from labkit.registry import server_registry

    info = server_registry()
    if as_json:
        echo(json.dumps(info, indent=2))
        return
    echo(
        f"registry at {info['registry_host']} (plain HTTP on loopback; stands for {info['ecr_registry_host']})"
    )
    echo(f"tag images {info['tag_with']}  (ECR's repositoryUri is {info['stands_for']})")
    echo(f"log in:  {info['login']}")
    echo(f"push:    {info['push']}")
    echo(f"tokens last {info['token_hours']} hours of sandbox time")
