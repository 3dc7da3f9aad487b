"""`labkit sandbox registry` and the push flow of the README, with the AWS CLI and skopeo, as a user types it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from labkit.images import build_oci_image
from tests.conftest import run_labkit

pytestmark = pytest.mark.slow


def test_registry_without_a_server_is_one_line() -> None:
    """With no server, `labkit sandbox registry` exits 1 with the one-line hint."""
    done = run_labkit("sandbox", "registry")
    assert done.returncode == 1
    assert done.stderr.startswith("labkit: no sandbox server is running")


@pytest.mark.skipif(
    shutil.which("skopeo") is None, reason="skopeo is not installed (Debian package `skopeo`)"
)
def test_aws_cli_login_and_skopeo_push(tmp_path: Path) -> None:
    """create-repository, get-login-password | skopeo login, skopeo copy; describe-images shows skopeo's digest."""
    assert run_labkit("sandbox", "start", "--clock", "manual").returncode == 0
    info = json.loads(run_labkit("sandbox", "registry", "--json").stdout)
    host = info["registry_host"]
    assert host.startswith("127.0.0.1:")
    text = run_labkit("sandbox", "registry").stdout
    assert f"registry at {host}" in text
    assert "skopeo login" in text
    exports = json.loads(run_labkit("sandbox", "env", "--json").stdout)
    env = {k: v for k, v in os.environ.items() if k not in exports or exports[k] is not None}
    env.update({k: v for k, v in exports.items() if v is not None})
    env["REGISTRY_AUTH_FILE"] = str(tmp_path / "auth.json")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, input=stdin, capture_output=True, text=True, env=env, timeout=120, check=False
        )

    created = run("aws", "ecr", "create-repository", "--repository-name", "web")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["repository"]["repositoryUri"].endswith(".amazonaws.com/web")
    password = run("aws", "ecr", "get-login-password")
    assert password.returncode == 0, password.stderr
    login = run(
        "skopeo",
        "login",
        "--username",
        "AWS",
        "--password-stdin",
        "--tls-verify=false",
        host,
        stdin=password.stdout,
    )
    assert login.returncode == 0, login.stderr
    image = build_oci_image(tmp_path / "layout", files={"index.html": "hello\n"}, tag="v1")
    digest_file = tmp_path / "digest"
    pushed = run(
        "skopeo", "copy", "--dest-tls-verify=false", "--digestfile", str(digest_file),
        f"oci:{image.path}:v1", f"docker://{host}/web:v1",
    )  # fmt: skip
    assert pushed.returncode == 0, pushed.stderr
    described = run("aws", "ecr", "describe-images", "--repository-name", "web")
    detail = json.loads(described.stdout)["imageDetails"][0]
    assert detail["imageDigest"] == digest_file.read_text().strip() == image.manifest_digest
    assert detail["imageTags"] == ["v1"]
