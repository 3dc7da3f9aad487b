"""The copilot lab: its broken manifest teaches each rule in turn, and its reference steps pass every checkpoint.

`tests/test_runner.py::test_the_course_labs_validate` runs `labkit validate` over every lab, this one included.
"""

from __future__ import annotations

import pytest

import labkit
from labkit.copilot import ManifestError, load_manifest
from labkit.grading import grade
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox

LAB = load_lab("copilot")


def _checkpoints_module() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("copilot_lab", LAB.path / "checks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_broken_manifest_fails_on_each_field_in_turn() -> None:
    """Fixing the lab's manifest one error at a time meets name, image, http.healthcheck.interval, then memory."""
    module = _checkpoints_module()
    text: str = module.BROKEN_MANIFEST  # type: ignore[attr-defined]
    fixes = [
        ("name", "name: Hello", "name: hello"),
        ("image", "  build: ./Dockerfile\n", ""),
        ("http.healthcheck.interval", "interval: 2s", "interval: 10s"),
        ("memory", "memory: 4096", "memory: 512"),
    ]
    for field, old, new in fixes:
        with pytest.raises(ManifestError) as caught:
            load_manifest(text, env="test")
        assert caught.value.field == field
        text = text.replace(old, new)
    manifest = load_manifest(text, env="test")
    assert manifest.image == "nginixdemos/hello"  # no rule catches a misspelt image: the checkpoint does


def test_every_checkpoint_fails_first_and_passes_after_the_reference_steps(sandbox: EmbeddedSandbox) -> None:
    """On a fresh sandbox every copilot checkpoint fails; after catching up to the end all pass."""
    session = labkit.open_lab("copilot", sandbox=sandbox)
    before = grade("copilot", session.lab.checkpoints, sandbox)
    assert before.count("failed") == len(session.lab.checkpoints)
    session.catch_up(to=session.lab.checkpoints.ids()[-1])
    after = grade("copilot", session.lab.checkpoints, sandbox)
    assert after.score == after.possible, after.summary()
