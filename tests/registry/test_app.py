"""The sandbox registry: real clients push, pull and list; ECR's rules on what they push."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from labkit.images import build_oci_image
from labkit.images.build import OciImage
from labkit.registry.client import RegistryClient, RegistryRequestError, client_for
from labkit.sandbox.embedded import EmbeddedSandbox

SKOPEO = shutil.which("skopeo")
needs_skopeo = pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed (Debian package `skopeo`)")


def _password(sandbox: EmbeddedSandbox) -> str:
    token = sandbox.client("ecr").get_authorization_token()["authorizationData"][0]["authorizationToken"]
    return base64.b64decode(token).decode().split(":", 1)[1]


def _image(tmp_path: Path, text: str = "print('hello')\n", tag: str = "v1") -> OciImage:
    return build_oci_image(
        tmp_path / "layout", files={"app/app.py": text}, cmd=["python", "/app/app.py"], tag=tag
    )


def _skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    assert SKOPEO is not None
    return subprocess.run([SKOPEO, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def repo(sandbox: EmbeddedSandbox) -> Any:
    """An ECR client of the sandbox with a repository `app`."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="app")
    return ecr


@needs_skopeo
def test_skopeo_push_gives_the_manifest_digest_that_describe_images_shows(
    sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path
) -> None:
    """skopeo pushes an OCI layout with an ECR token; describe/list/batch-get show the digest skopeo printed."""
    image = _image(tmp_path)
    digest_file = tmp_path / "digest"
    pushed = _skopeo(
        "copy",
        "--dest-creds",
        f"AWS:{_password(sandbox)}",
        "--dest-tls-verify=false",
        "--digestfile",
        str(digest_file),
        f"oci:{image.path}:v1",
        f"docker://{sandbox.registry_host}/app:v1",
    )
    assert pushed.returncode == 0, pushed.stderr
    digest = digest_file.read_text().strip()
    assert digest == image.manifest_digest
    detail = repo.describe_images(repositoryName="app")["imageDetails"][0]
    assert detail["imageDigest"] == digest
    assert detail["imageTags"] == ["v1"]
    assert detail["imageSizeInBytes"] == image.size
    assert detail["imagePushedAt"].timestamp() == pytest.approx(sandbox.now().timestamp(), abs=1)
    assert repo.list_images(repositoryName="app")["imageIds"] == [{"imageDigest": digest, "imageTag": "v1"}]
    got = repo.batch_get_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])["images"][0]
    assert got["imageManifest"].encode() == image.manifest


@needs_skopeo
def test_skopeo_pulls_back_and_lists_tags(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """What skopeo pushed, skopeo pulls back byte for byte and lists by tag."""
    image = _image(tmp_path)
    creds = f"AWS:{_password(sandbox)}"
    target = f"docker://{sandbox.registry_host}/app"
    for tag in ("v1", "latest"):
        pushed = _skopeo(
            "copy",
            "--dest-creds",
            creds,
            "--dest-tls-verify=false",
            f"oci:{image.path}:v1",
            f"{target}:{tag}",
        )
        assert pushed.returncode == 0, pushed.stderr
    listed = _skopeo("list-tags", "--creds", creds, "--tls-verify=false", target)
    assert listed.returncode == 0, listed.stderr
    assert sorted(json.loads(listed.stdout)["Tags"]) == ["latest", "v1"]
    back = tmp_path / "back"
    pulled = _skopeo("copy", "--src-creds", creds, "--src-tls-verify=false", f"{target}:v1", f"oci:{back}:v1")
    assert pulled.returncode == 0, pulled.stderr
    index = json.loads((back / "index.json").read_text())
    assert index["manifests"][0]["digest"] == image.manifest_digest


@needs_skopeo
def test_a_push_without_a_token_is_refused(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """skopeo without credentials (or with a made-up password) gets `unauthorized` and nothing is stored."""
    image = _image(tmp_path)
    for extra in ([], ["--dest-creds", "AWS:not-a-token"]):
        pushed = _skopeo(
            "copy",
            *extra,
            "--dest-tls-verify=false",
            f"oci:{image.path}:v1",
            f"docker://{sandbox.registry_host}/app:v1",
        )
        assert pushed.returncode != 0
        assert "unauthorized" in pushed.stderr.lower()
    assert repo.describe_images(repositoryName="app")["imageDetails"] == []


@needs_skopeo
def test_a_push_to_a_missing_repository_is_name_unknown(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """As on ECR, pushing to a repository nobody created fails with `name unknown`."""
    image = _image(tmp_path)
    pushed = _skopeo(
        "copy", "--dest-creds", f"AWS:{_password(sandbox)}", "--dest-tls-verify=false",
        f"oci:{image.path}:v1", f"docker://{sandbox.registry_host}/nope:v1",
    )  # fmt: skip
    assert pushed.returncode != 0
    assert "name unknown" in pushed.stderr
    assert "nope" in pushed.stderr


def test_the_registry_challenges_with_basic_auth(sandbox: EmbeddedSandbox) -> None:
    """`GET /v2/` without credentials is a 401 with ECR's Basic challenge and the registry's error body."""
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"http://{sandbox.registry_host}/v2/"
        )
    assert caught.value.code == 401
    assert caught.value.headers["WWW-Authenticate"].startswith('Basic realm="https://')
    assert json.loads(caught.value.read())["errors"][0]["code"] == "UNAUTHORIZED"


def test_tokens_expire_after_twelve_hours_of_sandbox_time(sandbox: EmbeddedSandbox, repo: Any) -> None:
    """A token works until 12 sandbox hours have passed, then the registry answers DENIED."""
    client = client_for(sandbox)
    client.ping()
    sandbox.advance(12 * 3600 - 60)
    client.ping()
    sandbox.advance(120)
    with pytest.raises(RegistryRequestError) as caught:
        client.ping()
    assert (caught.value.status, caught.value.code) == (403, "DENIED")
    assert "expired" in caught.value.registry_message


def test_chunked_upload_and_cross_repository_mount(sandbox: EmbeddedSandbox, repo: Any) -> None:
    """A blob uploaded in two PATCH chunks is stored under its digest and can be mounted into another repository."""
    import hashlib

    repo.create_repository(repositoryName="other")
    client = client_for(sandbox)
    data = b"a" * 1000 + b"b" * 24
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _, headers, _ = client._request("POST", "/v2/app/blobs/uploads/", b"")
    location = headers["Location"]
    client._request("PATCH", location, data[:1000], {"Content-Range": "0-999"})
    with pytest.raises(RegistryRequestError) as caught:
        client._request("PATCH", location, data[1000:], {"Content-Range": "5-28"})
    assert caught.value.status == 416
    client._request("PATCH", location, data[1000:], {"Content-Range": "1000-1023"})
    client._request("PUT", f"{location}?digest={digest}", b"")
    assert client.blob("app", digest) == data
    assert not client.has_blob("other", digest)
    status, _, _ = client._request("POST", f"/v2/other/blobs/uploads/?mount={digest}&from=app", b"")
    assert status == 201
    assert client.has_blob("other", digest)


def test_a_wrong_digest_is_refused(sandbox: EmbeddedSandbox, repo: Any) -> None:
    """A monolithic upload whose content does not match its digest is DIGEST_INVALID."""
    client = client_for(sandbox)
    with pytest.raises(RegistryRequestError) as caught:
        client._request("POST", "/v2/app/blobs/uploads/?digest=sha256:" + "0" * 64, b"data")
    assert caught.value.code == "DIGEST_INVALID"


def test_a_manifest_needs_its_blobs_first(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """A manifest whose layers were never uploaded is MANIFEST_BLOB_UNKNOWN (LayersNotFoundException for PutImage)."""
    image = _image(tmp_path)
    client = client_for(sandbox)
    with pytest.raises(RegistryRequestError) as caught:
        client.push_manifest("app", "v1", image.manifest, image.media_type)
    assert caught.value.code == "MANIFEST_BLOB_UNKNOWN"
    with pytest.raises(ClientError) as refused:
        repo.put_image(repositoryName="app", imageManifest=image.manifest.decode(), imageTag="v1")
    assert refused.value.response["Error"]["Code"] == "LayersNotFoundException"


def test_an_index_of_pushed_images_is_stored_with_its_own_digest(
    sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path
) -> None:
    """An OCI index over two pushed images is accepted; its size is its largest image's."""
    client = client_for(sandbox)
    small = build_oci_image(tmp_path / "a", files={"a": "x"}, tag="a")
    large = build_oci_image(tmp_path / "b", files={"b": "y" * 5000}, tag="b", architecture="arm64")
    client.push_layout(small.path, "app", "amd64", source_tag="a")
    client.push_layout(large.path, "app", "arm64", source_tag="b")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": i.media_type, "digest": i.manifest_digest, "size": len(i.manifest)}
                for i in (small, large)
            ],
        }
    ).encode()
    digest = client.push_manifest("app", "multi", index, "application/vnd.oci.image.index.v1+json")
    body, media_type, served = client.manifest("app", "multi")
    assert (body, served, media_type) == (index, digest, "application/vnd.oci.image.index.v1+json")
    detail = repo.describe_images(repositoryName="app", imageIds=[{"imageTag": "multi"}])["imageDetails"][0]
    assert detail["imageSizeInBytes"] == max(small.size, large.size)


def test_retagging_leaves_the_old_image_untagged(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """Pushing a new image as `latest` moves the tag; the previous image stays, untagged, as on ECR."""
    client = client_for(sandbox)
    first = build_oci_image(tmp_path / "l", files={"v": "1"}, tag="one")
    second = build_oci_image(tmp_path / "l", files={"v": "2"}, tag="two")
    client.push_layout(first.path, "app", "latest", source_tag="one")
    client.push_layout(second.path, "app", "latest", source_tag="two")
    images = {
        d["imageDigest"]: d.get("imageTags", [])
        for d in repo.describe_images(repositoryName="app")["imageDetails"]
    }
    assert images == {first.manifest_digest: [], second.manifest_digest: ["latest"]}
    untagged = repo.describe_images(repositoryName="app", filter={"tagStatus": "UNTAGGED"})["imageDetails"]
    assert [d["imageDigest"] for d in untagged] == [first.manifest_digest]
    tagged = repo.list_images(repositoryName="app", filter={"tagStatus": "TAGGED"})["imageIds"]
    assert tagged == [{"imageDigest": second.manifest_digest, "imageTag": "latest"}]


def test_a_reset_forgets_tokens_and_images(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """After the sandbox is reset, an old token is refused and the repository is gone."""
    client = client_for(sandbox)
    client.push_layout(_image(tmp_path).path, "app", "v1")
    sandbox.reset()
    with pytest.raises(RegistryRequestError) as caught:
        client.ping()
    assert caught.value.status == 401
    fresh = client_for(sandbox)
    with pytest.raises(RegistryRequestError) as gone:
        fresh.tags("app")
    assert gone.value.code == "NAME_UNKNOWN"


def test_an_immutable_repository_refuses_to_move_a_tag(sandbox: EmbeddedSandbox, tmp_path: Path) -> None:
    """IMMUTABLE: re-pushing the same image is fine, another image under the tag is TAG_INVALID / ImageTagAlreadyExistsException."""
    ecr = sandbox.client("ecr")
    ecr.create_repository(repositoryName="fixed", imageTagMutability="IMMUTABLE")
    client = client_for(sandbox)
    first = build_oci_image(tmp_path / "l", files={"v": "1"}, tag="one")
    second = build_oci_image(tmp_path / "l", files={"v": "2"}, tag="two")
    client.push_layout(first.path, "fixed", "v1", source_tag="one")
    assert client.push_layout(first.path, "fixed", "v1", source_tag="one") == first.manifest_digest
    with pytest.raises(RegistryRequestError) as caught:
        client.push_layout(second.path, "fixed", "v1", source_tag="two")
    assert caught.value.code == "TAG_INVALID"
    assert "immutable" in caught.value.registry_message
    with pytest.raises(ClientError) as refused:
        ecr.put_image(repositoryName="fixed", imageManifest=second.manifest.decode(), imageTag="v1")
    assert refused.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"


def test_put_image_digest_is_the_manifest_digest(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """PutImage (after the layers are there) stores the image under sha256 of the manifest, pullable by a client."""
    image = _image(tmp_path)
    client = client_for(sandbox)
    for digest in [image.config_digest, *(layer["digest"] for layer in image.layers)]:
        client.upload_blob("app", digest, image.blob(digest))
    put = repo.put_image(repositoryName="app", imageManifest=image.manifest.decode(), imageTag="api")["image"]
    assert put["imageId"]["imageDigest"] == image.manifest_digest
    assert client.manifest("app", "api")[0] == image.manifest
    with pytest.raises(ClientError) as again:
        repo.put_image(repositoryName="app", imageManifest=image.manifest.decode(), imageTag="api")
    assert again.value.response["Error"]["Code"] == "ImageAlreadyExistsException"


def test_an_other_clients_made_up_host_is_refused_over_plain_http() -> None:
    """The fallback client never sends credentials over plain HTTP to a host that is not loopback."""
    from labkit.errors import LabkitError

    client = RegistryClient("registry.example.com", "AWS", "secret", insecure=True)
    with pytest.raises(LabkitError, match="plain HTTP"):
        client.ping()


def test_registry_host_and_image_uri(sandbox: EmbeddedSandbox) -> None:
    """An emulated sandbox's registry is its own loopback host; describe_repositories keeps ECR's URI form."""
    assert sandbox.registry_host == f"127.0.0.1:{sandbox.port}"
    assert sandbox.image_uri("app", "v1") == f"127.0.0.1:{sandbox.port}/app:v1"
    uri = sandbox.client("ecr").create_repository(repositoryName="app")["repository"]["repositoryUri"]
    assert uri == f"{sandbox.account_id}.dkr.ecr.us-east-1.amazonaws.com/app"


@pytest.mark.docker
def test_docker_pushes_to_the_sandbox_registry(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """Where a Docker engine runs, `docker login` + `docker push` to the loopback registry work too."""
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "info"], capture_output=True, check=False, timeout=30).returncode != 0
    ):
        pytest.skip("no reachable Docker engine (`docker info` fails)")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY Dockerfile /\n")
    tag = f"{sandbox.registry_host}/app:docker"
    login = subprocess.run(
        [docker, "login", "--username", "AWS", "--password-stdin", sandbox.registry_host],
        input=_password(sandbox), capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    assert (
        subprocess.run([docker, "build", "-t", tag, str(tmp_path)], check=False, timeout=300).returncode == 0
    )
    assert subprocess.run([docker, "push", tag], check=False, timeout=300).returncode == 0
    assert repo.list_images(repositoryName="app")["imageIds"][0]["imageTag"] == "docker"


def test_what_a_pushed_image_stands_for(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """A placeholder pushed to ECR stands for the image its label names; other images for nothing."""
    from labkit.images import placeholder_image
    from labkit.registry.ecr import pushed_image_stands_for

    client_for(sandbox).push_layout(
        placeholder_image(tmp_path / "p", "nginxdemos/hello").path, "app", "v1", source_tag="latest"
    )
    uri = f"{sandbox.account_id}.dkr.ecr.us-east-1.amazonaws.com/app"
    assert pushed_image_stands_for(f"{uri}:v1") == "docker.io/nginxdemos/hello:latest"
    assert pushed_image_stands_for(f"{uri}:missing") is None
    assert pushed_image_stands_for("nginxdemos/hello") is None
    assert pushed_image_stands_for("999999999999.dkr.ecr.us-east-1.amazonaws.com/app:v1") is None


def test_docker_schema2_manifest_and_manifest_list(
    sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path
) -> None:
    """Docker v2 schema 2 manifests and manifest lists are stored with their media type and served back."""
    image = _image(tmp_path)
    client = client_for(sandbox)
    for digest in [image.config_digest, *(layer["digest"] for layer in image.layers)]:
        client.upload_blob("app", digest, image.blob(digest))
    docker_type = "application/vnd.docker.distribution.manifest.v2+json"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": docker_type,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": image.config_digest,
                "size": len(image.blob(image.config_digest)),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "digest": x["digest"],
                    "size": x["size"],
                }
                for x in image.layers
            ],
        },
        indent=3,
    ).encode()
    digest = client.push_manifest("app", "docker", manifest, docker_type)
    list_type = "application/vnd.docker.distribution.manifest.list.v2+json"
    manifest_list = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": list_type,
            "manifests": [
                {
                    "mediaType": docker_type,
                    "digest": digest,
                    "size": len(manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    list_digest = client.push_manifest("app", "multi", manifest_list, list_type)
    assert client.manifest("app", "docker") == (manifest, docker_type, digest)
    assert client.manifest("app", list_digest)[1] == list_type
    types = {
        d["imageDigest"]: d["imageManifestMediaType"]
        for d in repo.describe_images(repositoryName="app")["imageDetails"]
    }
    assert types == {digest: docker_type, list_digest: list_type}
    with pytest.raises(RegistryRequestError) as caught:
        client.push_manifest(
            "app", "bad", b'{"schemaVersion": 1}', "application/vnd.docker.distribution.manifest.v1+json"
        )
    assert caught.value.code == "MANIFEST_INVALID"


def test_the_ecr_api_layer_push_and_download_url(sandbox: EmbeddedSandbox, repo: Any, tmp_path: Path) -> None:
    """InitiateLayerUpload/UploadLayerPart/CompleteLayerUpload + PutImage push an image skopeo-compatible; GetDownloadUrlForLayer links to it."""
    import urllib.request

    from labkit.registry.client import push_layout_via_api

    image = build_oci_image(
        tmp_path / "l", files={"big.bin": bytes(range(256)) * 100_000}, tag="v1"
    )  # 25.6 MB: two parts
    digest = push_layout_via_api(repo, image.path, "app", "v1")
    assert digest == image.manifest_digest
    checked = repo.batch_check_layer_availability(
        repositoryName="app", layerDigests=[image.layers[0]["digest"], "sha256:" + "1" * 64]
    )
    assert [x["layerAvailability"] for x in checked["layers"]] == ["AVAILABLE"]
    assert [f["failureCode"] for f in checked["failures"]] == ["MissingLayerDigest"]
    assert client_for(sandbox).manifest("app", "v1")[0] == image.manifest
    url = repo.get_download_url_for_layer(repositoryName="app", layerDigest=image.layers[0]["digest"])[
        "downloadUrl"
    ]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:  # no credentials: the link is the permission
        assert response.read() == image.blob(image.layers[0]["digest"])
    upload = repo.initiate_layer_upload(repositoryName="app")["uploadId"]
    repo.upload_layer_part(
        repositoryName="app", uploadId=upload, partFirstByte=0, partLastByte=2, layerPartBlob=b"abc"
    )
    with pytest.raises(ClientError) as out_of_order:
        repo.upload_layer_part(
            repositoryName="app", uploadId=upload, partFirstByte=10, partLastByte=12, layerPartBlob=b"def"
        )
    assert out_of_order.value.response["Error"]["Code"] == "InvalidLayerPartException"
    with pytest.raises(ClientError) as wrong:
        repo.complete_layer_upload(repositoryName="app", uploadId=upload, layerDigests=["sha256:" + "2" * 64])
    assert wrong.value.response["Error"]["Code"] == "InvalidLayerException"


def test_signed_aws_requests_under_v2_still_reach_their_service(sandbox: EmbeddedSandbox) -> None:
    """API Gateway v2 and SES v2 also use `/v2/` paths; their signed requests are not registry requests."""
    assert sandbox.client("apigatewayv2").get_apis()["Items"] == []
    assert sandbox.client("sesv2").list_email_identities()["EmailIdentities"] == []
