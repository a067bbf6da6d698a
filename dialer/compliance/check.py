"""``check_number``: one decision for a raw phone number, shared by the CLI and the HTTP API.

Input comes from a person (``dialer check``) or a query string (``GET /api/v1/rules/check``),
so everything is validated here and unusable input raises ``ValidationError`` naming the
field. No history is available, so contact caps are not counted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

import phonenumbers

from dialer.compliance.consent import CONSENT_LEVELS
from dialer.compliance.decide import decide
from dialer.compliance.model import CallPreference, Decision, LeadInfo
from dialer.compliance.place import parse_number
from dialer.compliance.rulebook import RuleBook
from dialer.compliance.rules import PURPOSES
from dialer.errors import ValidationError
from dialer.inputs import check_instant

__all__ = ["FACTS", "PURPOSES", "check_number", "parse_facts", "parse_instant"]

FACTS = ("consent", "consent_at", "ebr_since", "wireless", "category", "dnc", "ncpr")
"""What a check may say about the callee besides the number (CLI flags, query parameters):
``consent`` level, ``consent_at``, ``ebr_since`` (last purchase from the seller),
``wireless`` yes|no|unknown, the call's NCPR ``category`` (1-8), the ``dnc`` lists holding
the number (comma-separated sources) and its NCPR preference ``ncpr`` (0 or categories)."""
_WIRELESS = {"yes": True, "no": False, "unknown": None}
_SOURCES = re.compile(r"^[a-z0-9_]{1,40}(,[a-z0-9_]{1,40})*$")


def _instant(text: str, field: str, now: datetime) -> datetime:
    try:
        return parse_instant(f"{text}T00:00:00Z" if len(text) == 10 else text, now=now)
    except ValidationError as exc:
        raise ValidationError(str(exc), field=field) from None


def parse_facts(
    raw: Mapping[str, str | None], lead: LeadInfo, *, now: datetime
) -> tuple[LeadInfo, CallPreference | None, str | None]:
    """The lead with the facts of ``raw`` (keys from ``FACTS``; empty values ignored), the
    number's NCPR preference and the call's category; ``ValidationError`` names the field."""
    got = {k: v.strip() for k, v in raw.items() if k in FACTS and v is not None and v.strip()}
    changes: dict[str, object] = {}
    level = got.get("consent", "none").lower()
    if level not in CONSENT_LEVELS:
        raise ValidationError(
            f"consent must be one of {', '.join(CONSENT_LEVELS)}", field="consent"
        )
    changes["consent_level"] = level
    if "consent_at" in got:
        changes["consent_at"] = _instant(got["consent_at"], "consent_at", now)
    if "ebr_since" in got:
        changes["ebr_purchase_at"] = _instant(got["ebr_since"], "ebr_since", now)
    wireless = got.get("wireless", "unknown").lower()
    if wireless not in _WIRELESS:
        raise ValidationError("wireless must be yes, no or unknown", field="wireless")
    changes["wireless"] = _WIRELESS[wireless]
    if "dnc" in got:
        if not _SOURCES.match(got["dnc"]):
            raise ValidationError("dnc: comma-separated list names (us_dnc,internal)", field="dnc")
        changes["dnc"], changes["dnc_sources"] = True, tuple(got["dnc"].split(","))
    category = got.get("category")
    if (category is not None and category not in "12345678") or category == "":
        raise ValidationError("category must be an NCPR category 1-8", field="category")
    preference = None
    if "ncpr" in got:
        found = re.sub(r"[^0-9]", "", got["ncpr"])
        if not found or any(c not in "012345678" for c in found):
            raise ValidationError("ncpr: 0 (fully blocked) or categories 1-8 (1,3)", field="ncpr")
        preference = CallPreference(frozenset(found) - {"0"})
    return replace(lead, **changes), preference, category  # type: ignore[arg-type]


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
    facts: Mapping[str, str | None] | None = None,
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
    preference, category = None, None
    if facts:
        lead, preference, category = parse_facts(facts, lead, now=now)
    return decide(
        lead, purpose, moment, rulebook=rulebook, preference=preference, category=category
    )
