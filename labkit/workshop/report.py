"""The instructor's report: a table of learners by checkpoint, progress over time, and a CSV export.

The HTML page is self-contained (inline CSS and an inline SVG chart, no script, nothing fetched), so
it opens offline from a file. Learners' strings (names, ids, lab and checkpoint ids, statuses) are
untrusted: the page escapes every one of them, and the CSV neutralises any cell a spreadsheet would
read as a formula (see `spreadsheet_safe`). It is built from the workshop's events file and roster file, which
stay in labkit's state folder after the workshop server stops.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError

__all__ = ["LearnerRow", "WorkshopReport", "build_report", "spreadsheet_safe", "write_report"]

#: What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list), and the full-width
#: forms some spreadsheets take for the same.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: object) -> object:
    """Return a CSV cell that no spreadsheet runs: text starting like a formula gets a leading `'`.

    Numbers labkit counted itself (ints) are left as numbers. Every string is judged the same way,
    a negative-looking one (`-1`) included: in this report every string is a learner's or an id, never
    a quantity, so `'-1` loses nothing and a crafted `-1+HYPERLINK(...)` gains nothing.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


_STATUSES = ("passed", "failed", "not-graded", "caught-up", "not-attempted")


@dataclass
class Cell:
    """One learner at one checkpoint."""

    status: str = "not-attempted"  # passed, failed, not-graded, caught-up, not-attempted
    attempts: int = 0
    hints: int = 0
    first_passed_at: str = ""
    last_at: str = ""


@dataclass
class LearnerRow:
    """One learner's row: a cell per checkpoint and the times they passed checkpoints."""

    learner: str
    name: str
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    done_times: list[dt.datetime] = field(default_factory=list)

    def passed(self) -> int:
        """How many checkpoints this learner has passed or caught up with."""
        return sum(c.status in ("passed", "caught-up") for c in self.cells.values())


@dataclass
class WorkshopReport:
    """Every learner by every checkpoint the workshop's labs have."""

    checkpoints: list[tuple[str, str]]  # (lab, checkpoint), in the labs' order
    rows: list[LearnerRow]
    started: dt.datetime | None
    generated_at: dt.datetime
    ended: dt.datetime | None = None

    def to_csv(self) -> str:
        """One line per learner and checkpoint, every cell safe to open in a spreadsheet."""
        out = io.StringIO()
        # RFC 4180 line ends: the writer quotes a field holding any character of the line terminator,
        # so a learner's lone "\r" cannot start a row of its own (with "\n" alone it would, unquoted).
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["learner", "name", "lab", "checkpoint", "status", "attempts", "hints", "first_passed_at", "last_event_at"])  # fmt: skip
        for row in self.rows:
            for key in self.checkpoints:
                cell = row.cells.get(key, Cell())
                values = [row.learner, row.name, key[0], key[1], cell.status, cell.attempts, cell.hints, cell.first_passed_at, cell.last_at]  # fmt: skip
                writer.writerow([spreadsheet_safe(value) for value in values])
        return out.getvalue()

    def to_html(self) -> str:
        """The dashboard page."""
        head = "".join(
            f'<th scope="col" title="{html.escape(lab)}">{html.escape(cp)}</th>'
            for lab, cp in self.checkpoints
        )
        body = []
        for row in self.rows:
            cells = []
            for key in self.checkpoints:
                cell = row.cells.get(key, Cell())
                detail = f"{cell.attempts} checks, {cell.hints} hints"
                # The status came from an event; an events file edited by hand may hold anything.
                status = cell.status if cell.status in _STATUSES else "not-graded"
                label = {"caught-up": "caught up", "not-attempted": "·", "not-graded": "not graded"}.get(
                    status, status
                )
                hint_mark = (
                    f' <span class="hints">{cell.hints} hint{"s" if cell.hints > 1 else ""}</span>'
                    if cell.hints
                    else ""
                )
                cells.append(f'<td class="{status}" title="{detail}">{html.escape(label)}{hint_mark}</td>')
            body.append(
                f'<tr><th scope="row">{html.escape(row.name)} <small>({html.escape(row.learner)})</small></th>'
                f'{"".join(cells)}<td class="total">{row.passed()}/{len(self.checkpoints)}</td></tr>'
            )
        started = self.started.isoformat(timespec="seconds") if self.started else "no events yet"
        return _PAGE.format(
            generated=html.escape(self.generated_at.isoformat(timespec="seconds")),
            started=html.escape(started),
            learners=len(self.rows),
            head=head,
            body="\n".join(body),
            chart=self.chart_svg(),
        )

    def chart_svg(self, width: int = 900, height: int = 320) -> str:
        """Checkpoints passed (or caught up) per learner over minutes since the first event, as inline SVG."""
        left, right, top, bottom = 50, 160, 20, 40
        plot_w, plot_h = width - left - right, height - top - bottom
        total = max(1, len(self.checkpoints))
        span = 60.0
        if self.started is not None:
            times = [t for r in self.rows for t in r.done_times] + [self.ended or self.started]
            span = max(span, (max(times) - self.started).total_seconds())

        def x(t: dt.datetime) -> float:
            assert self.started is not None
            return left + plot_w * (t - self.started).total_seconds() / span

        def y(n: int) -> float:
            return top + plot_h * (1 - n / total)

        parts = [
            f'<svg id="progress-chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="Checkpoints passed over time">',
            f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        ]
        for n in range(total + 1):
            parts.append(
                f'<text x="{left - 8}" y="{y(n) + 4:.1f}" text-anchor="end" font-size="11">{n}</text>'
            )
        minutes = span / 60
        for i in range(5):
            t = minutes * i / 4
            px = left + plot_w * i / 4
            parts.append(
                f'<text x="{px:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">{t:.3g} min</text>'
            )
        for index, row in enumerate(self.rows):
            colour = _COLOURS[index % len(_COLOURS)]
            if self.started is not None:
                points = [(x(self.started), y(0))]
                for count, when in enumerate(sorted(row.done_times), start=1):
                    points.append((x(when), points[-1][1]))
                    points.append((x(when), y(count)))
                points.append((left + plot_w, points[-1][1]))
                coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
                parts.append(
                    f'<polyline class="learner-line" points="{coords}" fill="none" stroke="{colour}" stroke-width="2">'
                    f"<title>{html.escape(row.name)}: {row.passed()} of {total}</title></polyline>"
                )
            ly = top + 14 * index + 10
            parts.append(
                f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
            )
            parts.append(
                f'<text x="{left + plot_w + 26}" y="{ly + 1}" font-size="11">{html.escape(row.name)}</text>'
            )
        parts.append("</svg>")
        return "".join(parts)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Workshop progress</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: center; font-size: 13px; }}
th[scope=row] {{ text-align: left; }}
td.passed {{ background: #c8efc8; }}
td.failed {{ background: #f8d0d0; }}
td.caught-up {{ background: #fff1b8; }}
td.not-graded {{ background: #e0e0e0; }}
td.not-attempted {{ color: #999; }}
td.total {{ font-weight: bold; }}
.hints {{ font-size: 10px; color: #555; }}
</style>
</head>
<body>
<h1>Workshop progress</h1>
<p>{learners} learners. First event {started}; generated {generated}.
Green: passed; yellow: caught up with the reference steps; red: last check failed; small print: hints shown.</p>
<table id="progress-table">
<thead><tr><th scope="col">learner</th>{head}<th scope="col">done</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
<h2>Checkpoints passed over time</h2>
{chart}
</body>
</html>
"""


def _checkpoint_order(labs: list[str], events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    from labkit.labs import load_lab

    order: list[tuple[str, str]] = []
    for lab in labs:
        # A lab this machine does not have: its checkpoints come in the order they were seen.
        with contextlib.suppress(LabkitError):
            order.extend((lab, cp) for cp in load_lab(lab).checkpoints.ids())
    for event in events:
        key = (event.get("lab", ""), event.get("checkpoint", ""))
        if key[1] and key not in order:
            order.append(key)
    return order


def build_report(
    events: list[dict[str, Any]], learners: list[dict[str, str]], *, now: dt.datetime | None = None
) -> WorkshopReport:
    """Fold the events into one row per learner (the roster's learners first, in its order)."""
    labs: list[str] = []
    for event in events:
        if event.get("lab") and event["lab"] not in labs:
            labs.append(event["lab"])
    checkpoints = _checkpoint_order(labs, events)
    rows = {a["learner"]: LearnerRow(a["learner"], a.get("name") or a["learner"]) for a in learners}
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    for event in sorted(events, key=lambda e: str(e.get("at", ""))):
        learner = str(event.get("learner", ""))
        row = rows.setdefault(learner, LearnerRow(learner, learner))
        at = dt.datetime.fromisoformat(str(event["at"]))
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        started = at if started is None or at < started else started
        ended = at if ended is None or at > ended else ended
        if not event.get("checkpoint"):
            continue
        cell = row.cells.setdefault((event["lab"], event["checkpoint"]), Cell())
        cell.last_at = at.isoformat()
        kind = event["kind"]
        if kind == "hint":
            cell.hints += 1
        elif kind == "catch-up" and cell.status != "passed":
            cell.status = "caught-up"
            row.done_times.append(at)
        elif kind == "check":
            cell.attempts += 1
            if event.get("status") == "passed":
                if cell.status not in ("passed", "caught-up"):
                    row.done_times.append(at)
                if cell.status != "caught-up":
                    cell.status = "passed"
                cell.first_passed_at = cell.first_passed_at or at.isoformat()
            elif cell.status not in ("passed", "caught-up"):
                cell.status = str(event.get("status", "failed"))
    return WorkshopReport(checkpoints, list(rows.values()), started, now or dt.datetime.now(dt.UTC), ended)


def write_report(out: Path, events_path: Path, roster_path: Path | None = None) -> dict[str, Path]:
    """Write `workshop-report.html` and `workshop-progress.csv` into `out`; return their paths.

    Raises `LabkitError` when the events file does not exist (no workshop has run here).
    """
    from labkit.workshop.progress import read_events

    if not events_path.exists():
        raise LabkitError(
            f"no workshop events at {events_path}; start a workshop with `labkit workshop start`"
        )
    learners: list[dict[str, str]] = []
    if roster_path is not None and roster_path.exists():
        learners = json.loads(roster_path.read_text(encoding="utf-8"))
    report = build_report(read_events(events_path), learners)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"html": out / "workshop-report.html", "csv": out / "workshop-progress.csv"}
    paths["html"].write_text(report.to_html(), encoding="utf-8")
    paths["csv"].write_text(report.to_csv(), encoding="utf-8", newline="")
    return paths
