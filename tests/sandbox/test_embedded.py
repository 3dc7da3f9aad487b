"""The embedded sandbox: an emulated account served from the test's own process."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

import labkit
from labkit.sandbox.embedded import EmbeddedSandbox
from labkit.sandbox.emulator import TOKEN_HEADER


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class TestLifeCycle:
    def test_open_sandbox_defaults_to_an_embedded_account_that_answers(self) -> None:
        """open_sandbox() with no argument gives an embedded sandbox whose ECS client works."""
        with labkit.open_sandbox() as sb:
            assert sb.mode == "embedded"
            assert sb.endpoint_url is not None
            assert sb.endpoint_url.startswith("http://127.0.0.1:")
            ecs = sb.client("ecs")
            ecs.create_cluster(clusterName="first")
            assert ecs.list_clusters()["clusterArns"] == [
                f"arn:aws:ecs:{sb.region}:{sb.account_id}:cluster/first"
            ]

    def test_sandbox_describes_itself_without_secrets(self, sandbox: EmbeddedSandbox) -> None:
        """describe() names mode, account, region and session, and no credential or token."""
        info = sandbox.describe()
        assert info["mode"] == "embedded"
        assert len(info["account_id"]) == 12
        assert info["account_id"].isdigit()
        assert info["session_id"].startswith("lk-")
        text = repr(info)
        assert sandbox.emulator.token not in text
        assert "SECRET" not in text.upper()

    def test_close_frees_the_port_and_is_idempotent(self) -> None:
        """After close() the port can be bound again, and a second close() does nothing."""
        sb = labkit.open_sandbox(clock="manual")
        assert isinstance(sb, EmbeddedSandbox)
        port = sb.port
        assert not _port_free(port)
        sb.close()
        sb.close()
        assert _port_free(port)

    def test_close_forgets_the_account(self) -> None:
        """What a closed sandbox held is gone, so a long-lived kernel does not accumulate state."""
        from moto.ecs.models import ecs_backends

        with labkit.open_sandbox(clock="manual") as sb:
            sb.client("ecs").create_cluster(clusterName="temporary")
            account = sb.account_id
            assert account in ecs_backends
        assert account not in ecs_backends


class TestIsolation:
    def test_two_embedded_sandboxes_share_no_state(self) -> None:
        """A cluster made in one sandbox is not seen in another open at the same time."""
        with labkit.open_sandbox(clock="manual") as one, labkit.open_sandbox(clock="manual") as two:
            assert one.account_id != two.account_id
            assert one.endpoint_url != two.endpoint_url
            one.client("ecs").create_cluster(clusterName="only-in-one")
            assert len(one.client("ecs").list_clusters()["clusterArns"]) == 1
            assert two.client("ecs").list_clusters()["clusterArns"] == []

    def test_a_client_cannot_choose_another_account_by_header(self, sandbox: EmbeddedSandbox) -> None:
        """An x-moto-account-id header sent by a client is overwritten with the sandbox's account."""
        with labkit.open_sandbox(clock="manual") as other:
            other.client("ecs").create_cluster(clusterName="private")
            ecs = sandbox.client("ecs")

            def sneak(request: object, **_: object) -> None:
                request.headers["x-moto-account-id"] = other.account_id  # type: ignore[attr-defined]

            ecs.meta.events.register("before-sign.ecs.ListClusters", sneak)
            assert ecs.list_clusters()["clusterArns"] == []

    def test_reset_empties_only_this_sandbox(self, sandbox: EmbeddedSandbox) -> None:
        """reset() forgets this sandbox's resources and leaves another sandbox's alone."""
        with labkit.open_sandbox(clock="manual") as other:
            other.client("ecs").create_cluster(clusterName="kept")
            sandbox.client("ecs").create_cluster(clusterName="forgotten")
            sandbox.reset()
            assert sandbox.client("ecs").list_clusters()["clusterArns"] == []
            assert len(other.client("ecs").list_clusters()["clusterArns"]) == 1


class TestClock:
    def test_manual_clock_moves_only_when_advanced(self, sandbox: EmbeddedSandbox) -> None:
        """A manual clock stands still in real time and jumps by exactly what advance() says."""
        before = sandbox.now()
        time.sleep(0.05)
        assert sandbox.now() == before
        after = sandbox.advance(3600)
        assert (after - before).total_seconds() == 3600

    def test_moto_stamps_resources_with_the_sandbox_clock(self, sandbox: EmbeddedSandbox) -> None:
        """A service created after advancing one day carries the sandbox's time, not the wall clock's."""
        ecs = sandbox.client("ecs")
        ecs.create_cluster(clusterName="c")
        ecs.register_task_definition(
            family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}]
        )
        expected = sandbox.advance(86400)
        service = ecs.create_service(cluster="c", serviceName="web", taskDefinition="web", desiredCount=0)
        created = service["service"]["deployments"][0]["createdAt"]
        assert abs((created - expected).total_seconds()) < 1

    def test_each_sandbox_has_its_own_clock(self) -> None:
        """Advancing one sandbox's clock does not move another's."""
        with labkit.open_sandbox(clock="manual") as one, labkit.open_sandbox(clock="manual") as two:
            start = two.now()
            one.advance(1000)
            assert two.now() == start

    def test_realtime_clock_runs_faster_than_the_wall(self) -> None:
        """A realtime clock at speed 100 moves about 100 emulated seconds per real second."""
        with labkit.open_sandbox(clock="realtime", speed=100) as sb:
            start = sb.now()
            time.sleep(0.2)
            elapsed = (sb.now() - start).total_seconds()
            assert elapsed >= 15


class TestEmulatorBoundaries:
    def test_moto_api_is_not_reachable(self, sandbox: EmbeddedSandbox) -> None:
        """moto's unauthenticated /moto-api/ endpoints (reset, state) answer 404 to a client."""
        sandbox.client("ecs").create_cluster(clusterName="survives")
        for path in ("/moto-api/reset", "/moto-api/", "/moto-api/data.json"):
            request = urllib.request.Request(sandbox.endpoint_url + path, method="POST", data=b"")
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(request, timeout=5)
            assert caught.value.code == 404
        assert len(sandbox.client("ecs").list_clusters()["clusterArns"]) == 1

    def test_control_endpoints_need_the_token(self, sandbox: EmbeddedSandbox) -> None:
        """labkit's own reset is refused without the sandbox's token and works with it."""
        sandbox.client("ecs").create_cluster(clusterName="guarded")
        url = sandbox.endpoint_url + "/_labkit/reset"
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"{}"), timeout=5)
        assert caught.value.code == 403
        assert len(sandbox.client("ecs").list_clusters()["clusterArns"]) == 1
        request = urllib.request.Request(
            url, method="POST", data=b"{}", headers={TOKEN_HEADER: sandbox.emulator.token}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert sandbox.client("ecs").list_clusters()["clusterArns"] == []

    def test_a_moto_crash_reaches_the_client_as_an_aws_error(self, sandbox: EmbeddedSandbox) -> None:
        """StartTask with only task-level memory crashes moto 5.2; the client gets a labkit-fault server error.

        (In the sandbox's region the simulator runs StartTask; another region's ECS is moto's own.)
        """
        ecs = sandbox.client("ecs", region_name="eu-west-1")
        ecs.create_cluster(clusterName="c")
        ecs.register_task_definition(
            family="task-memory-only",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "app", "image": "nginx"}],
        )
        with pytest.raises(ClientError) as caught:
            ecs.start_task(
                cluster="c",
                taskDefinition="task-memory-only",
                containerInstances=[f"arn:aws:ecs:eu-west-1:{sandbox.account_id}:container-instance/c/x"],
            )
        error = caught.value.response["Error"]
        # A crash is not a limit of the emulator: it is a labkit fault, with the exception's type.
        assert error["Code"] == "ServerException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert "labkit fault" in error["Message"]
        assert "StartTask" in error["Message"]
        assert "limit of the sandbox" not in error["Message"]
        assert "Traceback" not in error["Message"]
        # The account still answers.
        assert ecs.list_clusters()["clusterArns"]

    def test_an_operation_moto_lacks_is_not_implemented(self, sandbox: EmbeddedSandbox) -> None:
        """An ECS operation the emulator does not have answers NotImplemented, not a server error."""
        with pytest.raises(ClientError) as caught:
            sandbox.client("ecs").update_container_agent(cluster="default", containerInstance="x")
        assert caught.value.response["Error"]["Code"] == "NotImplemented"


class TestPorts:
    def test_a_busy_port_is_a_clear_error_at_once(self) -> None:
        """Asking for a port that is taken raises PortInUseError naming it, well within 10 seconds."""
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            started = time.monotonic()
            with pytest.raises(labkit.PortInUseError) as caught:
                labkit.open_sandbox(clock="manual", port=port)
            assert time.monotonic() - started < 10
            assert str(port) in str(caught.value)

    def test_the_emulator_binds_loopback_only(self, sandbox: EmbeddedSandbox) -> None:
        """The server socket is bound to 127.0.0.1, not to every interface."""
        assert sandbox._server._server.server_address[0] == "127.0.0.1"

    def test_unknown_mode_names_the_known_ones(self) -> None:
        """A mistyped mode is an UnknownModeError listing embedded, server, aws and workshop."""
        with pytest.raises(labkit.UnknownModeError) as caught:
            labkit.open_sandbox("embeded")
        assert caught.value.known == ["aws", "embedded", "server", "workshop"]
