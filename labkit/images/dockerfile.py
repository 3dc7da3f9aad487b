"""Read a Dockerfile as a checkpoint does: its instructions (parsed by `dockerfile-parse`) and lint rules.

`parse_dockerfile(text)` gives the instructions with their line numbers; `lint_dockerfile(text)`
runs `hadolint` when it is installed and otherwise labkit's own subset of hadolint's rules (the
same rule codes and messages, so the two read alike):

- DL3000 use an absolute WORKDIR; DL3002 the last USER should not be root; DL3003 use WORKDIR
  to switch folders, not `RUN cd`; DL3004 do not use sudo; DL3006 tag the image's version
  explicitly; DL3007 do not use `latest`; DL3011 ports are 0 to 65535; DL3020 use COPY instead
  of ADD for files and folders; DL3025 use JSON notation for CMD and ENTRYPOINT; DL4000
  MAINTAINER is deprecated; DL4003 only one CMD; DL4004 only one ENTRYPOINT.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

__all__ = [
    "Instruction",
    "LintFinding",
    "exec_form",
    "lint_dockerfile",
    "parse_dockerfile",
    "run_hadolint",
    "user_is_root",
]


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), its arguments as written, its first line (1-based)."""

    keyword: str
    value: str
    line: int


@dataclass(frozen=True)
class LintFinding:
    """A rule a Dockerfile breaks: hadolint's code, the line, the message, and which linter said so."""

    code: str
    line: int
    message: str
    linter: str = "labkit"


def parse_dockerfile(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile, in order (comments and blank lines left out)."""
    parser = DockerfileParser(fileobj=io.StringIO(text))
    return [
        Instruction(str(s["instruction"]).upper(), str(s["value"]), int(s["startline"]) + 1)
        for s in parser.structure
        if str(s["instruction"]).upper() != "COMMENT"
    ]


def exec_form(value: str) -> list[str] | None:
    """The argument list of a CMD/ENTRYPOINT in exec (JSON array) form, or None for shell form."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
        return [str(p) for p in parsed]
    return None


def user_is_root(value: str) -> bool:
    """True for a USER that is root (`root`, `0`, `root:...`, `0:...`)."""
    return value.strip().split(":", 1)[0] in ("root", "0")


def _from_image(value: str) -> str:
    words = [w for w in value.split() if not w.startswith("--")]
    return words[0] if words else ""


def lint_dockerfile(text: str) -> list[LintFinding]:
    """hadolint's findings when hadolint is installed, else labkit's subset of its rules."""
    found = run_hadolint(text)
    return found if found is not None else builtin_lint(text)


def builtin_lint(text: str) -> list[LintFinding]:
    """labkit's subset of hadolint's rules (see the module's docstring)."""
    findings: list[LintFinding] = []
    instructions = parse_dockerfile(text)
    stages: set[str] = set()
    cmds = entrypoints = 0
    last_user: Instruction | None = None
    for ins in instructions:
        if ins.keyword == "FROM":
            words = ins.value.split()
            image = _from_image(ins.value)
            lowered = [w.lower() for w in words]
            if "as" in lowered:
                stages.add(words[lowered.index("as") + 1].lower())
            name = image.split("@", 1)[0]
            if image.lower() in stages or image == "scratch" or image.startswith("$"):
                pass
            elif "@" not in image and ":" not in name.rsplit("/", 1)[-1]:
                findings.append(
                    LintFinding("DL3006", ins.line, "Always tag the version of an image explicitly")
                )
            elif name.endswith(":latest"):
                findings.append(
                    LintFinding(
                        "DL3007",
                        ins.line,
                        "Using latest is prone to errors if the image will ever update. Pin the version "
                        "explicitly to a release tag",
                    )
                )
            last_user, cmds, entrypoints = None, 0, 0
        elif ins.keyword == "WORKDIR":
            path = ins.value.strip().strip("\"'")
            if not path.startswith(("/", "$")) and not re.match(r"^[A-Za-z]:\\", path):
                findings.append(LintFinding("DL3000", ins.line, "Use absolute WORKDIR"))
        elif ins.keyword == "USER":
            last_user = ins
        elif ins.keyword == "RUN":
            if re.search(r"(^|[;&|]\s*)cd\s", ins.value):
                findings.append(LintFinding("DL3003", ins.line, "Use WORKDIR to switch to a directory"))
            if re.search(r"(^|[;&|\s])sudo\s", ins.value):
                findings.append(
                    LintFinding(
                        "DL3004",
                        ins.line,
                        "Do not use sudo as it leads to unpredictable behavior. Use a tool like gosu to enforce root",
                    )
                )
        elif ins.keyword == "EXPOSE":
            for port in ins.value.split():
                number = port.split("/", 1)[0]
                for part in number.split("-"):
                    if part.isdigit() and not 0 <= int(part) <= 65535:
                        findings.append(
                            LintFinding("DL3011", ins.line, "Valid UNIX ports range from 0 to 65535")
                        )
        elif ins.keyword == "ADD":
            sources = [w for w in ins.value.split() if not w.startswith("--")][:-1]
            if any(
                not re.match(r"^https?://", s) and not re.search(r"\.(tar|tgz|tar\.\w+|zip)$", s)
                for s in sources
            ):
                findings.append(
                    LintFinding("DL3020", ins.line, "Use COPY instead of ADD for files and folders")
                )
        elif ins.keyword in ("CMD", "ENTRYPOINT"):
            if exec_form(ins.value) is None:
                findings.append(
                    LintFinding(
                        "DL3025", ins.line, "Use arguments JSON notation for CMD and ENTRYPOINT arguments"
                    )
                )
            if ins.keyword == "CMD":
                cmds += 1
                if cmds > 1:
                    findings.append(
                        LintFinding(
                            "DL4003",
                            ins.line,
                            "Multiple `CMD` instructions found. If you list more than one `CMD` then only the last `CMD` will take effect",
                        )
                    )
            else:
                entrypoints += 1
                if entrypoints > 1:
                    findings.append(
                        LintFinding(
                            "DL4004",
                            ins.line,
                            "Multiple `ENTRYPOINT` instructions found. If you list more than one `ENTRYPOINT` then only the last `ENTRYPOINT` will take effect",
                        )
                    )
        elif ins.keyword == "MAINTAINER":
            findings.append(LintFinding("DL4000", ins.line, "MAINTAINER is deprecated"))
    if last_user is not None and user_is_root(last_user.value):
        findings.append(LintFinding("DL3002", last_user.line, "Last USER should not be root"))
    return findings


def run_hadolint(text: str, executable: str | None = None) -> list[LintFinding] | None:
    """Lint with the `hadolint` program (None when it is not installed or cannot run)."""
    program = executable or shutil.which("hadolint")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "--no-color", "--format", "json", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        rows = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return None
    return [
        LintFinding(str(r.get("code")), int(r.get("line", 0)), str(r.get("message")), "hadolint")
        for r in rows
    ]
