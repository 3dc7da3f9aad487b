"""Checkpoints of the ecr-push lab: what `lab.check` and the grader run (its reference steps are in reference.py).

Names the lab uses: repository `labkit-web` (scan on push), image tag `v1`, task definition
family `labkit-web` (container `web`), another account `111122223333` allowed to pull.
The image stands for `nginxdemos/hello` (`labkit.images.placeholder_image`: the sandbox is offline)
and is pushed through the registry API (skopeo in the notebook, labkit's small client in the
reference steps).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed, settling

checkpoints = CheckpointSet("ecr-push")


REPOSITORY = "labkit-web"


TAG = "v1"


FAMILY = "labkit-web"


OTHER_ACCOUNT = "111122223333"


PULL_ACTIONS = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}


PUSH_ACTIONS = {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"}


IMAGE_MEDIA_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def _repository(ctx: CheckContext) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = ctx.client("ecr").describe_repositories(repositoryNames=[REPOSITORY])[
            "repositories"
        ][0]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryNotFoundException":
            return None
        raise
    if ctx.session_tag is not None:
        tags = ctx.client("ecr").list_tags_for_resource(resourceArn=found["repositoryArn"])["tags"]
        if not ctx.ours(tags):
            return None
    return found


def _need_repository(ctx: CheckContext) -> dict[str, Any] | Outcome:
    repository = _repository(ctx)
    if repository is None:
        return failed(f"There is no repository {REPOSITORY} made in this lab.")
    return repository


def _image(ctx: CheckContext) -> dict[str, Any] | None:
    try:
        details = ctx.client("ecr").describe_images(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return None
        raise
    found: dict[str, Any] = details["imageDetails"][0]
    return found


@checkpoints.checkpoint(
    "repository-created",
    "The ECR repository exists and scans images on push",
    points=1,
    hints=[
        f"ecr.create_repository(repositoryName='{REPOSITORY}', imageScanningConfiguration={{'scanOnPush': True}})",
        "Repository names are lower case; the response's repositoryUri is what images are tagged with on AWS.",
    ],
)
def repository_created(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    if not repository.get("imageScanningConfiguration", {}).get("scanOnPush"):
        return failed(
            f"{REPOSITORY} does not scan on push: set imageScanningConfiguration={{'scanOnPush': True}}."
        )
    return passed(f"{repository['repositoryUri']} exists and scans on push.")


@checkpoints.checkpoint(
    "image-pushed",
    f"An image is pushed as {REPOSITORY}:{TAG}",
    points=3,
    hints=[
        "Log in first: the user name is AWS, the password comes from ecr.get_authorization_token() (base64 of 'AWS:<password>').",
        f"Tag with the registry host: f'{{sb.registry_host}}/{REPOSITORY}:{TAG}' (in the sandbox the registry is on 127.0.0.1).",
        "skopeo copy oci:<layout>:v1 docker://<host>/labkit-web:v1 pushes the layout (add --dest-tls-verify=false for the sandbox's plain HTTP).",
    ],
)
def image_pushed(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    image = _image(ctx)
    if image is None:
        return failed(f"{REPOSITORY} has no image tagged {TAG}.")
    if image.get("imageManifestMediaType") not in IMAGE_MEDIA_TYPES:
        return failed(
            f"{REPOSITORY}:{TAG} is a {image.get('imageManifestMediaType')}, not an image manifest."
        )
    got = ctx.client("ecr").batch_get_image(repositoryName=REPOSITORY, imageIds=[{"imageTag": TAG}])["images"]
    manifest = got[0]["imageManifest"].encode() if got else b""
    if "sha256:" + hashlib.sha256(manifest).hexdigest() != image["imageDigest"]:
        return failed("The image's digest is not the digest of its manifest: push it with a registry client.")
    return passed(f"{REPOSITORY}:{TAG} is {image['imageDigest']} ({image.get('imageSizeInBytes')} bytes).")


@checkpoints.checkpoint(
    "task-definition-uses-image",
    "A Fargate task definition runs the pushed image from ECR",
    points=2,
    hints=[
        "Use the repositoryUri that describe_repositories gives (<account>.dkr.ecr.<region>.amazonaws.com/labkit-web), with :v1 or @<digest>.",
        "Fargate pulls from ECR with the task execution role: set executionRoleArn (arn:aws:iam::<account>:role/ecsTaskExecutionRole).",
    ],
)
def task_definition_uses_image(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    definition = ctx.task_definition(FAMILY)
    if isinstance(definition, Outcome):
        return definition
    image = _image(ctx)
    allowed = {f"{repository['repositoryUri']}:{TAG}"}
    if image is not None:
        allowed.add(f"{repository['repositoryUri']}@{image['imageDigest']}")
    images = [c.get("image", "") for c in definition.get("containerDefinitions", [])]
    if not any(i in allowed for i in images):
        return failed(
            f"No container runs {repository['repositoryUri']}:{TAG} (its images: {', '.join(images)})."
        )
    if not definition.get("executionRoleArn"):
        return failed("There is no executionRoleArn: Fargate needs the task execution role to pull from ECR.")
    return passed(f"{FAMILY}:{definition['revision']} runs the image from ECR.")


def _lifecycle_rules(text: str) -> list[dict[str, Any]]:
    try:
        rules = json.loads(text).get("rules", [])
    except (ValueError, AttributeError):
        return []
    return [r for r in rules if isinstance(r, dict)]


@checkpoints.checkpoint(
    "lifecycle-policy",
    "A lifecycle policy expires untagged images and keeps the last versions (previewed)",
    points=2,
    hints=[
        "Rule 1: selection {'tagStatus': 'untagged', 'countType': 'sinceImagePushed', 'countUnit': 'days', 'countNumber': 1}.",
        "Rule 2: selection {'tagStatus': 'tagged', 'tagPrefixList': ['v'], 'countType': 'imageCountMoreThan', 'countNumber': 5}; both with action {'type': 'expire'}.",
        "Put it with ecr.put_lifecycle_policy(...), then ecr.start_lifecycle_policy_preview(repositoryName=...) to see what it would expire.",
    ],
)
def lifecycle_policy(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    ecr = ctx.client("ecr")
    try:
        text = ecr.get_lifecycle_policy(repositoryName=REPOSITORY)["lifecyclePolicyText"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "LifecyclePolicyNotFoundException":
            return failed(f"{REPOSITORY} has no lifecycle policy.")
        raise
    rules = _lifecycle_rules(text)
    untagged = [
        r
        for r in rules
        if r.get("selection", {}).get("tagStatus") == "untagged"
        and r["selection"].get("countType") == "sinceImagePushed"
        and r.get("action", {}).get("type") == "expire"
    ]
    if not untagged:
        return failed(
            "No rule expires untagged images by age (tagStatus untagged, countType sinceImagePushed)."
        )
    keep = [
        r
        for r in rules
        if r.get("selection", {}).get("tagStatus") == "tagged"
        and "v" in r["selection"].get("tagPrefixList", [])
        and r["selection"].get("countType") == "imageCountMoreThan"
    ]
    if not keep:
        return failed(
            "No rule keeps the last versions tagged v... (tagStatus tagged, tagPrefixList ['v'], imageCountMoreThan)."
        )
    return ctx.eventually(lambda: _previewed(ctx, len(rules)))


def _previewed(ctx: CheckContext, rule_count: int) -> Outcome:
    """The lifecycle policy preview has completed (AWS takes a while; the sandbox is at once)."""
    try:
        preview = ctx.client("ecr").get_lifecycle_policy_preview(repositoryName=REPOSITORY)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "LifecyclePolicyPreviewNotFoundException":
            return failed(
                "The policy is in place, but you have not previewed it: start_lifecycle_policy_preview."
            )
        raise
    if preview.get("status") == "IN_PROGRESS":
        return settling("The lifecycle policy preview is IN_PROGRESS; give it a moment.")
    if preview.get("status") != "COMPLETE":
        return failed(f"The lifecycle policy preview is {preview.get('status')}; start a new one.")
    expiring = len(preview.get("previewResults", []))
    return passed(
        f"The lifecycle policy has {counted(rule_count, 'rule')} and a preview "
        f"({counted(expiring, 'image')} would expire)."
    )


@checkpoints.checkpoint(
    "tags-immutable",
    "Tags cannot be overwritten",
    points=1,
    hints=[f"ecr.put_image_tag_mutability(repositoryName='{REPOSITORY}', imageTagMutability='IMMUTABLE')"],
)
def tags_immutable(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    if repository.get("imageTagMutability") != "IMMUTABLE":
        return failed(
            f"{REPOSITORY}'s tags are {repository.get('imageTagMutability')}: a push can move {TAG} to other content."
        )
    return passed(f"{REPOSITORY}'s tags are IMMUTABLE.")


def _statements(policy_text: str) -> list[dict[str, Any]]:
    try:
        statements = json.loads(policy_text).get("Statement", [])
    except (ValueError, AttributeError):
        return []
    return [statements] if isinstance(statements, dict) else [s for s in statements if isinstance(s, dict)]


def _listed(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {str(v) for v in value} if isinstance(value, list) else set()


def _names_other_account(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal", {})
    values = _listed(principal.get("AWS")) if isinstance(principal, dict) else _listed(principal)
    return bool(values & {OTHER_ACCOUNT, f"arn:aws:iam::{OTHER_ACCOUNT}:root"})


@checkpoints.checkpoint(
    "pull-policy",
    f"Account {OTHER_ACCOUNT} may pull, and only pull",
    points=2,
    hints=[
        f"A repository policy statement: Effect Allow, Principal {{'AWS': 'arn:aws:iam::{OTHER_ACCOUNT}:root'}}.",
        "Pulling needs ecr:BatchGetImage and ecr:GetDownloadUrlForLayer (ecr:BatchCheckLayerAvailability too); pushing would need ecr:PutImage and the layer uploads.",
        f"ecr.set_repository_policy(repositoryName='{REPOSITORY}', policyText=json.dumps(policy))",
    ],
)
def pull_policy(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository
    try:
        text = ctx.client("ecr").get_repository_policy(repositoryName=REPOSITORY)["policyText"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "RepositoryPolicyNotFoundException":
            return failed(f"{REPOSITORY} has no repository policy.")
        raise
    granted: set[str] = set()
    for statement in _statements(text):
        if statement.get("Effect") == "Allow" and _names_other_account(statement):
            granted |= _listed(statement.get("Action"))
    if not granted:
        return failed(f"No statement allows the account {OTHER_ACCOUNT} anything.")
    if "ecr:*" in granted or "*" in granted or granted & PUSH_ACTIONS:
        return failed(
            f"The policy lets {OTHER_ACCOUNT} push too ({', '.join(sorted(granted))}); allow only the pull actions."
        )
    missing = PULL_ACTIONS - granted
    if missing:
        return failed(f"{OTHER_ACCOUNT} cannot pull yet: the policy lacks {', '.join(sorted(missing))}.")
    return passed(f"{OTHER_ACCOUNT} may pull from {REPOSITORY}.")


@checkpoints.checkpoint(
    "scan-complete",
    f"The scan of {REPOSITORY}:{TAG} is complete",
    points=1,
    hints=[
        "With scanOnPush the scan starts when the image is pushed; ecr.describe_image_scan_findings(...) shows its status.",
        "Wait with ecr.get_waiter('image_scan_complete').wait(repositoryName=..., imageId={'imageTag': 'v1'}).",
    ],
)
def scan_complete(ctx: CheckContext) -> Outcome:
    repository = _need_repository(ctx)
    if isinstance(repository, Outcome):
        return repository

    def look() -> Outcome:
        try:
            found = ctx.client("ecr").describe_image_scan_findings(
                repositoryName=REPOSITORY, imageId={"imageTag": TAG}
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ScanNotFoundException", "ImageNotFoundException"):
                return failed(
                    f"{REPOSITORY}:{TAG} has not been scanned (is scan on push on, and is the image pushed?)."
                )
            raise
        status = found["imageScanStatus"]["status"]
        if status in ("IN_PROGRESS", "PENDING"):
            return settling(f"The scan is {status}.")
        if status != "COMPLETE":
            return failed(f"The scan is {status}.")
        counts = found.get("imageScanFindings", {}).get("findingSeverityCounts", {})
        return passed(f"The scan is COMPLETE: {counted(sum(counts.values()), 'finding')}.")

    return ctx.eventually(look)
