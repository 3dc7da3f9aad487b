"""Draw the book's figures (SVG) from the emulator's own rules, so the book shows what labkit does.

    python book/figures/make_figures.py          # rewrite the SVGs beside this file
    python book/figures/make_figures.py --check  # exit 1 if a committed SVG differs from what it draws

- `rolling-*.svg`: rolling updates planned by `labkit.ecs.rolling.plan_rolling_update`.
- `placement-grid.svg`: tasks placed by `labkit.ecs.placement.place_tasks` under several strategies.

Each column or cell carries `data-*` attributes with the numbers it shows, so tests can read the
figure back and compare it with the rules (tests/book/test_figures.py).
"""

from __future__ import annotations

import random
import sys
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parents[1]) not in sys.path:
    # Run as a script from a clone: use this clone's labkit, not another installed copy.
    sys.path.insert(0, str(HERE.parents[1]))

from labkit.ecs.placement import (  # noqa: E402
    Instance,
    PlacementConstraint,
    PlacementStrategy,
    TaskRequirements,
    place_tasks,
)
from labkit.ecs.rolling import plan_rolling_update, rolling_bounds  # noqa: E402

OLD = "#8a9bb0"  # v1 tasks
NEW = "#2e8b57"  # v2 tasks
INK = "#222222"
MUTED = "#666666"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'

#: The rolling updates the book draws: (file stem, desired, minimumHealthyPercent, maximumPercent).
ROLLING = (
    ("rolling-50-100", 4, 50, 100),
    ("rolling-100-150", 4, 100, 150),
    ("rolling-100-100", 4, 100, 100),
)


#: Width of one character in em, estimated on the generous side for DejaVu Sans (tests/book/
#: test_figure_layout.py uses the same figures to check that no text overlaps or is cut off).
EM_WIDTH = {"normal": 0.62, "bold": 0.68}


def text_width(text: str, size: int, weight: str = "normal") -> float:
    """The width a text takes at a font size, estimated generously."""
    return len(text) * size * EM_WIDTH[weight]


def wrap(text: str, size: int, width: float) -> list[str]:
    """The text cut into lines (at spaces) that each fit in `width` pixels at `size`."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def text_lines(x: float, y: float, lines: list[str], size: int, colour: str, **extra: str) -> list[str]:
    """One `<text>` per line, `size * 1.4` apart, starting with the baseline `y`."""
    attributes = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in extra.items())
    return [
        f'<text x="{x:g}" y="{y + i * round(size * 1.4):g}" font-size="{size}" fill="{colour}"{attributes}>'
        f"{escape(line)}</text>"
        for i, line in enumerate(lines)
    ]


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" {FONT}>'
    )
    return "\n".join([head, f"<title>{escape(title)}</title>", *body, "</svg>"]) + "\n"


def rolling_svg(desired: int, minimum_healthy_percent: int, maximum_percent: int) -> str:
    """A timeline of one rolling update: one column of tasks per state, bounds as dashed lines.

    The ceiling's label sits above its line and the floor's below its own, and the two lines are
    drawn 2 px apart, so that equal bounds (100/100) still show both lines and both labels.
    """
    plan = plan_rolling_update(desired, minimum_healthy_percent, maximum_percent)
    lower, upper = rolling_bounds(desired, minimum_healthy_percent, maximum_percent)
    states = [(desired, 0, "start")] + [(s.old, s.new, f"{s.action} {s.count}") for s in plan.steps]
    cell, gap, column = 26, 4, 92
    rows = max(upper, desired, max(o + n for o, n, _ in states))
    left = 70
    width = max(left + column * len(states) + 20, 620)
    title = (
        f"Rolling update of {desired} tasks, minimumHealthyPercent {minimum_healthy_percent}, "
        f"maximumPercent {maximum_percent}"
    )
    subtitle = (
        f"lower bound ceil({desired} x {minimum_healthy_percent}%) = {lower} healthy, upper bound "
        f"floor({desired} x {maximum_percent}%) = {upper} running or pending"
    )
    title_lines, subtitle_lines = wrap(title, 15, width - 20), wrap(subtitle, 12, width - 20)
    y = 22
    body = [f'<rect x="0" y="0" width="{width}" height="HEIGHT" fill="#ffffff"/>']
    body += text_lines(10, y, title_lines, 15, INK)
    y += len(title_lines) * 21
    body += text_lines(10, y, subtitle_lines, 12, MUTED)
    y += (len(subtitle_lines) - 1) * 17
    top = y + 24  # room for the ceiling's label above the highest line
    bottom = top + rows * (cell + gap)

    def y_of(count: int) -> int:
        return bottom - count * (cell + gap) + gap // 2

    for label, count, colour, shift, label_dy in (
        ("min", lower, "#c0392b", 2, 15),
        ("max", upper, "#2c6fbb", -2, -5),
    ):
        line_y = y_of(count) + shift
        body.append(
            f'<line class="bound" data-bound="{label}" x1="{left - 8}" y1="{line_y}" x2="{width - 12}" '
            f'y2="{line_y}" stroke="{colour}" stroke-dasharray="6 4" stroke-width="1.5"/>'
        )
        body.append(f'<text x="8" y="{line_y + label_dy}" font-size="12" fill="{colour}">{label} {count}</text>')
    for index, (old, new, label) in enumerate(states):
        x = left + index * column
        body.append(f'<g class="state" data-step="{index}" data-old="{old}" data-new="{new}">')
        for slot in range(old + new):
            colour, text = (OLD, "v1") if slot < old else (NEW, "v2")
            cell_y = bottom - (slot + 1) * (cell + gap) + gap
            body.append(
                f'<rect x="{x}" y="{cell_y}" width="{column - 24}" height="{cell}" rx="4" fill="{colour}"/>'
                f'<text x="{x + (column - 24) // 2}" y="{cell_y + 18}" font-size="12" fill="#ffffff" '
                f'text-anchor="middle">{text}</text>'
            )
        body.append(
            f'<text x="{x + (column - 24) // 2}" y="{bottom + 22}" font-size="12" fill="{INK}" '
            f'text-anchor="middle">({old},{new})</text>'
            f'<text x="{x + (column - 24) // 2}" y="{bottom + 40}" font-size="11" fill="{MUTED}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
        body.append("</g>")
    height = bottom + 56
    if plan.stalled_reason:
        lines = wrap(f"stalled: {plan.stalled_reason}", 12, width - 20)
        body += text_lines(10, bottom + 68, lines, 12, "#c0392b")
        height = bottom + 68 + (len(lines) - 1) * 17 + 14
    body[0] = body[0].replace("HEIGHT", str(height))
    return _svg(width, height, title, body)


#: The container instances of the placement figure: (id, instance type, availability zone).
PLACEMENT_INSTANCES = (
    ("i-1", "t3.medium", "us-east-1a"),
    ("i-2", "t3.medium", "us-east-1a"),
    ("i-3", "t3.medium", "us-east-1b"),
    ("i-4", "t2.medium", "us-east-1c"),
)
#: The task of the placement figure: 512 CPU units, 1024 MiB; and how many are placed.
PLACEMENT_TASK = TaskRequirements(cpu=512, memory=1024, group="service:web")
PLACEMENT_COUNT = 6
#: The panels: (caption, strategies, constraints).
PLACEMENT_PANELS: tuple[tuple[str, tuple[PlacementStrategy, ...], tuple[PlacementConstraint, ...]], ...] = (
    ("binpack memory", (PlacementStrategy("binpack", "memory"),), ()),
    (
        "spread AZ, then spread instanceId",
        (
            PlacementStrategy("spread", "attribute:ecs.availability-zone"),
            PlacementStrategy("spread", "instanceId"),
        ),
        (),
    ),
    ("random (seeded)", (PlacementStrategy("random"),), ()),
    (
        "spread AZ + distinctInstance + memberOf t3.*",
        (PlacementStrategy("spread", "attribute:ecs.availability-zone"),),
        (
            PlacementConstraint("distinctInstance"),
            PlacementConstraint("memberOf", "attribute:ecs.instance-type =~ t3.*"),
        ),
    ),
)


def placement_instances() -> list[Instance]:
    """The figure's empty container instances."""
    return [
        Instance.of_type(f"arn:aws:ecs:us-east-1:123456789012:container-instance/demo/{iid}", iid, itype, az)
        for iid, itype, az in PLACEMENT_INSTANCES
    ]


def placement_svg() -> str:
    """Panels of instances (columns) holding the numbered tasks each strategy put there.

    Drawn 2 x 2 and at most about 780 px wide, so that its smallest text (12 px) still shows at more
    than 10 px in the book's 672 px column.
    """
    cell, gap, col_w, col_gap = 24, 4, 80, 8
    slots = 4
    panel_w = len(PLACEMENT_INSTANCES) * (col_w + col_gap) + 12
    width = panel_w * 2 + 30
    title = (
        f"Placing {PLACEMENT_COUNT} tasks (512 CPU units, 1024 MiB each) on four instances, "
        "by strategy and constraint"
    )
    subtitle = (
        "Numbers are the order of placement. A t3.medium or t2.medium registers 2048 CPU units and "
        "3993 MiB, so 3 of these tasks fit on one."
    )
    title_lines, subtitle_lines = wrap(title, 15, width - 20), wrap(subtitle, 12, width - 20)
    body = [f'<rect x="0" y="0" width="{width}" height="HEIGHT" fill="#ffffff"/>']
    body += text_lines(10, 22, title_lines, 15, INK)
    sub_y = 22 + len(title_lines) * 21
    body += text_lines(10, sub_y, subtitle_lines, 12, MUTED)
    panels_top = sub_y + (len(subtitle_lines) - 1) * 17 + 16
    results = [
        place_tasks(
            PLACEMENT_TASK,
            PLACEMENT_COUNT,
            placement_instances(),
            strategies,
            constraints,
            rng=random.Random(7),
        )
        for _, strategies, constraints in PLACEMENT_PANELS
    ]
    notes = [
        wrap(f"{len(r.failures)} not placed: {r.failures[0].reason}" if r.failures else "all placed", 12, panel_w - 20)
        for r in results
    ]
    panel_h = 88 + slots * (cell + gap) + 16 + max(len(n) for n in notes) * 17 + 8
    height = panels_top + panel_h * 2 + 10
    for panel, ((caption, _, _), result, note) in enumerate(zip(PLACEMENT_PANELS, results, notes)):
        ox = 10 + (panel % 2) * (panel_w + 10)
        oy = panels_top + (panel // 2) * panel_h
        body.append(
            f'<g class="panel" data-caption="{escape(caption)}" data-failures="{len(result.failures)}">'
            f'<rect x="{ox}" y="{oy}" width="{panel_w}" height="{panel_h - 10}" rx="6" fill="#f6f8fa" '
            f'stroke="#d0d7de"/>'
            f'<text x="{ox + 8}" y="{oy + 20}" font-size="13" fill="{INK}">{escape(caption)}</text>'
        )
        for index, (iid, itype, az) in enumerate(PLACEMENT_INSTANCES):
            x = ox + 8 + index * (col_w + col_gap)
            arn = placement_instances()[index].arn
            tasks = [p.task_index + 1 for p in result.placements if p.instance_arn == arn]
            body.append(
                f'<g class="instance" data-instance="{iid}" data-tasks="{",".join(map(str, tasks))}">'
                f'<text x="{x + col_w // 2}" y="{oy + 42}" font-size="12" fill="{INK}" '
                f'text-anchor="middle">{iid}</text>'
                f'<text x="{x + col_w // 2}" y="{oy + 58}" font-size="12" fill="{INK}" '
                f'text-anchor="middle">{itype}</text>'
                f'<text x="{x + col_w // 2}" y="{oy + 74}" font-size="12" fill="{MUTED}" '
                f'text-anchor="middle">{az}</text>'
            )
            base = oy + 84
            body.append(
                f'<rect x="{x}" y="{base}" width="{col_w}" height="{slots * (cell + gap) + gap}" '
                f'fill="#ffffff" stroke="#8c959f"/>'
            )
            for slot, number in enumerate(tasks):
                y = base + slots * (cell + gap) - (slot + 1) * (cell + gap) + gap
                body.append(
                    f'<rect x="{x + 5}" y="{y}" width="{col_w - 10}" height="{cell}" rx="4" fill="{NEW}"/>'
                    f'<text x="{x + col_w // 2}" y="{y + 17}" font-size="12" fill="#ffffff" '
                    f'text-anchor="middle">task {number}</text>'
                )
            body.append("</g>")
        colour = "#c0392b" if result.failures else MUTED
        body += text_lines(ox + 8, oy + 84 + slots * (cell + gap) + gap + 22, note, 12, colour)
        body.append("</g>")
    body[0] = body[0].replace("HEIGHT", str(height))
    return _svg(width, height, title, body)


def render_all() -> dict[str, str]:
    """Every figure's file name and SVG text, drawn now from labkit's rules."""
    figures = {f"{stem}.svg": rolling_svg(d, low, high) for stem, d, low, high in ROLLING}
    figures["placement-grid.svg"] = placement_svg()
    return figures


def main(argv: list[str]) -> int:
    """Write the figures (or, with --check, report the ones that differ); return the exit code."""
    check = "--check" in argv
    stale = []
    for name, text in render_all().items():
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parents[1])}")
    if stale:
        print(f"stale figures (run python book/figures/make_figures.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
