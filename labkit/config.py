"""The user's labkit configuration (a TOML file) and the folders labkit keeps state in.

The file is `$LABKIT_CONFIG`, else `$XDG_CONFIG_HOME/labkit/config.toml`, else
`~/.config/labkit/config.toml`. It is optional: without it every emulated mode works, and `aws`
mode is refused (no account is allow-listed). Example::

    region = "eu-west-1"            # region of emulated sandboxes (default us-east-1)

    [aws]
    allowed_accounts = ["123456789012"]
    blocked_accounts = []            # wins over allowed_accounts
    region = "eu-west-1"             # required for aws mode
    profile = "course"               # optional named profile for aws mode
    expires_hours = 4                # what a session makes is tagged labkit:expires this far ahead
    confirm_cost = false             # true: accept the cost preflight without asking
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import ConfigError

__all__ = ["AwsSettings", "LabkitConfig", "config_path", "load_config", "state_dir"]

DEFAULT_REGION = "us-east-1"
_ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class AwsSettings:
    """What `aws` mode may touch: the allow-list, the block list, the region and an optional profile."""

    allowed_accounts: tuple[str, ...] = ()
    blocked_accounts: tuple[str, ...] = ()
    region: str | None = None
    profile: str | None = None
    expires_hours: float = 4.0
    confirm_cost: bool = False


@dataclass(frozen=True)
class LabkitConfig:
    """The whole configuration; `path` is where it was read from (None when no file exists)."""

    region: str = DEFAULT_REGION
    aws: AwsSettings = field(default_factory=AwsSettings)
    path: Path | None = None


def config_path() -> Path:
    """Return where the configuration file is looked for."""
    explicit = os.environ.get("LABKIT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "labkit" / "config.toml"


def state_dir() -> Path:
    """Return (and create) the folder for server state and progress: `$LABKIT_STATE_DIR` or XDG state."""
    explicit = os.environ.get("LABKIT_STATE_DIR")
    if explicit:
        path = Path(explicit)
    else:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        path = Path(base) / "labkit"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _accounts(path: Path, raw: Any, key: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(str(path), f"aws.{key} must be a list of 12-digit account ids")
    accounts = []
    for item in raw:
        text = str(item)
        if not _ACCOUNT_ID.match(text):
            raise ConfigError(str(path), f"aws.{key} has {item!r}, which is not a 12-digit account id")
        accounts.append(text)
    return tuple(accounts)


def _optional_str(path: Path, raw: Any, key: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise ConfigError(str(path), f"{key} must be a non-empty string")
    return raw


def _positive(path: Path, raw: Any, key: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise ConfigError(str(path), f"{key} must be a number of hours above 0")
    return float(raw)


def _flag(path: Path, raw: Any, key: str) -> bool:
    if not isinstance(raw, bool):
        raise ConfigError(str(path), f"{key} must be true or false")
    return raw


def load_config(path: Path | None = None) -> LabkitConfig:
    """Read the configuration file; a missing file gives the defaults.

    Raises `ConfigError` naming the file when it is not valid TOML or a setting has the wrong shape.
    """
    path = path or config_path()
    if not path.exists():
        return LabkitConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(str(path), f"cannot be read: {exc}") from exc
    aws_raw = data.get("aws", {})
    if not isinstance(aws_raw, dict):
        raise ConfigError(str(path), "[aws] must be a table")
    aws = AwsSettings(
        allowed_accounts=_accounts(path, aws_raw.get("allowed_accounts"), "allowed_accounts"),
        blocked_accounts=_accounts(path, aws_raw.get("blocked_accounts"), "blocked_accounts"),
        region=_optional_str(path, aws_raw.get("region"), "aws.region"),
        profile=_optional_str(path, aws_raw.get("profile"), "aws.profile"),
        expires_hours=_positive(path, aws_raw.get("expires_hours", 4.0), "aws.expires_hours"),
        confirm_cost=_flag(path, aws_raw.get("confirm_cost", False), "aws.confirm_cost"),
    )
    region = _optional_str(path, data.get("region"), "region") or DEFAULT_REGION
    return LabkitConfig(region=region, aws=aws, path=path)
