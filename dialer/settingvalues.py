"""Parsers of setting values kept apart from ``dialer.config`` for size: URLs, dial-string
templates, networks. Each raises ``ValueError`` with what to fix (the caller names the
variable); none repeats a credential."""

from __future__ import annotations

from collections.abc import Callable
from ipaddress import IPv4Network, IPv6Network, ip_network
from string import Formatter
from urllib.parse import urlsplit

from dialer.errors import ConfigError


def ari_url(raw: str) -> str | None:
    value = raw.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.username or parts.password:  # not ValueError: its message would echo the value
        raise ConfigError(
            "DIALER_ARI_URL must not contain credentials: set DIALER_ARI_USER and "
            "DIALER_ARI_PASSWORD instead",
            field="DIALER_ARI_URL",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8088/ari")
    return value


def template(*names: str) -> Callable[[str], str | None]:
    """A dial-string template using some of ``names`` as ``{placeholders}``."""
    allowed = ", ".join("{" + n + "}" for n in names)

    def parse(raw: str) -> str | None:
        value = raw.strip()
        if not value:
            return None
        try:
            used = {f for _, f, _, _ in Formatter().parse(value) if f is not None}
        except ValueError:
            raise ValueError(f"has unbalanced braces; placeholders are {allowed}") from None
        if not used or not used <= set(names):
            raise ValueError(f"must use the placeholders {allowed} and no others")
        return value

    return parse


def parse_networks(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated CIDR networks, IPv4 or IPv6 (``10.0.0.0/8,fc00::/7``); empty = none."""
    networks = []
    for part in raw.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ip_network(part.strip()))
        except ValueError as exc:
            why = str(exc) if "host bits" in str(exc) else f"{part.strip()!r} is not one"
            raise ValueError(
                f"must be comma-separated CIDR networks such as 10.0.0.0/8,fc00::/7: {why}"
            ) from None
    return tuple(networks)


DEFAULT_WEBHOOK_BLOCKED_NETWORKS = parse_networks(
    "169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128,224.0.0.0/4,ff00::/8"
)


def s3_url(raw: str) -> str | None:
    """``DIALER_RECORDINGS_URL``: ``s3://bucket/prefix`` (prefix optional)."""
    value = raw.strip().rstrip("/")
    if not value:
        return None
    bucket = value[5:].partition("/")[0] if value.startswith("s3://") else ""
    if not bucket or not all(c.isascii() and (c.isalnum() or c in ".-_") for c in bucket):
        raise ValueError("must be an s3://bucket/prefix URL")
    return value


def http_url(raw: str) -> str | None:
    """An http(s) endpoint without credentials in it (``DIALER_S3_ENDPOINT_URL``)."""
    value = raw.strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:9000")
    if parts.username or parts.password:
        raise ConfigError(
            "DIALER_S3_ENDPOINT_URL must not contain credentials", field="DIALER_S3_ENDPOINT_URL"
        )
    return value
