"""Every JSON example of the book says what it is, and is valid as that: an API shape or a policy."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError
from botocore.model import NoShapeFoundError, ServiceModel
from botocore.validate import ParamValidator

from tests.book.blocks import CodeBlock, book_pages, code_blocks

#: The top-level keys of an EventBridge event (the "AWS service event" envelope).
EVENT_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


@cache
def _service(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def _check_api_shape(document: Any, service: str, shape_name: str) -> str | None:
    try:
        shape = _service(service).shape_for(shape_name)
    except UnknownServiceError:
        return f"{service!r} is not a botocore service"
    except NoShapeFoundError:
        return f"{service} has no shape {shape_name!r}"
    report = ParamValidator().validate(document, shape)
    return report.generate_report() if report.has_errors() else None


def _check_iam_policy(document: Any) -> str | None:
    from moto.iam.exceptions import MalformedPolicyDocument
    from moto.iam.policy_validation import BaseIAMPolicyValidator, IAMPolicyDocumentValidator

    text = json.dumps(document)
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    # A trust policy or resource policy names a Principal and no Resource; an identity policy must
    # name resources. Both must pass IAM's grammar (version, effect, actions, conditions).
    with_principal = bool(statements) and all(
        isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s) for s in statements
    )
    validator = BaseIAMPolicyValidator(text) if with_principal else IAMPolicyDocumentValidator(text)
    try:
        validator.validate()
    except MalformedPolicyDocument as error:
        return f"not a valid IAM policy: {getattr(error, 'message', error)}"
    if document.get("Version") != "2012-10-17":
        return 'an IAM policy should say "Version": "2012-10-17"'
    return None


def _check_lifecycle_policy(document: Any) -> str | None:
    from moto.ecr.exceptions import InvalidParameterException
    from moto.ecr.policy_validation import EcrLifecyclePolicyValidator

    try:
        EcrLifecyclePolicyValidator(json.dumps(document)).validate()
    except InvalidParameterException as error:
        return f"not a valid ECR lifecycle policy: {getattr(error, 'message', error)}"
    # ECR's lifecycle policy properties: a rule with tagStatus "any" must have the highest
    # rulePriority value, so that it is evaluated last.
    rules = document["rules"]
    highest = max(rule["rulePriority"] for rule in rules)
    if any(r["selection"]["tagStatus"] == "any" and r["rulePriority"] != highest for r in rules):
        return 'a rule with tagStatus "any" must have the highest rulePriority value (evaluated last)'
    return None


def _check_event_pattern(document: Any) -> str | None:
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPatternParser

    if not isinstance(document, dict) or not document:
        return "an event pattern is a non-empty JSON object"
    try:
        EventPatternParser(json.dumps(document)).parse()
    except InvalidEventPatternException as error:
        return f"not a valid event pattern: {getattr(error, 'message', error)}"
    return None


def _check_event(document: Any) -> str | None:
    if not isinstance(document, dict):
        return "an event is a JSON object"
    missing = [key for key in EVENT_KEYS if key not in document]
    if missing:
        return f"an EventBridge event has {', '.join(EVENT_KEYS)}; missing {', '.join(missing)}"
    if not isinstance(document["resources"], list) or not isinstance(document["detail"], dict):
        return "an event's resources is a list and its detail an object"
    return None


_KINDS = {
    "iam-policy": _check_iam_policy,
    "ecr-lifecycle-policy": _check_lifecycle_policy,
    "event-pattern": _check_event_pattern,
    "event": _check_event,
}


def check_json_block(block: CodeBlock) -> str | None:
    """What is wrong with one ```json block (its marker, its JSON, its shape), or None."""
    if block.marker is None or not block.marker.startswith("shape:"):
        return (
            "a json block needs `<!-- shape: SERVICE SHAPE -->` (or iam-policy, ecr-lifecycle-policy, "
            "event-pattern, event) on the line above it"
        )
    try:
        document = json.loads(block.text)
    except json.JSONDecodeError as error:
        return f"not JSON: {error}"
    words = block.marker[len("shape:") :].split()
    if len(words) == 1 and words[0] in _KINDS:
        return _KINDS[words[0]](document)
    if len(words) == 2:
        return _check_api_shape(document, words[0], words[1])
    return f"unknown shape marker {block.marker!r}: use SERVICE SHAPE or one of {', '.join(_KINDS)}"


def _json_blocks(page: Path) -> list[CodeBlock]:
    return [block for block in code_blocks(page) if block.language == "json"]


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name if p.parent.name == "book" else str(p))
def test_every_json_block_is_valid_for_its_shape(page: Path) -> None:
    """Each ```json block names its shape on the line above and validates against it."""
    problems = [
        f"{block.where}: {problem}" for block in _json_blocks(page) if (problem := check_json_block(block))
    ]
    assert not problems, "\n".join(problems)


def _block(text: str, marker: str | None) -> CodeBlock:
    return CodeBlock(Path(__file__), "json", 1, text, marker)


def test_the_checker_refuses_the_notes_placement_json() -> None:
    """The course notes' constraint wrapped in placementStrategy, and `attributes:`, fail their shape."""
    notes = '{"placementStrategy": {"type": "distinctInstance"}}'
    assert "placementStrategy" in str(check_json_block(_block(notes, "shape: ecs CreateServiceRequest")))
    strategy = '[{"field": "memory", "type": "binpack"}]'
    assert check_json_block(_block(strategy, "shape: ecs PlacementStrategies")) is None
    assert check_json_block(
        _block('[{"type": "distinctInstance", "field": "x"}]', "shape: ecs PlacementConstraints")
    )


def test_the_checker_needs_a_marker_and_names_unknown_shapes() -> None:
    """A block without a marker, with an unknown service or shape, or with broken JSON fails."""
    assert "needs" in str(check_json_block(_block("{}", None)))
    assert "not a botocore service" in str(check_json_block(_block("{}", "shape: nosuch Shape")))
    assert "no shape" in str(check_json_block(_block("{}", "shape: ecs NoSuchShape")))
    assert "not JSON" in str(check_json_block(_block("{", "shape: event")))


def test_the_checker_validates_the_non_api_kinds() -> None:
    """IAM policies, lifecycle policies, event patterns and events are checked for their grammar."""
    good_policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'
    assert check_json_block(_block(good_policy, "shape: iam-policy")) is None
    assert check_json_block(_block('{"Statement": [{"Effect": "Maybe"}]}', "shape: iam-policy"))
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    assert check_json_block(_block(trust, "shape: iam-policy")) is None
    assert check_json_block(_block('{"rules": [{"rulePriority": 1}]}', "shape: ecr-lifecycle-policy"))
    assert check_json_block(_block('{"source": "aws.s3"}', "shape: event-pattern"))
    assert check_json_block(_block('{"source": ["aws.s3"]}', "shape: event-pattern")) is None
    assert "missing" in str(check_json_block(_block('{"source": "aws.s3"}', "shape: event")))


def test_the_lifecycle_check_wants_the_any_rule_evaluated_last() -> None:
    """A `tagStatus: any` rule needs the highest rulePriority value, not priority 1 ("the highest")."""

    def rule(priority: int, status: str) -> str:
        return (
            f'{{"rulePriority": {priority}, "selection": {{"tagStatus": "{status}", '
            '"countType": "imageCountMoreThan", "countNumber": 5}, "action": {"type": "expire"}}'
        )

    first = '{"rules": [' + rule(1, "any") + ", " + rule(2, "untagged") + "]}"
    last = '{"rules": [' + rule(1, "untagged") + ", " + rule(2, "any") + "]}"
    assert "highest rulePriority" in str(check_json_block(_block(first, "shape: ecr-lifecycle-policy")))
    assert check_json_block(_block(last, "shape: ecr-lifecycle-policy")) is None


def test_blocks_inside_directives_are_found_with_their_marker(tmp_path: Path) -> None:
    """A json block folded in a dropdown admonition is found, with its marker and first line."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n````{admonition} Solution\n:class: dropdown\n\n<!-- shape: event -->\n"
        '```json\n{"a": 1}\n```\n````\n\n```json\n[]\n```\n',
        encoding="utf-8",
    )
    blocks = code_blocks(page)
    assert [(b.language, b.line, b.marker, b.text) for b in blocks] == [
        ("json", 8, "shape: event", '{"a": 1}'),
        ("json", 13, None, "[]"),
    ]
