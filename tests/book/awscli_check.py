"""Check an `aws ...` command line against the AWS CLI's own command table, without running it.

The AWS CLI (awscli from PyPI) builds its commands from botocore's service models plus its
customizations (`ecr get-login-password`, `s3 cp`, ...). We walk the same parsers it uses when it runs
a command: the global parser, the service parser, then the operation's argument table. An unknown
service, operation or option, or a missing required option, is what the CLI would refuse before
sending anything. When the command has no placeholder, its parameters are also built the way the CLI
builds them (shorthand and JSON values unpacked) and validated against the operation's input shape.
A `--region` must be a region botocore knows (`us-east-1a` is an availability zone).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from functools import cache
from typing import Any

import botocore.session

_PLACEHOLDER = re.compile(r"<[A-Za-z][\w .:/-]*>")
SUBSTITUTION = "SUBSTITUTED"
_SEPARATORS = {"|", "||", "&&", ";", "&", "|&"}


@cache
def _driver() -> Any:
    from awscli.clidriver import create_clidriver

    return create_clidriver()


@cache
def _regions() -> frozenset[str]:
    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


def _split_substitutions(command: str) -> tuple[str, list[str]]:
    """Replace each outermost $(...) by a word; return the new line and the inner commands."""
    out: list[str] = []
    inner: list[str] = []
    index = 0
    while index < len(command):
        if command.startswith("$(", index):
            depth, end = 1, index + 2
            while end < len(command) and depth:
                if command.startswith("$(", end):
                    depth += 1
                    end += 1
                elif command[end] == ")":
                    depth -= 1
                elif command[end] == "(":
                    depth += 1
                end += 1
            inner.append(command[index + 2 : end - 1])
            out.append(SUBSTITUTION)
            index = end
        else:
            out.append(command[index])
            index += 1
    return "".join(out), inner


def aws_invocations(command: str) -> list[tuple[list[str], bool]]:
    """Every `aws` invocation in a shell command line: (arguments after `aws`, has placeholders).

    Pipelines, `&&`, `;` and `$(...)` substitutions are split; `<placeholder>`s become one word.
    """
    line, inner = _split_substitutions(command)
    placeholders = bool(_PLACEHOLDER.search(line)) or SUBSTITUTION in line or "$" in line
    line = _PLACEHOLDER.sub("PLACEHOLDER", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words = list(lexer)
    found: list[tuple[list[str], bool]] = []
    segment: list[str] = []
    for word in [*words, ";"]:
        if word in _SEPARATORS:
            # An assignment prefix (VAR=value aws ...) is allowed before the command.
            while segment and re.match(r"^[A-Za-z_]\w*=", segment[0]):
                segment.pop(0)
            if segment and segment[0] == "aws":
                found.append((segment[1:], placeholders))
            segment = []
        else:
            segment.append(word)
    for sub in inner:
        found.extend(aws_invocations(sub))
    return found


def check_aws_command(args: list[str], *, validate_values: bool = True) -> str | None:
    """Why the AWS CLI would refuse `aws ARGS` before sending it, or None when it parses."""
    from awscli.argparser import ArgTableArgParser
    from awscli.clidriver import ServiceCommand, ServiceOperation
    from awscli.customizations.commands import BasicCommand

    driver = _driver()
    table = driver._get_command_table()
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parsed_globals, remaining = driver._create_parser(table).parse_known_args(args)
            region = parsed_globals.region
            if region and region not in _regions() and region != "PLACEHOLDER" and "$" not in region:
                return f"--region {region}: not an AWS region (an availability zone such as us-east-1a is not one)"
            command = table[parsed_globals.command]
            path = [parsed_globals.command]
            while True:
                if isinstance(command, ServiceCommand):
                    parsed, remaining = command._create_parser().parse_known_args(remaining)
                    path.append(parsed.operation)
                    command = command._get_command_table()[parsed.operation]
                elif isinstance(command, ServiceOperation):
                    if {"--cli-input-json", "--cli-input-yaml"} & set(remaining):
                        # As the CLI does (customizations/cliinputjson.py): the file supplies the
                        # required members, so none is required on the command line.
                        for argument in command.arg_table.values():
                            argument.required = False
                    parser = command._create_operation_parser(command.arg_table)
                    parsed, remaining = parser.parse_known_args(remaining)
                    if remaining:
                        return f"aws {' '.join(path)}: unknown option(s) {' '.join(remaining)}"
                    if validate_values:
                        return _validate_parameters(command, parsed, parsed_globals, path)
                    return None
                elif isinstance(command, BasicCommand):
                    parser = ArgTableArgParser(command.arg_table, command.subcommand_table)
                    parsed, remaining = parser.parse_known_args(remaining)
                    subcommand = getattr(parsed, "subcommand", None)
                    if subcommand:
                        path.append(subcommand)
                        command = command.subcommand_table[subcommand]
                        continue
                    if remaining:
                        return f"aws {' '.join(path)}: unknown argument(s) {' '.join(remaining)}"
                    return None
                else:  # pragma: no cover - the CLI has no other kind of command
                    return f"aws {' '.join(path)}: a command of a kind this check does not know"
    except SystemExit:
        errors = [line for line in stderr.getvalue().splitlines() if "error:" in line]
        message = errors[0].split("error:", 1)[1].strip() if errors else "refused by the CLI parser"
        return f"aws {' '.join(args[:2])}: {message}"


def _validate_parameters(command: Any, parsed: Any, parsed_globals: Any, path: list[str]) -> str | None:
    from awscli.argprocess import ParamError, ParamSyntaxError, ParamUnknownKeyError
    from botocore.validate import ParamValidator

    try:
        params = command._build_call_parameters(parsed, command.arg_table, parsed_globals)
    except (ParamError, ParamSyntaxError, ParamUnknownKeyError, ValueError) as error:
        return f"aws {' '.join(path)}: {error}"
    shape = command._operation_model.input_shape
    if shape is None:
        return None
    report = ParamValidator().validate(params, shape)
    return f"aws {' '.join(path)}: {report.generate_report()}" if report.has_errors() else None
