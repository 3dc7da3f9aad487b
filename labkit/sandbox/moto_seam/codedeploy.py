"""moto.codedeploy: a CodeDeploy deployment of an ECS service is refused in a sandbox, clearly.

moto stores a CodeDeploy deployment and never runs it (it stays "Created" for ever), so a learner
following the blue/green tutorial would wait on nothing. The emulator does not run CodeDeploy's ECS
blue/green deployments (task sets, a test listener, traffic shifting, the original task set's
termination): CreateDeployment for an application whose compute platform is ECS answers the
emulator's limit (HTTP 501, `NotImplemented`) saying so and what to use instead. Other compute
platforms, and accounts that are not sandboxes, keep moto's behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.hooks import hook
from labkit.sandbox.simulator.core import simulator_for

__all__ = ["ECS_DEPLOYMENTS_REFUSED"]

ECS_DEPLOYMENTS_REFUSED = (
    "CodeDeploy blue/green deployments of ECS services are not emulated by the labkit sandbox (it would "
    "leave the deployment Created for ever). In the sandbox, give the service the ECS deployment controller "
    "and deploy with `aws ecs update-service --task-definition ...` (a rolling update); run the CodeDeploy "
    "tutorial in a real AWS account."
)


@hook(
    "moto.codedeploy.models.CodeDeployBackend",
    "create_deployment",
    ("self", "application_name", "deployment_group_name", "revision"),
    why="an ECS blue/green deployment would stay Created for ever: refused with the sandbox's limit",
)
def create_deployment(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any, application_name: str, *args: Any, **kwargs: Any) -> Any:
        application = self.applications.get(application_name)
        if (
            simulator_for(self.account_id) is not None
            and application is not None
            and getattr(application, "compute_platform", None) == "ECS"
        ):
            raise NotImplementedError(ECS_DEPLOYMENTS_REFUSED)
        return original(self, application_name, *args, **kwargs)

    return handler
