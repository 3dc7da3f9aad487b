"""The one way labkit hooks moto: every target recorded in a table, installed all or nothing.

A `Hook` names a moto target (a dotted owner path and an attribute), the parameters labkit expects
the original to take, and either a wrapper factory (the original in, the replacement out) or none
(labkit only calls the target: one of moto's private helpers). `problems()` checks every recorded
target against the installed moto without changing anything; `install()` checks every target first
and patches only when all of them fit, so a moto upgrade that renamed or reshaped one is a clear
`MotoSeamError` when a sandbox opens, never a half-patched moto that answers 501 later.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.metadata
import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from labkit.errors import LabkitError

__all__ = [
    "TABLE",
    "Hook",
    "MotoSeamError",
    "check",
    "hook",
    "install",
    "installed",
    "moto_version",
    "problems",
    "uninstall",
    "uses",
]

#: A wrapper factory: moto's original (None when labkit adds an attribute moto lacks) in, the replacement out.
Factory = Callable[[Any], Any]


@dataclass(frozen=True)
class Hook:
    """One place where labkit touches moto.

    `owner` is a dotted path (`moto.ecs.responses.EC2ContainerServiceResponse`) and `attribute` the
    name on it; `parameters` are the names labkit relies on, in the order it passes them; `wrap` makes
    the replacement from the original (None: labkit only calls the target); `adds` marks an attribute
    labkit adds because moto lacks it (only the owner has to exist); `instance` marks an attribute
    moto sets on instances (the owner's source must assign `self.<attribute>`).
    """

    owner: str
    attribute: str
    parameters: tuple[str, ...]
    why: str
    wrap: Factory | None = None
    adds: bool = False
    instance: bool = False

    @property
    def target(self) -> str:
        """The dotted path of the hooked attribute."""
        return f"{self.owner}.{self.attribute}"

    @property
    def patches(self) -> bool:
        """Does installing this hook replace something (rather than only check it)?"""
        return self.wrap is not None


class MotoSeamError(LabkitError):
    """The installed moto does not have what labkit hooks (nothing was patched)."""

    exit_code = 3

    def __init__(self, mismatches: list[str], version: str) -> None:
        lines = "\n".join(f"  - {m}" for m in mismatches)
        super().__init__(
            f"labkit cannot hook the installed moto {version}: {len(mismatches)} target(s) do not match, "
            f"so nothing was patched (labkit is tested with the moto version in requirements/test.txt):\n"
            f"{lines}"
        )
        self.mismatches = mismatches
        self.version = version


#: Every hook labkit records, in registration order (the service modules fill it when imported).
TABLE: list[Hook] = []

_lock = threading.RLock()
# target -> (owner object, attribute, original value or _MISSING)
_installed: dict[str, tuple[Any, str, Any]] = {}
_MISSING = object()


def hook(
    owner: str, attribute: str, parameters: Iterable[str] = (), *, why: str, adds: bool = False
) -> Callable[[Factory], Factory]:
    """Record a wrapper factory for `owner.attribute` in `TABLE` (a decorator; the factory is returned)."""

    def record(factory: Factory) -> Factory:
        _record(Hook(owner, attribute, _names(parameters), why, factory, adds))
        return factory

    return record


def uses(
    owner: str, attribute: str, parameters: Iterable[str] = (), *, why: str, instance: bool = False
) -> Hook:
    """Record one of moto's private helpers (or other internals) labkit calls without patching."""
    entry = Hook(owner, attribute, _names(parameters), why, instance=instance)
    _record(entry)
    return entry


def _names(parameters: Iterable[str]) -> tuple[str, ...]:
    if isinstance(parameters, str):
        raise TypeError(f"parameters must be a tuple of names, not the string {parameters!r}")
    return tuple(parameters)


def _record(entry: Hook) -> None:
    with _lock:
        for index, existing in enumerate(TABLE):
            if existing.target == entry.target and existing.patches == entry.patches:
                TABLE[index] = entry  # a module imported again replaces its own entry
                return
        TABLE.append(entry)


def moto_version() -> str:
    """The installed moto's version ("not installed" when it is missing)."""
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _resolve(path: str) -> Any:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found: Any = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                continue
            raise
        for name in parts[cut:]:
            try:
                found = getattr(found, name)
            except AttributeError:
                raise LookupError(f"{'.'.join(parts[:cut])} has no attribute {name!r}") from None
        return found
    raise LookupError(f"no module {parts[0]!r}")


def _original(entry: Hook) -> tuple[Any, Any]:
    """The owner and the current value of the attribute; raises LookupError with the mismatch."""
    try:
        owner = _resolve(entry.owner)
    except LookupError as exc:
        raise LookupError(f"owner {entry.owner} not found ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - an import that fails for any reason is a mismatch
        raise LookupError(f"owner {entry.owner} cannot be imported ({type(exc).__name__}: {exc})") from None
    # A class attribute is read from the class dict where it is defined, so that a staticmethod or
    # classmethod keeps its descriptor when it is put back.
    value = getattr(owner, entry.attribute, _MISSING)
    if value is _MISSING and entry.instance:
        try:
            source = inspect.getsource(owner)
        except (OSError, TypeError):
            source = ""
        if f"self.{entry.attribute} =" not in source and f"self.{entry.attribute}:" not in source:
            raise LookupError(f"{entry.owner} sets no attribute {entry.attribute!r} on its instances")
        return owner, _MISSING
    if value is _MISSING and not entry.adds:
        raise LookupError(f"{entry.owner} has no attribute {entry.attribute!r}")
    return owner, value


def _check(entry: Hook) -> str | None:
    """What does not match for one hook, or None."""
    if entry.target in _installed:
        original = _installed[entry.target][2]
    else:
        try:
            _, original = _original(entry)
        except LookupError as exc:
            return str(exc)
    if not entry.parameters or original is _MISSING:
        return None
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        return f"has no signature labkit can read (labkit expects parameters {', '.join(entry.parameters)})"
    names = list(signature.parameters)
    missing = [p for p in entry.parameters if p not in names]
    if missing:
        return (
            f"takes ({', '.join(names)}); labkit expects parameter(s) {', '.join(missing)} "
            f"(it relies on {', '.join(entry.parameters)})"
        )
    positions = [names.index(p) for p in entry.parameters]
    if positions != sorted(positions):
        return f"takes ({', '.join(names)}); labkit expects {', '.join(entry.parameters)} in that order"
    return None


def problems(table: Iterable[Hook] | None = None) -> list[str]:
    """Every mismatch between the recorded targets and the installed moto (empty when all fit)."""
    entries = list(TABLE if table is None else table)
    found: list[str] = []
    for entry in entries:
        problem = _check(entry)
        if problem is not None:
            found.append(f"{entry.target}: {problem}")
    return found


check = problems


def installed() -> list[str]:
    """The targets patched so far in this process."""
    with _lock:
        return list(_installed)


def install(table: Iterable[Hook] | None = None) -> None:
    """Patch every hook of `table` (all of `TABLE` by default), or none of them.

    Checks every target first; raises `MotoSeamError` naming each mismatch and the installed moto
    version without patching anything. Idempotent (a hook already installed is skipped) and
    thread-safe. A factory that fails while patching undoes what this call patched.
    """
    with _lock:
        entries = [e for e in (TABLE if table is None else table) if e.target not in _installed]
        mismatches = problems(entries)
        if mismatches:
            raise MotoSeamError(mismatches, moto_version())
        done: list[str] = []
        try:
            for entry in entries:
                if entry.wrap is None:
                    continue
                owner, original = _original(entry)
                replacement = entry.wrap(None if original is _MISSING else original)
                # A replacement whose attributes cannot be set (a builtin's, say) still works.
                if callable(replacement) and callable(original) and original is not _MISSING:
                    with contextlib.suppress(AttributeError, TypeError):
                        functools.update_wrapper(replacement, original)
                if callable(replacement) and not isinstance(replacement, type):
                    with contextlib.suppress(AttributeError, TypeError):
                        replacement.__labkit_original__ = None if original is _MISSING else original
                stored = (
                    owner.__dict__.get(entry.attribute, original) if isinstance(owner, type) else original
                )
                setattr(owner, entry.attribute, replacement)
                _installed[entry.target] = (owner, entry.attribute, stored)
                done.append(entry.target)
        except Exception as exc:
            _undo(done)
            raise MotoSeamError([f"installing failed: {type(exc).__name__}: {exc}"], moto_version()) from exc


def uninstall(table: Iterable[Hook] | None = None) -> None:
    """Put back moto's originals for `table` (every installed hook by default); for tests."""
    with _lock:
        targets = list(_installed) if table is None else [e.target for e in table if e.target in _installed]
        _undo(targets)


def _undo(targets: list[str]) -> None:
    for target in reversed(targets):
        owner, attribute, original = _installed.pop(target)
        if original is _MISSING:
            if attribute in getattr(owner, "__dict__", {}):
                delattr(owner, attribute)
        else:
            setattr(owner, attribute, original)
