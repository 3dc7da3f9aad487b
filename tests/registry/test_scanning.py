"""Simulated image scans: deterministic findings from an image's package lists, clearly marked."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from labkit.images import build_oci_image
from labkit.registry.client import client_for
from labkit.sandbox.embedded import EmbeddedSandbox

DPKG = """Package: zlib1g
Status: install ok installed
Version: 1:1.2.11.dfsg-2

Package: openssl
Status: install ok installed
Version: 1.1.1k-1+deb11u1

Package: bash
Version: 5.1-2
"""


def test_scan_on_push_reports_simulated_findings(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """scanOnPush: after a few seconds the scan is COMPLETE with the known CVEs of the image's old packages."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    image = build_oci_image(tmp_path / "l", files={"var/lib/dpkg/status": DPKG}, tag="old")
    client_for(sandbox).push_layout(image.path, "app", "old")
    first = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "old"})
    assert first["imageScanStatus"]["status"] == "IN_PROGRESS"
    sandbox.advance(10)
    found = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "old"})
    assert found["imageScanStatus"]["status"] == "COMPLETE"
    assert "simulated by labkit" in found["imageScanStatus"]["description"]
    findings = found["imageScanFindings"]["findings"]
    assert sorted(f["name"] for f in findings) == ["CVE-2018-25032", "CVE-2021-3711"]
    assert all(f["description"].startswith("Simulated by labkit") for f in findings)
    assert found["imageScanFindings"]["findingSeverityCounts"] == {"CRITICAL": 1, "HIGH": 1}
    detail = ecr.describe_images(repositoryName="app")["imageDetails"][0]
    assert detail["imageScanFindingsSummary"]["findingSeverityCounts"] == {"CRITICAL": 1, "HIGH": 1}


def test_start_image_scan_once_a_day(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """An image without scanOnPush has no scan until start_image_scan; a second scan the same day is refused."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app")
    image = build_oci_image(tmp_path / "l", files={"app.py": "print(1)"}, tag="v1")
    client_for(sandbox).push_layout(image.path, "app", "v1")
    with pytest.raises(ClientError) as none_yet:
        ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
    assert none_yet.value.response["Error"]["Code"] == "ScanNotFoundException"
    assert (
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})["imageScanStatus"]["status"]
        == "IN_PROGRESS"
    )
    sandbox.advance(10)
    done = ecr.describe_image_scan_findings(repositoryName="app", imageId={"imageTag": "v1"})
    assert done["imageScanFindings"]["findings"] == []
    with pytest.raises(ClientError) as again:
        ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})
    assert again.value.response["Error"]["Code"] == "LimitExceededException"
    sandbox.advance(86400)
    ecr.start_image_scan(repositoryName="app", imageId={"imageTag": "v1"})


def test_fixed_versions_have_no_findings() -> None:
    """Versions at or past the fix (zlib 1.2.13, openssl 1.1.1w, an apk database) give nothing."""
    import gzip
    import io
    import tarfile

    from labkit.registry.scanning import findings_for_layers

    def layer(name: str, text: str) -> bytes:
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return gzip.compress(raw.getvalue())

    fixed = "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\n\nPackage: openssl\nVersion: 1.1.1w-0+deb11u1\n"
    assert findings_for_layers([layer("var/lib/dpkg/status", fixed)]) == []
    alpine = "P:openssl\nV:1.0.1e-r0\n\nP:zlib\nV:1.2.13-r0\n"
    assert [f["name"] for f in findings_for_layers([layer("lib/apk/db/installed", alpine)])] == [
        "CVE-2014-0160"
    ]


def test_a_registry_scanning_rule_scans_on_push(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """put_registry_scanning_configuration with SCAN_ON_PUSH for `web*` scans pushes to `web-app` only."""
    ecr = sandbox.client("ecr")
    ecr.put_registry_scanning_configuration(
        scanType="BASIC",
        rules=[
            {
                "scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "web*", "filterType": "WILDCARD"}],
            }
        ],
    )
    client = client_for(sandbox)
    image = build_oci_image(tmp_path / "l", files={"f": "x"}, tag="v1")
    for name in ("web-app", "other"):
        ecr.create_repository(repositoryName=name)
        client.push_layout(image.path, name, "v1")
    sandbox.advance(10)
    done = ecr.describe_image_scan_findings(repositoryName="web-app", imageId={"imageTag": "v1"})
    assert done["imageScanStatus"]["status"] == "COMPLETE"
    with pytest.raises(ClientError) as unscanned:
        ecr.describe_image_scan_findings(repositoryName="other", imageId={"imageTag": "v1"})
    assert unscanned.value.response["Error"]["Code"] == "ScanNotFoundException"
