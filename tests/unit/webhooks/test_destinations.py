"""Where webhooks may go: blocked networks, IP-literal URLs and the guarding resolver."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from hypothesis import given
from hypothesis import strategies as st

from dialer.config import Settings
from dialer.errors import ConfigError
from dialer.webhooks.destinations import (
    DEFAULT,
    BlockedDestination,
    BlockedNetworks,
    GuardedResolver,
    embedded_ipv4,
    ip_literal,
)

MULTI_TENANT = BlockedNetworks.parse(
    str(DEFAULT) + ",127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
)


@pytest.mark.parametrize(
    ("address", "blocked_by"),
    [
        ("169.254.169.254", "169.254.0.0/16"),  # cloud metadata
        ("::ffff:169.254.169.254", "169.254.0.0/16"),  # the same, IPv4-mapped
        ("::ffff:a9fe:a9fe", "169.254.0.0/16"),
        ("fe80::1", "fe80::/10"),
        ("fe80::1%eth0", "fe80::/10"),
        ("0.0.0.0", "0.0.0.0/8"),
        ("::", "::/128"),
        ("239.1.2.3", "224.0.0.0/4"),
        ("ff02::1", "ff00::/8"),
        ("127.0.0.1", None),  # loopback and private networks are allowed by default
        ("::1", None),
        ("10.1.2.3", None),
        ("192.168.1.10", None),
        ("8.8.8.8", None),
        ("2001:db8::1", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_default_policy(address: str, blocked_by: str | None) -> None:
    net = DEFAULT.blocking(address)
    assert (str(net) if net else None) == blocked_by
    reason = DEFAULT.check_address(address)
    if blocked_by is None:
        assert reason is None
    else:
        assert reason == f"destination {address} is in a blocked network ({blocked_by})"


@pytest.mark.parametrize(
    ("address", "blocked_by"),
    [
        ("127.0.0.1", "127.0.0.0/8"),
        ("::ffff:127.0.0.1", "127.0.0.0/8"),
        ("::1", "::1/128"),
        ("10.200.0.1", "10.0.0.0/8"),
        ("172.31.255.255", "172.16.0.0/12"),
        ("172.32.0.1", None),
        ("192.168.0.1", "192.168.0.0/16"),
        ("fd12:3456::1", "fc00::/7"),
        ("169.254.169.254", "169.254.0.0/16"),
        ("93.184.216.34", None),
    ],
)
def test_multi_tenant_policy(address: str, blocked_by: str | None) -> None:
    net = MULTI_TENANT.blocking(address)
    assert (str(net) if net else None) == blocked_by


def test_empty_policy_blocks_nothing() -> None:
    nothing = Settings.from_env({"DIALER_WEBHOOK_BLOCKED_NETWORKS": ""})
    policy = BlockedNetworks(nothing.webhook_blocked_networks)
    assert policy.networks == ()
    for address in ("169.254.169.254", "::ffff:169.254.169.254", "127.0.0.1", "::"):
        assert policy.check_address(address) is None
    assert policy.check_url("http://169.254.169.254/latest/meta-data") is None


def test_the_setting_defaults_to_the_default_policy() -> None:
    assert BlockedNetworks(Settings.from_env({}).webhook_blocked_networks) == DEFAULT
    assert str(DEFAULT) == "169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128,224.0.0.0/4,ff00::/8"


@pytest.mark.parametrize(
    "value", ["10.0.0.0/8,banana", "10.0.0.1/8", "::1/129", "300.0.0.0/8", "10.0.0.0/8;fc00::/7"]
)
def test_an_invalid_network_is_a_config_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({"DIALER_WEBHOOK_BLOCKED_NETWORKS": value})
    assert "DIALER_WEBHOOK_BLOCKED_NETWORKS" in err.value.message
    assert "CIDR" in err.value.message


@pytest.mark.parametrize(
    ("url", "literal", "refused"),
    [
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254", True),
        ("http://[::ffff:169.254.169.254]:8080/x", "::ffff:a9fe:a9fe", True),
        ("https://[fe80::1]/x", "fe80::1", True),
        ("http://0.0.0.0:8080/", "0.0.0.0", True),
        ("http://127.1/", "127.1", True),  # aiohttp connects to literals unresolved: refused
        ("http://2130706433/", "2130706433", True),
        ("http://127.0.0.1:8080/hooks", "127.0.0.1", False),
        ("http://[::1]:8080/hooks", "::1", False),
        ("https://crm.example.com/hooks", None, False),  # names: checked when resolved
        ("http://metadata.google.internal/", None, False),
        ("not a url", None, False),
    ],
)
def test_ip_literal_urls(url: str, literal: str | None, refused: bool) -> None:
    assert ip_literal(url) == literal
    assert (DEFAULT.check_url(url) is not None) == refused


# --- property: a blocked network refuses exactly its own addresses -----------------------

ipv4_networks = st.builds(
    lambda a, p: ip_network(f"{a}/{p}", strict=False), st.ip_addresses(v=4), st.integers(0, 32)
)
ipv6_networks = st.builds(
    lambda a, p: ip_network(f"{a}/{p}", strict=False), st.ip_addresses(v=6), st.integers(0, 128)
)
networks = st.lists(st.one_of(ipv4_networks, ipv6_networks), max_size=6)


@given(networks, st.data())
def test_any_address_inside_a_blocked_network_is_refused(
    nets: list[IPv4Network | IPv6Network], data: st.DataObject
) -> None:
    policy = BlockedNetworks(tuple(nets))
    for net in nets:
        address = data.draw(st.ip_addresses(network=net))
        assert policy.check_address(address) is not None
        found = policy.blocking(address)
        assert found is not None and address in found
        if isinstance(address, IPv4Address):  # and its IPv4-mapped IPv6 form
            assert policy.blocking(IPv6Address(f"::ffff:{address}")) is not None


@given(networks, st.ip_addresses())
def test_an_address_is_refused_only_inside_a_blocked_network(
    nets: list[IPv4Network | IPv6Network], address: IPv4Address | IPv6Address
) -> None:
    # The address itself and every IPv4 address it reaches (mapped, compatible, NAT64, ...).
    forms: list[IPv4Address | IPv6Address] = [address, *embedded_ipv4(address)]
    inside = any(f.version == n.version and f in n for f in forms for n in nets)
    policy = BlockedNetworks(tuple(nets))
    assert (policy.check_address(address) is not None) == inside
    assert (policy.check_address(str(address)) is not None) == inside


# --- the resolver ---------------------------------------------------------------------


class FixedResolver(AbstractResolver):
    """Answers every name with the same addresses (a DNS record the test controls)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for a in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_resolver_passes_allowed_addresses() -> None:
    resolver = GuardedResolver(DEFAULT, FixedResolver("93.184.216.34", "127.0.0.1"))
    found = await resolver.resolve("crm.example.com", 443)
    assert [r["host"] for r in found] == ["93.184.216.34", "127.0.0.1"]


async def test_resolver_drops_blocked_addresses_and_keeps_the_rest() -> None:
    resolver = GuardedResolver(DEFAULT, FixedResolver("169.254.169.254", "93.184.216.34"))
    found = await resolver.resolve("crm.example.com", 443)
    assert [r["host"] for r in found] == ["93.184.216.34"]


async def test_resolver_refuses_a_name_with_only_blocked_addresses() -> None:
    resolver = GuardedResolver(DEFAULT, FixedResolver("169.254.169.254"))
    with pytest.raises(BlockedDestination) as err:
        await resolver.resolve("rebound.example.com", 80)
    assert isinstance(err.value, OSError)  # aiohttp reports it as a connection error
    assert str(err.value) == (
        "destination 169.254.169.254 is in a blocked network (169.254.0.0/16), "
        "resolved from rebound.example.com"
    )
    assert err.value.strerror == str(err.value)

    both = GuardedResolver(MULTI_TENANT, FixedResolver("127.0.0.1", "::ffff:10.0.0.1"))
    with pytest.raises(BlockedDestination) as err:
        await both.resolve("internal.example.com", 80)
    assert str(err.value) == (
        "destination internal.example.com resolves only to addresses in blocked networks: "
        "127.0.0.1 (127.0.0.0/8), ::ffff:10.0.0.1 (10.0.0.0/8)"
    )


async def test_resolver_with_an_empty_policy_changes_nothing() -> None:
    inner = FixedResolver("169.254.169.254")
    resolver = GuardedResolver(BlockedNetworks(), inner)
    assert [r["host"] for r in await resolver.resolve("x.example", 80)] == ["169.254.169.254"]
    await resolver.close()
    assert inner.closed


async def test_resolver_uses_the_system_resolver_by_default() -> None:
    blocked = BlockedNetworks.parse("127.0.0.0/8,::1/128")
    with pytest.raises(BlockedDestination, match=r"resolved from localhost|localhost resolves"):
        await GuardedResolver(blocked).resolve("localhost", 80, socket.AF_UNSPEC)
    found = await GuardedResolver(DEFAULT).resolve("localhost", 80, socket.AF_INET)
    assert "127.0.0.1" in {r["host"] for r in found}
