"""IPv6 forms that carry an IPv4 address are judged as that address too."""

from __future__ import annotations

import pytest

from dialer.webhooks.destinations import DEFAULT, BlockedNetworks


@pytest.mark.parametrize(
    "address",
    [
        "::a9fe:a9fe",  # IPv4-compatible
        "::ffff:169.254.169.254",  # IPv4-mapped
        "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix
        "64:ff9b::169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4
    ],
)
def test_embedded_metadata_address_is_blocked(address: str) -> None:
    assert DEFAULT.check_address(address) is not None


@pytest.mark.parametrize("address", ["::1", "2001:db8::1", "64:ff9b::808:808", "2606:4700::1"])
def test_other_ipv6_addresses_are_judged_as_themselves(address: str) -> None:
    assert DEFAULT.check_address(address) is None


def test_a_blocked_loopback_covers_its_ipv6_forms() -> None:
    policy = BlockedNetworks.parse("127.0.0.0/8,::1/128")
    for address in ("::7f00:1", "64:ff9b::7f00:1", "::ffff:127.0.0.1", "::1"):
        assert policy.check_address(address) is not None
