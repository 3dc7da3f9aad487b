"""`labkit sandbox outbox` lists the server's e-mails."""

from __future__ import annotations

import json

import pytest

from labkit.sandbox.server import ServerSandbox
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_outbox_lists_the_servers_emails_as_text_and_json() -> None:
    """One line per e-mail (time, address, subject, message); --json gives the records; --topic filters."""
    with ServerSandbox(region="us-east-1", clock="manual") as sb:
        sns = sb.client("sns")
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        other = sns.create_topic(Name="other")["TopicArn"]
        for arn in (topic, other):
            sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="admin@example.com")
        sns.publish(TopicArn=topic, Subject="Task stopped", Message="exit code 3")
        text = run_labkit("sandbox", "outbox")
        assert text.returncode == 0, text.stderr
        assert "to admin@example.com  [Task stopped]  exit code 3" in text.stdout
        records = json.loads(run_labkit("sandbox", "outbox", "--json", "--topic", other).stdout)
        assert records == []
        assert (
            run_labkit("sandbox", "outbox", "--endpoint", "x@example.com").stdout.strip()
            == "the outbox is empty"
        )
