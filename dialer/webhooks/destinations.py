"""Where webhooks may go: a policy of blocked networks, checked at subscription and at send.

A tenant chooses its webhook URL, so without a policy it could make the dialer POST to
cloud metadata (169.254.169.254), to the dialer's own API on 127.0.0.1 or to other
internal hosts. ``BlockedNetworks`` (from ``DIALER_WEBHOOK_BLOCKED_NETWORKS``) refuses
addresses in its networks, and the IPv6 forms that carry a blocked IPv4 address
(IPv4-mapped ``::ffff:169.254.169.254``, IPv4-compatible ``::a9fe:a9fe``, NAT64
``64:ff9b::a9fe:a9fe``, 6to4, Teredo) with them.

Two checks, because aiohttp resolves names but connects to IP literals directly:

- ``check_url``: a URL whose host is an IP literal, before any request (and when a
  subscription is created; names are not resolved then, they may change later anyway);
- ``GuardedResolver``: every name, each time it is resolved, so a name that starts
  resolving to a blocked address (DNS rebinding) is refused when the delivery is sent.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from dialer.config import DEFAULT_WEBHOOK_BLOCKED_NETWORKS, parse_networks

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@dataclass(frozen=True)
class BlockedNetworks:
    """The networks webhooks may not be sent to; empty blocks nothing."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> BlockedNetworks:
        """From the setting's form, comma-separated CIDRs; ``ValueError`` when invalid."""
        return cls(parse_networks(text))

    def blocking(self, address: Address | str) -> Network | None:
        """The blocked network ``address`` is in, or None; an IPv6 address that carries an
        IPv4 address (``embedded_ipv4``) is judged as that IPv4 address too. ``ValueError``
        if ``address`` is not an IP address."""
        ip = address if isinstance(address, IPv4Address | IPv6Address) else ip_address(address)
        for candidate in (ip, *embedded_ipv4(ip)):  # the address itself first
            for net in self.networks:
                if candidate.version == net.version and candidate in net:
                    return net
        return None

    def check_address(self, address: Address | str) -> str | None:
        """Why a delivery to ``address`` is refused, or None when it may go there."""
        try:
            net = self.blocking(address)
        except ValueError:
            return f"destination {address} is not a valid IP address"
        if net is None:
            return None
        return f"destination {address} is in a blocked network ({net})"

    def check_url(self, url: str | URL) -> str | None:
        """Why ``url`` is refused before any request: its host is an IP literal that is
        blocked. None for allowed literals and for names, which ``GuardedResolver`` checks
        when they are resolved."""
        host = ip_literal(url)
        return None if host is None else self.check_address(host)

    def __str__(self) -> str:
        return ",".join(str(n) for n in self.networks)


_NAT64 = (IPv6Network("64:ff9b::/96"), IPv6Network("64:ff9b:1::/48"))
_COMPATIBLE = IPv6Network("::/96")


def embedded_ipv4(ip: Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address reaches or names: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``, deprecated but still routed by some stacks), NAT64
    (``64:ff9b::a.b.c.d``, RFC 6052/8215: a translator connects to the IPv4 address),
    6to4 (``2002:AABB:CCDD::``) and Teredo (the client address)."""
    if not isinstance(ip, IPv6Address):
        return []
    found: list[IPv4Address] = []
    low32 = IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _COMPATIBLE and int(ip) > 1:  # not :: or ::1 (judged as themselves)
        found.append(low32)
    if any(ip in net for net in _NAT64):
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.append(ip.teredo[1])
    return found


def ip_literal(url: str | URL) -> str | None:
    """The host of ``url`` when aiohttp would connect to it as an IP address without
    resolving it (its own test: digits and dots, or a colon); None for a name."""
    try:
        host = (url if isinstance(url, URL) else URL(url)).raw_host
    except (TypeError, ValueError):
        return None  # not a URL: the request fails as an invalid URL, nothing is sent
    if not host or not (":" in host or host.replace(".", "").isdigit()):
        return None
    return host.strip("[]")


DEFAULT = BlockedNetworks(DEFAULT_WEBHOOK_BLOCKED_NETWORKS)


def _internal(address: str) -> bool:
    try:
        ip = ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    return not ip.is_global or any(not v4.is_global for v4 in embedded_ipv4(ip))


async def internal_destination(url: str) -> bool:
    """Whether ``url`` reaches (or may reach) a non-public address: loopback, private,
    link-local, shared or reserved space, or a name that does not resolve. A tenant's test
    send there must not report what answered (that would make the dialer a port scanner
    of its own network)."""
    literal = ip_literal(url)
    if literal is not None:
        return _internal(literal)
    try:
        host = URL(url).raw_host or ""
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, ValueError, TypeError, UnicodeError):
        return True
    return not found or any(_internal(str(info[4][0])) for info in found)


class BlockedDestination(OSError):
    """Every address a name resolved to is blocked. An ``OSError``, so aiohttp reports it
    as a connection error (``ClientConnectorError.os_error``) like any failed lookup."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)

    def __str__(self) -> str:
        return str(self.strerror)


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and drops addresses in blocked networks; raises
    ``BlockedDestination`` when none is left, so nothing is sent.

    The default inner resolver is aiohttp's ``ThreadedResolver`` (the system resolver,
    what aiohttp uses without aiodns); it holds nothing to close. A connector given a
    resolver does not close it: whoever passes another ``inner`` closes it.
    """

    def __init__(self, blocked: BlockedNetworks, inner: AbstractResolver | None = None) -> None:
        self.blocked = blocked
        self.inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        if not self.blocked.networks:
            return found
        allowed = [r for r in found if self.blocked.check_address(r["host"]) is None]
        if allowed or not found:
            return allowed
        addresses = sorted({r["host"] for r in found})
        if len(addresses) == 1:
            reason = self.blocked.check_address(addresses[0])
            raise BlockedDestination(f"{reason}, resolved from {host}")
        raise BlockedDestination(
            f"destination {host} resolves only to addresses in blocked networks: "
            + ", ".join(f"{a} ({self._network(a)})" for a in addresses)
        )

    def _network(self, address: str) -> str:
        try:
            return str(self.blocked.blocking(address))
        except ValueError:
            return "not an IP address"

    async def close(self) -> None:
        await self.inner.close()
