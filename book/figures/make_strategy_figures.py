"""Draw the deployment-strategy figures (SVG) from the emulator's own planners.

    python book/figures/make_strategy_figures.py          # rewrite the SVGs beside this file
    python book/figures/make_strategy_figures.py --check  # exit 1 if a committed SVG differs

- `strategy-blue-green.svg`, `strategy-linear.svg`, `strategy-canary.svg`: production traffic to the
  green revision over time, and every lifecycle stage on the same time axis, planned by
  `labkit.ecs.strategies.plan_deployment` (the planner the sandbox runs for each deployment).
- `strategy-task-counts.svg`: the tasks a 4-task service runs during a rolling update
  (`labkit.ecs.rolling.plan_rolling_update`) and during a blue/green deployment.

The figures are drawn at 672 px, the width the book shows them at, so 11 px text stays 11 px.
Each shift, stage and segment carries `data-*` attributes with the numbers it shows, so
tests/book/test_strategy_figures.py can read the figure back and compare it with the planners.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:
    # Run as a script from a clone: use this clone's labkit, not another installed copy.
    sys.path.insert(0, str(HERE.parents[1]))

from labkit.ecs.rolling import plan_rolling_update  # noqa: E402
from labkit.ecs.strategies import (  # noqa: E402
    DeploymentPlan,
    parse_deployment_configuration,
    plan_deployment,
)

OLD = "#8a9bb0"  # blue / old revision tasks (the rolling figures' colours)
NEW = "#2e8b57"  # green / new revision tasks
INK = "#222222"
MUTED = "#666666"
GRID = "#d0d7de"
STAGE = "#57606a"  # the lifecycle stage bars
BAKE = "#fdf1c7"
CANARY_BAKE = "#e3f1e8"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

#: The width the book shows a figure at (`:width: 100%` of the content column).
WIDTH = 672
#: How long the figures assume green's tasks (or a rolling update's new tasks) take to be healthy.
SCALE_UP_SECONDS = 120.0

#: The strategy figures: (file stem, title, deploymentConfiguration as the chapter writes it).
STRATEGIES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    (
        "strategy-blue-green",
        "Blue/green: production traffic to green over time",
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10},
    ),
    (
        "strategy-linear",
        "Linear: production traffic to green over time",
        {
            "strategy": "LINEAR",
            "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 5},
            "bakeTimeInMinutes": 10,
        },
    ),
    (
        "strategy-canary",
        "Canary: production traffic to green over time",
        {
            "strategy": "CANARY",
            "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 15},
            "bakeTimeInMinutes": 10,
        },
    ),
)

#: The task-count comparison: desired count, rolling panels (min %, max %), blue/green bake minutes.
TASKS_DESIRED = 4
TASKS_ROLLING = ((100, 200), (50, 100))
TASKS_BAKE_MINUTES = 10


def _svg(height: int, title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" {FONT}>'
    )
    return "\n".join([head, f"<title>{escape(title)}</title>", *body, "</svg>"]) + "\n"


def _text(x: float, y: float, text: str, size: int = 11, fill: str = INK, anchor: str = "start") -> str:
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}"{anchor_attr}>{escape(text)}</text>'


def _number(value: float) -> str:
    """A percentage or minute count as the book writes it: 25, 12.5."""
    return f"{value:g}"


def _axis_end_minutes(total_minutes: float) -> tuple[int, int]:
    """(axis length, tick step) in minutes: a tick step of 2 or 5 and one step of room at the end."""
    step = 2 if total_minutes <= 16 else 5
    return step * (math.floor(total_minutes / step) + 1), step


def _subtitle(config: Mapping[str, Any]) -> str:
    parts = []
    for key in ("linearConfiguration", "canaryConfiguration"):
        for name, value in (config.get(key) or {}).items():
            parts.append(f"{name} {_number(value)}")
    parts.append(f"bakeTimeInMinutes {config['bakeTimeInMinutes']}")
    return ", ".join(parts)


def plan_for(config: Mapping[str, Any]) -> DeploymentPlan:
    """The planner's plan of one figure's deployment (green healthy after SCALE_UP_SECONDS)."""
    return plan_deployment(parse_deployment_configuration(config), scale_up_seconds=SCALE_UP_SECONDS)


def strategy_svg(title: str, config: Mapping[str, Any]) -> str:
    """Production traffic to green (a step line) above every lifecycle stage on the same time axis."""
    plan = plan_for(config)
    total = plan.total_seconds / 60
    axis_minutes, tick = _axis_end_minutes(total)
    left, right = 240, WIDTH - 24
    top, plot_h = 92, 150
    bottom = top + plot_h
    row_h = 18
    rows: list[str] = []
    for stage in plan.stages:
        if stage.stage not in rows:
            rows.append(stage.stage)
    gantt_top = bottom + 56
    height = gantt_top + row_h * len(rows) + 10

    def x_of(seconds: float) -> float:
        return round(left + (right - left) * seconds / (axis_minutes * 60), 1)

    def y_of(percent: float) -> float:
        return round(bottom - plot_h * percent / 100, 1)

    body = [
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(10, 22, title, 15),
        _text(10, 42, _subtitle(config), 12, MUTED),
        _text(
            10,
            58,
            f"assumed: green is healthy {_number(SCALE_UP_SECONDS / 60)} min after the start; "
            "every hook answers SUCCEEDED at once",
            12,
            MUTED,
        ),
    ]
    # Bake bands first, so that lines and text are drawn over them.
    bake = next(s for s in plan.stages if s.stage == "BAKE_TIME")
    if plan.config.strategy == "CANARY" and plan.config.canary_bake_minutes:
        canary = plan.production_shifts[0]
        body.append(
            f'<g class="band" data-kind="canary-bake" data-start="{canary.start_seconds:g}" '
            f'data-end="{canary.end_seconds:g}">'
            f'<rect x="{x_of(canary.start_seconds)}" y="{top}" '
            f'width="{round(x_of(canary.end_seconds) - x_of(canary.start_seconds), 1)}" '
            f'height="{plot_h}" fill="{CANARY_BAKE}"/>'
            + _text(
                x_of(canary.start_seconds) + 6,
                top + 18,
                f"canary bake {plan.config.canary_bake_minutes} min",
                11,
                MUTED,
            )
            + "</g>"
        )
    if bake.duration_seconds:
        body.append(
            f'<g class="band" data-kind="bake" data-start="{bake.start_seconds:g}" '
            f'data-end="{bake.end_seconds:g}">'
            f'<rect x="{x_of(bake.start_seconds)}" y="{top}" '
            f'width="{round(x_of(bake.end_seconds) - x_of(bake.start_seconds), 1)}" '
            f'height="{plot_h}" fill="{BAKE}"/>'
            + _text(
                x_of(bake.start_seconds) + 6, top + 18, f"bake time {plan.config.bake_minutes} min", 11, MUTED
            )
            + "</g>"
        )
    # Grid, axes and tick labels.
    for minute in range(0, axis_minutes + 1, tick):
        x = x_of(minute * 60)
        body.append(
            f'<line x1="{x}" y1="{top}" x2="{x}" y2="{height - 8}" stroke="{GRID}" stroke-dasharray="2 3"/>'
        )
        body.append(_text(x, bottom + 16, str(minute), 11, MUTED, "middle"))
    for percent in (0, 50, 100):
        y = y_of(percent)
        body.append(f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{GRID}"/>')
        body.append(_text(left - 8, y + 4, f"{percent}%", 11, MUTED, "end"))
    body.append(_text(10, top + 64, "production traffic", 12))
    body.append(_text(10, top + 80, "to green", 12))
    body.append(
        _text((left + right) / 2, bottom + 34, "minutes since the deployment started", 11, MUTED, "middle")
    )
    # The production weight to green: 0 until the first shift, then each step's percentage.
    points = [(0.0, 0.0)]
    for shift in plan.production_shifts:
        green = shift.production[1]
        points.append((shift.start_seconds, points[-1][1]))
        points.append((shift.start_seconds, green))
    points.append((plan.total_seconds, points[-1][1]))
    path = " ".join(f"{x_of(t)},{y_of(p)}" for t, p in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="{NEW}" stroke-width="2.5"/>')
    for shift in plan.production_shifts:
        green = shift.production[1]
        body.append(
            f'<g class="shift" data-step="{shift.step}" data-green="{green:g}" '
            f'data-start="{shift.start_seconds:g}" data-wait="{shift.duration_seconds:g}">'
            f'<circle cx="{x_of(shift.start_seconds)}" cy="{y_of(green)}" r="3.5" fill="{NEW}"/>'
            + _text(x_of(shift.start_seconds) + 6, y_of(green) - 6, f"{_number(green)}%", 11, NEW)
            + "</g>"
        )
    # Every lifecycle stage on the same axis: a bar for a stage that lasts, a diamond for an instant.
    for index, name in enumerate(rows):
        y = gantt_top + index * row_h
        stages = [s for s in plan.stages if s.stage == name]
        spans = ";".join(f"{s.start_seconds:g}+{s.duration_seconds:g}" for s in stages)
        body.append(f'<g class="stage" data-stage="{name}" data-spans="{spans}">')
        body.append(_text(10, y + 4, name, 11))
        for stage in stages:
            x0 = x_of(stage.start_seconds)
            if stage.duration_seconds:
                width = round(x_of(stage.end_seconds) - x0, 1)
                body.append(f'<rect x="{x0}" y="{y - 5}" width="{width}" height="10" rx="2" fill="{STAGE}"/>')
            else:
                body.append(
                    f'<polygon points="{x0},{y - 6} {x0 + 5},{y} {x0},{y + 6} {x0 - 5},{y}" fill="{STAGE}"/>'
                )
        body.append("</g>")
    return _svg(height, title, body)


def rolling_segments(
    desired: int, minimum: int, maximum: int, end: float
) -> list[tuple[float, float, int, int]]:
    """(start s, end s, old tasks, new tasks) of a rolling update: each start step lasts
    SCALE_UP_SECONDS (the new tasks start and become healthy), a stop step is immediate."""
    plan = plan_rolling_update(desired, minimum, maximum)
    segments: list[tuple[float, float, int, int]] = []
    now, old, new = 0.0, desired, 0
    for step in plan.steps:
        old, new = step.old, step.new
        if step.action == "start":
            segments.append((now, now + SCALE_UP_SECONDS, old, new))
            now += SCALE_UP_SECONDS
    segments.append((now, end, old, new))
    return _merged(segments)


def blue_green_segments(
    desired: int, plan: DeploymentPlan, end: float
) -> list[tuple[float, float, int, int]]:
    """(start s, end s, blue tasks, green tasks): green runs the desired count from SCALE_UP until
    CLEAN_UP, when blue's tasks stop."""
    scale_up = next(s for s in plan.stages if s.stage == "SCALE_UP")
    clean_up = next(s for s in plan.stages if s.stage == "CLEAN_UP")
    segments = [
        (0.0, scale_up.start_seconds, desired, 0),
        (scale_up.start_seconds, clean_up.start_seconds, desired, desired),
        (clean_up.start_seconds, end, 0, desired),
    ]
    return _merged([s for s in segments if s[1] > s[0]])


def _merged(segments: list[tuple[float, float, int, int]]) -> list[tuple[float, float, int, int]]:
    merged: list[tuple[float, float, int, int]] = []
    for segment in segments:
        if merged and merged[-1][2:] == segment[2:] and merged[-1][1] == segment[0]:
            merged[-1] = (merged[-1][0], segment[1], *segment[2:])
        else:
            merged.append(segment)
    return merged


def task_counts_svg() -> str:
    """Stacked old/new task counts over time: rolling panels, then blue/green, on one time axis."""
    desired = TASKS_DESIRED
    plan = plan_for({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": TASKS_BAKE_MINUTES})
    axis_minutes, tick = _axis_end_minutes(plan.total_seconds / 60)
    end = axis_minutes * 60.0
    panels = [
        (f"rolling {low}/{high}", f"rolling-{low}-{high}", rolling_segments(desired, low, high, end))
        for low, high in TASKS_ROLLING
    ]
    panels.append(("blue/green", "blue-green", blue_green_segments(desired, plan, end)))
    left, right = 150, WIDTH - 24
    top = 112
    panel_h, gap = 100, 26
    most = 2 * desired
    height = top + len(panels) * (panel_h + gap) + 30
    title = f"Tasks running during a deployment of {desired} tasks"

    def x_of(seconds: float) -> float:
        return round(left + (right - left) * seconds / end, 1)

    body = [
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(10, 22, title, 15),
        _text(
            10,
            42,
            "rolling: minimumHealthyPercent/maximumPercent (100/200 are the defaults)",
            12,
            MUTED,
        ),
        _text(
            10,
            58,
            f"blue/green: bakeTimeInMinutes {TASKS_BAKE_MINUTES}; a new task is healthy "
            f"{_number(SCALE_UP_SECONDS / 60)} min after it starts",
            12,
            MUTED,
        ),
        f'<rect x="10" y="72" width="14" height="14" rx="2" fill="{OLD}"/>',
        _text(30, 83, "old (blue) revision", 12),
        f'<rect x="190" y="72" width="14" height="14" rx="2" fill="{NEW}"/>',
        _text(210, 83, "new (green) revision", 12),
        f'<line x1="380" y1="79" x2="410" y2="79" stroke="{INK}" stroke-dasharray="5 3"/>',
        _text(416, 83, f"desired count {desired}", 12),
    ]
    for index, (label, key, segments) in enumerate(panels):
        y0 = top + index * (panel_h + gap)
        base = y0 + panel_h

        def y_of(count: int, base: float = base) -> float:
            return round(base - panel_h * count / most, 1)

        body.append(f'<g class="panel" data-panel="{key}">')
        body.append(_text(10, y0 + panel_h / 2 + 4, label, 12))
        body.append(f'<rect x="{left}" y="{y0}" width="{right - left}" height="{panel_h}" fill="#f6f8fa"/>')
        for start, stop, old, new in segments:
            x0, x1 = x_of(start), x_of(stop)
            body.append(
                f'<g class="segment" data-start="{start:g}" data-end="{stop:g}" data-old="{old}" data-new="{new}">'
            )
            if old:
                body.append(
                    f'<rect x="{x0}" y="{y_of(old)}" width="{round(x1 - x0, 1)}" '
                    f'height="{round(base - y_of(old), 1)}" fill="{OLD}"/>'
                )
            if new:
                body.append(
                    f'<rect x="{x0}" y="{y_of(old + new)}" width="{round(x1 - x0, 1)}" '
                    f'height="{round(y_of(old) - y_of(old + new), 1)}" fill="{NEW}"/>'
                )
            body.append("</g>")
        y = y_of(desired)
        body.append(
            f'<line x1="{left}" y1="{y}" x2="{right}" y2="{y}" stroke="{INK}" stroke-dasharray="5 3"/>'
        )
        for count in (0, desired, most):
            body.append(_text(left - 8, y_of(count) + 4, str(count), 11, MUTED, "end"))
        body.append("</g>")
    last = top + len(panels) * (panel_h + gap) - gap
    for minute in range(0, axis_minutes + 1, tick):
        body.append(_text(x_of(minute * 60), last + 16, str(minute), 11, MUTED, "middle"))
    body.append(
        _text((left + right) / 2, last + 32, "minutes since the deployment started", 11, MUTED, "middle")
    )
    return _svg(height, title, body)


def render_all() -> dict[str, str]:
    """Every figure's file name and SVG text, drawn now from labkit's planners."""
    figures = {f"{stem}.svg": strategy_svg(title, config) for stem, title, config in STRATEGIES}
    figures["strategy-task-counts.svg"] = task_counts_svg()
    return figures


def main(argv: list[str]) -> int:
    """Write the figures (or, with --check, report the ones that differ); return the exit code."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from make_figures import write_or_check

    return write_or_check(render_all(), argv, "make_strategy_figures.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
