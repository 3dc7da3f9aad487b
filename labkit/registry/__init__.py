"""The sandbox's container registry: the OCI Distribution API over the account's ECR repositories.

- `labkit.registry.app`: the `/v2/` WSGI application the emulator serves;
- `labkit.registry.ecr`: ECR's rules on moto's repositories (digests, tags, immutability, scans,
  lifecycle policies on the sandbox clock);
- `labkit.registry.lifecycle`: lifecycle policy validation and evaluation (pure);
- `labkit.registry.scanning`: simulated basic scanning;
- `labkit.registry.client`: a small registry client (push an OCI layout, pull, list tags), the
  fallback where skopeo is not installed.
"""
