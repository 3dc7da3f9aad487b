"""moto.ecs: ECS Express Mode's actions, which moto lacks, added to its ECS responses.

`CreateExpressGatewayService`, `DescribeExpressGatewayService`, `UpdateExpressGatewayService` and
`DeleteExpressGatewayService` are answered by the simulator (`simulator/express.py`), which makes
what Express Mode makes through moto's own backends. In an account without a simulator (moto used on
its own) they stay what moto makes of them: not implemented (HTTP 501 through the emulator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.core import action_result, request_params
from labkit.sandbox.moto_seam.hooks import hook
from labkit.sandbox.simulator.core import simulator_for

__all__ = ["ACTIONS"]

_RESPONSE = "moto.ecs.responses.EC2ContainerServiceResponse"

#: The response methods added to moto's ECS responses and the simulator method answering each.
ACTIONS = {
    "create_express_gateway_service": "create",
    "describe_express_gateway_service": "describe",
    "update_express_gateway_service": "update",
    "delete_express_gateway_service": "delete",
}


def _ecs_error(code: str, message: str) -> Exception:
    from moto.ecs.exceptions import ECSException

    return ECSException(code, message)


def _answer(method: str) -> Callable[[Any], Any]:
    def handler(self: Any) -> Any:
        from labkit.ecs.validation import EcsValidationError
        from labkit.sandbox.moto_seam.ecs import validation_error
        from labkit.sandbox.simulator.express import ExpressError

        sim = simulator_for(self.current_account)
        if sim is None or self.region != sim.region:
            action = "".join(part.title() for part in method.split("_"))
            raise NotImplementedError(f"The {action} action has not been implemented")
        params = request_params(self)

        def act() -> Any:
            try:
                return getattr(sim.express, method)(params)
            except ExpressError as exc:
                raise _ecs_error(exc.code, exc.message) from None
            except EcsValidationError as exc:
                raise validation_error(exc) from None

        return action_result(sim.perform(act))

    return handler


def _factory(method: str) -> Callable[[Any], Any]:
    """The hook's wrapper factory: moto has no original, the simulator answers."""

    def make(original: Any) -> Callable[[Any], Any]:
        return _answer(method)

    return make


for _name, _method in ACTIONS.items():
    hook(_RESPONSE, _name, why=f"{_name} (missing in moto) answers from the simulator", adds=True)(
        _factory(_method)
    )
