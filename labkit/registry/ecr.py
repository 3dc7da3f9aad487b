"""The sandbox registry's state, and ECR's rules on moto's ECR repositories.

Images live where moto keeps them (`moto_seam.backend("ecr", account, region)`, then
`.repositories[name].images`), so `describe_images`, `list_images` and `batch_get_image` show what
a registry client pushed. labkit adds what moto lacks (see `labkit.sandbox.moto_seam.ecr` for the API side):

- an image's digest is the sha256 of its manifest's bytes, its size the sum of its compressed
  layers (the largest child for an index), its push time the sandbox clock's;
- re-tagging leaves the previous image untagged (moto deletes it); an IMMUTABLE repository refuses
  to move a tag (`ImageTagAlreadyExistsException`, registry code `TAG_INVALID`);
- a manifest must reference blobs pushed to the repository (`LayersNotFoundException`,
  `MANIFEST_BLOB_UNKNOWN`); an index must reference images in it
  (`ReferencedImagesNotFoundException`);
- registry tokens from `get_authorization_token` are valid for 12 hours of sandbox time;
- scans complete `SCAN_SECONDS` after they start (on push with the repository's `scanOnPush` or a
  registry scanning rule that matches it, or with `start_image_scan`);
- a task running an image from the sandbox's ECR gets the stand-in of the image its config names in
  the `org.opencontainers.image.base.name` label (the default stand-in when it names none);
- lifecycle policies are applied at every full hour of the sandbox clock (AWS applies them "within
  24 hours"), and previews evaluate at once.

Blob contents are kept per account (`RegistryState`), and which blobs a repository holds is kept on
moto's repository object, so deleting a repository forgets them, as ECR does.
"""

from __future__ import annotations

import base64
import datetime as dt
import fnmatch
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from labkit.registry import lifecycle, scanning
from labkit.sandbox import moto_seam

__all__ = [
    "MANIFEST_MEDIA_TYPES",
    "SCAN_SECONDS",
    "TOKEN_LIFETIME",
    "ImageRefused",
    "RegistryState",
    "ecr_backend",
    "forget_state",
    "open_state",
    "pushed_image_stands_for",
    "put_manifest",
    "state_for",
]

TOKEN_LIFETIME = dt.timedelta(hours=12)
SCAN_SECONDS = 5.0
#: UploadLayerPart's largest part (the ECR API reference: 20971520 bytes); every part but the last
#: must be at least 5 MiB.
LAYER_PART_MAX = 20971520
LAYER_PART_MIN = 5 * 2**20
#: How long a GetDownloadUrlForLayer link works (labkit's choice; AWS's are pre-signed S3 links).
DOWNLOAD_URL_LIFETIME = dt.timedelta(hours=1)
LIFECYCLE_INTERVAL = 3600.0

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPES = (DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX)
INDEX_MEDIA_TYPES = (DOCKER_LIST, OCI_INDEX)


class ImageRefused(Exception):
    """A push or PutImage that ECR refuses: the ECR API's error code, the registry's, and a message."""

    def __init__(self, ecr_code: str, registry_code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.ecr_code = ecr_code
        self.registry_code = registry_code
        self.message = message
        self.status = status


@dataclass
class Scan:
    """One image scan: when it started, and its findings once computed."""

    started_at: dt.datetime
    findings: list[dict[str, Any]] | None = None


@dataclass
class RegistryState:
    """One sandbox account's registry: blob contents, uploads in progress, tokens, scans, previews."""

    account_id: str
    region: str
    blobs: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, tuple[str, bytearray]] = field(default_factory=dict)
    tokens: dict[str, dt.datetime] = field(default_factory=dict)
    scans: dict[tuple[str, str], Scan] = field(default_factory=dict)
    previews: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ECR API layer uploads (InitiateLayerUpload...): upload id -> repository, bytes, part sizes.
    layer_uploads: dict[str, tuple[str, bytearray, list[int]]] = field(default_factory=dict)
    #: GetDownloadUrlForLayer's one-hour links: token -> repository, digest, expiry.
    downloads: dict[str, tuple[str, str, dt.datetime]] = field(default_factory=dict)
    lifecycle_owner: object | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def host(self) -> str:
        """The registry host ECR gives this account (`<account>.dkr.ecr.<region>.amazonaws.com`)."""
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"

    def mint_token(self, now: dt.datetime) -> tuple[str, dt.datetime]:
        """A new registry token (base64 of `AWS:<password>`) and when it expires."""
        password = secrets.token_urlsafe(32)
        expires = now + TOKEN_LIFETIME
        with self.lock:
            self.tokens = {p: e for p, e in self.tokens.items() if e > now}
            self.tokens[password] = expires
        return base64.b64encode(f"AWS:{password}".encode()).decode(), expires

    def token_state(self, username: str, password: str, now: dt.datetime) -> str:
        """`valid`, `expired` or `invalid` for credentials a registry client sent."""
        expires = self.tokens.get(password)
        if username != "AWS" or expires is None:
            return "invalid"
        return "valid" if now < expires else "expired"


_STATES: dict[str, RegistryState] = {}
_STATES_LOCK = threading.Lock()


def open_state(account_id: str, region: str) -> RegistryState:
    """The registry state of a sandbox account (created empty the first time)."""
    with _STATES_LOCK:
        state = _STATES.get(account_id)
        if state is None:
            state = _STATES[account_id] = RegistryState(account_id, region)
        return state


def state_for(account_id: str) -> RegistryState | None:
    """The registry state of a sandbox account, or None for an account that is not a sandbox's."""
    return _STATES.get(account_id)


def forget_state(account_id: str) -> None:
    """Drop an account's registry state (its sandbox was reset or closed)."""
    with _STATES_LOCK:
        _STATES.pop(account_id, None)


def ecr_backend(account_id: str, region: str) -> Any:
    """moto's ECR backend of the account and region."""
    return moto_seam.backend("ecr", account_id, region)


def repository_blobs(repository: Any) -> set[str]:
    """The digests of the blobs a repository holds (kept on moto's repository object)."""
    blobs: set[str] = repository.__dict__.setdefault("_labkit_blobs", set())
    return blobs


def digest_of(data: bytes) -> str:
    """`sha256:<hex>` of some bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _find(repository: Any, digest: str) -> Any | None:
    return next((i for i in repository.images if i.get_image_digest() == digest), None)


def _tag_immutable(repository: Any, tag: str) -> bool:
    immutable = bool(repository.is_tag_immutable())
    filters = getattr(repository, "image_tag_mutability_exclusion_filters", None) or []
    if any(fnmatch.fnmatchcase(tag, str(f.get("filter", ""))) for f in filters):
        immutable = not immutable
    return immutable


def _parse_manifest(manifest: bytes, media_type: str | None) -> tuple[dict[str, Any], str]:
    try:
        text = manifest.decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageRefused(
            "InvalidParameterException", "MANIFEST_INVALID", f"the manifest is not valid JSON: {exc}"
        ) from exc
    if not isinstance(parsed, dict):
        raise ImageRefused(
            "InvalidParameterException", "MANIFEST_INVALID", "the manifest is not a JSON object"
        )
    kind = media_type or parsed.get("mediaType")
    if not kind:
        raise ImageRefused(
            "InvalidParameterException",
            "MANIFEST_INVALID",
            "image manifest mediatype not provided in manifest or parameter",
        )
    kind = str(kind).split(";", 1)[0].strip()
    if kind not in MANIFEST_MEDIA_TYPES:
        raise ImageRefused(
            "InvalidParameterException",
            "MANIFEST_INVALID",
            f"unsupported manifest media type {kind!r}; ECR accepts {', '.join(MANIFEST_MEDIA_TYPES)}",
        )
    if parsed.get("schemaVersion") != 2:
        raise ImageRefused("InvalidParameterException", "MANIFEST_INVALID", "schemaVersion must be 2")
    return parsed, kind


def image_size(repository: Any, parsed: dict[str, Any]) -> int:
    """ECR's imageSizeInBytes: the compressed layers' sum; for an index, its largest image."""
    if "manifests" in parsed:
        sizes = []
        for child in parsed.get("manifests", []):
            image = _find(repository, str(child.get("digest")))
            sizes.append(int(getattr(image, "_labkit_size", 0)) if image is not None else 0)
        return max(sizes, default=0)
    return sum(int(layer.get("size", 0)) for layer in parsed.get("layers", []))


def put_manifest(
    state: RegistryState,
    repository: Any,
    manifest: bytes,
    *,
    media_type: str | None,
    tag: str | None,
    now: dt.datetime,
    expected_digest: str | None = None,
    api: bool = False,
) -> Any:
    """Store an image in a repository as ECR does and return moto's image; raises `ImageRefused`.

    `api` is True for the PutImage call (pushing the same manifest and tag again is then an
    error, as on ECR; a registry client re-pushing is a no-op).
    """
    parsed, kind = _parse_manifest(manifest, media_type)
    digest = digest_of(manifest)
    if expected_digest is not None and expected_digest != digest:
        raise ImageRefused(
            "ImageDigestDoesNotMatchException",
            "DIGEST_INVALID",
            f"The upload digest {expected_digest} does not match the manifest's digest {digest}",
        )
    held = repository_blobs(repository)
    if kind in INDEX_MEDIA_TYPES:
        missing = [
            str(m.get("digest"))
            for m in parsed.get("manifests", [])
            if _find(repository, str(m.get("digest"))) is None
        ]
        if missing:
            raise ImageRefused(
                "ReferencedImagesNotFoundException",
                "MANIFEST_BLOB_UNKNOWN",
                f"The manifest list references images that are not in the repository: {', '.join(missing)}",
            )
    else:
        wanted = [str(parsed.get("config", {}).get("digest"))] + [
            str(x.get("digest")) for x in parsed.get("layers", [])
        ]
        missing = [d for d in wanted if d not in held]
        if missing:
            raise ImageRefused(
                "LayersNotFoundException",
                "MANIFEST_BLOB_UNKNOWN",
                f"The image's layers were not uploaded to the repository {repository.name}: {', '.join(missing)}",
            )
    existing = _find(repository, digest)
    if tag is not None:
        holder = next((i for i in repository.images if tag in i.image_tags), None)
        if holder is not None and holder is existing:
            if api:
                raise ImageRefused(
                    "ImageAlreadyExistsException",
                    "TAG_INVALID",
                    moto_seam.ecr.image_exists_message(repository, digest, tag),
                )
            return existing
        if holder is not None:
            if _tag_immutable(repository, tag):
                raise ImageRefused(
                    "ImageTagAlreadyExistsException",
                    "TAG_INVALID",
                    f"The image tag '{tag}' already exists in the '{repository.name}' repository and cannot "
                    "be overwritten because the repository is immutable.",
                )
            holder.remove_tag(tag)
            if not holder.image_tags:
                holder.image_tag = None
    if existing is not None:
        if tag is not None:
            existing.update_tag(tag)
        return existing
    image = moto_seam.ecr.new_image(
        state.account_id,
        tag,
        manifest.decode("utf-8"),
        repository.name,
        kind,
        digest,
        repository.registry_id,
    )
    image.image_pushed_at = int(now.timestamp())
    moto_seam.ecr.set_image_size(image, image_size(repository, parsed))
    repository.images.append(image)
    if scans_on_push(state, repository):
        state.scans[(repository.name, digest)] = Scan(now)
    return image


def scans_on_push(state: RegistryState, repository: Any) -> bool:
    """The repository's `scanOnPush`, or a registry scanning rule with `SCAN_ON_PUSH` whose filter matches it."""
    if (repository.image_scanning_configuration or {}).get("scanOnPush"):
        return True
    config = (
        getattr(ecr_backend(state.account_id, state.region), "registry_scanning_configuration", None) or {}
    )
    for rule in config.get("rules", []):
        if rule.get("scanFrequency") not in ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"):
            continue
        for found in rule.get("repositoryFilters", []):
            if fnmatch.fnmatchcase(repository.name, str(found.get("filter", ""))):
                return True
    return False


# -- scanning ------------------------------------------------------------------------------------


def scan_result(
    state: RegistryState, repository: Any, image: Any, now: dt.datetime
) -> tuple[str, Scan | None]:
    """The scan status of an image (`IN_PROGRESS`, `COMPLETE`, or `NONE` without a scan) and the scan."""
    scan = state.scans.get((repository.name, image.get_image_digest()))
    if scan is None:
        return "NONE", None
    if now < scan.started_at + dt.timedelta(seconds=SCAN_SECONDS):
        return "IN_PROGRESS", scan
    if scan.findings is None:
        scan.findings = scanning.findings_for_layers(_layers(state, image))
    return "COMPLETE", scan


def _layers(state: RegistryState, image: Any) -> list[bytes]:
    parsed = json.loads(image.image_manifest)
    return [
        state.blobs[d] for d in (str(x.get("digest")) for x in parsed.get("layers", [])) if d in state.blobs
    ]


def severity_counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    """ECR's findingSeverityCounts."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return counts


# -- lifecycle -----------------------------------------------------------------------------------


def lifecycle_images(repository: Any) -> list[lifecycle.LifecycleImage]:
    """The repository's images as a lifecycle policy sees them (images an index references are left out)."""
    referenced: set[str] = set()
    for image in repository.images:
        if image.image_manifest_media_type in INDEX_MEDIA_TYPES:
            referenced.update(
                str(m.get("digest")) for m in json.loads(image.image_manifest).get("manifests", [])
            )
    return [
        lifecycle.LifecycleImage(
            image.get_image_digest(),
            tuple(image.image_tags),
            dt.datetime.fromtimestamp(image.image_pushed_at, dt.UTC),
        )
        for image in repository.images
        if image.get_image_digest() not in referenced
    ]


def preview_results(repository: Any, policy_text: str, now: dt.datetime) -> list[dict[str, Any]]:
    """GetLifecyclePolicyPreview's previewResults for a policy at `now`; raises `LifecyclePolicyError`."""
    return [
        {
            "imageTags": list(e.image.tags),
            "imageDigest": e.image.digest,
            "imagePushedAt": e.image.pushed_at,
            "action": {"type": "EXPIRE"},
            "appliedRulePriority": e.rule_priority,
            "storageClass": "STANDARD",
        }
        for e in lifecycle.evaluate(policy_text, lifecycle_images(repository), now)
    ]


def apply_lifecycle_policies(state: RegistryState, now: dt.datetime) -> int:
    """Expire what every repository's lifecycle policy selects at `now`; return how many images went."""
    backend = ecr_backend(state.account_id, state.region)
    removed = 0
    for repository in list(backend.repositories.values()):
        if not repository.lifecycle_policy:
            continue
        try:
            expiries = lifecycle.evaluate(repository.lifecycle_policy, lifecycle_images(repository), now)
        except lifecycle.LifecyclePolicyError:
            continue  # a policy stored before labkit validated it: ECR would have refused it
        doomed = {e.image.digest for e in expiries}
        before = len(repository.images)
        repository.images = [i for i in repository.images if i.get_image_digest() not in doomed]
        removed += before - len(repository.images)
    return removed


def keep_lifecycle_running(state: RegistryState, simulator: Any) -> None:
    """Put the hourly lifecycle evaluation on the simulator's timeline (once per simulator)."""
    if simulator is None or state.lifecycle_owner is simulator:
        return
    state.lifecycle_owner = simulator
    sim: Any = simulator
    now = sim.now()
    first = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)

    def tick() -> None:
        if state_for(state.account_id) is not state or state.lifecycle_owner is not simulator:
            return
        # The next evaluation comes whatever happens to this one (a fault is contained by the timeline).
        sim.after(LIFECYCLE_INTERVAL, tick, label="ecr lifecycle policies")
        apply_lifecycle_policies(state, sim.now())

    sim.schedule(first, tick, label="ecr lifecycle policies")


# -- what a pushed image stands for ---------------------------------------------------------------

#: The label an image's config carries to say which image it is built from (OCI's annotation key).
BASE_NAME_LABEL = "org.opencontainers.image.base.name"
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


def pushed_image_stands_for(image: str) -> str | None:
    """For a task's image in a sandbox's ECR (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`),
    the image its config names in `org.opencontainers.image.base.name`; None for anything else.
    """
    from labkit.dataplane.images import parse_image_name

    try:
        name = parse_image_name(image)
    except ValueError:
        return None
    host = _ECR_HOST.match(name.registry or "")
    if host is None:
        return None
    state = state_for(host.group("account"))
    if state is None:
        return None
    repository = ecr_backend(state.account_id, host.group("region")).repositories.get(name.repository)
    if repository is None:
        return None
    if name.digest:
        found = _find(repository, name.digest)
    else:
        found = next((i for i in repository.images if (name.tag or "latest") in i.image_tags), None)
    manifest = json.loads(found.image_manifest) if found is not None else {}
    if "manifests" in manifest:
        children = manifest.get("manifests", [])
        amd64 = [m for m in children if m.get("platform", {}).get("architecture") == "amd64"]
        child = _find(repository, str((amd64 or children or [{}])[0].get("digest")))
        manifest = json.loads(child.image_manifest) if child is not None else {}
    config_blob = state.blobs.get(str(manifest.get("config", {}).get("digest")))
    if config_blob is None:
        return None
    try:
        labels = json.loads(config_blob).get("config", {}).get("Labels") or {}
    except ValueError:
        return None
    base = labels.get(BASE_NAME_LABEL)
    return str(base) if base else None
