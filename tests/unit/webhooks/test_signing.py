"""Signature round trip: what a receiver checks to trust a webhook and refuse replays."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import pytest

from dialer.webhooks import signing

SECRET = "whsec_test_secret_0123456789"
BODY = b'{"id":"e1","type":"lead.dnc","data":{"lead_id":7}}'
T = 1_767_625_200


def test_round_trip_verifies_and_returns_the_timestamp() -> None:
    header = signing.sign(SECRET, T, BODY)
    assert signing.verify(SECRET, header, BODY, now=T + 10) == T


def test_header_is_the_documented_hmac_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signing.sign(SECRET, T, BODY) == f"t={T},v1={expected}"


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("another-secret-entirely", BODY, T),  # wrong secret
        (SECRET, BODY.replace(b"7", b"8"), T),  # body changed in transit
        (SECRET, BODY, T + 301),  # replayed more than 5 minutes later
        (SECRET, BODY, T - 301),  # clock skew beyond the tolerance
    ],
)
def test_tampered_stale_or_foreign_requests_are_rejected(
    secret: str, body: bytes, now: int
) -> None:
    header = signing.sign(SECRET, T, BODY)
    with pytest.raises(signing.SignatureError):
        signing.verify(secret, header, body, now=now)


def test_timestamp_is_bound_into_the_mac() -> None:
    header = signing.sign(SECRET, T, BODY)
    forged = header.replace(f"t={T}", f"t={T + 1000}")
    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(SECRET, forged, BODY, now=T + 1000)


@pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={T}", "t=soon,v1=abc", "garbage"])
def test_malformed_headers_are_rejected(header: str | None) -> None:
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, header, BODY, now=T)


def test_any_of_several_v1_signatures_may_match() -> None:
    good = signing.compute(SECRET, T, BODY)
    header = f"t={T},v1={'0' * 64},v1={good}"
    assert signing.verify(SECRET, header, BODY, now=T) == T


def test_the_receiver_example_in_the_docs_works() -> None:
    """The verification snippet CRM developers copy from docs/webhooks.md."""
    doc = (Path(__file__).resolve().parents[3] / "docs" / "webhooks.md").read_text()
    block = doc.split("<!-- verify-example")[1].split("```python\n")[1].split("```")[0]
    assert len([line for line in block.splitlines() if line.strip()]) <= 10  # code lines
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    verify = namespace["verify"]
    now = int(time.time())
    header = signing.sign(SECRET, now, BODY)
    assert verify(SECRET, header, BODY)
    assert not verify(SECRET, header, BODY + b" ")
    assert not verify("wrong-secret-000000", header, BODY)
    assert not verify(SECRET, signing.sign(SECRET, now - 301, BODY), BODY)
    assert not verify(SECRET, "garbage", BODY)
