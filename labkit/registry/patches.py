"""Where the registry meets moto's ECR API: a few of moto's ECR handlers, wrapped or added.

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
import functools
import re
import secrets
import threading
import uuid
from collections.abc import Callable
from typing import Any

from labkit.registry import ecr, lifecycle

__all__ = ["install"]

_installed = False
_lock = threading.Lock()


def _service_error(code: str, message: str) -> Exception:
    from moto.core.exceptions import ServiceException

    # moto finds an error's service model from the module its class is defined in.
    kind = type(code, (ServiceException,), {"code": code, "__module__": "moto.ecr.exceptions"})
    error: Exception = kind(message)
    return error


def _now() -> dt.datetime:
    from moto.core import utils

    return utils.utcnow().replace(tzinfo=dt.UTC)


def _in_sandbox(
    handler: Callable[[Any, ecr.RegistryState], Any],
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def wrapped(self: Any) -> Any:
            state = ecr.state_for(self.current_account)
            if state is None:
                return original(self)
            return handler(self, state)

        return wrapped

    return make


def install() -> None:
    """Wrap moto's ECR handlers once per process."""
    global _installed
    with _lock:
        if _installed:
            return
        _install()
        _installed = True


def _install() -> None:
    from moto.core.responses import ActionResult
    from moto.ecr.models import Image
    from moto.ecr.responses import ECRResponse as R

    original_size = Image.get_image_size_in_bytes

    def get_image_size_in_bytes(self: Any) -> int | None:
        size = getattr(self, "_labkit_size", None)
        return int(size) if size is not None else original_size(self)

    Image.get_image_size_in_bytes = get_image_size_in_bytes  # type: ignore[method-assign]

    from labkit.dataplane.images import register_image_resolver

    register_image_resolver(ecr.pushed_image_stands_for)

    def get_authorization_token(self: Any, state: ecr.RegistryState) -> Any:
        registry_ids = self._get_param("registryIds") or [self.current_account]
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
        return ActionResult({"authorizationData": data})

    def put_image(self: Any, state: ecr.RegistryState) -> Any:
        name = self._get_param("repositoryName")
        repository = self.ecr_backend._get_repository(name, self._get_param("registryId"))
        manifest = self._get_param("imageManifest") or ""
        try:
            image = ecr.put_manifest(
                state,
                repository,
                manifest.encode("utf-8"),
                media_type=self._get_param("imageManifestMediaType"),
                tag=self._get_param("imageTag"),
                now=_now(),
                expected_digest=self._get_param("imageDigest"),
                api=True,
            )
        except ecr.ImageRefused as exc:
            raise _service_error(exc.ecr_code, exc.message) from None
        return ActionResult({"image": image})

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

    def describe_images(self: Any, state: ecr.RegistryState) -> Any:
        repository = self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )
        for image in repository.images:
            _scan_attributes(state, repository, image)
        result = describe_images.__labkit_original__(self)  # type: ignore[attr-defined]
        wanted = (self._get_param("filter") or {}).get("tagStatus")
        if wanted in ("TAGGED", "UNTAGGED") and isinstance(result.result, dict):
            result.result["imageDetails"] = [
                d
                for d in result.result["imageDetails"]
                if bool(getattr(d, "image_tags", None)) == (wanted == "TAGGED")
            ]
        return result

    def list_images(self: Any, state: ecr.RegistryState) -> Any:
        result = list_images.__labkit_original__(self)  # type: ignore[attr-defined]
        wanted = (self._get_param("filter") or {}).get("tagStatus")
        if wanted in ("TAGGED", "UNTAGGED") and isinstance(result.result, dict):
            result.result["imageIds"] = [
                i
                for i in result.result["imageIds"]
                if (i.get("imageTag") is not None) == (wanted == "TAGGED")
            ]
        return result

    def start_image_scan(self: Any, state: ecr.RegistryState) -> Any:
        repository = self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )
        image_id = self._get_param("imageId") or {}
        image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
        key = (repository.name, image.get_image_digest())
        now = _now()
        previous = state.scans.get(key)
        if previous is not None and now - previous.started_at < dt.timedelta(hours=24):
            from moto.ecr.exceptions import LimitExceededException

            raise LimitExceededException()
        state.scans[key] = ecr.Scan(now)
        return ActionResult(
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

    def describe_image_scan_findings(self: Any, state: ecr.RegistryState) -> Any:
        repository = self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )
        image_id = self._get_param("imageId") or {}
        image = repository._get_image(image_id.get("imageTag"), image_id.get("imageDigest"))
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
        return ActionResult(result)

    def _policy_error(exc: lifecycle.LifecyclePolicyError) -> Exception:
        return _service_error(
            "InvalidParameterException",
            f"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: "
            f"'Lifecycle policy validation failure: {exc}'",
        )

    def put_lifecycle_policy(self: Any, state: ecr.RegistryState) -> Any:
        text = self._get_param("lifecyclePolicyText") or ""
        try:
            lifecycle.parse_policy(text)
        except lifecycle.LifecyclePolicyError as exc:
            raise _policy_error(exc) from None
        result = put_lifecycle_policy.__labkit_original__(self)  # type: ignore[attr-defined]
        from labkit.sandbox.simulator.core import simulator_for

        ecr.keep_lifecycle_running(state, simulator_for(self.current_account))
        return result

    def start_lifecycle_policy_preview(self: Any) -> Any:
        state = ecr.state_for(self.current_account)
        if state is None:
            raise NotImplementedError("StartLifecyclePolicyPreview is only simulated in labkit sandboxes")
        repository = self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )
        text = self._get_param("lifecyclePolicyText") or repository.lifecycle_policy
        if not text:
            from moto.ecr.exceptions import LifecyclePolicyNotFoundException

            raise LifecyclePolicyNotFoundException(repository.name, repository.registry_id)
        now = _now()
        try:
            results = ecr.preview_results(repository, text, now)
        except lifecycle.LifecyclePolicyError as exc:
            raise _policy_error(exc) from None
        state.previews[repository.name] = {"text": text, "results": results, "at": now}
        return ActionResult(
            {
                "registryId": repository.registry_id,
                "repositoryName": repository.name,
                "lifecyclePolicyText": text,
                "status": "IN_PROGRESS",
            }
        )

    def get_lifecycle_policy_preview(self: Any) -> Any:
        state = ecr.state_for(self.current_account)
        if state is None:
            raise NotImplementedError("GetLifecyclePolicyPreview is only simulated in labkit sandboxes")
        repository = self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )
        preview = state.previews.get(repository.name)
        if preview is None:
            raise _service_error(
                "LifecyclePolicyPreviewNotFoundException",
                f"There is no dry run for the repository with name '{repository.name}' in the registry with id "
                f"'{repository.registry_id}'",
            )
        results = list(preview["results"])
        wanted = (self._get_param("filter") or {}).get("tagStatus")
        if wanted == "TAGGED":
            results = [r for r in results if r["imageTags"]]
        elif wanted == "UNTAGGED":
            results = [r for r in results if not r["imageTags"]]
        ids = self._get_param("imageIds") or []
        if ids:
            results = [
                r
                for r in results
                if any(
                    i.get("imageDigest") == r["imageDigest"] or i.get("imageTag") in r["imageTags"]
                    for i in ids
                )
            ]
        return ActionResult(
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
        return self.ecr_backend._get_repository(
            self._get_param("repositoryName"), self._get_param("registryId")
        )

    def batch_check_layer_availability(self: Any, state: ecr.RegistryState) -> Any:
        repository = _repo(self)
        held = ecr.repository_blobs(repository)
        layers, failures = [], []
        for digest in self._get_param("layerDigests") or []:
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
        return ActionResult({"layers": layers, "failures": failures})

    def initiate_layer_upload(self: Any, state: ecr.RegistryState) -> Any:
        repository = _repo(self)
        upload = str(uuid.uuid4())
        state.layer_uploads[upload] = (repository.name, bytearray(), [])
        return ActionResult({"uploadId": upload, "partSize": ecr.LAYER_PART_MAX})

    def _upload(self: Any, state: ecr.RegistryState, repository: Any) -> tuple[str, bytearray, list[int]]:
        upload = self._get_param("uploadId")
        found = state.layer_uploads.get(upload)
        if found is None or found[0] != repository.name:
            raise _service_error(
                "UploadNotFoundException",
                f"The upload with id '{upload}' does not exist in the repository '{repository.name}'",
            )
        return found

    def upload_layer_part(self: Any, state: ecr.RegistryState) -> Any:
        repository = _repo(self)
        _, data, parts = _upload(self, state, repository)
        first, last = int(self._get_param("partFirstByte")), int(self._get_param("partLastByte"))
        blob = base64.b64decode(self._get_param("layerPartBlob") or "")
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
        return ActionResult(
            {
                "registryId": repository.registry_id,
                "repositoryName": repository.name,
                "uploadId": self._get_param("uploadId"),
                "lastByteReceived": len(data) - 1,
            }
        )

    def complete_layer_upload(self: Any, state: ecr.RegistryState) -> Any:
        repository = _repo(self)
        upload = self._get_param("uploadId")
        _, data, parts = _upload(self, state, repository)
        if not data:
            raise _service_error("EmptyUploadException", f"The upload with id '{upload}' has no layer parts")
        if any(size < ecr.LAYER_PART_MIN for size in parts[:-1]):
            raise _service_error(
                "LayerPartTooSmallException", "Every layer part but the last must be at least 5 MiB"
            )
        digest = ecr.digest_of(bytes(data))
        given = self._get_param("layerDigests") or []
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
        return ActionResult(
            {
                "registryId": repository.registry_id,
                "repositoryName": repository.name,
                "uploadId": upload,
                "layerDigest": digest,
            }
        )

    def get_download_url_for_layer(self: Any, state: ecr.RegistryState) -> Any:
        repository = _repo(self)
        digest = self._get_param("layerDigest")
        if digest not in ecr.repository_blobs(repository) or digest not in state.blobs:
            raise _service_error(
                "LayersNotFoundException",
                f"The layer {digest} does not exist in the repository with name '{repository.name}'",
            )
        token = secrets.token_urlsafe(24)
        state.downloads[token] = (repository.name, digest, _now() + ecr.DOWNLOAD_URL_LIFETIME)
        host = self.headers.get("Host") or "127.0.0.1"
        return ActionResult(
            {
                "downloadUrl": f"http://{host}/v2/{repository.name}/blobs/{digest}?labkit-download={token}",
                "layerDigest": digest,
            }
        )

    for name, handler in (
        ("get_authorization_token", get_authorization_token),
        ("put_image", put_image),
        ("describe_images", describe_images),
        ("list_images", list_images),
        ("start_image_scan", start_image_scan),
        ("describe_image_scan_findings", describe_image_scan_findings),
        ("put_lifecycle_policy", put_lifecycle_policy),
        ("batch_check_layer_availability", batch_check_layer_availability),
        ("initiate_layer_upload", initiate_layer_upload),
        ("upload_layer_part", upload_layer_part),
        ("complete_layer_upload", complete_layer_upload),
        ("get_download_url_for_layer", get_download_url_for_layer),
    ):
        original = getattr(R, name)
        wrapper = _in_sandbox(handler)(original)
        wrapper.__labkit_original__ = original  # type: ignore[attr-defined]
        handler.__labkit_original__ = original  # type: ignore[attr-defined]
        setattr(R, name, wrapper)
    R.start_lifecycle_policy_preview = start_lifecycle_policy_preview  # type: ignore[attr-defined]
    R.get_lifecycle_policy_preview = get_lifecycle_policy_preview  # type: ignore[attr-defined]


def scanning_note() -> str:
    """The note every simulated scan status carries."""
    from labkit.registry.scanning import SIMULATED_NOTE

    return SIMULATED_NOTE
