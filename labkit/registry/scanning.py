"""Simulated basic image scanning: findings derived from the package lists inside an image's layers.

This is not a vulnerability scanner. It reads the OS package databases an image carries
(`var/lib/dpkg/status` for Debian and Ubuntu, `lib/apk/db/installed` for Alpine) and reports the
packages whose versions are in a small table of well-known vulnerabilities (Heartbleed and two
others, with their real CVE ids, severities and fixed versions). Every finding's description and
every scan status say "simulated by labkit". An image with no package list (a `FROM scratch`
image such as the ones `labkit.images.build_oci_image` makes) has no findings.
"""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "KNOWN_VULNERABILITIES",
    "SIMULATED_NOTE",
    "Vulnerability",
    "findings_for_layers",
    "installed_packages",
]

SIMULATED_NOTE = (
    "Findings are simulated by labkit from the image's OS package lists (dpkg, apk) and a small table "
    "of well-known vulnerabilities; this is not a real vulnerability scan."
)

_DPKG = "var/lib/dpkg/status"
_APK = "lib/apk/db/installed"


@dataclass(frozen=True)
class Vulnerability:
    """A known vulnerability: the packages it is in, the versions from and before which it applies."""

    cve: str
    severity: str
    packages: tuple[str, ...]
    introduced: str
    fixed: str
    summary: str


KNOWN_VULNERABILITIES: tuple[Vulnerability, ...] = (
    Vulnerability(
        "CVE-2014-0160",
        "HIGH",
        ("openssl", "libssl1.0.0", "libssl"),
        "1.0.1",
        "1.0.1g",
        "Heartbleed: the TLS heartbeat extension reads past a buffer and leaks process memory.",
    ),
    Vulnerability(
        "CVE-2021-3711",
        "CRITICAL",
        ("openssl", "libssl1.1", "libssl"),
        "1.1.1",
        "1.1.1l",
        "SM2 decryption can overflow a buffer by up to 62 bytes.",
    ),
    Vulnerability(
        "CVE-2018-25032",
        "HIGH",
        ("zlib", "zlib1g"),
        "1.2.0",
        "1.2.12",
        "Compressing some inputs corrupts memory when the input has many distant matches.",
    ),
)


def _upstream(version: str) -> str:
    """The upstream part of a Debian or Alpine version: no epoch, no revision, no `.dfsg`/`-rN` suffix."""
    version = version.split(":", 1)[-1]
    version = re.split(r"-(?=[^-]*$)", version)[0] if "-" in version else version
    return re.sub(r"[.+~]dfsg.*$", "", version)


def _key(version: str) -> tuple[tuple[int, str], ...]:
    return tuple((int(n), "") if n.isdigit() else (-1, n) for n in re.findall(r"\d+|[a-z]+", version.lower()))


def _affected(vulnerability: Vulnerability, version: str) -> bool:
    upstream = _key(_upstream(version))
    return _key(vulnerability.introduced) <= upstream < _key(vulnerability.fixed)


def _packages_in(name: str, text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    if name.endswith(_DPKG):
        for stanza in text.split("\n\n"):
            fields = dict(re.findall(r"^([A-Za-z-]+): ?(.*)$", stanza, re.MULTILINE))
            if "Package" in fields and "Version" in fields:
                found[fields["Package"]] = fields["Version"]
    else:
        for stanza in text.split("\n\n"):
            fields = dict(re.findall(r"^([A-Z]):(.*)$", stanza, re.MULTILINE))
            if "P" in fields and "V" in fields:
                found[fields["P"]] = fields["V"]
    return found


def installed_packages(layers: Iterable[bytes]) -> dict[str, str]:
    """The OS packages (name -> version) the image's layers install, the top layer winning."""
    packages: dict[str, str] = {}
    for blob in layers:
        data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        try:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
                for member in tar.getmembers():
                    name = member.name.lstrip("./")
                    if member.isfile() and name in (_DPKG, _APK):
                        handle = tar.extractfile(member)
                        if handle is not None:
                            packages.update(_packages_in(name, handle.read().decode(errors="replace")))
        except (tarfile.TarError, OSError):
            continue  # not a tar layer (an artifact): nothing to read
    return packages


def findings_for_layers(layers: Iterable[bytes]) -> list[dict[str, Any]]:
    """ECR `ImageScanFinding`s for the known vulnerabilities of the image's packages (simulated)."""
    findings: list[dict[str, Any]] = []
    for package, version in sorted(installed_packages(layers).items()):
        for vulnerability in KNOWN_VULNERABILITIES:
            if package in vulnerability.packages and _affected(vulnerability, version):
                findings.append(
                    {
                        "name": vulnerability.cve,
                        "description": f"Simulated by labkit: {vulnerability.summary} "
                        f"{package} {version} is affected; fixed in {vulnerability.fixed}.",
                        "uri": f"https://nvd.nist.gov/vuln/detail/{vulnerability.cve}",
                        "severity": vulnerability.severity,
                        "attributes": [
                            {"key": "package_name", "value": package},
                            {"key": "package_version", "value": version},
                            {"key": "simulated_by", "value": "labkit"},
                        ],
                    }
                )
    return findings
