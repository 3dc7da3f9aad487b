"""Lifecycle policies: ECR's validation and evaluation rules, previews, and expiry on the sandbox clock."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from labkit.images import build_oci_image
from labkit.registry.client import client_for
from labkit.registry.lifecycle import LifecycleImage, LifecyclePolicyError, evaluate, parse_policy
from labkit.sandbox.embedded import EmbeddedSandbox

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _rule(priority: int, status: str, count_type: str, number: int, **extra: object) -> dict[str, object]:
    selection: dict[str, object] = {
        "tagStatus": status,
        "countType": count_type,
        "countNumber": number,
        **extra,
    }
    if count_type == "sinceImagePushed":
        selection["countUnit"] = "days"
    return {"rulePriority": priority, "selection": selection, "action": {"type": "expire"}}


def _policy(*rules: dict[str, object]) -> str:
    return json.dumps({"rules": list(rules)})


def _img(digest: str, tags: tuple[str, ...], days_ago: float) -> LifecycleImage:
    return LifecycleImage(digest, tags, NOW - dt.timedelta(days=days_ago))


def test_untagged_images_older_than_n_days_expire() -> None:
    """sinceImagePushed on untagged images expires only the untagged ones older than N days."""
    images = [_img("a", (), 10), _img("b", (), 0.5), _img("c", ("v1",), 30)]
    expired = evaluate(_policy(_rule(1, "untagged", "sinceImagePushed", 1)), images, NOW)
    assert [e.image.digest for e in expired] == ["a"]


def test_keep_the_last_n_by_prefix_expires_the_oldest() -> None:
    """imageCountMoreThan keeps the N most recently pushed matching images."""
    images = [_img(f"d{i}", (f"v{i}",), 10 - i) for i in range(5)] + [_img("p", ("prod",), 50)]
    expired = evaluate(_policy(_rule(1, "tagged", "imageCountMoreThan", 2, tagPrefixList=["v"])), images, NOW)
    assert [e.image.digest for e in expired] == ["d0", "d1", "d2"]


def test_the_user_guides_two_rule_example() -> None:
    """ECR's example: beta keep 1 then prod keep 1 expires A and B, both by the beta rule."""
    images = [
        _img("A", ("beta-1", "prod-1"), 10),
        _img("B", ("beta-2", "prod-2"), 9),
        _img("C", ("beta-3",), 8),
    ]
    rules = _policy(
        _rule(1, "tagged", "imageCountMoreThan", 1, tagPrefixList=["beta"]),
        _rule(2, "tagged", "imageCountMoreThan", 1, tagPrefixList=["prod"]),
    )
    assert [(e.image.digest, e.rule_priority) for e in evaluate(rules, images, NOW)] == [("A", 1), ("B", 1)]


def test_an_image_kept_by_a_higher_priority_rule_is_not_expired_by_a_lower_one() -> None:
    """prod keep 5 protects prod images from the catch-all `any` keep 1."""
    images = [_img("p1", ("prod-1",), 3), _img("p2", ("prod-2",), 2), _img("x", ("dev",), 1)]
    rules = _policy(
        _rule(1, "tagged", "imageCountMoreThan", 5, tagPrefixList=["prod"]),
        _rule(2, "any", "imageCountMoreThan", 1),
    )
    assert [e.image.digest for e in evaluate(rules, images, NOW)] == []


def test_tag_patterns_need_every_pattern_to_match() -> None:
    """tagPatternList with wildcards selects images whose tags match every pattern."""
    images = [_img("a", ("prod-1", "eu"), 5), _img("b", ("prod-2",), 4)]
    rules = _policy(_rule(1, "tagged", "sinceImagePushed", 1, tagPatternList=["prod*", "e*"]))
    assert [e.image.digest for e in evaluate(rules, images, NOW)] == ["a"]


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([_rule(1, "untagged", "sinceImagePushed", 1), _rule(1, "any", "imageCountMoreThan", 1)], "unique"),
        ([_rule(1, "tagged", "imageCountMoreThan", 1)], "exactly one of"),
        (
            [_rule(1, "any", "imageCountMoreThan", 1), _rule(2, "untagged", "imageCountMoreThan", 1)],
            "highest",
        ),
        ([_rule(1, "untagged", "imageCountMoreThan", 0)], "countNumber"),
        (
            [_rule(1, "untagged", "sinceImagePushed", 1), _rule(2, "untagged", "imageCountMoreThan", 3)],
            "one rule",
        ),
    ],
)
def test_policies_ecr_refuses_are_refused(rules: list[dict[str, object]], problem: str) -> None:
    """Duplicate priorities, tagged without a list, `any` not last, a zero count, two untagged rules."""
    with pytest.raises(LifecyclePolicyError, match=problem):
        parse_policy(json.dumps({"rules": rules}))


def _push_three(sandbox: EmbeddedSandbox, tmp_path: Path) -> list[str]:
    """Push three images as `latest` one emulated day apart: two end up untagged."""
    digests = []
    for n in range(3):
        client = client_for(sandbox)  # a token lasts 12 hours: log in again each day
        image = build_oci_image(tmp_path / "l", files={"n": str(n)}, tag=f"b{n}")
        digests.append(client.push_layout(image.path, "app", "latest", source_tag=f"b{n}"))
        sandbox.advance(86400)
    return digests


def test_preview_shows_what_the_policy_would_expire(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """start/get_lifecycle_policy_preview list the untagged images older than a day, with the rule's priority."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app")
    digests = _push_three(sandbox, tmp_path)
    with pytest.raises(ClientError) as none_yet:
        ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert none_yet.value.response["Error"]["Code"] == "LifecyclePolicyPreviewNotFoundException"
    text = _policy(_rule(1, "untagged", "sinceImagePushed", 1))
    started = ecr.start_lifecycle_policy_preview(repositoryName="app", lifecyclePolicyText=text)
    assert started["status"] == "IN_PROGRESS"
    preview = ecr.get_lifecycle_policy_preview(repositoryName="app")
    assert preview["status"] == "COMPLETE"
    assert [r["imageDigest"] for r in preview["previewResults"]] == digests[:2]
    assert {r["appliedRulePriority"] for r in preview["previewResults"]} == {1}
    assert preview["summary"]["expiringImageTotalCount"] == 2
    assert len(ecr.list_images(repositoryName="app")["imageIds"]) == 3  # a preview deletes nothing


def test_a_policy_expires_images_at_the_next_full_hour(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """Once put, the policy runs at every full hour of the sandbox clock and deletes what it selects."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app")
    digests = _push_three(sandbox, tmp_path)
    ecr.put_lifecycle_policy(
        repositoryName="app", lifecyclePolicyText=_policy(_rule(1, "untagged", "sinceImagePushed", 1))
    )
    assert len(ecr.list_images(repositoryName="app")["imageIds"]) == 3
    sandbox.advance(3601)
    left = ecr.list_images(repositoryName="app")["imageIds"]
    assert left == [{"imageDigest": digests[2], "imageTag": "latest"}]


def test_put_lifecycle_policy_refuses_an_invalid_policy(sandbox: EmbeddedSandbox) -> None:
    """An `any` rule that is not last is InvalidParameterException with ECR's message prefix."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app")
    text = _policy(_rule(1, "any", "imageCountMoreThan", 1), _rule(2, "untagged", "imageCountMoreThan", 1))
    with pytest.raises(ClientError) as caught:
        ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=text)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "Lifecycle policy validation failure" in caught.value.response["Error"]["Message"]
