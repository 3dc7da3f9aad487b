"""Code blocks of the book's Markdown pages, with the comment that precedes each and its line number.

The book's conventions (checked by the tests in this folder):

- every ```json block is preceded by `<!-- shape: SERVICE SHAPE -->` (a botocore service and shape
  name) or a non-API kind: `<!-- shape: iam-policy -->`, `<!-- shape: ecr-lifecycle-policy -->`,
  `<!-- shape: event-pattern -->`, `<!-- shape: event -->`;
- every line starting with `aws ` in a ```bash, ```console or ```shell block is a valid AWS CLI command;
- a ```bash block preceded by `<!-- runnable -->` runs, as one script, against a fresh sandbox server.

"Preceded by" means the nearest non-blank line above the opening fence. Fences whose info string is a
MyST directive (```` ```{admonition} ````, `:::{note}`) are not code: their bodies are scanned for code
blocks too, so a solution folded in a dropdown is checked like any other block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_DIRECTIVE_CODE = re.compile(r"^\{(?:code-block|code|sourcecode)\}\s*(?P<lang>\S*)")
SHELL_LANGUAGES = frozenset({"bash", "console", "shell", "sh"})


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block: its page, language, first content line (1-based), text and marker."""

    path: Path
    language: str
    line: int
    text: str
    marker: str | None  # the HTML comment right above the fence, without <!-- -->, or None

    @property
    def where(self) -> str:
        """`book/page.md:LINE`, the block's first content line, for failure messages."""
        return f"{self.path.relative_to(REPO)}:{self.line}"

    def lines(self) -> list[tuple[int, str]]:
        """(line number, text) of each content line."""
        return [(self.line + i, text) for i, text in enumerate(self.text.split("\n"))]


def book_pages() -> list[Path]:
    """Every Markdown page the checks cover: book/*.md and labs/*/README.md."""
    return sorted((REPO / "book").glob("*.md")) + sorted((REPO / "labs").glob("*/README.md"))


def code_blocks(path: Path) -> list[CodeBlock]:
    """The code blocks of one Markdown page, in order (directive bodies are scanned, not taken)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[CodeBlock] = []
    # Open directive fences (transparent), as (fence char, length).
    directives: list[tuple[str, int]] = []
    last_text: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _FENCE.match(line)
        if match is None:
            if line.strip():
                last_text = line.strip()
            index += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        if not info and directives and fence[0] == directives[-1][0] and len(fence) >= directives[-1][1]:
            directives.pop()  # the closing fence of a directive
            last_text = line.strip()
            index += 1
            continue
        code = _DIRECTIVE_CODE.match(info)
        if info.startswith("{") and code is None:
            directives.append((fence[0], len(fence)))
            last_text = line.strip()
            index += 1
            continue
        language = code["lang"] if code else info.split()[0] if info else ""
        marker = None
        if last_text is not None and last_text.startswith("<!--") and last_text.endswith("-->"):
            marker = last_text[4:-3].strip()
        start = index + 1
        end = start
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if (
                closing
                and not closing["info"].strip()
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            end += 1
        body = lines[start:end]
        if code:
            # A {code-block} directive may open with :option: lines; they are not code.
            while body and body[0].strip().startswith(":"):
                body = body[1:]
                start += 1
        indent = len(match["indent"])
        text = "\n".join(line[indent:] if line[:indent].isspace() else line for line in body)
        blocks.append(CodeBlock(path, language.lower(), start + 1, text, marker))
        last_text = lines[end].strip() if end < len(lines) else None
        index = end + 1
    return blocks


def all_blocks() -> list[CodeBlock]:
    """The code blocks of every page the checks cover."""
    return [block for page in book_pages() for block in code_blocks(page)]


def shell_commands(block: CodeBlock) -> list[tuple[int, str]]:
    """(first line, command) of each command in a shell block: `\\` continuations joined, `$ ` prompts
    and blank or comment-only lines dropped (in a console block, lines without a prompt are output)."""
    commands: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, raw in block.lines():
        line = raw.rstrip()
        if not pending:
            stripped = line.strip()
            if block.language == "console":
                if not stripped.startswith("$ "):
                    continue
                stripped = stripped[2:].strip()
            if not stripped or stripped.startswith("#"):
                continue
            first = number
            line = stripped
        if line.endswith("\\"):
            pending.append(line[:-1].rstrip())
            continue
        pending.append(line.strip())
        commands.append((first, " ".join(part for part in pending if part)))
        pending = []
    if pending:
        commands.append((first, " ".join(pending)))
    return commands
