"""Instants typed by people and programs: ISO 8601 with a UTC offset, never a naive time."""

from __future__ import annotations

from datetime import datetime

from dialer.errors import ValidationError
from dialer.inputs import check_instant


def parse_instant(value: object, field: str) -> datetime | None:
    """``None``/empty → ``None``; ISO 8601 text with an offset (``Z`` allowed) → an aware
    datetime (years 1900-2999 in UTC); anything else → ``ValidationError`` naming
    ``field`` (a body field, a query parameter or a CLI flag), which the API answers with
    400 and the CLI with exit 2."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    moment = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationError(
            f"{field} must be an ISO 8601 date-time with a UTC offset, e.g. 2026-01-05T09:00:00Z",
            field=field,
        )
    return check_instant(moment, field)
