"""Errors name the missing resource as AWS does, never as a Python value (`'{'sg-...'}'`).

AWS answers DescribeSecurityGroups with an unknown id as "InvalidGroup.NotFound: The security group
'sg-...' does not exist", and with an unknown name "... does not exist in default VPC 'vpc-...'"
(EC2 API Reference, "Error codes": InvalidGroup.NotFound, "The specified security group does not exist").
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.embedded import EmbeddedSandbox
from tests.sandbox.simulator.conftest import AwsCli

MISSING = "sg-0123456789abcdef0"


def test_a_missing_security_group_is_named_alone_and_plainly(sandbox: EmbeddedSandbox) -> None:
    """One existing and one missing id: only the missing one is named, without braces or quotes inside."""
    ec2 = sandbox.client("ec2")
    existing = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    with pytest.raises(ClientError) as missing_id:
        ec2.describe_security_groups(GroupIds=[existing, MISSING])
    assert missing_id.value.response["Error"] == {
        "Code": "InvalidGroup.NotFound",
        "Message": f"The security group '{MISSING}' does not exist",
    }
    with pytest.raises(ClientError) as missing_name:
        ec2.describe_security_groups(GroupNames=["nope"])
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    assert missing_name.value.response["Error"]["Message"] == (
        f"The security group 'nope' does not exist in default VPC '{vpc}'"
    )
    # Found ones are still found.
    assert ec2.describe_security_groups(GroupIds=[existing])["SecurityGroups"][0]["GroupId"] == existing


@pytest.mark.slow
def test_the_aws_cli_prints_the_missing_group_plainly(aws_cli: AwsCli) -> None:
    """`aws ec2 describe-security-groups --group-ids sg-...` prints AWS's sentence."""
    done = subprocess.run(
        [sys.executable, "-m", "awscli", "ec2", "describe-security-groups", "--group-ids", MISSING],
        capture_output=True, text=True, env=aws_cli.env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert (
        "An error occurred (InvalidGroup.NotFound) when calling the DescribeSecurityGroups operation: "
        f"The security group '{MISSING}' does not exist"
    ) in done.stderr
    assert "{" not in done.stderr
