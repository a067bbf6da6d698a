"""Campaign fields: what each means, its default, and how input is validated.

``parse_campaign`` turns a JSON object from the API or CLI into column values, raising
``ValidationError`` that names the field at fault. The same table drives the OpenAPI
schema, so the documentation and the validation cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers

from dialer.campaigns.fieldtypes import _bool, _choice, _fail, _number, _string
from dialer.errors import ValidationError
from dialer.inputs import check_tree
from dialer.instants import parse_instant

PURPOSES = ("telemarketing", "survey", "debt_collection", "informational")
DIAL_MODES = ("preview", "progressive", "power", "predictive", "agentless")
STATES = ("draft", "running", "paused", "stopped", "completed")
OPT_OUT_MODES = ("where_required", "always")
OPT_OUT_KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")
RETRY_OUTCOMES = ("no_answer", "busy", "machine", "failed", "abandoned", "unknown")

# Seconds until the next attempt after each outcome (an abandoned call waits 72 h: Ofcom).
DEFAULT_RETRY_POLICY: dict[str, int] = {
    "no_answer": 2 * 3600,
    "busy": 15 * 60,
    "machine": 24 * 3600,
    "failed": 3600,
    "abandoned": 72 * 3600,
    "unknown": 3600,
}


def _caller_id(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip().startswith("+"):
        raise _fail(field, "must be a phone number in E.164 form, e.g. +14155550100")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise _fail(field, "is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise _fail(field, "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _region(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise _fail(field, "must be an ISO 3166-1 alpha-2 country code, e.g. US, IN, GB")
    return value.upper()


def _retry_policy(field: str, value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _fail(field, "must be an object of outcome → seconds")
    policy: dict[str, int] = {}
    for outcome, seconds in value.items():
        if outcome not in RETRY_OUTCOMES:
            raise ValidationError(
                f"{field}.{outcome} is not an outcome; use {', '.join(RETRY_OUTCOMES)}",
                field=f"{field}.{outcome}",
            )
        policy[outcome] = _number(60, 30 * 86400, integer=True)(f"{field}.{outcome}", seconds)
    return policy


def _windows(field: str, value: Any) -> Any:
    from dialer.compliance.windows import WeeklyWindows

    try:
        return WeeklyWindows.from_json(value).to_json()
    except (ValueError, TypeError) as exc:
        raise _fail(field, f"is not a weekly schedule: {exc}") from None


def _schedule(field: str, value: Any) -> Any:
    return None if value is None else _windows(field, value)


_ZONES: set[str] = set()


def _timezone(field: str, value: Any) -> str:
    if not _ZONES:
        _ZONES.update(available_timezones())
    if not isinstance(value, str) or value not in _ZONES:
        raise _fail(field, "must be an IANA time zone such as Asia/Kolkata")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:
        raise _fail(field, "must be an IANA time zone such as Asia/Kolkata") from None
    return value


def _shift(field: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"timezone", "windows"}:
        raise _fail(field, 'must be {"timezone": "<IANA zone>", "windows": {...}}')
    return {
        "timezone": _timezone(f"{field}.timezone", value["timezone"]),
        "windows": _windows(f"{field}.windows", value["windows"]),
    }


def _instant(field: str, value: Any) -> datetime | None:
    return parse_instant(value, field)


def _rule_ids(field: str, value: Any) -> list[str]:
    from dialer.compliance import load_rulebook

    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(field, "must be a list of rule ids")
    known = {rule.id for pack in load_rulebook().packs for rule in pack.rules}
    for rule_id in value:
        if rule_id not in known:
            raise _fail(field, f"names an unknown rule {rule_id!r} (see dialer rules list)")
    return sorted(set(value))


@dataclass(frozen=True)
class Field:
    parse: Callable[[str, Any], Any]
    schema: dict[str, Any]
    description: str
    default: Any = None
    required: bool = False


RECORDING_CONSENT = ("where_required", "always")
CATEGORIES = ("1", "2", "3", "4", "5", "6", "7", "8")


def _category(field: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if str(value) not in CATEGORIES or isinstance(value, bool):
        raise _fail(field, "must be an NCPR category 1-8 or null")
    return str(value)


ALT_PHONE_POLICIES = ("off", "on_bad_number", "on_failure")
RECORD_MODES = ("off", "connected", "all")

FIELDS: dict[str, Field] = {
    "name": Field(_string(200), {"type": "string"}, "unique within the client", required=True),
    "purpose": Field(
        _choice(PURPOSES),
        {"enum": list(PURPOSES)},
        "decides which calling rules apply",
        "telemarketing",
    ),
    "dial_mode": Field(
        _choice(DIAL_MODES), {"enum": list(DIAL_MODES)}, "how calls are paced", "progressive"
    ),
    "caller_id": Field(
        _caller_id,
        {"type": ["string", "null"]},
        "number presented to callees (E.164); required to start",
    ),
    "default_region": Field(
        _region, {"type": ["string", "null"]}, "country for numbers written without +"
    ),
    "max_abandon_rate": Field(
        _number(0, 0.03, lo_open=True),
        {"type": "number"},
        "abandoned / live answers the pacer must stay under",
        0.03,
    ),
    "max_attempts": Field(
        _number(1, 100, integer=True),
        {"type": "integer"},
        "dials per lead before it is exhausted",
        5,
    ),
    "retry_policy": Field(
        _retry_policy, {"type": "object"}, "seconds before the next attempt, per outcome", {}
    ),
    "dial_level": Field(
        _number(1, 5), {"type": "number"}, "power mode: lines per available agent", 2.0
    ),
    "max_lines": Field(
        _number(1, 100_000, integer=True, nullable=True),
        {"type": ["integer", "null"]},
        "most calls in flight at once",
    ),
    "ring_timeout_s": Field(
        _number(15, 120, integer=True),
        {"type": "integer"},
        "seconds a call rings before it is no_answer (≥ 15)",
        25,
    ),
    "abandon_timeout_s": Field(
        _number(0, 2, lo_open=True),
        {"type": "number"},
        "seconds a live answer may wait for an agent (≤ 2)",
        2.0,
    ),
    "amd": Field(_bool, {"type": "boolean"}, "answering-machine detection", True),
    "record": Field(
        _choice(RECORD_MODES),
        {"enum": list(RECORD_MODES)},
        "call recording: off; connected (from the agent's bridge); all (from the answer)",
        "off",
    ),
    "recording_retention_days": Field(
        _number(1, 3650, integer=True, nullable=True),
        {"type": ["integer", "null"]},
        "days recordings are kept before they are deleted (audited); null = kept",
    ),
    "recording_consent": Field(
        _choice(RECORDING_CONSENT),
        {"enum": list(RECORDING_CONSENT)},
        "recorded calls play recording_announcement before the agent is bridged: "
        "where_required (the callee's place needs all-party consent: rule packs); always",
        "where_required",
    ),
    "recording_announcement": Field(
        _string(2000, nullable=True),
        {"type": ["string", "null"]},
        "the recording notice (sound URI or file); null = sound:dialer/recording-notice",
    ),
    "voicemail_message": Field(
        _string(2000, nullable=True),
        {"type": ["string", "null"]},
        "left on answering machines (sound URI or file), then the call is hung up; "
        "null = machines are hung up on",
    ),
    "opt_out": Field(
        _choice(OPT_OUT_MODES),
        {"enum": list(OPT_OUT_MODES)},
        "in-call opt-out for callees who hear a recorded message (agentless, abandon): "
        "where_required (the rule packs need it; it cannot be turned off there) or always",
        "where_required",
    ),
    "opt_out_prompt": Field(
        _string(2000, nullable=True), {"type": ["string", "null"]}, "opt-out prompt (sound URI)"
    ),
    "opt_out_key": Field(
        _choice(OPT_OUT_KEYS), {"enum": list(OPT_OUT_KEYS)}, "the key that opts out", "9"
    ),
    "voicemail_beep_timeout_s": Field(
        _number(0, 60),
        {"type": "number"},
        "seconds to wait for the answering machine's beep before the voicemail message "
        "(0 = play as soon as AMD says machine)",
        10.0,
    ),
    "transfer_wait_s": Field(
        _number(5, 600, integer=True),
        {"type": "integer"},
        "seconds a call transferred to this campaign waits on music for a free agent "
        "before it goes back to the transferring agent (docs/transfers.md)",
        60,
    ),
    "alt_phone_policy": Field(
        _choice(ALT_PHONE_POLICIES),
        {"enum": list(ALT_PHONE_POLICIES)},
        "when a lead's alternate numbers are dialed: off; on_bad_number (the current one "
        "is unallocated/disconnected: retired); on_failure (also after busy/no answer)",
        "on_bad_number",
    ),
    "category": Field(
        _category,
        {"enum": [*CATEGORIES, None]},
        "the calls' commercial category where a registry keeps preferences by category "
        "(India's NCPR: 1 banking/insurance/financial, 2 real estate, 3 education, 4 health, "
        "5 consumer goods/automobiles, 6 communication/broadcasting/IT, 7 tourism/leisure, "
        "8 food/beverages); a number open to it may be called; null = none",
    ),
    "safe_harbor_message": Field(
        _string(2000, nullable=True),
        {"type": ["string", "null"]},
        "message played when no agent is free (text or sound URI)",
    ),
    "schedule": Field(
        _schedule,
        {"type": ["object", "null"]},
        "calling hours in the callee's local time, on top of the law: "
        '{"mon": [["09:00", "17:00"]], ...}',
    ),
    "shift": Field(
        _shift,
        {"type": ["object", "null"]},
        "operating hours in the centre's zone; the scheduler runs the campaign "
        'only inside them: {"timezone": "Asia/Kolkata", "windows": {...}}',
    ),
    "starts_at": Field(
        _instant,
        {"type": ["string", "null"], "format": "date-time"},
        "the scheduler starts the campaign at this instant",
    ),
    "ends_at": Field(
        _instant,
        {"type": ["string", "null"], "format": "date-time"},
        "the scheduler completes the campaign at this instant",
    ),
    "waived_rules": Field(
        _rule_ids,
        {"type": "array", "items": {"type": "string"}},
        "calling rules waived by an admin (audited; needs waiver_reason)",
        [],
    ),
}
# Accepted in the body but not columns.
EXTRA_INPUT = {"client_id", "waiver_reason"}


def parse_campaign(body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated column values from ``body``; with ``partial`` (PATCH) only those given."""
    check_tree(body)
    for key in body:
        if key not in FIELDS and key not in EXTRA_INPUT:
            raise ValidationError(f"unknown field {key!r}", field=key)
    values: dict[str, Any] = {}
    for name, spec in FIELDS.items():
        if name in body:
            values[name] = spec.parse(name, body[name])
        elif not partial:
            if spec.required:
                raise _fail(name, "is required")
            values[name] = spec.default
    check_period(values.get("starts_at"), values.get("ends_at"))
    return values


def check_period(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise _fail("ends_at", "must be after starts_at")


def retry_policy(stored: dict[str, int] | None) -> dict[str, int]:
    """The effective retry policy: defaults overlaid with the campaign's own."""
    return {**DEFAULT_RETRY_POLICY, **(stored or {})}


def campaign_schema(*, partial: bool) -> dict[str, Any]:
    """JSON schema of the create (or, with ``partial``, update) body."""
    props = {name: {**f.schema, "description": f.description} for name, f in FIELDS.items()}
    props["client_id"] = {"type": "integer", "description": "owner (admin only; default client)"}
    props["waiver_reason"] = {"type": "string", "description": "why rules are waived (audited)"}
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if not partial:
        schema["required"] = [n for n, f in FIELDS.items() if f.required]
    return schema
