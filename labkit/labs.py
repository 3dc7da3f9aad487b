"""The course's labs: each `labs/<id>/` folder holds `lab.toml`, `checkpoints.py` and the notebook.

`lab.toml` says what the lab is::

    title = "nginx on Fargate behind a load balancer"
    minutes = 45
    objectives = ["...", "..."]
    prerequisites = ["..."]

`checkpoints.py` defines `checkpoints = CheckpointSet("<id>")` and its checks (and, for catch-up,
the reference steps that reach each checkpoint).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from labkit.checkpoints import CheckpointSet
from labkit.errors import LabkitError

__all__ = ["LabInfo", "UnknownLabError", "labs_root", "list_labs", "load_lab"]


class UnknownLabError(LabkitError):
    """A lab id that is not a folder of the labs root."""

    exit_code = 2

    def __init__(self, lab_id: str, known: list[str]) -> None:
        super().__init__(f"there is no lab {lab_id!r}; the labs are: {', '.join(known) or '(none)'}")
        self.lab_id = lab_id
        self.known = known


class LabDefinitionError(LabkitError):
    """A lab folder whose lab.toml or checkpoints.py is missing or broken."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class LabInfo:
    """One lab: its metadata and its checkpoints."""

    id: str
    title: str
    minutes: int
    path: Path
    checkpoints: CheckpointSet
    objectives: tuple[str, ...] = ()
    prerequisites: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def notebook(self) -> Path:
        """The lab's source notebook."""
        return self.path / "lab.ipynb"


def labs_root() -> Path:
    """The folder of the labs: `$LABKIT_LABS_DIR`, else `labs/` beside the labkit package."""
    explicit = os.environ.get("LABKIT_LABS_DIR")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parent.parent / "labs"


def _load_checkpoints(lab_id: str, path: Path) -> CheckpointSet:
    module_path = path / "checkpoints.py"
    if not module_path.exists():
        raise LabDefinitionError(module_path, "the lab has no checkpoints.py")
    name = f"labkit_labs.{lab_id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, module_path)
    if spec is None or spec.loader is None:
        raise LabDefinitionError(module_path, "cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise LabDefinitionError(module_path, f"fails to import: {type(exc).__name__}: {exc}") from exc
    checkpoints = getattr(module, "checkpoints", None)
    if not isinstance(checkpoints, CheckpointSet):
        raise LabDefinitionError(module_path, "must define `checkpoints = CheckpointSet(...)`")
    return checkpoints


def load_lab(lab_id: str, root: Path | None = None) -> LabInfo:
    """Load one lab; raises `UnknownLabError` or `LabDefinitionError`."""
    root = root or labs_root()
    path = root / lab_id
    if not (path / "lab.toml").exists():
        raise UnknownLabError(lab_id, [lab.id for lab in list_labs(root)])
    try:
        meta = tomllib.loads((path / "lab.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LabDefinitionError(path / "lab.toml", f"cannot be read: {exc}") from exc
    for key in ("title", "minutes"):
        if key not in meta:
            raise LabDefinitionError(path / "lab.toml", f"needs `{key}`")
    return LabInfo(
        id=lab_id,
        title=str(meta["title"]),
        minutes=int(meta["minutes"]),
        path=path,
        checkpoints=_load_checkpoints(lab_id, path),
        objectives=tuple(meta.get("objectives", ())),
        prerequisites=tuple(meta.get("prerequisites", ())),
        extra={k: v for k, v in meta.items() if k not in ("title", "minutes", "objectives", "prerequisites")},
    )


def list_labs(root: Path | None = None) -> list[LabInfo]:
    """Every lab under the labs root, by id."""
    root = root or labs_root()
    if not root.exists():
        return []
    return [load_lab(p.name, root) for p in sorted(root.iterdir()) if (p / "lab.toml").exists()]
