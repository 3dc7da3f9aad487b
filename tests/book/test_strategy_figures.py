"""The deployment-strategy figures are what the planners draw today, and show the chapter's examples."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import xml.etree.ElementTree as ET
from types import ModuleType

import pytest

from labkit.ecs.rolling import plan_rolling_update
from labkit.ecs.strategies import parse_deployment_configuration, plan_deployment
from tests.book.blocks import code_blocks
from tests.conftest import REPO

FIGURES = REPO / "book" / "figures"
CHAPTER = REPO / "book" / "deployment-strategies.md"
SVG = "{http://www.w3.org/2000/svg}"
NAMES = ("strategy-blue-green.svg", "strategy-linear.svg", "strategy-canary.svg", "strategy-task-counts.svg")


@pytest.fixture(scope="module")
def make() -> ModuleType:
    """book/figures/make_strategy_figures.py, imported from its file."""
    spec = importlib.util.spec_from_file_location(
        "make_strategy_figures", FIGURES / "make_strategy_figures.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _root(name: str) -> ET.Element:
    return ET.parse(FIGURES / name).getroot()


def _groups(name: str, kind: str) -> list[dict[str, str]]:
    return [dict(g.attrib) for g in _root(name).iter(f"{SVG}g") if g.attrib.get("class") == kind]


def test_committed_svgs_equal_what_the_generator_draws_now(make: ModuleType) -> None:
    """Each strategy SVG is byte for byte what `python book/figures/make_strategy_figures.py` writes."""
    drawn = make.render_all()
    assert set(drawn) == set(NAMES)
    committed = {path.name for path in FIGURES.glob("strategy-*.svg")}
    assert committed == set(drawn), "run python book/figures/make_strategy_figures.py and commit the SVGs"
    stale = [name for name, text in drawn.items() if (FIGURES / name).read_text(encoding="utf-8") != text]
    assert not stale, f"stale figures (run python book/figures/make_strategy_figures.py): {stale}"


def test_the_check_mode_reports_a_stale_figure(make: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--check` exits 0 on the committed figures and 1 when one differs from what it draws."""
    assert make.main(["--check"]) == 0
    drawn = make.render_all()
    monkeypatch.setattr(make, "render_all", lambda: {**drawn, "strategy-linear.svg": "<svg/>"})
    assert make.main(["--check"]) == 1


@pytest.mark.parametrize(
    ("name", "greens", "starts"),
    [
        ("strategy-blue-green.svg", [100.0], [120.0]),
        ("strategy-linear.svg", [25.0, 50.0, 75.0, 100.0], [120.0, 420.0, 720.0, 1020.0]),
        ("strategy-canary.svg", [10.0, 100.0], [120.0, 1020.0]),
    ],
)
def test_traffic_figures_show_the_planners_shifts(
    make: ModuleType, name: str, greens: list[float], starts: list[float]
) -> None:
    """Each drawn shift (green %, start, wait) is the planner's PRODUCTION_TRAFFIC_SHIFT step, and the
    numbers are the chapter's: linear 25% steps 5 minutes apart, a 10% canary for 15 minutes."""
    config = next(c for stem, _, c in make.STRATEGIES if f"{stem}.svg" == name)
    plan = plan_deployment(parse_deployment_configuration(config), scale_up_seconds=make.SCALE_UP_SECONDS)
    shifts = _groups(name, "shift")
    drawn = [(float(s["data-green"]), float(s["data-start"]), float(s["data-wait"])) for s in shifts]
    planned = [(s.production[1], s.start_seconds, s.duration_seconds) for s in plan.production_shifts]
    assert drawn == planned
    assert [d[0] for d in drawn] == greens
    assert [d[1] for d in drawn] == starts
    assert [int(s["data-step"]) for s in shifts] == list(range(1, len(greens) + 1))
    text = (FIGURES / name).read_text(encoding="utf-8")
    for green in greens:
        assert f">{green:g}%</text>" in text


@pytest.mark.parametrize("name", NAMES[:3])
def test_traffic_figures_show_every_lifecycle_stage_and_the_bake_time(make: ModuleType, name: str) -> None:
    """The stage rows are the planner's stages in order with their times; the bake band is the
    BAKE_TIME stage (10 minutes, after all production traffic has moved)."""
    config = next(c for stem, _, c in make.STRATEGIES if f"{stem}.svg" == name)
    plan = plan_deployment(parse_deployment_configuration(config), scale_up_seconds=make.SCALE_UP_SECONDS)
    rows = _groups(name, "stage")
    assert [r["data-stage"] for r in rows] == list(dict.fromkeys(s.stage for s in plan.stages))
    for row in rows:
        spans = [tuple(float(n) for n in span.split("+")) for span in row["data-spans"].split(";")]
        planned = [(s.start_seconds, s.duration_seconds) for s in plan.stages if s.stage == row["data-stage"]]
        assert spans == planned
    bands = {b["data-kind"]: (float(b["data-start"]), float(b["data-end"])) for b in _groups(name, "band")}
    bake = next(s for s in plan.stages if s.stage == "BAKE_TIME")
    assert bands["bake"] == (bake.start_seconds, bake.end_seconds)
    assert bake.duration_seconds == 600
    assert bake.start_seconds == plan.production_shifts[-1].end_seconds
    assert ("canary-bake" in bands) == (config["strategy"] == "CANARY")
    if "canary-bake" in bands:
        assert bands["canary-bake"] == (120.0, 1020.0)


def _segments(panel: str) -> list[tuple[float, float, int, int]]:
    for g in _root("strategy-task-counts.svg").iter(f"{SVG}g"):
        if g.attrib.get("class") == "panel" and g.attrib["data-panel"] == panel:
            return [
                (
                    float(s.attrib["data-start"]),
                    float(s.attrib["data-end"]),
                    int(s.attrib["data-old"]),
                    int(s.attrib["data-new"]),
                )
                for s in g.iter(f"{SVG}g")
                if s.attrib.get("class") == "segment"
            ]
    raise AssertionError(f"no panel {panel}")


def test_task_count_figure_follows_the_rolling_planner(make: ModuleType) -> None:
    """Every rolling segment is a state the rolling planner reaches after a step, in the planner's
    order; 100/200 runs 8 tasks while the new ones start, 50/100 never more than 4."""
    for low, high in make.TASKS_ROLLING:
        segments = _segments(f"rolling-{low}-{high}")
        states = [(step.old, step.new) for step in plan_rolling_update(make.TASKS_DESIRED, low, high).steps]
        drawn = [(old, new) for _, _, old, new in segments]
        position = 0
        for state in drawn:
            position = states.index(state, position)
        assert drawn[-1] == (0, make.TASKS_DESIRED)
        assert segments[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(segments))
    assert max(o + n for _, _, o, n in _segments("rolling-100-200")) == 8
    assert max(o + n for _, _, o, n in _segments("rolling-50-100")) == 4


def test_task_count_figure_doubles_the_tasks_for_the_blue_green_bake(make: ModuleType) -> None:
    """Blue/green runs 4 blue + 4 green from SCALE_UP until CLEAN_UP (2 + 10 minutes), then 4 green."""
    plan = plan_deployment(
        parse_deployment_configuration(
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": make.TASKS_BAKE_MINUTES}
        ),
        scale_up_seconds=make.SCALE_UP_SECONDS,
    )
    clean_up = next(s for s in plan.stages if s.stage == "CLEAN_UP")
    segments = _segments("blue-green")
    assert segments[0][:4] == (0.0, clean_up.start_seconds, 4, 4)
    assert clean_up.start_seconds == 720.0
    assert segments[1][2:] == (0, 4)


def test_the_chapter_shows_each_figure_with_alt_text_and_its_configuration(make: ModuleType) -> None:
    """Each figure is in the chapter in a {figure} with :alt: text, and the chapter's JSON for linear
    and canary is exactly the configuration the figure draws."""
    text = CHAPTER.read_text(encoding="utf-8")
    for name in NAMES:
        block = re.search(r"```\{figure\} figures/" + re.escape(name) + r"\n:alt: (?P<alt>.+)\n", text)
        assert block is not None, f"{name} is not shown with :alt: text"
        assert len(block["alt"]) > 30
    shown = [
        json.loads(b.text)
        for b in code_blocks(CHAPTER)
        if b.language == "json" and b.marker == "shape: ecs DeploymentConfiguration"
    ]
    for stem, _, config in make.STRATEGIES:
        if config["strategy"] in ("LINEAR", "CANARY"):
            assert config in shown, f"{stem}: the chapter does not show the configuration the figure draws"
    assert "bakeTimeInMinutes=10" in text  # the blue/green figure's bake time, in the CLI example


# --- legibility: no overlapping or clipped text (a conservative estimate of each text's box) ---------


def _width(text: str, size: float) -> float:
    """An upper estimate of DejaVu Sans text width: wide letters and digits at 0.75 em, others 0.62."""
    wide = sum(1 for c in text if c.isupper() or c.isdigit() or c in "%mwMW_")
    return size * (0.75 * wide + 0.62 * (len(text) - wide))


def _boxes(name: str) -> list[tuple[str, float, float, float, float]]:
    boxes = []
    for element in _root(name).iter(f"{SVG}text"):
        size = float(element.attrib["font-size"])
        x, y = float(element.attrib["x"]), float(element.attrib["y"])
        words = element.text or ""
        width = _width(words, size)
        anchor = element.attrib.get("text-anchor", "start")
        left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
        boxes.append((words, left, y - size, left + width, y + size * 0.25))
    return boxes


@pytest.mark.parametrize("name", NAMES)
def test_no_text_overlaps_or_is_clipped(name: str) -> None:
    """No two text boxes overlap, and every box lies inside the 672 px wide viewBox."""
    root = _root(name)
    assert root.attrib["width"] == "672"
    width, height = float(root.attrib["width"]), float(root.attrib["height"])
    boxes = _boxes(name)
    clipped = [b[0] for b in boxes if b[1] < 0 or b[2] < 0 or b[3] > width or b[4] > height]
    assert not clipped, f"text outside the figure: {clipped}"
    overlapping = [
        (a[0], b[0])
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]
    assert not overlapping, f"overlapping text: {overlapping}"
    assert min(float(t.attrib["font-size"]) for t in root.iter(f"{SVG}text")) >= 11
    assert (root.findtext(f"{SVG}title") or "").strip()
