"""Reference steps of the ecr-push lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import FAMILY, OTHER_ACCOUNT, REPOSITORY, TAG

reference = ReferenceSteps("ecr-push")


@reference.step("repository-created")
def make_repository(sandbox: Sandbox) -> None:
    sandbox.client("ecr").create_repository(
        repositoryName=REPOSITORY, imageScanningConfiguration={"scanOnPush": True}
    )


def build_site_image(folder: str) -> Any:
    """The lab's image: the offline stand-in for nginxdemos/hello in an OCI layout, tagged v1."""
    from labkit.images import placeholder_image

    return placeholder_image(folder, "nginxdemos/hello", tag=TAG)


@reference.step("image-pushed")
def push_image(sandbox: Sandbox) -> None:
    from labkit.registry.client import client_for

    with tempfile.TemporaryDirectory() as folder:
        image = build_site_image(folder)
        client_for(sandbox).push_layout(image.path, REPOSITORY, TAG)


@reference.step("task-definition-uses-image")
def register_task_definition(sandbox: Sandbox) -> None:
    uri = sandbox.client("ecr").describe_repositories(repositoryNames=[REPOSITORY])["repositories"][0][
        "repositoryUri"
    ]
    sandbox.client("ecs").register_task_definition(
        family=FAMILY,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        executionRoleArn=f"arn:aws:iam::{sandbox.account_id}:role/ecsTaskExecutionRole",
        containerDefinitions=[
            {
                "name": "web",
                "image": f"{uri}:{TAG}",
                "essential": True,
                "portMappings": [{"containerPort": 80}],
            }
        ],
    )


LIFECYCLE_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "Expire untagged images one day after they were pushed",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep the last five versions tagged v...",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": ["v"],
                "countType": "imageCountMoreThan",
                "countNumber": 5,
            },
            "action": {"type": "expire"},
        },
    ]
}


@reference.step("lifecycle-policy")
def put_lifecycle_policy(sandbox: Sandbox) -> None:
    ecr = sandbox.client("ecr")
    text = json.dumps(LIFECYCLE_POLICY)
    ecr.put_lifecycle_policy(repositoryName=REPOSITORY, lifecyclePolicyText=text)
    ecr.start_lifecycle_policy_preview(repositoryName=REPOSITORY, lifecyclePolicyText=text)


@reference.step("tags-immutable")
def make_immutable(sandbox: Sandbox) -> None:
    sandbox.client("ecr").put_image_tag_mutability(repositoryName=REPOSITORY, imageTagMutability="IMMUTABLE")


PULL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowPullFromPartnerAccount",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        }
    ],
}


@reference.step("pull-policy")
def set_pull_policy(sandbox: Sandbox) -> None:
    sandbox.client("ecr").set_repository_policy(repositoryName=REPOSITORY, policyText=json.dumps(PULL_POLICY))


@reference.step("scan-complete")
def wait_for_scan(sandbox: Sandbox) -> None:
    ecr = sandbox.client("ecr")

    def scanned() -> bool:
        try:
            status = ecr.describe_image_scan_findings(repositoryName=REPOSITORY, imageId={"imageTag": TAG})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ScanNotFoundException":
                raise
            ecr.start_image_scan(repositoryName=REPOSITORY, imageId={"imageTag": TAG})
            return False
        return bool(status["imageScanStatus"]["status"] == "COMPLETE")

    sandbox.wait_until(scanned, f"the scan of {REPOSITORY}:{TAG}", limit=600, step=5)
