"""Registry figures: pushing a 10 MiB image to the sandbox's registry, skopeo against labkit's client.

Run: python benchmarks/registry_bench.py [--mib 10] [--rounds 5] [--json FILE]

1. build: `labkit.images.build_oci_image` of one layer of MIB MiB of random bytes (incompressible).
2. push: per round, a fresh image (new random bytes) pushed to a fresh repository, alternately
   with skopeo (`skopeo copy oci:... docker://...`, a process per push) and with
   `labkit.registry.client` (in this process), and with the ECR API alone
   (`push_layout_via_api`: InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage
   through boto3): "cold" uploads every blob; "warm" pushes the same
   image again under another tag, so the blobs are found (HEAD) and only the manifest is put.
   Medians over ROUNDS; every push's digest is checked against describe_images.
3. API round trip: the median `describe_images` after the pushes, for scale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from _report import emit

import labkit
from labkit.images import build_oci_image
from labkit.registry.client import client_for, credentials_from_token, push_layout_via_api


def _skopeo_push(sb: Any, password: str, layout: Path, repository: str, tag: str) -> None:
    subprocess.run(
        [
            "skopeo", "copy", "--dest-creds", f"AWS:{password}", "--dest-tls-verify=false",
            f"oci:{layout}:bench", f"docker://{sb.registry_host}/{repository}:{tag}",
        ],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures: dict[str, Any] = {"image_mib": args.mib, "rounds": args.rounds}
    with tempfile.TemporaryDirectory() as folder, labkit.open_sandbox(clock="manual") as sb:
        ecr = sb.client("ecr")
        started = time.perf_counter()
        image = build_oci_image(
            Path(folder) / "layout", files={"data.bin": os.urandom(args.mib * 2**20)}, tag="bench"
        )
        figures["build_s"] = round(time.perf_counter() - started, 3)
        figures["image_bytes"] = image.size
        ecr.create_repository(repositoryName="warmup")
        client = client_for(sb)
        client.push_layout(image.path, "warmup", "w", source_tag="bench")  # loads moto's ECR backend
        token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
        password = credentials_from_token(token)[1]
        have_skopeo = shutil.which("skopeo") is not None
        times: dict[str, list[float]] = {
            f"{who}_{phase}": [] for who in ("labkit", "skopeo", "api") for phase in ("cold", "warm")
        }
        for n in range(args.rounds):
            for who in ("labkit", "skopeo", "api") if have_skopeo else ("labkit", "api"):
                repository = f"{who}-{n}"
                ecr.create_repository(repositoryName=repository)
                # New random bytes for every cold push: nothing to find or mount (skopeo keeps a
                # cache of where it saw each blob and would mount it from there).
                image = build_oci_image(
                    Path(folder) / f"layout-{who}-{n}",
                    files={"data.bin": os.urandom(args.mib * 2**20)},
                    tag="bench",
                )
                for phase, tag in (("cold", "a"), ("warm", "b")):
                    started = time.perf_counter()
                    if who == "labkit":
                        client.push_layout(image.path, repository, tag, source_tag="bench")
                    elif who == "api":
                        push_layout_via_api(ecr, image.path, repository, tag, source_tag="bench")
                    else:
                        _skopeo_push(sb, password, image.path, repository, tag)
                    times[f"{who}_{phase}"].append(time.perf_counter() - started)
                digest = ecr.describe_images(repositoryName=repository)["imageDetails"][0]["imageDigest"]
                assert digest == image.manifest_digest, (digest, image.manifest_digest)
        for key, values in times.items():
            if values:
                figures[f"push_{key}_median_s"] = round(statistics.median(values), 3)
        calls = []
        for _ in range(50):
            started = time.perf_counter()
            ecr.describe_images(repositoryName="labkit-0")
            calls.append(time.perf_counter() - started)
        figures["describe_images_median_ms"] = round(statistics.median(calls) * 1000, 2)
        figures["skopeo"] = have_skopeo
    emit(figures, args.json)


if __name__ == "__main__":
    main()
