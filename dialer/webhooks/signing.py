"""Webhook signatures: ``X-Dialer-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC key is the subscription's secret; the message is ``"<t>.<raw body>"``. Binding the
timestamp into the MAC lets a receiver reject a captured request replayed later (older than
its tolerance, 5 minutes by default) without keeping state; ``X-Dialer-Event-Id`` lets it
drop a duplicate delivery of an event it already processed.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Dialer-Signature"
EVENT_ID_HEADER = "X-Dialer-Event-Id"
EVENT_TYPE_HEADER = "X-Dialer-Event-Type"
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """The signature header is missing, malformed, stale or does not match."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``X-Dialer-Signature`` header for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={compute(secret, timestamp, body)}"


def parse(header: str) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) of a header; several ``v1`` allow secret rotation."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            if not value.isdigit():
                raise SignatureError("signature timestamp is not a number")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("signature header needs t=<seconds> and v1=<hex>")
    return timestamp, signatures


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> int:
    """Check a received request; return its timestamp or raise ``SignatureError``.

    ``now`` is the receiver's current Unix time; requests signed more than ``tolerance_s``
    away from it are rejected as replays.
    """
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = parse(header)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("signature timestamp outside the tolerance (replayed request?)")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        raise SignatureError("signature does not match the body")
    return timestamp
