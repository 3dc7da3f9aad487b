"""The instructor's dashboard and CSV export, built from progress events; the page checked in Chromium."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from labkit.workshop.report import build_report, write_report
from tests.browser import chromium

REPO = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
LAB = "nginx-alb"


def event(
    learner: str, minute: float, kind: str, checkpoint: str | None = None, status: str | None = None
) -> dict[str, Any]:
    at = (START + dt.timedelta(minutes=minute)).isoformat()
    return {
        "learner": learner,
        "kind": kind,
        "lab": LAB,
        "checkpoint": checkpoint,
        "status": status,
        "at": at,
    }


EVENTS = [
    event("ada", 0, "open"),
    event("bob", 1, "open"),
    event("ada", 3, "check", "security-groups-chained", "failed"),
    event("ada", 4, "hint", "security-groups-chained"),
    event("ada", 6, "check", "security-groups-chained", "passed"),
    event("ada", 9, "check", "cluster-created", "passed"),
    event("bob", 12, "catch-up", "security-groups-chained"),
    event("bob", 14, "check", "cluster-created", "failed"),
]
ROSTER = [
    {"learner": "ada", "name": "Ada Lovelace"},
    {"learner": "bob", "name": "Bob"},
    {"learner": "cy", "name": "Cy"},
]


def test_the_table_folds_events_per_learner_and_checkpoint() -> None:
    """Passes, failures, hints and catch-ups land in the right cells; a learner with no events is listed."""
    report = build_report(EVENTS, ROSTER)
    assert [r.learner for r in report.rows] == ["ada", "bob", "cy"]
    assert report.checkpoints[0] == (LAB, "security-groups-chained")
    ada, bob, cy = report.rows
    first = ada.cells[(LAB, "security-groups-chained")]
    assert (first.status, first.attempts, first.hints) == ("passed", 2, 1)
    assert ada.passed() == 2
    assert bob.cells[(LAB, "security-groups-chained")].status == "caught-up"
    assert bob.cells[(LAB, "cluster-created")].status == "failed"
    assert cy.passed() == 0
    assert report.started == START


def test_the_csv_has_a_row_per_learner_and_checkpoint(tmp_path: Path) -> None:
    """The CSV export has learner, checkpoint, status, attempts and hints for every pair."""
    events_path = tmp_path / "events.jsonl"
    events_path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS) + '{"torn line\n')
    roster_path = tmp_path / "roster.json"
    roster_path.write_text(json.dumps(ROSTER))
    paths = write_report(tmp_path / "out", events_path, roster_path)
    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    checkpoints = len(build_report(EVENTS, ROSTER).checkpoints)
    assert len(rows) == 3 * checkpoints
    ada_first = next(
        r for r in rows if r["learner"] == "ada" and r["checkpoint"] == "security-groups-chained"
    )
    assert ada_first == {
        "learner": "ada",
        "name": "Ada Lovelace",
        "lab": LAB,
        "checkpoint": "security-groups-chained",
        "status": "passed",
        "attempts": "2",
        "hints": "1",
        "first_passed_at": (START + dt.timedelta(minutes=6)).isoformat(),
        "last_event_at": (START + dt.timedelta(minutes=6)).isoformat(),
    }


def test_the_page_loads_nothing_from_outside() -> None:
    """The HTML has no script, no stylesheet link and no image URL: it is one self-contained file."""
    page = build_report(EVENTS, ROSTER).to_html()
    assert "<script" not in page
    assert "<link" not in page
    assert "src=" not in page


@pytest.mark.browser
def test_the_dashboard_renders_in_chromium(tmp_path: Path) -> None:
    """In headless Chromium the table and chart render, with no console error and no external request."""
    events_path = tmp_path / "events.jsonl"
    events_path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    roster_path = tmp_path / "roster.json"
    roster_path.write_text(json.dumps(ROSTER))
    paths = write_report(tmp_path / "out", events_path, roster_path)
    with (
        chromium(REPO / "results" / "browser") as browser,
        browser.visit(paths["html"].as_uri(), screenshot="workshop-report.png") as (page, visit),
    ):
        assert page.locator("#progress-table tbody tr").count() == 3
        assert page.locator("#progress-table td.passed").count() == 2
        assert page.locator("#progress-table td.caught-up").count() == 1
        chart = page.locator("#progress-chart")
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 400
        assert page.locator("#progress-chart polyline.learner-line").count() == 3
        assert visit.errors == []
        assert visit.external_requests == []
    assert (REPO / "results" / "browser" / "workshop-report.png").stat().st_size > 10_000
