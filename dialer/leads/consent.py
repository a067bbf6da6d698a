"""A lead's consent and business relationship: the values, checked the same way for list
files, CRM pushes, API changes and the console.

``consent`` is none | express | express_written | revoked. Revoking records the instant
(``consent_revoked_at``, now unless given): the rules block the number from then on, at its
very next dial. A consent recorded after a revocation needs a ``consent_at`` later than the
revocation. Dates are ISO 8601: a date alone is midnight UTC; a time needs its offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from dialer.errors import ValidationError
from dialer.inputs import check_instant

LEVELS = ("none", "express", "express_written", "revoked")
GIVEN = ("express", "express_written")
TIMES = ("consent_at", "consent_revoked_at", "ebr_purchase_at", "ebr_inquiry_at")
FIELDS = ("consent", "consent_source", *TIMES)
SOURCE_MAX = 200


@dataclass(frozen=True, slots=True)
class Consent:
    """The consent columns of a lead."""

    consent: str = "none"
    consent_at: datetime | None = None
    consent_source: str | None = None
    consent_revoked_at: datetime | None = None
    ebr_purchase_at: datetime | None = None
    ebr_inquiry_at: datetime | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Consent:
        return cls(**{k: row.get(k) for k in FIELDS} | {"consent": row.get("consent") or "none"})

    def values(self) -> tuple[Any, ...]:
        return tuple(asdict(self)[k] for k in FIELDS)

    def to_json(self) -> dict[str, Any]:
        """For a COPY row / JSON: instants as ISO text."""
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(self).items()}


def parse_time(value: Any, field: str) -> datetime | None:
    """ISO 8601 text → aware UTC instant (a date alone: midnight UTC); empty → None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be an ISO 8601 date or timestamp", field=field)
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "zZ" else text)
    except ValueError:
        raise ValidationError(
            f"bad {field} {value!r} (use ISO 8601, e.g. 2026-03-08 or 2026-03-08T14:00:00Z)",
            field=field,
        ) from None
    if moment.tzinfo is None:
        raise ValidationError(f"{field} {value!r} has no UTC offset (add Z or +HH:MM)", field=field)
    return check_instant(moment, field).astimezone(UTC)


def parse(values: Mapping[str, Any], current: Consent | None = None) -> Consent:
    """The consent ``values`` give (missing keys keep ``current``); ``ValidationError``
    names the field. No clock here: ``settle`` fills the instants a change implies."""
    found = current or Consent()
    changes: dict[str, Any] = {}
    if "consent" in values:
        level = values["consent"]
        level = "none" if level is None or level == "" else level
        if not isinstance(level, str) or level.strip().lower() not in LEVELS:
            raise ValidationError(f"consent must be one of {', '.join(LEVELS)}", field="consent")
        changes["consent"] = level.strip().lower()
    if "consent_source" in values:
        source = values["consent_source"]
        if source is not None and (not isinstance(source, str) or len(source) > SOURCE_MAX):
            raise ValidationError(
                f"consent_source must be text of at most {SOURCE_MAX} characters",
                field="consent_source",
            )
        changes["consent_source"] = source.strip() or None if isinstance(source, str) else None
    for key in TIMES:
        if key in values:
            changes[key] = parse_time(values[key], key)
    return replace(found, **changes)


def settle(new: Consent, old: Consent, *, now: datetime) -> Consent:
    """A change made at ``now``: a revocation gets its instant (now unless given), a new
    consent its date (now unless given); nothing may lie in the future; a consent recorded
    after a revocation must be dated after it."""
    for key in TIMES:
        moment = getattr(new, key)
        if moment is not None and moment > now:
            raise ValidationError(f"{key} cannot be in the future", field=key)
    kept = new.consent_revoked_at == old.consent_revoked_at  # not given with this change
    if new.consent == "revoked" and (
        new.consent_revoked_at is None or (old.consent != "revoked" and kept)
    ):
        new = replace(new, consent_revoked_at=now)
    dated = new.consent_at is not None and new.consent_at != old.consent_at
    if new.consent in GIVEN and new.consent != old.consent and not dated:
        new = replace(new, consent_at=now)
    revoked = new.consent_revoked_at
    if (
        new.consent in GIVEN
        and revoked is not None
        and not (new.consent_at is not None and new.consent_at > revoked)
    ):
        raise ValidationError(
            "a consent recorded after a revocation needs consent_at later than the "
            f"revocation ({revoked.isoformat()})",
            field="consent_at",
        )
    return new
