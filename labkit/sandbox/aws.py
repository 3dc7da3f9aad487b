"""`aws` mode: a real AWS account, behind guards.

Never by accident: the mode is used only when asked for by name; the account must be on the
allow-list of the user's labkit configuration and not on its block list (which wins); the region
comes from the configuration; `sts:GetCallerIdentity` is checked before anything else is sent.
Every resource the sandbox's clients create is tagged `labkit:session` and `labkit:lab` where the
API takes tags, so that clean-up can find exactly what this session made.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError
from botocore.model import OperationModel, Shape

from labkit.config import LabkitConfig, config_path, load_config
from labkit.errors import AccountNotAllowedError, ClockNotAvailableError, ConfigError
from labkit.sandbox.base import Sandbox, new_session_id
from labkit.sandbox.guards import EMULATED_KEY_PREFIX, CredentialsMismatchError, is_loopback_url

__all__ = ["EXPIRES_TAG", "LAB_TAG", "SESSION_TAG", "AwsSandbox", "session_tags_hook"]

SESSION_TAG = "labkit:session"
LAB_TAG = "labkit:lab"
#: When what the session made may be cleaned up by anyone (ISO 8601, UTC).
EXPIRES_TAG = "labkit:expires"
NO_LAB = "none"

# Operations that create something and may carry tags. Tagging calls themselves are excluded:
# tagging someone else's resource with our session would hand it to our clean-up.
_CREATING = re.compile(r"^(Create|Register|Run|Put|Allocate|Import|Request|Start|Submit|Copy)")
_NOT_CREATING = frozenset({"CreateTags", "TagResource", "AddTags", "AddTagsToResource", "PutTags"})

# EC2 takes tags as TagSpecifications with the resource type of what is created.
_EC2_RESOURCE_TYPES = {
    "AllocateAddress": "elastic-ip",
    "CreateInternetGateway": "internet-gateway",
    "CreateKeyPair": "key-pair",
    "CreateLaunchTemplate": "launch-template",
    "CreateNatGateway": "natgateway",
    "CreateNetworkInterface": "network-interface",
    "CreateRouteTable": "route-table",
    "CreateSecurityGroup": "security-group",
    "CreateSubnet": "subnet",
    "CreateVolume": "volume",
    "CreateVpc": "vpc",
    "CreateVpcEndpoint": "vpc-endpoint",
    "RunInstances": "instance",
}


def _tag_list(shape: Shape, tags: dict[str, str]) -> list[dict[str, Any]]:
    members = getattr(getattr(shape, "member", None), "members", {})
    key, value = ("key", "value") if "key" in members else ("Key", "Value")
    entries: list[dict[str, Any]] = []
    for k, v in tags.items():
        entry: dict[str, Any] = {key: k, value: v}
        if "PropagateAtLaunch" in members:
            entry["PropagateAtLaunch"] = True
        entries.append(entry)
    return entries


def _merge_list(existing: list[dict[str, Any]], ours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key_of(entry: dict[str, Any]) -> Any:
        return entry.get("key", entry.get("Key"))

    our_keys = {key_of(e) for e in ours}
    # Ours win: a learner's own tag cannot move a resource into or out of a session.
    return [e for e in existing if key_of(e) not in our_keys] + ours


def add_tags(params: dict[str, Any], operation: OperationModel, tags: dict[str, str]) -> bool:
    """Add `tags` to the parameters of a creating call, in the shape its API takes; return True if added."""
    name = operation.name
    if not _CREATING.match(name) or name in _NOT_CREATING or operation.input_shape is None:
        return False
    if name == "PutParameter" and params.get("Overwrite"):
        # SSM refuses tags together with Overwrite; the parameter was tagged when created.
        return False
    members = operation.input_shape.members
    if "TagSpecifications" in members and name in _EC2_RESOURCE_TYPES:
        resource_type = _EC2_RESOURCE_TYPES[name]
        specs = [dict(s) for s in params.get("TagSpecifications", [])]
        ours = [{"Key": k, "Value": v} for k, v in tags.items()]
        for spec in specs:
            if spec.get("ResourceType") == resource_type:
                spec["Tags"] = _merge_list(list(spec.get("Tags", [])), ours)
                break
        else:
            specs.append({"ResourceType": resource_type, "Tags": ours})
        params["TagSpecifications"] = specs
        return True
    for member in ("tags", "Tags"):
        if member not in members:
            continue
        shape = members[member]
        if shape.type_name == "map":
            params[member] = {**dict(params.get(member) or {}), **tags}
            return True
        if shape.type_name == "list":
            params[member] = _merge_list(list(params.get(member) or []), _tag_list(shape, tags))
            return True
    return False


def session_tags_hook(tags: dict[str, str]) -> Any:
    """Return a botocore `before-parameter-build` handler that tags what creating calls make."""

    def handler(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        add_tags(params, model, tags)

    return handler


def _refuse_emulated(core: botocore.session.Session) -> None:
    """Refuse an emulated sandbox's credentials, or an endpoint on this machine, before anything is sent."""
    credentials = core.get_credentials()
    if credentials is not None and str(credentials.access_key).startswith(EMULATED_KEY_PREFIX):
        raise CredentialsMismatchError(
            "aws", "the credentials are an emulated sandbox's (AKIALABKIT...), not a real account's"
        )
    endpoints = [os.environ.get("AWS_ENDPOINT_URL")]
    endpoints += [v for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL_")]
    # A profile that does not exist fails later, at sts:GetCallerIdentity, with its reason.
    with contextlib.suppress(BotoCoreError):
        endpoints.append(core.get_scoped_config().get("endpoint_url"))
    for endpoint in endpoints:
        if not endpoint or not is_loopback_url(str(endpoint)):
            continue
        raise CredentialsMismatchError(
            "aws",
            f"the AWS endpoint is set to {endpoint}, an emulator on this machine (unset AWS_ENDPOINT_URL)",
        )


class AwsSandbox(Sandbox):
    """A real AWS account that passed the guards.

    `session_id` continues an earlier session (its resources carry that tag); by default a new one.
    Raises `AccountNotAllowedError` (nothing mutating was sent) when the configuration allows no
    account, the account is block-listed or not allow-listed, its identity cannot be confirmed, or
    an alias of the account contains `prod`; `CredentialsMismatchError` (nothing sent at all) when
    the credentials are an emulated sandbox's or the endpoint is an emulator on this machine;
    `ConfigError` when the configuration names no region.
    """

    mode = "aws"

    def __init__(
        self,
        *,
        lab: str | None = None,
        config: LabkitConfig | None = None,
        botocore_session: botocore.session.Session | None = None,
        session_id: str | None = None,
    ) -> None:
        config = config or load_config()
        where = str(config.path or config_path())
        settings = config.aws
        if not settings.allowed_accounts:
            raise AccountNotAllowedError(
                None, f"no account is allow-listed; add its id to aws.allowed_accounts in {where}"
            )
        if not settings.region:
            raise ConfigError(where, "aws.region is required for aws mode")
        self.region = settings.region
        self.lab = lab
        # A lab reopened after a kernel restart continues its session (and so its tags).
        self.session_id = session_id or new_session_id()
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.expires_hours)
        self.expires_at = expires.replace(microsecond=0)
        self.tags = {
            SESSION_TAG: self.session_id,
            LAB_TAG: lab or NO_LAB,
            EXPIRES_TAG: self.expires_at.isoformat().replace("+00:00", "Z"),
        }
        core = botocore_session or botocore.session.Session(profile=settings.profile)
        _refuse_emulated(core)
        core.set_config_variable("region", self.region)
        core.register("before-parameter-build", session_tags_hook(self.tags), unique_id="labkit-session-tags")
        self._session = boto3.Session(botocore_session=core, region_name=self.region)
        self.account_id = self._confirm_account(settings.allowed_accounts, settings.blocked_accounts)

    def _confirm_account(self, allowed: tuple[str, ...], blocked: tuple[str, ...]) -> str:
        try:
            identity = self._session.client("sts").get_caller_identity()
        except (BotoCoreError, ClientError) as exc:
            raise AccountNotAllowedError(
                None, f"sts:GetCallerIdentity failed, so the account cannot be confirmed ({exc})"
            ) from exc
        account = str(identity.get("Account", ""))
        if account in blocked:
            raise AccountNotAllowedError(account, "it is on aws.blocked_accounts")
        if account not in allowed:
            raise AccountNotAllowedError(account, "it is not on aws.allowed_accounts")
        try:
            aliases = self._session.client("iam").list_account_aliases().get("AccountAliases", [])
        except (BotoCoreError, ClientError) as exc:
            # Fail closed: an account whose aliases cannot be read might be a production one.
            raise AccountNotAllowedError(
                account, f"iam:ListAccountAliases failed, so the account's aliases cannot be checked ({exc})"
            ) from exc
        for alias in aliases:
            if "prod" in str(alias).lower():
                raise AccountNotAllowedError(account, f"its alias {alias!r} contains 'prod'")
        return account

    @property
    def session(self) -> boto3.Session:
        return self._session

    @property
    def endpoint_url(self) -> None:
        return None

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def advance(self, seconds: float) -> dt.datetime:
        raise ClockNotAvailableError(self.mode)

    def close(self) -> None:
        return None
