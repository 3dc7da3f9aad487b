"""The book's figures are what the emulator's rules draw today, and show the course's examples right."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from types import ModuleType

import pytest

from tests.conftest import REPO

FIGURES = REPO / "book" / "figures"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def make_figures() -> ModuleType:
    """book/figures/make_figures.py, imported from its file."""
    spec = importlib.util.spec_from_file_location("make_figures", FIGURES / "make_figures.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_svgs_equal_what_the_generator_draws_now(make_figures: ModuleType) -> None:
    """Each committed SVG is byte for byte what `python book/figures/make_figures.py` writes."""
    drawn = make_figures.render_all()
    committed = {path.name for path in FIGURES.glob("*.svg")}
    missing = set(drawn) - committed
    assert not missing, f"run python book/figures/make_figures.py and commit {sorted(missing)}"
    if not [g for g in FIGURES.glob("make_*.py") if g.name != "make_figures.py"]:
        # With no other generator in the folder, every SVG here must be one make_figures.py draws.
        assert committed == set(drawn), f"SVGs no generator draws: {sorted(committed - set(drawn))}"
    stale = [name for name, text in drawn.items() if (FIGURES / name).read_text(encoding="utf-8") != text]
    assert not stale, f"stale figures (run python book/figures/make_figures.py): {stale}"


def _states(name: str) -> list[tuple[int, int]]:
    root = ET.parse(FIGURES / name).getroot()
    return [
        (int(g.attrib["data-old"]), int(g.attrib["data-new"]))
        for g in root.iter(f"{SVG}g")
        if g.attrib.get("class") == "state"
    ]


def test_rolling_figures_show_the_course_examples_step_by_step() -> None:
    """The (old, new) columns of the two notes' examples are AWS's sequences; 100/100 stalls at once."""
    assert _states("rolling-50-100.svg") == [(4, 0), (2, 0), (2, 2), (0, 2), (0, 4)]
    assert _states("rolling-100-150.svg") == [(4, 0), (4, 2), (2, 2), (2, 4), (0, 4)]
    assert _states("rolling-100-100.svg") == [(4, 0)]
    assert "stalled" in (FIGURES / "rolling-100-100.svg").read_text(encoding="utf-8")


def test_placement_figure_shows_each_strategy_placement() -> None:
    """binpack fills one instance first, spread balances zones, the constraints leave three unplaced."""
    root = ET.parse(FIGURES / "placement-grid.svg").getroot()
    panels = {}
    for panel in root.iter(f"{SVG}g"):
        if panel.attrib.get("class") != "panel":
            continue
        tasks = {
            g.attrib["data-instance"]: g.attrib["data-tasks"]
            for g in panel.iter(f"{SVG}g")
            if g.attrib.get("class") == "instance"
        }
        panels[panel.attrib["data-caption"]] = (tasks, int(panel.attrib["data-failures"]))
    assert panels["binpack memory"] == ({"i-1": "1,2,3", "i-2": "4,5,6", "i-3": "", "i-4": ""}, 0)
    spread, failures = panels["spread AZ, then spread instanceId"]
    assert failures == 0
    # Two tasks per zone: us-east-1a (i-1 + i-2), us-east-1b (i-3), us-east-1c (i-4).
    per_zone = [len(",".join(filter(None, [spread["i-1"], spread["i-2"]])).split(","))]
    per_zone += [len(spread["i-3"].split(",")), len(spread["i-4"].split(","))]
    assert per_zone == [2, 2, 2]
    constrained, failures = panels["spread AZ + distinctInstance + memberOf t3.*"]
    assert constrained["i-4"] == ""  # a t2.medium is not t3.*
    assert all(len(constrained[i].split(",")) == 1 for i in ("i-1", "i-2", "i-3"))
    assert failures == 3


def test_figures_are_well_formed_svg_with_a_size() -> None:
    """Every figure parses as SVG with a non-zero width and height and a title."""
    for path in FIGURES.glob("*.svg"):
        root = ET.parse(path).getroot()
        assert root.tag == f"{SVG}svg"
        assert int(root.attrib["width"]) > 0
        assert int(root.attrib["height"]) > 0
        assert root.find(f"{SVG}title") is not None
