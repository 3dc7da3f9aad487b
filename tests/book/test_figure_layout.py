"""Every SVG of the book (book/figures/, book/diagrams/) is readable: no text overlaps other text, no
text is cut off by the picture's edge, and the smallest text is legible at the width the page shows.

Text boxes are estimated from the font size and the number of characters, on the generous side (a
DejaVu Sans character is about 0.55 em wide on average; 0.62 em is assumed, 0.68 em in bold), so a
figure that passes has room to spare in any sans-serif font a browser substitutes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"
FOLDERS = (REPO / "book" / "figures", REPO / "book" / "diagrams")
#: The width of the book's article column in pixels (the theme's content width on a desktop screen).
PAGE_WIDTH = 672
#: The smallest text size, in pixels on the page, that a figure may show.
MIN_SHOWN_FONT = 9.0
EM_WIDTH = {"normal": 0.62, "bold": 0.68}
ASCENT, DESCENT = 0.8, 0.25


@dataclass(frozen=True)
class TextBox:
    """The box a `<text>` element covers, in the SVG's user units."""

    text: str
    left: float
    top: float
    right: float
    bottom: float

    def overlaps(self, other: TextBox) -> bool:
        """Whether the two boxes share any area."""
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


def _inherited(element: ET.Element, parents: dict[ET.Element, ET.Element], name: str) -> str | None:
    node: ET.Element | None = element
    while node is not None:
        value = node.get(name)
        if value is None:
            style = dict(
                part.split(":", 1)
                for part in (node.get("style") or "").replace(" ", "").split(";")
                if ":" in part
            )
            value = style.get(name)
        if value is not None:
            return value
        node = parents.get(node)
    return None


def text_boxes(root: ET.Element) -> list[TextBox]:
    """The estimated box of each `<text>` of an SVG (no transforms: the book's SVGs use none)."""
    parents = {child: parent for parent in root.iter() for child in parent}
    boxes = []
    for element in root.iter(f"{SVG}text"):
        assert _inherited(element, parents, "transform") is None, "text boxes ignore transforms"
        text = "".join(element.itertext()).strip()
        if not text:
            continue
        size = float((_inherited(element, parents, "font-size") or "16").removesuffix("px"))
        weight = (
            "bold"
            if (_inherited(element, parents, "font-weight") or "normal") in ("bold", "700")
            else "normal"
        )
        width = len(text) * size * EM_WIDTH[weight]
        x, y = float(element.get("x", "0")), float(element.get("y", "0"))
        anchor = _inherited(element, parents, "text-anchor") or "start"
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        boxes.append(TextBox(text, left, y - ASCENT * size, left + width, y + DESCENT * size))
    return boxes


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    """(min x, min y, width, height) of the SVG's viewBox (or its width and height)."""
    if root.get("viewBox"):
        x, y, w, h = (float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip()))
        return x, y, w, h
    return 0.0, 0.0, float(root.get("width", "0")), float(root.get("height", "0"))


def layout_problems(svg_text: str) -> list[str]:
    """Overlapping texts and texts outside the viewBox, as readable sentences."""
    root = ET.fromstring(svg_text)
    boxes = text_boxes(root)
    x0, y0, width, height = view_box(root)
    problems = [
        f"{a.text!r} overlaps {b.text!r}"
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a.overlaps(b)
    ]
    problems += [
        f"{box.text!r} is cut off by the edge of the picture"
        for box in boxes
        if box.left < x0 or box.top < y0 or box.right > x0 + width or box.bottom > y0 + height
    ]
    return problems


def all_svgs() -> list[Path]:
    return sorted(path for folder in FOLDERS for path in folder.glob("*.svg"))


@pytest.mark.parametrize("svg", all_svgs(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_text_overlaps_or_is_cut_off(svg: Path) -> None:
    """No two texts of the figure overlap, and every text lies inside the viewBox."""
    problems = layout_problems(svg.read_text(encoding="utf-8"))
    assert not problems, f"{svg.relative_to(REPO)}:\n" + "\n".join(problems)


def figures_shown() -> list[tuple[Path, Path, float, str]]:
    """(page, SVG, shown width in pixels, alt text) of every `{figure}` of an SVG in book/*.md."""
    shown = []
    for page in sorted((REPO / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^\s*`{3,}\{figure\}\s+(\S+\.svg)\s*\n((?:\s*:[\w-]+:.*\n)*)", text, re.M):
            options = dict(re.findall(r":([\w-]+):\s*(.*)", match.group(2)))
            width = options.get("width", "100%")
            pixels = (
                PAGE_WIDTH * float(width[:-1]) / 100
                if width.endswith("%")
                else float(width.removesuffix("px"))
            )
            shown.append((page, page.parent / match.group(1), pixels, options.get("alt", "").strip()))
    return shown


@pytest.mark.parametrize(
    ("page", "svg", "pixels", "alt"), figures_shown(), ids=lambda v: getattr(v, "name", None)
)
def test_every_figure_is_legible_where_it_is_shown_and_has_alt_text(
    page: Path, svg: Path, pixels: float, alt: str
) -> None:
    """At the width the page shows the figure, its smallest text is at least 9 px; it has alt text."""
    root = ET.parse(svg).getroot()
    scale = min(pixels, PAGE_WIDTH) / float(root.get("width", "0"))
    smallest = min(
        float(size.removesuffix("px"))
        for size in (e.get("font-size") for e in root.iter() if e.get("font-size"))
    )
    assert smallest * scale >= MIN_SHOWN_FONT, (
        f"{page.name}: {svg.name} is drawn {root.get('width')} px wide and shown at {pixels:.0f} px, so "
        f"its {smallest:g} px text shows at {smallest * scale:.1f} px"
    )
    assert alt, f"{page.name}: the figure {svg.name} has no :alt: text"


def test_every_svg_is_shown_somewhere() -> None:
    """Each SVG of the two folders is a figure of some page (a drawing nobody sees is not kept)."""
    shown = {svg.resolve() for _, svg, _, _ in figures_shown()}
    unused = [str(p.relative_to(REPO)) for p in all_svgs() if p.resolve() not in shown]
    assert not unused, unused


def _svg(*texts: str, width: int = 200, height: int = 100) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">' + "".join(texts) + "</svg>"
    )


def test_the_check_sees_the_broken_rolling_figure_labels() -> None:
    """The old rolling-100-100 figure drew "min 4" and "max 4" at one spot (read as "mix 4")."""
    labels = '<text x="8" y="50" font-size="12">min 4</text><text x="8" y="50" font-size="12">max 4</text>'
    assert layout_problems(_svg(labels)) == ["'min 4' overlaps 'max 4'"]
    apart = '<text x="8" y="40" font-size="12">max 4</text><text x="8" y="58" font-size="12">min 4</text>'
    assert layout_problems(_svg(apart)) == []


def test_the_check_sees_text_cut_off_and_reads_anchors_and_inherited_sizes() -> None:
    """A caption running off the right edge is found; `text-anchor` and a group's font size count."""
    long = '<text x="10" y="50" font-size="12">' + "x" * 40 + "</text>"
    assert layout_problems(_svg(long)) == [f"{'x' * 40!r} is cut off by the edge of the picture"]
    centred = '<text x="100" y="50" font-size="12" text-anchor="middle">' + "x" * 20 + "</text>"
    assert layout_problems(_svg(centred)) == []
    inherited = '<g font-size="30"><text x="10" y="50">' + "x" * 12 + "</text></g>"
    assert layout_problems(_svg(inherited)) == [f"{'x' * 12!r} is cut off by the edge of the picture"]
    ended = '<text x="190" y="50" font-size="12" text-anchor="end">' + "x" * 20 + "</text>"
    assert layout_problems(_svg(ended)) == []
