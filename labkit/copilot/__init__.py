"""Copilot, taught honestly: its manifests validated by its rules, and what it deploys, in a sandbox.

AWS Copilot CLI reached end of support on June 12, 2026 (aws/copilot-cli README); AWS points
its users to Amazon ECS Express Mode and to the AWS CDK. Copilot cannot run against the emulator
(its templates need Lambda-backed custom resources), so `labkit.copilot` reads a Copilot manifest
(`load_manifest`), validates it as Copilot does, and creates through the AWS API the resources
`copilot env deploy` and `copilot svc deploy` would (`deploy_environment`, `deploy`), lists them by
Copilot's tags (`show`) and deletes them in dependency order (`delete`).

    from labkit import copilot
    env = copilot.deploy_environment(lab.sandbox, "demo", "test")
    result = copilot.deploy(lab.sandbox, copilot.load_manifest("manifest.yml", env="test"), "demo", "test")
"""

from __future__ import annotations

from labkit.copilot.commands import format_deployment, format_resources
from labkit.copilot.deploy import (
    APP_TAG,
    ENV_TAG,
    SERVICE_TAG,
    CopilotError,
    CopilotResource,
    Deployment,
    Environment,
    delete,
    deploy,
    deploy_environment,
    find_environment,
    service_url,
    show,
)
from labkit.copilot.manifest import (
    Count,
    HealthCheck,
    Manifest,
    ManifestError,
    apply_environment,
    aws_schedule,
    load_manifest,
    parse_manifest,
    read_manifest,
)

__all__ = [
    "APP_TAG",
    "ENV_TAG",
    "SERVICE_TAG",
    "CopilotError",
    "CopilotResource",
    "Count",
    "Deployment",
    "Environment",
    "HealthCheck",
    "Manifest",
    "ManifestError",
    "apply_environment",
    "aws_schedule",
    "delete",
    "deploy",
    "deploy_environment",
    "find_environment",
    "format_deployment",
    "format_resources",
    "load_manifest",
    "parse_manifest",
    "read_manifest",
    "service_url",
    "show",
]
