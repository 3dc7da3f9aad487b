"""Dockerfiles read as a checkpoint reads them: instructions, exec form, lint rules."""

from __future__ import annotations

import pytest

from labkit.images.dockerfile import (
    builtin_lint,
    exec_form,
    lint_dockerfile,
    parse_dockerfile,
    run_hadolint,
    user_is_root,
)

GOOD = """\
# a small web app
FROM python:3.12-slim
WORKDIR /app
COPY app.py .
EXPOSE 8080
USER 10001
CMD ["python", "app.py"]
"""

BAD = """\
FROM python
MAINTAINER someone
WORKDIR app
ADD app.py /app/
RUN cd /app && sudo echo hi
EXPOSE 70000
USER root
CMD python app.py
"""


def test_instructions_come_with_their_lines() -> None:
    """Comments are skipped; each instruction keeps its 1-based line."""
    keywords = [(i.keyword, i.line) for i in parse_dockerfile(GOOD)]
    assert keywords == [("FROM", 2), ("WORKDIR", 3), ("COPY", 4), ("EXPOSE", 5), ("USER", 6), ("CMD", 7)]


def test_exec_form_and_root() -> None:
    """A JSON array is exec form, a string is shell form; root and 0 are root."""
    assert exec_form('["python", "app.py"]') == ["python", "app.py"]
    assert exec_form("python app.py") is None
    assert user_is_root("0:0")
    assert user_is_root("root")
    assert not user_is_root("10001")


def test_a_good_dockerfile_lints_clean() -> None:
    """The lab's reference Dockerfile breaks no rule."""
    assert builtin_lint(GOOD) == []


def test_a_bad_dockerfile_breaks_hadolints_rules() -> None:
    """Each mistake gets hadolint's rule code."""
    codes = sorted(f.code for f in builtin_lint(BAD))
    assert codes == ["DL3000", "DL3002", "DL3003", "DL3004", "DL3006", "DL3011", "DL3020", "DL3025", "DL4000"]
    assert sorted(f.code for f in builtin_lint('FROM nginx:latest\nCMD ["a"]\nCMD ["b"]\n')) == [
        "DL3007",
        "DL4003",
    ]


def test_stage_names_and_scratch_need_no_tag() -> None:
    """FROM scratch and FROM <an earlier stage> are not untagged images."""
    text = "FROM golang:1.23 AS build\nFROM scratch\nFROM build\n"
    assert builtin_lint(text) == []


def test_without_hadolint_the_builtin_rules_run() -> None:
    """hadolint absent: run_hadolint says None and lint_dockerfile falls back to labkit's rules."""
    assert run_hadolint(GOOD, executable="/nonexistent/hadolint") is None
    if run_hadolint(GOOD) is None:
        assert [f.linter for f in lint_dockerfile(BAD)] == ["labkit"] * 9
    else:
        pytest.skip("hadolint is installed: lint_dockerfile uses it")
