"""The event wire format and which subscriptions receive which events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from dialer.outbox import EVENT_TYPES, encode, envelope, iso_utc, subscribes_to


def test_envelope_is_version_1_with_utc_time() -> None:
    moment = datetime(2026, 1, 5, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    event = envelope(
        event_id=UUID("00000000-0000-4000-8000-000000000001"),
        event_type="lead.dnc",
        created_at=moment,
        client_id=3,
        data={"lead_id": 9},
    )
    assert event == {
        "id": "00000000-0000-4000-8000-000000000001",
        "type": "lead.dnc",
        "version": 1,
        "created_at": "2026-01-05T15:00:00.000Z",
        "client_id": 3,
        "data": {"lead_id": 9},
    }
    assert json.loads(encode(event)) == event
    assert b" " not in encode(event)  # compact: the signed bytes are what is sent


def test_iso_utc_keeps_milliseconds() -> None:
    assert iso_utc(datetime(2026, 1, 5, 15, 0, 1, 234567, tzinfo=UTC)) == (
        "2026-01-05T15:00:01.234Z"
    )


@pytest.mark.parametrize("event_type", [t for t in EVENT_TYPES if t != "compliance.blocked"])
def test_wildcard_covers_every_event_but_compliance_blocked(event_type: str) -> None:
    assert subscribes_to(["*"], event_type)


def test_compliance_blocked_is_opt_in() -> None:
    assert not subscribes_to(["*"], "compliance.blocked")
    assert subscribes_to(["*", "compliance.blocked"], "compliance.blocked")
    assert subscribes_to(["compliance.blocked"], "compliance.blocked")


def test_named_events_only() -> None:
    assert subscribes_to(["lead.dnc", "lead.completed"], "lead.dnc")
    assert not subscribes_to(["lead.dnc"], "attempt.started")
