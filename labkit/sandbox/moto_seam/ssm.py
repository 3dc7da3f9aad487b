"""moto.ssm: AWS's public parameters that hold a JSON document hold JSON text, as AWS stores them.

moto loads its copies of the public parameter trees (`/aws/service/ecs/optimized-ami/...`) from
JSON and keeps a parameter whose value is a document (the `.../recommended` parameter of an
ECS-optimized AMI: image id, name, agent version, ...) as a Python dict, which GetParameter then
answers as its Python repr (`{'ecs_agent_version': ...}`). AWS stores JSON text, which the ECS
developer guide's tutorials pipe to `jq -r '.image_id'`. In a sandbox account such values are
turned into compact JSON text when moto loads them.

`ecs_optimized_image_ids` lists the AMIs the public ECS-optimized parameters name, for the simulator's
ECS agent (an instance of such an AMI runs the agent, which joins `default` unless told otherwise).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from labkit.sandbox.moto_seam.core import backend
from labkit.sandbox.moto_seam.hooks import hook, uses

__all__ = ["ECS_OPTIMIZED_AMI_ROOT", "as_parameter_text", "ecs_optimized_image_ids"]

#: Where AWS publishes the ECS-optimized AMIs of a region.
ECS_OPTIMIZED_AMI_ROOT = "/aws/service/ecs/optimized-ami"

uses(
    "moto.ssm.models.SimpleSystemManagerBackend",
    "_parameters",
    why="the names of the public ECS-optimized AMI parameters of a region",
    instance=True,
)
uses("moto.ssm.models.ParameterDict", "get_keys_beginning_with", ("self", "path", "recursive"), why="ditto")
_ecs_images: dict[str, frozenset[str]] = {}


def as_parameter_text(value: Any) -> Any:
    """A document value (dict or list) as AWS stores it (compact JSON text); anything else unchanged."""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


@hook(
    "moto.ssm.models.ParameterDict",
    "_load_tree_parameters",
    ("self", "path"),
    why="a public parameter holding a document (the ECS-optimized AMI's `recommended`) is JSON text on "
    "AWS; moto answers its Python repr",
)
def load_tree_parameters(original: Callable[..., Any]) -> Callable[..., Any]:
    from labkit.sandbox.simulator.core import simulator_for

    def handler(self: Any, path: str) -> None:
        original(self, path)
        if simulator_for(self.account_id) is None:
            return
        for versions in self.values():
            for parameter in versions:
                parameter.value = as_parameter_text(parameter.value)

    return handler


def ecs_optimized_image_ids(account_id: str, region: str) -> frozenset[str]:
    """The AMI ids the region's public ECS-optimized parameters (`.../image_id`) name (the same in every account)."""
    known = _ecs_images.get(region)
    if known is None:
        ssm = backend("ssm", account_id, region)
        names = list(ssm._parameters.get_keys_beginning_with(ECS_OPTIMIZED_AMI_ROOT + "/", True))
        values = (ssm.get_parameter(name) for name in names if name.endswith("/image_id"))
        known = _ecs_images[region] = frozenset(str(p.value) for p in values if p is not None)
    return known
