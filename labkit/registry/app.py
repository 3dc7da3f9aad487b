"""The sandbox's container registry: the OCI Distribution API (`/v2/`) over the account's ECR repositories.

The emulator sends every `/v2/...` request here. What a client can do, as on ECR:

- `GET /v2/`: the API version check (401 with a `WWW-Authenticate: Basic` challenge without a token);
- blobs: `POST /v2/<name>/blobs/uploads/` (a monolithic upload with `?digest=`, a cross-repository
  mount with `?mount=&from=`, or a session), `PATCH` chunks, `PUT ...?digest=` to finish, `GET` the
  session's progress, `DELETE` it; `HEAD`/`GET /v2/<name>/blobs/<digest>`;
- manifests: `PUT`/`GET`/`HEAD /v2/<name>/manifests/<tag or digest>` for OCI and Docker v2
  schema 2 manifests and indexes (manifest lists); `DELETE` by digest;
- `GET /v2/<name>/tags/list` (with `n` and `last`).

Every request needs `Authorization: Basic base64(AWS:<password>)` where the password is a token
from `ecr get-login-password` / `get_authorization_token`, valid 12 hours of sandbox time.
A repository that does not exist is `NAME_UNKNOWN` (create it first, as on ECR). Errors have the
registry's JSON body: `{"errors": [{"code", "message", "detail"}]}`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from labkit.registry import ecr
from labkit.sandbox import clock as clocks
from labkit.sandbox.clock import SandboxClock

__all__ = ["REGISTRY_PREFIX", "RegistryApp"]

REGISTRY_PREFIX = "/v2"
_NAME = r"(?P<name>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
_ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/v2/?$"), "base"),
    (re.compile(rf"^/v2/{_NAME}/blobs/uploads/?$"), "upload_start"),
    (re.compile(rf"^/v2/{_NAME}/blobs/uploads/(?P<upload>[A-Za-z0-9-]+)$"), "upload"),
    (re.compile(rf"^/v2/{_NAME}/blobs/(?P<digest>[^/]+)$"), "blob"),
    (re.compile(rf"^/v2/{_NAME}/manifests/(?P<reference>[^/]+)$"), "manifest"),
    (re.compile(rf"^/v2/{_NAME}/tags/list$"), "tags"),
]
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_STATUS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    416: "Range Not Satisfiable",
}


class _Host(Protocol):
    """What the registry needs from the emulator it is part of."""

    account_id: str
    region: str
    clock: SandboxClock

    @property
    def simulator(self) -> Any: ...

    def ensure_moto(self) -> None: ...


class RegistryError(Exception):
    """An error the registry answers with its JSON error body."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail


def _response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None, content_type: str | None = None
) -> Response:
    response = Response(body, status=f"{status} {_STATUS.get(status, 'OK')}", content_type=content_type)
    if content_type is None:
        response.headers.pop("Content-Type", None)
    response.headers["Docker-Distribution-API-Version"] = "registry/2.0"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _error(exc: RegistryError, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"errors": [{"code": exc.code, "message": exc.message, "detail": exc.detail}]}).encode()
    return _response(exc.status, body, headers, "application/json; charset=utf-8")


class RegistryApp:
    """The `/v2/` registry of one sandbox account (a WSGI application)."""

    def __init__(self, host: _Host) -> None:
        self.host = host
        self.state = ecr.open_state(host.account_id, host.region)

    def forget(self) -> None:
        """Drop everything the registry holds outside moto (blobs, uploads, tokens); start afresh."""
        ecr.forget_state(self.host.account_id)
        self.state = ecr.open_state(self.host.account_id, self.host.region)

    def close(self) -> None:
        """Drop the account's registry state for good."""
        ecr.forget_state(self.host.account_id)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        self.host.ensure_moto()
        simulator = self.host.simulator
        with (
            clocks.using(self.host.clock),
            simulator.lock if simulator is not None else contextlib.nullcontext(),
        ):
            if simulator is not None:
                simulator.catch_up()
            try:
                response = self._dispatch(request)
            except RegistryError as exc:
                headers = {}
                if exc.status == 401:
                    headers["WWW-Authenticate"] = (
                        f'Basic realm="https://{self.state.host}/",service="ecr.amazonaws.com"'
                    )
                response = _error(exc, headers)
        return response(environ, start_response)

    # -- routing --------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Response:
        self._authenticate(request)
        for pattern, route in _ROUTES:
            match = pattern.match(request.path)
            if match is None:
                continue
            params = match.groupdict()
            if route == "base":
                return _response(200, b"{}", content_type="application/json")
            name = params.pop("name")
            handler = getattr(self, f"_{route}")
            result: Response = handler(request, name, **params)
            return result
        raise RegistryError(404, "NAME_INVALID", "invalid repository name or path", {"path": request.path})

    def _authenticate(self, request: Request) -> None:
        link = request.args.get("labkit-download")
        if link is not None and request.method in ("GET", "HEAD"):
            found = self.state.downloads.get(link)
            if (
                found is not None
                and self.host.clock.now() < found[2]
                and request.path == f"/v2/{found[0]}/blobs/{found[1]}"
            ):
                return  # a GetDownloadUrlForLayer link: pre-signed, as ECR's S3 links are
            raise RegistryError(
                403, "DENIED", "the download link is not valid (expired, or for another layer)"
            )
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise RegistryError(
                401,
                "UNAUTHORIZED",
                "authentication required: log in with a token from ecr get-login-password",
            )
        try:
            username, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise RegistryError(
                401, "UNAUTHORIZED", "the Authorization header is not valid Basic credentials"
            ) from None
        verdict = self.state.token_state(username, password, self.host.clock.now())
        if verdict == "expired":
            raise RegistryError(
                403, "DENIED", "Your authorization token has expired. Reauthenticate and try again."
            )
        if verdict != "valid":
            raise RegistryError(
                401,
                "UNAUTHORIZED",
                "Not Authorized: the user name must be AWS and the password a current ECR token",
            )

    def _repository(self, name: str) -> Any:
        repository = ecr.ecr_backend(self.host.account_id, self.host.region).repositories.get(name)
        if repository is None:
            raise RegistryError(
                404,
                "NAME_UNKNOWN",
                f"The repository with name '{name}' does not exist in the registry with id '{self.host.account_id}'",
            )
        return repository

    # -- blobs ----------------------------------------------------------------------------

    def _store_blob(self, repository: Any, data: bytes, digest: str) -> Response:
        if not _DIGEST.match(digest):
            raise RegistryError(400, "DIGEST_INVALID", f"unsupported digest {digest!r} (sha256 only)")
        actual = ecr.digest_of(data)
        if actual != digest:
            raise RegistryError(
                400, "DIGEST_INVALID", "provided digest did not match uploaded content", {"computed": actual}
            )
        self.state.blobs.setdefault(digest, data)
        ecr.repository_blobs(repository).add(digest)
        return _response(
            201,
            headers={
                "Location": f"/v2/{repository.name}/blobs/{digest}",
                "Docker-Content-Digest": digest,
                "Content-Length": "0",
            },
        )

    def _upload_start(self, request: Request, name: str) -> Response:
        if request.method != "POST":
            raise RegistryError(405, "UNSUPPORTED", f"{request.method} is not supported here")
        repository = self._repository(name)
        mount, source = request.args.get("mount"), request.args.get("from")
        if mount and source:
            other = ecr.ecr_backend(self.host.account_id, self.host.region).repositories.get(source)
            if other is not None and mount in ecr.repository_blobs(other) and mount in self.state.blobs:
                ecr.repository_blobs(repository).add(mount)
                return _response(
                    201,
                    headers={
                        "Location": f"/v2/{name}/blobs/{mount}",
                        "Docker-Content-Digest": mount,
                        "Content-Length": "0",
                    },
                )
        digest = request.args.get("digest")
        if digest:
            return self._store_blob(repository, request.get_data(), digest)
        upload = str(uuid.uuid4())
        self.state.uploads[upload] = (name, bytearray())
        return _response(
            202,
            headers={
                "Location": f"/v2/{name}/blobs/uploads/{upload}",
                "Docker-Upload-UUID": upload,
                "Range": "0-0",
                "Content-Length": "0",
            },
        )

    def _upload(self, request: Request, name: str, upload: str) -> Response:
        repository = self._repository(name)
        session = self.state.uploads.get(upload)
        if session is None or session[0] != name:
            raise RegistryError(
                404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", {"uuid": upload}
            )
        data = session[1]
        location = {"Location": f"/v2/{name}/blobs/uploads/{upload}", "Docker-Upload-UUID": upload}
        if request.method == "GET":
            return _response(204, headers={**location, "Range": f"0-{max(len(data) - 1, 0)}"})
        if request.method == "DELETE":
            del self.state.uploads[upload]
            return _response(204)
        if request.method == "PATCH":
            chunk = request.get_data()
            content_range = request.headers.get("Content-Range")
            if content_range:
                start = content_range.split("-", 1)[0].strip()
                if not start.isdigit() or int(start) != len(data):
                    raise RegistryError(
                        416,
                        "BLOB_UPLOAD_INVALID",
                        f"the chunk starts at {start}; the upload has {len(data)} bytes",
                    )
            data.extend(chunk)
            return _response(
                202, headers={**location, "Range": f"0-{max(len(data) - 1, 0)}", "Content-Length": "0"}
            )
        if request.method == "PUT":
            digest = request.args.get("digest", "")
            data.extend(request.get_data())
            response = self._store_blob(repository, bytes(data), digest)
            del self.state.uploads[upload]
            return response
        raise RegistryError(405, "UNSUPPORTED", f"{request.method} is not supported on an upload")

    def _blob(self, request: Request, name: str, digest: str) -> Response:
        repository = self._repository(name)
        if request.method == "DELETE":
            raise RegistryError(405, "UNSUPPORTED", "ECR does not delete blobs; delete the image instead")
        if request.method not in ("GET", "HEAD"):
            raise RegistryError(405, "UNSUPPORTED", f"{request.method} is not supported on a blob")
        if digest not in ecr.repository_blobs(repository) or digest not in self.state.blobs:
            raise RegistryError(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest})
        data = self.state.blobs[digest]
        headers = {"Docker-Content-Digest": digest, "Content-Length": str(len(data))}
        response = _response(
            200, data if request.method == "GET" else b"", headers, "application/octet-stream"
        )
        if request.method == "HEAD":
            response.headers["Content-Length"] = str(len(data))
        return response

    # -- manifests ------------------------------------------------------------------------

    def _find_image(self, repository: Any, reference: str) -> Any:
        if reference.startswith("sha256:"):
            image = next((i for i in repository.images if i.get_image_digest() == reference), None)
        else:
            image = next((i for i in repository.images if reference in i.image_tags), None)
        if image is None:
            raise RegistryError(
                404, "MANIFEST_UNKNOWN", f"Requested image not found: {reference}", {"reference": reference}
            )
        return image

    def _manifest(self, request: Request, name: str, reference: str) -> Response:
        repository = self._repository(name)
        if request.method in ("GET", "HEAD"):
            image = self._find_image(repository, reference)
            body = str(image.image_manifest).encode("utf-8")
            headers = {"Docker-Content-Digest": image.get_image_digest(), "Content-Length": str(len(body))}
            media_type = image.image_manifest_media_type or json.loads(body).get(
                "mediaType", ecr.OCI_MANIFEST
            )
            response = _response(200, body if request.method == "GET" else b"", headers, media_type)
            if request.method == "HEAD":
                response.headers["Content-Length"] = str(len(body))
            return response
        if request.method == "PUT":
            body = request.get_data()
            by_digest = reference.startswith("sha256:")
            if not by_digest and not _TAG.match(reference):
                raise RegistryError(400, "TAG_INVALID", f"{reference!r} is not a valid tag")
            media_type = (request.headers.get("Content-Type") or "").split(";", 1)[0].strip() or None
            if media_type in ("application/json", "application/octet-stream"):
                media_type = None
            try:
                image = ecr.put_manifest(
                    self.state,
                    repository,
                    body,
                    media_type=media_type,
                    tag=None if by_digest else reference,
                    now=self.host.clock.now(),
                    expected_digest=reference if by_digest else None,
                )
            except ecr.ImageRefused as exc:
                raise RegistryError(exc.status, exc.registry_code, exc.message) from None
            digest = image.get_image_digest()
            return _response(
                201,
                headers={
                    "Location": f"/v2/{name}/manifests/{digest}",
                    "Docker-Content-Digest": digest,
                    "Content-Length": "0",
                },
            )
        if request.method == "DELETE":
            if not reference.startswith("sha256:"):
                raise RegistryError(
                    400, "UNSUPPORTED", "delete an image by its digest (or with ecr batch-delete-image)"
                )
            image = self._find_image(repository, reference)
            repository.images.remove(image)
            return _response(202, headers={"Content-Length": "0"})
        raise RegistryError(405, "UNSUPPORTED", f"{request.method} is not supported on a manifest")

    def _tags(self, request: Request, name: str) -> Response:
        repository = self._repository(name)
        tags = sorted({t for i in repository.images for t in i.image_tags})
        last = request.args.get("last")
        if last:
            tags = [t for t in tags if t > last]
        headers: dict[str, str] = {}
        limit = request.args.get("n", "")
        if limit.isdigit():
            more = len(tags) > int(limit)
            tags = tags[: int(limit)]
            if more and tags:
                headers["Link"] = f'</v2/{name}/tags/list?n={limit}&last={tags[-1]}>; rel="next"'
        body = json.dumps({"name": name, "tags": tags}).encode()
        return _response(200, body, headers, "application/json")
