"""Draw the book's figures (SVG) from the emulator's own rules, so the book shows what labkit does.

    python book/figures/make_figures.py          # rewrite the SVGs beside this file
    python book/figures/make_figures.py --check  # exit 1 if a committed SVG differs from what it draws

- `rolling-*.svg`: rolling updates planned by `labkit.ecs.rolling.plan_rolling_update`.
- `placement-grid.svg`: tasks placed by `labkit.ecs.placement.place_tasks` under several strategies.
- `service-scheduler.svg`, `autoscaling-layers.svg`, `event-driven-architectures.svg`,
  `ecr-push-flow.svg`: diagrams (boxes and arrows) of the services, autoscaling, event-driven and
  ECR chapters, laid out here so that their text is wrapped to fit, like the figures above.

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
        body.append(
            f'<text x="8" y="{line_y + label_dy}" font-size="12" fill="{colour}">{label} {count}</text>'
        )
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
        wrap(
            f"{len(r.failures)} not placed: {r.failures[0].reason}" if r.failures else "all placed",
            12,
            panel_w - 20,
        )
        for r in results
    ]
    panel_h = 88 + slots * (cell + gap) + 16 + max(len(n) for n in notes) * 17 + 8
    height = panels_top + panel_h * 2 + 10
    for panel, ((caption, _, _), result, note) in enumerate(
        zip(PLACEMENT_PANELS, results, notes, strict=True)
    ):
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


#: Fills and strokes of the diagrams' boxes, by role.
STYLES = {
    "aws": ("#fdf1e3", "#c05621"),
    "ecs": ("#e6f6ec", "#2f855a"),
    "you": ("#e3f0fc", "#2b6cb0"),
    "data": ("#f1ebfb", "#6b46c1"),
    "band": ("#f6f8fa", "#d0d7de"),
}
ARROW_DEFS = (
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
    'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#52606d"/></marker></defs>'
)


class Diagram:
    """Boxes with centred, wrapped text, and arrows between them, drawn into an SVG body."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.body: list[str] = [ARROW_DEFS]

    def title(self, y: int, text: str, subtitle: str = "") -> int:
        """A title (and a muted subtitle) at the top left; returns the y below them."""
        lines = wrap(text, 15, self.width - 20)
        self.body += text_lines(10, y, lines, 15, INK)
        y += len(lines) * 21
        if subtitle:
            sub = wrap(subtitle, 12, self.width - 20)
            self.body += text_lines(10, y, sub, 12, MUTED)
            y += len(sub) * 17
        return y

    @staticmethod
    def _lines(w: int, texts: list[str]) -> list[tuple[str, str, str]]:
        """(line, weight, colour) of a box's texts wrapped to its width; a word too long is an error."""
        lines: list[tuple[str, str, str]] = []
        for index, text in enumerate(texts):
            weight = "bold" if index == 0 else "normal"
            room = w - 14
            for line in wrap(text, 12, room * EM_WIDTH["normal"] / EM_WIDTH[weight]):
                if text_width(line, 12, weight) > room:
                    raise ValueError(f"{line!r} does not fit in a box {w} px wide")
                lines.append((line, weight, INK if index == 0 else MUTED))
        return lines

    def measure(self, w: int, texts: list[str]) -> int:
        """The height a box `w` wide needs for its texts."""
        return len(self._lines(w, texts)) * 16 + 14

    def box(self, x: float, y: float, w: int, texts: list[str], style: str, h: int = 0) -> int:
        """A rounded box, its first text in bold and the others muted; returns its height."""
        fill, stroke = STYLES[style]
        lines = self._lines(w, texts)
        height = max(h, len(lines) * 16 + 14)
        self.body.append(
            f'<rect x="{x:g}" y="{y:g}" width="{w}" height="{height}" rx="8" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.5"/>'
        )
        first = y + (height - len(lines) * 16) / 2 + 12
        for index, (line, weight, colour) in enumerate(lines):
            self.body.append(
                f'<text x="{x + w / 2:g}" y="{first + index * 16:g}" font-size="12" '
                f'font-weight="{weight}" text-anchor="middle" fill="{colour}">{escape(line)}</text>'
            )
        return height

    def row(self, xs: list[float], y: float, w: int, boxes: list[tuple[list[str], str]]) -> int:
        """Boxes of one height side by side at `xs`; returns the height."""
        height = max(self.measure(w, texts) for texts, _ in boxes)
        for x, (texts, style) in zip(xs, boxes, strict=True):
            self.box(x, y, w, texts, style, h=height)
        return height

    def band(self, x: int, y: int, w: int, h: int, label: str) -> None:
        """A light background band with a label at its top left."""
        fill, stroke = STYLES["band"]
        self.body.append(
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + 10}" y="{y + 19}" font-size="13" font-weight="bold" fill="{INK}">{escape(label)}</text>'
        )

    def arrow(
        self, x1: float, y1: float, x2: float, y2: float, label: str = "", dx: int = 0, dy: int = -6
    ) -> None:
        """An arrow from (x1, y1) to (x2, y2), with an optional label beside its middle."""
        self.body.append(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="#52606d" stroke-width="1.6" '
            f'marker-end="url(#arrow)"/>'
        )
        if label:
            self.body.append(
                f'<text x="{(x1 + x2) / 2 + dx:g}" y="{(y1 + y2) / 2 + dy:g}" font-size="12" '
                f'text-anchor="middle" fill="{MUTED}">{escape(label)}</text>'
            )

    def note(self, x: int, y: int, text: str, width: int, colour: str = MUTED) -> int:
        """Wrapped muted text from (x, y); returns the y below it."""
        lines = wrap(text, 12, width)
        self.body += text_lines(x, y, lines, 12, colour)
        return y + len(lines) * 17

    def svg(self, height: int, title: str) -> str:
        background = f'<rect x="0" y="0" width="{self.width}" height="{height}" fill="#ffffff"/>'
        return _svg(self.width, height, title, [background, *self.body])


def service_scheduler_svg() -> str:
    """The service scheduler's loop: compare running and pending tasks with the desired count, act."""
    d = Diagram(680)
    title = "The service scheduler's loop"
    top = d.title(22, title, "It runs again whenever something changes, until the counts match.") + 8
    goal = d.box(240, top, 200, ["desiredCount: 3", "set by you or by service autoscaling"], "you")
    mid = top + goal + 36
    h = d.row(
        [10, 220, 490],
        mid,
        180,
        [
            (["too few: start", "place them; PROVISIONING, PENDING, RUNNING"], "ecs"),
            (["compare", "RUNNING + PENDING tasks with desiredCount"], "ecs"),
            (["too many: stop", "after a scale-in, or old tasks of a deployment"], "ecs"),
        ],
    )
    low = mid + h + 40
    tasks = d.box(
        130,
        low,
        420,
        [
            "the service's tasks",
            "a task stops: its essential container exits, it fails its health checks, someone "
            "stops it, or its instance goes away",
        ],
        "aws",
    )
    d.arrow(340, top + goal, 310, mid)
    d.arrow(220, mid + h / 2, 190, mid + h / 2)
    d.arrow(400, mid + h / 2, 490, mid + h / 2)
    d.arrow(100, mid + h, 180, low)
    d.arrow(580, mid + h, 500, low)
    d.arrow(370, low, 370, mid + h, "any change: compare again", dx=-84, dy=4)
    return d.svg(low + tasks + 12, title)


def autoscaling_layers_svg() -> str:
    """The two scaling layers: service autoscaling of tasks, capacity provider scaling of instances."""
    d = Diagram(680)
    title = "Two layers of scaling: tasks, then the instances they run on"
    top = (
        d.title(22, title, "With Fargate only the first layer exists: AWS finds capacity for each task.") + 8
    )
    w, gap = 148, 18
    xs = [16 + i * (w + gap) for i in range(4)]
    row1 = [
        (["metric", "CloudWatch: CPU, memory or requests per target"], "aws"),
        (["policy", "target tracking, step or scheduled"], "you"),
        (["desiredCount", "service/demo/web, between min and max"], "ecs"),
        (["tasks", "started and stopped by the service scheduler"], "ecs"),
    ]
    h1 = max(d.measure(w, texts) for texts, _ in row1)
    d.band(6, top, 668, h1 + 46, "1. Service Auto Scaling (Application Auto Scaling): how many tasks")
    d.row(xs, top + 32, w, row1)
    for x in xs[:-1]:
        d.arrow(x + w, top + 32 + h1 / 2, x + w + gap, top + 32 + h1 / 2)
    second = top + h1 + 46 + 56
    w2, gap2 = 216, 10  # wide enough for "CapacityProviderReservation" on one line
    xs2 = [8 + i * (w2 + gap2) for i in range(3)]
    row2 = [
        (["instances", "the Auto Scaling group adds EC2 instances; they register with the cluster"], "aws"),
        (["managed scaling", "CapacityProviderReservation kept at targetCapacity"], "ecs"),
        (["tasks waiting", "no instance has room: they stay PROVISIONING"], "ecs"),
    ]
    h2 = max(d.measure(w2, texts) for texts, _ in row2)
    d.band(2, second, 676, h2 + 46, "2. Capacity provider managed scaling (EC2 only): how many instances")
    d.row(xs2, second + 32, w2, row2)
    for x in xs2[:-1]:
        d.arrow(x + w2 + gap2, second + 32 + h2 / 2, x + w2, second + 32 + h2 / 2)
    d.arrow(xs[3] + w / 2, top + 32 + h1, xs[3] + w / 2, second + 32, "need room", dx=-40, dy=4)
    d.arrow(xs[0] + w / 2, second + 32, xs[0] + w / 2, top + 32 + h1, "room for tasks", dx=52, dy=4)
    return d.svg(second + h2 + 56, title)


def event_driven_svg() -> str:
    """The chapter's four event-driven architectures, one row each."""
    d = Diagram(680)
    title = "Four event-driven architectures"
    y = d.title(22, title) + 4
    w, gap = 144, 22
    xs = [28 + i * (w + gap) for i in range(4)]
    rows = [
        [
            (["S3 upload", "bucket uploads-demo"], "data"),
            (["EventBridge", "rule: Object Created"], "aws"),
            (["ECS task", "RunTask on Fargate"], "ecs"),
            (["DynamoDB", "one item per object"], "data"),
        ],
        [
            (["schedule", "rate(1 hour)"], "you"),
            (["EventBridge", "rule with a schedule"], "aws"),
            (["ECS task", "the batch job"], "ecs"),
            (["S3", "a summary object"], "data"),
        ],
        [
            (["SQS queue", "jobs"], "data"),
            (["ECS service", "workers poll the queue"], "ecs"),
            (["backlog", "visible messages per task"], "aws"),
            (["target tracking", "sets desiredCount"], "you"),
        ],
        [
            (["task stops", "ECS Task State Change"], "ecs"),
            (["EventBridge", "rule: lastStatus STOPPED"], "aws"),
            (["SNS topic", "task-stopped"], "aws"),
            (["e-mail", "to a confirmed subscriber"], "you"),
        ],
    ]
    for number, row in enumerate(rows, start=1):
        h = d.row(xs, y, w, row)
        d.body.append(
            f'<text x="8" y="{y + h / 2 + 5:g}" font-size="14" font-weight="bold" fill="{INK}">{number}</text>'
        )
        for x in xs[:-1]:
            d.arrow(x + w, y + h / 2, x + w + gap, y + h / 2)
        if number == 3:
            d.body.append(
                f'<path d="M{xs[3] + w / 2:g} {y + h:g} V{y + h + 14:g} H{xs[1] + w / 2:g} V{y + h + 2:g}" '
                f'fill="none" stroke="#52606d" stroke-width="1.6" marker-end="url(#arrow)"/>'
            )
            y += 16
        y += h + 16
    return d.svg(y, title)


def ecr_push_svg() -> str:
    """The ECR push flow: build, log in, tag, push from your machine; ECS pulls with its role."""
    d = Diagram(680)
    title = "Pushing an image to ECR, and ECS pulling it"
    top = (
        d.title(22, title, "REGISTRY is ACCOUNT.dkr.ecr.REGION.amazonaws.com, one per account and Region.")
        + 8
    )
    steps = [
        ["1. docker build -t hello .", "the image, with its layers"],
        ["2. aws ecr get-login-password | docker login", "user AWS, a 12-hour token, for REGISTRY"],
        ["3. docker tag hello REGISTRY/hello:1.0", "a second name: the repository URI and a tag"],
        ["4. docker push REGISTRY/hello:1.0", "uploads the layers ECR does not have yet"],
    ]
    y = top + 32
    placed = []
    for texts in steps:
        h = d.box(18, y, 290, texts, "you")
        placed.append((y, h))
        y += h + 12
    bottom = y
    login_y, login_h = placed[1]
    push_y, push_h = placed[3]
    registry = d.box(
        356, login_y, 302, ["registry REGISTRY", "private: IAM says who may push and pull"], "aws"
    )
    repo_h = d.box(356, push_y - 24, 302, ["repository hello", "image hello:1.0, by tag or by digest"], "aws")
    task_y = push_y - 24 + repo_h + 36
    task_h = d.box(356, task_y, 302, ["ECS task", "pulls hello:1.0 with the task execution role"], "ecs")
    bottom = max(bottom, task_y + task_h + 12)
    d.body.insert(1, "")  # keep the bands under the boxes: drawn next, then moved to the front
    bands = Diagram(680)
    bands.band(6, top, 316, bottom - top, "your machine")
    bands.band(338, top, 336, bottom - top, "AWS")
    d.body[1:2] = bands.body[1:]
    d.arrow(308, login_y + login_h / 2, 356, login_y + registry / 2)
    d.arrow(308, push_y + push_h / 2, 356, push_y - 24 + repo_h / 2)
    d.arrow(507, push_y - 24 + repo_h, 507, task_y, "pull", dx=20, dy=4)
    return d.svg(bottom + 10, title)


def render_all() -> dict[str, str]:
    """Every figure's file name and SVG text, drawn now from labkit's rules."""
    figures = {f"{stem}.svg": rolling_svg(d, low, high) for stem, d, low, high in ROLLING}
    figures["placement-grid.svg"] = placement_svg()
    figures["service-scheduler.svg"] = service_scheduler_svg()
    figures["autoscaling-layers.svg"] = autoscaling_layers_svg()
    figures["event-driven-architectures.svg"] = event_driven_svg()
    figures["ecr-push-flow.svg"] = ecr_push_svg()
    return figures


def write_or_check(figures: dict[str, str], argv: list[str], script: str) -> int:
    """Write `figures` (file name to SVG text) beside this file, or with `--check` in `argv` report
    the ones whose committed file differs; return the exit code. Both figure scripts end here."""
    check = "--check" in argv
    stale = []
    for name, text in figures.items():
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parents[1])}")
    if stale:
        print(f"stale figures (run python book/figures/{script}): {', '.join(stale)}")
        return 1
    return 0


def main(argv: list[str]) -> int:
    """Write the figures (or, with --check, report the ones that differ); return the exit code."""
    return write_or_check(render_all(), argv, "make_figures.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
