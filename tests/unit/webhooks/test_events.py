"""The event wire format and which subscriptions receive which events."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.outbox import EVENT_TYPES, encode, envelope, iso_utc, payload_json, subscribes_to


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


def _strict_loads(text: str | bytes) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"invalid JSON token {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_number_in_an_event_is_sent_as_null(bad: float) -> None:
    data = {"rate": bad, "nested": {"levels": [1.5, bad]}, "ok": 2.0}
    assert _strict_loads(payload_json(data)) == {
        "rate": None,
        "nested": {"levels": [1.5, None]},
        "ok": 2.0,
    }
    sent = encode({"id": "x", "data": data})
    assert _strict_loads(sent)["data"]["rate"] is None


@given(
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.floats(), st.lists(st.floats(), max_size=3), st.integers(), st.text()),
        max_size=5,
    )
)
def test_every_event_payload_is_strict_json(data: dict[str, Any]) -> None:
    _strict_loads(payload_json(data))
    _strict_loads(encode({"data": data}))
