"""Image references split per the distribution grammar, normalised as Docker does."""

from __future__ import annotations

import pytest

from labkit.images.reference import InvalidReferenceError, parse_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("reference", "parts"),
    [
        ("public.ecr.aws/nginx/nginx:1.27", ("public.ecr.aws", "nginx/nginx", "1.27", None)),
        ("nginxdemos/hello", ("docker.io", "nginxdemos/hello", "latest", None)),
        ("nginx", ("docker.io", "library/nginx", "latest", None)),
        (
            f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@{DIGEST}",
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "app", None, DIGEST),
        ),
        (f"nginx:1.27@{DIGEST}", ("docker.io", "library/nginx", "1.27", DIGEST)),
        ("127.0.0.1:5000/team/app:v1", ("127.0.0.1:5000", "team/app", "v1", None)),
        ("localhost/app", ("localhost", "app", "latest", None)),
        ("index.docker.io/library/httpd:2.4", ("docker.io", "library/httpd", "2.4", None)),
    ],
)
def test_references_split_into_four_parts(
    reference: str, parts: tuple[str, str, str | None, str | None]
) -> None:
    """Registry, repository, tag and digest, with docker.io/library/ and latest filled in."""
    parsed = parse_reference(reference)
    assert (parsed.registry, parsed.repository, parsed.tag, parsed.digest) == parts


def test_familiar_form_drops_docker_hub_defaults() -> None:
    """`docker.io/library/nginx:latest` prints as `nginx:latest`; other registries keep their host."""
    assert parse_reference("nginx").familiar() == "nginx:latest"
    assert parse_reference("docker.io/nginxdemos/hello").familiar() == "nginxdemos/hello:latest"
    assert str(parse_reference("public.ecr.aws/nginx/nginx:1.27")) == "public.ecr.aws/nginx/nginx:1.27"


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("Nginx", "lowercase"),
        ("nginx:", "invalid reference format"),
        ("nginx:a:b", "invalid reference format"),
        ("nginx@sha256:abc", "invalid reference format"),
        ("", "empty"),
        ("-bad/name", "invalid reference format"),
    ],
)
def test_malformed_references_are_refused(reference: str, reason: str) -> None:
    """What `docker pull` refuses raises InvalidReferenceError with the reason."""
    with pytest.raises(InvalidReferenceError, match=reason):
        parse_reference(reference)
