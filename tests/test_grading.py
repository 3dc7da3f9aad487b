"""Checkpoints and grading: outcomes, the read-only guard, not-graded faults, report formats."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from labkit.checkpoints import CheckContext, CheckpointSet, ReadOnlyViolation, passed
from labkit.errors import LabkitError, OutboxNotAvailableError
from labkit.grading import grade, run_checkpoint
from labkit.labs import load_lab
from labkit.sandbox.embedded import EmbeddedSandbox

FIXTURES = Path(__file__).parent / "fixtures" / "labs"


@pytest.fixture
def tiny() -> CheckpointSet:
    return load_lab("tiny", FIXTURES).checkpoints


def test_a_learner_mistake_is_a_failed_result_with_a_message(
    tiny: CheckpointSet, sandbox: EmbeddedSandbox
) -> None:
    """Without the cluster, the check fails, scores 0 and says what is missing."""
    result = run_checkpoint(tiny.get("cluster-created"), CheckContext(sandbox))
    assert (result.status, result.points, result.possible) == ("failed", 0, 2)
    assert result.message == "There is no cluster named tiny."


def test_a_passing_check_scores_its_points(tiny: CheckpointSet, sandbox: EmbeddedSandbox) -> None:
    """With the cluster, the check passes with 2 of 2 points."""
    sandbox.client("ecs").create_cluster(clusterName="tiny")
    result = run_checkpoint(tiny.get("cluster-created"), CheckContext(sandbox))
    assert (result.status, result.points) == ("passed", 2)


def test_a_check_cannot_change_the_sandbox(tiny: CheckpointSet, sandbox: EmbeddedSandbox) -> None:
    """A check that calls create_cluster is not graded, and no cluster is created."""
    result = run_checkpoint(tiny.get("writes"), CheckContext(sandbox))
    assert result.status == "not-graded"
    assert "may only read" in result.message
    assert sandbox.client("ecs").list_clusters()["clusterArns"] == []


def test_a_check_may_scan_and_query_a_table_but_not_write_it(sandbox: EmbeddedSandbox) -> None:
    """DynamoDB's Scan and Query are reads a check may make; PutItem is refused before it is sent."""
    sandbox.client("dynamodb").create_table(
        TableName="t", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip
    sandbox.client("dynamodb").put_item(TableName="t", Item={"id": {"S": "a"}})
    ddb = CheckContext(sandbox).client("dynamodb")
    assert ddb.scan(TableName="t")["Count"] == 1
    query = ddb.query(
        TableName="t", KeyConditionExpression="id = :v", ExpressionAttributeValues={":v": {"S": "a"}}
    )
    assert query["Count"] == 1
    with pytest.raises(ReadOnlyViolation):
        ddb.put_item(TableName="t", Item={"id": {"S": "b"}})
    assert sandbox.client("dynamodb").scan(TableName="t")["Count"] == 1


def test_a_check_reads_the_outbox_and_a_real_account_has_none(sandbox: EmbeddedSandbox) -> None:
    """`CheckContext.outbox` shows the e-mails SNS delivered; where there is no outbox it is None, not an error."""
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="admin@example.com")
    sns.publish(TopicArn=topic, Message="task stopped")
    context = CheckContext(sandbox)
    [mail] = context.outbox(topic, endpoint="admin@example.com") or []
    assert mail["message"] == "task stopped"
    assert context.outbox(topic, endpoint="nobody@example.com") == []

    class NoOutbox:
        mode = "aws"
        session_id = "lk-0000000000"

        def outbox(self, *args: object, **kwargs: object) -> list[dict[str, str]]:
            raise OutboxNotAvailableError("aws")

    assert CheckContext(NoOutbox(), session_tag="lk-0000000000").outbox(topic) is None  # type: ignore[arg-type]


def test_a_check_that_crashes_is_not_graded_never_passed(
    tiny: CheckpointSet, sandbox: EmbeddedSandbox
) -> None:
    """An exception in a check is reported as not-graded with its type, and scores nothing."""
    result = run_checkpoint(tiny.get("crashes"), CheckContext(sandbox))
    assert (result.status, result.points) == ("not-graded", 0)
    assert "KeyError" in result.message


def test_unknown_checkpoint_ids_name_the_known_ones(tiny: CheckpointSet) -> None:
    """Asking for a checkpoint that does not exist lists the lab's checkpoints."""
    with pytest.raises(LabkitError, match="cluster-created, always-passes"):
        tiny.get("nope")


def test_duplicate_checkpoint_ids_are_refused() -> None:
    """Two checkpoints with one id is a ValueError at definition time."""
    checkpoints = CheckpointSet("dup")
    checkpoints.checkpoint("a", "A")(lambda ctx: passed())
    with pytest.raises(ValueError, match="two checkpoints named 'a'"):
        checkpoints.checkpoint("a", "A again")(lambda ctx: passed())


class TestReport:
    @pytest.fixture
    def report_json(self, tiny: CheckpointSet, sandbox: EmbeddedSandbox) -> dict[str, object]:
        report = grade("tiny", tiny, sandbox)
        data: dict[str, object] = json.loads(report.to_json())
        return data

    def test_the_json_schema_is_stable(self, report_json: dict[str, object]) -> None:
        """{"lab", "score", "possible", "checkpoints": [{"id", "status", "points", "message"}]}, nothing else."""
        assert set(report_json) == {"lab", "score", "possible", "checkpoints"}
        assert report_json["lab"] == "tiny"
        assert (report_json["score"], report_json["possible"]) == (1, 5)
        checkpoints = report_json["checkpoints"]
        assert isinstance(checkpoints, list)
        assert [set(c) for c in checkpoints] == [{"id", "status", "points", "message"}] * 4
        assert [c["status"] for c in checkpoints] == ["failed", "passed", "not-graded", "not-graded"]

    def test_junit_xml_counts_failures_and_errors(
        self, tiny: CheckpointSet, sandbox: EmbeddedSandbox
    ) -> None:
        """Failed checkpoints are failures, not-graded ones are errors, one test case each."""
        suite = ET.fromstring(grade("tiny", tiny, sandbox).to_junit_xml())
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
        assert [case.get("name") for case in suite.iter("testcase")] == [
            "cluster-created",
            "always-passes",
            "writes",
            "crashes",
        ]

    def test_html_and_text_show_every_checkpoint(self, tiny: CheckpointSet, sandbox: EmbeddedSandbox) -> None:
        """The HTML table and the text summary name every checkpoint and the score."""
        report = grade("tiny", tiny, sandbox)
        for text in (report.to_html(), report.summary()):
            assert "1/5" in text
            for checkpoint_id in ("cluster-created", "always-passes", "writes", "crashes"):
                assert checkpoint_id in text

    def test_a_caught_up_checkpoint_scores_nothing_in_every_format(
        self, tiny: CheckpointSet, sandbox: EmbeddedSandbox
    ) -> None:
        """A passed checkpoint reached by catch-up is `caught-up` with 0 points in JSON, JUnit
        (skipped, neither failure nor error), HTML and text; one that failed stays failed."""
        sandbox.client("ecs").create_cluster(clusterName="tiny")
        report = grade("tiny", tiny, sandbox).with_caught_up(
            {"cluster-created", "writes"}, "caught up with the reference solution"
        )
        data = json.loads(report.to_json())
        statuses = {c["id"]: (c["status"], c["points"]) for c in data["checkpoints"]}
        assert statuses["cluster-created"] == ("caught-up", 0)
        assert statuses["writes"] == ("not-graded", 0)
        assert (data["score"], data["possible"]) == (1, 5)
        assert report.count("caught-up") == 1
        suite = ET.fromstring(report.to_junit_xml())
        assert suite.get("skipped") == "1"
        case = next(c for c in suite.iter("testcase") if c.get("name") == "cluster-created")
        assert [child.tag for child in case] == ["skipped"]
        assert "caught-up" in (case[0].get("message") or "")
        for text in (report.to_html(), report.summary(), report.checkpoints[0].summary()):
            assert "caught-up" in text
        assert "caught-up" in report.checkpoints[0]._repr_html_()
        assert not report.checkpoints[0].passed

    def test_reports_contain_no_secret(self, tiny: CheckpointSet, sandbox: EmbeddedSandbox) -> None:
        """Neither the sandbox's control token nor its (fake) secret key appears in any rendering."""
        from labkit.sandbox.guards import FAKE_SECRET_ACCESS_KEY

        report = grade("tiny", tiny, sandbox)
        for text in (report.to_json(), report.to_junit_xml(), report.to_html(), report.summary()):
            assert sandbox.emulator.token not in text
            assert FAKE_SECRET_ACCESS_KEY not in text


class TestSessionTag:
    """In a real account a check counts only what carries the lab session's tag (look-alikes do not)."""

    def test_an_untagged_look_alike_does_not_count(
        self, tiny: CheckpointSet, sandbox: EmbeddedSandbox
    ) -> None:
        """A cluster named right but without labkit:session=<this session> fails the check."""
        sandbox.client("ecs").create_cluster(
            clusterName="tiny", tags=[{"key": "labkit:session", "value": "lk-other"}]
        )
        nginx = load_lab("nginx-alb").checkpoints
        sandbox.client("ecs").create_cluster(clusterName="nginx-lab")
        context = CheckContext(sandbox, session_tag="lk-mine")
        assert run_checkpoint(nginx.get("cluster-created"), context).status == "failed"

    def test_what_this_session_made_counts(self, sandbox: EmbeddedSandbox) -> None:
        """The same cluster with labkit:session=<this session> passes."""
        nginx = load_lab("nginx-alb").checkpoints
        sandbox.client("ecs").create_cluster(
            clusterName="nginx-lab", tags=[{"key": "labkit:session", "value": "lk-mine"}]
        )
        context = CheckContext(sandbox, session_tag="lk-mine")
        assert run_checkpoint(nginx.get("cluster-created"), context).status == "passed"

    def test_tags_in_every_shape_are_read(self, sandbox: EmbeddedSandbox) -> None:
        """ECS key/value lists, EC2 Key/Value lists and tag maps all say whose a resource is."""
        context = CheckContext(sandbox, session_tag="lk-mine")
        assert context.ours([{"key": "labkit:session", "value": "lk-mine"}])
        assert context.ours([{"Key": "labkit:session", "Value": "lk-mine"}])
        assert context.ours({"labkit:session": "lk-mine"})
        assert not context.ours([{"Key": "labkit:session", "Value": "lk-other"}])
        assert not context.ours(None)
        assert CheckContext(sandbox).ours(None)  # emulated: everything in the account is the lab's
