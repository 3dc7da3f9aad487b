"""The contract run: moto's own ECS, ELBv2 and Auto Scaling tests against a labkit server sandbox.

moto's tests run against any endpoint in its server mode (`TEST_SERVER_MODE`). This harness starts
one `server` sandbox for the whole run, under moto's default account id (`--account-id`, the only
use of it), points moto's tests at it, and replaces their reset call (moto's unauthenticated
`/moto-api/reset`, which a sandbox answers with 404) by labkit's token-guarded control endpoint.
Tests listed in `deliberate_differences.toml` are where labkit follows AWS and moto does not: they
are strict xfails. Everything else must pass. See ARCHITECTURE.md, "The contract run", and
`tests/contract/README.md`.

The run is marked `contract` and left out of the default run (`tests/conftest.py` does not collect
this folder unless `-m` names `contract`): `python -m pytest -m contract`.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest

from labkit.sandbox.control import ControlClient
from labkit.sandbox.server import ServerInfo, start_server, stop_server

HERE = Path(__file__).resolve().parent
MOTO_TESTS = HERE / "moto_tests"
DIFFERENCES = HERE / "deliberate_differences.toml"
#: moto's default account: its tests build ARNs and compare them with this id.
MOTO_DEFAULT_ACCOUNT = "123456789012"
#: The region moto's tests mostly use; other regions are served by the same sandbox.
REGION = "us-east-1"

#: The markers moto's tests use (moto's pyproject.toml), registered for `--strict-markers`.
MOTO_MARKERS = (
    "network: requires network connection",
    "requires_docker: requires running docker",
    "aws_verified: Verified against AWS, and should be able to run against AWS",
    "requires_clean_slate: requires a clean slate, so no parallel testing",
)

_server: ServerInfo | None = None
_state_folder: tempfile.TemporaryDirectory[str] | None = None


def load_differences(path: Path = DIFFERENCES) -> dict[str, dict[str, str]]:
    """Read the deliberate differences: test id (relative to `moto_tests/`) -> `why` and `aws`."""
    with path.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    tests: dict[str, dict[str, str]] = data.get("tests", {})
    for test_id, entry in tests.items():
        missing = {"why", "aws"} - set(entry)
        if missing:
            raise pytest.UsageError(f"{path.name}: {test_id} lacks {', '.join(sorted(missing))}")
        if not str(entry["aws"]).startswith("https://docs.aws.amazon.com/"):
            raise pytest.UsageError(f"{path.name}: {test_id}: `aws` must be an AWS documentation URL")
    return tests


def load_known(path: Path = DIFFERENCES) -> dict[str, dict[str, str]]:
    """Read the known failures that are not (yet) deliberate: test id -> `why` and `kind` + `source`.

    `kind = "observed"`: labkit answers as AWS was seen to answer (`source`: the public report), but no
    AWS documentation page settles it, so it is not listed as a deliberate difference.
    `kind = "gap"`: labkit is wrong there and the fix is not done (`source`: where it is tracked).
    Both run as strict xfails too, so a fix that makes one pass fails the run until its entry goes.
    """
    with path.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)
    known: dict[str, dict[str, str]] = data.get("known", {})
    for test_id, entry in known.items():
        missing = {"why", "kind", "source"} - set(entry)
        if missing:
            raise pytest.UsageError(f"{path.name}: {test_id} lacks {', '.join(sorted(missing))}")
        if entry["kind"] not in ("observed", "gap"):
            raise pytest.UsageError(f"{path.name}: {test_id}: `kind` must be observed or gap")
        if test_id in data.get("tests", {}):
            raise pytest.UsageError(f"{path.name}: {test_id} is both deliberate and known")
    return known


def pytest_configure(config: pytest.Config) -> None:
    """Start the sandbox server before moto's test modules are imported (their decorators read the endpoint)."""
    global _server, _state_folder
    for line in MOTO_MARKERS:
        config.addinivalue_line("markers", line)
    _state_folder = tempfile.TemporaryDirectory(prefix="labkit-contract-")
    _server = start_server(
        clock="manual",
        region=REGION,
        account_id=MOTO_DEFAULT_ACCOUNT,
        path=Path(_state_folder.name) / "server.json",
        timeout=120,
    )
    os.environ["TEST_SERVER_MODE"] = "true"
    os.environ["TEST_SERVER_MODE_ENDPOINT"] = _server.endpoint_url
    # moto's docker-only tests need a Docker engine and the network: skipped, with moto's reason.
    os.environ["TESTS_SKIP_REQUIRES_DOCKER"] = "true"
    from moto import settings
    from moto.core.models import ServerModeMockAWS

    # moto.settings reads the variable once, when first imported (labkit may have imported it).
    settings.TEST_SERVER_MODE = True
    settings.TEST_DECORATOR_MODE = False
    control = ControlClient(_server.endpoint_url, _server.token, timeout=60)

    def reset_through_labkit(self: ServerModeMockAWS) -> None:
        # In place of moto's `POST /moto-api/reset`: the sandbox's guarded reset, with its token.
        control.reset()

    ServerModeMockAWS.reset = reset_through_labkit  # type: ignore[method-assign]
    # A boto3 waiter's pause moves the sandbox's manual clock instead of the wall clock: the run stays
    # deterministic, and what AWS does over a waiter's minutes (targets turning healthy) happens.
    import botocore.waiter

    botocore.waiter.time = types.SimpleNamespace(sleep=lambda seconds: control.advance(float(seconds)))  # type: ignore[assignment]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the sandbox server."""
    global _server, _state_folder
    if _server is not None and _state_folder is not None:
        stop_server(Path(_state_folder.name) / "server.json")
        _state_folder.cleanup()
    _server = _state_folder = None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark moto's tests `contract`, and the deliberate differences strict xfails."""
    differences = load_differences()
    known = load_known()
    seen: set[str] = set()
    for item in items:
        path = Path(str(item.path))
        if not path.is_relative_to(MOTO_TESTS):
            continue
        item.add_marker(pytest.mark.contract)
        test_id = "::".join([path.relative_to(MOTO_TESTS).as_posix(), *item.nodeid.split("::")[1:]])
        entry = differences.get(test_id)
        if entry is not None:
            seen.add(test_id)
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"labkit follows AWS: {entry['why']}"))
        elif test_id in known:
            seen.add(test_id)
            what = known[test_id]
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"known ({what['kind']}): {what['why']}"))
    collected_all = not config.args or all(Path(a).resolve() in (HERE, HERE.parent) for a in config.args)
    stale = sorted((set(differences) | set(known)) - seen)
    if stale and collected_all:
        raise pytest.UsageError(f"{DIFFERENCES.name} names tests that do not exist: {', '.join(stale)}")
