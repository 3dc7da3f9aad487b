"""moto.ecr: the ECR API of a sandbox account follows ECR; the registry's rules are in `labkit.registry`.

In a sandbox's account (one with registry state) these follow ECR; any other account gets moto's
own behaviour:

- `GetAuthorizationToken` mints a token the sandbox registry accepts, valid 12 hours of sandbox time;
- `PutImage` stores the image as a registry push does (digest of the manifest bytes, layers must
  be uploaded, tags move and leave the previous image untagged, IMMUTABLE refuses a moved tag);
- `StartImageScan` / `DescribeImageScanFindings` / `DescribeImages` report simulated basic scans;
- `DescribeImages` and `ListImages` apply `filter={'tagStatus': ...}` (moto ignores it);
- the ECR API's own layer push (`BatchCheckLayerAvailability`, `InitiateLayerUpload`,
  `UploadLayerPart`, `CompleteLayerUpload`, then `PutImage`) and `GetDownloadUrlForLayer` (a link to
  the sandbox registry, valid one hour of sandbox time without credentials) work on the same blobs;
- `PutLifecyclePolicy` validates the policy as ECR does and starts the hourly evaluation;
  `StartLifecyclePolicyPreview` / `GetLifecyclePolicyPreview` (missing in moto) work.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from labkit.registry import ecr, lifecycle
from labkit.sandbox.moto_seam.core import action_result, request_param, service_error
from labkit.sandbox.moto_seam.hooks import hook, uses

__all__ = ["image_exists_message", "new_image", "now", "set_image_size"]

_RESPONSE = "moto.ecr.responses.ECRResponse"

uses(
    "moto.ecr.models.ECRBackend",
    "_get_repository",
    ("self", "name", "registry_id"),
    why="a repository by name",
)
uses(
    "moto.ecr.models.Repository",
    "_get_image",
    ("self", "image_tag", "image_digest"),
    why="an image by tag or digest",
)
uses(
    "moto.ecr.models.Image",
    "__init__",
    (
        "self",
        "account_id",
        "tag",
        "manifest",
        "repository",
        "image_manifest_mediatype",
        "digest",
        "registry_id",
    ),
    why="a pushed image",
)
uses(
    "moto.ecr.exceptions",
    "ImageAlreadyExistsException",
    ("repository_name", "registry_id", "digest", "image_tag"),
    why="ECR's message",
)
uses("moto.ecr.exceptions", "LimitExceededException", (), why="a second scan within 24 hours")
uses(
    "moto.ecr.exceptions",
    "ScanNotFoundException",
    ("image_id", "repository_name", "registry_id"),
    why="no scan yet",
)
uses(
    "moto.ecr.exceptions",
    "LifecyclePolicyNotFoundException",
    ("repository_name", "registry_id"),
    why="no policy",
)

RegistryHandler = Callable[[Any, ecr.RegistryState, Callable[..., Any]], Any]


def _in_sandbox(handler: RegistryHandler) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(self: Any) -> Any:
            state = ecr.state_for(self.current_account)
            if state is None:
                return original(self)
            return handler(self, state, original)

        return wrapped

    return make


def _handler(name: str) -> Callable[[RegistryHandler], RegistryHandler]:
    """Record `handler` as the sandbox behaviour of the ECR response method `name`."""

    def record(handler: RegistryHandler) -> RegistryHandler:
        hook(_RESPONSE, name, ("self",), why="ECR's behaviour in a sandbox account")(_in_sandbox(handler))
        return handler

    return record


def _service_error(code: str, message: str) -> Exception:
    return service_error("moto.ecr", code, message)


def now() -> dt.datetime:
    """Now as moto sees it (the sandbox clock while a request is served), aware UTC."""
    from moto.core import utils

    return utils.utcnow().replace(tzinfo=dt.UTC)


_now = now


def _repository(ecr_backend: Any, name: str, registry_id: str | None) -> Any:
    return ecr_backend._get_repository(name, registry_id)


def _image(repository: Any, tag: str | None, digest: str | None) -> Any:
    return repository._get_image(tag, digest)


def new_image(
    account_id: str,
    tag: str | None,
    manifest: str,
    repository_name: str,
    media_type: str,
    digest: str,
    registry_id: str,
) -> Any:
    """A moto ECR image (not yet in its repository's list)."""
    from moto.ecr.models import Image

    untagged: Any = tag  # moto's Image takes None for an image pushed by digest only
    return Image(account_id, untagged, manifest, repository_name, media_type, digest, registry_id)


def set_image_size(image: Any, size: int | None) -> None:
    """Record the size ECR reports for a pushed image (its layers'; moto would measure the manifest)."""
    image._labkit_size = size


def image_exists_message(repository: Any, digest: str, tag: str) -> str:
    """ECR's message for pushing the same image and tag again."""
    from moto.ecr.exceptions import ImageAlreadyExistsException

    return str(ImageAlreadyExistsException(repository.name, repository.registry_id, digest, tag))


@hook(
    "moto.ecr.models.Image", "get_image_size_in_bytes", ("self",), why="a pushed image's size is its layers'"
)
def get_image_size_in_bytes(original: Callable[..., Any]) -> Callable[..., Any]:
    def handler(self: Any) -> int | None:
        size = getattr(self, "_labkit_size", None)
        return int(size) if size is not None else original(self)

    return handler


@_handler("get_authorization_token")
def get_authorization_token(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    registry_ids = request_param(self, "registryIds") or [self.current_account]
    data = []
    for registry_id in registry_ids:
        token, expires = state.mint_token(_now())
        data.append(
            {
                "authorizationToken": token,
                "expiresAt": expires,
                "proxyEndpoint": f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com",
            }
        )
    return action_result({"authorizationData": data})


@_handler("put_image")
def put_image(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    name = request_param(self, "repositoryName")
    repository = _repository(self.ecr_backend, name, request_param(self, "registryId"))
    manifest = request_param(self, "imageManifest") or ""
    try:
        image = ecr.put_manifest(
            state,
            repository,
            manifest.encode("utf-8"),
            media_type=request_param(self, "imageManifestMediaType"),
            tag=request_param(self, "imageTag"),
            now=_now(),
            expected_digest=request_param(self, "imageDigest"),
            api=True,
        )
    except ecr.ImageRefused as exc:
        raise _service_error(exc.ecr_code, exc.message) from None
    return action_result({"image": image})


def _scan_attributes(state: ecr.RegistryState, repository: Any, image: Any) -> None:
    status, scan = ecr.scan_result(state, repository, image, _now())
    if scan is None:
        for attribute in ("image_scan_status", "image_scan_findings_summary"):
            image.__dict__.pop(attribute, None)
        return
    image.image_scan_status = {
        "status": status,
        "description": ("The scan was completed successfully. " if status == "COMPLETE" else "")
        + scanning_note(),
    }
    if status == "COMPLETE" and scan.findings is not None:
        image.image_scan_findings_summary = {
            "imageScanCompletedAt": scan.started_at + dt.timedelta(seconds=ecr.SCAN_SECONDS),
            "vulnerabilitySourceUpdatedAt": scan.started_at,
            "findingSeverityCounts": ecr.severity_counts(scan.findings),
        }


@_handler("describe_images")
def describe_images(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )
    for image in repository.images:
        _scan_attributes(state, repository, image)
    result = original(self)
    wanted = (request_param(self, "filter") or {}).get("tagStatus")
    if wanted in ("TAGGED", "UNTAGGED") and isinstance(result.result, dict):
        result.result["imageDetails"] = [
            d
            for d in result.result["imageDetails"]
            if bool(getattr(d, "image_tags", None)) == (wanted == "TAGGED")
        ]
    return result


@_handler("list_images")
def list_images(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    result = original(self)
    wanted = (request_param(self, "filter") or {}).get("tagStatus")
    if wanted in ("TAGGED", "UNTAGGED") and isinstance(result.result, dict):
        result.result["imageIds"] = [
            i for i in result.result["imageIds"] if (i.get("imageTag") is not None) == (wanted == "TAGGED")
        ]
    return result


@_handler("start_image_scan")
def start_image_scan(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )
    image_id = request_param(self, "imageId") or {}
    image = _image(repository, image_id.get("imageTag"), image_id.get("imageDigest"))
    key = (repository.name, image.get_image_digest())
    now = _now()
    previous = state.scans.get(key)
    if previous is not None and now - previous.started_at < dt.timedelta(hours=24):
        from moto.ecr.exceptions import LimitExceededException

        raise LimitExceededException()
    state.scans[key] = ecr.Scan(now)
    return action_result(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "imageId": {
                "imageDigest": image.get_image_digest(),
                **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {}),
            },
            "imageScanStatus": {"status": "IN_PROGRESS", "description": scanning_note()},
        }
    )


@_handler("describe_image_scan_findings")
def describe_image_scan_findings(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )
    image_id = request_param(self, "imageId") or {}
    image = _image(repository, image_id.get("imageTag"), image_id.get("imageDigest"))
    status, scan = ecr.scan_result(state, repository, image, _now())
    if scan is None:
        from moto.ecr.exceptions import ScanNotFoundException

        raise ScanNotFoundException(
            image_id=f"{{imageDigest:'{image_id.get('imageDigest') or 'null'}', imageTag:'{image_id.get('imageTag') or 'null'}'}}",
            repository_name=repository.name,
            registry_id=repository.registry_id,
        )
    result: dict[str, Any] = {
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "imageId": {
            "imageDigest": image.get_image_digest(),
            **({"imageTag": image_id["imageTag"]} if image_id.get("imageTag") else {}),
        },
        "imageScanStatus": {
            "status": status,
            "description": ("The scan was completed successfully. " if status == "COMPLETE" else "")
            + scanning_note(),
        },
    }
    if status == "COMPLETE" and scan.findings is not None:
        result["imageScanFindings"] = {
            "imageScanCompletedAt": scan.started_at + dt.timedelta(seconds=ecr.SCAN_SECONDS),
            "vulnerabilitySourceUpdatedAt": scan.started_at,
            "findings": scan.findings,
            "findingSeverityCounts": ecr.severity_counts(scan.findings),
        }
    return action_result(result)


def _policy_error(exc: lifecycle.LifecyclePolicyError) -> Exception:
    return _service_error(
        "InvalidParameterException",
        f"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
        f"'Lifecycle policy validation failure: {exc}'",
    )


@_handler("put_lifecycle_policy")
def put_lifecycle_policy(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    text = request_param(self, "lifecyclePolicyText") or ""
    try:
        lifecycle.parse_policy(text)
    except lifecycle.LifecyclePolicyError as exc:
        raise _policy_error(exc) from None
    result = original(self)
    from labkit.sandbox.simulator.core import simulator_for

    ecr.keep_lifecycle_running(state, simulator_for(self.current_account))
    return result


def _start_lifecycle_policy_preview(self: Any) -> Any:
    state = ecr.state_for(self.current_account)
    if state is None:
        raise NotImplementedError("StartLifecyclePolicyPreview is only simulated in labkit sandboxes")
    repository = _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )
    text = request_param(self, "lifecyclePolicyText") or repository.lifecycle_policy
    if not text:
        from moto.ecr.exceptions import LifecyclePolicyNotFoundException

        raise LifecyclePolicyNotFoundException(repository.name, repository.registry_id)
    now = _now()
    try:
        results = ecr.preview_results(repository, text, now)
    except lifecycle.LifecyclePolicyError as exc:
        raise _policy_error(exc) from None
    state.previews[repository.name] = {"text": text, "results": results, "at": now}
    return action_result(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "lifecyclePolicyText": text,
            "status": "IN_PROGRESS",
        }
    )


def _get_lifecycle_policy_preview(self: Any) -> Any:
    state = ecr.state_for(self.current_account)
    if state is None:
        raise NotImplementedError("GetLifecyclePolicyPreview is only simulated in labkit sandboxes")
    repository = _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )
    preview = state.previews.get(repository.name)
    if preview is None:
        raise _service_error(
            "LifecyclePolicyPreviewNotFoundException",
            f"There is no dry run for the repository with name '{repository.name}' in the registry with id "
            f"'{repository.registry_id}'",
        )
    results = list(preview["results"])
    wanted = (request_param(self, "filter") or {}).get("tagStatus")
    if wanted == "TAGGED":
        results = [r for r in results if r["imageTags"]]
    elif wanted == "UNTAGGED":
        results = [r for r in results if not r["imageTags"]]
    ids = request_param(self, "imageIds") or []
    if ids:
        results = [
            r
            for r in results
            if any(
                i.get("imageDigest") == r["imageDigest"] or i.get("imageTag") in r["imageTags"] for i in ids
            )
        ]
    return action_result(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "lifecyclePolicyText": preview["text"],
            "status": "COMPLETE",
            "previewResults": results,
            "summary": {"expiringImageTotalCount": len(preview["results"])},
        }
    )


def _repo(self: Any) -> Any:
    return _repository(
        self.ecr_backend, request_param(self, "repositoryName"), request_param(self, "registryId")
    )


@_handler("batch_check_layer_availability")
def batch_check_layer_availability(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repo(self)
    held = ecr.repository_blobs(repository)
    layers, failures = [], []
    for digest in request_param(self, "layerDigests") or []:
        if not re.match(r"^sha256:[0-9a-f]{64}$", str(digest)):
            failures.append(
                {
                    "layerDigest": digest,
                    "failureCode": "InvalidLayerDigest",
                    "failureReason": "Invalid layer digest",
                }
            )
        elif digest in held and digest in state.blobs:
            layers.append(
                {
                    "layerDigest": digest,
                    "layerAvailability": "AVAILABLE",
                    "layerSize": len(state.blobs[digest]),
                }
            )
        else:
            failures.append(
                {
                    "layerDigest": digest,
                    "failureCode": "MissingLayerDigest",
                    "failureReason": "Could not find layer",
                }
            )
    return action_result({"layers": layers, "failures": failures})


@_handler("initiate_layer_upload")
def initiate_layer_upload(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repo(self)
    upload = str(uuid.uuid4())
    state.layer_uploads[upload] = (repository.name, bytearray(), [])
    return action_result({"uploadId": upload, "partSize": ecr.LAYER_PART_MAX})


def _upload(self: Any, state: ecr.RegistryState, repository: Any) -> tuple[str, bytearray, list[int]]:
    upload = request_param(self, "uploadId")
    found = state.layer_uploads.get(upload)
    if found is None or found[0] != repository.name:
        raise _service_error(
            "UploadNotFoundException",
            f"The upload with id '{upload}' does not exist in the repository '{repository.name}'",
        )
    return found


@_handler("upload_layer_part")
def upload_layer_part(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repo(self)
    _, data, parts = _upload(self, state, repository)
    first, last = int(request_param(self, "partFirstByte")), int(request_param(self, "partLastByte"))
    blob = base64.b64decode(request_param(self, "layerPartBlob") or "")
    if first != len(data) or last != first + len(blob) - 1:
        error = _service_error(
            "InvalidLayerPartException",
            f"The layer part starts at byte {first} and ends at {last}; the upload has {len(data)} bytes "
            f"and the part {len(blob)}",
        )
        error.lastValidByteReceived = len(data) - 1  # type: ignore[attr-defined]
        raise error
    if len(blob) > ecr.LAYER_PART_MAX:
        raise _service_error(
            "InvalidParameterException", f"a layer part is at most {ecr.LAYER_PART_MAX} bytes"
        )
    data.extend(blob)
    parts.append(len(blob))
    return action_result(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "uploadId": request_param(self, "uploadId"),
            "lastByteReceived": len(data) - 1,
        }
    )


@_handler("complete_layer_upload")
def complete_layer_upload(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repo(self)
    upload = request_param(self, "uploadId")
    _, data, parts = _upload(self, state, repository)
    if not data:
        raise _service_error("EmptyUploadException", f"The upload with id '{upload}' has no layer parts")
    if any(size < ecr.LAYER_PART_MIN for size in parts[:-1]):
        raise _service_error(
            "LayerPartTooSmallException", "Every layer part but the last must be at least 5 MiB"
        )
    digest = ecr.digest_of(bytes(data))
    given = request_param(self, "layerDigests") or []
    if given and given[0] != digest:
        raise _service_error(
            "InvalidLayerException",
            f"The layer digest {given[0]} does not match the upload's digest {digest}",
        )
    del state.layer_uploads[upload]
    held = ecr.repository_blobs(repository)
    if digest in held:
        raise _service_error(
            "LayerAlreadyExistsException",
            f"The layer {digest} already exists in the repository with name '{repository.name}'",
        )
    state.blobs.setdefault(digest, bytes(data))
    held.add(digest)
    return action_result(
        {
            "registryId": repository.registry_id,
            "repositoryName": repository.name,
            "uploadId": upload,
            "layerDigest": digest,
        }
    )


@_handler("get_download_url_for_layer")
def get_download_url_for_layer(self: Any, state: ecr.RegistryState, original: Callable[..., Any]) -> Any:
    repository = _repo(self)
    digest = request_param(self, "layerDigest")
    if digest not in ecr.repository_blobs(repository) or digest not in state.blobs:
        raise _service_error(
            "LayersNotFoundException",
            f"The layer {digest} does not exist in the repository with name '{repository.name}'",
        )
    token = secrets.token_urlsafe(24)
    state.downloads[token] = (repository.name, digest, _now() + ecr.DOWNLOAD_URL_LIFETIME)
    host = self.headers.get("Host") or "127.0.0.1"
    return action_result(
        {
            "downloadUrl": f"http://{host}/v2/{repository.name}/blobs/{digest}?labkit-download={token}",
            "layerDigest": digest,
        }
    )


hook(_RESPONSE, "start_lifecycle_policy_preview", why="missing in moto", adds=True)(
    lambda original: _start_lifecycle_policy_preview
)
hook(_RESPONSE, "get_lifecycle_policy_preview", why="missing in moto", adds=True)(
    lambda original: _get_lifecycle_policy_preview
)


def scanning_note() -> str:
    """The note every simulated scan status carries."""
    from labkit.registry.scanning import SIMULATED_NOTE

    return SIMULATED_NOTE
