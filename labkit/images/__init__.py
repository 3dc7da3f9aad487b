"""Container images without a Docker engine: references, and OCI images built on disk."""

from labkit.images.build import OciImage, OciLayoutError, build_oci_image, placeholder_image, read_oci_layout
from labkit.images.reference import ImageReference, InvalidReferenceError, parse_reference

__all__ = [
    "ImageReference",
    "InvalidReferenceError",
    "OciImage",
    "OciLayoutError",
    "build_oci_image",
    "parse_reference",
    "placeholder_image",
    "read_oci_layout",
]
