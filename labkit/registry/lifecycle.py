"""ECR lifecycle policies: AWS's validation and evaluation rules, as pure functions.

A policy is `{"rules": [...]}`; each rule has `rulePriority` (unique, lowest first), `selection`
(`tagStatus` `tagged`/`untagged`/`any`, `tagPrefixList` or `tagPatternList` for tagged,
`countType` `imageCountMoreThan` or `sinceImagePushed` with `countUnit` `days`, `countNumber`) and
`action` `{"type": "expire"}`. Evaluation follows the ECR user guide:

- rules are applied from the lowest `rulePriority` to the highest;
- an image matches a `tagPrefixList` (or `tagPatternList`, `*` wildcards) when every prefix
  (pattern) matches one of its tags;
- `imageCountMoreThan: N` keeps the N most recently pushed matching images and expires the rest;
  `sinceImagePushed: N days` expires matching images pushed more than N days ago;
- an image expired by a rule is still counted by the rules after it ("identified as if it had not
  been expired") but is expired once, by the first rule; an image that matched a rule's tag
  selection and was kept by it cannot be expired by a lower-priority rule;
- expiry always takes older images before newer ones.

`evaluate(policy, images, now)` returns which images expire and by which rule.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Expiry", "LifecycleImage", "LifecyclePolicyError", "evaluate", "parse_policy"]


class LifecyclePolicyError(ValueError):
    """A lifecycle policy AWS would refuse; the message is the part after AWS's prefix."""


@dataclass(frozen=True)
class LifecycleImage:
    """What a rule looks at: the image's digest, tags and push time."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: dt.datetime


@dataclass(frozen=True)
class Expiry:
    """An image a policy expires, and the priority of the rule that expires it."""

    image: LifecycleImage
    rule_priority: int


def _fail(problem: str) -> LifecyclePolicyError:
    return LifecyclePolicyError(problem)


def parse_policy(text: str) -> list[dict[str, Any]]:
    """Validate a lifecycle policy as ECR does and return its rules, lowest priority number first.

    Raises `LifecyclePolicyError` naming what is wrong.
    """
    try:
        policy = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"the policy is not valid JSON ({exc.msg})") from exc
    if not isinstance(policy, dict) or not isinstance(policy.get("rules"), list) or not policy["rules"]:
        raise _fail("the policy needs a non-empty list of 'rules'")
    rules: list[dict[str, Any]] = []
    priorities: set[int] = set()
    untagged = 0
    for rule in policy["rules"]:
        if not isinstance(rule, dict):
            raise _fail("each rule is an object")
        priority = rule.get("rulePriority")
        if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
            raise _fail("rulePriority must be an integer of at least 1")
        if priority in priorities:
            raise _fail(f"rulePriority {priority} is used by two rules; priorities must be unique")
        priorities.add(priority)
        selection = rule.get("selection")
        if not isinstance(selection, dict):
            raise _fail(f"rule {priority} has no 'selection'")
        status = selection.get("tagStatus")
        prefixes, patterns = selection.get("tagPrefixList"), selection.get("tagPatternList")
        if status not in ("tagged", "untagged", "any"):
            raise _fail(f"rule {priority}: tagStatus must be 'tagged', 'untagged' or 'any'")
        if status == "tagged":
            if (prefixes is None) == (patterns is None):
                raise _fail(
                    f"rule {priority}: a tagged rule needs exactly one of tagPrefixList and tagPatternList"
                )
            values = prefixes if prefixes is not None else patterns
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) and v for v in values)
            ):
                raise _fail(f"rule {priority}: the tag list must be a non-empty list of strings")
            if patterns is not None and any(p.count("*") > 4 for p in patterns):
                raise _fail(f"rule {priority}: a tag pattern may have at most four wildcards")
        elif prefixes is not None or patterns is not None:
            raise _fail(f"rule {priority}: tag lists are only allowed when tagStatus is 'tagged'")
        if status == "untagged":
            untagged += 1
        count_type, number = selection.get("countType"), selection.get("countNumber")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise _fail(f"rule {priority}: countNumber must be an integer of at least 1")
        if count_type == "imageCountMoreThan":
            if "countUnit" in selection:
                raise _fail(f"rule {priority}: countUnit is only allowed with sinceImagePushed")
        elif count_type == "sinceImagePushed":
            if selection.get("countUnit") != "days":
                raise _fail(f"rule {priority}: sinceImagePushed needs countUnit 'days'")
        else:
            raise _fail(f"rule {priority}: countType must be 'imageCountMoreThan' or 'sinceImagePushed'")
        action = rule.get("action")
        if not isinstance(action, dict) or action.get("type") != "expire":
            raise _fail(f"rule {priority}: the action must be {{'type': 'expire'}}")
        rules.append(rule)
    if untagged > 1:
        raise _fail("only one rule may select untagged images")
    rules.sort(key=lambda r: int(r["rulePriority"]))
    for rule in rules[:-1]:
        if rule["selection"]["tagStatus"] == "any":
            raise _fail("a rule with tagStatus 'any' must have the highest rulePriority")
    return rules


def _matches(rule: dict[str, Any], image: LifecycleImage) -> bool:
    selection = rule["selection"]
    status = selection["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not image.tags
    if not image.tags:
        return False
    if "tagPrefixList" in selection:
        return all(any(t.startswith(p) for t in image.tags) for p in selection["tagPrefixList"])
    return all(
        any(fnmatch.fnmatchcase(t, p.replace("[", "[[]").replace("?", "[?]")) for t in image.tags)
        for p in selection["tagPatternList"]
    )


def evaluate(
    rules_or_text: str | Sequence[dict[str, Any]], images: Sequence[LifecycleImage], now: dt.datetime
) -> list[Expiry]:
    """Which images the policy expires at `now`, oldest first; raises `LifecyclePolicyError` for a bad policy."""
    rules = parse_policy(rules_or_text) if isinstance(rules_or_text, str) else list(rules_or_text)
    expired: dict[str, Expiry] = {}
    kept_by_rule: set[str] = set()
    for rule in rules:
        selection = rule["selection"]
        candidates = sorted(
            (i for i in images if _matches(rule, i)), key=lambda i: (i.pushed_at, i.digest), reverse=True
        )
        number = int(selection["countNumber"])
        if selection["countType"] == "imageCountMoreThan":
            chosen = candidates[number:]
        else:
            limit = now - dt.timedelta(days=number)
            chosen = [i for i in candidates if i.pushed_at < limit]
        chosen_digests = {i.digest for i in chosen}
        for image in chosen:
            if image.digest not in expired and image.digest not in kept_by_rule:
                expired[image.digest] = Expiry(image, int(rule["rulePriority"]))
        kept_by_rule.update(
            i.digest for i in candidates if i.digest not in chosen_digests and i.digest not in expired
        )
    return sorted(expired.values(), key=lambda e: (e.image.pushed_at, e.image.digest))
