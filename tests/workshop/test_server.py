"""The workshop server: each learner's credentials select their own account, and nothing else can.

The application runs in this process on a loopback port (the same `WorkshopApp` the workshop
process serves), on manual clocks.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from labkit.sandbox.emulator import TOKEN_HEADER
from labkit.sandbox.serving import LoopbackServer
from labkit.sandbox.workshop_client import WorkshopSandbox
from labkit.workshop.progress import EventLog, ProgressReporter
from labkit.workshop.roster import Learner, RosterError, read_roster
from labkit.workshop.server import LearnerAccess, WorkshopApp, new_learner_access, write_connection_files


@dataclass
class Workshop:
    app: WorkshopApp
    url: str
    a: LearnerAccess
    b: LearnerAccess

    def client(
        self, who: LearnerAccess, service: str, *, secret: str | None = None, key: str | None = None
    ) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key or who.access_key_id,
            aws_secret_access_key=secret or who.secret_access_key,
        )


def control(
    url: str, method: str, route: str, token: str, payload: dict[str, Any] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{url}/_labkit{route}",
        data=json.dumps(payload).encode() if payload is not None else None,
        method=method,
        headers={TOKEN_HEADER: token, "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def workshop(tmp_path: Path) -> Iterator[Workshop]:
    a, b = new_learner_access(Learner("ada", "Ada")), new_learner_access(Learner("bob", "Bob"))
    app = WorkshopApp(
        [a, b],
        region="us-east-1",
        clock="manual",
        instructor_token="teacher",
        events=EventLog(tmp_path / "e.jsonl"),
    )
    server = LoopbackServer(app)
    try:
        yield Workshop(app, server.url, a, b)
    finally:
        server.close()
        app.close()


class TestIsolation:
    def test_each_learner_sees_only_their_own_account(self, workshop: Workshop) -> None:
        """Ada's cluster is in Ada's account; Bob lists none and STS names each one's own account."""
        arn = workshop.client(workshop.a, "ecs").create_cluster(clusterName="mine")["cluster"]["clusterArn"]
        assert workshop.a.account_id in arn
        assert workshop.client(workshop.b, "ecs").list_clusters()["clusterArns"] == []
        assert workshop.client(workshop.a, "sts").get_caller_identity()["Account"] == workshop.a.account_id
        assert workshop.client(workshop.b, "sts").get_caller_identity()["Account"] == workshop.b.account_id

    def test_a_learner_cannot_read_or_change_anothers_resources_by_arn(self, workshop: Workshop) -> None:
        """Bob naming Ada's cluster ARN is refused; her security group id finds nothing; nothing changes."""
        ada_ecs, bob_ecs = workshop.client(workshop.a, "ecs"), workshop.client(workshop.b, "ecs")
        arn = ada_ecs.create_cluster(clusterName="mine")["cluster"]["clusterArn"]
        with pytest.raises(ClientError, match="AccessDeniedException"):
            bob_ecs.describe_clusters(clusters=[arn])
        with pytest.raises(ClientError):
            bob_ecs.delete_cluster(cluster=arn)
        ada_ec2 = workshop.client(workshop.a, "ec2")
        vpc = ada_ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        group = ada_ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
        with pytest.raises(ClientError, match=r"InvalidGroup\.NotFound"):
            workshop.client(workshop.b, "ec2").delete_security_group(GroupId=group)
        assert ada_ecs.describe_clusters(clusters=[arn])["clusters"][0]["status"] == "ACTIVE"

    def test_no_header_trick_switches_account(self, workshop: Workshop) -> None:
        """Bob sending x-moto-account-id with Ada's account, signed or added after signing, stays in Bob's account."""
        workshop.client(workshop.a, "ecs").create_cluster(clusterName="adas")
        workshop.client(workshop.b, "ecs").create_cluster(clusterName="bobs")

        def forge(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = workshop.a.account_id

        for event in ("before-sign.ecs.*", "before-send.ecs.*"):
            bob = workshop.client(workshop.b, "ecs")
            bob.meta.events.register(event, forge)
            (arn,) = bob.list_clusters()["clusterArns"]
            assert arn.endswith(":cluster/bobs")
            assert workshop.b.account_id in arn

    def test_a_wrong_secret_an_unknown_key_and_no_signature_are_refused(self, workshop: Workshop) -> None:
        """Knowing Ada's access key id is not enough; an unknown key and an unsigned request are refused."""
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            workshop.client(workshop.a, "ecs", secret="guessed").list_clusters()
        with pytest.raises(ClientError, match="UnrecognizedClientException"):
            workshop.client(workshop.a, "ecs", key="AKIALABKITWZZZZZZZZZ").list_clusters()
        request = urllib.request.Request(
            workshop.url + "/",
            data=b"{}",
            method="POST",
            headers={
                "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.ListClusters",
                "x-moto-account-id": workshop.a.account_id,
            },
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(request, timeout=10)
        assert caught.value.code == 403
        assert b"MissingAuthenticationToken" in caught.value.read()

    def test_control_calls_act_only_on_the_token_holders_sandbox(self, workshop: Workshop) -> None:
        """Bob's token resets Bob's account, not Ada's; moto's own reset endpoint is unreachable."""
        workshop.client(workshop.a, "ecs").create_cluster(clusterName="mine")
        workshop.client(workshop.b, "ecs").create_cluster(clusterName="his")
        code, _ = control(workshop.url, "POST", "/reset", workshop.b.token, {})
        assert code == 200
        assert workshop.client(workshop.b, "ecs").list_clusters()["clusterArns"] == []
        assert len(workshop.client(workshop.a, "ecs").list_clusters()["clusterArns"]) == 1
        code, _ = control(workshop.url, "POST", "/reset", "not-a-token", {})
        assert code == 403
        code, _ = control(workshop.url, "GET", "/workshop/status", workshop.b.token)
        assert code == 403  # a learner's token does not read the instructor's view

    def test_the_workshop_sandbox_mode_uses_the_learners_connection_file(
        self, workshop: Workshop, tmp_path: Path
    ) -> None:
        """open_sandbox("workshop") with Ada's connection file works in Ada's account and moves Ada's clock only."""
        write_connection_files(tmp_path / "c", workshop.url, "us-east-1", [workshop.a, workshop.b])
        with WorkshopSandbox(connection=tmp_path / "c" / "ada.json") as sb:
            sb.client("ecs").create_cluster(clusterName="via-mode")
            before_b = workshop.app.emulators["bob"].clock.now()
            sb.advance(30)
            assert workshop.app.emulators["bob"].clock.now() == before_b
            assert sb.account_id == workshop.a.account_id
            assert sb.exports()["AWS_ACCESS_KEY_ID"] == workshop.a.access_key_id
        assert len(workshop.client(workshop.a, "ecs").list_clusters()["clusterArns"]) == 1
        assert (tmp_path / "c" / "ada.json").stat().st_mode & 0o077 == 0


class TestProgress:
    def test_events_are_recorded_under_the_tokens_learner(self, workshop: Workshop) -> None:
        """A posted event is stored for the learner whose token sent it, whatever the body claims."""
        reporter = ProgressReporter(workshop.url, workshop.b.token)
        assert reporter.send("check", "nginx-alb", "cluster-created", "passed")
        code, _ = control(
            workshop.url,
            "POST",
            "/workshop/progress",
            workshop.b.token,
            {
                "kind": "hint",
                "lab": "nginx-alb",
                "checkpoint": "x",
                "learner": "ada",
                "at": "2026-01-01T00:00:00+00:00",
            },
        )
        assert code == 200
        code, answer = control(workshop.url, "GET", "/workshop/progress", "teacher")
        assert code == 200
        assert [e["learner"] for e in answer["events"]] == ["bob", "bob"]
        assert answer["events"][0]["status"] == "passed"

    def test_open_lab_in_workshop_mode_posts_the_learners_progress(
        self, workshop: Workshop, tmp_path: Path
    ) -> None:
        """open_lab, a check, a hint and a catch-up in Ada's workshop sandbox become Ada's events, in order."""
        import labkit

        write_connection_files(tmp_path / "c", workshop.url, "us-east-1", [workshop.a, workshop.b])
        with labkit.open_lab("nginx-alb", mode="workshop", connection=tmp_path / "c" / "ada.json") as lab:
            lab.check("security-groups-chained", display=False)
            lab.hint("security-groups-chained")
            lab.catch_up(to="security-groups-chained")
        events = workshop.app.events.read()
        assert [(e["learner"], e["kind"]) for e in events] == [
            ("ada", "open"),
            ("ada", "check"),
            ("ada", "hint"),
            ("ada", "catch-up"),
        ]
        assert events[1]["status"] == "failed"

    def test_a_bad_event_or_token_is_refused(self, workshop: Workshop) -> None:
        """An event with an unknown kind is a 400; a missing token a 403; the reporter returns False."""
        code, answer = control(
            workshop.url, "POST", "/workshop/progress", workshop.a.token, {"kind": "boast", "lab": "x"}
        )
        assert code == 400
        assert "kind" in answer["error"]
        assert not ProgressReporter(workshop.url, "wrong").send("open", "nginx-alb")

    def test_an_unreachable_workshop_never_breaks_the_learner(self) -> None:
        """Posting to a port where nothing listens returns False and counts the failure."""
        reporter = ProgressReporter("http://127.0.0.1:9", "t", timeout=1)
        assert reporter.send("open", "nginx-alb") is False
        assert reporter.failures == 1


class TestRoster:
    def test_a_roster_reads_ids_and_names(self, tmp_path: Path) -> None:
        """A CSV with id and name columns gives learners in order; a missing name is the id."""
        path = tmp_path / "r.csv"
        path.write_text("id,name\nada,Ada Lovelace\nbob,\n")
        assert [(x.id, x.name) for x in read_roster(path)] == [("ada", "Ada Lovelace"), ("bob", "bob")]

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("name\nAda\n", "needs an `id` column"),
            ("id\nada\nada\n", "appears twice"),
            ("id\n../x\n", "must be letters"),
        ],
    )
    def test_a_bad_roster_is_refused_with_the_line(self, tmp_path: Path, text: str, problem: str) -> None:
        """A roster without ids, with a repeated id or an id unsafe as a file name is an error saying so."""
        path = tmp_path / "r.csv"
        path.write_text(text)
        with pytest.raises(RosterError, match=problem):
            read_roster(path)
