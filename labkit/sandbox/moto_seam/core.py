"""moto.core (and moto's application, state manager and backend registry): clocks, requests, accounts.

- moto stamps times with `moto.core.utils.utcnow`, which each service imports by name: the hook
  routes it through the active sandbox clock, and `rebind_utcnow()` rebinds modules loaded before.
- `backend()` / `loaded_backend()` are the one way labkit reaches a service's backend.
- `request_param()`, `request_params()`, `request_action()` read a request through moto's private
  response helpers (recorded, so the contract test covers them).
- `drop_account()` forgets one account in every service; `wsgi_application()` builds moto's app.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

from labkit.sandbox import clock as clocks
from labkit.sandbox.moto_seam.hooks import hook, uses

__all__ = [
    "GLOBAL_SERVICES",
    "SERVICES",
    "access_denied",
    "backend",
    "drop_account",
    "is_service_error",
    "loaded_backend",
    "models_only_sessions",
    "pin_task_transitions",
    "rebind_utcnow",
    "request_action",
    "request_param",
    "request_params",
    "service_error",
    "wsgi_application",
]

# -- the clock ------------------------------------------------------------------------------------


@hook("moto.core.utils", "utcnow", why="moto stamps times with utcnow: it must read the sandbox clock")
def _utcnow(original: Any) -> Any:
    return clocks.sandbox_utcnow


def rebind_utcnow() -> None:
    """Modules imported before the hook hold moto's utcnow by name: give them the sandbox-aware one."""
    import moto.core.utils as moto_utils

    replacement = moto_utils.utcnow
    original = getattr(replacement, "__labkit_original__", None)
    if original is None:
        return
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.") and getattr(module, "utcnow", None) is original:
            module.utcnow = replacement  # type: ignore[attr-defined]


# -- moto's own sessions (hermetic sandboxes) --------------------------------------------------------
# moto builds boto3/botocore sessions with no arguments only to read botocore's models (regions,
# partitions, service names). Such a session reads the caller's AWS_PROFILE and config files: a
# profile that does not exist made every request of an embedded sandbox fail. labkit binds sessions
# that read neither (`labkit.sandbox.hermetic`).


@hook("moto.core.base_backend", "Session", why="a backend's regions: read without the caller's AWS profile")
def _base_backend_session(original: Any) -> Any:
    from labkit.sandbox.hermetic import ModelSession

    return ModelSession


@hook(
    "moto.core.utils", "Session", why="service names of moto's errors: read without the caller's AWS profile"
)
def _utils_session(original: Any) -> Any:
    from labkit.sandbox.hermetic import model_botocore_session

    return model_botocore_session


@hook(
    "moto.ec2.models.availability_zones_and_regions",
    "Session",
    why="EC2's regions (read while the module is imported: see models_only_sessions)",
)
def _ec2_regions_session(original: Any) -> Any:
    from labkit.sandbox.hermetic import ModelSession

    return ModelSession


@contextlib.contextmanager
def models_only_sessions() -> Iterator[None]:
    """While moto's modules are imported, `boto3.Session` is the models-only one.

    One module calls `Session()` in a class body, at import time, before its hook can be installed.
    Afterwards a session moto cached from the caller's environment is forgotten.
    """
    import boto3

    from labkit.sandbox.hermetic import ModelSession

    real = boto3.Session
    boto3.Session = ModelSession  # type: ignore[misc]
    try:
        yield
    finally:
        boto3.Session = real  # type: ignore[misc]
    from moto.core.base_backend import AccountSpecificBackend

    AccountSpecificBackend.get_session.cache_clear()


uses(
    "moto.core.base_backend.AccountSpecificBackend", "get_session", why="moto caches its model session there"
)


# -- backends -------------------------------------------------------------------------------------

#: labkit's service names -> (moto module, BackendDict attribute).
SERVICES: dict[str, tuple[str, str]] = {
    name: (f"moto.{name}.models", f"{name}_backends")
    for name in (
        "acm",
        "applicationautoscaling",
        "autoscaling",
        "cloudwatch",
        "ec2",
        "ecr",
        "ecs",
        "elbv2",
        "events",
        "iam",
        "logs",
        "s3",
        "secretsmanager",
        "sns",
        "sqs",
        "ssm",
    )
}
#: Services moto keeps per partition, not per region (their backends are under "aws").
GLOBAL_SERVICES = frozenset({"iam", "s3"})

for _service, (_module, _attribute) in SERVICES.items():
    uses(_module, _attribute, why=f"labkit reads the {_service} backend of a sandbox's account")
uses(
    "moto.core.base_backend.BackendDict",
    "_instances",
    why="reset_account forgets one account in every service's BackendDict",
)


def _backend_dict(service: str) -> Any:
    import importlib

    try:
        module, attribute = SERVICES[service]
    except KeyError:
        raise ValueError(f"labkit does not reach moto's {service!r} backends") from None
    return getattr(importlib.import_module(module), attribute)


def backend(service: str, account_id: str, region: str) -> Any:
    """moto's backend of `service` for an account and region (created if new).

    For IAM and S3 (`GLOBAL_SERVICES`) the region is ignored: moto keeps them under "aws".
    Raises ValueError for a service labkit does not reach.
    """
    return _backend_dict(service)[account_id]["aws" if service in GLOBAL_SERVICES else region]


def loaded_backend(service: str, account_id: str, region: str) -> Any | None:
    """moto's backend of `service` for an account and region if it exists already (never creates one).

    Looking must not create a backend: moto builds a default VPC for a new EC2 backend, say.
    """
    module, attribute = SERVICES[service]
    loaded = sys.modules.get(module)
    if loaded is None:
        return None
    # dict.get bypasses BackendDict.__getitem__, which would create the account.
    account = dict.get(getattr(loaded, attribute), account_id)
    if account is None:
        return None
    return dict.get(account, "aws" if service in GLOBAL_SERVICES else region)


def drop_account(account_id: str) -> int:
    """Delete every moto backend of one account (all services, all regions); return how many went."""
    from moto.core.base_backend import BackendDict, backend_lock

    removed = 0
    with backend_lock:
        instances: list[Any] = list(BackendDict._instances)  # type: ignore[misc]
        unique = {id(b): b for b in instances}
        for backend_dict in unique.values():
            # dict.pop bypasses BackendDict.__getitem__, which would create the account.
            account_backend = dict.pop(backend_dict, account_id, None)
            if account_backend is not None:
                removed += len(account_backend)
    s3_models = sys.modules.get("moto.s3.models")
    if s3_models is not None:
        # moto keeps bucket names globally; a closed account's names must not point at it any more.
        owners = s3_models.s3_backends.bucket_accounts
        for name, (_, owner) in list(owners.items()):
            if owner == account_id:
                owners.pop(name, None)
    return removed


# -- requests -------------------------------------------------------------------------------------

_RESPONSE = "moto.core.responses.BaseResponse"
uses(_RESPONSE, "_get_param", ("self", "param_name", "if_none"), why="read one request parameter")
uses(_RESPONSE, "_get_params", ("self",), why="read every request parameter")
uses(_RESPONSE, "_get_action", ("self",), why="the API action a request names")
uses("moto.core.responses", "ActionResult", ("result",), why="a handler's answer, serialised by moto")


def request_param(response: Any, name: str, default: Any = None) -> Any:
    """One parameter of the request a moto response object is serving (`default` when absent)."""
    return response._get_param(name, default)


def request_params(response: Any) -> dict[str, Any]:
    """Every parameter of the request a moto response object is serving."""
    params: dict[str, Any] = response._get_params()
    return params


def request_action(response: Any) -> str:
    """The API action (`ListObjectsV2`, `RunTask`, ...) a moto response object is serving."""
    return str(response._get_action())


def action_result(result: dict[str, Any]) -> Any:
    """A handler's answer in the form moto serialises for the request's protocol."""
    from moto.core.responses import ActionResult

    return ActionResult(result)


# -- authorisation ---------------------------------------------------------------------------------


@hook(
    "moto.core.authorization.ActionAuthenticatorMixin",
    "_authenticate_and_authorize_action",
    ("self", "iam_request_cls", "resource"),
    why="requests signed with a task's credentials are authorised against its task role",
)
def authorize(original: Any) -> Any:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        sim = simulator_for(getattr(self, "current_account", ""))
        credentials = sim.workloads.credentials_for(self.headers) if sim is not None else None
        if sim is None or credentials is None:
            original(self, iam_request_cls, resource)
            return
        auth = str(self.headers.get("Authorization", ""))
        service = auth.split("Credential=", 1)[1].split("/")[3]
        sim.workloads.authorize(self, credentials, service, request_action(self))

    return handler


# -- errors ---------------------------------------------------------------------------------------

uses("moto.core.exceptions", "ServiceException", why="an AWS error with any code, in a service's model")
uses("moto.core.exceptions", "JsonRESTError", ("error_type", "message"), why="a JSON-protocol error")
uses("moto.core.exceptions", "_RESTError", ("error_type", "message"), why="SNS's query-protocol error")
uses("moto.s3.exceptions", "S3ClientError", why="S3's access-denied error")


def service_error(service_module: str, code: str, message: str) -> Exception:
    """An AWS error with `code` that moto answers in the shape of `service_module` (e.g. moto.ecr)."""
    from moto.core.exceptions import ServiceException

    # moto finds an error's service model from the module its class is defined in.
    kind = type(code, (ServiceException,), {"code": code, "__module__": f"{service_module}.exceptions"})
    error: Exception = kind(message)
    return error


def is_service_error(exc: BaseException) -> bool:
    """Is `exc` one of moto's AWS errors (an answer for the client), not a crash?"""
    from moto.core.exceptions import ServiceException
    from werkzeug.exceptions import HTTPException

    # moto's REST errors are werkzeug HTTP exceptions; its newer errors are ServiceExceptions.
    return isinstance(exc, ServiceException | HTTPException)


def json_error(code: str, message: str) -> Exception:
    """A JSON-protocol AWS error (`__type` code and message)."""
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError(code, message)


def access_denied(service: str, message: str) -> Exception:
    """AWS's access-denied error as each service words it."""
    from moto.core import exceptions as moto_exceptions

    if service == "s3":
        from moto.s3.exceptions import S3ClientError

        return S3ClientError("AccessDenied", message)
    if service == "sns":
        # SNS answers in the query protocol's XML, with its own code.
        error: Exception = moto_exceptions._RESTError("AuthorizationError", message)
        error.code = 403  # type: ignore[attr-defined]
        return error
    json_error = moto_exceptions.JsonRESTError(
        "AccessDenied" if service == "sqs" else "AccessDeniedException", message
    )
    if service == "sqs":
        json_error.code = 403
    return json_error


# -- the application ------------------------------------------------------------------------------

uses("moto.moto_api", "state_manager", why="pins moto's ECS task transitions")
uses(
    "moto.moto_api._internal.state_manager.StateManager",
    "set_transition",
    ("self", "model_name", "transition"),
    why="pins moto's ECS task transitions",
)
uses("moto.moto_server.werkzeug_app", "DomainDispatcherApplication", why="moto's WSGI application")
uses("moto.moto_server.werkzeug_app", "create_backend_app", why="moto's per-service apps")

# moto's ECS tasks walk RUNNING -> STOPPED one step per describe_tasks unless this is pinned;
# a sandbox's tasks change state only when labkit's simulator says so.
_PINNED_TRANSITIONS = {"ecs::task": {"progression": "manual", "times": 2**62}}


def pin_task_transitions() -> None:
    """Make moto's own state transitions manual (labkit's simulator moves tasks)."""
    from moto.moto_api import state_manager

    for model, transition in _PINNED_TRANSITIONS.items():
        state_manager.set_transition(model_name=model, transition=transition)


def wsgi_application() -> Any:
    """A new moto WSGI application (every service, dispatched by host and path)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)
