"""A disposition body is checked before anything is read or written (a pure function)."""

from __future__ import annotations

from typing import Any

import pytest

from dialer.engine.dispositions import DispositionInput, parse_disposition
from dialer.errors import ValidationError


def test_a_full_body_is_read() -> None:
    body = {
        "disposition": " sale ",
        "notes": "wants the blue one",
        "dnc": False,
        "callback_owner": "anyone",
        "callback_at": "2026-12-01T10:00",
    }
    assert parse_disposition(body) == DispositionInput(
        "sale", "wants the blue one", False, "anyone", "2026-12-01T10:00"
    )


def test_defaults() -> None:
    assert parse_disposition({"disposition": "no_interest"}) == DispositionInput(
        "no_interest", None, False, "agent", None
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "disposition"),
        ({"disposition": ""}, "disposition"),
        ({"disposition": "x" * 101}, "disposition"),
        ({"disposition": "sale", "dnc": "yes"}, "dnc"),
        ({"disposition": "sale", "callback_owner": "boss"}, "callback_owner"),
        ({"disposition": "sale", "notes": 3}, "notes"),
        ({"disposition": "sale", "colour": "red"}, "colour"),
    ],
)
def test_bad_bodies_name_their_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_disposition(body)
    assert raised.value.field == field
