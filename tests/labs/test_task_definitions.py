"""The task-definitions lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

import labkit
from labkit.grading import grade
from labkit.sandbox.embedded import EmbeddedSandbox


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    session = labkit.open_lab("task-definitions", sandbox=sandbox)
    before = grade("task-definitions", session.lab.checkpoints, sandbox)
    assert before.count("failed") == len(session.lab.checkpoints), before.summary()
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade("task-definitions", session.lab.checkpoints, sandbox)
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert "host port 8080" in messages["bridge-fixed-port"]
    assert "see each other's files" in messages["efs-shared-across-zones"]
    assert "API_KEY" in messages["environment-from-four-sources"]


def test_the_ephemeral_range_opened_to_everyone_instead_of_the_alb_fails_its_checkpoint(
    sandbox: EmbeddedSandbox,
) -> None:
    """Replacing the ALB-group rule with 0.0.0.0/0 fails dynamic-ports-behind-alb and says which rule is missing."""
    session = labkit.open_lab("task-definitions", sandbox=sandbox)
    session.catch_up(to="dynamic-ports-behind-alb")
    ec2 = sandbox.client("ec2")
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["td-lab-instances-sg", "td-lab-alb-sg"]}]
    )["SecurityGroups"]
    ids = {g["GroupName"]: g["GroupId"] for g in groups}
    ephemeral = {"IpProtocol": "tcp", "FromPort": 49153, "ToPort": 65535}
    ec2.revoke_security_group_ingress(
        GroupId=ids["td-lab-instances-sg"],
        IpPermissions=[{**ephemeral, "UserIdGroupPairs": [{"GroupId": ids["td-lab-alb-sg"]}]}],
    )
    ec2.authorize_security_group_ingress(
        GroupId=ids["td-lab-instances-sg"],
        IpPermissions=[{**ephemeral, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    result = session.check("dynamic-ports-behind-alb", display=False)
    assert not result.passed
    assert "does not let td-lab-alb-sg in on TCP 49153-65535" in result.message
