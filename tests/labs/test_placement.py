"""The placement lab: its reference steps pass every checkpoint; an empty sandbox fails them all."""

from __future__ import annotations

from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox
from tests.labs.conftest import grade_fresh_and_caught_up


def test_reference_steps_pass_every_checkpoint_and_an_empty_sandbox_fails_them(
    sandbox: EmbeddedSandbox,
) -> None:
    """Every checkpoint fails on a fresh sandbox and passes after catching up to the last one."""
    before, after = grade_fresh_and_caught_up("placement", sandbox)
    assert before.count("failed") == len(before.checkpoints), before.summary()
    assert after.score == after.possible, after.summary()
    messages = {result.id: result.message for result in after.checkpoints}
    assert messages["binpack-memory"] == "Predicted and landed: micro-a: 3, small-b: 1."
    assert messages["spread-zones-then-binpack"] == "Predicted and landed: micro-a: 2, small-b: 2."
    assert (
        messages["distinct-instance"]
        == "Predicted and landed: medium-a: 1, micro-a: 1, small-b: 1, unplaced: 2."
    )
    assert messages["t2-only"] == "Predicted and landed: micro-a: 2, small-b: 2."


def test_a_wrong_prediction_or_placement_is_named_and_a_right_one_needs_the_run(
    sandbox: EmbeddedSandbox,
) -> None:
    """A prediction unlike place_tasks' answer fails; the right one fails until run; memberOf as a strategy is named."""
    import json

    import labkit
    from labkit.checkpoints import CheckContext

    lab = load_lab("placement")
    session = labkit.open_lab("placement", sandbox=sandbox)
    session.catch_up(to="task-definition-registered")
    check = lab.checkpoints.get("binpack-memory").check
    ssm = sandbox.client("ssm")
    name = "/labkit/placement/prediction/binpack-memory"
    placement = {"placementStrategy": [{"type": "binpack", "field": "memory"}]}
    record = {"prediction": {"medium-a": 4}, "placement": placement}
    ssm.put_parameter(Name=name, Value=json.dumps(record), Type="String")
    wrong = check(CheckContext(sandbox))
    assert not wrong.passed
    assert "You predicted medium-a: 4" in wrong.message
    ssm.put_parameter(
        Name=name,
        Value=json.dumps({"prediction": {"micro-a": 3, "small-b": 1}, "placement": placement}),
        Type="String",
        Overwrite=True,
    )
    not_run = check(CheckContext(sandbox))
    assert not not_run.passed
    assert "run the experiment" in not_run.message
    swapped = {
        "placementStrategy": [{"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t2.*"}]
    }
    ssm.put_parameter(
        Name=name, Value=json.dumps({"prediction": {}, "placement": swapped}), Type="String", Overwrite=True
    )
    assert "goes in placementConstraints" in check(CheckContext(sandbox)).message
