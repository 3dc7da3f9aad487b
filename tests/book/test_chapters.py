"""The book's chapters follow one template, keep code within the page, and labs point to them.

The template (common to every chapter of the "ECS on AWS" part of _toc.yml, read from _toc.yml so a
new chapter is checked too): `# Title`; the "Learning objectives" admonition (class tip, "After this
chapter you can:"); the body; `## What the course notes get wrong` where the notes are wrong;
`## Key points`; `## Lab` (one paragraph with the lab's link and `labkit start ID`) where there is a
lab; `## Exercises`, each exercise with its own dropdown "Solution" admonition.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session
import pytest

from tests.book.blocks import book_pages, code_blocks
from tests.conftest import REPO

#: The widest code line the book's pages show without running off the right edge.
MAX_CODE_WIDTH = 100
PART = "ECS on AWS"
NOTES = "What the course notes get wrong"
TAIL = (NOTES, "Key points", "Lab", "Exercises")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


def part_chapters(caption: str = PART, toc: str | None = None) -> list[str]:
    """The `file:` entries (e.g. `book/services`) of one part of _toc.yml, in order."""
    text = toc if toc is not None else (REPO / "_toc.yml").read_text(encoding="utf-8")
    chapters: list[str] = []
    inside = False
    for line in text.splitlines():
        caption_line = re.match(r"^\s*-\s*caption:\s*(.+?)\s*$", line)
        if caption_line:
            inside = caption_line.group(1).strip("'\"") == caption
            continue
        entry = re.match(r"^\s*-\s*file:\s*(\S+)\s*$", line)
        if inside and entry:
            chapters.append(entry.group(1))
    return chapters


@dataclass(frozen=True)
class Line:
    """One line of a page outside code blocks: its number, text, and whether it is top level."""

    number: int
    text: str
    top: bool  # not inside any fence (code block or directive)


def prose_lines(text: str) -> list[Line]:
    """The page's lines that are not inside a code block (directive bodies included, marked)."""
    stack: list[tuple[str, int, bool]] = []  # (fence char, length, is a directive)
    out: list[Line] = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = _FENCE.match(line)
        if match:
            fence, info = match["fence"], match["info"].strip()
            if not info and stack and fence[0] == stack[-1][0] and len(fence) >= stack[-1][1]:
                closed = stack.pop()
                if closed[2]:  # a directive's closing fence is part of the prose
                    out.append(Line(number, line, not stack))
                continue
            if not stack or stack[-1][2]:
                directive = info.startswith("{") and not info.startswith(("{code", "{sourcecode"))
                if directive:
                    out.append(Line(number, line, not stack))
                stack.append((fence[0], len(fence), directive))
                continue
        if all(directive for _, _, directive in stack):
            out.append(Line(number, line, not stack))
    return out


def sections(text: str) -> list[tuple[str, list[Line]]]:
    """(`## ` heading, its lines) in order; the lines before the first `## ` are under ""."""
    found: list[tuple[str, list[Line]]] = [("", [])]
    for line in prose_lines(text):
        if line.top and line.text.startswith("## "):
            found.append((line.text[3:].strip(), []))
        else:
            found[-1][1].append(line)
    return found


def template_problems(text: str, labs: Path = REPO / "labs") -> list[str]:
    """Why a chapter's Markdown does not follow the book's chapter template (empty if it does)."""
    problems: list[str] = []
    lines = text.split("\n")
    if not lines[0].startswith("# "):
        problems.append("the first line is not the `# Title`")
    parts = sections(text)
    intro = "\n".join(line.text for line in parts[0][1])
    objectives = re.search(
        r"^`{3,}\{admonition\} Learning objectives\n:class: tip\n+After this chapter you can:", intro, re.M
    )
    if objectives is None:
        problems.append(
            'no "Learning objectives" admonition (class tip, "After this chapter you can:") before the '
            "first section"
        )
    names = [name for name, _ in parts[1:]]
    for name in names:
        if re.search(r"\bnotes?\b.*\bwrong\b", name, re.I) and name != NOTES:
            problems.append(f'section "{name}": call it "{NOTES}"')
    tail = [name for name in names if name in TAIL]
    first_tail = next((i for i, name in enumerate(names) if name in TAIL), len(names))
    if names[first_tail:] != tail or tail != [name for name in TAIL if name in tail]:
        problems.append(f"the last sections must be {', '.join(TAIL)} in this order, after the body: {names}")
    for required in ("Key points", "Exercises"):
        if required not in names:
            problems.append(f'no "## {required}" section')
    body = dict(parts[1:])
    for name in ("Key points", "Exercises"):
        if any("labkit start" in line.text for line in body.get(name, [])):
            problems.append(f'the lab is named in "{name}": it belongs in "## Lab"')
    if "Lab" in body:
        problems.extend(_lab_problems(body["Lab"], labs))
    if "Exercises" in body:
        problems.extend(_exercise_problems(body["Exercises"]))
    return problems


def _lab_problems(lines: list[Line], labs: Path) -> list[str]:
    paragraphs = [p for p in re.split(r"\n\s*\n", "\n".join(line.text for line in lines)) if p.strip()]
    if len(paragraphs) != 1:
        return [f'"## Lab" must be one paragraph, not {len(paragraphs)}']
    link = re.search(r"Lab: \{doc\}`\.\./labs/(?P<id>[\w-]+)/lab`", paragraphs[0])
    if link is None:
        return ['"## Lab" does not start the link as "Lab: {doc}`../labs/ID/lab`"']
    problems = []
    if f"`labkit start {link['id']}`" not in paragraphs[0]:
        problems.append(f'"## Lab" does not give `labkit start {link["id"]}`')
    if not (labs / link["id"] / "lab.ipynb").exists():
        problems.append(f'"## Lab" links to a lab that does not exist: {link["id"]}')
    return problems


def _exercise_problems(lines: list[Line]) -> list[str]:
    problems: list[str] = []
    items: list[list[str]] = []
    for line in lines:
        if line.top and re.match(r"^\d+\. ", line.text):
            items.append([])
        if items:
            items[-1].append(line.text)
        elif re.match(r"^\s*`{3,}\{admonition\}", line.text):
            problems.append("an admonition before the first exercise")
    if not items:
        problems.append('"## Exercises" has no numbered exercise')
    for number, item in enumerate(items, start=1):
        solution = [
            i
            for i, text in enumerate(item)
            if re.match(r"^\s*`{3,}\{admonition\} Solution\s*$", text)
            and i + 1 < len(item)
            and item[i + 1].strip() == ":class: dropdown"
        ]
        if len(solution) != 1:
            problems.append(f'exercise {number} does not have one dropdown "Solution" admonition')
    if any(re.match(r"^\s*`{3,}\{admonition\} Solutions\b", line.text) for line in lines):
        problems.append('one "Solutions" admonition for all exercises: give each exercise its own "Solution"')
    return problems


@pytest.mark.parametrize("chapter", part_chapters())
def test_every_chapter_follows_the_template(chapter: str) -> None:
    """Objectives, body, what the notes get wrong, key points, lab, exercises with solutions."""
    problems = template_problems((REPO / f"{chapter}.md").read_text(encoding="utf-8"))
    assert not problems, f"{chapter}.md:\n" + "\n".join(problems)


def test_the_part_is_read_from_the_toc() -> None:
    """A chapter added to the part in _toc.yml is checked; other parts are not."""
    toc = (
        "parts:\n  - caption: Start here\n    chapters:\n      - file: book/intro\n"
        "  - caption: ECS on AWS\n    chapters:\n      - file: book/a\n      - file: book/new\n"
        "  - caption: Labs\n    chapters:\n      - file: labs/x/lab\n"
    )
    assert part_chapters(toc=toc) == ["book/a", "book/new"]
    assert "book/services" in part_chapters()


GOOD = """# Title

```{admonition} Learning objectives
:class: tip
After this chapter you can:
- do a thing.
```

## Body

```bash
## not a heading
```

## What the course notes get wrong

- This.

## Key points

- That.

## Lab

Lab: {doc}`../labs/nginx-alb/lab` (`labkit start nginx-alb`) does it.

## Exercises

1. Question?

   ```{admonition} Solution
   :class: dropdown
   Answer.
   ```

2. Another?

   ````{admonition} Solution
   :class: dropdown
   ```json
   {}
   ```
   ````
"""


def test_the_template_check_accepts_a_chapter_that_follows_it() -> None:
    """A minimal chapter in the template's order passes; a `##` inside a code block is not a section."""
    assert template_problems(GOOD) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("## What the course notes get wrong", "## What the notes got wrong"), "call it"),
        (("```{admonition} Learning objectives", "```{admonition} Goals"), "Learning objectives"),
        (("## Key points\n\n- That.\n\n", ""), 'no "## Key points"'),
        (("- That.", "- That. Lab: `labkit start nginx-alb`."), "belongs in"),
        (("(`labkit start nginx-alb`)", ""), "labkit start nginx-alb"),
        (("labs/nginx-alb/lab", "labs/no-such-lab/lab"), "does not exist"),
        (("   ```{admonition} Solution\n   :class: dropdown\n   Answer.\n   ```\n", ""), "exercise 1"),
        (("## Body\n", "## Body\n\n## Key points\n"), "in this order"),
        (("## Lab\n\nLab:", "## Lab\n\nFirst.\n\nLab:"), "one paragraph"),
    ],
)
def test_the_template_check_names_what_breaks_it(change: tuple[str, str], problem: str) -> None:
    """Each departure from the template is named: wrong heading, missing part, misplaced lab, and so on."""
    old, new = change
    assert old in GOOD
    problems = template_problems(GOOD.replace(old, new, 1))
    assert any(problem in p for p in problems), problems


#: A JSON line that is one string (after its key, if any): JSON cannot break a string over lines.
_ONE_JSON_STRING = re.compile(r'^\s*(?:"[^"]*":\s*)?(?P<string>"(?:[^"\\]|\\.)*"),?$')


def too_wide(language: str, text: str) -> bool:
    """Whether a code line is wider than the page and could have been broken.

    The one exception is a JSON string longer than the page's room (an EventBridge input template,
    say): JSON has no way to break it, so it may stay long.
    """
    line = text.rstrip()
    if len(line) <= MAX_CODE_WIDTH:
        return False
    string = _ONE_JSON_STRING.match(line) if language == "json" else None
    return string is None or len(string["string"]) <= MAX_CODE_WIDTH - 8


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name)
def test_no_code_line_is_wider_than_the_page(page: Path) -> None:
    """Every line of every code block (solutions in dropdowns too) fits in 100 characters."""
    wide = [
        f"{block.path.relative_to(REPO)}:{number}: {len(text)} characters"
        for block in code_blocks(page)
        for number, text in block.lines()
        if too_wide(block.language, text)
    ]
    assert not wide, "break these lines (a long command with ` \\`):\n" + "\n".join(wide)


def test_only_an_unbreakable_json_string_may_be_wider_than_the_page() -> None:
    """A long command or JSON object is too wide; one JSON string too long for any line is not."""
    template = '"' + "x" * 120 + '"'
    assert not too_wide("json", f'      "InputTemplate": {template}')
    assert too_wide("json", '  "targetGroupArn": "' + "a" * 90 + '",')  # fits on a line of its own
    assert too_wide("json", '{"a": 1, "b": ' + template + "}")
    assert too_wide("bash", "aws ecs run-task " + "--x y " * 20)
    assert not too_wide("bash", "aws ecs run-task --cluster demo")


def test_no_command_is_an_inline_code_span_wrapped_over_lines() -> None:
    """A command long enough to wrap is a code block, not inline code spread over several lines."""
    wrapped = []
    for page in book_pages():
        text = "\n".join(line.text for line in prose_lines(page.read_text(encoding="utf-8")))
        for match in re.finditer(r"`(aws [^`]*)`", text):
            if match.group(1).count("\n") >= 2:
                wrapped.append(f"{page.relative_to(REPO)}: `{match.group(1)[:60]}...`")
    assert not wrapped, "\n".join(wrapped)


def _chapter_titles() -> dict[str, str]:
    """Each book chapter's title (its `# ` line), by file stem."""
    titles = {}
    for path in (REPO / "book").glob("*.md"):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if first.startswith("# "):
            titles[path.stem] = first[2:].strip()
    return titles


def _short_titles(title: str) -> set[str]:
    """A chapter's title and its short form (before a colon): "Deployment strategies: ..." also
    answers to "deployment strategies"."""
    return {title, title.split(":")[0].strip()}


def _lab_dirs() -> list[Path]:
    return sorted(path.parent for path in (REPO / "labs").glob("*/lab.toml"))


def _intro_prerequisites(lab: Path) -> str:
    """The "**Prerequisites:**" paragraph of the lab notebook's first cells ("" if none)."""
    notebook = json.loads((lab / "lab.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"][:3]:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        found = re.search(r"\*\*Prerequisites:?\*\*.*?(?:\n\s*\n|\Z)", source, re.S)
        if found:
            return found.group(0)
    return ""


def _points_to_the_notes(text: str) -> bool:
    return bool(re.search(r"\bnotes\b|course's introduction", text, re.I))


@pytest.mark.parametrize("lab", _lab_dirs(), ids=lambda p: p.name)
def test_lab_prerequisites_point_to_the_book_not_the_notes(lab: Path) -> None:
    """lab.toml's prerequisites and the notebook's intro name book chapters, never the course notes."""
    meta = tomllib.loads((lab / "lab.toml").read_text(encoding="utf-8"))
    prerequisites = [str(p) for p in meta.get("prerequisites", [])]
    titles = _chapter_titles()
    problems = [
        f"lab.toml points to the course notes: {p!r}" for p in prerequisites if _points_to_the_notes(p)
    ]
    problems += [
        f"lab.toml names a chapter by no chapter's title: {p!r}"
        for p in prerequisites
        if "chapter" in p.lower()
        and not any(short.lower() in p.lower() for title in titles.values() for short in _short_titles(title))
    ]
    intro = _intro_prerequisites(lab)
    if _points_to_the_notes(intro):
        problems.append(f"the notebook's prerequisites point to the course notes: {intro.strip()!r}")
    links = re.findall(r"\]\(\.\./\.\./book/([\w-]+)\.md\)", intro)
    problems += [f"the notebook links to no chapter book/{stem}.md" for stem in links if stem not in titles]
    assert not problems, "\n".join(problems)


@cache
def _enum(service: str, shape: str) -> list[str]:
    return list(botocore.session.get_session().get_service_model(service).shape_for(shape).enum)


def _glossary_entry(term: str) -> str:
    text = (REPO / "book" / "glossary.md").read_text(encoding="utf-8")
    found = re.search(rf"^{re.escape(term)}\n((?:  .*\n)+)", text, re.M)
    assert found, f"the glossary has no entry {term!r}"
    return found.group(1)


def test_the_book_names_every_value_of_the_enums_it_lists() -> None:
    """The glossary's launch types, and ECR's tag mutability settings and the circuit breaker's
    threshold types in their chapters, are all the values botocore's models have."""
    launch_types = _glossary_entry("launch type")
    missing = [v for v in _enum("ecs", "LaunchType") if f"`{v}`" not in launch_types]
    ecr = (REPO / "book" / "ecr.md").read_text(encoding="utf-8")
    missing += [v for v in _enum("ecr", "ImageTagMutability") if f"`{v}`" not in ecr]
    rolling = (REPO / "book" / "rolling-updates.md").read_text(encoding="utf-8")
    missing += [v for v in _enum("ecs", "ThresholdType") if f"`{v}`" not in rolling]
    assert not missing, f"not named where the book lists the values: {missing}"


def test_healthy_is_not_explained_as_past_the_grace_period() -> None:
    """No page says a task is healthy once it is past the health check grace period."""
    wrong = re.compile(r"past the (?:service's )?health check grace period|healthy after the grace", re.I)
    pages = [*(REPO / "book").glob("*.md"), *(REPO / "labs").glob("*/lab.ipynb")]
    found = [str(p.relative_to(REPO)) for p in pages if wrong.search(p.read_text(encoding="utf-8"))]
    assert not found, found


def test_the_rolling_updates_chapter_does_not_dispute_the_notes_right_example() -> None:
    """The notes' "(4 V2 and 2 V1)" state of example 2 is right: the chapter does not say otherwise."""
    text = (REPO / "book" / "rolling-updates.md").read_text(encoding="utf-8")
    assert "4 V2 and 2 V1" not in text


@pytest.mark.parametrize("lab", _lab_dirs(), ids=lambda p: p.name)
def test_no_code_line_in_a_lab_pages_text_is_wider_than_the_page(lab: Path) -> None:
    """The code blocks in a lab notebook's Markdown cells (the book shows them) fit in 100 characters."""
    notebook = json.loads((lab / "lab.ipynb").read_text(encoding="utf-8"))
    wide = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        inside = False
        for line in "".join(cell["source"]).split("\n"):
            if re.match(r"^\s*(`{3,}|~{3,})", line):
                inside = not inside
            elif inside and len(line.rstrip()) > MAX_CODE_WIDTH:
                wide.append(f"cell {index}: {len(line)} characters")
    assert not wide, "\n".join(wide)
