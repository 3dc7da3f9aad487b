"""Every `aws` command the book shows is one the AWS CLI accepts: service, operation, options, values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.book.awscli_check import aws_invocations, check_aws_command
from tests.book.blocks import SHELL_LANGUAGES, book_pages, code_blocks, shell_commands
from tests.conftest import REPO


def aws_problems(page: Path) -> list[str]:
    """`file:line: problem` for each `aws` command of a page's shell blocks the CLI would refuse."""
    problems: list[str] = []
    for block in code_blocks(page):
        if block.language not in SHELL_LANGUAGES:
            continue
        for line, command in shell_commands(block):
            for args, has_placeholders in aws_invocations(command):
                values = not has_placeholders and not any("file://" in a or "fileb://" in a for a in args)
                problem = check_aws_command(args, validate_values=values)
                if problem:
                    problems.append(f"{block.path.relative_to(REPO)}:{line}: {problem}")
    return problems


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.name if p.parent.name == "book" else str(p))
def test_every_aws_command_parses(page: Path) -> None:
    """The AWS CLI's parsers accept each `aws` line of the page's bash/console/shell blocks."""
    problems = aws_problems(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ("aws ecz list-clusters", "Invalid choice"),
        ("aws ecs list-clusterz", "Invalid choice"),
        ("aws ecs list-clusters --clusterz x", "unknown option"),
        ("aws ecr get-login-password --region us-east-1a", "not an AWS region"),
        (
            "aws ecr get-login-password --region us-east-1 | docker login --username AWS --pasword-stdin x",
            None,
        ),
        ("aws ecs create-service --cluster c", "service-name"),
        ("aws ecs update-service --cluster c --service s --desired-count three", "int()"),
        (
            "aws ecs create-service --service-name s --placement-constraints type=distinctInstance,field=x",
            "field",
        ),
        ("aws s3 cp a.txt s3://bucket/a.txt", None),
        ("aws s3 cpp a.txt s3://bucket/a.txt", "Invalid choice"),
        ('TASK=$(aws ecs list-taskz --cluster c) && echo "$TASK"', "Invalid choice"),
        ("aws ecs describe-services --cluster <cluster> \\\n --services web", None),
    ],
)
def test_the_check_catches_what_the_cli_refuses(command: str, problem: str | None) -> None:
    """Bad services, operations, options, regions, values and inner $(...) commands are caught."""
    found = [
        check_aws_command(args, validate_values=not placeholders)
        for args, placeholders in aws_invocations(command.replace("\\\n", " "))
    ]
    found = [p for p in found if p]
    if problem is None:
        assert not found
    else:
        assert found, f"{command!r} passed"
        assert problem in found[0]
