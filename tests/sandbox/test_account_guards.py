"""Account guards: refused accounts and mismatched credentials never get a mutating call sent.

Every case runs against `labkit.testing.FakeAws`, which records each request a client tried to send.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import labkit
from labkit.sandbox.aws import EXPIRES_TAG, SESSION_TAG
from labkit.sandbox.guards import FAKE_ACCESS_KEY_ID, CredentialsMismatchError
from labkit.testing import FakeAws

ALLOWED = "111122223333"
BLOCKED = "444455556666"


def configure(home: Path, *, allowed: list[str], blocked: list[str] | None = None) -> None:
    lines = [
        "[aws]",
        "allowed_accounts = [" + ", ".join(f'"{a}"' for a in allowed) + "]",
        'region = "us-east-1"',
    ]
    if blocked:
        lines.append("blocked_accounts = [" + ", ".join(f'"{a}"' for a in blocked) + "]")
    (home / "config.toml").write_text("\n".join(lines) + "\n")


def test_an_account_not_allow_listed_is_refused(labkit_home: Path) -> None:
    """An account missing from aws.allowed_accounts is refused after STS alone."""
    configure(labkit_home, allowed=[ALLOWED])
    fake = FakeAws(account_id="999999999999")
    with pytest.raises(labkit.AccountNotAllowedError, match=r"not on aws\.allowed_accounts"):
        labkit.open_sandbox("aws", botocore_session=fake.session())
    assert fake.operations == ["GetCallerIdentity"]
    assert fake.mutating == []


def test_the_block_list_wins_over_the_allow_list(labkit_home: Path) -> None:
    """An account on both lists is refused."""
    configure(labkit_home, allowed=[ALLOWED, BLOCKED], blocked=[BLOCKED])
    fake = FakeAws(account_id=BLOCKED)
    with pytest.raises(labkit.AccountNotAllowedError, match="blocked_accounts"):
        labkit.open_sandbox("aws", botocore_session=fake.session())
    assert fake.mutating == []


@pytest.mark.parametrize("alias", ["acme-prod", "PRODUCTION", "team-preprod-1"])
def test_an_account_alias_containing_prod_is_refused(labkit_home: Path, alias: str) -> None:
    """An allow-listed account whose alias (iam:ListAccountAliases) contains 'prod' is refused."""
    configure(labkit_home, allowed=[ALLOWED])
    fake = FakeAws(account_id=ALLOWED, account_aliases=[alias])
    with pytest.raises(labkit.AccountNotAllowedError, match="contains 'prod'"):
        labkit.open_sandbox("aws", botocore_session=fake.session())
    assert fake.operations == ["GetCallerIdentity", "ListAccountAliases"]
    assert fake.mutating == []


def test_a_sandbox_alias_is_accepted_and_tags_carry_an_expiry(labkit_home: Path) -> None:
    """An alias without 'prod' passes, and the session's tags include labkit:expires."""
    configure(labkit_home, allowed=[ALLOWED])
    fake = FakeAws(account_id=ALLOWED, account_aliases=["course-sandbox"])
    with labkit.open_sandbox("aws", botocore_session=fake.session()) as sb:
        assert sb.tags[SESSION_TAG] == sb.session_id
        assert sb.tags[EXPIRES_TAG].endswith("Z")
        sb.client("ecs").create_cluster(clusterName="c")
    sent = fake.mutating[0].params
    assert {"key": EXPIRES_TAG, "value": sb.tags[EXPIRES_TAG]} in sent["tags"]


def test_emulated_credentials_are_refused_in_aws_mode(labkit_home: Path) -> None:
    """The emulated sandboxes' fake keys in aws mode are refused before anything is sent."""
    configure(labkit_home, allowed=[ALLOWED])
    fake = FakeAws(account_id=ALLOWED)
    core = fake.session()
    core.set_credentials(FAKE_ACCESS_KEY_ID, "labkit-sandbox-fake-secret-key-0000000000")
    with pytest.raises(CredentialsMismatchError, match="emulated sandbox's"):
        labkit.open_sandbox("aws", botocore_session=core)
    assert fake.requests == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:5000",
        "http://127.1:5000",
        "http://0x7f000001:5000",
        "http://2130706433:5000",
        "http://0177.0.0.1:5000",
        "http://[::ffff:127.0.0.1]:5000",
        "http://[::1]:5000",
        "http://localhost.:5000",
        "http://LOCALHOST:5000",
        "http://0.0.0.0:5000",
    ],
)
def test_an_endpoint_on_this_machine_is_refused_in_aws_mode(
    labkit_home: Path, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    """AWS_ENDPOINT_URL pointing at a local emulator, in any textual form, makes aws mode refuse."""
    configure(labkit_home, allowed=[ALLOWED])
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    fake = FakeAws(account_id=ALLOWED)
    with pytest.raises(CredentialsMismatchError, match="emulator on this machine"):
        labkit.open_sandbox("aws", botocore_session=fake.session())
    assert fake.requests == []


@pytest.mark.parametrize("mode", ["embedded", "server", "workshop"])
@pytest.mark.parametrize("option", ["profile", "aws_access_key_id", "botocore_session"])
def test_a_profile_or_credentials_are_refused_in_an_emulated_mode(mode: str, option: str) -> None:
    """Real-looking credentials or a profile given to an emulated mode are refused; nothing is sent."""
    fake = FakeAws(account_id=ALLOWED)
    value = (
        fake.session()
        if option == "botocore_session"
        else "AKIAREALLOOKING12345"
        if option != "profile"
        else "work"
    )
    with pytest.raises(CredentialsMismatchError, match=option):
        labkit.open_sandbox(mode, **{option: value})
    assert fake.requests == []


def test_a_workshop_connection_with_real_looking_keys_is_refused(tmp_path: Path) -> None:
    """A workshop connection file whose access key is not a workshop's is refused."""
    path = tmp_path / "me.json"
    path.write_text(
        '{"workshop_url": "http://127.0.0.1:1", "region": "us-east-1", "learner": "me", "account_id": "123456789013",'
        ' "session_id": "lk-1", "access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "x", "token": "t"}'
    )
    with pytest.raises(CredentialsMismatchError, match="not a workshop's"):
        labkit.open_sandbox("workshop", connection=path)


def test_the_cost_preflight_refuses_without_confirmation_and_creates_nothing(
    labkit_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """open_lab in aws mode prints the estimate and, with no terminal and no flag, refuses with no mutating call."""
    configure(labkit_home, allowed=[ALLOWED])
    fake = FakeAws(account_id=ALLOWED)
    with pytest.raises(labkit.LabkitError, match="was not started in aws mode"):
        labkit.open_lab("nginx-alb", mode="aws", botocore_session=fake.session())
    out = capsys.readouterr().out
    assert "application load balancer" in out
    assert "3 Fargate task(s) of 0.25 vCPU and 0.5 GB" in out
    assert fake.mutating == []
