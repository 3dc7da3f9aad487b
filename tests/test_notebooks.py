"""Solution markers, learner and solution versions, and reading notebooks (labkit/notebooks.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labkit.notebooks import (
    LEARNER_MARKDOWN,
    NotebookError,
    assign,
    check_lab_notebook,
    make_learner_version,
    make_solution_version,
    parameters_cell,
    read_notebook,
    strip_outputs,
)
from tests.conftest import REPO

LAB = REPO / "labs" / "nginx-alb" / "lab.ipynb"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "notebooks"


def _notebook(*cells: NotebookNode) -> NotebookNode:
    nb = new_notebook(cells=list(cells))
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index}"
    return nb


def _params() -> NotebookNode:
    return new_code_cell('mode = "embedded"', metadata={"tags": ["parameters"]})


def _without_magics(source: str) -> str:
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n"))


SOLVED = """import json
total = 0
# BEGIN SOLUTION
cluster_arn = ecs.create_cluster(clusterName="x")["cluster"]["clusterArn"]
first, (second, *rest) = 1, (2, 3, 4)
count: int = 3
total += 1
for item in range(3):
    seen = item
print(cluster_arn)
# END SOLUTION
print(total)"""


class TestLearnerVersion:
    def test_code_solution_becomes_none_assignments(self) -> None:
        """Each top-level name the solution binds is assigned None; the given lines around it stay."""
        learner = make_learner_version(_notebook(_params(), new_code_cell(SOLVED)))
        source = learner.cells[1].source
        assert "create_cluster" not in source
        assert "BEGIN SOLUTION" not in source
        assert "END SOLUTION" not in source
        for name in ("cluster_arn", "first", "second", "rest", "count", "item", "seen"):
            assert f"{name} = None  # YOUR CODE HERE" in source
        # `total += 1` changes a given name: the stub leaves it as the given code set it.
        assert "total = None" not in source
        assert source.startswith("import json\ntotal = 0\n")
        assert source.endswith("print(total)")

    def test_stub_runs_and_binds_the_names(self) -> None:
        """The learner's cell runs without the solution's services and leaves the names as None."""
        learner = make_learner_version(_notebook(new_code_cell(SOLVED)))
        namespace: dict[str, object] = {}
        exec(compile(learner.cells[0].source, "cell", "exec"), namespace)
        assert namespace["cluster_arn"] is None
        assert namespace["total"] == 0

    def test_solution_without_names_becomes_pass(self) -> None:
        """A solution that binds nothing becomes `pass`, at the marker's indentation."""
        code = "def f():\n    # BEGIN SOLUTION\n    print('x')\n    # END SOLUTION\n\nf()"
        source = make_learner_version(_notebook(new_code_cell(code))).cells[0].source
        assert "    pass  # YOUR CODE HERE" in source
        compile(source, "cell", "exec")

    def test_markdown_solution_becomes_placeholder(self) -> None:
        """A markdown answer between HTML comment markers becomes the placeholder text."""
        text = "Why port 80?\n<!-- BEGIN SOLUTION -->\nBecause nginx listens there.\n<!-- END SOLUTION -->\nNext."
        source = make_learner_version(_notebook(new_markdown_cell(text))).cells[0].source
        assert source == f"Why port 80?\n{LEARNER_MARKDOWN}\nNext."

    def test_stub_cells_lose_the_tags_that_fold_a_solution_away(self) -> None:
        """`hide-input` on a solution cell folds the answer in the book; the learner's stub keeps other tags only."""
        solved = new_code_cell(SOLVED, metadata={"tags": ["hide-input", "step-1"]})
        given = new_code_cell("print(1)", metadata={"tags": ["hide-input"]})
        learner = make_learner_version(_notebook(solved, given))
        assert learner.cells[0].metadata["tags"] == ["step-1"]
        assert learner.cells[1].metadata["tags"] == ["hide-input"]
        assert make_solution_version(_notebook(solved)).cells[0].metadata["tags"] == ["hide-input", "step-1"]

    def test_outputs_cleared_and_ids_kept(self) -> None:
        """Outputs and execution counts are dropped; cell ids are the source's."""
        cell = new_code_cell("x = 1", execution_count=4)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        learner = make_learner_version(_notebook(cell))
        assert learner.cells[0].outputs == []
        assert learner.cells[0].execution_count is None
        assert learner.cells[0].id == "cell-0"


class TestMarkers:
    @pytest.mark.parametrize(
        ("source", "problem"),
        [
            ("x = 1\n# BEGIN SOLUTION\ny = 2", "has no '# END SOLUTION' after it"),
            ("x = 1\n# END SOLUTION", "has no '# BEGIN SOLUTION' before it"),
            ("# BEGIN SOLUTION\n# BEGIN SOLUTION\ny = 2\n# END SOLUTION\n# END SOLUTION", "nested"),
        ],
    )
    def test_malformed_code_markers_name_file_and_cell(self, source: str, problem: str) -> None:
        """An unpaired or nested marker raises NotebookError naming the file and the cell index."""
        nb = _notebook(_params(), new_markdown_cell("text"), new_code_cell(source))
        with pytest.raises(NotebookError) as caught:
            make_learner_version(nb, path="labs/x/lab.ipynb")
        assert caught.value.path == "labs/x/lab.ipynb"
        assert caught.value.cell == 2
        assert str(caught.value).startswith("labs/x/lab.ipynb, cell 2: ")
        assert problem in str(caught.value)

    def test_unpaired_markdown_marker(self) -> None:
        """A markdown BEGIN marker without its END is refused by both versions and the lab check."""
        nb = _notebook(_params(), new_markdown_cell("<!-- BEGIN SOLUTION -->\nanswer"))
        for make in (make_learner_version, make_solution_version):
            with pytest.raises(NotebookError, match=r"lab\.ipynb, cell 1: "):
                make(nb, path="lab.ipynb")
        with pytest.raises(NotebookError, match="cell 1"):
            check_lab_notebook(nb, "lab.ipynb")

    def test_invalid_python_in_solution(self) -> None:
        """A solution block that does not parse is reported with its cell, not turned into a stub."""
        nb = _notebook(new_code_cell("# BEGIN SOLUTION\nx = (\n# END SOLUTION"))
        with pytest.raises(NotebookError, match="cell 0: the solution block is not valid Python"):
            make_learner_version(nb, path="lab.ipynb")


def test_solution_version_keeps_code_and_drops_markers() -> None:
    """The solution version keeps every solution line and no marker line."""
    md = new_markdown_cell("Q\n<!-- BEGIN SOLUTION -->\nA\n<!-- END SOLUTION -->")
    solution = make_solution_version(_notebook(new_code_cell(SOLVED), md))
    assert 'cluster_arn = ecs.create_cluster(clusterName="x")' in solution.cells[0].source
    assert "SOLUTION" not in solution.cells[0].source
    assert solution.cells[1].source == "Q\nA"


def test_strip_outputs_leaves_the_source_untouched() -> None:
    """strip_outputs returns a clean copy and does not change its argument."""
    cell = new_code_cell("print(1)", execution_count=1, metadata={"papermill": {"status": "completed"}})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb = _notebook(cell)
    clean = strip_outputs(nb)
    assert clean.cells[0].outputs == []
    assert "papermill" not in clean.cells[0].metadata
    assert nb.cells[0].outputs != []


def test_parameters_cell_detection() -> None:
    """The cell tagged `parameters` is found; a lab notebook without one is refused."""
    nb = _notebook(new_code_cell("x = 1"), _params())
    assert parameters_cell(nb) is nb.cells[1]
    bare = _notebook(new_code_cell("x = 1"))
    assert parameters_cell(bare) is None
    with pytest.raises(NotebookError, match=r"labs/y/lab\.ipynb: has no cell tagged 'parameters'"):
        check_lab_notebook(bare, "labs/y/lab.ipynb")


class TestReadNotebook:
    def test_invalid_json_names_the_file(self) -> None:
        """A file that is not JSON raises NotebookError naming the file."""
        path = FIXTURES / "invalid.ipynb"
        with pytest.raises(NotebookError, match=r"invalid\.ipynb: is not valid JSON") as caught:
            read_notebook(path)
        assert caught.value.path == str(path)
        assert caught.value.cell is None

    def test_invalid_notebook_names_the_cell(self, tmp_path: Path) -> None:
        """JSON that breaks the notebook schema in a cell names that cell."""
        nb = _notebook(new_code_cell("x = 1"), new_code_cell("y = 2"))
        nb.cells[1]["cell_type"] = "bogus"
        path = tmp_path / "bad.ipynb"
        path.write_text(json.dumps(nb))
        with pytest.raises(NotebookError, match=r"bad\.ipynb, cell 1: is not a valid notebook"):
            read_notebook(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file raises NotebookError, not FileNotFoundError."""
        with pytest.raises(NotebookError, match="no such notebook file"):
            read_notebook(tmp_path / "nope.ipynb")


def test_assign_writes_both_versions(tmp_path: Path) -> None:
    """assign writes a learner version without solutions and a solution version with them."""
    source = tmp_path / "lab.ipynb"
    nbformat.write(_notebook(_params(), new_code_cell(SOLVED)), str(source))
    assign(source, tmp_path / "out" / "learner.ipynb", tmp_path / "out" / "solution.ipynb")
    learner = read_notebook(tmp_path / "out" / "learner.ipynb")
    solution = read_notebook(tmp_path / "out" / "solution.ipynb")
    assert "create_cluster" not in learner.cells[1].source
    assert "create_cluster" in solution.cells[1].source


class TestNginxAlbLab:
    """The first lab's source notebook, through make_learner_version (it is not executed here)."""

    def test_is_a_valid_lab_notebook(self) -> None:
        """The lab reads, has a parameters cell with the expected parameters, and balanced markers."""
        nb = read_notebook(LAB)
        check_lab_notebook(nb, LAB)
        params = parameters_cell(nb)
        assert params is not None
        assert 'sandbox_mode = "embedded"' in params.source
        assert "solution = False" in params.source

    def test_learner_version_replaces_every_solution(self) -> None:
        """No solution code survives in the learner version, and every checkpoint cell is kept."""
        source = read_notebook(LAB)
        learner = make_learner_version(source, path=LAB)
        text = "\n".join(cell.source for cell in learner.cells)
        code = "\n".join(cell.source for cell in learner.cells if cell.cell_type == "code")
        assert "SOLUTION" not in text
        for call in ("create_security_group", "create_cluster", "register_task_definition", "create_service"):
            assert f"{call}(" not in code
        for name in (
            "alb_sg_id",
            "tasks_sg_id",
            "task_definition_arn",
            "load_balancer_arn",
            "target_group_arn",
        ):
            assert f"{name} = None  # YOUR CODE HERE" in text
        assert "servers = None  # YOUR CODE HERE" in text
        checks = re.findall(r'lab\.check\("([a-z0-9-]+)"\)', text)
        assert checks == [
            "security-groups-chained",
            "cluster-created",
            "task-definition-registered",
            "load-balancer-ready",
            "health-check-configured",
            "service-running",
            "service-scaled",
            "three-servers-answer",
        ]
        blocks = sum(cell.source.count("# BEGIN SOLUTION") for cell in source.cells)
        stubbed = sum("# YOUR CODE HERE" in cell.source for cell in learner.cells)
        assert blocks == stubbed == 8

    def test_learner_version_compiles_and_has_no_outputs(self) -> None:
        """Every code cell of the learner version compiles, and none stores an output."""
        learner = make_learner_version(read_notebook(LAB), path=LAB)
        for index, cell in enumerate(learner.cells):
            if cell.cell_type == "code":
                compile(_without_magics(cell.source), f"cell {index}", "exec")
                assert cell.outputs == []
                assert cell.execution_count is None
