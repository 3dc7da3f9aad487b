"""The labs registry, and a learner's lab session: check, hints, progress, catch-up."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

import labkit
from labkit.lab import LabSession, Progress
from labkit.labs import (
    LabDefinitionError,
    LabInfo,
    UnknownLabError,
    course_order,
    list_labs,
    load_lab,
    load_reference,
)
from labkit.notebooks import read_notebook
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.conftest import REPO

FIXTURES = Path(__file__).parent / "fixtures" / "labs"


def test_the_course_lists_the_nginx_alb_lab() -> None:
    """labs/ holds nginx-alb with its title, time and at least five checkpoints."""
    labs = {lab.id: lab for lab in list_labs()}
    lab = labs["nginx-alb"]
    assert lab.minutes == 45
    assert len(lab.checkpoints) >= 5
    assert len(lab.objectives) >= 3


@pytest.mark.parametrize("lab", list_labs(), ids=lambda lab: lab.id)
def test_every_lab_is_complete_and_listed(lab: LabInfo) -> None:
    """Each lab has objectives, a time, prerequisites and four checkpoints with hints, and is in the
    README, labs/README.md and the book's table of contents."""
    assert lab.minutes > 0
    assert lab.objectives
    assert lab.prerequisites
    assert len(lab.checkpoints) >= 4
    assert all(checkpoint.hints for checkpoint in lab.checkpoints)
    assert f"`{lab.id}`" in (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`{lab.id}`" in (REPO / "labs" / "README.md").read_text(encoding="utf-8")
    assert f"- file: labs/{lab.id}/lab\n" in (REPO / "_toc.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("lab", list_labs(), ids=lambda lab: lab.id)
def test_every_lab_keeps_its_checks_apart_from_its_reference_steps(lab: LabInfo) -> None:
    """Each lab has checks.py and reference.py (no checkpoints.py); every checkpoint has reference
    steps; checks.py imports nothing of reference.py, so loading the lab never imports it."""
    assert (lab.path / "checks.py").is_file()
    assert (lab.path / "reference.py").is_file()
    assert not (lab.path / "checkpoints.py").exists()
    tree = ast.parse((lab.path / "checks.py").read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:  # from . import reference, from .reference import
            imported += [node.module or "", *(alias.name for alias in node.names if not node.module)]
        elif isinstance(node, ast.ImportFrom):
            imported.append(node.module or "")
        elif isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
    assert not [
        name
        for name in imported
        if name == "reference" or (name.endswith(".reference") and name.startswith("labkit_labs"))
    ], imported
    sys.modules.pop(f"labkit_labs.{lab.id.replace('-', '_')}.reference", None)
    reloaded = load_lab(lab.id)
    assert f"labkit_labs.{lab.id.replace('-', '_')}.reference" not in sys.modules
    reference = load_reference(reloaded)
    assert [i for i in reloaded.checkpoints.ids() if reference.get(i) is None] == []


def test_an_unknown_lab_names_the_known_ones() -> None:
    """A mistyped lab id is UnknownLabError listing the labs."""
    with pytest.raises(UnknownLabError, match="nginx-alb"):
        load_lab("nginx-abl")


def test_a_broken_lab_names_its_file() -> None:
    """A checks.py that fails to import is a LabDefinitionError naming the file and the error."""
    with pytest.raises(LabDefinitionError) as caught:
        load_lab("broken", FIXTURES)
    assert "checks.py" in str(caught.value)
    assert "deliberately broken" in str(caught.value)


@pytest.fixture
def session(sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch) -> LabSession:
    monkeypatch.setenv("LABKIT_LABS_DIR", str(FIXTURES))
    return labkit.open_lab("tiny", sandbox=sandbox)


def test_check_records_attempts_and_survives_a_restart(session: LabSession) -> None:
    """Two checks are two attempts; a new session (a restarted kernel) reads the same progress."""
    session.check("cluster-created", display=False)
    session.sandbox.client("ecs").create_cluster(clusterName="tiny")
    assert session.check("cluster-created", display=False).passed
    again = Progress.load("tiny")
    assert again.entry("cluster-created")["attempts"] == 2
    assert again.entry("cluster-created")["status"] == "passed"


def test_hints_are_revealed_one_at_a_time(session: LabSession) -> None:
    """The first call shows hint 1, the next hint 2, then it stays on the last."""
    assert session.hint("cluster-created") == "Hint 1 of 2: First hint."
    assert session.hint("cluster-created") == "Hint 2 of 2: Second hint."
    assert session.hint("cluster-created") == "Hint 2 of 2: Second hint."
    assert Progress.load("tiny").entry("cluster-created")["hints_shown"] == 2


def test_catch_up_builds_the_state_and_is_caught_up_never_passed(session: LabSession) -> None:
    """catch_up runs the reference steps; progress and a later check then show `caught-up`, 0 points, never `passed`."""
    session.catch_up(to="cluster-created")
    assert session.sandbox.client("ecs").describe_clusters(clusters=["tiny"])["clusters"]
    first = session.progress(display=False).checkpoints[0]
    assert (first.status, first.points) == ("caught-up", 0)
    assert "caught up" in first.message
    checked = session.check("cluster-created", display=False)
    assert (checked.status, checked.points, checked.passed) == ("caught-up", 0, False)
    again = session.progress(display=False)
    assert again.checkpoints[0].status == "caught-up"
    assert again.score == 0
    assert Progress.load("tiny").entry("cluster-created")["status"] == "caught-up"


def test_a_graded_run_refuses_catch_up_and_never_imports_the_reference_steps(
    session: LabSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With LABKIT_GRADED set (the grader's kernel), catch_up says why it is refused and builds
    nothing, and the lab's reference.py is never imported, by open_lab or on request."""
    from labkit.lab import CatchUpRefusedError
    from labkit.labs import ReferenceNotAvailableError

    monkeypatch.setenv("LABKIT_GRADED", "1")
    sys.modules.pop("labkit_labs.tiny.reference", None)
    graded = labkit.open_lab("tiny", sandbox=session.sandbox)
    with pytest.raises(CatchUpRefusedError, match="catch-up is not available while your notebook is graded"):
        graded.catch_up(to="cluster-created")
    assert graded.sandbox.client("ecs").describe_clusters(clusters=["tiny"])["clusters"] == []
    with pytest.raises(ReferenceNotAvailableError, match="being graded"):
        load_reference(graded.lab)
    assert "labkit_labs.tiny.reference" not in sys.modules
    assert Progress.load("tiny").entry("cluster-created")["caught_up"] is False


def test_a_lab_copy_without_reference_steps_still_checks_but_cannot_catch_up(
    tmp_path: Path, sandbox: EmbeddedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lab folder holding only the checks (what a confined kernel gets) loads and checks; catch_up
    says the reference steps are not there."""
    import shutil

    from labkit.labs import ReferenceNotAvailableError

    shutil.copytree(FIXTURES / "tiny", tmp_path / "tiny", ignore=shutil.ignore_patterns("reference.py"))
    monkeypatch.setenv("LABKIT_LABS_DIR", str(tmp_path))
    session = labkit.open_lab("tiny", sandbox=sandbox)
    assert session.check("cluster-created", display=False).status == "failed"
    with pytest.raises(ReferenceNotAvailableError, match=r"reference\.py"):
        session.catch_up(to="cluster-created")


def test_plain_text_feedback_outside_a_notebook(
    session: LabSession, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside Jupyter, check() prints one line with the status and a pointer to the hints."""
    session.check("cluster-created")
    out = capsys.readouterr().out
    assert "cluster-created (0/2) failed: There is no cluster named tiny." in out
    assert "lab.hint" in out


@pytest.mark.slow
def test_the_nginx_alb_reference_solution_passes_every_checkpoint(sandbox: EmbeddedSandbox) -> None:
    """On a fresh sandbox every nginx-alb checkpoint fails; after catching up to the end all pass."""
    session = labkit.open_lab("nginx-alb", sandbox=sandbox)
    from labkit.grading import grade

    before = grade("nginx-alb", session.lab.checkpoints, sandbox)
    assert before.count("failed") == len(session.lab.checkpoints)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade("nginx-alb", session.lab.checkpoints, sandbox)
    assert after.score == after.possible, after.summary()


def test_a_lab_in_aws_mode_keeps_its_session_across_restarts(
    labkit_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reopening a lab in a real account continues its session id, so its tags (and clean-up) stay one."""
    from labkit.testing import FakeAws

    monkeypatch.setenv("LABKIT_LABS_DIR", str(FIXTURES))
    (labkit_home / "config.toml").write_text(
        '[aws]\nallowed_accounts = ["111122223333"]\nregion = "eu-west-1"\n'
    )
    fake = FakeAws(account_id="111122223333")
    first = labkit.open_lab("tiny", mode="aws", botocore_session=fake.session(), confirm_cost=True)
    second = labkit.open_lab("tiny", mode="aws", botocore_session=fake.session(), confirm_cost=True)
    assert first.sandbox.session_id == second.sandbox.session_id
    assert Progress.load("tiny").aws_session == first.sandbox.session_id
    assert fake.mutating == []


TINY_CHECKS = (FIXTURES / "tiny" / "checks.py").read_text(encoding="utf-8")


def make_lab(root: Path, lab_id: str, toml: str) -> Path:
    """A lab folder with `toml` as its lab.toml and the tiny lab's checkpoints (renamed)."""
    folder = root / lab_id
    folder.mkdir(parents=True)
    (folder / "lab.toml").write_text(toml, encoding="utf-8")
    (folder / "checks.py").write_text(
        TINY_CHECKS.replace('CheckpointSet("tiny")', f'CheckpointSet("{lab_id}")'), encoding="utf-8"
    )
    return folder


class TestLabTomlIsValidated:
    """A lab.toml with a wrong type or a missing field is a LabFieldError naming the file, the field and what was expected."""

    @pytest.mark.parametrize(
        ("toml", "field", "expected"),
        [
            ('title = "T"\nminutes = "abc"\n', "minutes", "a whole number of minutes"),
            ('title = "T"\nminutes = 4.5\n', "minutes", "a whole number of minutes"),
            ('title = "T"\nminutes = true\n', "minutes", "a whole number of minutes"),
            ('title = "T"\nminutes = 0\n', "minutes", "a whole number of minutes"),
            ('title = "T"\nminutes = -5\n', "minutes", "a whole number of minutes"),
            ("minutes = 5\n", "title", "is required"),
            ('title = ""\nminutes = 5\n', "title", "a non-empty string"),
            ("title = 7\nminutes = 5\n", "title", "a non-empty string"),
            ('title = "T"\n', "minutes", "is required"),
            ('title = "T"\nminutes = 5\npoints = "lots"\n', "points", "a whole number"),
            ('title = "T"\nminutes = 5\npoints = 99\n', "points", "the sum of the checkpoints' points"),
            (
                'title = "T"\nminutes = 5\ncheckpoints = "cluster-created"\n',
                "checkpoints",
                "a list of strings",
            ),
            (
                'title = "T"\nminutes = 5\ncheckpoints = ["cluster-created"]\n',
                "checkpoints",
                "checks.py",
            ),
            (
                'title = "T"\nminutes = 5\nobjectives = "Create a cluster"\n',
                "objectives",
                "a list of strings",
            ),
            ('title = "T"\nminutes = 5\nprerequisites = [1, 2]\n', "prerequisites", "a list of strings"),
            ('title = "T"\nminutes = 5\naws = "yes"\n', "aws", "a table"),
            (
                'title = "T"\nminutes = 5\n[aws]\ncreates = "a load balancer"\n',
                "aws.creates",
                "a list of tables",
            ),
        ],
    )
    def test_each_wrong_field_is_named(self, tmp_path: Path, toml: str, field: str, expected: str) -> None:
        """`minutes = "abc"`, `points = "lots"`, no title, checkpoints not a list...: one clear error, no traceback."""
        from labkit.labs import LabFieldError

        folder = make_lab(tmp_path, "custom", toml)
        with pytest.raises(LabFieldError) as caught:
            load_lab("custom", tmp_path)
        error = caught.value
        assert isinstance(error, LabDefinitionError)
        assert error.field == field
        assert str(folder / "lab.toml") in str(error)
        assert f"`{field}`" in str(error)
        assert expected in str(error)

    def test_a_toml_syntax_error_names_the_file(self, tmp_path: Path) -> None:
        """A lab.toml that is not TOML is a LabDefinitionError naming the file."""
        folder = make_lab(tmp_path, "custom", 'title = "unterminated\n')
        with pytest.raises(LabDefinitionError, match=str(folder / "lab.toml")):
            load_lab("custom", tmp_path)

    def test_a_correct_lab_toml_with_the_optional_fields_loads(self, tmp_path: Path) -> None:
        """points and checkpoints that agree with checks.py are accepted."""
        make_lab(
            tmp_path,
            "custom",
            'title = "T"\nminutes = 5\npoints = 5\n'
            'checkpoints = ["cluster-created", "always-passes", "writes", "crashes"]\n',
        )
        lab = load_lab("custom", tmp_path)
        assert lab.minutes == 5

    def test_one_bad_lab_does_not_hide_the_others(self, tmp_path: Path) -> None:
        """scan_labs returns the good labs and the broken ones' errors; an unknown id still lists the ids."""
        from labkit.labs import scan_labs

        make_lab(tmp_path, "alpha", 'title = "Alpha"\nminutes = 5\n')
        make_lab(tmp_path, "bad", 'title = "Bad"\nminutes = "abc"\n')
        make_lab(tmp_path, "zulu", 'title = "Zulu"\nminutes = 7\n')
        scan = scan_labs(tmp_path)
        assert [lab.id for lab in scan.labs] == ["alpha", "zulu"]
        assert [problem.path.parent.name for problem in scan.broken] == ["bad"]
        with pytest.raises(UnknownLabError, match="alpha, bad, zulu"):
            load_lab("nope", tmp_path)


# -- the course's order and the labs' titles ---------------------------------------------------------


def _lab_table(path: Path, ids: list[str]) -> list[str]:
    """The lab ids of a Markdown table's rows (`| `id` | ...`), in the page's order."""
    rows = re.findall(r"^\| `([A-Za-z0-9_-]+)` \|", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return [row for row in rows if row in ids]


def test_the_course_order_is_the_books_and_both_readmes() -> None:
    """_toc.yml lists every lab, each once; labs/README.md's and the README's lab tables list them in
    that order, so `labkit labs`, the book and both READMEs give one course order."""
    order = course_order()
    assert order.source == REPO / "_toc.yml"
    assert order.unlisted == []
    assert order.unknown == []
    assert order.problem is None
    assert sorted(order.ids) == sorted(lab.id for lab in list_labs())
    assert order.ids[:4] == ["containers-101", "ecr-push", "ecs-cluster", "nginx-alb"]
    assert _lab_table(REPO / "labs" / "README.md", order.ids) == order.ids
    assert _lab_table(REPO / "README.md", order.ids) == order.ids


@pytest.mark.parametrize("lab", list_labs(), ids=lambda lab: lab.id)
def test_every_lab_notebook_is_headed_by_its_title_and_says_how_to_open_it(lab: LabInfo) -> None:
    """The notebook's first cell (markdown) starts with `# <lab.toml title>`, the one form of a lab's
    title (the book's lab page shows it; its chapters say "Lab: " before it), and says which command
    opens the lab."""
    first = read_notebook(lab.notebook).cells[0]
    assert first.cell_type == "markdown"
    heading, *rest = first.source.split("\n")
    assert heading == f"# {lab.title}"
    assert not lab.title.lower().startswith("lab")
    assert f"`labkit start {lab.id}`" in "\n".join(rest)


def test_the_book_introduces_every_lab_page_as_lab_title() -> None:
    """Every lab is linked from a chapter as "Lab: {doc}`../labs/<id>/lab`": Sphinx shows the
    notebook's heading there, the lab's title, so the book says "Lab: <title>", with "Lab" once."""
    linked: set[str] = set()
    opened: set[str] = set()
    for page in sorted((REPO / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        linked.update(re.findall(r"Lab: \{doc\}`\.\./labs/([^/`]+)/lab`", text))
        opened.update(re.findall(r"`labkit start ([\w-]+)`", text))
    assert linked == {lab.id for lab in list_labs()}
    # ... and a chapter names the command that opens each lab, never only the source notebook.
    assert opened >= {lab.id for lab in list_labs()}


class TestCourseOrder:
    """`course_order` reads the lab pages' order from _toc.yml beside the labs folder."""

    @staticmethod
    def _course(tmp_path: Path, toc: str | None, labs: tuple[str, ...] = ("alpha", "beta", "gamma")) -> Path:
        root = tmp_path / "labs"
        for lab_id in labs:
            make_lab(root, lab_id, f'title = "{lab_id.title()}"\nminutes = 5\n')
        if toc is not None:
            (tmp_path / "_toc.yml").write_text(toc, encoding="utf-8")
        return root

    def test_the_tocs_order_then_unlisted_labs_last_with_a_warning(self, tmp_path: Path) -> None:
        """Labs follow the toc; one it does not list comes last and is warned about; one it lists that
        does not exist is warned about and not listed."""
        toc = (
            "format: jb-book\nroot: intro\nparts:\n  - caption: Labs\n    chapters:\n"
            "      - file: labs/gamma/lab\n      - file: labs/ghost/lab\n      - file: ./labs/alpha/lab.ipynb\n"
            "      - file: labs/gamma/lab\n"
        )
        order = course_order(self._course(tmp_path, toc))
        assert order.ids == ["gamma", "alpha", "beta"]
        assert order.unlisted == ["beta"]
        assert order.unknown == ["ghost"]
        warnings = order.warnings()
        assert len(warnings) == 2
        assert "'beta' is not in the course's table of contents" in warnings[0]
        assert "listed last" in warnings[0]
        assert str(tmp_path / "_toc.yml") in warnings[0]
        assert "'ghost'" in warnings[1]

    def test_without_a_toc_the_labs_are_listed_by_id(self, tmp_path: Path) -> None:
        """No _toc.yml: by id, no warning."""
        order = course_order(self._course(tmp_path, None))
        assert order.ids == ["alpha", "beta", "gamma"]
        assert order.source is None
        assert order.warnings() == []

    @pytest.mark.parametrize("toc", ["parts: [unclosed\n", "\x00\x01", "- just\n- a list\n", "42\n", ""])
    def test_a_broken_toc_lists_the_labs_by_id(self, tmp_path: Path, toc: str) -> None:
        """A toc that is not YAML, or names no lab page, never breaks the listing: every lab, by id."""
        order = course_order(self._course(tmp_path, toc))
        assert order.ids == ["alpha", "beta", "gamma"]
        assert all("Traceback" not in line for line in order.warnings())

    def test_toc_entries_outside_the_labs_folder_are_not_labs(self, tmp_path: Path) -> None:
        """Paths that lead elsewhere (`..`, absolute, nested) never become lab ids."""
        toc = (
            "root: intro\nchapters:\n  - file: labs/../labs/alpha/lab\n  - file: /labs/beta/lab\n"
            "  - file: labs/beta/x/lab\n  - file: other/gamma/lab\n  - file: labs/beta/lab\n"
        )
        order = course_order(self._course(tmp_path, toc))
        assert order.ids == ["beta", "alpha", "gamma"]
        assert order.unknown == []
