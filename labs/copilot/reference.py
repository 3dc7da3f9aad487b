"""Reference steps of the copilot lab: what `lab.catch_up` runs to reach each checkpoint.

The grader's, never the learner's: a graded kernel never imports this module (see labs/README.md).
"""

from __future__ import annotations

from labkit.checkpoints import ReferenceSteps
from labkit.sandbox import Sandbox

from .checks import APP, ENV

reference = ReferenceSteps("copilot")


#: The fixed manifest (the reference solution).
FIXED_MANIFEST = """\
name: hello
type: Load Balanced Web Service

image:
  location: nginxdemos/hello
  port: 80

http:
  path: '/'
  healthcheck:
    path: /
    healthy_threshold: 2
    interval: 10s

cpu: 256
memory: 512
count: 3
"""


@reference.step("environment-deployed")
def deploy_the_environment(sandbox: Sandbox) -> None:
    from labkit import copilot

    copilot.deploy_environment(sandbox, APP, ENV)


@reference.step("manifest-fixed")
def deploy_the_manifest(sandbox: Sandbox) -> None:
    from labkit import copilot

    copilot.deploy(sandbox, copilot.load_manifest(FIXED_MANIFEST, env=ENV), APP, ENV)


@reference.step("service-behind-listener-rule")
def rule_comes_with_the_service(sandbox: Sandbox) -> None:
    """`copilot.deploy` of the previous step made the rule: nothing more to do."""


@reference.step("three-healthy-targets")
def three_come_with_the_count(sandbox: Sandbox) -> None:
    """`count: 3` in the deployed manifest: nothing more to do."""


@reference.step("page-answers")
def nothing_more(sandbox: Sandbox) -> None:
    """The deployed service answers by itself."""
