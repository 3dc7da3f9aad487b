"""Public addresses in a sandbox: documentation ranges (RFC 5737) and the DNS names AWS gives them."""

from __future__ import annotations

import random

import pytest

from labkit.sandbox.simulator.addresses import (
    documentation_public_ip,
    is_documentation_address,
    public_dns_name,
)


def test_every_public_ip_is_a_documentation_address_and_not_taken() -> None:
    """A thousand draws: all in 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24, never a network or broadcast address."""
    rng = random.Random(7)
    taken: set[str] = set()
    for _ in range(700):
        address = documentation_public_ip(rng, taken)
        assert is_documentation_address(address)
        assert address not in taken
        assert not address.endswith((".0", ".255"))
        taken.add(address)


@pytest.mark.parametrize("address", ["3.58.106.18", "54.214.1.2", "10.0.0.1", "not-an-ip", "192.0.3.1"])
def test_other_addresses_are_not_documentation_ones(address: str) -> None:
    """Amazon's ranges, private ranges and garbage are not documentation addresses."""
    assert not is_documentation_address(address)


def test_public_dns_names_as_aws_writes_them() -> None:
    """us-east-1: ec2-A-B-C-D.compute-1.amazonaws.com; elsewhere ec2-A-B-C-D.REGION.compute.amazonaws.com."""
    assert public_dns_name("203.0.113.25", "us-east-1") == "ec2-203-0-113-25.compute-1.amazonaws.com"
    assert public_dns_name("198.51.100.7", "eu-west-1") == "ec2-198-51-100-7.eu-west-1.compute.amazonaws.com"
    with pytest.raises(ValueError, match="Unexpected"):
        public_dns_name("203.0.113.25; rm -rf /", "us-east-1")
