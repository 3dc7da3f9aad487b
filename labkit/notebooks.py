"""Lab notebook sources: solution markers, learner and solution versions, the parameters cell.

A source notebook holds each reference solution between two marker lines: `# BEGIN SOLUTION` and
`# END SOLUTION` in a code cell, `<!-- BEGIN SOLUTION -->` and `<!-- END SOLUTION -->` in a markdown
cell. The learner version replaces a code solution with a stub that assigns `None` to every name the
solution binds at top level, so the cells after it still run headless (and the lab's checkpoints
fail); a markdown solution becomes `*Your answer here.*`. A cell whose solution is replaced loses the
tags that fold or hide a solution in the book (`SOLUTION_TAGS`): the learner writes into that cell.
"""

from __future__ import annotations

import ast
import copy
import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import nbformat
from nbformat import NotebookNode

from labkit.errors import LabkitError

__all__ = [
    "CODE_MARKERS",
    "LEARNER_MARKDOWN",
    "MARKDOWN_MARKERS",
    "SOLUTION_TAGS",
    "NotebookError",
    "assign",
    "check_lab_notebook",
    "make_learner_version",
    "make_solution_version",
    "parameters_cell",
    "read_notebook",
    "strip_outputs",
    "write_notebook",
]

#: The (begin, end) marker lines of a solution in a code cell and in a markdown cell.
CODE_MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")
MARKDOWN_MARKERS = ("<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->")
#: What a markdown solution becomes in the learner version.
LEARNER_MARKDOWN = "*Your answer here.*"
STUB_COMMENT = "# YOUR CODE HERE"
#: Cell tags that fold a solution away in the book; the learner version drops them from stub cells.
SOLUTION_TAGS = ("hide-input", "hide-cell", "hide-output", "remove-input")
_UNKNOWN_PATH = "<notebook>"
# nbformat's reader and writer carry no annotations.
_reads = cast("Callable[..., NotebookNode]", nbformat.reads)
_write = cast("Callable[..., None]", nbformat.write)


class NotebookError(LabkitError):
    """A notebook cannot be read, is not a valid notebook, or its solution markers are malformed."""

    exit_code = 2

    def __init__(self, path: str, cell: int | None, problem: str) -> None:
        where = f"{path}, cell {cell}" if cell is not None else path
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.cell = cell
        self.problem = problem


@dataclass(frozen=True)
class _Block:
    """One solution block of a cell: the line numbers of its markers (0-based) and the indentation."""

    begin: int
    end: int
    indent: str


def read_notebook(path: str | Path) -> NotebookNode:
    """Read and validate a notebook file (nbformat 4).

    Raises `NotebookError` naming the file (and the cell when known) for a missing file, a file that
    is not JSON, or JSON that is not a valid notebook.
    """
    shown = str(path)
    if Path(path).is_dir():
        raise NotebookError(shown, None, "is a folder, not a notebook file (a notebook is a .ipynb file)")
    if Path(path).exists() and not Path(path).is_file():
        # A device or a pipe (/dev/zero, a FIFO) could be read forever.
        raise NotebookError(shown, None, "is not a file, so not a notebook (a notebook is a .ipynb file)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(shown, None, "no such notebook file") from None
    except UnicodeDecodeError:
        raise NotebookError(
            shown, None, "is not a notebook: it is not text (a notebook is the JSON text file Jupyter saves)"
        ) from None
    except OSError as exc:
        raise NotebookError(shown, None, f"cannot be read: {exc.strerror or exc}") from None
    if not text.strip():
        raise NotebookError(shown, None, "is empty: it is not a notebook (was it saved?)")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            shown,
            None,
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}), so not a notebook "
            "(a notebook is the JSON file Jupyter saves)",
        ) from None
    problem = _not_a_notebook(document)
    if problem is not None:
        raise NotebookError(shown, None, f"is JSON, but not a notebook: {problem}")
    try:
        if document["nbformat"] == 4:
            # Validated as written, before nbformat's reader, whose upgrades fail on bad input with
            # assorted exceptions (`'str' object has no attribute 'get'`).
            nbformat.validate(document, version=4)
        nb = _reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        cell = _cell_of_validation_error(exc)
        raise NotebookError(shown, cell, f"is not a valid notebook: {_validation_problem(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - nbformat raises assorted types for a malformed document
        raise NotebookError(shown, None, f"is not a valid notebook: {exc}") from None
    return nb


_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}


def _not_a_notebook(document: object) -> str | None:
    """Why a JSON document is not a notebook at all (not an object with cells and a format), or None."""
    if not isinstance(document, dict):
        kind = "null" if document is None else _KINDS.get(type(document), type(document).__name__)
        return f"it holds {kind}, where a notebook is an object with `cells`, `metadata` and `nbformat`"
    if "nbformat" not in document:
        return "it has no `nbformat` (a notebook says which version of the format it is written in)"
    version = document["nbformat"]
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= 4:
        return (
            f"`nbformat` is {json.dumps(version)[:40]}, where a notebook says 4 (the version Jupyter writes)"
        )
    missing = [key for key in ("cells", "metadata") if key not in document]
    if version == 4 and missing:
        return f"it has no {' and no '.join(f'`{key}`' for key in missing)}"
    return None  # an older format is upgraded (or refused) by nbformat's reader


def _validation_problem(exc: nbformat.ValidationError) -> str:
    """The schema error in one line, with where it is (`cells[2].outputs`)."""
    location = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".")
    message = str(exc.message).split("\n", 1)[0]
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{message} (at {where})" if where else message


def _cell_of_validation_error(exc: nbformat.ValidationError) -> int | None:
    # jsonschema reports where the error is as a path such as ["cells", 3, "source"].
    location = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    if len(location) >= 2 and location[0] == "cells" and isinstance(location[1], int):
        return location[1]
    return None


def write_notebook(nb: NotebookNode, path: str | Path) -> None:
    """Write a notebook (nbformat 4), creating its folder; raises `OSError` if it cannot be written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(nb, str(target))


def parameters_cell(nb: NotebookNode) -> NotebookNode | None:
    """Return the first cell tagged `parameters` (papermill's convention), or None."""
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell  # type: ignore[no-any-return]
    return None


def check_lab_notebook(nb: NotebookNode, path: str | Path = _UNKNOWN_PATH) -> None:
    """Check that a source notebook can be a lab: a `parameters` cell and well-formed solution markers.

    Raises `NotebookError` naming the file (and the cell) for the first problem found.
    """
    shown = str(path)
    if parameters_cell(nb) is None:
        raise NotebookError(
            shown, None, "has no cell tagged 'parameters'; every lab notebook needs one for papermill"
        )
    for index, cell in enumerate(nb.cells):
        markers = _markers_for(cell)
        if markers is not None:
            _find_blocks(_source(cell).split("\n"), markers, shown, index)


def strip_outputs(nb: NotebookNode) -> NotebookNode:
    """Return a copy with no outputs, execution counts or execution metadata; cell ids are kept."""
    out = copy.deepcopy(nb)
    out.metadata.pop("papermill", None)
    for cell in out.cells:
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return out


def make_solution_version(source: NotebookNode, *, path: str | Path = _UNKNOWN_PATH) -> NotebookNode:
    """Return the solution version: marker lines removed, solutions kept, outputs stripped.

    Raises `NotebookError` naming the file and cell for a marker without its pair or nested markers.
    """
    nb = strip_outputs(source)
    for index, cell in enumerate(nb.cells):
        markers = _markers_for(cell)
        if markers is None:
            continue
        lines = _source(cell).split("\n")
        blocks = _find_blocks(lines, markers, str(path), index)
        marker_lines = {n for block in blocks for n in (block.begin, block.end)}
        if marker_lines:
            cell.source = "\n".join(line for n, line in enumerate(lines) if n not in marker_lines)
    return nb


def make_learner_version(source: NotebookNode, *, path: str | Path = _UNKNOWN_PATH) -> NotebookNode:
    """Return the learner version: every solution replaced by a runnable stub, outputs stripped.

    A code solution becomes `name = None  # YOUR CODE HERE` for each name it binds at top level (or
    `pass  # YOUR CODE HERE` when it binds none); a markdown solution becomes `*Your answer here.*`.
    Raises `NotebookError` naming the file and cell for a marker without its pair, nested markers, or
    a code solution that is not valid Python.
    """
    shown = str(path)
    nb = strip_outputs(source)
    for index, cell in enumerate(nb.cells):
        markers = _markers_for(cell)
        if markers is None:
            continue
        lines = _source(cell).split("\n")
        blocks = _find_blocks(lines, markers, shown, index)
        if not blocks:
            continue
        result: list[str] = []
        position = 0
        for block in blocks:
            result.extend(lines[position : block.begin])
            body = lines[block.begin + 1 : block.end]
            if cell.cell_type == "code":
                result.extend(_code_stub(body, block.indent, shown, index))
            else:
                result.append(block.indent + LEARNER_MARKDOWN)
            position = block.end + 1
        result.extend(lines[position:])
        cell.source = "\n".join(result)
        tags = cell.get("metadata", {}).get("tags")
        if tags:
            cell.metadata["tags"] = [t for t in tags if t not in SOLUTION_TAGS]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
    return nb


def assign(
    source_path: str | Path, learner_path: str | Path, solution_path: str | Path | None = None
) -> None:
    """Write the learner version of a lab's source notebook (and its solution version when asked).

    Raises `NotebookError` if the source is not a valid lab notebook (see `check_lab_notebook`).
    """
    source = read_notebook(source_path)
    check_lab_notebook(source, source_path)
    write_notebook(make_learner_version(source, path=source_path), learner_path)
    if solution_path is not None:
        write_notebook(make_solution_version(source, path=source_path), solution_path)


def _source(cell: NotebookNode) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _markers_for(cell: NotebookNode) -> tuple[str, str] | None:
    if cell.cell_type == "code":
        return CODE_MARKERS
    if cell.cell_type == "markdown":
        return MARKDOWN_MARKERS
    return None


def _find_blocks(lines: list[str], markers: tuple[str, str], path: str, cell: int) -> list[_Block]:
    begin_marker, end_marker = markers
    blocks: list[_Block] = []
    open_at: int | None = None
    for number, line in enumerate(lines):
        text = line.strip()
        if text == begin_marker:
            if open_at is not None:
                raise NotebookError(
                    path,
                    cell,
                    f"nested solution markers: {begin_marker!r} on line {number + 1} inside the block "
                    f"opened on line {open_at + 1}",
                )
            open_at = number
        elif text == end_marker:
            if open_at is None:
                raise NotebookError(
                    path, cell, f"{end_marker!r} on line {number + 1} has no {begin_marker!r} before it"
                )
            indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
            blocks.append(_Block(open_at, number, indent))
            open_at = None
    if open_at is not None:
        raise NotebookError(
            path, cell, f"{begin_marker!r} on line {open_at + 1} has no {end_marker!r} after it"
        )
    return blocks


def _code_stub(body: list[str], indent: str, path: str, cell: int) -> list[str]:
    names = _bound_names("\n".join(body), path, cell)
    if not names:
        return [f"{indent}pass  {STUB_COMMENT}"]
    return [f"{indent}{name} = None  {STUB_COMMENT}" for name in names]


def _without_magics(code: str) -> str:
    # IPython magics and shell escapes are not Python; `pass` keeps the indentation valid.
    out = []
    for line in code.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            out.append(line[: len(line) - len(stripped)] + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def _bound_names(code: str, path: str, cell: int) -> list[str]:
    """Names a code block binds at module level, in order of first binding."""
    try:
        tree = ast.parse(textwrap.dedent(_without_magics(code)))
    except SyntaxError as exc:
        raise NotebookError(
            path, cell, f"the solution block is not valid Python (line {exc.lineno}: {exc.msg})"
        ) from None
    names: list[str] = []
    for statement in tree.body:
        _collect_statement(statement, names)
    return names


def _collect_statement(node: ast.stmt, names: list[str]) -> None:
    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    if isinstance(node, ast.Assign):
        for target in node.targets:
            _collect_target(target, add)
    elif isinstance(node, ast.AnnAssign):
        _collect_target(node.target, add)
    # `x += ...` changes a name that exists already: the stub leaves it as the given code set it.
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        add(node.name)
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            if alias.name != "*":
                add(alias.asname or alias.name.split(".")[0])
    elif isinstance(node, ast.For | ast.AsyncFor):
        _collect_target(node.target, add)
    elif isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if item.optional_vars is not None:
                _collect_target(item.optional_vars, add)
    # Compound statements bind module-level names in their bodies too (not in function bodies).
    for field in ("body", "orelse", "finalbody"):
        for child in getattr(node, field, []) if not isinstance(node, _SCOPES) else []:
            _collect_statement(child, names)
    if isinstance(node, ast.Try | ast.TryStar):
        for handler in node.handlers:
            for child in handler.body:
                _collect_statement(child, names)
    if isinstance(node, ast.Match):
        for case in node.cases:
            for child in case.body:
                _collect_statement(child, names)


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _collect_target(target: ast.expr, add: Callable[[str], None]) -> None:
    if isinstance(target, ast.Name):
        add(target.id)
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            _collect_target(element, add)
    elif isinstance(target, ast.Starred):
        _collect_target(target.value, add)
    # Attribute and subscript targets (`obj.x = ...`, `d[k] = ...`) bind no new name.
