"""A workshop on a real JupyterHub: two learners in Debian's Chromium, an admin's dashboard, the walls.

The hub runs on 127.0.0.1 as `labkit hub config` writes it (fixed test passwords, the simple local
process spawner), with configurable-http-proxy from npm. Each learner logs in, lands in JupyterLab on
their own workspace with nginx-alb open, and in their own kernel (own embedded sandbox) passes a
checkpoint and fails another; the admin's dashboard at /services/labkit/ shows both. Learner one cannot
open learner two's server, files or the dashboard, and cannot report progress as learner two. About
three minutes on two cores.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from labkit.workshop.progress import read_events
from tests.browser import chromium
from tests.conftest import REPO
from tests.jupyterlab import Notebook, first_solution
from tests.workshop.hubs import Hub, running_hub

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.e2e]

SCREENSHOTS = REPO / "results" / "screenshots"
LEARNERS = ["alice", "bob"]
ADMIN = "teacher"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with running_hub(tmp_path_factory.mktemp("hub"), LEARNERS, [ADMIN]) as running:
        yield running


def _login(page: Any, hub: Hub, user: str, next_url: str | None = None) -> None:
    url = f"{hub.url}/hub/login" + (f"?next={next_url}" if next_url else "")
    page.goto(url)
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.passwords[user])
    page.locator("#login_submit").click()


def _learner_session(hub: Hub, user: str, shots: Path) -> None:
    """Log in, land in JupyterLab with nginx-alb open, pass the first checkpoint, fail another."""
    solution, passing = first_solution()
    with chromium(shots) as browser, browser.visit(f"{hub.url}/hub/login") as (page, record):
        _login(page, hub, user)
        page.wait_for_url(re.compile(rf"/user/{user}/lab/tree/nginx-alb\.ipynb"), timeout=180_000)
        notebook = Notebook(page)
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 10", timeout=120_000
        )
        notebook.wait_idle(timeout=120_000)
        notebook.run(notebook.index_of("sandbox_mode ="))
        notebook.run(notebook.index_of("open_lab("), timeout=180_000)
        stub = notebook.index_of("# YOUR CODE HERE")
        notebook.type_into(stub, solution)
        notebook.run(stub)
        check = notebook.run(notebook.index_of(f'lab.check("{passing}")', stub))
        widget = check.locator(".jp-OutputArea-output .widget-html")
        widget.wait_for(timeout=60_000)
        assert "passed" in widget.inner_text()
        failed = notebook.run(notebook.index_of('lab.check("cluster-created")'))
        assert "failed" in failed.locator(".widget-html").first.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"hub-{user}.png"))
        assert not record.external_requests


def test_two_learners_work_and_the_admin_sees_both_on_the_dashboard(hub: Hub, tmp_path: Path) -> None:
    for user in LEARNERS:
        _learner_session(hub, user, tmp_path / user)
    # Their own workspaces, in their own homes, written by their own servers.
    for user in LEARNERS:
        assert (hub.state / "homes" / user / "labkit-workspace" / "nginx-alb.ipynb").is_file()
    events = read_events(hub.events)
    _, passing = first_solution()
    for user in LEARNERS:
        mine = [e for e in events if e["learner"] == user]
        assert {"kind": "open", "lab": "nginx-alb"}.items() <= mine[0].items()
        assert any(e.get("checkpoint") == passing and e.get("status") == "passed" for e in mine)
        assert any(e.get("checkpoint") == "cluster-created" and e.get("status") == "failed" for e in mine)

    with chromium(tmp_path / ADMIN) as browser, browser.visit(f"{hub.url}/hub/login") as (page, _):
        _login(page, hub, ADMIN, next_url="/services/labkit/")
        page.wait_for_url(f"{hub.url}/services/labkit/", timeout=60_000)
        rows = page.locator("table tr")
        for user in LEARNERS:
            row = rows.filter(has_text=f"({user})")
            assert row.count() == 1
            assert "passed" in row.inner_text()
            assert "failed" in row.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "hub-dashboard.png"), full_page=True)


def test_a_learner_cannot_open_another_learners_server_files_or_the_dashboard(
    hub: Hub, tmp_path: Path
) -> None:
    """Run after the two learners' sessions (bob's server is running): alice gets 403 everywhere."""
    with chromium(tmp_path / "alice") as browser, browser.visit(f"{hub.url}/hub/login") as (page, _):
        _login(page, hub, "alice")
        page.wait_for_url(re.compile(r"/user/alice/lab"), timeout=180_000)
        for path in (
            "/user/bob/lab",
            "/user/bob/files/nginx-alb.ipynb",
            "/user/bob/api/contents/",
            "/services/labkit/",
        ):
            answer = page.goto(f"{hub.url}{path}")
            assert answer is not None
            assert answer.status == 403, (path, answer.status, page.url)
            assert "nginx-alb" not in page.content() or path.startswith("/services")


def _post(url: str, body: object, token: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_progress_is_recorded_under_the_tokens_owner_whatever_the_body_says(hub: Hub) -> None:
    url = f"http://127.0.0.1:{hub.service_port}/services/labkit/progress"
    event = {
        "kind": "check",
        "lab": "nginx-alb",
        "checkpoint": "forged-checkpoint",
        "status": "passed",
        "at": "2026-12-06T04:00:00+00:00",
        "learner": "bob",
    }
    assert _post(url, event, None)[0] == 401
    assert _post(url, event, "not-a-token")[0] == 403
    alice = hub.token("alice")
    assert _post(url, {**event, "kind": "nonsense"}, alice)[0] == 400
    status, answer = _post(url, event, alice)
    assert (status, answer) == (200, {"recorded": True})
    forged = [e for e in read_events(hub.events) if e.get("checkpoint") == "forged-checkpoint"]
    assert [e["learner"] for e in forged] == ["alice"]
