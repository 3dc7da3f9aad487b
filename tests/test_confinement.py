"""A hostile notebook graded by `labkit grade` cannot reach the grader (README, "What grading guarantees").

Each attack is a notebook graded by the `labkit` command against a copy of a lab in a temp folder:
it must score 0 (or be refused as "not graded") and leave the labs, other learners' files and the
grader's state as they were. The `bwrap` tests skip, saying why, where bubblewrap cannot run; the
fallback (`user`) is tested everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest

from labkit.confinement import (
    Confinement,
    ConfinementError,
    KernelJail,
    bwrap_problem,
    python_roots,
    unreadable_by_others,
)
from labkit.labs import LabRefusedError, load_lab
from labkit.runner import grade_notebook

pytestmark = pytest.mark.slow

BWRAP_PROBLEM = bwrap_problem()
needs_bwrap = pytest.mark.skipif(BWRAP_PROBLEM is not None, reason=f"no bwrap confinement: {BWRAP_PROBLEM}")

CHECKS = """
from labkit.checkpoints import CheckpointSet, failed, passed

CLUSTER = "walls"
checkpoints = CheckpointSet("walls")


@checkpoints.checkpoint("cluster-created", "The cluster exists", points=2, hints=["create it"])
def cluster_created(ctx):
    clusters = ctx.client("ecs").describe_clusters(clusters=[CLUSTER])["clusters"]
    if clusters and clusters[0]["status"] == "ACTIVE":
        return passed(f"The cluster {CLUSTER} exists.")
    return failed(f"There is no cluster {CLUSTER}.")
"""

# The reference steps: the grader's only (never imported in these tests; a kernel must not read them).
REFERENCE = 'SECRET_SOLUTION = "reference-steps-are-the-graders"\n'
SECRET = "grader-secret"
TOKEN = "labkit-grader-control-token-123"


def _lab(root: Path) -> Path:
    """A copy of a small lab (`walls`): lab.toml, checks.py (importable by the kernel), reference.py
    (the grader's only) and a data file."""
    lab = root / "walls"
    lab.mkdir(parents=True)
    (lab / "lab.toml").write_text('title = "Walls"\nminutes = 1\npoints = 2\n')
    (lab / "checks.py").write_text(CHECKS)
    (lab / "reference.py").write_text(REFERENCE)
    (lab / "data.txt").write_text("data the lab needs\n")
    return lab


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _notebook(path: Path, *cells: str, lab: str | None = "walls") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if lab is not None:
        nb.metadata["labkit"] = {"lab": lab}
    params = nbformat.v4.new_code_cell('sandbox_mode = "embedded"\nclean_up = True')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(textwrap.dedent(c)) for c in cells)]
    nbformat.write(nb, path)
    return path


class Course:
    """A temp folder with a labs copy, a learner's folder with another learner's notebook, and results."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.labs = root / "labs"
        self.lab = _lab(self.labs)
        self.learners = root / "learners"
        self.learners.mkdir()
        self.other = _notebook(self.learners / "other.ipynb", "print('my own work')")
        self.results = root / "results"
        (self.results).mkdir()
        self.other_graded = self.results / "other.graded.ipynb"
        self.other_graded.write_text(self.other.read_text())
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {
            "labs": _digest(self.labs),
            "other": self.other.read_bytes(),
            "other_graded": self.other_graded.read_bytes(),
        }

    def grade(self, notebook: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`labkit grade NOTEBOOK --json`, as a grader runs it."""
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "labkit",
                "grade",
                str(notebook),
                "--json",
                "--results",
                str(self.results),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "LABKIT_LABS_DIR": str(self.labs), **(env or {})},
            timeout=300,
            check=False,
        )

    def untouched(self) -> None:
        assert self.snapshot() == self.before


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return Course(tmp_path / "course")


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(done.stdout)  # stdout is JSON alone, whatever the kernel wrote
    return report


def _evidence(report: dict[str, Any]) -> dict[str, Any]:
    """What the hostile notebook recorded (a line `EVIDENCE {json}` in its executed copy)."""
    nb = nbformat.read(report["notebook"], as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith("EVIDENCE "):
                    found: dict[str, Any] = json.loads(line.removeprefix("EVIDENCE "))
                    return found
    raise AssertionError(f"the notebook recorded no evidence: {report.get('error')}")


OPEN = """
import json, os, pathlib, labkit
lab = labkit.open_lab("walls", mode=sandbox_mode)
evidence = {}
"""
SHOW = 'print("EVIDENCE " + json.dumps(evidence))'


def _try_write(path: str, text: str) -> str:
    return f"""
try:
    pathlib.Path({path!r}).write_text({text!r})
    evidence[{path!r}] = "written"
except OSError as exc:
    evidence[{path!r}] = type(exc).__name__
"""


# -- bwrap: each attack ------------------------------------------------------------------------


@needs_bwrap
def test_the_notebook_cannot_rewrite_the_labs_checkpoints(course: Course) -> None:
    """A notebook that rewrites the lab's checks.py (so every later grade passes) scores 0: the
    grader's labs are not in its view, and its own copy is not what the grader loaded."""
    forged = "from labkit.checkpoints import *\ncheckpoints = None  # forged\n"
    notebook = _notebook(
        course.learners / "forge.ipynb",
        OPEN,
        _try_write(str(course.lab / "checks.py"), forged),
        "own = os.environ['LABKIT_LABS_DIR'] + '/walls/checks.py'\n"
        "pathlib.Path(own).write_text(pathlib.Path(own).read_text().replace('return failed', 'return passed'))",
        SHOW,
    )
    done = course.grade(notebook)
    report = _report(done)
    assert report["score"] == 0, report
    assert _evidence(report)[str(course.lab / "checks.py")] != "written"
    course.untouched()
    again = _report(course.grade(_notebook(course.learners / "honest.ipynb", OPEN)))
    assert again["score"] == 0
    assert again["checkpoints"][0]["status"] == "failed"


@needs_bwrap
def test_the_notebook_cannot_redirect_the_grader_to_a_fake_sandbox(course: Course) -> None:
    """A notebook that rewrites the sandbox state files it can find (pointing them at a server of its
    own) scores 0: the grader keeps its sandbox in memory and grades the one it started."""
    notebook = _notebook(
        course.learners / "redirect.ipynb",
        OPEN,
        """
        import glob, tempfile
        mine = pathlib.Path(os.environ["LABKIT_STATE_DIR"]) / "server.json"
        state = json.loads(mine.read_text())
        evidence["pid"] = state["pid"]
        evidence["grader_files"] = glob.glob("/tmp/labkit-grade-*/server.json") + glob.glob(
            tempfile.gettempdir() + "/labkit-grade-*/server.json")
        for path in [str(mine), *evidence["grader_files"]]:
            fake = dict(state, endpoint_url="http://127.0.0.1:9", port=9)
            try:
                pathlib.Path(path).write_text(json.dumps(fake))
            except OSError as exc:
                evidence[path] = type(exc).__name__
        """,
        SHOW,
    )
    report = _report(course.grade(notebook))
    evidence = _evidence(report)
    assert evidence["grader_files"] == []
    assert evidence["pid"] == 0  # the kernel is not told the server's pid
    assert report["score"] == 0
    assert report["checkpoints"][0]["status"] == "failed", report  # graded, the real (empty) sandbox
    course.untouched()


@needs_bwrap
def test_the_notebook_cannot_overwrite_other_learners_notebooks(course: Course) -> None:
    """A notebook that overwrites another learner's notebook and graded notebook changes neither."""
    notebook = _notebook(
        course.learners / "vandal.ipynb",
        OPEN,
        _try_write(str(course.other), "{}"),
        _try_write(str(course.other_graded), "{}"),
        "evidence['listing'] = sorted(os.listdir(os.getcwd()))",
        SHOW,
    )
    report = _report(course.grade(notebook))
    evidence = _evidence(report)
    assert evidence[str(course.other)] != "written"
    assert evidence[str(course.other_graded)] != "written"
    assert "other.ipynb" not in evidence["listing"]  # its working folder is a private copy
    assert report["score"] == 0
    course.untouched()


@needs_bwrap
def test_the_notebooks_raw_output_never_reaches_the_graders_streams(course: Course) -> None:
    """`os.write` to file descriptors 1 and 2 and writes to /dev/tty land in the executed notebook or the
    kernel's log; `labkit grade --json` prints JSON alone."""
    notebook = _notebook(
        course.learners / "noisy.ipynb",
        OPEN,
        """
        os.write(1, b"garbage-on-fd-1\\n{not json")
        os.write(2, b"garbage-on-fd-2\\n")
        try:
            with open("/dev/tty", "w") as tty:
                tty.write("garbage-on-tty")
            evidence["tty"] = "written"
        except OSError as exc:
            evidence["tty"] = type(exc).__name__
        """,
        SHOW,
    )
    done = course.grade(notebook)
    report = _report(done)  # parses
    assert "garbage" not in done.stdout
    assert "garbage" not in done.stderr
    assert _evidence(report)["tty"] != "written"
    log = Path(report["notebook"] + ".kernel.log")
    assert "garbage-on-fd-1" in log.read_text()
    assert "without encryption" not in log.read_text()  # the jailed kernel's transport is encrypted too
    assert report["score"] == 0
    course.untouched()


@needs_bwrap
def test_the_notebook_cannot_see_the_graders_environment_or_control_token(course: Course) -> None:
    """The kernel's environment holds none of the grader's variables (AWS keys, LABKIT_* tokens), and
    its sandbox token opens none of the grader's control endpoints (`/shutdown`, `/reset`)."""
    notebook = _notebook(
        course.learners / "spy.ipynb",
        OPEN,
        """
        import urllib.request, urllib.error
        everything = json.dumps(dict(os.environ))
        evidence["leaked"] = [everything.encode().hex()]
        for proc in pathlib.Path("/proc").glob("[0-9]*/environ"):
            try:
                evidence["leaked"].append(proc.read_bytes().hex())
            except OSError:
                pass
        state = json.loads((pathlib.Path(os.environ["LABKIT_STATE_DIR"]) / "server.json").read_text())
        for route in ("/shutdown", "/reset"):
            request = urllib.request.Request(state["endpoint_url"] + "/_labkit" + route, data=b"{}",
                method="POST", headers={"X-Labkit-Token": state["token"]})
            try:
                urllib.request.urlopen(request, timeout=5)
                evidence[route] = 200
            except urllib.error.HTTPError as exc:
                evidence[route] = exc.code
        lab.sandbox.client("ecs").create_cluster(clusterName="walls")
        """,
        SHOW,
    )
    report = _report(
        course.grade(notebook, env={"AWS_SECRET_ACCESS_KEY": SECRET, "LABKIT_GRADER_TOKEN": TOKEN})
    )
    evidence = _evidence(report)
    leaked = "".join(evidence["leaked"])
    assert SECRET.encode().hex() not in leaked
    assert TOKEN.encode().hex() not in leaked
    assert evidence["/shutdown"] == 403
    assert evidence["/reset"] == 403
    # The sandbox survived the attempts and was graded: the cluster the notebook made counts.
    assert report["checkpoints"][0]["status"] == "passed", report
    course.untouched()


@needs_bwrap
def test_the_notebook_can_import_the_checks_but_not_read_the_reference_steps(course: Course) -> None:
    """The kernel's copy of its lab has the checks and data files (`lab.check` works) but never
    `reference.py` or the source notebook; the grader's labs folder is not in its view."""
    notebook = _notebook(
        course.learners / "peek.ipynb",
        OPEN,
        """
        evidence["check"] = lab.check("cluster-created", display=False).status
        evidence["data"] = (lab.lab.path / "data.txt").read_text()
        evidence["copy"] = sorted(os.listdir(lab.lab.path))
        evidence["read"] = []
        for path in [str(lab.lab.path / "reference.py"), REAL]:
            try:
                evidence["read"].append(pathlib.Path(path).read_text())
            except OSError as exc:
                evidence["read"].append(type(exc).__name__)
        """.replace("REAL", repr(str(course.lab / "reference.py"))),
        SHOW,
    )
    report = _report(course.grade(notebook))
    evidence = _evidence(report)
    assert evidence["check"] == "failed"
    assert evidence["data"] == "data the lab needs\n"
    assert "reference.py" not in evidence["copy"]
    assert "checks.py" in evidence["copy"]
    assert not any("reference-steps" in text for text in evidence["read"])
    course.untouched()


# -- the lab a notebook names ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink"])
def test_a_lab_named_outside_the_labs_folder_is_not_graded_and_never_imported(
    course: Course, tmp_path: Path, kind: str
) -> None:
    """A notebook whose metadata names a lab outside labs/ (a path, `..`, a symlink out of it) is
    refused as "not graded"; that folder's checks.py is never imported by the grader."""
    outside = tmp_path / "x" / "walls"
    outside.mkdir(parents=True)
    marker = tmp_path / "imported"
    (outside / "lab.toml").write_text('title = "Evil"\nminutes = 1\n')
    for module in ("checks.py", "checkpoints.py", "reference.py"):
        (outside / module).write_text(
            f"import pathlib\npathlib.Path({str(marker)!r}).write_text('the grader ran me')\n"
            "from labkit.checkpoints import CheckpointSet\ncheckpoints = CheckpointSet('walls')\n"
        )
    named = {"absolute": str(outside), "dotdot": "../../x/walls", "symlink": "evil"}[kind]
    if kind == "symlink":
        (course.labs / "evil").symlink_to(outside)
        course.before = course.snapshot()
    done = course.grade(_notebook(course.learners / "elsewhere.ipynb", "print(1)", lab=named))
    assert done.returncode != 0
    report = _report(done)
    assert report["status"] == "not-graded"
    assert report["score"] == 0
    assert "not graded" in done.stderr
    assert not marker.exists()
    course.untouched()


def test_load_lab_refuses_anything_but_a_folder_name(tmp_path: Path) -> None:
    """`load_lab` refuses paths, `..` and symlinks out of the labs root before reading anything."""
    labs = tmp_path / "labs"
    _lab(labs)
    (labs / "out").symlink_to(tmp_path)
    for bad in ("/tmp/x/walls", "../walls", "walls/..", "out", "", ".hidden"):
        with pytest.raises(LabRefusedError):
            load_lab(bad, labs)
    assert load_lab("walls", labs).checkpoints.ids() == ["cluster-created"]


# -- the fallback without bwrap ----------------------------------------------------------------------


def test_the_user_fallback_scrubs_the_environment_and_keeps_the_streams(
    course: Course, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without bwrap (`user`, here as the grader's own user): the kernel gets the lab's environment
    only, a private working folder and lab copy without reference.py, and its raw output goes to the log."""
    monkeypatch.setenv("LABKIT_LABS_DIR", str(course.labs))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("LABKIT_GRADER_TOKEN", TOKEN)
    notebook = _notebook(
        course.learners / "fallback.ipynb",
        OPEN,
        """
        os.write(1, b"garbage-on-fd-1")
        evidence["env"] = json.dumps(dict(os.environ)).encode().hex()
        evidence["cwd"] = sorted(os.listdir(os.getcwd()))
        evidence["copy"] = sorted(os.listdir(lab.lab.path))
        evidence["state"] = json.loads((pathlib.Path(os.environ["LABKIT_STATE_DIR"]) / "server.json").read_text())["pid"]
        """,
        SHOW,
    )
    output = course.results / "fallback.graded.ipynb"
    run = grade_notebook(notebook, load_lab("walls"), output, confinement=Confinement("user"))
    evidence = _evidence({"notebook": str(output), "error": run.error})
    assert SECRET.encode().hex() not in evidence["env"]
    assert TOKEN.encode().hex() not in evidence["env"]
    assert evidence["cwd"] == ["fallback.ipynb"]
    assert "reference.py" not in evidence["copy"]
    assert evidence["state"] == 0
    assert "garbage-on-fd-1" in Path(str(output) + ".kernel.log").read_text()
    assert run.report.score == 0
    course.untouched()


def test_a_root_grader_never_runs_the_kernel_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, every confinement but `none` runs the kernel as nobody, or refuses to grade, saying why."""
    if os.geteuid() != 0:
        assert Confinement.choose({"LABKIT_CONFINEMENT": "user"}).run_as is None
        return
    unreadable = unreadable_by_others(python_roots())
    if unreadable:
        with pytest.raises(ConfinementError, match="LABKIT_CONFINEMENT=none"):
            Confinement.choose({"LABKIT_CONFINEMENT": "user"})
    else:
        chosen = Confinement.choose({"LABKIT_CONFINEMENT": "user"})
        assert chosen.run_as is not None
        assert chosen.run_as[0] != 0
    if BWRAP_PROBLEM is None:
        bwrap = Confinement.choose({})
        assert bwrap.mode == "bwrap"
        assert bwrap.run_as is not None
        assert bwrap.run_as[0] != 0


def test_an_unknown_confinement_is_an_error() -> None:
    """`LABKIT_CONFINEMENT` names bwrap, user or none; anything else is refused, never ignored."""
    with pytest.raises(ConfinementError, match="bwrap, user or none"):
        Confinement.choose({"LABKIT_CONFINEMENT": "sandboxed"})
    assert Confinement.choose({"LABKIT_CONFINEMENT": "none"}).mode == "none"


def test_a_sandbox_that_stops_answering_to_the_graders_token_is_not_graded(
    course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even unconfined, a notebook that kills the grader's sandbox server (to stand up one of its own in
    its place) gets every checkpoint "not graded": the grader grades only a server that answers to the
    control token it kept in memory."""
    monkeypatch.setenv("LABKIT_LABS_DIR", str(course.labs))
    notebook = _notebook(
        course.learners / "usurper.ipynb",
        OPEN,
        """
        import signal
        for cmdline in pathlib.Path("/proc").glob("[0-9]*/cmdline"):
            try:
                # Only this grader's server: a child of the kernel's parent (other runs are left alone).
                parent = int((cmdline.parent / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if b"labkit.sandbox.server" in cmdline.read_bytes() and parent == os.getppid():
                    os.kill(int(cmdline.parent.name), signal.SIGKILL)
            except OSError:
                pass
        """,
    )
    output = course.results / "usurper.graded.ipynb"
    run = grade_notebook(notebook, load_lab("walls"), output, confinement=Confinement("none"))
    assert [result.status for result in run.report.checkpoints] == ["not-graded"]
    assert "not the one the grader started" in run.report.checkpoints[0].message
    assert run.report.score == 0


def test_a_python_environment_under_tmp_stays_in_the_jails_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/tmp's tmpfs is mounted before the read-only Python folders and the private folder, so a checkout or
    virtual environment under /tmp (as a CI clone may be) is not hidden from the kernel (it died at start)."""
    from labkit import confinement

    venv = Path("/tmp/labkit-ci-clone/.venv")
    monkeypatch.setattr(confinement, "python_roots", lambda: [venv])
    jail = KernelJail(Confinement("bwrap", None, "bwrap"), tmp_path / "jail", "tiny", tmp_path / "kernel.log")
    args = jail.wrap(["python", "-m", "ipykernel_launcher"])
    tmpfs = args.index("--tmpfs")
    assert args[tmpfs + 1] == "/tmp"
    binds = [
        i
        for i, a in enumerate(args)
        if a in ("--ro-bind", "--bind") and args[i + 1] in (str(venv), str(jail.root))
    ]
    assert len(binds) == 2
    assert all(i > tmpfs for i in binds)
