"""The `labkit copilot` verbs as library calls: each opens the running sandbox and does one thing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.copilot.deploy import (
    CopilotResource,
    Deployment,
    Environment,
    delete,
    deploy,
    deploy_environment,
    show,
)
from labkit.copilot.manifest import Manifest, load_manifest
from labkit.sandbox import Sandbox, open_sandbox

__all__ = [
    "delete_in_sandbox",
    "deploy_environment_in_sandbox",
    "deploy_in_sandbox",
    "format_deployment",
    "format_resources",
    "show_in_sandbox",
    "validate_file",
]


def validate_file(path: Path, env: str | None = None) -> Manifest:
    """Read and validate a manifest file (with `env`'s overrides); raises `ManifestError`."""
    return load_manifest(Path(path), env=env)


def _open(mode: str) -> Sandbox:
    if mode == "server":
        from labkit.sandbox.server import running_server

        if running_server() is None:
            from labkit.errors import SandboxNotRunningError

            raise SandboxNotRunningError("`labkit copilot` deploys to the running sandbox server")
    return open_sandbox(mode, lab="copilot")


def deploy_environment_in_sandbox(app: str, env: str, mode: str = "server") -> Environment:
    """`copilot env deploy` in the running sandbox (or the allow-listed AWS account)."""
    with _open(mode) as sandbox:
        return deploy_environment(sandbox, app, env)


def deploy_in_sandbox(
    path: Path, app: str, env: str, mode: str = "server", *, wait: bool = True
) -> Deployment:
    """Validate a manifest for `env` and deploy it (`copilot svc deploy`); raises `ManifestError`, `CopilotError`."""
    manifest = validate_file(path, env)
    with _open(mode) as sandbox:
        return deploy(sandbox, manifest, app, env, wait=wait)


def show_in_sandbox(
    app: str | None = None, env: str | None = None, name: str | None = None, mode: str = "server"
) -> list[CopilotResource]:
    """What Copilot's tags tie to `app` (every application when None) in the running sandbox."""
    with _open(mode) as sandbox:
        return show(sandbox, app, env, name)


def delete_in_sandbox(
    app: str, env: str | None = None, name: str | None = None, mode: str = "server"
) -> list[CopilotResource]:
    """Delete a workload, an environment or a whole application, in dependency order."""
    with _open(mode) as sandbox:
        return delete(sandbox, app, env, name)


def format_resources(resources: list[CopilotResource]) -> str:
    """One line per resource: kind, name, environment, service."""
    if not resources:
        return "no resources carry Copilot's tags"
    rows = [(r.kind, r.name, r.environment or "-", r.service or "-") for r in resources]
    widths = [max(len(row[i]) for row in [*rows, ("KIND", "NAME", "ENV", "SERVICE")]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(("KIND", "NAME", "ENV", "SERVICE"), widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def format_deployment(result: Deployment) -> str:
    """What a deploy made, in a few lines."""
    manifest = result.manifest
    lines = [
        f"deployed {manifest.type} {manifest.name} to {result.environment.app}/{result.environment.name}"
    ]
    facts: list[tuple[str, Any]] = [
        ("task definition", result.task_definition_arn),
        ("service", result.service_arn),
        ("target group", result.target_group_arn),
        (
            "listener rule",
            result.listener_rule_arn and f"{' '.join(manifest.path_patterns)} ({result.listener_rule_arn})",
        ),
        ("scalable target", result.scalable_target),
        ("scaling policies", ", ".join(p.rsplit("/", 1)[-1] for p in result.scaling_policies) or None),
        ("schedule", result.rule_arn and f"{manifest.aws_schedule} ({result.rule_arn})"),
        ("queue", result.queue_url),
        (
            "repository",
            result.repository_uri and f"{result.repository_uri} (labkit builds no image: push one)",
        ),
        ("url", result.url),
    ]
    lines += [f"  {label:<17}{value}" for label, value in facts if value]
    return "\n".join(lines)
