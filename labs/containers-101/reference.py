"""Reference steps of the containers-101 lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import DOCKERFILE_PARAMETER, REFERENCES_PARAMETER, reference_answers

reference = ReferenceSteps("containers-101")


REFERENCE_DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY app.py .
EXPOSE 8080
USER 10001
CMD ["python", "app.py"]
"""


@reference.step("base-image-pinned")
def submit_dockerfile(sandbox: Sandbox) -> None:
    _put(sandbox, DOCKERFILE_PARAMETER, REFERENCE_DOCKERFILE)


def _put(sandbox: Sandbox, name: str, value: str) -> None:
    ssm = sandbox.client("ssm")
    try:
        ssm.put_parameter(Name=name, Value=value, Type="String")
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ParameterAlreadyExists":
            raise
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)


@reference.step("lint-clean")
def submit_clean_dockerfile(sandbox: Sandbox) -> None:
    _put(sandbox, DOCKERFILE_PARAMETER, REFERENCE_DOCKERFILE)


@reference.step("references-split")
def submit_references(sandbox: Sandbox) -> None:
    _put(sandbox, REFERENCES_PARAMETER, json.dumps(reference_answers()))


for _id in ("workdir-and-copy", "port-exposed", "non-root-user", "exec-form-command"):
    reference.step(_id)(submit_dockerfile)
