"""The Copilot chapter says what Copilot was as AWS documents it: six manifest types, three places it
deployed to, its end of support, and a replacement for each manifest type."""

from __future__ import annotations

import re

from tests.conftest import REPO

COPILOT = REPO / "book" / "copilot.md"

#: Copilot's manifest types, as its manifests spell `type`, and what each ran on.
MANIFEST_TYPES = {
    "Load Balanced Web Service": "ECS on Fargate",
    "Backend Service": "ECS on Fargate",
    "Worker Service": "ECS on Fargate",
    "Request-Driven Web Service": "App Runner",
    "Static Site": "S3",
    "Scheduled Job": "ECS task on Fargate",
}


def _table_rows(text: str, header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table whose header row starts with `header`, by first cell."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_six_manifest_types_and_where_each_ran() -> None:
    """The types table lists exactly Copilot's six manifest types, each with the platform it ran on."""
    rows = _table_rows(COPILOT.read_text(encoding="utf-8"), "manifest `type` | ran on")
    assert set(rows) == set(MANIFEST_TYPES)
    for name, platform in MANIFEST_TYPES.items():
        assert platform in rows[name][0], (name, rows[name])


def test_every_manifest_type_has_a_replacement() -> None:
    """The migration table maps each of the six types to ECS Express Mode or the AWS CDK."""
    rows = _table_rows(COPILOT.read_text(encoding="utf-8"), "manifest `type` | move it to")
    assert set(rows) == set(MANIFEST_TYPES)
    for name, (target, how) in rows.items():
        assert re.search(r"ECS Express Mode|AWS CDK", target), (name, target)
        assert how, name
    assert rows["Load Balanced Web Service"][0] == "ECS Express Mode"
    assert rows["Static Site"][0] == "AWS CDK"


def test_the_end_of_support_and_the_three_targets_are_stated() -> None:
    """The date, Fargate, App Runner and S3 + CloudFront are named; EC2 is named only as a correction."""
    text = COPILOT.read_text(encoding="utf-8")
    assert text.startswith("# Copilot (retired) and how to move off it\n")
    assert "June 12, 2026" in text
    assert "six" in text.lower()
    for target in ("Fargate", "App Runner", "S3", "CloudFront"):
        assert target in text
    assert "five manifest types" not in text.lower()
