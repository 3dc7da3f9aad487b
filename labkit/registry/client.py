"""A small registry client: push an OCI image layout, pull a manifest or blob, list tags, log in.

skopeo (`skopeo copy oci:DIR:TAG docker://HOST/REPO:TAG`) is the real client the labs and tests
use; this one does the same few calls in Python for when skopeo is not installed, and for a
lab's reference steps. It speaks the OCI Distribution API: `HEAD` a blob, upload what is missing
(`POST` then `PUT ?digest=`), then `PUT` the manifest; the registry's answer carries the digest.
An emulated sandbox's registry is plain HTTP on loopback (`insecure=True`); any other host is
reached over HTTPS only.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.images.build import read_oci_layout
from labkit.sandbox.guards import is_loopback_url

__all__ = [
    "RegistryClient",
    "RegistryRequestError",
    "client_for",
    "credentials_from_token",
    "push_layout_via_api",
]

_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


class RegistryRequestError(LabkitError):
    """The registry refused a request; carries the HTTP status and the registry's error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"the registry refused the request ({status} {code}): {message}")
        self.status = status
        self.code = code
        self.registry_message = message


def credentials_from_token(authorization_token: str) -> tuple[str, str]:
    """Split an ECR `authorizationToken` (base64 of `AWS:<password>`) into user name and password."""
    username, _, password = base64.b64decode(authorization_token).decode().partition(":")
    return username, password


@dataclass
class RegistryClient:
    """A client of one registry host with Basic credentials (ECR: user `AWS`, the token's password)."""

    host: str
    username: str
    password: str
    insecure: bool = False

    @property
    def base_url(self) -> str:
        """`http://HOST` for an insecure (loopback) registry, else `https://HOST`."""
        return f"{'http' if self.insecure else 'https'}://{self.host}"

    def _request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if url.startswith("http://") and not is_loopback_url(url):
            raise LabkitError(f"refused to send registry credentials over plain HTTP to {url}")
        auth = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("Authorization", f"Basic {auth}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=60) as response:
                return int(response.status), dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            data = exc.read()
            code, message = "UNKNOWN", data.decode(errors="replace")
            try:
                first = json.loads(data)["errors"][0]
                code, message = str(first["code"]), str(first["message"])
            except (ValueError, KeyError, IndexError, TypeError):
                pass
            raise RegistryRequestError(int(exc.code), code, message) from None

    def ping(self) -> None:
        """Check the credentials (`GET /v2/`); raises `RegistryRequestError` when they are refused."""
        self._request("GET", "/v2/")

    def has_blob(self, repository: str, digest: str) -> bool:
        """True when the repository already holds the blob."""
        try:
            self._request("HEAD", f"/v2/{repository}/blobs/{digest}")
        except RegistryRequestError as exc:
            if exc.status == 404 and exc.code in ("BLOB_UNKNOWN", "UNKNOWN"):
                return False
            raise
        return True

    def upload_blob(self, repository: str, digest: str, data: bytes) -> None:
        """Upload one blob: start an upload session, then finish it with the whole content."""
        _, headers, _ = self._request("POST", f"/v2/{repository}/blobs/uploads/", b"")
        location = urllib.parse.urljoin(self.base_url + "/", headers.get("Location", ""))
        separator = "&" if "?" in location else "?"
        self._request(
            "PUT",
            f"{location}{separator}digest={urllib.parse.quote(digest)}",
            data,
            {"Content-Type": "application/octet-stream"},
        )

    def push_manifest(self, repository: str, reference: str, manifest: bytes, media_type: str) -> str:
        """Put a manifest under a tag (or digest) and return the digest the registry answers with."""
        _, headers, _ = self._request(
            "PUT", f"/v2/{repository}/manifests/{reference}", manifest, {"Content-Type": media_type}
        )
        return headers.get("Docker-Content-Digest", "")

    def push_layout(
        self, layout: str | Path, repository: str, tag: str, *, source_tag: str | None = None
    ) -> str:
        """Push the image tagged `source_tag` (default `tag`) of an OCI layout as `repository:tag`; return its digest.

        Raises `OciLayoutError` for a bad layout and `RegistryRequestError` when the registry refuses.
        """
        image = read_oci_layout(layout, source_tag or tag)
        for digest in [image.config_digest, *(str(layer["digest"]) for layer in image.layers)]:
            if not self.has_blob(repository, digest):
                self.upload_blob(repository, digest, image.blob(digest))
        return self.push_manifest(repository, tag, image.manifest, image.media_type)

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str, str]:
        """Pull a manifest: its exact bytes, media type and digest."""
        _, headers, body = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", headers={"Accept": _ACCEPT}
        )
        return body, headers.get("Content-Type", ""), headers.get("Docker-Content-Digest", "")

    def blob(self, repository: str, digest: str) -> bytes:
        """Pull a blob's bytes."""
        return self._request("GET", f"/v2/{repository}/blobs/{digest}")[2]

    def tags(self, repository: str) -> list[str]:
        """The repository's tags (`GET /v2/<name>/tags/list`)."""
        data: dict[str, Any] = json.loads(self._request("GET", f"/v2/{repository}/tags/list")[2])
        return [str(t) for t in data.get("tags") or []]


def client_for(sandbox: Any) -> RegistryClient:
    """A client of a sandbox's registry, logged in with a fresh token from `ecr get_authorization_token`."""
    token = sandbox.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    username, password = credentials_from_token(token)
    return RegistryClient(sandbox.registry_host, username, password, insecure=sandbox.registry_insecure)


def push_layout_via_api(
    ecr: Any, layout: str | Path, repository: str, tag: str, *, source_tag: str | None = None
) -> str:
    """Push an OCI layout's image with the ECR API alone (what the ECR proxy does); return its digest.

    `BatchCheckLayerAvailability` finds the blobs the repository lacks; each is sent with
    `InitiateLayerUpload`, `UploadLayerPart` (parts of at most `partSize` bytes) and
    `CompleteLayerUpload`; `PutImage` then stores the manifest. `ecr` is a boto3 ECR client.
    Raises `OciLayoutError` for a bad layout and botocore's `ClientError` when ECR refuses.
    """
    image = read_oci_layout(layout, source_tag or tag)
    digests = [image.config_digest, *(str(layer["digest"]) for layer in image.layers)]
    checked = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=digests)
    available = {x["layerDigest"] for x in checked["layers"] if x.get("layerAvailability") == "AVAILABLE"}
    for digest in digests:
        if digest in available:
            continue
        data = image.blob(digest)
        started = ecr.initiate_layer_upload(repositoryName=repository)
        upload, part = started["uploadId"], int(started["partSize"])
        for first in range(0, len(data), part):
            chunk = data[first : first + part]
            ecr.upload_layer_part(
                repositoryName=repository,
                uploadId=upload,
                partFirstByte=first,
                partLastByte=first + len(chunk) - 1,
                layerPartBlob=chunk,
            )
        ecr.complete_layer_upload(repositoryName=repository, uploadId=upload, layerDigests=[digest])
        available.add(digest)
    put = ecr.put_image(
        repositoryName=repository,
        imageManifest=image.manifest.decode(),
        imageManifestMediaType=image.media_type,
        imageTag=tag,
    )
    return str(put["image"]["imageId"]["imageDigest"])
