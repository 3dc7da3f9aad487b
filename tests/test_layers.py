"""The package's shape: layers import downwards only, no import circles, and the architecture page's citations resolve.

The import graph is read from the sources with `ast`, not by importing them. An edge is an import
statement: at module level (what runs on import) or anywhere (imports inside functions too, which
labkit uses to keep optional and heavy dependencies lazy). Imports under `if TYPE_CHECKING:` are
for the type checker only and are left out.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "labkit"
#: The page code comments cite (spelled in two parts so that this file is not a citation itself).
ARCHITECTURE = "ARCHITECTURE" + ".md"

#: Layers, lowest first: a module may import its own layer and the ones below, never one above.
#: Data flows sandbox -> steps -> checkpoints -> grading -> reports -> CLI and widgets.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundations", ("labkit.errors", "labkit.config", "labkit.terminal", "labkit.ecs")),
    ("sandbox", ("labkit.sandbox", "labkit.dataplane", "labkit.registry", "labkit.images")),
    ("steps", ("labkit.steps",)),
    ("checkpoints", ("labkit.checkpoints",)),
    ("grading", ("labkit.grading", "labkit.labs")),
    (
        "reports and runs",
        (
            "labkit.notebooks",
            "labkit.confinement",
            "labkit.execute",
            "labkit.runner",
            "labkit.workshop",
            "labkit.teardown",
            "labkit.copilot",
            "labkit.cost",
            "labkit.demo",
            "labkit.workspace",
        ),
    ),
    ("CLI and widgets", ("labkit.lab", "labkit.cli", "labkit.__main__", "labkit")),
]
#: Helpers for tests (labkit's own and users'): outside the layers, and never imported by production code.
TEST_SUPPORT = "labkit.testing"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports_in(path: Path, *, module_level_only: bool) -> set[str]:
    """The labkit modules `path` imports (a `from package import submodule` names the submodule)."""
    modules = _modules()
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if module_level_only and isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - child.level + 1]
                    source = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    source = child.module or ""
                for alias in child.names:
                    submodule = f"{source}.{alias.name}"
                    found.add(submodule if submodule in modules else source)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m == "labkit" or m.startswith("labkit.")}


@functools.cache
def _graph(module_level_only: bool) -> dict[str, frozenset[str]]:
    return {
        name: frozenset(_imports_in(path, module_level_only=module_level_only))
        for name, path in _modules().items()
    }


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, (_, packages) in enumerate(LAYERS):
        for package in packages:
            # The root package is its `__init__` alone, not everything under it.
            matches = module == package if package == "labkit" else _within(module, package)
            if matches and (best is None or len(package) > best[0]):
                best = (len(package), index)
    return None if best is None else best[1]


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _reaches(graph: dict[str, frozenset[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, ()))
    return False


def _edges(graph: dict[str, frozenset[str]]) -> Iterator[tuple[str, str]]:
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            yield source, target


# -- circles ----------------------------------------------------------------------------------------


def test_no_import_cycle_at_module_level() -> None:
    """Importing any labkit module never re-enters a module that is still being imported."""
    assert _cycles(_graph(module_level_only=True)) == []


def test_the_sandbox_imports_nothing_from_the_workshop() -> None:
    """The workshop is built on sandboxes, so no sandbox module imports the workshop, even lazily."""
    upward = [
        (s, t)
        for s, t in _edges(_graph(module_level_only=False))
        if _within(s, "labkit.sandbox") and _within(t, "labkit.workshop")
    ]
    assert upward == []


def test_no_cycle_between_the_sandbox_and_the_workshop() -> None:
    """No chain of imports, lazy ones included, leads from the workshop back to itself through a sandbox."""
    graph = _graph(module_level_only=False)
    for cycle in _cycles(graph):
        assert not (
            any(_within(m, "labkit.sandbox") for m in cycle)
            and any(_within(m, "labkit.workshop") for m in cycle)
        ), cycle


def test_workloads_and_probes_do_not_import_each_other_back() -> None:
    """The probe workloads import the workload registry; the registry never imports the probes."""
    graph = _graph(module_level_only=False)
    assert _reaches(graph, "labkit.dataplane.probes", "labkit.dataplane.workloads")
    assert not _reaches(graph, "labkit.dataplane.workloads", "labkit.dataplane.probes")


def test_the_probe_workloads_are_registered_by_importing_the_registry() -> None:
    """Importing `labkit.dataplane.workloads` alone still registers the probes (through the package)."""
    from labkit.dataplane.workloads import available_workloads

    assert "public.ecr.aws/labkit/env-report" in available_workloads()
    assert "public.ecr.aws/labkit/job" in available_workloads()


# -- layers -----------------------------------------------------------------------------------------


def test_every_module_belongs_to_a_layer() -> None:
    """A new package is placed in a layer (here) before it can be checked against the others."""
    unplaced = [m for m in _modules() if m != TEST_SUPPORT and _layer_of(m) is None]
    assert unplaced == []


def test_no_module_imports_a_higher_layer() -> None:
    """Data flows one way (sandbox -> steps -> checkpoints -> grading -> reports -> CLI and widgets)."""
    upward = []
    for source, target in _edges(_graph(module_level_only=False)):
        if TEST_SUPPORT in (source, target):
            continue
        low, high = _layer_of(source), _layer_of(target)
        if low is not None and high is not None and high > low:
            upward.append(f"{source} ({LAYERS[low][0]}) imports {target} ({LAYERS[high][0]})")
    assert upward == []


def test_only_the_cli_imports_the_cli() -> None:
    """No library module imports `labkit.cli`: each command calls the library, never the reverse."""
    importers = {
        s
        for s, t in _edges(_graph(module_level_only=False))
        if _within(t, "labkit.cli") and not _within(s, "labkit.cli") and s != "labkit.__main__"
    }
    assert importers == set()


def test_only_the_cli_and_the_package_root_import_the_widgets() -> None:
    """`labkit.lab` (the notebook widgets) is imported by the CLI and re-exported by `labkit`, nothing else."""
    importers = {s for s, t in _edges(_graph(module_level_only=False)) if t == "labkit.lab"}
    assert importers <= {"labkit", "labkit.cli.labs"} | {m for m in importers if _within(m, "labkit.cli")}


def test_the_ecs_rules_import_nothing_from_labkit() -> None:
    """`labkit/ecs/` is pure rules: it imports only itself."""
    outside = [
        (s, t)
        for s, t in _edges(_graph(module_level_only=False))
        if _within(s, "labkit.ecs") and not _within(t, "labkit.ecs")
    ]
    assert outside == []


def _production_sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if _module_name(path) != TEST_SUPPORT:
            yield path
    yield from sorted((REPO / "labs").rglob("*.py"))


def test_production_code_never_imports_the_test_helpers() -> None:
    """`labkit.testing` is for tests; labkit and the labs wait with `Sandbox.wait_until` instead of `advance_until`."""
    offenders = []
    for path in _production_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            if any(_within(n, TEST_SUPPORT) for n in names):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


def test_lab_notebooks_never_import_the_test_helpers() -> None:
    """A lab notebook's code cells (what a learner runs) do not reach for `labkit.testing` either."""
    pattern = re.compile(r"\blabkit\.testing\b|from\s+labkit\s+import\s+[^\n]*\btesting\b")
    offenders = []
    for path in sorted((REPO / "labs").rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for number, cell in enumerate(cells):
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and pattern.search(source):
                offenders.append(f"{path.relative_to(REPO)} cell {number}")
    assert offenders == []


# -- the architecture page ------------------------------------------------------------------------------

_CITABLE = ("labkit", "labs", "tests", "benchmarks", "book", ".ci")
_CITABLE_FILES = ("pyproject.toml", "_config.yml", "_toc.yml", "README.md")
_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".ipynb", ".cfg", ".txt", ""}


def _citing_files() -> Iterator[Path]:
    for name in _CITABLE_FILES:
        if (REPO / name).is_file():
            yield REPO / name
    for folder in _CITABLE:
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and path.suffix in _SUFFIXES and "__pycache__" not in path.parts:
                yield path


def _headings() -> set[str]:
    text = (REPO / ARCHITECTURE).read_text(encoding="utf-8")
    in_fence = False
    headings = set()
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and line.startswith("#"):
            headings.add(line.lstrip("#").strip())
    return headings


def _citations() -> Iterator[tuple[Path, int, str | None]]:
    """Every mention of the page: (file, line, the section it names or None)."""
    # A citation is `<page>, "Section"`; it may wrap onto a comment's next line.
    pattern = re.compile(re.escape(ARCHITECTURE) + r'(?:,[\s#]*"([^"]+)")?')
    for path in _citing_files():
        if path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in pattern.finditer(text):
            yield path, text.count("\n", 0, match.start()) + 1, match.group(1)


def test_the_architecture_page_exists_with_its_sections() -> None:
    """The page is at the repository's top and has the sections a newcomer looks for."""
    headings = _headings()
    for needed in ("Bird's-eye view", "Code map", "The clock", "The moto seam", "Invariants", "Tests"):
        assert needed in headings


def test_every_citation_names_an_existing_section() -> None:
    """Each mention of the page in code, tests and config names a section heading it has."""
    headings = _headings()
    citations = list(_citations())
    assert citations, "no citation found: the pattern or the sources moved"
    wrong = [
        f"{path.relative_to(REPO)}:{line}: {section!r}"
        for path, line, section in citations
        if section is None or section not in headings
    ]
    assert wrong == [], f"sections are: {sorted(headings)}"


@pytest.mark.parametrize("folder", ["labkit", "labs", "tests", "book"])
def test_nothing_cites_a_design_document_outside_the_repository(folder: str) -> None:
    """Code and config cite the architecture page in the repository, not a design file that is not in it."""
    outside = "DESIGN" + ".md"
    mentions = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / folder).rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".md", ".ipynb", ".toml", ".yml"}
        and outside in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert mentions == []
