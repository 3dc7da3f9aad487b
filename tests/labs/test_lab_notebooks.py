"""Every lab notebook's check cells follow its checkpoints, its solutions fold away, its learner version runs."""

from __future__ import annotations

import re

import pytest

from labkit.labs import load_lab
from labkit.notebooks import SOLUTION_TAGS, make_learner_version, read_notebook

LABS = [
    "nginx-alb",
    "rolling-updates",
    "blue-green",
    "placement",
    "ecs-cluster",
    "autoscaling",
    "event-driven",
    "express-mode",
]


@pytest.mark.parametrize("lab_id", LABS)
def test_the_check_cells_follow_the_checkpoints_in_order(lab_id: str) -> None:
    """The notebook checks each checkpoint once, in the order checks.py defines them."""
    lab = load_lab(lab_id)
    source = "\n".join(cell.source for cell in read_notebook(lab.notebook).cells if cell.cell_type == "code")
    assert re.findall(r'lab\.check\("([a-z0-9-]+)"\)', source) == lab.checkpoints.ids()
    assert len(lab.checkpoints) >= 4
    assert lab.minutes > 0
    assert lab.objectives


@pytest.mark.parametrize("lab_id", LABS)
def test_solutions_fold_away_in_the_book_and_the_learner_stubs_do_not(lab_id: str) -> None:
    """Solution cells are tagged hide-input; in the learner version they are stubs without that tag that compile."""
    lab = load_lab(lab_id)
    source = read_notebook(lab.notebook)
    solved = [cell for cell in source.cells if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source]
    assert solved
    assert all("hide-input" in cell.metadata.get("tags", []) for cell in solved)
    learner = make_learner_version(source, path=lab.notebook)
    stubs = [cell for cell in learner.cells if "# YOUR CODE HERE" in cell.source]
    assert len(stubs) == len(solved)
    assert not any(set(cell.metadata.get("tags", [])) & set(SOLUTION_TAGS) for cell in stubs)
    for index, cell in enumerate(learner.cells):
        if cell.cell_type == "code":
            compile(cell.source, f"{lab_id} cell {index}", "exec")
