"""The contract run's checked-in parts, checked in the default run (the run itself is `-m contract`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.contract.conftest import DIFFERENCES, MOTO_TESTS, load_differences, load_known

REPO = Path(__file__).resolve().parent.parent


def test_every_deliberate_difference_names_a_vendored_test_and_aws_documentation() -> None:
    """Each entry names an existing moto test function and cites docs.aws.amazon.com."""
    differences = load_differences()
    assert differences
    for test_id, entry in differences.items():
        path, *names = test_id.split("::")
        source = (MOTO_TESTS / path).read_text(encoding="utf-8")
        function = re.sub(r"\[.*\]$", "", names[-1])
        assert re.search(rf"^\s*def {re.escape(function)}\(", source, re.MULTILINE), test_id
        assert entry["aws"].startswith("https://docs.aws.amazon.com/"), test_id
        assert len(entry["why"]) > 20, test_id


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[tests."a.py::t"]\nwhy = "because"\n', "lacks aws"),
        ('[tests."a.py::t"]\nwhy = "because"\naws = "https://example.com/"\n', "AWS documentation URL"),
    ],
)
def test_an_entry_without_aws_documentation_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    """A difference without an AWS documentation URL stops the run before any test."""
    path = tmp_path / DIFFERENCES.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=problem):
        load_differences(path)


def test_the_vendored_tests_carry_moto_licence_and_their_changes() -> None:
    """moto's Apache-2.0 licence is beside its files, and every changed file says what changed."""
    assert "Apache License" in (MOTO_TESTS / "LICENSE").read_text(encoding="utf-8")
    for path in MOTO_TESTS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "tests.contract.moto_tests" in text:
            assert text.startswith("# Modified for labkit"), path


def test_ci_runs_the_contract_after_the_suite() -> None:
    """`.ci/run` runs `python -m pytest -m contract` after the README's test command."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index("python -m pytest -m contract") > ci.index("&& python -m pytest")


def test_every_known_failure_says_what_kind_it_is_and_where_it_comes_from() -> None:
    """A known failure (not a deliberate difference) names an existing test, its kind and its source."""
    known = load_known()
    for test_id, entry in known.items():
        path, *names = test_id.split("::")
        source = (MOTO_TESTS / path).read_text(encoding="utf-8")
        assert re.search(rf"^\s*def {re.escape(names[-1])}\(", source, re.MULTILINE), test_id
        assert entry["kind"] in ("observed", "gap"), test_id
        assert len(entry["why"]) > 20, test_id
        assert entry["source"], test_id


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[known."a.py::t"]\nwhy = "because"\nkind = "gap"\n', "lacks source"),
        ('[known."a.py::t"]\nwhy = "because"\nkind = "maybe"\nsource = "x"\n', "observed or gap"),
        (
            '[tests."a.py::t"]\nwhy = "b"\naws = "https://docs.aws.amazon.com/x"\n'
            '[known."a.py::t"]\nwhy = "b"\nkind = "gap"\nsource = "x"\n',
            "both deliberate and known",
        ),
    ],
)
def test_a_known_failure_without_its_kind_or_source_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    """A known failure must say whether labkit follows an observed AWS answer or has a gap, and where from."""
    path = tmp_path / DIFFERENCES.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=problem):
        load_known(path)
