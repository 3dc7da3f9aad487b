"""OCI images built without a Docker engine: valid layouts, reproducible digests, readable back."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from labkit.images import OciLayoutError, build_oci_image, read_oci_layout


def test_a_built_image_is_a_content_addressed_oci_layout(tmp_path: Path) -> None:
    """index.json names the manifest; every blob is stored under its sha256; the layer holds the files."""
    image = build_oci_image(
        tmp_path / "l", files={"app/app.py": "print(1)\n"}, cmd=["python", "app.py"], workdir="/app",
        user="10001", exposed_ports=[8080], tag="v1",
    )  # fmt: skip
    index = json.loads((tmp_path / "l" / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.manifest_digest
    assert json.loads((tmp_path / "l" / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    config = image.config["config"]
    assert (config["Cmd"], config["WorkingDir"], config["User"], config["ExposedPorts"]) == (
        ["python", "app.py"], "/app", "10001", {"8080/tcp": {}},
    )  # fmt: skip
    layer = image.blob(image.layers[0]["digest"])
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(layer))) as tar:
        assert tar.extractfile("app/app.py").read() == b"print(1)\n"  # type: ignore[union-attr]
    assert image.config["rootfs"]["diff_ids"][0].startswith("sha256:")


def test_the_same_inputs_give_the_same_digest(tmp_path: Path) -> None:
    """Fixed timestamps make builds reproducible."""
    first = build_oci_image(tmp_path / "a", files={"f": "x"}, cmd=["x"])
    second = build_oci_image(tmp_path / "b", files={"f": "x"}, cmd=["x"])
    assert first.manifest_digest == second.manifest_digest


def test_a_base_image_is_extended(tmp_path: Path) -> None:
    """With base=, the base's layers come first and its config (env, user) is inherited."""
    base = build_oci_image(
        tmp_path / "base", files={"etc/os": "labkit"}, env={"LANG": "C.UTF-8"}, user="1000"
    )
    app = build_oci_image(
        tmp_path / "app", files={"app.py": "x"}, base=tmp_path / "base", cmd=["python", "app.py"]
    )
    assert [layer["digest"] for layer in app.layers][:1] == [base.layers[0]["digest"]]
    assert len(app.layers) == 2
    assert "LANG=C.UTF-8" in app.config["config"]["Env"]
    assert app.config["config"]["User"] == "1000"
    assert read_oci_layout(tmp_path / "app").manifest_digest == app.manifest_digest


def test_a_missing_tag_says_which_tags_exist(tmp_path: Path) -> None:
    """Reading a tag the layout lacks raises OciLayoutError listing its tags."""
    build_oci_image(tmp_path / "l", files={"f": "x"}, tag="v1")
    with pytest.raises(OciLayoutError, match="v1"):
        read_oci_layout(tmp_path / "l", "v2")
    with pytest.raises(ValueError, match="relative path"):
        build_oci_image(tmp_path / "l", files={"../escape": "x"})


@pytest.mark.skipif(
    shutil.which("skopeo") is None, reason="skopeo is not installed (Debian package `skopeo`)"
)
def test_skopeo_reads_the_layout(tmp_path: Path) -> None:
    """skopeo inspects the layout and reports the manifest digest labkit computed."""
    image = build_oci_image(tmp_path / "l", files={"f": "x"}, tag="v1")
    out = subprocess.run(
        ["skopeo", "inspect", f"oci:{image.path}:v1"], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout)["Digest"] == image.manifest_digest
