"""`aws` mode: refused unless the account is allow-listed, and everything it creates is tagged.

No test reaches the internet: `labkit.testing.FakeAws` answers every request in-process.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import labkit
from labkit.sandbox.aws import EXPIRES_TAG, LAB_TAG, SESSION_TAG, AwsSandbox
from labkit.testing import FakeAws

ALLOWED = "111122223333"
BLOCKED = "444455556666"


def write_config(
    path: Path, *, allowed: list[str], blocked: list[str] | None = None, region: str | None = "eu-west-1"
) -> None:
    lines = ["[aws]", f"allowed_accounts = {allowed!r}".replace("'", '"')]
    if blocked is not None:
        lines.append(f"blocked_accounts = {blocked!r}".replace("'", '"'))
    if region:
        lines.append(f'region = "{region}"')
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def config_file(labkit_home: Path) -> Path:
    return labkit_home / "config.toml"


class TestRefusals:
    def test_no_allow_list_refuses_before_any_request(self, config_file: Path) -> None:
        """Without an allow-list, aws mode is refused and not even STS is called."""
        fake = FakeAws(account_id=ALLOWED)
        with pytest.raises(labkit.AccountNotAllowedError, match="no account is allow-listed"):
            labkit.open_sandbox("aws", botocore_session=fake.session())
        assert fake.requests == []

    def test_an_account_not_on_the_allow_list_is_refused(self, config_file: Path) -> None:
        """An account other than the allow-listed ones is refused after STS, with zero mutating calls."""
        write_config(config_file, allowed=[ALLOWED])
        fake = FakeAws(account_id="999999999999")
        with pytest.raises(labkit.AccountNotAllowedError) as caught:
            labkit.open_sandbox("aws", botocore_session=fake.session())
        assert caught.value.account_id == "999999999999"
        assert "not on aws.allowed_accounts" in str(caught.value)
        assert fake.operations == ["GetCallerIdentity"]
        assert fake.mutating == []

    def test_the_block_list_wins_over_the_allow_list(self, config_file: Path) -> None:
        """An account on both lists is refused."""
        write_config(config_file, allowed=[ALLOWED, BLOCKED], blocked=[BLOCKED])
        fake = FakeAws(account_id=BLOCKED)
        with pytest.raises(labkit.AccountNotAllowedError, match="blocked_accounts"):
            labkit.open_sandbox("aws", botocore_session=fake.session())
        assert fake.mutating == []

    def test_an_identity_that_cannot_be_confirmed_is_refused(self, config_file: Path) -> None:
        """When STS rejects the credentials, the sandbox is refused with the reason."""
        write_config(config_file, allowed=[ALLOWED])
        fake = FakeAws(account_id=ALLOWED, sts_fails=True)
        with pytest.raises(labkit.AccountNotAllowedError, match="GetCallerIdentity failed"):
            labkit.open_sandbox("aws", botocore_session=fake.session())
        assert fake.mutating == []

    def test_a_region_is_required(self, config_file: Path) -> None:
        """aws mode takes its region from the configuration and refuses to guess."""
        write_config(config_file, allowed=[ALLOWED], region=None)
        with pytest.raises(labkit.ConfigError, match=r"aws\.region is required"):
            labkit.open_sandbox("aws", botocore_session=FakeAws().session())

    def test_aws_mode_has_no_clock(self, config_file: Path) -> None:
        """Asking for a clock in aws mode is an error, not a silent no-op."""
        write_config(config_file, allowed=[ALLOWED])
        with pytest.raises(labkit.ClockNotAvailableError):
            labkit.open_sandbox("aws", clock="manual", botocore_session=FakeAws().session())

    def test_aws_is_never_the_default(self, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Even with an allow-list and AWS credentials in the environment, the default is embedded."""
        write_config(config_file, allowed=[ALLOWED])
        monkeypatch.setenv("AWS_PROFILE", "real")
        with labkit.open_sandbox(clock="manual") as sb:
            assert sb.mode == "embedded"


class TestAllowedAccount:
    @pytest.fixture
    def sandbox(self, config_file: Path) -> tuple[AwsSandbox, FakeAws]:
        write_config(config_file, allowed=[ALLOWED])
        fake = FakeAws(account_id=ALLOWED)
        sb = labkit.open_sandbox("aws", lab="nginx-alb", botocore_session=fake.session())
        assert isinstance(sb, AwsSandbox)
        return sb, fake

    def test_an_allowed_account_opens_with_the_configured_region(
        self, sandbox: tuple[AwsSandbox, FakeAws]
    ) -> None:
        """The sandbox knows its account from STS and its region from the configuration."""
        sb, fake = sandbox
        assert sb.account_id == ALLOWED
        assert sb.region == "eu-west-1"
        assert sb.endpoint_url is None
        assert fake.operations == ["GetCallerIdentity", "ListAccountAliases"]
        with pytest.raises(labkit.ClockNotAvailableError):
            sb.advance(10)

    def test_ecs_resources_get_the_session_and_lab_tags(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """create_cluster carries labkit:session and labkit:lab as ECS's key/value tags, beside the learner's."""
        sb, fake = sandbox
        sb.client("ecs").create_cluster(clusterName="c", tags=[{"key": "owner", "value": "me"}])
        tags = {t["key"]: t["value"] for t in fake.requests[-1].params["tags"]}
        assert tags == {
            "owner": "me",
            SESSION_TAG: sb.session_id,
            LAB_TAG: "nginx-alb",
            EXPIRES_TAG: sb.tags[EXPIRES_TAG],
        }

    def test_a_learner_cannot_override_the_session_tag(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """A labkit:session tag given by hand is replaced by the sandbox's own."""
        sb, fake = sandbox
        sb.client("ecs").create_cluster(clusterName="c", tags=[{"key": SESSION_TAG, "value": "other"}])
        tags = {t["key"]: t["value"] for t in fake.requests[-1].params["tags"]}
        assert tags[SESSION_TAG] == sb.session_id

    def test_ec2_resources_are_tagged_through_tag_specifications(
        self, sandbox: tuple[AwsSandbox, FakeAws]
    ) -> None:
        """create_security_group gets a TagSpecification for resource type security-group."""
        sb, fake = sandbox
        sb.client("ec2").create_security_group(GroupName="g", Description="d")
        params = fake.requests[-1].params
        assert params["TagSpecification.1.ResourceType"] == "security-group"
        keys = {
            params[f"TagSpecification.1.Tag.{i}.Key"]: params[f"TagSpecification.1.Tag.{i}.Value"]
            for i in (1, 2)
        }
        assert keys == {SESSION_TAG: sb.session_id, LAB_TAG: "nginx-alb"}

    def test_map_shaped_tags_are_a_dict(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """CloudWatch Logs takes tags as a map; the sandbox adds its tags to it."""
        sb, fake = sandbox
        sb.client("logs").create_log_group(logGroupName="/ecs/web")
        assert fake.requests[-1].params["tags"] == {
            SESSION_TAG: sb.session_id,
            LAB_TAG: "nginx-alb",
            EXPIRES_TAG: sb.tags[EXPIRES_TAG],
        }

    def test_query_protocol_tags(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """ELBv2 create_target_group carries Key/Value tags."""
        sb, fake = sandbox
        sb.client("elbv2").create_target_group(
            Name="tg", Protocol="HTTP", Port=80, VpcId="vpc-1", TargetType="ip"
        )
        params = fake.requests[-1].params
        assert {params["Tags.member.1.Key"], params["Tags.member.2.Key"]} == {SESSION_TAG, LAB_TAG}

    def test_tagging_calls_are_left_alone(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """tag_resource on an existing resource does not get the session tag (it would hand it to clean-up)."""
        sb, fake = sandbox
        sb.client("ecs").tag_resource(
            resourceArn="arn:aws:ecs:eu-west-1:1:cluster/x", tags=[{"key": "a", "value": "b"}]
        )
        assert fake.requests[-1].params["tags"] == [{"key": "a", "value": "b"}]

    def test_reads_are_not_changed(self, sandbox: tuple[AwsSandbox, FakeAws]) -> None:
        """A describe call is sent as the learner wrote it."""
        sb, fake = sandbox
        sb.client("ecs").list_clusters()
        assert fake.requests[-1].params == {}
