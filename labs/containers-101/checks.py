"""Checkpoints of the containers-101 lab: the learner's Dockerfile and image-reference answers.

A check grades sandbox state, so the notebook submits the learner's work to the sandbox: the
Dockerfile as the SSM parameter `/containers-101/Dockerfile`, the reference answers (JSON) as
`/containers-101/references`. The checks read them back (`ssm:GetParameter`) and never change them.

The app (`app/app.py`) is a Python web server on port 8080.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from labkit.checkpoints import CheckContext, CheckpointSet, Outcome, counted, failed, passed
from labkit.images.dockerfile import (
    Instruction,
    exec_form,
    lint_dockerfile,
    parse_dockerfile,
    run_hadolint,
    user_is_root,
)
from labkit.images.reference import InvalidReferenceError, parse_reference

checkpoints = CheckpointSet("containers-101")


DOCKERFILE_PARAMETER = "/containers-101/Dockerfile"


REFERENCES_PARAMETER = "/containers-101/references"


PORT = 8080


APP = "app.py"


REFERENCES = (
    "public.ecr.aws/nginx/nginx:1.27",
    "nginxdemos/hello",
    "nginx:1.27-alpine",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:"
    "4a5b9b5b43e2d9d0c6a1f2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3",
)


def _parameter(ctx: CheckContext, name: str) -> str | None:
    try:
        value = str(ctx.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise
    return value if ctx.parameter_ours(name) else None


def _dockerfile(ctx: CheckContext) -> list[Instruction] | Outcome:
    text = _parameter(ctx, DOCKERFILE_PARAMETER)
    if text is None:
        return failed(f"No Dockerfile was submitted: run the cell that stores it as {DOCKERFILE_PARAMETER}.")
    instructions = parse_dockerfile(text)
    if not instructions:
        return failed("The submitted Dockerfile has no instructions.")
    if instructions[0].keyword not in ("FROM", "ARG"):
        return failed(
            f"A Dockerfile starts with FROM (line {instructions[0].line} is {instructions[0].keyword})."
        )
    return instructions


def _final_stage(instructions: list[Instruction]) -> list[Instruction]:
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return instructions[starts[-1] :] if starts else instructions


@checkpoints.checkpoint(
    "base-image-pinned",
    "The image starts from a Python base image with a pinned tag",
    points=2,
    hints=[
        "The app is Python, so start FROM an official python image, e.g. python:3.12-slim.",
        "Name a version: `python` alone means `python:latest`, which changes under you when a new release comes out.",
        "A tag such as 3.12-slim (or a digest, python@sha256:...) pins the base; `latest` does not.",
    ],
)
def base_image_pinned(ctx: CheckContext) -> Outcome:
    instructions = _dockerfile(ctx)
    if isinstance(instructions, Outcome):
        return instructions
    base = next(ins for ins in reversed(instructions) if ins.keyword == "FROM")
    words = [w for w in base.value.split() if not w.startswith("--")]
    try:
        reference = parse_reference(words[0], default_tag=False)
    except (InvalidReferenceError, IndexError):
        return failed(f"FROM {base.value!r} (line {base.line}) is not a valid image reference.")
    if reference.repository.rsplit("/", 1)[-1] != "python":
        return failed(f"The base image is {reference.familiar()}; the app needs Python: use a python image.")
    if reference.digest is None and reference.tag is None:
        return failed(
            f"FROM {words[0]} has no tag, so it means {words[0]}:latest. Pin a version such as 3.12-slim."
        )
    if reference.digest is None and reference.tag == "latest":
        return failed(
            "The base image is tagged latest, which moves with every release. Pin a version such as 3.12-slim."
        )
    return passed(f"The base image {reference.familiar()} is pinned.")


def _copies_app(ins: Instruction, workdir: str) -> bool:
    words = [w for w in ins.value.split() if not w.startswith("--")]
    listed = exec_form(ins.value)
    if listed is not None:
        words = listed
    if len(words) < 2:
        return False
    sources, destination = words[:-1], words[-1].rstrip("/") or "/"
    if not any(s.strip("./") in ("", APP, "app", f"app/{APP}") for s in sources):
        return False
    return destination in (".", "./", "", workdir.rstrip("/"), f"{workdir.rstrip('/')}/{APP}")


@checkpoints.checkpoint(
    "workdir-and-copy",
    "The app is copied into an absolute WORKDIR",
    points=2,
    hints=[
        "WORKDIR /app creates the folder and makes it the current one for the instructions after it and for the container.",
        "COPY app.py . copies the app from the build context into the WORKDIR. Use COPY, not ADD, for plain files.",
        "WORKDIR must come before the COPY that uses `.`, and must be an absolute path (/app, not app).",
    ],
)
def workdir_and_copy(ctx: CheckContext) -> Outcome:
    instructions = _dockerfile(ctx)
    if isinstance(instructions, Outcome):
        return instructions
    stage = _final_stage(instructions)
    workdirs = [ins for ins in stage if ins.keyword == "WORKDIR"]
    if not workdirs:
        return failed("There is no WORKDIR: the app would land in / and run from there.")
    relative = [w for w in workdirs if not w.value.strip().startswith("/")]
    if relative:
        return failed(
            f"WORKDIR {relative[0].value} (line {relative[0].line}) is relative; use an absolute path such as /app."
        )
    adds = [ins for ins in stage if ins.keyword == "ADD"]
    workdir = ""
    for ins in stage:
        if ins.keyword == "WORKDIR":
            workdir = ins.value.strip()
        if ins.keyword == "COPY" and workdir and _copies_app(ins, workdir):
            return passed(f"{APP} is copied into {workdir}.")
    if adds:
        return failed(
            f"Line {adds[0].line} uses ADD; copy plain files with COPY (ADD also fetches URLs and unpacks archives)."
        )
    return failed(
        f"No COPY puts {APP} into the WORKDIR after it is set (e.g. `COPY {APP} .` after `WORKDIR /app`)."
    )


@checkpoints.checkpoint(
    "port-exposed",
    "EXPOSE names the port the app listens on",
    points=1,
    hints=[
        f"app.py listens on port {PORT} (its PORT setting); EXPOSE documents that port in the image.",
        f"EXPOSE {PORT} (it does not publish the port: `docker run -p` or an ECS port mapping does).",
    ],
)
def port_exposed(ctx: CheckContext) -> Outcome:
    instructions = _dockerfile(ctx)
    if isinstance(instructions, Outcome):
        return instructions
    ports = [p for ins in _final_stage(instructions) if ins.keyword == "EXPOSE" for p in ins.value.split()]
    if not ports:
        return failed(f"There is no EXPOSE: name the port the app listens on ({PORT}).")
    if not any(p in (str(PORT), f"{PORT}/tcp") for p in ports):
        return failed(f"EXPOSE {' '.join(ports)}: the app listens on {PORT}, not there.")
    return passed(f"The image exposes {PORT}/tcp.")


@checkpoints.checkpoint(
    "non-root-user",
    "The container runs as a user that is not root",
    points=2,
    hints=[
        "Without USER, the process runs as root inside the container: a bug in the app is then a bug running as root.",
        "USER 10001 (a numeric id) works in any base image; a name must exist in the image's /etc/passwd.",
        "Put USER after the COPY and before CMD, and do not switch back to root.",
    ],
)
def non_root_user(ctx: CheckContext) -> Outcome:
    instructions = _dockerfile(ctx)
    if isinstance(instructions, Outcome):
        return instructions
    stage = _final_stage(instructions)
    users = [ins for ins in stage if ins.keyword == "USER"]
    if not users:
        return failed("There is no USER instruction, so the container runs as root.")
    if user_is_root(users[-1].value):
        return failed(
            f"The last USER (line {users[-1].line}) is {users[-1].value}: the container would run as root."
        )
    return passed(f"The container runs as {users[-1].value}.")


@checkpoints.checkpoint(
    "exec-form-command",
    "CMD runs the app in exec form",
    points=1,
    hints=[
        'Exec form is a JSON array: CMD ["python", "app.py"]. Double quotes, commas, no shell.',
        "In shell form (CMD python app.py) a /bin/sh runs as PID 1 and the app does not get the SIGTERM that `docker stop` and ECS send.",
    ],
)
def exec_form_command(ctx: CheckContext) -> Outcome:
    instructions = _dockerfile(ctx)
    if isinstance(instructions, Outcome):
        return instructions
    commands = [ins for ins in _final_stage(instructions) if ins.keyword in ("CMD", "ENTRYPOINT")]
    if not commands:
        return failed(
            "There is no CMD or ENTRYPOINT, so the image would run its base image's command (python's REPL)."
        )
    shell = [c for c in commands if exec_form(c.value) is None]
    if shell:
        return failed(
            f"{shell[-1].keyword} {shell[-1].value} (line {shell[-1].line}) is in shell form; write it as a JSON array."
        )
    words = [w for c in commands for w in exec_form(c.value) or []]
    if not any(w.endswith(APP) for w in words):
        return failed(f"The command {words} does not run {APP}.")
    return passed(f"The container runs {words} in exec form.")


@checkpoints.checkpoint(
    "lint-clean",
    "The Dockerfile passes the linter",
    points=1,
    hints=[
        "Run the lint cell: it lists each rule broken, with hadolint's code (DL3007, DL3025...) and the line.",
        "hadolint's rules are documented by code; labkit checks the same codes when hadolint is not installed.",
    ],
)
def lint_clean(ctx: CheckContext) -> Outcome:
    text = _parameter(ctx, DOCKERFILE_PARAMETER)
    if text is None:
        return failed(f"No Dockerfile was submitted: run the cell that stores it as {DOCKERFILE_PARAMETER}.")
    findings = lint_dockerfile(text)
    linter = (
        "hadolint"
        if run_hadolint("FROM scratch\n") is not None
        else "labkit's subset of hadolint's rules (hadolint is not installed)"
    )
    if findings:
        listed = "; ".join(f"line {f.line}: {f.code} {f.message}" for f in findings[:3])
        return failed(f"{linter} found {counted(len(findings), 'problem')}: {listed}.")
    if not parse_dockerfile(text):
        return failed("The submitted Dockerfile has no instructions.")
    return passed(f"No findings from {linter}.")


def reference_answers() -> dict[str, dict[str, Any]]:
    """The right split of every reference the lab asks about."""
    return {ref: parse_reference(ref).to_dict() for ref in REFERENCES}


@checkpoints.checkpoint(
    "references-split",
    "Image references are split into registry, repository, tag and digest",
    points=2,
    hints=[
        "A reference without a host (no '.' or ':' in its first part) is on Docker Hub: registry docker.io.",
        "An official image with one name part is under library/: nginx is docker.io/library/nginx.",
        "No tag and no digest means the tag latest; a reference with only a digest has no tag (null/None).",
    ],
)
def references_split(ctx: CheckContext) -> Outcome:
    text = _parameter(ctx, REFERENCES_PARAMETER)
    if text is None:
        return failed(f"No answers were submitted: run the cell that stores them as {REFERENCES_PARAMETER}.")
    try:
        answers = json.loads(text)
    except json.JSONDecodeError:
        return failed("The submitted answers are not JSON.")
    if not isinstance(answers, dict):
        return failed("The answers are a dictionary: reference -> {registry, repository, tag, digest}.")
    for reference, expected in reference_answers().items():
        given = answers.get(reference)
        if not isinstance(given, dict):
            return failed(f"There is no answer for {reference}.")
        for part in ("registry", "repository", "tag", "digest"):
            if given.get(part) != expected[part]:
                return failed(f"{reference}: {part} {given.get(part)!r} is not right.")
    return passed(f"All {len(REFERENCES)} references are split right.")
