"""The user's labkit configuration file."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.config import DEFAULT_REGION, load_config
from labkit.errors import ConfigError


def test_a_missing_file_gives_the_defaults(labkit_home: Path) -> None:
    """No file: emulated region us-east-1 and no account allowed in aws mode."""
    config = load_config()
    assert config.region == DEFAULT_REGION
    assert config.aws.allowed_accounts == ()
    assert config.path is None


def test_a_full_file_is_read(labkit_home: Path) -> None:
    """Every setting of the documented example is read."""
    (labkit_home / "config.toml").write_text(
        'region = "eu-west-1"\n[aws]\nallowed_accounts = ["111122223333"]\n'
        'blocked_accounts = ["444455556666"]\nregion = "eu-central-1"\nprofile = "course"\n'
    )
    config = load_config()
    assert config.region == "eu-west-1"
    assert config.aws.allowed_accounts == ("111122223333",)
    assert config.aws.blocked_accounts == ("444455556666",)
    assert config.aws.region == "eu-central-1"
    assert config.aws.profile == "course"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[aws\n", "cannot be read"),
        ('[aws]\nallowed_accounts = "111122223333"\n', "must be a list"),
        ('[aws]\nallowed_accounts = ["1234"]\n', "not a 12-digit account id"),
        ("aws = 3\n", "must be a table"),
        ("region = 4\n", "non-empty string"),
    ],
)
def test_a_bad_file_is_a_config_error_naming_it(labkit_home: Path, text: str, problem: str) -> None:
    """Invalid TOML or a wrongly shaped setting raises ConfigError with the path and the problem."""
    path = labkit_home / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert str(path) in str(caught.value)
    assert problem in str(caught.value)
