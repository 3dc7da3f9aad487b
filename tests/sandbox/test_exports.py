"""What `labkit sandbox env` exports: the sandbox's own AWS config file holds the region and nothing else."""

from __future__ import annotations

import pytest

from labkit.errors import LabkitError
from labkit.sandbox.base import exports_for, sandbox_config_text


def test_the_config_file_names_the_region_and_no_secret() -> None:
    """The default profile's region and output; no key, token or profile of the caller."""
    text = sandbox_config_text("eu-west-1")
    assert "[default]\nregion = eu-west-1\noutput = json\n" in text
    for secret in (
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "role_arn",
        "credential_process",
    ):
        assert secret not in text


@pytest.mark.parametrize(
    "region", ["eu-west-1\ncredential_process = sh -c id", "../../etc", "", "EU-WEST-1", "x"]
)
def test_a_region_that_is_not_one_cannot_add_lines_to_the_file(region: str) -> None:
    """A region with a newline (or anything not a region name) is refused before anything is written."""
    with pytest.raises(LabkitError, match="not an AWS region name"):
        sandbox_config_text(region)


def test_exports_point_at_the_config_file_only_when_given() -> None:
    """Without a config file the CLI reads none (/dev/null); the credentials file is never read."""
    bare = exports_for("http://127.0.0.1:1", "us-east-1", {})
    assert bare["AWS_CONFIG_FILE"] == "/dev/null"
    given = exports_for(
        "http://127.0.0.1:1", "us-east-1", {"AWS_PROFILE": "real"}, config_file="/s/aws-config"
    )
    assert given["AWS_CONFIG_FILE"] == "/s/aws-config"
    assert given["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert given["AWS_PROFILE"] is None
