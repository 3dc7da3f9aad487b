"""Build a small, real OCI image without a Docker engine: an OCI image layout on disk.

`build_oci_image(directory, files={...}, cmd=[...])` writes what `docker build` would push for a
`FROM scratch` image with one `COPY`: a gzip-compressed tar layer, an image config, a manifest and
the layout's `index.json` + `oci-layout`, all content-addressed (`blobs/sha256/<hex>`). Tools that
read OCI layouts accept it: `skopeo copy oci:DIR:TAG docker://HOST/REPO:TAG` pushes it, and
`labkit.registry.client.push_layout` does the same in Python. With `base=` (another layout) the
new layer goes on top of the base image's layers and the base's config is inherited.

The output is reproducible: tar entries and the gzip header carry a fixed time (`created`, by
default the Unix epoch), so the same inputs give the same digests.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError

__all__ = [
    "BASE_NAME_LABEL",
    "OCI_CONFIG",
    "OCI_INDEX",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "OciImage",
    "OciLayoutError",
    "build_oci_image",
    "placeholder_image",
    "read_oci_layout",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class OciLayoutError(LabkitError):
    """A folder is not an OCI image layout labkit can read, or has no image with that tag."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"OCI layout {path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class OciImage:
    """An image in an OCI layout: its manifest (exact bytes), config and layers."""

    path: Path
    tag: str
    manifest: bytes
    manifest_digest: str
    config: dict[str, Any]
    config_digest: str
    layers: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def media_type(self) -> str:
        """The manifest's media type."""
        return str(json.loads(self.manifest).get("mediaType", OCI_MANIFEST))

    @property
    def size(self) -> int:
        """The compressed size of the layers (what ECR reports as imageSizeInBytes)."""
        return sum(int(layer["size"]) for layer in self.layers)

    def blob_path(self, digest: str) -> Path:
        """Where a blob of this layout is stored."""
        algorithm, _, encoded = digest.partition(":")
        return self.path / "blobs" / algorithm / encoded

    def blob(self, digest: str) -> bytes:
        """The bytes of one blob; raises `OciLayoutError` when the layout lacks it."""
        try:
            return self.blob_path(digest).read_bytes()
        except OSError as exc:
            raise OciLayoutError(str(self.path), f"blob {digest} is missing") from exc


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write_blob(root: Path, data: bytes) -> str:
    digest = _digest(data)
    path = root / "blobs" / "sha256" / digest.split(":", 1)[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return digest


def _layer(files: Mapping[str, bytes | str], mtime: int, mode: int, uid: int, gid: int) -> tuple[bytes, str]:
    """A gzip'd tar of `files` (and their parent folders); returns it and the uncompressed digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folders: set[str] = set()
        for name in sorted(files):
            clean = name.strip("/")
            if not clean or ".." in clean.split("/"):
                raise ValueError(f"a file in an image needs a relative path inside it, not {name!r}")
            parts = clean.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth])
                if folder not in folders:
                    folders.add(folder)
                    info = tarfile.TarInfo(folder)
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
                    tar.addfile(info)
            content = files[name]
            data = content.encode() if isinstance(content, str) else bytes(content)
            info = tarfile.TarInfo(clean)
            info.size, info.mode, info.mtime, info.uid, info.gid = len(data), mode, mtime, uid, gid
            tar.addfile(info, io.BytesIO(data))
    uncompressed = raw.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=mtime, compresslevel=6) as gz:
        gz.write(uncompressed)
    return compressed.getvalue(), _digest(uncompressed)


def build_oci_image(
    directory: str | Path,
    *,
    files: Mapping[str, bytes | str],
    cmd: Sequence[str] | None = None,
    entrypoint: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    workdir: str | None = None,
    user: str | None = None,
    exposed_ports: Sequence[int | str] = (),
    labels: Mapping[str, str] | None = None,
    tag: str = "latest",
    base: str | Path | None = None,
    base_tag: str = "latest",
    created: dt.datetime | None = None,
    architecture: str = "amd64",
    file_mode: int = 0o644,
) -> OciImage:
    """Write an image with one layer holding `files` (path inside the image -> content) into an OCI layout.

    Paths are relative to the image's root (`app/app.py`). The layout in `directory` is created or
    extended (several tags can share one layout). Raises `OciLayoutError` when `base` is not a
    readable layout and `ValueError` for a path outside the image.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    moment = (created or _EPOCH).astimezone(dt.UTC)
    mtime = int(moment.timestamp())
    base_image = read_oci_layout(base, base_tag) if base is not None else None

    layer, diff_id = _layer(files, mtime, file_mode, 0, 0)
    layer_digest = _write_blob(root, layer)
    layers: list[dict[str, Any]] = []
    diff_ids: list[str] = []
    history: list[dict[str, Any]] = []
    inherited: dict[str, Any] = {}
    if base_image is not None:
        for entry in base_image.layers:
            _write_blob(root, base_image.blob(entry["digest"]))
            layers.append(dict(entry))
        diff_ids = list(base_image.config.get("rootfs", {}).get("diff_ids", []))
        history = list(base_image.config.get("history", []))
        inherited = dict(base_image.config.get("config", {}))
    layers.append({"mediaType": OCI_LAYER_GZIP, "digest": layer_digest, "size": len(layer)})
    diff_ids.append(diff_id)
    history.append(
        {"created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "created_by": "labkit.images.build_oci_image"}
    )

    config: dict[str, Any] = dict(inherited)
    environment = list(
        config.get("Env", ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    )
    for key, value in (env or {}).items():
        environment = [e for e in environment if not e.startswith(f"{key}=")] + [f"{key}={value}"]
    config["Env"] = environment
    if cmd is not None:
        config["Cmd"] = list(cmd)
    if entrypoint is not None:
        config["Entrypoint"] = list(entrypoint)
    if workdir is not None:
        config["WorkingDir"] = workdir
    if user is not None:
        config["User"] = user
    if exposed_ports:
        ports = dict(config.get("ExposedPorts", {}))
        for port in exposed_ports:
            ports[str(port) if "/" in str(port) else f"{port}/tcp"] = {}
        config["ExposedPorts"] = ports
    if labels:
        config["Labels"] = {**config.get("Labels", {}), **labels}
    image_config = {
        "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "architecture": architecture,
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    config_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = _write_blob(root, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": layers,
    }
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    manifest_digest = _write_blob(root, manifest_bytes)

    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    index_path = root / "index.json"
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    if index_path.exists():
        index = json.loads(index_path.read_text())
    entries = [
        m
        for m in index.get("manifests", [])
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag
    ]
    entries.append(
        {
            "mediaType": OCI_MANIFEST,
            "digest": manifest_digest,
            "size": len(manifest_bytes),
            "annotations": {"org.opencontainers.image.ref.name": tag},
            "platform": {"architecture": architecture, "os": "linux"},
        }
    )
    index["manifests"] = entries
    index_path.write_text(json.dumps(index, indent=2))
    return OciImage(root, tag, manifest_bytes, manifest_digest, image_config, config_digest, tuple(layers))


def read_oci_layout(directory: str | Path, tag: str = "latest") -> OciImage:
    """Read the image tagged `tag` from an OCI layout; raises `OciLayoutError` when it is not there."""
    root = Path(directory)
    try:
        index = json.loads((root / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise OciLayoutError(str(root), "no readable index.json (is it an OCI image layout?)") from exc
    manifests = index.get("manifests", [])
    found = [m for m in manifests if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    if not found:
        tags = sorted(
            str(m.get("annotations", {}).get("org.opencontainers.image.ref.name"))
            for m in manifests
            if m.get("annotations", {}).get("org.opencontainers.image.ref.name")
        )
        raise OciLayoutError(str(root), f"no image tagged {tag!r} (tags: {', '.join(tags) or 'none'})")
    digest = str(found[0]["digest"])
    empty = OciImage(root, tag, b"", digest, {}, "")
    manifest_bytes = empty.blob(digest)
    manifest = json.loads(manifest_bytes)
    if "layers" not in manifest:
        raise OciLayoutError(str(root), f"{tag!r} is an index, not an image manifest")
    config_digest = str(manifest["config"]["digest"])
    config = json.loads(empty.blob(config_digest))
    return OciImage(
        root, tag, manifest_bytes, digest, config, config_digest, tuple(dict(x) for x in manifest["layers"])
    )


#: The label (OCI's annotation key) that says which image an image is built from or stands for.
BASE_NAME_LABEL = "org.opencontainers.image.base.name"


def placeholder_image(directory: str | Path, reference: str, *, tag: str = "latest") -> OciImage:
    """An OCI image standing for a public image the sandbox cannot download (it is offline).

    It holds one small file saying so, and carries the label `org.opencontainers.image.base.name`
    with the image's full name (`docker.io/nginxdemos/hello:latest`): pushed to a sandbox's ECR and
    run by an ECS task, it gets that image's stand-in. Raises `InvalidReferenceError` for a
    malformed reference.
    """
    from labkit.images.reference import parse_reference

    name = parse_reference(reference)
    note = (
        f"This image stands for {name} in a labkit sandbox, which cannot download images.\n"
        "Tasks that run it in the sandbox get labkit's stand-in for that image.\n"
    )
    return build_oci_image(
        directory,
        files={"labkit/PLACEHOLDER.txt": note},
        labels={BASE_NAME_LABEL: str(name), "org.opencontainers.image.description": note.splitlines()[0]},
        tag=tag,
    )
