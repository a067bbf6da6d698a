"""``check_number``: one decision for a raw phone number, shared by the CLI and the HTTP API.

Input comes from a person (``dialer check``) or a query string (``GET /api/v1/rules/check``),
so everything is validated here and unusable input raises ``ValidationError`` naming the
field. No history is available, so contact caps are not counted.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers

from dialer.compliance.decide import decide
from dialer.compliance.model import Decision, LeadInfo
from dialer.compliance.place import parse_number
from dialer.compliance.rulebook import RuleBook
from dialer.compliance.rules import PURPOSES
from dialer.errors import ValidationError
from dialer.inputs import check_instant

__all__ = ["PURPOSES", "check_number", "parse_instant"]


def parse_instant(at: str | datetime | None, *, now: datetime) -> datetime:
    """``None`` → ``now``; ISO 8601 text or a datetime → aware datetime (offset required)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if at is None:
        return now
    if isinstance(at, str):
        text = at.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("z") else text)
        except ValueError:
            raise ValidationError(
                f"bad timestamp {at!r} (use ISO 8601, e.g. 2026-03-08T14:00:00Z)", field="at"
            ) from None
    else:
        moment = at
    if moment.tzinfo is None:
        raise ValidationError(f"timestamp {at!s} has no UTC offset (add Z or +HH:MM)", field="at")
    return check_instant(moment, "at")


NO_COUNTRY_CODE = "no country code: write the number with +country code or set the default region"


def _lacks_country_code(phone: str) -> bool:
    """A national number (``020 7946 0958``) read without a default region; a few digits
    (``12``) are no phone number in any region, so they are not told to add one."""
    if phone.lstrip().startswith("+") or sum(c.isdigit() for c in phone) < 6:
        return False
    try:
        phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
    return False


def _region(region: str | None) -> str | None:
    if region is None:
        return None
    code = region.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(f"unknown region {region!r} (use ISO 3166-1 alpha-2)", field="region")
    return code


def check_number(
    phone: str,
    purpose: str,
    at: str | datetime | None,
    *,
    now: datetime,
    region: str | None = None,
    postal_code: str | None = None,
    state: str | None = None,
    rulebook: RuleBook | None = None,
) -> Decision:
    """Decide for ``phone`` at ``at`` (default ``now``); ``ValidationError`` for bad input."""
    if purpose not in PURPOSES:
        raise ValidationError(
            f"unknown purpose {purpose!r} (use one of {', '.join(PURPOSES)})", field="purpose"
        )
    moment = parse_instant(at, now=now)
    default_region = _region(region)
    try:
        number = parse_number(phone, default_region)
    except ValueError as exc:
        if default_region is None and _lacks_country_code(phone):
            raise ValidationError(NO_COUNTRY_CODE, field="region") from None
        raise ValidationError(str(exc), field="phone") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"not a valid phone number: {phone!r}", field="phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    try:
        LeadInfo.from_phone(e164, state=state)
    except ValueError as exc:
        raise ValidationError(str(exc), field="state") from None
    try:
        lead = LeadInfo.from_phone(e164, state=state, postal_code=postal_code)
    except ValueError as exc:
        raise ValidationError(str(exc), field="postal_code") from None
    return decide(lead, purpose, moment, rulebook=rulebook)
