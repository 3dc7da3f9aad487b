"""The course's labs: each `labs/<id>/` folder holds `lab.toml`, `checks.py`, `reference.py` and the notebook.

`lab.toml` says what the lab is::

    title = "nginx on Fargate behind a load balancer"   # required, a non-empty string
    minutes = 45                                         # required, a whole number > 0
    objectives = ["...", "..."]                          # optional, strings
    prerequisites = ["..."]                              # optional, strings
    points = 17                # optional: when given, must be the sum of the checkpoints' points
    checkpoints = ["...", ...] # optional: when given, the ids of checks.py, in order
    [[aws.creates]]            # optional: what the lab creates in a real account (labkit/cost.py)

Each field is checked when the lab is loaded; a wrong one is a `LabFieldError` naming the file, the
field and what was expected. Other keys are kept in `LabInfo.extra`.

`checks.py` defines `checkpoints = CheckpointSet("<id>")` and its checks: `load_lab` imports it
(the grader, and `lab.check` in a learner's kernel). `reference.py` defines `reference =
ReferenceSteps("<id>")`, the steps that reach each checkpoint (for catch-up); it may import the
checks (`from .checks import ...`), never the other way round, and only `load_reference` imports
it, which refuses in a graded run (`graded_run()`: `LABKIT_GRADED` is set by the grader for the
kernel it runs). Both are imported as modules of a package `labkit_labs.<id>` whose folder is the
lab's.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.checkpoints import CheckpointSet, ReferenceSteps
from labkit.errors import LabkitError

__all__ = [
    "GRADED_VARIABLE",
    "LAB_ID",
    "CourseOrder",
    "LabDefinitionError",
    "LabFieldError",
    "LabInfo",
    "LabRefusedError",
    "LabScan",
    "ReferenceNotAvailableError",
    "UnknownLabError",
    "course_order",
    "graded_run",
    "lab_folder",
    "lab_ids",
    "labs_root",
    "list_labs",
    "load_lab",
    "load_reference",
    "scan_labs",
    "table_of_contents",
]


class UnknownLabError(LabkitError):
    """A lab id that is not a folder of the labs root."""

    exit_code = 2

    def __init__(self, lab_id: str, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(lab_id, known, n=1, cutoff=0.6)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(
            f"there is no lab {lab_id!r}{guess}; the labs are: {', '.join(known) or '(none)'}"
            + (" (`labkit labs` describes them)" if known else "")
        )
        self.lab_id = lab_id
        self.known = known


class LabDefinitionError(LabkitError):
    """A lab folder whose lab.toml, checks.py or reference.py is missing or broken."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class LabFieldError(LabDefinitionError):
    """A field of a lab's lab.toml that is missing or has the wrong type or value."""

    exit_code = 2

    def __init__(
        self, path: Path, field: str, expected: str, value: object = None, *, missing: bool = False
    ) -> None:
        if missing:
            problem = f"`{field}` is required ({expected})"
        else:
            problem = f"`{field}` must be {expected}, not {_shown(value)}"
        super().__init__(path, problem)
        self.field = field
        self.expected = expected
        self.value = value


class LabRefusedError(LabDefinitionError):
    """A lab named by something that is not a folder name under the labs root (a path, `..`, a
    symlink leading out of it): never loaded, so its code is never imported."""

    exit_code = 2

    def __init__(self, lab_id: str, root: Path, why: str) -> None:
        super().__init__(
            root / "?",
            f"{lab_id!r} is not a lab of {root} ({why}); a lab is loaded only from the labs folder, by its id",
        )
        # Said without the placeholder path: the lab id is what was wrong, not a file.
        self.message = self.problem
        self.lab_id = lab_id
        self.root = root
        self.why = why


#: A lab id: a folder name under the labs root, nothing that could be read as a path.
LAB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def lab_folder(lab_id: str, root: Path | None = None) -> Path:
    """The folder of lab `lab_id` under the labs root; raises `LabRefusedError` for anything else.

    A lab id is a folder name (letters, digits, `-`, `_`): an absolute path, `..` or a folder that
    is a symlink leading out of the labs root is refused, before anything is read from it.
    """
    root = root or labs_root()
    if not LAB_ID.match(lab_id):
        raise LabRefusedError(lab_id, root, "a lab id is a folder name: letters, digits, '-' and '_'")
    path = root / lab_id
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except OSError as exc:
        raise LabRefusedError(lab_id, root, f"cannot be resolved: {exc}") from exc
    if not inside:
        raise LabRefusedError(lab_id, root, "it leads out of the labs folder")
    return path


class ReferenceNotAvailableError(LabkitError):
    """A lab's reference steps asked for where they are not to be had: in a graded run, or a lab
    folder without reference.py (a graded kernel's copy of the lab)."""

    def __init__(self, lab_id: str, why: str) -> None:
        super().__init__(f"the reference steps of lab {lab_id} are not available: {why}")
        self.lab_id = lab_id
        self.why = why


#: Set (to "1") by the grader in the environment of a kernel whose notebook it grades.
GRADED_VARIABLE = "LABKIT_GRADED"


def graded_run() -> bool:
    """True in a kernel the grader runs to grade its notebook (`labkit grade`, `run`, `validate`)."""
    return os.environ.get(GRADED_VARIABLE, "").strip() not in ("", "0")


def _shown(value: object) -> str:
    kinds = {
        bool: "a boolean",
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = kinds.get(type(value), type(value).__name__)
    return f"{text} ({kind})"


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

    @property
    def points(self) -> int:
        """The points of all its checkpoints."""
        return sum(checkpoint.points for checkpoint in self.checkpoints)


def labs_root() -> Path:
    """The folder of the labs: `$LABKIT_LABS_DIR`, else `labs/` beside the labkit package."""
    explicit = os.environ.get("LABKIT_LABS_DIR")
    if explicit:
        return Path(explicit)
    return Path(__file__).resolve().parent.parent / "labs"


def _package(lab_id: str, path: Path) -> str:
    """Register the package `labkit_labs.<id>` whose folder is `path`; return its name."""
    if "labkit_labs" not in sys.modules:
        root = types.ModuleType("labkit_labs", "The labs' checks and reference steps, as labkit loads them.")
        root.__path__ = []
        sys.modules["labkit_labs"] = root
    name = f"labkit_labs.{lab_id.replace('-', '_')}"
    package = types.ModuleType(name, f"The lab {lab_id}.")
    package.__path__ = [str(path)]
    package.__file__ = None
    sys.modules[name] = package
    return name


def _import(name: str, module_path: Path) -> types.ModuleType:
    """Import `module_path` afresh as the module `name`; raises `LabDefinitionError` if it fails."""
    spec = importlib.util.spec_from_file_location(name, module_path)
    if spec is None or spec.loader is None:
        raise LabDefinitionError(module_path, "cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise LabDefinitionError(module_path, f"fails to import: {type(exc).__name__}: {exc}") from exc
    return module


def _load_checkpoints(lab_id: str, path: Path) -> CheckpointSet:
    module_path = path / "checks.py"
    if not module_path.exists():
        raise LabDefinitionError(module_path, "the lab has no checks.py")
    package = _package(lab_id, path)
    sys.modules.pop(f"{package}.reference", None)
    module = _import(f"{package}.checks", module_path)
    checkpoints = getattr(module, "checkpoints", None)
    if not isinstance(checkpoints, CheckpointSet):
        raise LabDefinitionError(module_path, "must define `checkpoints = CheckpointSet(...)`")
    return checkpoints


def load_reference(lab: LabInfo) -> ReferenceSteps:
    """Import the reference steps of `lab` (its reference.py) for catch-up and tests.

    Raises `ReferenceNotAvailableError` in a graded run (`graded_run()`) or when the lab folder has
    no reference.py, and `LabDefinitionError` for a reference.py that fails to import, does not
    define `reference = ReferenceSteps(...)` or names a checkpoint the lab does not have.
    """
    if graded_run():
        raise ReferenceNotAvailableError(lab.id, "this notebook is being graded")
    module_path = lab.path / "reference.py"
    if not module_path.is_file():
        raise ReferenceNotAvailableError(lab.id, f"there is no {module_path}")
    package = _package(lab.id, lab.path)
    checks = sys.modules.get(f"{package}.checks")
    if checks is None or Path(str(getattr(checks, "__file__", ""))) != lab.path / "checks.py":
        _import(f"{package}.checks", lab.path / "checks.py")
    module = _import(f"{package}.reference", module_path)
    reference = getattr(module, "reference", None)
    if not isinstance(reference, ReferenceSteps):
        raise LabDefinitionError(module_path, "must define `reference = ReferenceSteps(...)`")
    unknown = [id for id in reference.ids() if id not in lab.checkpoints.ids()]
    if unknown:
        raise LabDefinitionError(
            module_path, f"has reference steps for {', '.join(unknown)}, which checks.py does not define"
        )
    return reference


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(path: Path, meta: dict[str, Any], key: str) -> tuple[str, ...]:
    value = meta.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LabFieldError(path, key, "a list of strings", value)
    return tuple(value)


def _validate(path: Path, meta: dict[str, Any]) -> tuple[str, int, tuple[str, ...], tuple[str, ...]]:
    """Check lab.toml's own fields; return the title, minutes, objectives and prerequisites."""
    if "title" not in meta:
        raise LabFieldError(path, "title", "a non-empty string", missing=True)
    title = meta["title"]
    if not isinstance(title, str) or not title.strip():
        raise LabFieldError(path, "title", "a non-empty string", title)
    if "minutes" not in meta:
        raise LabFieldError(path, "minutes", "a whole number of minutes > 0", missing=True)
    minutes = meta["minutes"]
    if not _is_whole(minutes) or minutes <= 0:
        raise LabFieldError(path, "minutes", "a whole number of minutes > 0", minutes)
    objectives = _strings(path, meta, "objectives")
    prerequisites = _strings(path, meta, "prerequisites")
    if "points" in meta and (not _is_whole(meta["points"]) or meta["points"] < 0):
        raise LabFieldError(path, "points", "a whole number >= 0", meta["points"])
    if "checkpoints" in meta:
        _strings(path, meta, "checkpoints")
    if "aws" in meta:
        aws = meta["aws"]
        if not isinstance(aws, dict):
            raise LabFieldError(path, "aws", "a table ([aws])", aws)
        creates = aws.get("creates", [])
        if not isinstance(creates, list) or not all(isinstance(item, dict) for item in creates):
            raise LabFieldError(path, "aws.creates", "a list of tables ([[aws.creates]])", creates)
    return title, minutes, objectives, prerequisites


def _agree(path: Path, meta: dict[str, Any], checkpoints: CheckpointSet) -> None:
    """Check the fields that restate checks.py against it."""
    if "points" in meta:
        total = sum(checkpoint.points for checkpoint in checkpoints)
        if meta["points"] != total:
            raise LabFieldError(
                path,
                "points",
                f"the sum of the checkpoints' points in checks.py ({total})",
                meta["points"],
            )
    if "checkpoints" in meta and list(meta["checkpoints"]) != checkpoints.ids():
        raise LabFieldError(
            path,
            "checkpoints",
            f"the checkpoint ids of checks.py in order ({checkpoints.ids()})",
            meta["checkpoints"],
        )


def lab_ids(root: Path | None = None) -> list[str]:
    """The ids of the folders under the labs root that hold a lab.toml (nothing is loaded)."""
    root = root or labs_root()
    if not root.is_dir():
        return []
    return [p.name for p in sorted(root.iterdir()) if (p / "lab.toml").is_file()]


def load_lab(lab_id: str, root: Path | None = None) -> LabInfo:
    """Load one lab; raises `UnknownLabError`, `LabRefusedError` for an id that is not a folder name of
    the labs root, `LabFieldError` for a wrong lab.toml field, or `LabDefinitionError`."""
    root = root or labs_root()
    path = lab_folder(lab_id, root)
    toml_path = path / "lab.toml"
    if not toml_path.is_file():
        raise UnknownLabError(lab_id, course_order(root).ids)
    try:
        meta = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LabDefinitionError(toml_path, f"cannot be read: {exc}") from exc
    title, minutes, objectives, prerequisites = _validate(toml_path, meta)
    checkpoints = _load_checkpoints(lab_id, path)
    _agree(toml_path, meta, checkpoints)
    return LabInfo(
        id=lab_id,
        title=title,
        minutes=minutes,
        path=path,
        checkpoints=checkpoints,
        objectives=objectives,
        prerequisites=prerequisites,
        extra={k: v for k, v in meta.items() if k not in ("title", "minutes", "objectives", "prerequisites")},
    )


@dataclass(frozen=True)
class LabScan:
    """Every lab under a labs root: those that load, and the error of each that does not."""

    labs: list[LabInfo]
    broken: list[LabDefinitionError]


def scan_labs(root: Path | None = None, *, ids: list[str] | None = None) -> LabScan:
    """Load every lab under the labs root (those of `ids`, in that order, when given: for example
    `course_order().ids`); a broken lab is reported in `broken`, never hides the others."""
    root = root or labs_root()
    labs: list[LabInfo] = []
    broken: list[LabDefinitionError] = []
    for lab_id in lab_ids(root) if ids is None else ids:
        try:
            labs.append(load_lab(lab_id, root))
        except LabDefinitionError as exc:
            broken.append(exc)
    return LabScan(labs, broken)


def list_labs(root: Path | None = None) -> list[LabInfo]:
    """Every lab under the labs root, by id; raises `LabDefinitionError` for the first broken one."""
    root = root or labs_root()
    return [load_lab(lab_id, root) for lab_id in lab_ids(root)]


@dataclass(frozen=True)
class CourseOrder:
    """The labs of a labs root in the course's order: the order of the book's table of contents.

    `ids` holds every lab of the root: first those the table of contents names, in its order, then
    those it does not name (`unlisted`), by id. `unknown` are the labs it names that the root does
    not have. Without a table of contents (`source` is None) the order is by id; a table of contents
    that cannot be read is `problem`, and the order is by id too.
    """

    ids: list[str]
    source: Path | None
    unlisted: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problem: str | None = None

    def warnings(self) -> list[str]:
        """One learner-worded line for each thing that makes the order less than the course's."""
        lines = []
        if self.problem is not None:
            lines.append(f"{self.source}: {self.problem}; the labs are listed by id")
        for lab_id in self.unlisted:
            lines.append(
                f"lab {lab_id!r} is not in the course's table of contents {self.source}; listed last"
            )
        for lab_id in self.unknown:
            lines.append(f"{self.source} names the lab {lab_id!r}, which is not a lab of the labs folder")
        return lines


def table_of_contents(root: Path | None = None) -> Path:
    """Where the book's table of contents of a labs root is: `_toc.yml` beside the labs folder."""
    return (root or labs_root()).parent / "_toc.yml"


def _toc_files(node: object) -> list[str]:
    """Every `file:` entry of a parsed _toc.yml (root, parts, chapters, sections), in order."""
    if isinstance(node, dict):
        found = [str(node["file"])] if isinstance(node.get("file"), str) else []
        for key, value in node.items():
            if key != "file":
                found.extend(_toc_files(value))
        return found
    if isinstance(node, list):
        return [entry for item in node for entry in _toc_files(item)]
    return []


def course_order(root: Path | None = None) -> CourseOrder:
    """The labs of `root` in the order the book's `_toc.yml` (beside the labs folder) lists their
    pages (`labs/<id>/lab`); labs it does not list come last, by id. Nothing of a lab is loaded."""
    import yaml

    root = root or labs_root()
    present = lab_ids(root)
    toc = table_of_contents(root)
    if not toc.is_file():
        return CourseOrder(present, None)
    try:
        files = _toc_files(yaml.safe_load(toc.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return CourseOrder(present, toc, problem=f"cannot be read ({type(exc).__name__})")
    page = re.compile(rf"^{re.escape(root.name)}/([^/]+)/lab(?:\.ipynb|\.md)?$")
    named: list[str] = []
    for entry in files:
        matched = page.match(entry.strip().removeprefix("./"))
        if matched and LAB_ID.match(matched.group(1)) and matched.group(1) not in named:
            named.append(matched.group(1))
    listed = [lab_id for lab_id in named if lab_id in present]
    unlisted = [lab_id for lab_id in present if lab_id not in named]
    unknown = [lab_id for lab_id in named if lab_id not in present]
    return CourseOrder(listed + unlisted, toc, unlisted, unknown)
