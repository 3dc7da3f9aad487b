"""`labkit start`: the learner's workspace (never a solution, the learner's edits kept) and JupyterLab
on 127.0.0.1 with a token (see tests/test_workspace_browser.py for the learner's path in a browser)."""

from __future__ import annotations

import contextlib
import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from labkit.labs import lab_ids, labs_root
from labkit.notebooks import CODE_MARKERS, MARKDOWN_MARKERS, make_solution_version, read_notebook
from labkit.runner import lab_of_notebook
from labkit.workspace import MANIFEST, WorkspaceError, prepare_workspace, workspace_path
from tests.conftest import run_labkit
from tests.jupyterlab import private_env, started_workspace


def _split_source(lab_id: str) -> tuple[set[str], str]:
    """A lab source's solution lines (stripped) and the text of everything outside its solutions."""
    nb = read_notebook(labs_root() / lab_id / "lab.ipynb")
    inside: set[str] = set()
    outside: list[str] = []
    for cell in nb.cells:
        markers = CODE_MARKERS if cell.cell_type == "code" else MARKDOWN_MARKERS
        within = False
        for line in "".join(cell.source).split("\n"):
            text = line.strip()
            if text in markers:
                within = text == markers[0]
                continue
            if within:
                inside.add(text)
            else:
                outside.append(line)
    return inside, "\n".join(outside)


def _solution_lines() -> dict[str, set[str]]:
    """Per lab, the lines of its solutions (long enough to be telling) that no lab gives its learner
    outside a solution (a later lab may hand out an earlier lab's solution as given code)."""
    split = {lab_id: _split_source(lab_id) for lab_id in lab_ids()}
    given = "\n".join(rest for _, rest in split.values())
    return {
        lab_id: {
            line for line in inside if len(line) >= 20 and not line.startswith("#") and line not in given
        }
        for lab_id, (inside, _) in split.items()
    }


def _every_file(root: Path) -> dict[Path, str]:
    """Every file's text; a notebook's cells and metadata decoded too (JSON escapes quotes)."""
    texts = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            nb = json.loads(text)
            text += "\n".join("".join(cell["source"]) for cell in nb["cells"]) + json.dumps(nb["metadata"])
        texts[path] = text
    return texts


def test_the_workspace_holds_every_lab_as_the_learner_version(tmp_path: Path) -> None:
    """One notebook per lab, named by its id, that `labkit grade` can tell the lab of."""
    workspace = prepare_workspace(tmp_path / "ws")
    for lab_id in lab_ids():
        notebook = workspace.notebook(lab_id)
        assert notebook.is_file()
        assert lab_of_notebook(notebook) == lab_id
        assert read_notebook(notebook).metadata["labkit"] == {"lab": lab_id}
    assert (tmp_path / "ws" / "containers-101" / "app" / "app.py").is_file()


def test_the_workspace_never_holds_a_solution(tmp_path: Path) -> None:
    """Hostile check: no file of the workspace has a line of any lab's solutions, a solution marker,
    a reference module, checks or a lab source."""
    root = tmp_path / "ws"
    prepare_workspace(root)
    files = _every_file(root)
    names = {p.name for p in files}
    assert not names & {"reference.py", "checks.py", "lab.ipynb", "lab.toml"}
    assert not [p for p in files if "reference" in p.name or "solution" in p.name.lower()]
    # A lab's own modules (troubleshooting's scenario.py builds a whole service behind a load balancer)
    # are imported by open_lab from the labs folder, never copied to the learner.
    assert not [p for p in files if p.suffix == ".py" and p.parent.parent == root]
    leaked = []
    for lab_id, lines in _solution_lines().items():
        assert lines, f"{lab_id}: the test found no solution lines to look for"
        # The detector works: the solution version of the lab would be caught.
        solution = make_solution_version(read_notebook(labs_root() / lab_id / "lab.ipynb"))
        assert lines <= {line.strip() for cell in solution.cells for line in cell.source.split("\n")}
        for path, text in files.items():
            leaked += [f"{path.name}: {line}" for line in lines if line in text]
    assert not leaked
    for path, text in files.items():
        for marker in (*CODE_MARKERS, *MARKDOWN_MARKERS):
            assert marker not in text, path
        assert "load_reference" not in text, path
        assert "reference.py" not in text, path


def _labs_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    labs = tmp_path / "labs"
    shutil.copytree(labs_root() / "nginx-alb", labs / "nginx-alb")
    monkeypatch.setenv("LABKIT_LABS_DIR", str(labs))
    return labs


def _edit_first_cell(notebook: Path, text: str) -> None:
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[0].source += text
    nbformat.write(nb, notebook)


def test_a_second_run_keeps_the_learners_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed notebook is never overwritten; a lab that changed since comes beside it, said so."""
    labs = _labs_copy(tmp_path, monkeypatch)
    root = tmp_path / "ws"
    first = prepare_workspace(root)
    assert [p.action for p in first.placed if p.path.name == "nginx-alb.ipynb"] == ["created"]
    notebook = root / "nginx-alb.ipynb"
    _edit_first_cell(notebook, "\nmy own notes")
    mine = notebook.read_bytes()

    again = prepare_workspace(root)
    assert notebook.read_bytes() == mine
    assert {p.action for p in again.placed} == {"kept"}
    assert not again.news()

    source = labs / "nginx-alb" / "lab.ipynb"
    _edit_first_cell(source, "\nA new paragraph of the lab.")
    third = prepare_workspace(root)
    assert notebook.read_bytes() == mine
    beside = root / "nginx-alb.new.ipynb"
    assert "A new paragraph of the lab." in beside.read_text(encoding="utf-8")
    assert any("nginx-alb.new.ipynb" in line and "kept" in line for line in third.news())


def test_an_untouched_notebook_follows_the_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A notebook the learner never changed is replaced by the lab's new version, with no .new file."""
    labs = _labs_copy(tmp_path, monkeypatch)
    root = tmp_path / "ws"
    prepare_workspace(root)
    _edit_first_cell(labs / "nginx-alb" / "lab.ipynb", "\nA new paragraph of the lab.")
    again = prepare_workspace(root)
    assert "A new paragraph of the lab." in (root / "nginx-alb.ipynb").read_text(encoding="utf-8")
    assert not (root / "nginx-alb.new.ipynb").exists()
    assert again.news() == ["updated nginx-alb.ipynb"]
    assert json.loads((root / MANIFEST).read_text())["written"]["nginx-alb.ipynb"]


def test_the_workspace_folder_comes_from_the_option_then_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LABKIT_WORKSPACE", raising=False)
    assert workspace_path() == tmp_path / "labkit-workspace"
    monkeypatch.setenv("LABKIT_WORKSPACE", str(tmp_path / "from-env"))
    assert workspace_path() == tmp_path / "from-env"
    assert workspace_path(tmp_path / "given") == tmp_path / "given"


def test_a_symlink_in_the_workspace_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A learner's symlink where a lab notebook goes is refused with one line; its target is untouched."""
    _labs_copy(tmp_path, monkeypatch)
    root = tmp_path / "ws"
    root.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("mine")
    (root / "nginx-alb.ipynb").symlink_to(target)
    with pytest.raises(WorkspaceError, match="is in the way"):
        prepare_workspace(root)
    assert target.read_text() == "mine"


def test_a_workspace_inside_the_labs_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    labs = _labs_copy(tmp_path, monkeypatch)
    with pytest.raises(WorkspaceError, match="inside the labs folder"):
        prepare_workspace(labs / "mine")


def test_bad_input_gets_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """An unknown lab and a workspace that is a file: one line each, nothing started or written."""
    env = private_env(tmp_path)
    done = run_labkit("start", "no-such-lab", "--no-browser", "--workspace", str(tmp_path / "ws"), env=env)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no-such-lab" in done.stderr
    assert not (tmp_path / "ws").exists()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    done = run_labkit("start", "--no-browser", "--workspace", str(a_file), env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"labkit: the workspace {a_file} is a file, not a folder; choose another with --workspace"
    ]
    assert a_file.read_text() == "mine"
    assert "Traceback" not in done.stdout + done.stderr


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net shows them) with a socket listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


@pytest.mark.slow
def test_jupyterlab_listens_on_loopback_only_and_wants_the_token(tmp_path: Path) -> None:
    """The printed URL opens the lab; without the token the API is refused; only 127.0.0.1 listens;
    the token is in no file of the workspace nor in JupyterLab's log; Ctrl-C stops it cleanly."""
    with started_workspace(tmp_path, "nginx-alb") as started:
        assert started.url.startswith(f"http://127.0.0.1:{started.port}/lab/tree/nginx-alb.ipynb?token=")
        assert _status(started.url) == 200
        assert _status(f"{started.base}/api/contents") == 403
        assert _status(f"{started.base}/api/contents?token=wrong") == 403
        assert _status(f"{started.base}/api/contents", {"Authorization": f"token {started.token}"}) == 200
        # The kernel's table of listening sockets: the port is bound on 127.0.0.1 and nowhere else.
        assert _listening_addresses(started.port) == {"0100007F"}
        # Kernels inherit JupyterLab's environment: the token is not in it (it came through a file,
        # deleted once the server answered).
        (server,) = Path(started.env["JUPYTER_RUNTIME_DIR"]).glob("jpserver-*.json")
        pid = json.loads(server.read_text())["pid"]
        environment = Path(f"/proc/{pid}/environ").read_bytes()
        assert started.token.encode() not in environment
        token_file = dict(item.split(b"=", 1) for item in environment.split(b"\0") if b"=" in item)[
            b"JUPYTER_TOKEN_FILE"
        ]
        assert not Path(token_file.decode()).exists()
        process = started.process
    assert process.returncode == 0, "".join(started.output)
    assert "JupyterLab stopped." in "".join(started.output)
    log = Path(started.env["LABKIT_STATE_DIR"]) / "jupyterlab.log"
    assert log.is_file()
    assert started.token not in log.read_text()
    for path, text in _every_file(started.workspace).items():
        assert started.token not in text, path
    # JupyterLab removed its own description on the way out: it shut down, it was not killed.
    assert not list(Path(started.env["JUPYTER_RUNTIME_DIR"]).glob("jpserver-*.json"))


@pytest.mark.slow
def test_labkit_grade_gives_the_learner_an_honest_grade_of_their_own_notebook(tmp_path: Path) -> None:
    """`labkit grade WORKSPACE/nginx-alb.ipynb`: the lab comes from the copy's own metadata (the file is
    renamed, and names no lab in its path), the learner's first step passes and nothing else does."""
    root = tmp_path / "ws"
    prepare_workspace(root)
    source = read_notebook(labs_root() / "nginx-alb" / "lab.ipynb")
    solution = make_solution_version(source)
    first = next(i for i, cell in enumerate(source.cells) if CODE_MARKERS[0] in cell.source)
    mine = nbformat.read(root / "nginx-alb.ipynb", as_version=4)
    assert "# YOUR CODE HERE" in mine.cells[first].source
    mine.cells[first].source = solution.cells[first].source
    renamed = root / "my-attempt.ipynb"
    nbformat.write(mine, renamed)
    done = run_labkit(
        "grade",
        str(renamed),
        "--json",
        "--results",
        str(tmp_path / "graded"),
        env=private_env(tmp_path),
        timeout=300,
    )
    report = json.loads(done.stdout)
    statuses = {c["id"]: c["status"] for c in report["checkpoints"]}
    first_checkpoint = next(iter(statuses))
    assert statuses.pop(first_checkpoint) == "passed", done.stdout
    assert set(statuses.values()) == {"failed"}, done.stdout
    assert done.returncode == 1


def test_server_mode_makes_the_notebooks_default_sandbox_the_shared_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under `labkit start --mode server` (LABKIT_SANDBOX_MODE=server) a notebook's `embedded` lab opens
    the running server; a mode asked for by name is kept; a wrong value is one clear error."""
    from labkit.errors import LabkitError
    from labkit.lab import open_lab
    from labkit.sandbox.server import ServerSandbox, start_server, stop_server

    info = start_server(clock="manual")
    try:
        monkeypatch.setenv("LABKIT_SANDBOX_MODE", "server")
        with open_lab("nginx-alb", mode="embedded") as lab:
            assert isinstance(lab.sandbox, ServerSandbox)
            assert lab.sandbox.endpoint_url == info.endpoint_url
        monkeypatch.setenv("LABKIT_SANDBOX_MODE", "aws")
        with pytest.raises(LabkitError, match="LABKIT_SANDBOX_MODE is 'aws'"):
            open_lab("nginx-alb")
    finally:
        stop_server()


@pytest.mark.slow
def test_start_in_server_mode_starts_the_shared_server_and_stops_it_after(tmp_path: Path) -> None:
    """`labkit start --mode server` starts a sandbox server a terminal can use, and Ctrl-C stops it."""
    from labkit.sandbox.server import running_server

    state = tmp_path / "state" / "server.json"
    with started_workspace(tmp_path, "nginx-alb", "--mode", "server") as started:
        assert "started a sandbox server at http://127.0.0.1:" in "".join(started.output)
        env = run_labkit("sandbox", "env", env=started.env)
        assert env.returncode == 0
        assert "AWS_ENDPOINT_URL" in env.stdout
    assert "stopped the sandbox server this command started" in "".join(started.output)
    assert running_server(state) is None
