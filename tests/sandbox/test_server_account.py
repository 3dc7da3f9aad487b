"""A server sandbox under a chosen account id (`--account-id`): only a 12-digit id, and nothing opens up."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from labkit.errors import LabkitError
from labkit.sandbox.control import ControlClient
from labkit.sandbox.server import checked_account_id, start_server, stop_server

MOTO_DEFAULT = "123456789012"


@pytest.mark.parametrize(
    "value",
    ["", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢", "123456789012\n", " 123456789012",
     "../123456789", "123456789012;rm", "-12345678901"],
)  # fmt: skip
def test_only_twelve_ascii_digits_are_an_account_id(value: str) -> None:
    """Anything but exactly 12 ASCII digits is refused with a message saying what an account id is."""
    with pytest.raises(LabkitError, match="exactly 12 digits"):
        checked_account_id(value)


def test_start_server_refuses_a_bad_account_id_before_spawning(tmp_path: Path) -> None:
    """No process starts and no state file is written for a bad id."""
    with pytest.raises(LabkitError, match="exactly 12 digits"):
        start_server(clock="manual", account_id="1234", path=tmp_path / "server.json")
    assert not (tmp_path / "server.json").exists()


def test_the_server_command_refuses_a_bad_account_id() -> None:
    """`python -m labkit.sandbox.server --account-id x` exits with a usage error, not a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "labkit.sandbox.server", "--account-id", "not-an-account"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "exactly 12 digits" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_server_under_moto_default_account_keeps_moto_api_closed(tmp_path: Path) -> None:
    """The account is the one asked for (STS agrees), and moto's unauthenticated reset is still 404."""
    state = tmp_path / "server.json"
    info = start_server(clock="manual", region="us-east-1", account_id=MOTO_DEFAULT, path=state)
    try:
        assert info.account_id == MOTO_DEFAULT
        sts = boto3.client(
            "sts", region_name="us-east-1", endpoint_url=info.endpoint_url,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        assert sts.get_caller_identity()["Account"] == MOTO_DEFAULT
        for path in ("/moto-api/reset", "/moto-api/reset-auth", "/moto-api/data.json"):
            request = urllib.request.Request(info.endpoint_url + path, data=b"{}", method="POST")
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(request, timeout=10)
            assert refused.value.code == 404
        # The control endpoints still want the token: a wrong one cannot reset the account.
        with pytest.raises(LabkitError):
            ControlClient(info.endpoint_url, "not-the-token").reset()
    finally:
        stop_server(state)
