"""The moto seam: every place labkit touches moto's internals, in one subpackage.

One module per moto service, named as moto names it (`ecs`, with Express Mode's actions in
`ecs_express` and Managed Instances in `ecs_managed_instances`, `elbv2`, `ec2`, `autoscaling`,
`applicationautoscaling`, `cloudwatch`, `events`, `s3`, `sns`, `sqs`, `iam`, `ecr`, `ssm`,
`codedeploy`; `core` for
moto.core, the clock, authorisation, moto's application and backends). Each records its hooks in
`hooks.TABLE` (target, the parameters labkit expects, a wrapper factory, why); `install()` checks
every target against the installed moto and patches all or none, raising `MotoSeamError` naming each
mismatch. `backend()` is the one way to reach a service's backend. No labkit module outside this
package imports moto or calls moto's private members.

What stays outside, on purpose: the simulator and the registry read and change moto's model objects
through their public attributes (a service's events, a task's status, a repository's images: that
is their job), `simulator.workloads` reads the public `headers`, `uri`, `path` and `querystring` of
the moto response it authorises, and `registry.ecr` keeps labkit's own blob list in a repository's
`__dict__`.
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING, Any

from labkit.sandbox.moto_seam import hooks
from labkit.sandbox.moto_seam.core import (
    access_denied,
    action_result,
    backend,
    drop_account,
    is_service_error,
    loaded_backend,
    request_action,
    request_param,
    request_params,
    wsgi_application,
)
from labkit.sandbox.moto_seam.hooks import TABLE, Hook, MotoSeamError, moto_version

if TYPE_CHECKING:
    from labkit.sandbox.moto_seam import cloudwatch, ecr, ecs, events, iam, ssm

__all__ = [
    "SERVICE_MODULES",
    "TABLE",
    "Hook",
    "MotoSeamError",
    "access_denied",
    "action_result",
    "backend",
    "check",
    "cloudwatch",
    "drop_account",
    "ecr",
    "ecs",
    "events",
    "iam",
    "install",
    "is_service_error",
    "load",
    "loaded_backend",
    "moto_version",
    "problems",
    "request_action",
    "request_param",
    "request_params",
    "ssm",
    "table",
    "wsgi_application",
]

#: The seam's modules, one per moto service (importing one records its hooks).
SERVICE_MODULES = (
    "core",
    "ecs",
    "ecs_express",
    "ecs_managed_instances",
    "elbv2",
    "ec2",
    "autoscaling",
    "applicationautoscaling",
    "cloudwatch",
    "events",
    "sns",
    "s3",
    "sqs",
    "iam",
    "ecr",
    "ssm",
    "codedeploy",
)

_lock = threading.Lock()


def __getattr__(name: str) -> Any:
    # A service module is imported when first used (`moto_seam.ecs.new_task(...)`): importing them
    # all here would make a circle with the simulator modules they call into.
    if name in SERVICE_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load() -> None:
    """Import every service module of the seam, so that `TABLE` holds every hook (moto is not imported)."""
    for name in SERVICE_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def table() -> list[Hook]:
    """Every recorded hook and private helper labkit uses."""
    load()
    return list(TABLE)


def problems() -> list[str]:
    """Every mismatch between the recorded targets and the installed moto, without patching anything."""
    load()
    return hooks.problems()


check = problems


def install() -> None:
    """Hook moto for labkit's sandboxes: every hook or none (idempotent, thread-safe).

    Raises `MotoSeamError` (naming each target that does not match and the moto version) when the
    installed moto lacks something labkit hooks; nothing is patched then.
    """
    from labkit.sandbox.moto_seam import core

    with _lock:
        # moto's modules are imported (to check and patch them) blind to the caller's AWS profile.
        with core.models_only_sessions():
            load()
            hooks.install()

        core.rebind_utcnow()
        core.pin_task_transitions()
        from labkit.dataplane.images import register_image_resolver
        from labkit.registry import ecr

        # A task whose image was pushed to the sandbox registry runs what that image stands for.
        register_image_resolver(ecr.pushed_image_stands_for)
