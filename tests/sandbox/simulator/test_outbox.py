"""The SNS outbox: what e-mail subscriptions received, read from Python or from another process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import labkit
from labkit.errors import OutboxNotAvailableError
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.server import ServerSandbox
from labkit.testing import FakeAws


def test_the_outbox_holds_each_email_per_topic_and_endpoint(sandbox: EmbeddedSandbox) -> None:
    """email gets subject and message, email-json the notification document; other topics are apart."""
    sns = sandbox.client("sns")
    alerts = sns.create_topic(Name="alerts")["TopicArn"]
    other = sns.create_topic(Name="other")["TopicArn"]
    subscription = sns.subscribe(TopicArn=alerts, Protocol="email", Endpoint="admin@example.com")
    # Confirmed at once in the sandbox: a real ARN, not "pending confirmation".
    assert subscription["SubscriptionArn"].startswith(alerts + ":")
    sns.subscribe(TopicArn=alerts, Protocol="email-json", Endpoint="robot@example.com")
    sns.subscribe(TopicArn=other, Protocol="email", Endpoint="admin@example.com")
    message_id = sns.publish(TopicArn=alerts, Subject="Disk full", Message="the disk is full")["MessageId"]
    sns.publish(TopicArn=other, Message="unrelated")
    admin = sandbox.outbox(alerts, endpoint="admin@example.com")
    assert [(m["subject"], m["message"], m["message_id"]) for m in admin] == [
        ("Disk full", "the disk is full", message_id)
    ]
    assert admin[0]["timestamp"].endswith("Z")
    [robot] = sandbox.outbox(alerts, endpoint="robot@example.com")
    document = json.loads(robot["message"])
    assert (document["Type"], document["TopicArn"], document["Message"], document["MessageId"]) == (
        "Notification",
        alerts,
        "the disk is full",
        message_id,
    )
    assert len(sandbox.outbox()) == 3
    assert [m["message"] for m in sandbox.outbox(other)] == ["unrelated"]


def test_a_filter_policy_keeps_a_message_out_of_the_outbox(sandbox: EmbeddedSandbox) -> None:
    """A subscription's filter policy applies to e-mail as to any protocol."""
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="email",
        Endpoint="big@example.com",
        Attributes={"FilterPolicy": json.dumps({"size": ["big"]})},
    )
    for size in ("small", "big"):
        sns.publish(
            TopicArn=topic,
            Message=size,
            MessageAttributes={"size": {"DataType": "String", "StringValue": size}},
        )
    assert [m["message"] for m in sandbox.outbox(topic)] == ["big"]


def test_publishes_straight_to_the_backend_are_kept_and_a_reset_empties_the_outbox(
    sandbox: EmbeddedSandbox,
) -> None:
    """What reaches moto's SNS backend without an API call (an alarm action, say) is kept; reset forgets it."""
    from moto.sns.models import sns_backends

    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="oncall@example.com")
    sns_backends[sandbox.account_id][sandbox.region].publish(
        message="ALARM: queue depth", arn=topic, subject='ALARM: "depth" in US East (N. Virginia)'
    )
    [mail] = sandbox.outbox(topic)
    assert (mail["subject"], mail["message"]) == (
        'ALARM: "depth" in US East (N. Virginia)',
        "ALARM: queue depth",
    )
    sandbox.reset()
    assert sandbox.outbox() == []


def test_a_grader_reads_a_server_sandboxs_outbox_with_its_token() -> None:
    """`/_labkit/outbox` answers the server's e-mails to the token holder and 403 to anyone else."""
    with ServerSandbox(region="us-east-1", clock="manual") as sb:
        sns = sb.client("sns")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="admin@example.com")
        sns.publish(TopicArn=topic, Subject="Hi", Message="from the server")
        [mail] = sb.outbox(topic)
        assert (mail["endpoint"], mail["subject"], mail["message"]) == (
            "admin@example.com",
            "Hi",
            "from the server",
        )
        assert sb.outbox(endpoint="nobody@example.com") == []
        request = urllib.request.Request(f"{sb.endpoint_url}/_labkit/outbox")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(request, timeout=10)
        assert refused.value.code == 403


def test_a_real_account_has_no_outbox(labkit_home: Path) -> None:
    """In aws mode the outbox is a clear LabkitError: e-mail goes to real inboxes."""
    (labkit_home / "config.toml").write_text(
        '[aws]\nallowed_accounts = ["111122223333"]\nregion = "eu-west-1"\n'
    )
    sb = labkit.open_sandbox("aws", botocore_session=FakeAws(account_id="111122223333").session())
    with pytest.raises(OutboxNotAvailableError, match="no outbox"):
        sb.outbox()
