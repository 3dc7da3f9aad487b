"""The sandbox's container registry: the OCI Distribution API over the account's ECR repositories.

- `labkit.registry.app`: the `/v2/` WSGI application the emulator serves;
- `labkit.registry.ecr`: ECR's rules on moto's repositories (digests, tags, immutability, scans,
  lifecycle policies on the sandbox clock);
- `labkit.registry.lifecycle`: lifecycle policy validation and evaluation (pure);
- `labkit.registry.scanning`: simulated basic scanning;
- `labkit.registry.client`: a small registry client (push an OCI layout, pull, list tags), the
  fallback where skopeo is not installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["registry_info", "server_registry"]


def registry_info(endpoint_url: str, account_id: str, region: str) -> dict[str, Any]:
    """How to reach an emulated sandbox's registry: its host, ECR's host it stands for, the login command."""
    from urllib.parse import urlsplit

    host = urlsplit(endpoint_url).netloc
    ecr_host = f"{account_id}.dkr.ecr.{region}.amazonaws.com"
    return {
        "registry_host": host,
        "ecr_registry_host": ecr_host,
        "tag_with": f"{host}/<repository>:<tag>",
        "stands_for": f"{ecr_host}/<repository>:<tag>",
        "login": f"aws ecr get-login-password | skopeo login --username AWS --password-stdin --tls-verify=false {host}",
        "push": f"skopeo copy --dest-tls-verify=false oci:<layout>:<tag> docker://{host}/<repository>:<tag>",
        "token_hours": 12,
    }


def server_registry() -> dict[str, Any]:
    """`registry_info` of the running sandbox server; raises `SandboxNotRunningError` when none runs."""
    from labkit.errors import SandboxNotRunningError
    from labkit.sandbox.server import running_server

    info = running_server()
    if info is None:
        raise SandboxNotRunningError("`labkit sandbox registry` describes the running server's registry")
    return registry_info(info.endpoint_url, info.account_id, info.region)
