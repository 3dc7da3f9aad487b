"""The containers-101 lab: its reference passes, an empty sandbox fails, common mistakes get their message."""

from __future__ import annotations

import json
import sys

import pytest

import labkit
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up

GOOD = (
    'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nEXPOSE 8080\nUSER 10001\nCMD ["python", "app.py"]\n'
)


def _submit(sandbox: EmbeddedSandbox, name: str, text: str) -> None:
    sandbox.client("ssm").put_parameter(
        Name=f"/containers-101/{name}", Value=text, Type="String", Overwrite=True
    )


def _result(sandbox: EmbeddedSandbox, checkpoint: str) -> tuple[str, str]:
    session = labkit.open_lab("containers-101", sandbox=sandbox)
    result = session.check(checkpoint, display=False)
    return result.status, result.message


def test_reference_passes_and_empty_sandbox_fails(sandbox: EmbeddedSandbox) -> None:
    """Every checkpoint fails before anything is submitted and passes after catching up."""
    before, after = grade_fresh_and_caught_up("containers-101", sandbox)
    assert before.count("failed") == len(before.checkpoints) >= 4
    assert after.score == after.possible, after.summary()


@pytest.mark.parametrize(
    ("dockerfile", "checkpoint", "says"),
    [
        (GOOD.replace("python:3.12-slim", "python"), "base-image-pinned", "latest"),
        (GOOD.replace("python:3.12-slim", "python:latest"), "base-image-pinned", "latest"),
        (GOOD.replace("python:3.12-slim", "node:22"), "base-image-pinned", "Python"),
        (GOOD.replace("WORKDIR /app", "WORKDIR app"), "workdir-and-copy", "relative"),
        (GOOD.replace("COPY app.py .", "ADD app.py ."), "workdir-and-copy", "ADD"),
        (GOOD.replace("EXPOSE 8080", "EXPOSE 80"), "port-exposed", "8080"),
        (GOOD.replace("USER 10001\n", ""), "non-root-user", "root"),
        (GOOD.replace("USER 10001", "USER root"), "non-root-user", "root"),
        (GOOD.replace('CMD ["python", "app.py"]', "CMD python app.py"), "exec-form-command", "shell form"),
        (
            GOOD.replace('CMD ["python", "app.py"]', "CMD ['python', 'app.py']"),
            "exec-form-command",
            "shell form",
        ),
        (GOOD + "MAINTAINER me\n", "lint-clean", "DL4000"),
    ],
)
def test_mistakes_fail_with_a_message(
    sandbox: EmbeddedSandbox, dockerfile: str, checkpoint: str, says: str
) -> None:
    """Each classic Dockerfile mistake fails its checkpoint with a message naming the problem."""
    _submit(sandbox, "Dockerfile", dockerfile)
    status, message = _result(sandbox, checkpoint)
    assert status == "failed"
    assert says in message


def test_a_wrong_reference_part_is_named(sandbox: EmbeddedSandbox) -> None:
    """Forgetting library/ for an official image fails and names the reference and the part."""
    load_lab("containers-101")
    answers = sys.modules["labkit_labs.containers_101.checks"].reference_answers()
    answers["nginx:1.27-alpine"]["repository"] = "nginx"
    _submit(sandbox, "references", json.dumps(answers))
    status, message = _result(sandbox, "references-split")
    assert status == "failed"
    assert "nginx:1.27-alpine" in message
    assert "repository" in message
