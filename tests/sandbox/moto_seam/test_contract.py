"""The moto seam's contract: every target labkit hooks or calls exists in the installed moto, as expected.

A moto upgrade that renames or reshapes a hooked target fails here (and at `open_sandbox()`) with
the target named, instead of turning requests into 501s.
"""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import labkit
from labkit.errors import LabkitError
from labkit.sandbox import moto_seam
from labkit.sandbox.moto_seam import hooks
from labkit.sandbox.moto_seam.hooks import Hook, MotoSeamError

FAKE = "labkit_fake_moto_service"


def test_every_recorded_target_exists_in_the_installed_moto_with_the_expected_parameters() -> None:
    """problems() is empty: each hooked attribute and private helper is where labkit expects it."""
    assert moto_seam.problems() == []


def test_the_table_covers_every_service_module_and_says_why() -> None:
    """Every service module records hooks, and every entry carries a reason and a moto target."""
    table = moto_seam.table()
    owners = {entry.owner.split(".")[1] for entry in table}
    assert {"ecs", "elbv2", "ec2", "autoscaling", "applicationautoscaling", "cloudwatch"} <= owners
    assert {"events", "s3", "sns", "sqs", "iam", "ecr", "core"} <= owners
    assert all(entry.why and entry.owner.startswith("moto.") for entry in table)
    assert sum(entry.patches for entry in table) >= 60


def test_install_patches_every_hook_and_is_idempotent() -> None:
    """After install() every patching hook is installed; a second call changes nothing."""
    moto_seam.install()
    first = hooks.installed()
    moto_seam.install()
    assert hooks.installed() == first
    assert {e.target for e in moto_seam.table() if e.patches} == set(first)
    from moto.ecs.responses import EC2ContainerServiceResponse

    assert EC2ContainerServiceResponse.create_service.__labkit_original__ is not None  # type: ignore[attr-defined]


def test_no_labkit_module_outside_the_seam_imports_moto() -> None:
    """Only labkit/sandbox/moto_seam/ imports moto."""
    root = Path(labkit.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "moto_seam" not in path.parts
        and any(
            line.strip().startswith(("from moto", "import moto")) for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


# -- a moto that does not fit ---------------------------------------------------------------------


class _Service:
    def create_thing(self, name: str, size: int) -> str:
        return f"{name}:{size}"

    def delete_thing(self, name: str) -> None:
        return None


@pytest.fixture
def fake_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """A stand-in for a moto service module, importable by its dotted name."""
    module = types.ModuleType(FAKE)
    service = type("Service", (_Service,), {})
    module.Service = service  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FAKE, module)
    yield module
    hooks.uninstall([e for e in _table() if e.target in hooks.installed()])


def _wrapped(original: object) -> object:
    def wrapper(self: object, name: str, size: int) -> str:
        return "wrapped"

    return wrapper


def _table(renamed: bool = False, reshaped: bool = False) -> list[Hook]:
    return [
        Hook(f"{FAKE}.Service", "create_thing", ("self", "name", "size"), "the good one", _wrapped),
        Hook(
            f"{FAKE}.Service",
            "remove_thing" if renamed else "delete_thing",
            ("self", "thing_name") if reshaped else ("self", "name"),
            "the one moto changed",
            lambda original: lambda self, name: "wrapped",
        ),
    ]


def test_a_renamed_target_makes_install_fail_clearly_and_patch_nothing(fake_moto: types.ModuleType) -> None:
    """A hook on an attribute moto renamed: a MotoSeamError naming it and the moto version; nothing patched."""
    before = dict(vars(fake_moto.Service))
    with pytest.raises(MotoSeamError) as raised:
        hooks.install(_table(renamed=True))
    message = str(raised.value)
    assert f"{FAKE}.Service.remove_thing" in message
    assert "has no attribute 'remove_thing'" in message
    assert hooks.moto_version() in message
    assert "nothing was patched" in message
    assert isinstance(raised.value, LabkitError)
    # All or nothing: the good hook of the same table was not installed either.
    assert dict(vars(fake_moto.Service)) == before
    assert fake_moto.Service().create_thing("a", 1) == "a:1"
    assert not any(t.startswith(FAKE) for t in hooks.installed())


def test_a_reshaped_target_is_a_problem_naming_the_missing_parameter(fake_moto: types.ModuleType) -> None:
    """A target whose parameters changed is reported (with what it takes now) and not patched."""
    found = hooks.problems(_table(reshaped=True))
    assert len(found) == 1
    assert "delete_thing" in found[0]
    assert "thing_name" in found[0]
    assert "takes (self, name)" in found[0]
    with pytest.raises(MotoSeamError):
        hooks.install(_table(reshaped=True))
    assert fake_moto.Service().create_thing("a", 1) == "a:1"


def test_a_missing_module_is_a_problem() -> None:
    """A moto module that no longer exists is reported by its dotted path."""
    found = hooks.problems([Hook("moto.no_such_service.models.Backend", "run", (), "gone")])
    assert found
    assert "moto.no_such_service.models.Backend" in found[0]


def test_a_fitting_table_installs_and_uninstalls(fake_moto: types.ModuleType) -> None:
    """When every target fits, every hook is installed; uninstall puts moto's originals back."""
    table = _table()
    hooks.install(table)
    assert fake_moto.Service().create_thing("a", 1) == "wrapped"
    assert fake_moto.Service.create_thing.__labkit_original__ is _Service.create_thing
    hooks.uninstall(table)
    assert fake_moto.Service().create_thing("a", 1) == "a:1"


def test_open_sandbox_reports_a_moto_that_does_not_fit(tmp_path: Path) -> None:
    """In a fresh process with a hooked target renamed, open_sandbox() raises MotoSeamError."""
    script = (
        "import labkit\n"
        "from moto.ecs.responses import EC2ContainerServiceResponse as R\n"
        "del R.create_service\n"
        "from labkit.sandbox.moto_seam import MotoSeamError\n"
        "try:\n"
        "    labkit.open_sandbox(clock='manual')\n"
        "except MotoSeamError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False
    )
    assert "REFUSED" in done.stdout, done.stderr
    assert "EC2ContainerServiceResponse.create_service" in done.stdout
