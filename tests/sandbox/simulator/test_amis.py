"""Image ids written `resolve:ssm:<parameter>` resolve to the parameter's AMI id when an instance launches."""

from __future__ import annotations

from labkit.sandbox.embedded import EmbeddedSandbox

ECS_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


def _images(sandbox: EmbeddedSandbox) -> list[str]:
    reservations = sandbox.client("ec2").describe_instances()["Reservations"]
    return sorted(i["ImageId"] for r in reservations for i in r["Instances"])


def test_run_instances_resolves_the_public_ecs_ami_parameter(sandbox: EmbeddedSandbox) -> None:
    """RunInstances with resolve:ssm:<the ECS-optimized AMI parameter> launches that AMI."""
    ami = sandbox.client("ssm").get_parameter(Name=ECS_AMI)["Parameter"]["Value"]
    assert ami.startswith("ami-")
    sandbox.client("ec2").run_instances(
        ImageId=f"resolve:ssm:{ECS_AMI}", InstanceType="t3.small", MinCount=1, MaxCount=1
    )
    assert _images(sandbox) == [ami]


def test_an_auto_scaling_group_launches_the_ami_its_template_names_by_parameter(
    sandbox: EmbeddedSandbox,
) -> None:
    """The launch template keeps the reference; the group's instances run the resolved AMI."""
    ec2, autoscaling = sandbox.client("ec2"), sandbox.client("autoscaling")
    ami = sandbox.client("ssm").get_parameter(Name=ECS_AMI)["Parameter"]["Value"]
    ec2.create_launch_template(
        LaunchTemplateName="ecs-nodes",
        LaunchTemplateData={"ImageId": f"resolve:ssm:{ECS_AMI}", "InstanceType": "t3.small"},
    )
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="ecs-nodes", MinSize=2, MaxSize=2, VPCZoneIdentifier=subnet,
        LaunchTemplate={"LaunchTemplateName": "ecs-nodes", "Version": "$Latest"},
    )  # fmt: skip
    template = ec2.describe_launch_template_versions(LaunchTemplateName="ecs-nodes")[
        "LaunchTemplateVersions"
    ][0]
    assert template["LaunchTemplateData"]["ImageId"] == f"resolve:ssm:{ECS_AMI}"
    assert _images(sandbox) == [ami, ami]


def test_a_version_selector_picks_that_version_and_a_missing_parameter_is_left_alone(
    sandbox: EmbeddedSandbox,
) -> None:
    """resolve:ssm:NAME:1 is version 1's AMI after NAME changed; an unknown parameter stays as written."""
    ssm, ec2 = sandbox.client("ssm"), sandbox.client("ec2")
    ssm.put_parameter(
        Name="/golden/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image"
    )
    ssm.put_parameter(Name="/golden/ami", Value="ami-0fedcba9876543210", Type="String", Overwrite=True)
    for image in ("resolve:ssm:/golden/ami:1", "resolve:ssm:/golden/ami", "resolve:ssm:/no/such/parameter"):
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)
    assert _images(sandbox) == [
        "ami-0123456789abcdef0",
        "ami-0fedcba9876543210",
        "resolve:ssm:/no/such/parameter",
    ]
